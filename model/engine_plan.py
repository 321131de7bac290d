"""The compiled plan of the batch engine: how one network is turned, once, into fast array steps.

In plain terms: before scoring many patients, the network's probability tables
are rearranged once into a recipe (the *plan*) that then scores a whole block
of patients with a few large array operations instead of one query per
patient. The numbers are exactly those of :meth:`~model.inference.Model.infer`;
only the order of the arithmetic changes. :mod:`model.engine` compiles and
caches one plan per model and reads the cases; :mod:`model.engine_chunk` runs a
plan on a chunk of cases. A plan is built in two parts:

1. **Structure** (:func:`_structure`, graph only, once per model). Leaves
   (childless, not reported nodes) become per-case factors over their parents:
   *linear* leaves (``table @ likelihoods``, one small matrix product; soft
   evidence is just other likelihoods) or, where many leaves share a large
   parent set, one *log group* (``exp(log W @ X)``: one matrix product over
   the group's configurations instead of one table product per leaf). Every
   other node is *core*: its CPT is a constant factor and its evidence a
   per-case likelihood vector. Core nodes that are not reported are then
   eliminated greedily, the variable whose factors span the fewest
   configurations first, down to the joint table of the reported nodes (or
   one table per reported node when that computes less). Each step multiplies
   its factors pairwise, smallest product first, and sums a variable out as
   soon as no other factor holds it.
2. **Numbers** (:func:`_compile`). The tables of the structure for one
   parameter set, or for ``D`` draws at once: log groups, leaf tables, the
   constant factors of each step folded into one (or into one matrix when a
   step has a single per-case factor: a matrix product), steps over constants
   only done at once.

**Layout.** Every per-case table has shape ``(*cards, draws, cases)``: its
variables in node order (first slowest), then the draw axis (1 for the point
values), then the cases, innermost. Constants have 1 case, evidence-only
factors 1 draw, so numpy broadcasting multiplies them along long contiguous
rows of cases; matrix products give this layout directly.

Any network is exact; only the speed depends on its structure. The size
limits come from the caller (:class:`_Limits`), so they stay tunable in
:mod:`model.engine`. Pure: takes a model, returns arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

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
    scope: tuple  # variables of the result, in node order
    schedule: tuple  # pairwise products: (i, j, summed variables) over [folded constants, *inputs]
    matmul: bool  # one per-case input: out = M @ input, M the constants summed (see _matrix)


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


@dataclass(frozen=True)
class _Plan:
    states: dict
    index: dict  # node -> pandas Index of its states, for fast lookups
    structure: _Structure
    groups: tuple  # per log group: (rows {leaf: first row}, maps {leaf: parent configuration per
    #                configuration}, log W (configurations x draws, rows), safe)
    leaves: dict  # linear leaf -> its table (parent configurations x draws, states)
    cpts: dict  # leaf of a log group -> (draws, states, parent configurations), for soft evidence
    numbers: tuple  # per program: {step position: folded constants (scope, array) or matrix}, constants made
    log_scale: tuple  # per program: what rescaling the constant steps took out, per draw
    marginals: np.ndarray | None  # (1 + reported but the split node, their configurations): all, then each
    #                                node's other states
    joint_scope: tuple | None  # the reported nodes in the order of the joint table (when there is one)
    rows_per_chunk: int
    draws: int  # the size of the draw axis of every number


def _size(cards):
    return math.prod(cards)


def _grid(cards):
    return np.indices(cards).reshape(len(cards), -1).T if cards else np.zeros((1, 0), dtype=int)


def _flat(grid, positions, cards):
    """Flat index (first variable slowest) of the sub-configuration at ``positions`` of each grid row."""
    strides = np.cumprod([1] + list(cards[::-1]))[:-1][::-1].astype(int)
    return grid[:, positions] @ strides if len(positions) else np.zeros(len(grid), dtype=int)


class _Graph:
    """The network in the engine's terms: node order, cardinalities, children, CPTs over ordered scopes."""

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
        """``(scope in node order, array (*cards of the scope, draws))``."""
        t = self.tables[node]
        names, scope = (node,) + t.parents, self.ordered((node,) + t.parents)
        array = self.values[node].reshape((self.draws, self.card[node]) + tuple(len(s) for s in t.parent_states))
        return scope, np.moveaxis(np.transpose(array, [0] + [1 + names.index(v) for v in scope]), 0, -1)


def _expand(array, scope, union, card):
    """``array`` (*cards of ``scope``, *tail) reshaped to broadcast over ``union`` (both in node order)."""
    tail = array.shape[len(scope):]
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
    while len(alive) > 1:
        inside = [(g.size(items[j]), g.size(items[i]), i, j) for i in alive for j in alive
                  if i != j and items[i] <= items[j]]
        if inside:
            _, _, i, j = min(inside)
        else:
            i, j = min(((i, j) for a, i in enumerate(alive) for j in alive[a + 1:]),
                       key=lambda p: (g.size(items[p[0]] | items[p[1]]), p))
        others = [k for k in alive if k not in (i, j)]
        drop = droppable(items[i] | items[j], others)
        ops.append((j, i, drop))  # the larger factor first
        items.append((items[i] | items[j]) - set(drop))
        alive = others + [len(items) - 1]
    return tuple(ops)


def _eliminate(g, sources, keep, k0):
    """Greedy elimination down to ``keep``: ``(steps, final ids, split node, largest table, work)``.

    ``sources`` maps per-case source ids to scopes; every core node's CPT is a
    constant factor ``("c", node)``. Messages are numbered from ``k0``. When
    several nodes are kept, the one held by the fewest remaining factors is
    *split* off: the last two steps multiply the factors without it and those
    with it apart (two ids), so its marginal and the others' need no joint table
    of every kept node (:func:`model.engine_chunk._marginals`).
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
        sizes = g.size(live[inputs[0]]) * g.size(out_scope) if len(inputs) == 1 else 0
        matmul = bool(consts) and len(inputs) == 1 and bool(gone) and sizes <= min(8 * g.size(union), 2**22)
        schedule = () if matmul else _schedule(scopes, gone, g)
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


def _structure(model, limits):
    """The structure of ``model``'s plan under ``limits`` (graph only: no numbers).

    Every table lays its variables out in the order they are summed out (then
    the reported nodes, those in fewest factors first), so each step sums over
    leading axes and broadcasts over long contiguous blocks.
    """
    g = _Graph(model)
    groups, linear = _partition(g, limits.max_group)
    sources = {("g", k): scope for k, (scope, _) in enumerate(groups)}
    sources.update({("l", f): tuple(g.tables[f].parents) for f in linear})
    sources.update({("e", n): (n,) for n in g.core})
    keep = tuple(g.reported)
    options = [[keep]] if g.size(keep) <= limits.max_final else []  # one program for the joint of the reported
    options += [[(r,) for r in keep]] if keep else []  # nodes, or one per node: whichever computes less
    best = None
    for layout in (False, True):  # second pass: the same steps, laid out in the order of the first's sums
        if layout:
            targets = best[2]
            summed = [v for step in best[1][0][0] for v in step.gone]
            scopes = list(sources.values()) + [(n,) + g.tables[n].parents for n in g.core]
            held = {v: sum(v in s for s in scopes) for v in g.order}
            rest = sorted((v for v in g.order if v not in summed), key=lambda v: (held[v], g.tie[v]))
            g.order = {v: i for i, v in enumerate(summed + rest)}
            options, best = [targets], None
        for targets in options:
            programs, k0, biggest, work = [], 0, 1, sum(g.size(s) for s, _ in groups)
            for target in targets:
                steps, final, split, big, cost = _eliminate(g, {i: g.ordered(s) for i, s in sources.items()}, target,
                                                            k0)
                programs.append((steps, final, split))
                k0, biggest, work = k0 + len(steps), max(biggest, big), work + cost
            if best is None or work < best[0]:
                best = (work, programs, targets, biggest)
    work, programs, targets, biggest = best
    biggest = max([biggest] + [g.size(s) for s, _ in groups])
    groups = tuple((g.ordered(scope), members) for scope, members in groups)
    return _Structure(g.order, g.card, tuple(g.reported), groups, linear, {i: g.ordered(s) for i, s in sources.items()},
                      tuple(programs), g.ordered(keep) if len(targets) == 1 and targets[0] == keep else None,
                      biggest, work)


# --- numbers --------------------------------------------------------------------------------------
def _times(a, sa, b, sb, order):
    """The product of two tables (layout ``(*cards, draws, cases)``) over the union of their scopes."""
    union = tuple(sorted(set(sa) | set(sb), key=order.get))
    card = {v: n for s, x in ((sa, a), (sb, b)) for v, n in zip(s, x.shape)}
    return np.multiply(_expand(a, sa, union, card), _expand(b, sb, union, card)), union


def _fold(items, order):
    """The product of constant tables ``[(scope, array)]`` (None when there are none)."""
    if not items:
        return None
    scope, array = items[0]
    for s, a in items[1:]:
        array, scope = _times(array, scope, a, s, order)
    return scope, array


def _sum(array, scope, drop):
    """Sum the variables ``drop`` out of a table."""
    if not drop:
        return array, scope
    return array.sum(axis=tuple(scope.index(v) for v in drop)), tuple(v for v in scope if v not in drop)


def _rescale(array, scope):
    """Divide by the largest entry of each draw and case: returns the table and the log of that entry."""
    if not scope:
        top = array
    else:
        top = array.max(axis=tuple(range(len(scope))))
    top = np.where(top > 0, top, 1.0)
    return array / top, np.log(top)


def _matrix(const, step, order, card, draws):
    """``M`` (draws, out configurations, input configurations): the step's constants summed over what it
    sums out, so that its result is ``M @ input``."""
    (cscope, carray), (b, o) = const, (step.scopes[0], step.scope)
    union = tuple(sorted(set(cscope) | set(b), key=order.get))
    grid = _grid([card[v] for v in union])
    table = np.broadcast_to(_expand(carray, cscope, union, card), tuple(card[v] for v in union) + carray.shape[-2:])
    matrix = np.zeros((draws, _size([card[v] for v in o]), _size([card[v] for v in b])))
    np.add.at(matrix, (slice(None), _flat(grid, [union.index(v) for v in o], [card[v] for v in o]),
                       _flat(grid, [union.index(v) for v in b], [card[v] for v in b])),
              table.reshape(len(grid), -1).T)
    return matrix


def _group(g, scope, members, safe):
    """A log group: ``(rows, maps, log W (configurations x draws, rows), safe)``."""
    grid = _grid([g.card[v] for v in scope])
    rows, maps, blocks = {}, {}, []
    for f in members:
        t = g.tables[f]
        rows[f] = sum(b.shape[1] for b in blocks)
        maps[f] = _flat(grid, [scope.index(p) for p in t.parents], [len(s) for s in t.parent_states])
        with np.errstate(divide="ignore"):
            logs = np.log(g.values[f][:, :, maps[f]])  # (draws, states, configurations)
        blocks.append(np.where(logs > -np.inf, logs, _LOG0))
    floor = sum(b[b > _DEAD].min(initial=0.0) for b in blocks)
    logw = np.concatenate(blocks, axis=1)
    wide = np.ascontiguousarray(logw.transpose(2, 0, 1)).reshape(len(grid) * g.draws, -1)
    return rows, maps, wide, floor > safe


def _leaf(g, f):
    """A linear leaf's table: (parent configurations x draws, states)."""
    scope, array = g.cpt(f)
    array = np.moveaxis(array, scope.index(f), -1)  # (*parent cards, draws, states)
    return np.ascontiguousarray(array).reshape(-1, g.card[f])


def _compile(model, limits, values=None, index=None, structure=None):
    """The evaluation plan of ``model`` under ``limits`` (a :class:`_Limits`).

    ``values`` maps nodes to tables with a leading draw axis, ``(draws, states,
    configurations)``, replacing the model's point values (other nodes keep
    theirs); ``index`` reuses the state lookups of an earlier plan of the same
    model, ``structure`` its structure (:func:`_structure`).
    """
    s = structure or _structure(model, limits)
    g = _Graph(model, values)
    g.order = s.order
    order, card, draws = s.order, s.card, g.draws
    groups = tuple(_group(g, scope, members, limits.safe) for scope, members in s.groups)
    leaves = {f: _leaf(g, f) for f in s.linear}
    cpts = {f: g.values[f] for _, members in s.groups for f in members}
    constants = {}
    for n in g.core:
        scope, array = g.cpt(n)
        constants[("c", n)] = (scope, array[..., None])
    numbers, scales = [], []
    for steps, _, _ in s.programs:
        made, log_scale = {}, np.zeros((draws, 1))
        for position, step in enumerate(steps):
            const = _fold([constants[i] if i in constants else made[i] for i in step.consts], order)
            if not step.inputs:  # constants only: done here, once
                array, scope = _sum(const[1], const[0], step.gone)
                if step.gone:
                    array, taken = _rescale(array, scope)
                    log_scale = log_scale + taken
                made[step.out] = (scope, array)
            elif step.matmul:
                made[position] = _matrix(const, step, order, card, draws)
            else:
                made[position] = const
        numbers.append(made)
        scales.append(log_scale)
    marginals = None
    if s.joint is not None:
        rest = tuple(v for v in s.joint if v != s.programs[0][2])  # the reported nodes but the split one
        grid = _grid([card[v] for v in rest])
        other = np.stack([grid[:, rest.index(r)] != 0 for r in g.reported if r in rest], axis=0)
        marginals = np.vstack([np.ones((1, len(grid))), other.reshape(-1, len(grid))])
    if index is None:
        index = {n: pd.Index(list(st), dtype=object) for n, st in model._states.items()}
    return _Plan(dict(model._states), index, s, groups, leaves, cpts, tuple(numbers), tuple(scales), marginals,
                 s.joint, max(1, limits.max_table // (s.biggest * draws)), draws)
