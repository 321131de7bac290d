"""Which question to ask next: :func:`next_questions`.

Every finding and risk factor not yet in the evidence is ranked by how much
its answer is expected to tell about the causes and complications (the
mutual information, in bits, between the answer and their joint state given
the evidence) per unit of cost, after the red-flag screen
(:mod:`model.analysis.screen`): while an emergency complication is plausible,
its unasked red-flag questions come first, whatever their information.

The computation is exact and takes every hypothetical answer at once on the
junction tree whose root is the joint of the causes and complications
(:func:`model.engine.answer_joints`): one calibration on the evidence ``e``
gives ``P(c | e)`` at the root; an answer ``F = s`` changes only the messages
on the path from ``F``'s clique to the root, so each answer costs that path
and one pass over the root's table, which then holds ``P(F = s, c | e)``::

    P(F = s | e)    = sum over c of P(F = s, c | e)
    info_gain       = sum over s, c of P(s, c | e) log2 P(s, c | e) / (P(s | e) P(c | e))

and the expected change of the top cause is read off the same tables. A
candidate whose parents are all reported nodes or hard evidence, and none of
whose descendants is observed (most findings of the bundled network), needs
not even its path: its answers follow exactly from the joint,
``P(F = s, c | e) = P(c | e) P(F = s | parents)``. The information is summed
as ``H(F) + H(C) - H(F, C)`` (one ``x log x`` per table entry). Ranking every
candidate of the bundled network takes about 35-60 ms
(``benchmarks/bench_questions.py``). Pure: no ``Model`` is changed.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..engine import answer_joints, sum_axes
from ..errors import EvidenceError, close_names
from ..inference import as_model
from .leaves import leaf_scores
from .screen import red_flag_screen

__all__ = ["next_questions"]

#: Roles whose unobserved nodes are candidate questions (never causes, mechanisms or complications).
QUESTION_ROLES = ("finding", "risk_factor")
#: The orders of the ranking after the screen: information per unit of cost (default), or information alone.
RANKINGS = ("gain_per_cost", "info_gain")


def next_questions(evidence, *, target=None, rank_by="gain_per_cost", priors=None):
    """Rank every unobserved finding and risk factor by the information its answer is expected to give.

    ``info_gain`` is the mutual information, in bits, between the answer to
    the question and the joint state of the causes and complications
    (``Model.causes`` and ``Model.complications`` not fixed by hard evidence)
    given the evidence: how much, on average over the possible answers, the
    answer reduces the uncertainty about which are present. With ``target``
    it is the information about that one cause or complication alone.
    Exact: every hypothetical answer is weighed by its probability given the
    evidence; answers the model deems impossible have probability 0 and add
    nothing.

    **Order.** First the red-flag screen: while a complication with a
    ``screen_threshold`` in ``nodes.csv`` is plausible (the probability that
    at least one of its parent causes is present is at or above the
    threshold), its unasked red-flag findings come first, marked in the
    ``screen`` column (:func:`model.analysis.screen.red_flag_screen`). Then
    every other question by ``rank_by``: ``gain_per_cost`` (information per
    unit of ``cost``: cheap history questions before imaging; the default) or
    ``info_gain``; NaN last, ties in ``nodes.csv`` order.

    Parameters
    ----------
    evidence : dict
        node -> state, or node -> {state: likelihood} (soft evidence), as for
        :func:`model.infer`. The order does not matter.
    target : str, optional
        One cause or complication: rank by the information about it alone
        instead of the joint state of all causes and complications; the
        expected change is then that of its probability.
    rank_by : {"gain_per_cost", "info_gain"}
        The order after the screen.
    priors : str, os.PathLike or Model, optional
        A priors folder or a loaded ``Model``; default: the bundled priors.

    Returns
    -------
    pandas.DataFrame
        Indexed by candidate node (index name ``node``): every node with role
        ``finding`` or ``risk_factor`` that is not in the evidence nor in
        the population (``Model.population``, observed in every query), in
        the order above. Columns:

        - ``screen``: True for the red-flag questions asked first.
        - ``info_gain``: mutual information in bits (0 when the answer
          cannot change the causes and complications).
        - ``expected_change_top``: the expected absolute change of the top
          cause's probability, ``sum over answers s of P(s | e) |P(top | e,
          s) - P(top | e)|``. The top cause is ``target`` when given, else the
          cause with the highest posterior among the causes not fixed by hard
          evidence (the first in ``nodes.csv`` order on ties);
          ``attrs["top_cause"]`` names it.
        - ``cost``: from ``nodes.csv`` (NaN where none is given).
        - ``gain_per_cost``: ``info_gain / cost`` (NaN without a cost).
        - ``role`` and ``question`` (the text from ``nodes.csv``).

        ``.attrs`` holds ``evidence`` (in node order, soft evidence as
        ``{state: likelihood}``; without the population), ``population`` (as
        in :func:`model.infer`), ``target``, ``top_cause`` (None when every
        cause is fixed by hard evidence), ``rank_by``, ``screen`` (the
        screens that are on: :func:`model.analysis.screen.red_flag_screen`),
        ``priors_digest``, and the case's ``red_flags`` and
        ``possible_red_flags`` (:mod:`model.red_flags`).

    Raises
    ------
    EvidenceError
        Invalid or impossible evidence; an unknown ``target`` (closest cause
        names suggested) or one fixed by hard evidence.

    Examples
    --------
    Regression snapshot: the numbers below are those of the bundled priors; tests/test_questions.py checks
    them against a brute-force mutual information over pgmpy joints.

    >>> ranked = next_questions({"pain_burning": "yes", "avid_cyclist": "yes"})
    >>> ranked.round(3).head(5)[["screen", "info_gain", "expected_change_top", "cost"]]
                                screen  info_gain  expected_change_top  cost
    node
    progressive_motor_weakness    True      0.031                0.015   1.0
    bladder_bowel_dysfunction     True      0.009                0.001   1.0
    saddle_anaesthesia            True      0.007                0.001   1.0
    low_back_pain                False      0.329                0.154   1.0
    pain_below_knee              False      0.176                0.217   1.0
    >>> ranked.attrs["top_cause"], round(ranked.attrs["screen"][0]["p_parent_cause"], 3)
    ('lumbar_disc_herniation', 0.594)

    By information alone, imaging comes early (the lumbar MRI costs 50):

    >>> list(next_questions({"pain_burning": "yes", "avid_cyclist": "yes"}, rank_by="info_gain").index[3:5])
    ['low_back_pain', 'mri_lumbar_root_compression']

    Ask, answer, re-rank: the answered question leaves the list.

    >>> answered = next_questions({"pain_burning": "yes", "avid_cyclist": "yes", "low_back_pain": "no"})
    >>> "low_back_pain" in answered.index, len(ranked) - len(answered)
    (False, 1)

    About one cause alone, per unit of cost:

    >>> about = next_questions({"pain_burning": "yes", "avid_cyclist": "yes"}, target="pfcn_neuropathy")
    >>> about.sort_values("gain_per_cost", ascending=False).index[0]
    'sitting_effect'
    """
    model = as_model(priors)
    hard, soft = model.check_evidence(evidence)  # the population included: never a candidate
    nodes = model._priors.nodes  # read only
    costs, roles, questions = ({n: v for n, v in zip(nodes.index.tolist(), nodes[column].tolist())}
                               for column in ("cost", "role", "question"))
    causes = [n for n, role in roles.items() if role == "cause"]
    about = causes + [n for n, role in roles.items() if role == "complication"]
    _check_target(target, about, hard)
    _check_rank_by(rank_by)
    free = [c for c in about if c not in hard]
    names = [n for n, role in roles.items() if role in QUESTION_ROLES and n not in hard and n not in soft]
    p_causes, rows, p_answer, starts, asked, leaves, order = _hypothetical_answers(model, hard, soft, free, names)
    if p_causes is None:
        model.infer(evidence)  # raises the EvidenceError naming the impossible observation
        raise EvidenceError("the evidence has probability zero under the model.")
    present = {c: 1.0 - p_causes.take(0, axis=i).sum() for i, c in enumerate(free)}
    free_causes = [c for c in free if c in causes]
    top = target if target is not None else (max(free_causes, key=lambda c: present[c]) if free_causes else None)
    shape = [len(p_answer)] + [p_causes.shape[free.index(c)] for c in order]  # the rows' axes: answers, ``order``
    if target is None:
        info = _information(rows, p_answer, p_causes.reshape(-1), starts)
    else:
        about = sum_axes(rows.reshape(shape), [1 + i for i, c in enumerate(order) if c != target])
        info = _information(about, p_answer, sum_axes(p_causes, [i for i, c in enumerate(free) if c != target]),
                            starts)
    change = np.zeros(len(asked))
    if top is not None and asked:  # P(top present, F = s | e) = P(F = s | e) - P(top absent, F = s | e)
        axis = 1 + order.index(top)
        split = rows.reshape(len(p_answer), math.prod(shape[1:axis]), shape[axis], -1)
        with_top = p_answer - split[:, :, 0].sum(axis=(1, 2))
        gap = np.abs(with_top - p_answer * present[top])
        change = np.add.reduceat(gap, starts)
    leaf_info, leaf_change = leaf_scores(model, leaves, p_causes, free, hard, target, top,
                                         present[top] if top is not None else 0.0)
    scores = {**dict(zip(asked, zip(info, change))), **dict(zip(leaves, zip(leaf_info, leaf_change)))}
    info = np.array([scores[n][0] for n in names], dtype=float)
    change = np.array([scores[n][1] for n in names], dtype=float)
    cost = np.array([costs[n] for n in names], dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_cost = np.where(cost > 0, info / np.where(cost > 0, cost, 1.0), np.nan)
    frame = pd.DataFrame({"info_gain": info, "expected_change_top": change, "cost": cost, "gain_per_cost": per_cost,
                          "role": [roles[n] for n in names], "question": [questions[n] for n in names]},
                         index=pd.Index(names, name="node"))
    screens = red_flag_screen(model, hard, p_causes, free, names)
    screened = [q for screen in screens for q in screen["questions"]]
    frame.insert(0, "screen", frame.index.isin(screened))
    frame = frame.iloc[np.lexsort((-frame["info_gain"].to_numpy(),
                                   np.nan_to_num(-frame[rank_by].to_numpy(), nan=np.inf),
                                   ~frame["screen"].to_numpy()))]  # stable: ties keep nodes.csv order
    order = {node: i for i, node in enumerate(model._states)}
    frame.attrs = {
        "evidence": {node: hard[node] if node in hard else {s: float(evidence[node][s]) for s in model.states(node)}
                     for node in sorted([*hard, *soft], key=order.get) if node not in model._population},
        "population": model._population_attrs(),
        "target": target, "top_cause": top, "rank_by": rank_by, "screen": screens,
        "priors_digest": model.priors_digest,
        **model._flags(hard, soft),
    }
    return frame


def _check_rank_by(rank_by):
    if rank_by not in RANKINGS:
        raise ValueError(f"rank_by must be one of {', '.join(map(repr, RANKINGS))}, got {rank_by!r}.")


def _check_target(target, causes, hard):
    if target is None:
        return
    if not (isinstance(target, str) and target in causes):
        close = close_names(target, causes)
        hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
        raise EvidenceError(f"unknown target {target!r}.{hint} target must be one of Model.causes or "
                            f"Model.complications: {', '.join(causes)}.")
    if target in hard:
        raise EvidenceError(f"the evidence fixes the target {target!r} ({target}={hard[target]}), so no answer "
                            f"can tell more about it. Remove it from the evidence or choose another target.")


def _information(rows, p_answer, p_causes, starts):
    """Mutual information in bits per question: ``rows`` has one row per answer (rows of one
    question from ``starts``), ``P(answer, causes)`` over the causes' configurations; 0 log 0 = 0.

    By the entropies, ``I(F; C) = H(F) + H(C) - H(F, C)``, which needs one ``x log x`` per table entry
    (:func:`_row_entropies`) instead of a log of a ratio with the outer product.
    """
    if not len(starts):
        return np.zeros(0)
    from scipy.special import entr

    h_joint = np.add.reduceat(_row_entropies(rows.reshape(len(rows), -1)), starts)
    h_answer = np.add.reduceat(entr(p_answer), starts)
    h_causes = entr(p_causes.reshape(-1)).sum()
    return np.maximum((h_answer + h_causes - h_joint) / math.log(2.0), 0.0)


def _row_entropies(rows):
    """``-sum x log x`` along each row of a 2-D table of probabilities (0 log 0 = 0): numpy's vectorised log
    where an entry is positive, then one product per row (about twice as fast as ``scipy.special.entr``)."""
    logs = np.zeros(rows.shape)
    np.log(rows, out=logs, where=rows > 0)
    return -np.einsum("ij,ij->i", rows, logs)


def _hypothetical_answers(model, hard, soft, free, names):
    """Every hypothetical answer of the candidates that need more than the joint, at once, on the junction tree
    (:func:`model.engine.answer_joints`).

    Returns ``P(c | e)`` over the free causes' axes (in ``free`` order), the
    table ``P(F = s, c | e)`` with one row per answer of those candidates
    (``asked``, in ``names`` order, their states in order; columns the flattened
    free causes in the order of the tree's root, ``order``), ``P(F = s | e)``
    per answer, the first answer of each of them, ``asked``, the candidates
    answered from the joint alone (``leaves``, for
    :func:`model.analysis.leaves.leaf_scores`) and ``order``; ``P(c | e)`` is
    None when the evidence is impossible.
    """
    found = set(_answered_from_the_joint(model, names, list(model._reported), hard, soft))
    leaves = [node for node in names if node in found]
    asked = [node for node in names if node not in found]
    sizes = [len(model._states[n]) for n in asked]
    answered = answer_joints(model, hard, soft, asked)
    if answered is None:
        return None, None, None, None, asked, leaves, list(free)
    scope, belief, rows, _ = answered
    order = list(scope)
    p_answer = rows.sum(axis=1)  # P(F = s | e); 0 for impossible answers
    starts = np.cumsum([0] + sizes[:-1]).astype(int) if asked else np.zeros(0, dtype=int)
    cards = [len(model._states[v]) for v in order]
    # one contiguous copy: every later sum over its axes is then over contiguous blocks (4-10x faster)
    p_causes = np.ascontiguousarray(np.transpose(belief.reshape(cards), [order.index(v) for v in free]))
    return p_causes, rows, p_answer, starts, asked, leaves, order


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
