"""Every hypothetical answer to a question at once, on the junction tree: the joint of the reported nodes with
each answer, for the next question (:func:`model.analysis.next_questions`).

In plain terms: the network is compiled once into a junction tree whose root
clique holds exactly the causes and complications. One calibration on the
case's evidence ``e`` gives their joint, P(root | e), at the root. Answering a
question ``F = s`` changes only the messages on the path from the clique
holding ``F`` up to the root; that path is small (it never holds every cause),
so it is recomputed once per answer, and the root's belief is multiplied by
the new message over the old::

    P(root, F = s | e) = P(root | e) m_s(separator) / sum over t of m_t(separator)

where ``m_s`` is the message the path sends into the root with ``F = s``, and
the sum over every answer is the message without it. Exact: where the
denominator is 0, P(root | e) is 0 as well (it holds that message as a factor).
Each answer costs a pass over the small cliques of its path and one over the
root, instead of a calibration of the whole tree.

The model is duck-typed as in :mod:`model.engine.single`.

Examples
--------
Rain and a sprinkler wet the grass; the grass is the question, rain and the sprinkler the root:

>>> import numpy as np
>>> from model.engine.junction import compile_junction_tree
>>> tables = {"rain": (("rain",), np.array([0.8, 0.2])), "sprinkler": (("sprinkler",), np.array([0.7, 0.3])),
...           "wet": (("wet", "rain", "sprinkler"), np.array([[[0.99, 0.1], [0.2, 0.05]],
...                                                         [[0.01, 0.9], [0.8, 0.95]]]))}
>>> tree = compile_junction_tree(tables, {"rain": 2, "sprinkler": 2, "wet": 2}, root=("rain", "sprinkler"),
...                              exact_root=True)
>>> scope, belief, columns = joints_with_answers(tree, tree.calibrate(), ["wet"])
>>> columns.sum(axis=1).round(4)  # P(wet = no) = .8*.7*.99 + .8*.3*.1 + .2*.7*.2 + .2*.3*.05, P(wet = yes)
array([0.6094, 0.3906])
>>> bool(np.allclose(columns.sum(axis=0), belief))  # summed over the answers: the joint without the question
True
"""

from __future__ import annotations

import math

import numpy as np

from .compiled import MAX_JOINT
from .flat import into, times, to_separator
from .junction import _size, compile_junction_tree
from .sliced import given

__all__ = ["answer_joints", "joints_with_answers", "question_tree"]


def question_tree(model, cut):
    """The junction tree of ``model`` with a root clique of exactly its reported nodes (causes and
    complications), compiled once and cached with the model; ``cut``: the population cut out of the tables
    (:func:`model.engine.reduced.cut_tables`), for cases that observe it in its population state. A
    ``ValueError`` when their joint has over :data:`model.engine.compiled.MAX_JOINT` configurations."""
    from .single import _cache, family_tables

    cache = _cache(model)
    key = ("question tree", bool(cut))
    if key not in cache:
        size = math.prod(len(model._states[n]) for n in model._reported)
        if size > MAX_JOINT:
            raise ValueError(f"the joint table of this network's {len(model._reported)} causes and complications has "
                             f"{size:,} configurations, above the {MAX_JOINT:,} that fit in memory here; mark fewer "
                             "nodes as cause or complication in nodes.csv (the role column).")
        card = {n: len(s) for n, s in model._states.items()}
        if cut:
            tables, _ = _cut_population(model, cache)
            card = {n: c for n, c in card.items() if n not in cache["population"]}
        else:
            tables = family_tables(model)
        cache[key] = compile_junction_tree(tables, card, root=tuple(model._reported), exact_root=True)
    return cache[key]


def _cut_population(model, cache):
    from .reduced import cut_tables
    from .single import family_tables

    return cut_tables(family_tables(model), cache["population"])


def answer_joints(model, hard, soft, candidates):
    """``(scope, P(scope | e), columns, log P(e))`` of one case (``Model.check_evidence`` output: hard states,
    soft likelihoods): ``scope`` the reported nodes not fixed by hard evidence (the root's order, first
    slowest), and ``columns`` of shape (answers, configurations of ``scope``), one row ``P(scope, F = s | e)``
    per answer ``s`` of each of ``candidates`` in turn (their states in order); None when the evidence is
    impossible. The candidates must be unobserved."""
    from .single import _cache, _cut_case

    cache = _cache(model)
    seen, weights = _cut_case(model, hard, soft)
    population = cache["population"]
    cut = bool(population) and all(seen.get(node) == code for node, code in population.items())
    if cut:
        seen = {node: code for node, code in seen.items() if node not in population}
    tree = given(question_tree(model, cut), seen)
    case = tree.calibrate(weights)
    if not np.isfinite(case.log_evidence):
        return None
    scope, belief, columns = joints_with_answers(tree, case, candidates)
    return scope, belief, columns, case.log_evidence


def joints_with_answers(tree, case, candidates):
    """``(scope, belief, columns)`` on a calibrated ``case`` of a ``tree`` with one root: the root's variables,
    its flat belief P(root | e), and one row P(root, F = s | e) per answer of each candidate (see the module)."""
    root = next(k for k in range(len(tree.cliques)) if tree.parent[k] is None)
    belief = case.belief(root)
    sizes = [tree.card[node] for node in candidates]
    columns = np.empty((sum(sizes), len(belief)))
    row = 0
    for node, size in zip(candidates, sizes):
        home, shape = tree.home[node]
        if home == root:  # not so on a root of reported nodes; kept for any tree
            for s in range(size):
                columns[row + s] = belief
                times(columns[row + s], shape, np.eye(size)[s])
            row += size
            continue
        messages, below, k = _answered_home(tree, case, home, shape, size), None, home
        while tree.parent[k] != root:
            below, k = k, tree.parent[k]
            local = _local_without(tree, case, k, below)
            messages = [_send(tree, k, local.copy(), message, below) for message in messages]
        total = np.sum(messages, axis=0)
        for s, message in enumerate(messages):
            ratio = np.divide(message, total, out=np.zeros_like(message), where=total > 0)
            into(columns[row + s], ratio, tree.up[k], source=belief)
        row += size
    return tree.cliques[root], belief, columns


def _local_without(tree, case, k, below):
    """Clique k's table times its evidence and its children's messages, but for the child ``below``."""
    groups = [(case._message(c), tree.up[c]) for c in tree.children[k] if c != below]
    return tree._local(k, case.evidence[k], [(m, up) for m, up in groups if m is not None])


def _answered_home(tree, case, k, shape, size):
    """The messages clique k sends to its parent with its node in each of its ``size`` states."""
    local = _local_without(tree, case, k, None)
    separator = _size(tree.separator[k], tree.card)
    out = []
    for s in range(size):
        answered = local.copy()
        times(answered, shape, np.eye(size)[s])
        out.append(to_separator(answered, separator))
    return out


def _send(tree, k, local, message, below):
    """Clique k's message to its parent: ``local`` times the message from its child ``below``, summed."""
    into(local, message, tree.up[below])
    return to_separator(local, _size(tree.separator[k], tree.card))
