"""Which question to ask next: :func:`next_questions`.

Every finding and risk factor not yet in the evidence is ranked by how much
its answer is expected to tell about the causes and complications (the
mutual information, in bits, between the answer and their joint state given
the evidence) per unit of cost, after the red-flag screen
(:mod:`model.analysis.screen`): while an emergency complication is plausible,
its unasked red-flag questions come first, whatever their information.

The computation is exact. A candidate whose parents are all reported nodes or
hard evidence, and none of whose descendants is observed (most findings of the
bundled network), has ``P(F = s, c | e) = P(c | e) P(F = s | parents)``. Every
other candidate gets the same form on the junction tree whose root is the joint
of the causes and complications (:func:`model.engine.answer_tables`): one
calibration on the evidence ``e`` gives ``P(c | e)`` at the root, and an answer
``F = s`` changes only the messages on the path from ``F``'s clique to the root,
so ``P(F = s, c | e) = P(c | e) P(F = s | separator, e)`` with the separator of
that path and the root. Then::

    P(F = s | e) = sum over the separator's configurations of P(s | separator, e) P(separator | e)
    info_gain    = H(F | e) - H(F | C, e)
                 = H(F | e) + sum over the separator of P(separator | e) sum_s P(s | ...) log P(s | ...)

and the expected change of the top cause from the same sums with the top cause
kept (:mod:`model.analysis.leaves`): no table as large as the joint per answer.
Ranking every candidate of the bundled network takes about 30-50 ms
(``benchmarks/bench_questions.py``). Pure: no ``Model`` is changed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..engine import answer_tables
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
    p_causes, tables = _hypothetical_answers(model, hard, soft, free, names)
    if p_causes is None:
        model.infer(evidence)  # raises the EvidenceError naming the impossible observation
        raise EvidenceError("the evidence has probability zero under the model.")
    present = {c: 1.0 - p_causes.take(0, axis=i).sum() for i, c in enumerate(free)}
    free_causes = [c for c in free if c in causes]
    top = target if target is not None else (max(free_causes, key=lambda c: present[c]) if free_causes else None)
    info, change = leaf_scores(model, names, p_causes, free, hard, target, top,
                               present[top] if top is not None else 0.0, tables)
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


def _hypothetical_answers(model, hard, soft, free, names):
    """``P(c | e)`` over the free causes' axes (in ``free`` order; None when the evidence is impossible), and
    for each candidate that is not answered from the joint alone, its table ``P(F = s | separator, e)`` on the
    junction tree (:func:`model.engine.answer_tables`), laid out as :func:`model.analysis.leaves.leaf_table`
    lays out a leaf's, with the separator's nodes."""
    found = set(_answered_from_the_joint(model, names, list(model._reported), hard, soft))
    asked = [node for node in names if node not in found]
    answered = answer_tables(model, hard, soft, asked)
    if answered is None:
        return None, None
    scope, belief, separated, _ = answered
    states = model._states
    cards = [len(states[v]) for v in scope]
    # one contiguous copy: every later sum over its axes is then over contiguous blocks (4-10x faster)
    p_causes = np.ascontiguousarray(np.transpose(belief.reshape(cards), [list(scope).index(v) for v in free]))
    tables = {}
    for node, (separator, table) in zip(asked, separated):
        ordered = sorted(separator, key=free.index)
        table = table.reshape((len(table),) + tuple(len(states[v]) for v in separator))
        table = np.transpose(table, [0] + [1 + separator.index(v) for v in ordered])
        tables[node] = (table.reshape((len(table),) + tuple(len(states[v]) if v in separator else 1 for v in free)),
                        set(separator))
    return p_causes, tables


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
