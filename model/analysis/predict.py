"""What the next finding or test will probably show: :func:`predict`, :func:`predict_batch`.

P(state | evidence) of any node that is not observed: a symptom not yet
asked, an examination sign, a test not yet done (the chance that a lumbar MRI
shows root compression), a risk factor. Exact, through the batch engine as in
:mod:`model.analysis.questions`: one engine row holds the evidence ``e``, one
row per node ``F`` and state ``s`` holds ``e`` plus ``F = s``, and the engine
returns log P(evidence) of every row (:func:`model.engine.chunk.evaluate`
with ``joint=True``), so ``P(F = s | e) = P(e, F = s) / P(e)``. A node whose
parents are reported or observed, and none of whose descendants is observed,
needs no row of its own: ``P(F = s | e) = sum over c of P(c | e) P(F = s |
parents)`` from the joint of the evidence row (as for the questions of
:mod:`model.analysis.questions`). Pure: no ``Model`` is changed.

These take a loaded model (:func:`predict_for`, :func:`predict_batch_for`; :class:`~model.inference.Model` calls them);
the public doors that read a ``priors`` argument are in :mod:`model.analysis.differential`.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from ..engine.cases import check_columns, parse_cases
from ..engine.chunk import evaluate
from ..engine.compiled import joint_plan
from ..engine.run import impossible_problems
from ..errors import EvidenceError
from ..evidence import as_evidence
from ..red_flags import batch_flags
from .leaves import leaf_table

__all__ = ["predict_batch_for", "predict_for"]

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
        (tables, log_evidence[lo:lo + n]), _ = evaluate(plan, n, codes, likelihoods, joint=True)
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


def predict_for(model, evidence, nodes=None):
    """P(state | evidence) of findings, tests and risk factors that are not observed: what they will probably show.

    On a loaded ``model``; :func:`model.analysis.differential.predict` is the public door that reads ``priors``.
    """
    given = as_evidence(evidence)
    hard, soft = model.check_evidence(given)
    chosen = _chosen(model, nodes, {*hard, *soft})
    plan = joint_plan(model)
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


def predict_batch_for(model, cases, nodes=None):
    """P(state | row) of findings, tests and risk factors for every case of a table.

    On a loaded ``model``; :func:`model.analysis.differential.predict_batch` is the public door that reads ``priors``.
    """
    columns = check_columns(model, cases)
    chosen = _chosen(model, nodes)
    plan = joint_plan(model)
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
        result = _probabilities(model, plan, [block[i] for i in good], chosen)
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


def _answered_from_the_joint(model, names, scope, hard, soft):
    """The candidates whose every answer follows from the joint of the reported nodes alone.

    A candidate ``F`` whose parents are all reported nodes or hard evidence, and
    none of whose descendants is in the evidence, is independent of the rest of
    the evidence given its parents, so ``P(F = s, c | e) = P(c | e) P(F = s |
    parents)`` exactly: no engine row is needed for its answers.
    """
    tables = model._priors.node_tables
    children = {node: [] for node in model._states}
    for node, table in tables.items():
        for parent in table.parents:
            children[parent].append(node)
    observed, known = set(hard) | set(soft), set(scope) | set(hard)

    def quiet(node):  # no descendant of node is observed
        stack, seen = list(children[node]), set()
        while stack:
            child = stack.pop()
            if child in observed:
                return False
            if child not in seen:
                seen.add(child)
                stack.extend(children[child])
        return True

    return [node for node in names if set(tables[node].parents) <= known and quiet(node)]


def _leaf_answers(model, node, scope, joint, hard):
    """``(P(c | e, F = s) per answer s (rows), log P(F = s | e))`` of a candidate of
    :func:`_answered_from_the_joint`, from ``joint`` = P(c | e) over ``scope`` (first node slowest)."""
    cards = [len(model._states[v]) for v in scope]
    cpt, _ = leaf_table(model, node, list(scope), hard)
    rows = (joint.reshape(cards)[None] * cpt).reshape(len(cpt), -1)
    p_answer = rows.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(p_answer[:, None] > 0, rows / p_answer[:, None], 0.0), np.log(p_answer)
