"""A hand-written vectorised floor for batch inference on the bundled network, written from the CSV tables alone.

The sub-task it solves exactly: cases whose observations are findings with causes only as parents (the
population's finding included), every risk factor, mechanism and other finding unobserved. For those
cases the posterior of the causes is

    P(c | e)  proportional to  P(c) * prod over observed findings f of P(e_f | c),

over the 2^15 configurations ``c`` of the causes, so a chunk of cases costs one matrix product in log
space (observations one-hot, (cases, finding states) @ (finding states, configurations)), one
exponential, and one matrix product with the indicators of "cause present" (plus P(complication |
c) for the complication). That is the core any exact method that enumerates the causes' joint must
do at least once per case, with nothing else around it: no evidence checks, no risk factors, no
mechanisms. ``P(c)`` (the risk factors summed out) is computed once, by brute force over every
risk-factor configuration.

Used by ``bench_batch.py`` (section 4); no code of the package is used here, only its loaded tables
(``Model._priors.node_tables``: ``values[state, parent configuration]``, first parent slowest).
"""

from __future__ import annotations

import itertools

import numpy as np

IMPOSSIBLE = -1e300  # the log of a zero probability in the tables


def _index(parents, configs, bits, causes, rf=None):
    """The column of a node's table for every cause configuration (rows of ``bits``) and, when ``rf`` is
    given (a dict node -> state index), those risk-factor states."""
    column = np.zeros(len(bits), dtype=np.int64)
    for parent, states in zip(parents, configs):
        code = bits[:, causes.index(parent)] if parent in causes else rf[parent]
        column = column * len(states) + code
    return column


class Floor:
    """The sub-task's tables for model ``m``: ``findings`` (the findings with causes only as parents),
    ``log_tables`` (finding states, 2^k configurations), ``log_prior`` (2^k,), ``indicators`` (reported
    nodes, 2^k): 1 where a cause is present, P(present | c) for a complication."""

    def __init__(self, m):
        tables = m._priors.node_tables
        self.causes = list(m.causes)
        k = len(self.causes)
        bits = ((np.arange(2**k)[:, None] >> np.arange(k - 1, -1, -1)) & 1).astype(np.int64)  # first cause slowest
        self.findings = [f for f in m.findings if tables[f].parents
                         and all(p in self.causes for p in tables[f].parents)]
        rows, self.offset = [], {}
        for f in self.findings:
            t = tables[f]
            self.offset[f] = len(rows)
            column = _index(t.parents, t.parent_states, bits, self.causes)
            with np.errstate(divide="ignore"):  # log 0 as a large finite number, so that 0 * it is 0
                rows.extend(np.maximum(np.log(t.values[s, column]), IMPOSSIBLE) for s in range(len(t.values)))
        self.log_tables = np.array(rows)
        self.log_prior = np.log(self._prior(m, tables, bits))
        indicators = [bits[:, j].astype(float) for j in range(k)]
        for node in m._reported[k:]:  # complications: children of causes only
            t = tables[node]
            indicators.append(1.0 - t.values[0, _index(t.parents, t.parent_states, bits, self.causes)])
        self.indicators = np.array(indicators)
        self.reported = list(m._reported)

    def _prior(self, m, tables, bits):
        """P(c) for every cause configuration: a sum over every risk-factor configuration (brute force) of
        P(risk factors) times the product of P(cause state | its risk factors)."""
        roots = [n for n in m.risk_factors if not tables[n].parents]
        configs = np.array(list(itertools.product(*(range(len(m.states(r))) for r in roots))), dtype=np.int64)
        rf = dict(zip(roots, configs.T))
        weight = np.prod([tables[r].values[rf[r], 0] for r in roots], axis=0)
        present = np.empty((len(configs), len(self.causes)))  # P(cause present | risk factors)
        for j, cause in enumerate(self.causes):
            t = tables[cause]
            column = np.zeros(len(configs), dtype=np.int64)
            for parent, states in zip(t.parents, t.parent_states):
                column = column * len(states) + rf[parent]
            present[:, j] = t.values[1, column]
        prior = np.zeros(len(bits))
        for lo in range(0, len(configs), 256):
            p = present[lo:lo + 256]
            joint = np.ones((len(p), 1))
            for j in range(len(self.causes)):  # first cause slowest
                joint = (joint[:, :, None] * np.stack([1.0 - p[:, j], p[:, j]], axis=1)[:, None, :]).reshape(len(p), -1)
            prior += weight[lo:lo + 256] @ joint
        return prior

    def one_hot(self, m, frame):
        """(finding states, cases) indicators of ``frame``'s observations of the sub-task's findings
        (missing cells: no row set), the population's evidence included."""
        x = np.zeros((len(self.log_tables), len(frame)))
        for f in self.findings:
            states = list(m.states(f))
            if f in m.population:
                x[self.offset[f] + states.index(m.population[f])] = 1.0
                continue
            if f not in frame:
                continue
            values = frame[f].to_numpy(dtype=object)
            for s, state in enumerate(states):
                x[self.offset[f] + s, values == state] = 1.0
        return x

    def posteriors(self, x, chunk=128):
        """(cases, reported) P(present | evidence) from the one-hot observations ``x`` (finding states, cases)."""
        cases = x.T.copy()
        out = np.empty((len(cases), len(self.indicators)))
        indicators = self.indicators.T.copy()  # (configurations, reported)
        for lo in range(0, len(cases), chunk):
            logs = cases[lo:lo + chunk] @ self.log_tables  # (chunk, configurations)
            logs += self.log_prior
            logs -= logs.max(axis=1, keepdims=True)
            np.exp(logs, out=logs)
            out[lo:lo + chunk] = (logs @ indicators) / logs.sum(axis=1, keepdims=True)
        return out
