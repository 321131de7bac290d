"""The structure of the batch engine's plan: in which order one network's tables are multiplied and summed.

In plain terms: before scoring many patients, the network is turned once into
a recipe (the *plan*) that scores a whole block of patients with a few large
array operations instead of one query per patient. The numbers are exactly
those of :meth:`~model.inference.Model.infer`; only the order of the
arithmetic changes. This module decides that order from the graph alone
(:func:`_structure`, once per model); :mod:`model.engine.numbers` fills it with
the tables (point values, or many parameter draws at once);
:mod:`model.engine.chunk` runs it on a chunk of cases; :mod:`model.engine`
caches one plan per model and reads the cases.

1. **Leaves** (childless, not reported nodes) are per-case factors over their
   parents. Where many leaves share a large parent set, they form one *log
   group*: one matrix product ``log W @ X`` (``X`` the cases' 0/1 state
   indicators) and one ``exp`` over the group's configurations, instead of
   one table product per leaf. The others stay *linear*: ``table @
   likelihoods``, one small matrix product each (soft evidence is just other
   likelihoods). A cost model in nanoseconds per table entry decides.
2. **Core** nodes (all others): the CPT is a constant factor, the evidence a
   per-case likelihood vector. The core nodes that are not reported are
   eliminated greedily, the one whose factors span the fewest configurations
   first, down to the reported nodes: their joint table, or one table per
   reported node when that computes less. Of the reported nodes, the one
   whose factors are cheapest to keep apart is *split* off, so no table holds
   every reported node (:func:`_eliminate`).
3. **Steps.** Each step multiplies its factors pairwise, a factor held within
   another first, then the smallest product, and sums a variable out as soon
   as no other factor holds it; a step whose per-case factors multiply into a
   small table is one product with a constant matrix.

**Layout.** Every per-case table has shape ``(*cards, draws, cases)``, the
cases innermost (so numpy broadcasts over long contiguous rows), its variables
in the order they are summed out, then the reported nodes (those in fewest
factors first): each step sums over leading axes.

Any network is exact; only the speed depends on its structure. The size
limits come from the caller (:class:`_Limits`), so they stay tunable in
:mod:`model.engine`. Pure: takes a model, returns a structure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

_LOG0 = -1e200  # stands for log(0) inside the matrix products of log groups
_DEAD = -1e100  # a row whose best log-likelihood is below this has probability 0
# Cost model (nanoseconds per table entry), measured on numpy + OpenBLAS: exp, one broadcast product, one
# multiply-add of a matrix product. A log group pays one exp per configuration and one multiply-add per row;
# a linear leaf one product per entry of the table it is multiplied into.
_EXP, _MUL, _MAC = 10.0, 0.7, 0.1


@dataclass(frozen=True)
class _Limits:
    """Size limits of one compilation (the values are :mod:`model.engine`'s constants)."""

    max_table: int  # largest number of floats in one per-chunk table; sets the rows per chunk
    max_final: int  # largest joint table of the reported nodes; above it, one table per reported node
    max_group: int  # largest log group (configurations x rows); above it, leaves stay linear
    safe: float  # a group whose least likely evidence is above e^safe is exponentiated without a shift


@dataclass(frozen=True)
class _Step:
    """One elimination step: multiply ``consts`` (folded into one) and ``inputs`` (per-case), sum ``gone``."""

    inputs: tuple  # ids of per-case factors: ("l", leaf), ("g", k), ("e", node) or ("m", k) messages
    scopes: tuple  # their scopes
    consts: tuple  # ids of constant factors: ("c", node) CPTs or ("m", k) constant messages
    gone: tuple  # variables summed out
    out: tuple  # id of the result, ("m", k)
    scope: tuple  # variables of the result, in the layout order
    schedule: tuple  # pairwise products: (i, j, summed variables) over [folded constants, *inputs]
    matmul: bool  # out = M @ (the product of the inputs), M the constants summed (see _matrix): the inputs'
    #               product is small


@dataclass(frozen=True)
class _Structure:
    order: dict  # node -> position of its axis in every table (see _structure)
    card: dict
    reported: tuple  # the reported nodes, in the order of the results
    groups: tuple  # log groups: (scope, leaves)
    linear: tuple  # linear leaves
    scopes: dict  # per-case source id -> scope
    programs: tuple  # per output: (steps, final ids, split node or None); see _eliminate
    joint: tuple | None  # the reported nodes of the joint table, when there is one program for all
    biggest: int  # configurations of the largest per-case table
    work: int  # entries computed per case and draw, roughly


def _size(cards):
    return math.prod(cards)


def _grid(cards):
    return np.indices(cards).reshape(len(cards), -1).T if cards else np.zeros((1, 0), dtype=int)


def _flat(grid, positions, cards):
    """Flat index (first variable slowest) of the sub-configuration at ``positions`` of each grid row."""
    strides = np.cumprod([1] + list(cards[::-1]))[:-1][::-1].astype(int)
    return grid[:, positions] @ strides if len(positions) else np.zeros(len(grid), dtype=int)


class _Graph:
    """The network in the engine's terms: layout order, cardinalities, children, CPTs over ordered scopes."""

    def __init__(self, model, values=None):
        self.tables, self.reported = model._priors.node_tables, model._reported
        values = values or {}  # node -> (draws, states, configurations); default: the point values
        self.tie = {n: i for i, n in enumerate(model._states)}  # node order: breaks ties
        self.order = dict(self.tie)  # layout order of every table's variables (see _structure)
        self.card = {n: len(s) for n, s in model._states.items()}
        self.children = {n: [] for n in self.order}
        for node, table in self.tables.items():
            for parent in table.parents:
                self.children[parent].append(node)
        self.leaves = [n for n in self.order if not self.children[n] and n not in self.reported]
        self.core = [n for n in self.order if n not in self.leaves]
        self.values = {n: values[n] if n in values else t.values[None] for n, t in self.tables.items()}
        self.draws = max(v.shape[0] for v in self.values.values())
        self.values = {n: np.broadcast_to(v, (self.draws,) + v.shape[1:]) for n, v in self.values.items()}

    def ordered(self, names):
        return tuple(sorted(set(names), key=self.order.get))

    def size(self, names):
        return _size([self.card[v] for v in names])

    def cpt(self, node):
        """``(scope in the layout order, array (*cards of the scope, draws))``."""
        t = self.tables[node]
        names, scope = (node,) + t.parents, self.ordered((node,) + t.parents)
        array = self.values[node].reshape((self.draws, self.card[node]) + tuple(len(s) for s in t.parent_states))
        return scope, np.moveaxis(np.transpose(array, [0] + [1 + names.index(v) for v in scope]), 0, -1)


def _expand(array, scope, union, card):
    """``array`` (*cards of ``scope``, *tail) as a view that broadcasts over ``union`` (``scope`` within it)."""
    tail = array.shape[len(scope):]
    where = [union.index(v) for v in scope]
    if where != sorted(where):  # the table's axes in another order than the union's
        order = sorted(range(len(scope)), key=where.__getitem__)
        array = array.transpose(order + list(range(len(scope), array.ndim)))
        scope = tuple(scope[k] for k in order)
    return array.reshape(tuple(card[v] if v in scope else 1 for v in union) + tail)


# --- structure ------------------------------------------------------------------------------------
def _partition(g, max_group):
    """Log groups ``(scope, leaves)`` where one exp over a shared parent set costs less than products of
    linear leaves; the other leaves stay linear."""
    free = {f: g.ordered(g.tables[f].parents) for f in g.leaves}
    groups = []
    for scope in sorted(set(free.values()), key=lambda s: (-g.size(s), s)):
        members = [f for f, s in free.items() if set(s) <= set(scope)]
        rows = sum(g.card[f] for f in members) + 1
        size = g.size(scope)
        log = size * (_EXP + _MAC * rows)
        linear = sum(g.size(free[f]) * _MAC * g.card[f] + size * _MUL for f in members)
        if len(members) > 1 and log < linear and size * rows <= max_group:
            groups.append((scope, tuple(members)))
            for f in members:
                del free[f]
    return tuple(groups), tuple(free)


def _schedule(scopes, gone, g):
    """Pairwise products over ``scopes``, each followed by the sums it allows: ``((i, j, summed), ...)``.

    A factor whose variables another factor holds is multiplied into the smallest such factor (no table
    grows); otherwise the two factors with the smallest product go first.
    """
    items, ops, gone = [set(s) for s in scopes], [], set(gone)
    alive = list(range(len(items)))

    def droppable(scope, others):
        held = set().union(*(items[k] for k in others))
        return tuple(v for v in g.ordered(scope) if v in gone and v not in held)

    if len(alive) == 1:
        return ((0, None, droppable(items[0], [])),)
    sizes = {}

    def size(k):
        if k not in sizes:
            sizes[k] = g.size(items[k])
        return sizes[k]

    while len(alive) > 1:  # first every factor held within another, smallest first
        pair = next(((i, min(supers, key=lambda k: (size(k), k))) for i in sorted(alive, key=lambda k: (size(k), k))
                     for supers in [[j for j in alive if j != i and items[i] <= items[j]]] if supers), None)
        if pair is None:
            break
        i, j = pair
        others = [k for k in alive if k not in (i, j)]
        drop = droppable(items[j], others)
        ops.append((j, i, drop))
        items.append(items[j] - set(drop))
        alive = others + [len(items) - 1]
    pairs = {}  # (i, j) -> size of the product, computed once
    while len(alive) > 1:  # then the two with the smallest product
        for a, i in enumerate(alive):
            for j in alive[a + 1:]:
                if (i, j) not in pairs:
                    pairs[i, j] = g.size(items[i] | items[j])
        i, j = min(((i, j) for a, i in enumerate(alive) for j in alive[a + 1:]), key=lambda p: (pairs[p], p))
        others = [k for k in alive if k not in (i, j)]
        drop = droppable(items[i] | items[j], others)
        ops.append((j, i, drop) if g.size(items[j]) >= g.size(items[i]) else (i, j, drop))
        items.append((items[i] | items[j]) - set(drop))
        alive = others + [len(items) - 1]
    return tuple(ops)


def _eliminate(g, sources, keep, k0):
    """Greedy elimination down to ``keep``: ``(steps, final ids, split node, largest table, work)``.

    ``sources`` maps per-case source ids to scopes; every core node's CPT is a
    constant factor ``("c", node)``. Messages are numbered from ``k0``. When
    several nodes are kept, one may be *split* off: the last two steps multiply
    apart the remaining factors without it and those with it (two ids), when
    their two tables are smaller than the joint of every kept node; the
    marginals then come from both (:func:`model.engine.chunk._split_marginals`).
    The bundled network splits off its complication: two tables of 2^15 and
    2^13 configurations instead of one of 2^16.
    """
    live = dict(sources)
    live.update({("c", n): g.ordered((n,) + g.tables[n].parents) for n in g.core})
    percase = set(sources)
    steps, biggest, work, k = [], 1, 0, k0
    to_go = set().union(*live.values()) - set(keep)

    def step(ids, union, gone, out_scope):
        nonlocal k, biggest, work
        inputs = tuple(i for i in ids if i in percase)
        consts = tuple(i for i in ids if i not in percase)
        const_scope = g.ordered(set().union(*(live[i] for i in consts))) if consts else None
        scopes = ([const_scope] if consts else []) + [live[i] for i in inputs]
        given = g.ordered(set().union(*(live[i] for i in inputs))) if inputs else ()
        sizes = g.size(given) * g.size(out_scope)
        matmul = bool(consts and inputs and gone) and sizes <= min(8 * g.size(union), 2**22)
        schedule = _schedule(scopes[1:], (), g) if matmul else _schedule(scopes, gone, g)
        out = ("m", k)
        steps.append(_Step(inputs, tuple(live[i] for i in inputs), consts, tuple(gone), out, out_scope, schedule,
                           matmul))
        if inputs:
            percase.add(out)
            biggest = max(biggest, g.size(union))
            work += sizes if matmul else g.size(union) * len(scopes)
        for i in ids:
            del live[i]
        live[out] = out_scope
        k += 1

    while to_go:
        v = min(to_go, key=lambda u: (g.size(set().union(*(s for s in live.values() if u in s))), g.tie[u]))
        ids = [i for i, s in live.items() if v in s]
        union = g.ordered(set().union(*(live[i] for i in ids)))
        others = set().union(*(s for i, s in live.items() if i not in ids))
        gone = [u for u in union if u in to_go and u not in others]
        step(ids, union, gone, tuple(u for u in union if u not in gone))
        to_go -= set(gone)
    ids = list(live)

    def parts(u):
        return [i for i in ids if u not in live[i]], [i for i in ids if u in live[i]]

    def cost(u):
        return sum(g.size(set().union(*(live[i] for i in part))) for part in parts(u))

    splits = [u for u in keep if all(parts(u))] if len(keep) > 1 else []
    split = min(splits, key=lambda u: (cost(u), g.order[u])) if splits else None
    if split is not None and cost(split) < g.size(keep):
        for part in parts(split):
            scope = g.ordered(set().union(*(live[i] for i in part)))
            step(part, scope, (), scope)
        return tuple(steps), (steps[-2].out, steps[-1].out), split, biggest, work
    final = g.ordered(keep)
    step(ids, final, (), final)
    return tuple(steps), (steps[-1].out,), None, biggest, work


def _relayout(steps, g):
    """``steps`` with every scope in the layout order ``g.order``."""
    return tuple(replace(st, scopes=tuple(g.ordered(x) for x in st.scopes), gone=g.ordered(st.gone),
                         scope=g.ordered(st.scope), schedule=tuple((i, j, g.ordered(d)) for i, j, d in st.schedule))
                 for st in steps)


def _sources(model, limits):
    """``(graph, log groups, linear leaves, per-case sources)`` of ``model``'s plan under ``limits``."""
    g = _Graph(model)
    groups, linear = _partition(g, limits.max_group)
    sources = {("g", k): scope for k, (scope, _) in enumerate(groups)}
    sources.update({("l", f): tuple(g.tables[f].parents) for f in linear})
    sources.update({("e", n): (n,) for n in g.core})
    return g, groups, linear, sources


def _rough_work(model, limits):
    """An estimate of :func:`_structure`'s ``work`` from at most two eliminations (the joint's program; the
    first node's, times the nodes), where the structure may run one per reported node (minutes on pigs)."""
    g, groups, _, sources = _sources(model, limits)
    keep, base = tuple(g.reported), sum(g.size(s) for s, _ in groups)
    firsts = ([(keep, 1)] if g.size(keep) <= limits.max_final else []) + ([(keep[:1], len(keep))] if keep else [])
    return base + min((_eliminate(g, {i: g.ordered(s) for i, s in sources.items()}, target, 0)[4] * times
                       for target, times in firsts), default=0)


def _structure(model, limits, joint=False):
    """The structure of ``model``'s plan under ``limits`` (graph only: no numbers); ``joint=True``: always
    the joint table of the reported nodes (the caller checks its size), never one program per node.

    Every table lays its variables out in the order they are summed out (then
    the reported nodes, those in fewest factors first), so each step sums over
    leading axes and broadcasts over long contiguous blocks.
    """
    g, groups, linear, sources = _sources(model, limits)
    keep = tuple(g.reported)
    options = [[keep]] if joint or g.size(keep) <= limits.max_final else []  # one program for the joint of the
    options += [[(r,) for r in keep]] if keep and not joint else []  # reported, or one per node: whichever costs less
    best = None
    for targets in options:  # the joint (first) unless one program per node computes less than half as much
        programs, k0, biggest, work = [], 0, 1, sum(g.size(s) for s, _ in groups)
        for target in targets:
            if best is not None and 2 * work >= best[0]:
                break  # already too dear
            steps, final, split, big, cost = _eliminate(g, {i: g.ordered(s) for i, s in sources.items()}, target, k0)
            programs.append((steps, final, split))
            k0, biggest, work = k0 + len(steps), max(biggest, big), work + cost
        if best is None or (2 * work < best[0] and len(programs) == len(targets)):
            best = (work, programs, targets, biggest)
    work, programs, targets, biggest = best
    summed = [v for step in programs[0][0] for v in step.gone]  # the layout: summed first, in their order
    scopes = list(sources.values()) + [(n,) + g.tables[n].parents for n in g.core]
    held = {v: sum(v in s for s in scopes) for v in g.order}
    rest = sorted((v for v in g.order if v not in summed), key=lambda v: (held[v], g.tie[v]))
    g.order = {v: i for i, v in enumerate(summed + rest)}
    programs = [(_relayout(steps, g), final, split) for steps, final, split in programs]
    biggest = max([biggest] + [g.size(s) for s, _ in groups])
    groups = tuple((g.ordered(scope), members) for scope, members in groups)
    return _Structure(g.order, g.card, tuple(g.reported), groups, linear, {i: g.ordered(s) for i, s in sources.items()},
                      tuple(programs), g.ordered(keep) if len(targets) == 1 and targets[0] == keep else None,
                      biggest, work)
