"""Every hypothetical answer to a question at once, on the junction tree: the joint of the reported nodes with
each answer, for the next question (:func:`model.analysis.next_questions`).

In plain terms: the network is compiled once into a junction tree whose root
clique holds exactly the causes and complications. One calibration on the
case's evidence ``e`` gives their joint, P(root | e), at the root. Answering a
question ``F = s`` changes only the messages on the path from the clique
holding ``F`` up to the root; that path is small (it never holds every cause),
so it is recomputed once per answer. The new message over the sum of the
answers' messages (the message without the question) is the answer's
probability given the root's variables in the separator, and the question is
independent of the rest of the root given them::

    P(F = s | separator, e) = m_s(separator) / sum over t of m_t(separator)
    P(root, F = s | e)      = P(root | e) P(F = s | separator, e)

where ``m_s`` is the message the path sends into the root with ``F = s``.
Exact: where the denominator is 0, P(root | e) is 0 as well (it holds that
message as a factor). Each answer costs a pass over the small cliques of its
path, instead of a calibration of the whole tree, and the ranking's sums run
over the separator (:mod:`model.analysis.leaves`).

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
>>> scope, belief, [(separator, table)] = answers_at_the_root(tree, tree.calibrate(), ["wet"])
>>> separator == scope  # the root's belief summed onto the separator: here the root itself
True
>>> (table @ belief).round(4)  # P(wet = no) = .8*.7*.99 + .8*.3*.1 + .2*.7*.2 + .2*.3*.05, P(wet = yes)
array([0.6094, 0.3906])
"""

from __future__ import annotations

import math
import threading

import numpy as np

from .compiled import MAX_JOINT
from .flat import into, to_separator
from .junction import _size, compile_junction_tree
from .sliced import given

__all__ = ["answer_tables", "answers_at_the_root", "question_tree"]


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


def answer_tables(model, hard, soft, candidates):
    """``(scope, P(scope | e), tables, log P(e))`` of one case (``Model.check_evidence`` output: hard states,
    soft likelihoods): ``scope`` the reported nodes not fixed by hard evidence (the root's order, first
    slowest), and per candidate (unobserved) a pair ``(separator, table)``: ``table[s]`` is
    P(F = s | separator, e) over the configurations of ``separator`` (nodes of ``scope``, flat, first
    slowest; 0 where the separator's configuration is impossible), and F is independent of the rest of
    ``scope`` given them, so ``P(scope, F = s | e) = P(scope | e) table[s]``. None when the evidence is
    impossible."""
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
    local = cache.setdefault("answer scratch", threading.local())  # per thread: arrays lent from call to call
    if not hasattr(local, "arrays"):
        local.arrays = {}
    scope, belief, tables = answers_at_the_root(tree, case, candidates, local.arrays)
    return scope, belief, tables, case.log_evidence


def answers_at_the_root(tree, case, candidates, scratch=None):
    """``(scope, belief, tables)`` on a calibrated ``case`` of a ``tree`` with one root: the root's variables, its
    flat belief P(root | e), and per candidate ``(separator, P(F = s | separator, e) per answer s)`` (see
    the module and :func:`answer_tables`). A candidate must not be in the root. ``scratch``, a dict, lends
    the large arrays of one call to the next (fresh large arrays cost page faults)."""
    root = next(k for k in range(len(tree.cliques)) if tree.parent[k] is None)
    scratch = {} if scratch is None else scratch
    tables, bases = [], set()  # bases: (clique, child on the path) whose product without that child is made

    def work(key, size):  # an array of ``size`` from scratch
        if key not in scratch or len(scratch[key]) < size:
            scratch[key] = np.empty(size)
        return scratch[key][:size]

    for node in candidates:
        home, shape = tree.home[node]
        if home == root:
            raise ValueError(f"internal: {node!r} is in the root clique; it must be below it")
        size = tree.card[node]
        local = _local_without(tree, case, home, None, scratch.setdefault(("base", None), {}))
        messages = np.empty((size, _size(tree.separator[home], tree.card)))
        for s in range(size):  # the clique's product with the node in state s, summed to the separator
            answered = work(("work", home), len(local))
            np.multiply(local.reshape(shape), np.eye(size)[s].reshape(1, -1, 1), out=answered.reshape(shape))
            to_separator(answered, messages.shape[1], out=messages[s])
        below, k = None, home
        while tree.parent[k] != root:
            below, k = k, tree.parent[k]
            kept = scratch.setdefault(("base", below), {})  # this child's own: one array per clique
            if (k, below) not in bases:
                base = _local_without(tree, case, k, below, kept)
                bases.add((k, below))
            base, sent = kept[k][:len(tree.potentials[k])], np.empty((size, _size(tree.separator[k], tree.card)))
            for s in range(size):  # the product without the child, times the child's new message, summed
                product = work(("work", k), len(base))
                into(product, messages[s], tree.up[below], source=base)
                to_separator(product, sent.shape[1], out=sent[s])
            messages = sent
        total = messages.sum(axis=0)
        np.divide(messages, total, out=messages, where=total > 0)
        messages[:, ~(total > 0)] = 0.0
        tables.append((tree.separator[k], messages))
    return tree.cliques[root], case.belief(root), tables


def _local_without(tree, case, k, below, scratch):
    """Clique k's table times its evidence and its children's messages, but for the child ``below``, written
    into ``scratch[k]``."""
    groups = [(case._message(c), tree.up[c]) for c in tree.children[k] if c != below]
    return tree._local(k, case.evidence[k], [(m, up) for m, up in groups if m is not None], scratch)
