"""The expectation step of learning: expected family counts of many cases, exact, on the junction tree.

In plain terms: the junction tree of the current tables is calibrated on
every case's observations, and for every node that a case says something
about (the node or one of its descendants is observed), the posterior
probability of each configuration of the node and its parents is added to
that node's counts. A node the case says nothing about is barren for that
case: its table does not change the probability of the case, so the case
adds nothing to its counts (EM on the network pruned per case, which has the
same likelihood). The sum of log P(case) is returned with the counts.

The cases are calibrated many at a time (:func:`model.engine.families.family_sums`),
in groups that share the states of a few often-observed nodes; those are cut
out of the group's tree (:func:`model.engine.sliced.given`), which shrinks it
(on the bundled network, with 40% of cells hidden, by about 40%). Groups
run side by side on the machine's cores, in threads. Pure: takes tables and
evidence, returns arrays.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ..engine.families import family_sums
from ..engine.junction import compile_junction_tree
from ..engine.reduced import ancestor_sets
from ..engine.sliced import given

__all__ = ["Counts", "expected_counts"]

#: Cases per group, on average, at least, when cases are grouped by the states of a few observed nodes that
#: are then cut out of the tree (fewer, larger groups use numpy better; more, smaller ones cut more).
GROUP = 32
#: Threads computing groups side by side: the cores this process may run on, at most 4.
WORKERS = min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


@dataclass(frozen=True)
class Counts:
    """What one pass over the cases gives: ``tables`` node -> expected counts (states, parent configurations),
    None for a node no case informs; ``log_likelihood`` = sum over the cases of log P(case), each times its
    weight; ``elimination`` the junction tree's elimination order."""

    tables: dict
    log_likelihood: float
    elimination: tuple


def expected_counts(tables, card, cases, roots=(), weights=None, elimination=None, workers=WORKERS):
    """Expected counts of every family over ``cases``, exact.

    Parameters
    ----------
    tables : dict
        node -> ``(family scope (node, *parents), array over the scope)``: the current tables.
    card : dict
        node -> number of states.
    cases : list of tuple
        One ``(hard, soft)`` per case: ``hard`` maps nodes to the index of their observed state (cut out of
        the tree's tables, :func:`model.engine.sliced.given`), ``soft`` maps nodes to likelihood vectors.
    roots : sequence
        Nodes to keep together in one clique if possible (the causes), as for the model's own tree.
    weights : sequence of float, optional
        How many times each case counts (identical cases given once); 1 each by default. A negative weight
        subtracts a case (the population's observations alone, for the likelihood given the population).
    elimination : sequence, optional
        The elimination order of an earlier call on tables of the same shapes (``Counts.elimination``):
        the junction tree is then built in that order, without searching for one.
    workers : int
        Threads computing groups of cases side by side (numpy's long steps run in parallel); ``WORKERS``, the
        cores available (at most 4), by default.

    Returns
    -------
    Counts
        Expected counts per node, laid out (states, parent configurations) with the first parent slowest,
        as :class:`model.priors.tables.NodeTable` values; None where no case says anything about the node.
        When a case is impossible under ``tables``, ``log_likelihood`` is -inf and no node has counts.

    Examples
    --------
    Two binary nodes ``a -> b``, one case observing ``b = 1``: the counts of ``b`` are P(a | b = 1) in
    the column of ``b = 1``.

    >>> t = {"a": (("a",), np.array([0.5, 0.5])), "b": (("b", "a"), np.array([[0.9, 0.2], [0.1, 0.8]]))}
    >>> c = expected_counts(t, {"a": 2, "b": 2}, [({"b": 1}, {})])
    >>> c.tables["b"].round(3).tolist(), round(math.exp(c.log_likelihood), 3)
    ([[0.0, 0.0], [0.111, 0.889]], 0.45)
    """
    tree = compile_junction_tree(tables, card, root=tuple(roots), elimination=elimination)
    weights = np.ones(len(cases)) if weights is None else np.asarray(weights, dtype=float)
    ancestors, total = ancestor_sets(tables), 0.0
    counts = {node: None for node in tables}

    def one(group):  # a group's log-likelihood and sums, or None when a case of it is impossible
        shared, rows = group
        return _group_sums(given(tree, shared), [cases[i] for i in rows], weights[rows], card, ancestors)

    groups = _groups(tree, cases)
    if workers > 1 and len(groups) > 1:
        with ThreadPoolExecutor(workers) as pool:  # numpy lets go of the interpreter in the long steps
            results = list(pool.map(one, groups))
    else:
        results = [one(group) for group in groups]
    for (shared, _), result in zip(groups, results):
        if result is None:  # impossible under these tables: no counts, -inf
            return Counts({node: None for node in tables}, -math.inf, tree.elimination)
        total += result[0]
        for node, found in result[1].items():
            scope = tables[node][0]
            if counts[node] is None:
                counts[node] = np.zeros([card[v] for v in scope])
            counts[node][tuple(shared.get(v, slice(None)) for v in scope)] += \
                found.reshape([card[v] for v in scope if v not in shared])
    return Counts({node: None if c is None else c.reshape(card[node], -1) for node, c in counts.items()},
                  total, tree.elimination)


def _group_sums(tree, group, weights, card, ancestors):
    """One group's weighted log-likelihood and family sums (:func:`model.engine.families.family_sums`) on
    ``tree`` (its shared observations cut out); None when one of its cases is impossible."""
    likelihoods, seen = {}, {}
    for i, (hard, soft) in enumerate(group):
        for node, at in hard.items():
            if node in tree.home:  # not cut out
                seen.setdefault(node, ([], []))
                seen[node][0].append(i)
                seen[node][1].append(at)
        for node, lam in soft.items():
            likelihoods.setdefault(node, np.ones((len(group), card[node])))[i] = lam
    for node, (rows, states) in seen.items():
        lam = likelihoods.setdefault(node, np.ones((len(group), card[node])))
        lam[rows] = 0.0
        lam[rows, states] = 1.0
    informs, alike = {}, {}
    for i, (hard, soft) in enumerate(group):  # a case adds to the counts of the nodes it informs only
        for node in frozenset().union(*(ancestors[v] for v in (*hard, *soft))):
            informs.setdefault(node, np.zeros(len(group)))[i] = weights[i]
    informs = {node: alike.setdefault(w.tobytes(), w) for node, w in informs.items()}  # one array per weighting
    log_evidence, sums = family_sums(tree, likelihoods, informs)
    used = weights != 0
    if np.isneginf(log_evidence[used]).any():
        return None
    return float(weights[used] @ log_evidence[used]), sums


def _groups(tree, cases):
    """The cases in groups sharing their hard observations of a few nodes, each group's shared observations
    to be cut out of the tree: ``[(shared, rows)]``. The nodes are chosen greedily by how much cutting them
    shrinks the tree, times how often they are observed, while the groups keep ``GROUP`` cases on average;
    observations every case shares are cut out of every group."""
    every = dict(cases[0][0]) if cases else {}
    for hard, _ in cases[1:]:
        every = {node: at for node, at in every.items() if hard.get(node) == at}
    seen = {}
    for hard, _ in cases:
        for node in hard:
            seen[node] = seen.get(node, 0) + 1
    sizes = [math.prod(tree.card[v] for v in clique if v not in every) for clique in tree.cliques]

    def saving(node):
        shrink = 1 - 1 / tree.card[node]
        return seen[node] * shrink * sum(s for s, clique in zip(sizes, tree.cliques) if node in clique)

    chosen, patterns = [], {(): list(range(len(cases)))}
    for node in sorted((v for v in seen if v not in every), key=saving, reverse=True):
        split = {}
        for key, rows in patterns.items():
            for i in rows:
                split.setdefault(key + (cases[i][0].get(node, -1),), []).append(i)
        if len(split) * GROUP > len(cases):
            break
        chosen.append(node)
        patterns = split
    return [({**every, **{v: at for v, at in zip(chosen, key) if at >= 0}}, np.array(rows))
            for key, rows in patterns.items()]
