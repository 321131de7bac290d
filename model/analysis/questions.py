"""Which question to ask next: :func:`next_questions`.

Every finding and risk factor not yet in the evidence is ranked by how much
its answer is expected to tell about the causes: the mutual information, in
bits, between the answer and the joint state of the causes given the evidence.

The computation is exact and takes every hypothetical answer at once. Write
``c`` for a joint state of the causes not fixed by hard evidence. For each
``c`` the network splits: once every cause is fixed, the unobserved nodes
fall into groups that touch each other only through the causes (the risk
factors with the findings that depend on them; cauda equina syndrome with its
red flags; low back pain with the finding that depends on it; each other
finding alone). For every group one table over its nodes and the causes
it touches gives both its share of ``P(c, evidence)`` and ``P(node | c,
evidence)`` for every node in it; an unobserved finding whose parents are
causes only needs no table at all: ``P(finding | c)`` is its own CPT. Then,
for every candidate ``F``::

    P(F = s, c | e) = P(F = s | c, e) P(c | e)
    info_gain       = sum over s, c of P(s, c | e) log2 P(s, c | e) / (P(s | e) P(c | e))

and the expected change of the top cause is read off the same table. On the
bundled network the largest group table has 192 x 256 entries, so ranking
every candidate takes a few milliseconds (``benchmarks/bench_questions.py``).
Pure: nothing is cached and no ``Model`` is changed. The batch engine
(:mod:`model.engine`) is not used: it returns one marginal per reported node,
so ``P(c | e)`` and ``P(F | c, e)`` would need hundreds of rows per candidate.
"""

from __future__ import annotations

import difflib
import math

import numpy as np
import pandas as pd

from ..engine import _model
from ..errors import EvidenceError

__all__ = ["next_questions"]

#: Roles whose unobserved nodes are candidate questions.
QUESTION_ROLES = ("finding", "risk_factor")
#: Largest table (entries) built for the joint state of the causes or for one group of nodes.
MAX_TABLE = 2**22
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def next_questions(evidence, *, target=None, priors=None):
    """Rank every unobserved finding and risk factor by the information its answer is expected to give.

    ``info_gain`` is the mutual information, in bits, between the answer to
    the question and the joint state of the causes (``Model.causes``; the
    complication, cauda equina syndrome, is not part of it) given the
    evidence: how much, on average over the possible answers, the answer
    reduces the uncertainty about which causes are present. With ``target``
    it is the information about that one cause alone. Exact: every
    hypothetical answer is weighed by its probability given the evidence;
    answers the model deems impossible have probability 0 and add nothing.

    Parameters
    ----------
    evidence : dict
        node -> state, or node -> {state: likelihood} (soft evidence), as for
        :func:`model.infer`. The order does not matter.
    target : str, optional
        One cause (a name from ``Model.causes``): rank by the information
        about this cause alone instead of the joint state of all causes.
    priors : str, os.PathLike or Model, optional
        A priors folder or a loaded ``Model``; default: the bundled priors.

    Returns
    -------
    pandas.DataFrame
        Indexed by candidate node (index name ``node``): every node with role
        ``finding`` or ``risk_factor`` that is not in the evidence, sorted by
        ``info_gain``, largest first (ties in ``nodes.csv`` order). Columns:

        - ``info_gain``: mutual information in bits (0 when the answer
          cannot change the causes).
        - ``expected_change_top``: the expected absolute change of the top
          cause's probability, ``sum over answers s of P(s | e) |P(top | e,
          s) - P(top | e)|``. The top cause is the cause with the highest
          posterior among the causes not fixed by hard evidence (the first in
          ``nodes.csv`` order on ties); ``attrs["top_cause"]`` names it.
        - ``cost``: from ``nodes.csv`` (NaN where none is given).
        - ``gain_per_cost``: ``info_gain / cost`` (NaN without a cost).
        - ``role`` and ``question`` (the text from ``nodes.csv``).

        ``.attrs`` holds ``evidence`` (in node order, soft evidence as
        ``{state: likelihood}``), ``target``, ``top_cause`` (None when every
        cause is fixed by hard evidence) and ``priors_digest``.

    Raises
    ------
    EvidenceError
        Invalid or impossible evidence; an unknown ``target`` (closest cause
        names suggested) or one fixed by hard evidence.

    Examples
    --------
    >>> ranked = next_questions({"pain_burning": "yes", "avid_cyclist": "yes"})
    >>> ranked.round(3).head(3)[["info_gain", "expected_change_top", "cost"]]
                                     info_gain  expected_change_top  cost
    node
    low_back_pain                        0.390                0.018   1.0
    mri_lumbar_hnp_root_compression      0.329                0.265  50.0
    sitting_effect                       0.313                0.036   1.0
    >>> ranked.attrs["top_cause"]
    'lumbar_disc_herniation'

    Ask, answer, re-rank: the answered question leaves the list.

    >>> answered = next_questions({"pain_burning": "yes", "avid_cyclist": "yes", "low_back_pain": "no"})
    >>> "low_back_pain" in answered.index, len(ranked) - len(answered)
    (False, 1)

    About one cause alone, per unit of cost:

    >>> about = next_questions({"pain_burning": "yes", "avid_cyclist": "yes"}, target="pfcn_neuropathy")
    >>> about.sort_values("gain_per_cost", ascending=False).index[0]
    'sitting_effect'
    """
    model = _model(priors)
    hard, soft = model.check_evidence(evidence)
    nodes = model._priors.nodes  # read only
    costs, roles, questions = ({n: v for n, v in zip(nodes.index.tolist(), nodes[column].tolist())}
                               for column in ("cost", "role", "question"))
    causes = [n for n, role in roles.items() if role == "cause"]
    _check_target(target, causes, hard)
    free = [c for c in causes if c not in hard]
    p_causes, answers = _hypothetical_answers(model, roles, hard, soft, free)
    if not p_causes.sum() > 0:
        model.infer(evidence)  # raises the EvidenceError naming the impossible observation
        raise EvidenceError("the evidence has probability zero under the model.")
    p_causes = p_causes / p_causes.sum()
    present = {c: 1.0 - p_causes.take(0, axis=i).sum() for i, c in enumerate(free)}
    top = max(free, key=lambda c: present[c]) if free else None  # max keeps the first of equals
    names = list(answers)
    sizes = [len(answers[n]) for n in names]
    starts = np.cumsum([0] + sizes[:-1])
    # one row per hypothetical answer: P(answer, causes | evidence) over the joint states of the causes
    joint = np.concatenate([np.broadcast_to(answers[n], (len(answers[n]),) + p_causes.shape).reshape(len(answers[n]), -1)
                            for n in names]) * p_causes.reshape(1, -1) if names else np.zeros((0, p_causes.size))
    p_answer = joint.sum(axis=1)
    if target is None:
        info = _information(joint, p_answer, p_causes.reshape(-1), starts)
    else:
        others = tuple(i for i, c in enumerate(free) if c != target)
        about = joint.reshape((len(joint),) + p_causes.shape).sum(axis=tuple(1 + i for i in others))
        info = _information(about, p_answer, p_causes.sum(axis=others), starts)
    change = np.zeros(len(names))
    if top is not None and names:
        axis = free.index(top)
        with_top = np.moveaxis(joint.reshape((len(joint),) + p_causes.shape), 1 + axis, 1)[:, 1:]
        gap = np.abs(with_top.reshape(len(joint), -1).sum(axis=1) - p_answer * present[top])
        change = np.add.reduceat(gap, starts)
    cost = np.array([costs[n] for n in names], dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_cost = np.where(cost > 0, info / np.where(cost > 0, cost, 1.0), np.nan)
    frame = pd.DataFrame({"info_gain": info, "expected_change_top": change, "cost": cost, "gain_per_cost": per_cost,
                          "role": [roles[n] for n in names], "question": [questions[n] for n in names]},
                         index=pd.Index(names, name="node"))
    frame = frame.iloc[np.argsort(-info, kind="stable")]
    order = {node: i for i, node in enumerate(model._states)}
    frame.attrs = {
        "evidence": {node: hard[node] if node in hard else {s: float(evidence[node][s]) for s in model.states(node)}
                     for node in sorted([*hard, *soft], key=order.get)},
        "target": target, "top_cause": top, "priors_digest": model.priors_digest,
    }
    return frame


def _check_target(target, causes, hard):
    if target is None:
        return
    if not (isinstance(target, str) and target in causes):
        close = difflib.get_close_matches(str(target), causes, n=3, cutoff=0.5)
        hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
        raise EvidenceError(f"unknown target cause {target!r}.{hint} target must be one of Model.causes: "
                            f"{', '.join(causes)}.")
    if target in hard:
        raise EvidenceError(f"the evidence fixes the target {target!r} ({target}={hard[target]}), so no answer "
                            f"can tell more about it. Remove it from the evidence or choose another target.")


def _information(joint, p_answer, p_causes, starts):
    """Mutual information in bits per question: ``joint`` has one row per answer (rows of one question
    from ``starts``), ``P(answer, causes)``; 0 log 0 = 0."""
    outer = p_answer[:, None] * p_causes.reshape(1, -1)
    joint = joint.reshape(len(joint), -1)
    with np.errstate(invalid="ignore", divide="ignore"):
        terms = np.where(joint > 0, joint * np.log2(joint / np.where(joint > 0, outer, 1.0)), 0.0)
    return np.maximum(np.add.reduceat(terms.sum(axis=1), starts), 0.0) if len(starts) else np.zeros(0)


def _hypothetical_answers(model, roles, hard, soft, free):
    """``P(c, evidence)`` up to a constant over the free causes' axes, and per candidate ``P(answer | c, e)``.

    Returns ``(weights, {candidate: array (its states, *cause axes)})``, candidates in node order.
    """
    states, tables = model._states, model._priors.node_tables
    card = {node: len(s) for node, s in states.items()}
    if math.prod(card[c] for c in free) > MAX_TABLE:
        raise ValueError(f"the joint state of the causes {', '.join(free)} has more than {MAX_TABLE} "
                         "configurations; observe some causes (hard evidence) to rank questions.")
    has_children = {p for t in tables.values() for p in t.parents}
    causes = {n for n, role in roles.items() if role == "cause"}
    # unobserved leaves (findings nothing depends on) sum to 1 unless asked about: left out of the groups
    loose = {n for n in states if n not in has_children and n not in hard and n not in soft and n not in causes}
    core = [n for n in states if n not in hard and n not in causes and n not in loose]
    weights, groups = np.ones([card[c] for c in free]), {}
    over_causes, *split = _split(core, [_factor(tables[n], states, hard, soft) for n in states if n not in loose])
    for names, array in over_causes:
        weights = weights * _spread(names, array, free, card)
    for members in split:
        group = _Group(members, [n for n in core if any(n in names for names, _ in members)],
                       [c for c in free if any(c in names for names, _ in members)], card)
        weights = weights * _spread(group.touched, group.total, free, card)
        groups.update(dict.fromkeys(group.inner, group))
    answers = {}
    for node in (n for n, role in roles.items() if role in QUESTION_ROLES and n not in hard and n not in soft):
        if node in groups:
            answers[node] = _spread([node] + groups[node].touched, groups[node].given_causes([node]), free, card)
            continue
        names, array = _factor(tables[node], states, hard, soft)  # an unobserved leaf: its CPT times
        operands = [(names, array)]  # P(its other parents | causes, evidence), one table per group
        for group in {id(groups[p]): groups[p] for p in names if p in groups}.values():
            keep = [n for n in group.inner if n in names]
            operands.append((keep + group.touched, group.given_causes(keep)))
        if len(operands) > 1:
            names = [node] + [c for c in free if any(c in names for names, _ in operands)]
            array = _contract(operands, names)
        answers[node] = _spread(names, array, free, card)
    return weights, answers


def _split(core, factors):
    """The factors in groups that share no node of ``core`` (union-find), after the list of the tables
    over causes only (possibly empty)."""
    parent = {n: n for n in core}

    def find(n):
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for names, _ in factors:
        inner = [find(n) for n in names if n in parent]
        for other in inner[1:]:
            parent[other] = inner[0]
    groups = {None: []}
    for names, array in factors:
        inner = [n for n in names if n in parent]
        groups.setdefault(find(inner[0]) if inner else None, []).append((names, array))
    return [groups.pop(None)] + list(groups.values())


class _Group:
    """One group of unobserved nodes that touch the rest only through the causes: the product of its
    tables as a matrix (configurations of ``inner``, configurations of the causes it ``touched``)."""

    def __init__(self, members, inner, touched, card):
        self.inner, self.touched, self.card = inner, touched, card
        if math.prod(card[n] for n in inner + touched) > MAX_TABLE:
            raise ValueError(f"next_questions would build a table over {', '.join(inner + touched)} with more "
                             f"than {MAX_TABLE} entries; this network is too densely connected for it.")
        table = np.ones([1] * len(inner + touched))  # the product of the group's tables, largest first
        for names, array in sorted(members, key=lambda member: -member[1].size):
            table = table * _spread(names, array, inner + touched, card)
        table = table.reshape(math.prod(card[n] for n in inner), -1)
        self.table = table / (table.max() or 1.0)  # one scale per group: nothing underflows
        self.total = self.table.sum(axis=0).reshape([card[c] for c in touched])  # its share of P(c, e)
        self.grid = np.indices([card[n] for n in inner]).reshape(len(inner), -1)

    def given_causes(self, keep):
        """``P(keep | touched causes, evidence)`` over ``keep + touched`` (0 where the causes are impossible)."""
        cards = [self.card[n] for n in keep]
        column = np.ravel_multi_index(self.grid[[self.inner.index(n) for n in keep]], cards)
        onehot = np.zeros((self.grid.shape[1], math.prod(cards)))
        onehot[np.arange(len(column)), column] = 1.0
        return _divide((onehot.T @ self.table).reshape(cards + list(self.total.shape)), self.total)


def _factor(table, states, hard, soft):
    """One CPT as ``(variable names, array)``: hard evidence sliced out, soft evidence on the node multiplied."""
    names = (table.node,) + table.parents
    array = table.values.reshape([len(states[n]) for n in names])
    if table.node in soft:
        array = array * np.reshape(soft[table.node], (-1,) + (1,) * len(table.parents))
    index = tuple(states[n].index(hard[n]) if n in hard else slice(None) for n in names)
    return [n for n in names if n not in hard], array[index]


def _contract(operands, out):
    """Multiply ``(names, array)`` tables and sum every variable not in ``out``, in ``out``'s order."""
    letters = {}
    for names, _ in operands:
        for n in names:
            letters.setdefault(n, _LETTERS[len(letters)])
    spec = ",".join("".join(letters[n] for n in names) for names, _ in operands)
    return np.einsum(f"{spec}->{''.join(letters[n] for n in out)}", *(a for _, a in operands), optimize="greedy")


def _spread(names, array, axes, card):
    """An array over ``names`` laid out over ``axes``: its first axes are the names not in ``axes`` (an
    answer's states), then one axis per name of ``axes``, of size 1 where it does not depend on it."""
    lead = [n for n in names if n not in axes]
    shape = [card[n] for n in lead] + [card[n] if n in names else 1 for n in axes]
    return np.transpose(array, [names.index(n) for n in lead] + [names.index(n) for n in axes if n in names]
                        ).reshape(shape)


def _divide(part, total):
    """``part / total`` over the trailing axes of ``total``; 0 where ``total`` is 0 (an impossible state)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, part / np.where(total > 0, total, 1.0), 0.0)
