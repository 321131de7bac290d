"""The expectation step of learning: expected family counts of many cases, exact, on the junction tree.

In plain terms: for every case, the junction tree of the current tables is
calibrated on that case's observations, and for every node that the case
says something about (the node or one of its descendants is observed), the
posterior probability of each configuration of the node and its parents is
added to that node's counts. A node the case says nothing about is barren
for that case: its table does not change the probability of the case, so the
case adds nothing to its counts (EM on the network pruned per case, which
has the same likelihood). The sum of log P(case) is returned with the
counts. Pure: takes tables and evidence, returns arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..engine.junction import compile_junction_tree
from ..engine.reduced import ancestor_sets
from ..engine.sliced import given

__all__ = ["Counts", "expected_counts"]


@dataclass(frozen=True)
class Counts:
    """What one pass over the cases gives: ``tables`` node -> expected counts (states, parent configurations),
    None for a node no case informs; ``log_likelihood`` = sum over the cases of log P(case), each times its
    weight; ``elimination`` the junction tree's elimination order."""

    tables: dict
    log_likelihood: float
    elimination: tuple


def expected_counts(tables, card, cases, roots=(), weights=None, elimination=None):
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
    ancestors = ancestor_sets(tables)
    shapes = {node: tuple(card[v] for v in scope) for node, (scope, _) in tables.items()}
    counts = {node: None for node in tables}
    total, weights = 0.0, np.ones(len(cases)) if weights is None else np.asarray(weights, dtype=float)
    for (hard, soft), weight in zip(cases, weights):
        cut = given(tree, hard)
        calibration = cut.calibrate(soft)
        if math.isinf(calibration.log_evidence):  # impossible under these tables: no counts, log-likelihood -inf
            return Counts({node: None for node in tables}, -math.inf, tree.elimination)
        total += weight * calibration.log_evidence
        beliefs = {}
        for node in frozenset().union(*(ancestors[v] for v in (*hard, *soft))):
            scope = tables[node][0]
            k = tree.holder[node]  # the clique of the node's table holds its family (its free part, once cut)
            if k not in beliefs:
                beliefs[k] = calibration.belief(k).reshape([card[v] for v in cut.cliques[k]])
            clique = cut.cliques[k]
            free = [v for v in scope if v not in hard]
            joint = beliefs[k].sum(axis=tuple(i for i, v in enumerate(clique) if v not in free))
            kept = [v for v in clique if v in free]
            joint = joint.transpose([kept.index(v) for v in free]) * weight
            if counts[node] is None:
                counts[node] = np.zeros(shapes[node])
            counts[node][tuple(hard[v] if v in hard else slice(None) for v in scope)] += joint
    return Counts({node: None if c is None else c.reshape(card[node], -1) for node, c in counts.items()},
                  total, tree.elimination)
