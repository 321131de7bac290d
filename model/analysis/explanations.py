"""Which combinations of causes explain the case: :func:`explanations`, :func:`explanations_batch`.

The marginal posteriors of :func:`model.infer` say how likely each cause is
on its own; causes can co-exist, so they do not say which *combination* best
explains the picture. Here every joint state of the causes (each cause present
or absent) gets its probability given the evidence, exactly, and the most
probable ones are listed: the first row is the most probable explanation
(what pgmpy's ``map_query`` over the causes returns). The all-absent
combination is P(none of the modelled causes | evidence), also reported by
:func:`model.infer` as ``.attrs["p_no_modelled_cause"]``.

The numbers come from the batch engine's joint table of the reported nodes
(:func:`model.engine.chunk.evaluate` with ``joint=True``, as in
:mod:`model.analysis.questions`), with the complications summed out. Pure: no
``Model`` is changed.

These take a loaded model (:func:`explanations_for`, :func:`explanations_batch_for`;
:class:`~model.inference.Model` calls them); the public doors that read a ``priors`` argument are in
:mod:`model.analysis.differential`.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from ..engine.cases import check_columns, parse_cases
from ..engine.chunk import evaluate
from ..engine.compiled import joint_plan
from ..engine.ops import Pool
from ..engine import single
from ..engine.run import impossible_problems
from ..evidence import as_evidence
from ..red_flags import batch_flags

__all__ = ["explanations_batch_for", "explanations_for", "p_no_modelled_cause"]


def _single_case(model, hard, soft):
    """The evidence of one case (``Model.check_evidence`` output) in the engine's form: one row."""
    codes = {node: np.array([model._states[node].index(state)]) for node, state in hard.items()}
    likelihoods = {node: (np.zeros(1, dtype=int), np.asarray(lam, dtype=float)[None, :]) for node, lam in soft.items()}
    return codes, likelihoods


def _cause_joint(model, plan, n, codes, likelihoods, pool=None):
    """P(causes | evidence) of ``n`` engine rows, shape (n, *cards of ``model.causes``), causes in ``nodes.csv``
    order (first slowest), complications summed out; and log P(evidence) per row (-inf when impossible)."""
    (table, log_evidence), _ = evaluate(plan, n, codes, likelihoods, joint=True, pool=pool)
    scope = list(plan.joint_scope)
    causes = list(model.causes)
    cube = table.reshape([n] + [len(model._states[v]) for v in scope])
    cube = cube.sum(axis=tuple(1 + i for i, v in enumerate(scope) if v not in causes))
    kept = [v for v in scope if v in causes]
    cube = np.transpose(cube, [0] + [1 + kept.index(c) for c in causes])
    return cube, log_evidence


def p_no_modelled_cause(model, hard, soft):
    """P(every cause in its reference state | evidence), exact; ``hard``, ``soft`` as from ``Model.check_evidence``.

    Examples
    --------
    Regression snapshot: the numbers below are those of the bundled priors; tests/test_differential.py checks
    them against pgmpy and a brute-force enumeration.

    >>> from model import load_model
    >>> m = load_model()
    >>> round(p_no_modelled_cause(m, *m.check_evidence({})), 4)
    0.1938
    """
    return single.case_posteriors(model, hard, soft)[1]


def _label(model, causes, index):
    """The causes not in their reference state in the configuration ``index`` (an index tuple per cause)."""
    return tuple(cause if len(model._states[cause]) == 2 else f"{cause}={model._states[cause][i]}"
                 for cause, i in zip(causes, index) if i)


def explanations_for(model, evidence, k=5):
    """The ``k`` most probable combinations of causes given the evidence, each with its probability.

    On a loaded ``model``; :func:`model.analysis.differential.explanations` is the public door that reads ``priors``.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a whole number of at least 1 (how many combinations to list). Got {k!r} instead.")
    given = as_evidence(evidence)
    hard, soft = model.check_evidence(given)
    plan = joint_plan(model)
    cube, log_evidence = _cause_joint(model, plan, 1, *_single_case(model, hard, soft))
    if not np.isfinite(log_evidence[0]):
        model.infer(given)  # raises the EvidenceError naming the impossible observation
    causes = list(model.causes)
    flat = cube.reshape(-1)
    order = np.argsort(-flat, kind="stable")[:int(k)]
    order = order[flat[order] > 0]
    indices = np.unravel_index(order, cube.shape[1:]) if causes else ()
    present = [_label(model, causes, tuple(int(ix[j]) for ix in indices)) for j in range(len(order))]
    frame = pd.DataFrame({"present": present, "n_present": [len(p) for p in present],
                          "probability": flat[order], "cumulative": np.cumsum(flat[order])},
                         index=pd.RangeIndex(1, len(order) + 1, name="rank"))
    frame.attrs = {
        "evidence": copy.deepcopy(dict(given)),
        "population": model._population_attrs(),
        "priors_digest": model.priors_digest,
        **model._flags(hard, soft),
        "p_no_modelled_cause": float(flat[0]),
        "causes": causes,
    }
    return frame


def explanations_batch_for(model, cases):
    """The most probable combination of causes for every case of a table, with its probability.

    On a loaded ``model``; :func:`model.analysis.differential.explanations_batch` is the public door that reads ``priors``.
    """
    columns = check_columns(model, cases)
    plan = joint_plan(model)
    n, causes = len(cases), list(model.causes)
    present, probability, p_none = [None] * n, np.full(n, np.nan), np.full(n, np.nan)
    series = {c: cases[c] for c in columns}
    given = [*model._population, *(c for c in columns if c not in model._population)]
    problems, impossible, flags, possible_flags, pool = [], [], {}, {}, Pool()
    step = max(1, plan.rows_per_chunk)
    for start in range(0, n, step):
        stop = min(n, start + step)
        chunk = {c: s.iloc[start:stop] for c, s in series.items()}
        hard, soft, bad, found = parse_cases(model, plan, chunk, start, stop - start)
        problems += found
        firm, possible = batch_flags(model._emergency, model._states, hard, soft, cases.index[start:stop])
        flags.update(firm)
        possible_flags.update(possible)
        cube, log_evidence = _cause_joint(model, plan, stop - start, hard, soft, pool=Pool() if stop - start < step
                                          else pool)
        flat = cube.reshape(stop - start, -1)
        best = np.argmax(flat, axis=1)  # the first of equals: a fixed order
        for i in range(stop - start):
            row = start + i
            if bad[i]:
                continue
            if not np.isfinite(log_evidence[i]):
                observed = {c: int(hard[c][i]) for c in given if hard[c][i] >= 0}
                for c, (at, lam) in soft.items():
                    hit = np.flatnonzero(at == i)
                    if len(hit):
                        observed[c] = tuple(lam[hit[0]])
                impossible.append((row, observed))
                continue
            index = np.unravel_index(best[i], cube.shape[1:]) if causes else ()
            present[row] = _label(model, causes, tuple(int(x) for x in index))
            probability[row], p_none[row] = flat[i, best[i]], flat[i, 0]
    problems += impossible_problems(plan, model, given, series, cases.index, impossible)
    problems.sort(key=lambda p: (p[0], p[1]))
    frame = pd.DataFrame({"present": present, "probability": probability, "p_no_modelled_cause": p_none},
                         index=cases.index)
    frame.attrs = {
        "problems": [dict(zip(("row", "node", "value", "problem"), p[2:])) for p in problems],
        "red_flags": flags,
        "possible_red_flags": possible_flags,
        "population": model._population_attrs(),
        "priors_digest": model.priors_digest,
    }
    return frame
