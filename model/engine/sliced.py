"""The junction tree with the observed nodes cut out: one case's hard evidence slices every table instead of
multiplying a 0/1 vector into it.

In plain terms: once a node is seen in one state, every configuration with
another state has probability zero, so there is no need to carry it. Each
clique holding an observed node keeps only the configurations with the
observed state; a clique of eight nodes with four of them seen, three states
each, shrinks 81-fold. pyAgrum's LazyPropagation does the same ("projecting"
hard evidence into the tables). The cut-down tree keeps the shape of the full
one (same cliques, same parents), so the calibration of
:mod:`model.engine.junction` runs on it unchanged; its structure is cached per
set of observed nodes (the pattern), its tables are sliced per case, lazily.

Only one case's marginals come from it (:meth:`JunctionTree.calibrate`,
``belief``, ``marginal``); the gradients of sensitivity analysis need the full
tree.

Examples
--------
Rain causes wet grass; the grass is seen wet:

>>> import numpy as np
>>> from model.engine.junction import compile_junction_tree
>>> tables = {"rain": (("rain",), np.array([0.8, 0.2])),
...           "wet": (("wet", "rain"), np.array([[0.9, 0.1], [0.1, 0.9]]))}
>>> tree = compile_junction_tree(tables, {"rain": 2, "wet": 2})
>>> case = given(tree, {"wet": 1}).calibrate()
>>> round(float(np.exp(case.log_evidence)), 4), case.marginal(("rain",)).round(4)
(0.26, array([0.3077, 0.6923]))
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict

import numpy as np

from .junction import _layout

__all__ = ["given"]

#: Patterns (sets of observed nodes) whose cut-down structure is kept, per tree.
PATTERNS = 256

_LOCK = threading.Lock()


def given(tree, observed):
    """``tree`` with the nodes of ``observed`` (node -> index of its observed state) cut out of every clique:
    a :class:`JunctionTree` over the other nodes whose tables are the full ones at the observed states. Its
    calibrations give the same P(evidence) and marginals as the full tree's with 0/1 likelihoods."""
    if not observed:
        return tree
    pattern = _pattern(tree, frozenset(observed))
    cliques, separators = pattern["slices"], pattern["separator slices"]

    def sliced(full, axes):  # a flat table at the observed states of its axes
        if axes is None:
            return full
        shape, at = axes
        index = tuple(slice(None) if node is None else observed[node] for node in at)
        return np.ascontiguousarray(full.reshape(shape)[index]).reshape(-1)

    count = len(tree.cliques)
    potentials = _Lazy(lambda k: sliced(tree.potentials[k], cliques[k]), count)
    static = _Lazy(lambda k: None if tree.static[k] is None else sliced(tree.static[k], separators[k]), count)
    return dataclasses.replace(pattern["tree"], potentials=potentials, static=static)


class _Lazy:
    """A tuple-like sequence whose items are computed when first asked for, by ``make(k)``."""

    __slots__ = ("_items", "_make", "_done")

    def __init__(self, make, count):
        self._make, self._items, self._done = make, [None] * count, [False] * count

    def __getitem__(self, k):
        if not self._done[k]:
            self._items[k], self._done[k] = self._make(k), True
        return self._items[k]

    def __len__(self):
        return len(self._items)


def _pattern(tree, observed):
    """The cut-down structure of ``tree`` for the nodes of ``observed`` (cached: the last ``PATTERNS``)."""
    with _LOCK:
        cache = tree.indexes.setdefault("patterns", OrderedDict())
        found = cache.get(observed)
        if found is not None:
            cache.move_to_end(observed)
            return found
    found = _cut(tree, observed)
    with _LOCK:
        cache[observed] = found
        while len(cache) > PATTERNS:
            cache.popitem(last=False)
    return found


def _cut(tree, observed):
    card = tree.card

    def keep(scope):
        return tuple(v for v in scope if v not in observed)

    def axes(scope):  # how to slice a flat table over scope: its shape, and per axis the node observed or None
        if not observed.intersection(scope):
            return None
        return tuple(card[v] for v in scope), tuple(v if v in observed else None for v in scope)

    cliques = tuple(keep(c) for c in tree.cliques)
    separator = tuple(keep(s) for s in tree.separator)
    home = {node: k for node, (k, _) in tree.home.items() if node not in observed}
    # a subtree with an observed node summed out inside it no longer sends the prior's message: marked as seen
    marked = tuple(sorted({k for k, f in enumerate(tree.free) for v in f if v in observed}))
    cut = dataclasses.replace(tree, cliques=cliques, separator=separator, marked=marked, indexes={},
                              **_layout(cliques, separator, tree.parent, tree.order, home, card))
    return {"tree": cut, "slices": tuple(axes(c) for c in tree.cliques),
            "separator slices": tuple(axes(s) for s in tree.separator)}
