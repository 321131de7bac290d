"""What the next finding or test will probably show: :func:`predict`, :func:`predict_batch`.

P(state | evidence) of any node that is not observed: a symptom not yet
asked, an examination sign, a test not yet done (the chance that a lumbar MRI
shows root compression), a risk factor. Exact, through the batch engine as in
:mod:`model.analysis.questions`: one engine row holds the evidence ``e``, one
row per node ``F`` and state ``s`` holds ``e`` plus ``F = s``, and the engine
returns log P(evidence) of every row (:func:`model.engine.chunk._evaluate`
with ``joint=True``), so ``P(F = s | e) = P(e, F = s) / P(e)``. A node whose
parents are reported or observed, and none of whose descendants is observed,
needs no row of its own: ``P(F = s | e) = sum over c of P(c | e) P(F = s |
parents)`` from the joint of the evidence row (as for the questions of
:mod:`model.analysis.questions`). Pure: no ``Model`` is changed.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from ..engine.batch import _impossible_problems, _model, _plan
from ..engine.cases import _check_columns, _parse
from ..engine.chunk import _evaluate
from ..errors import EvidenceError
from ..evidence import as_evidence
from ..red_flags import batch_flags
from .explanations import _needs_joint
from .questions import _answered_from_the_joint, _leaf_answers

__all__ = ["predict", "predict_batch"]

#: Roles predicted by default: every unobserved finding (symptoms, signs, tests) and risk factor.
PREDICTED_ROLES = ("finding", "risk_factor")
#: Engine rows evaluated in one block of cases (each case takes one row per state of every predicted node).
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


def _probabilities(model, plan, cases, nodes):
    """P(F = s | case) for every case and every state of every node of ``nodes``.

    ``cases`` is a list of ``(hard, soft)``: node -> state index and node ->
    likelihoods aligned to the states. Returns an array (cases, sum of the
    nodes' state counts), NaN for a case whose evidence is impossible. A node
    observed by hard evidence is 1 for its state; for a node with soft
    evidence, the answer's likelihood multiplies P(e without it, F = s).
    """
    sizes = [len(model._states[node]) for node in nodes]
    offsets = np.cumsum([0] + sizes)
    out = np.full((len(cases), offsets[-1]), np.nan)
    scope = list(plan.joint_scope) if plan.joint_scope is not None else None
    rows, leaves, named = [], [], []  # rows: (case, column or -1 for the evidence row, hard, soft)
    for c, (hard, soft) in enumerate(cases):
        rows.append((c, -1, hard, soft))
        named.append({node: model._states[node][code] for node, code in hard.items()})
        free = [node for node in nodes if node not in hard and node not in soft]
        leaves.append(set(_answered_from_the_joint(model, free, scope, named[c], soft)) if scope else set())
        for node, at in zip(nodes, offsets):
            if node in hard or node in leaves[c]:  # a leaf: from the joint of the evidence row, below
                continue
            others = {k: v for k, v in soft.items() if k != node}
            rows.extend((c, at + s, {**hard, node: s}, others) for s in range(len(model._states[node])))
    log_evidence = np.empty(len(rows))
    joints = {}  # case -> P(reported nodes | its evidence), for its leaves
    step = max(1, plan.rows_per_chunk)
    for lo in range(0, len(rows), step):
        part = rows[lo:lo + step]
        n = len(part)
        names = {node for _, _, hard, _ in part for node in hard}
        codes = {node: np.array([hard.get(node, -1) for _, _, hard, _ in part]) for node in names}
        likelihoods = {}
        for node in {node for _, _, _, soft in part for node in soft}:
            at = [i for i, (_, _, _, soft) in enumerate(part) if node in soft]
            likelihoods[node] = (np.array(at), np.array([part[i][3][node] for i in at], dtype=float))
        (tables, log_evidence[lo:lo + n]), _ = _evaluate(plan, n, codes, likelihoods, joint=True)
        for i, (c, column, _, _) in enumerate(part):
            if column < 0 and leaves[c]:
                joints[c] = tables[i]
    base = {c: log_evidence[i] for i, (c, column, _, _) in enumerate(rows) if column < 0}
    for c, (hard, _) in enumerate(cases):
        if not np.isfinite(base[c]):
            continue
        out[c] = 0.0
        for node, at in zip(nodes, offsets):
            if node in hard:
                out[c, at + hard[node]] = 1.0
            elif node in leaves[c]:
                out[c, at:at + len(model._states[node])] = np.exp(_leaf_answers(model, node, scope, joints[c],
                                                                                named[c])[1])
    with np.errstate(over="ignore", invalid="ignore"):
        for i, (c, column, _, _) in enumerate(rows):
            if column >= 0 and np.isfinite(base[c]):
                out[c, column] = np.exp(log_evidence[i] - base[c])
    for node, at, size in zip(nodes, offsets, sizes):  # soft evidence on a predicted node: its likelihoods
        for c, (hard, soft) in enumerate(cases):
            if node in soft and node not in hard:
                out[c, at:at + size] *= np.asarray(soft[node], dtype=float)
    return out


def predict(evidence, nodes=None, *, priors=None):
    """P(state | evidence) of findings, tests and risk factors that are not observed: what they will probably show.

    Parameters
    ----------
    evidence : dict or pandas.Series
        node -> state, or node -> {state: likelihood} (soft evidence), as for
        :func:`model.infer`.
    nodes : str or list of str, optional
        The nodes to predict: any node of the network (a cause or a
        mechanism too). Default: every finding and risk factor that is
        neither in the evidence nor in the population.
    priors : str, os.PathLike or Model, optional
        A priors folder, a bundled population name or a loaded ``Model``.

    Returns
    -------
    pandas.DataFrame
        One row per (``node``, ``state``), nodes in the order given (default:
        ``nodes.csv`` order), states in their order. Columns
        ``probability`` = P(node = state | evidence) (the states of a node
        sum to 1; a node observed by hard evidence is 1 for its state),
        ``role`` and ``label`` (from ``nodes.csv``). ``.attrs`` holds
        ``evidence``, ``population``, ``priors_digest``, ``red_flags`` and ``possible_red_flags`` as
        in :func:`model.infer`.

    Raises
    ------
    EvidenceError
        Invalid or impossible evidence, or an unknown node in ``nodes``.

    Examples
    --------
    Regression snapshot: the numbers below are those of the bundled priors; tests/test_differential.py checks
    them against pgmpy variable elimination.

    >>> chances = predict({"pain_burning": "yes", "slr_positive": "yes", "pain_below_knee": "yes"},
    ...                   nodes=["mri_lumbar_root_compression", "crossed_slr_positive"])
    >>> chances["probability"].round(3)
    node                         state
    mri_lumbar_root_compression  no       0.165
                                 yes      0.835
    crossed_slr_positive         no       0.723
                                 yes      0.277
    Name: probability, dtype: float64
    """
    model = _model(priors)
    given = as_evidence(evidence)
    hard, soft = model.check_evidence(given)
    chosen = _chosen(model, nodes, {*hard, *soft})
    plan = _plan(model)
    _needs_joint(plan, "predict")
    codes = {node: model._states[node].index(state) for node, state in hard.items()}
    values = _probabilities(model, plan, [(codes, soft)], chosen)[0]
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


def predict_batch(cases, nodes=None, *, priors=None):
    """P(state | row) of findings, tests and risk factors for every case of a table.

    Parameters
    ----------
    cases : pandas.DataFrame
        One row per case, one column per observed node, as for
        :func:`model.infer_batch`. ``cases`` is never modified.
    nodes : str or list of str, optional
        The nodes to predict (default: every finding and risk factor outside
        the population, as :func:`predict`). Each costs one engine row per
        state and case: name the few you need on large tables.
    priors : str, os.PathLike or Model, optional

    Returns
    -------
    pandas.DataFrame
        Same index as ``cases``; columns a two-level index (``node``,
        ``state``), each P(node = state | row). As in
        :func:`model.infer_batch`, every row reports every node: one that the
        row observes is 1 for its state, 0 for the others. Bad or impossible
        rows are NaN and listed in ``attrs["problems"]``; ``attrs`` also holds
        ``red_flags``, ``possible_red_flags`` (``{row: [emergency findings]}``,
        as in :func:`model.infer_batch`), ``population`` and ``priors_digest``.

    Examples
    --------
    Regression snapshot: the numbers below are those of the bundled priors; tests/test_differential.py checks
    them against pgmpy variable elimination.

    >>> cases = pd.DataFrame({"slr_positive": ["yes", "no"], "age_group": ["under_40", "60_plus"]})
    >>> predict_batch(cases, nodes="mri_lumbar_root_compression").round(3)
    node  mri_lumbar_root_compression
    state                          no    yes
    0                           0.279  0.721
    1                           0.445  0.555
    """
    model = _model(priors)
    columns = _check_columns(model, cases)
    chosen = _chosen(model, nodes)
    plan = _plan(model)
    _needs_joint(plan, "predict_batch")
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
        hard, soft, bad, found = _parse(model, plan, chunk, start, stop - start)
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
        result = _probabilities(model, plan, [block[i] for i in good], chosen)
        for j, i in enumerate(good):
            values[start + i] = result[j]
            if np.isnan(result[j]).all():
                impossible.append((start + i, {c: block[i][0][c] if c in block[i][0] else tuple(block[i][1][c])
                                               for c in given if c in block[i][0] or c in block[i][1]}))
    problems += _impossible_problems(plan, model, given, series, cases.index, impossible)
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
