"""A junction tree compiled for one case: only what the case needs, its hard evidence taken out before the
cliques are formed.

In plain terms: a node that is neither observed, nor asked about, nor an
ancestor of one of those sums out to one (it is *barren*), so its table can be
dropped; and an observed node can be taken out of the graph altogether, its
state fixed in every table that mentions it, before the cliques are chosen
(pyAgrum's LazyPropagation does both). Cutting the observed nodes out of the
full network's cliques (:mod:`model.engine.sliced`) keeps the links the
network needed only through them; compiling again does not. On bnlearn's
water with a fifth of the nodes seen, the cliques hold about a quarter of the
configurations of the cut-down full tree. The nodes are eliminated in the full
tree's order (no new search), and no prior messages are prepared, so a compile
costs little more than the calibration it serves.

Examples
--------
Rain causes wet grass and a wet road; the grass is seen wet (the road is
barren):

>>> import numpy as np
>>> from model.engine.junction import compile_junction_tree
>>> wet = np.array([[0.9, 0.1], [0.1, 0.9]])
>>> tables = {"rain": (("rain",), np.array([0.8, 0.2])),
...           "grass": (("grass", "rain"), wet), "road": (("road", "rain"), wet)}
>>> full = compile_junction_tree(tables, {"rain": 2, "grass": 2, "road": 2})
>>> tree, log_constant = reduced_tree(full, {"grass": 1}, wanted=("rain",))
>>> sorted(tree.card), round(float(np.exp(tree.calibrate().log_evidence + log_constant)), 4)
(['rain'], 0.26)
"""

from __future__ import annotations

import math

from .junction import compile_junction_tree

__all__ = ["ancestor_sets", "cut_tables", "reduced_tree"]

#: Configurations of a case's cliques, in the full tree's elimination order, above which the greedy min-fill
#: order is searched as well, and the one with fewer configurations kept: cutting the observed nodes out changes
#: the graph, and the full network's order can make cliques far larger than needed (on bnlearn's mildew, barley
#: and water, 100 cases with a fifth of the cells seen: 35% fewer configurations in all; the search costs about a
#: millisecond a case on mildew, hence only above this size; mildew 3.0 -> 2.5 ms a case, barley 7.1 -> 6.5).
SEARCH_ABOVE = 300_000


def ancestor_sets(tables):
    """node -> the frozenset of its ancestors, itself included, for ``tables`` (node -> (family scope (node,
    *parents), array)); depth first, without recursion (networks may be deep).

    >>> import numpy as np
    >>> sets = ancestor_sets({"a": (("a",), None), "b": (("b", "a"), None), "c": (("c", "b"), None)})
    >>> sorted(sets["c"]), sorted(sets["a"])
    (['a', 'b', 'c'], ['a'])
    """
    ancestors = {}
    for start in tables:
        stack = [start]
        while stack:
            node = stack[-1]
            parents = tables[node][0][1:]
            missing = [p for p in parents if p not in ancestors]
            if node in ancestors:
                stack.pop()
            elif missing:
                stack.extend(missing)
            else:
                ancestors[node] = frozenset({node}).union(*(ancestors[p] for p in parents))
                stack.pop()
    return ancestors


def cut_tables(tables, observed, keep=None):
    """``(tables, log_constant)``: ``tables`` (node -> (family scope, array over it)) of the nodes ``keep``
    (default: all) with the ``observed`` nodes (node -> index of the observed state) fixed at their state and
    taken out of every scope, and the log of the product of the tables left with no free node (-inf when one
    is zero). The network's P(observed, anything) is the product of the tables returned times
    ``exp(log_constant)``.

    >>> import numpy as np
    >>> tables = {"rain": (("rain",), np.array([0.8, 0.2])),
    ...           "wet": (("wet", "rain"), np.array([[0.9, 0.1], [0.1, 0.9]]))}
    >>> cut, constant = cut_tables(tables, {"wet": 1})
    >>> cut["wet"][0], cut["wet"][1].tolist(), constant
    (('rain',), [0.1, 0.9], 0.0)
    """
    cut, log_constant = {}, 0.0
    for node in tables if keep is None else keep:
        scope, table = tables[node]
        free = tuple(v for v in scope if v not in observed)
        if len(free) < len(scope):
            table = table[tuple(observed[v] if v in observed else slice(None) for v in scope)]
        if free:
            cut[node] = (free, table)
        else:
            value = float(table)
            log_constant += math.log(value) if value > 0 else -math.inf
    return cut, log_constant


def reduced_tree(full, observed, wanted=(), ancestors=None, search_above=SEARCH_ABOVE):
    """``(tree, log_constant)``: a :class:`~model.engine.junction.JunctionTree` over the ancestors of the
    ``observed`` nodes (node -> index of the observed state) and of ``wanted`` (nodes whose marginals, or soft
    evidence, the case needs), minus the observed nodes, whose states are fixed in every table; and the log
    of the tables left with no free node. The tree's P(evidence) times ``exp(log_constant)`` is the full
    network's P(observed) (-inf when a fixed table is zero); its marginals are the full network's given the
    observations. ``ancestors``: :func:`ancestor_sets` of ``full.tables``, when the caller keeps it. The nodes are
    eliminated in ``full``'s order, or in the greedy min-fill order when that order's cliques would hold more than
    ``search_above`` configurations and the greedy one's fewer."""
    tables, card = full.tables, full.card
    ancestors = ancestor_sets(tables) if ancestors is None else ancestors
    keep = frozenset().union(*(ancestors[node] for node in [*observed, *wanted]))
    cut, log_constant = cut_tables(tables, observed, keep)
    sizes = {node: card[node] for node in keep if node not in observed}
    tree = compile_junction_tree(cut, sizes, root=tuple(v for v in wanted if v in sizes),
                                 elimination=full.elimination, prior_messages=False,
                                 search_above=search_above)
    return tree, log_constant
