"""What the next finding or test will probably show: :func:`predict`, :func:`predict_batch`.

P(state | evidence) of any node that is not observed: a symptom not yet
asked, an examination sign, a test not yet done (the chance that a lumbar MRI
shows root compression), a risk factor. Exact: one calibration of the
junction tree per case (:func:`model.engine.single.case_marginals`), then each
node's marginal from the smallest clique holding it. Pure: no ``Model`` is
changed.

These take a loaded model (:func:`predict_for`, :func:`predict_batch_for`; :class:`~model.inference.Model` calls them);
the public doors that read a ``priors`` argument are in :mod:`model.analysis.differential`.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from ..engine.cases import check_columns, parse_cases
from ..engine.run import impossible_problems, scorer
from ..engine.single import case_marginals
from ..errors import EvidenceError
from ..evidence import as_evidence
from ..red_flags import batch_flags

__all__ = ["predict_batch_for", "predict_for"]

#: Roles predicted by default: every unobserved finding (symptoms, signs, tests) and risk factor.
PREDICTED_ROLES = ("finding", "risk_factor")
#: Cases read from the table in one block: this many cells of answers, over (1 + the predicted states) per case.
BLOCK_ROWS = 4096


def _chosen(model, nodes, observed=()):
    """The nodes to predict: ``nodes`` checked (a name or a list), or every finding and risk factor outside
    the population and ``observed``, in ``nodes.csv`` order."""
    if nodes is None:
        roles = model._priors.nodes["role"]
        return [n for n in roles.index if roles[n] in PREDICTED_ROLES and n not in model._population
                and n not in observed]
    nodes = [nodes] if isinstance(nodes, str) else list(nodes)
    for node in nodes:
        model._check_node(node)  # unknown names: the closest valid names, or what replaced an old one
    if len(set(nodes)) != len(nodes):
        raise EvidenceError(f"nodes lists a node twice: {[n for n in nodes if nodes.count(n) > 1][0]!r}. "
                            "Name each node once.")
    return nodes


def _probabilities(model, cases, nodes):
    """P(F = s | case) for every case and every state of every node of ``nodes``.

    ``cases`` is a list of ``(hard, soft)``: node -> state index and node ->
    likelihoods aligned to the states. Returns an array (cases, sum of the
    nodes' state counts), NaN for a case whose evidence is impossible. A node
    observed by hard evidence is 1 for its state; a node with soft evidence
    gets its posterior, its own likelihoods included.
    """
    sizes = [len(model._states[node]) for node in nodes]
    offsets = np.cumsum([0] + sizes)
    out = np.full((len(cases), offsets[-1]), np.nan)
    for c, (codes, soft) in enumerate(cases):
        hard = {node: model._states[node][code] for node, code in codes.items()}
        marginals = case_marginals(model, hard, soft, [node for node in nodes if node not in codes])
        if marginals is None:
            continue
        for node, at, size in zip(nodes, offsets, sizes):
            if node in codes:
                out[c, at:at + size] = np.eye(size)[codes[node]]
            else:
                out[c, at:at + size] = marginals[node]
    return out


def predict_for(model, evidence, nodes=None):
    """P(state | evidence) of findings, tests and risk factors that are not observed: what they will probably show.

    On a loaded ``model``; :func:`model.analysis.differential.predict` is the public door that reads ``priors``.
    """
    given = as_evidence(evidence)
    hard, soft = model.check_evidence(given)
    chosen = _chosen(model, nodes, {*hard, *soft})
    codes = {node: model._states[node].index(state) for node, state in hard.items()}
    values = _probabilities(model, [(codes, soft)], chosen)[0]
    if np.isnan(values).any():
        model.infer(given)  # raises the EvidenceError naming the impossible observation
        raise EvidenceError("the evidence has probability zero under the model.")
    index = pd.MultiIndex.from_tuples([(node, state) for node in chosen for state in model._states[node]],
                                      names=["node", "state"])
    table = model._priors.nodes
    frame = pd.DataFrame({"probability": values,
                          "role": [table.loc[node, "role"] for node, _ in index],
                          "label": [table.loc[node, "label"] for node, _ in index]}, index=index)
    frame.attrs = {
        "evidence": copy.deepcopy(dict(given)),
        "population": model._population_attrs(),
        "priors_digest": model.priors_digest,
        **model._flags(hard, soft),
    }
    return frame


def predict_batch_for(model, cases, nodes=None):
    """P(state | row) of findings, tests and risk factors for every case of a table.

    On a loaded ``model``; :func:`model.analysis.differential.predict_batch` is the public door that reads ``priors``.
    """
    columns = check_columns(model, cases)
    chosen = _chosen(model, nodes)
    plan = scorer(model)  # reads the cells and names impossible rows; the answers come from the junction tree
    per_case = 1 + sum(len(model._states[node]) for node in chosen)
    step = max(1, BLOCK_ROWS // per_case)
    n = len(cases)
    values = np.full((n, per_case - 1), np.nan)
    series = {c: cases[c] for c in columns}
    given = [*model._population, *(c for c in columns if c not in model._population)]
    problems, impossible, flags, possible_flags = [], [], {}, {}
    for start in range(0, n, step):
        stop = min(n, start + step)
        chunk = {c: s.iloc[start:stop] for c, s in series.items()}
        hard, soft, bad, found = parse_cases(model, plan, chunk, start, stop - start)
        problems += found
        firm, possible = batch_flags(model._emergency, model._states, hard, soft, cases.index[start:stop])
        flags.update(firm)
        possible_flags.update(possible)
        block = []
        for i in range(stop - start):
            codes = {node: int(c[i]) for node, c in hard.items() if c[i] >= 0}
            likelihoods = {}
            for node, (at, lam) in soft.items():
                hit = np.flatnonzero(at == i)
                if len(hit):
                    likelihoods[node] = lam[hit[0]]
            block.append((codes, likelihoods))
        good = [i for i in range(stop - start) if not bad[i]]
        result = _probabilities(model, [block[i] for i in good], chosen)
        for j, i in enumerate(good):
            values[start + i] = result[j]
            if np.isnan(result[j]).all():
                impossible.append((start + i, {c: block[i][0][c] if c in block[i][0] else tuple(block[i][1][c])
                                               for c in given if c in block[i][0] or c in block[i][1]}))
    problems += impossible_problems(plan, model, given, series, cases.index, impossible)
    problems.sort(key=lambda p: (p[0], p[1]))
    index = pd.MultiIndex.from_tuples([(node, state) for node in chosen for state in model._states[node]],
                                      names=["node", "state"])
    frame = pd.DataFrame(values, index=cases.index, columns=index)
    frame.attrs = {
        "problems": [dict(zip(("row", "node", "value", "problem"), p[2:])) for p in problems],
        "red_flags": flags,
        "possible_red_flags": possible_flags,
        "population": model._population_attrs(),
        "priors_digest": model.priors_digest,
    }
    return frame
