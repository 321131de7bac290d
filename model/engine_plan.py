"""The compiled plan of the batch engine: how one network is turned, once, into fast array steps.

In plain terms: before scoring many patients, the network's probability tables
are rearranged once into a recipe (the *plan*) that later scores a whole block
of patients with a few large matrix products instead of one query per patient.
The numbers are exactly those of :meth:`~model.inference.Model.infer`; only the
order of the arithmetic changes. :mod:`model.engine` compiles and caches one
plan per model and reads the cases; :mod:`model.engine_chunk` runs a plan on a
chunk of cases. This module builds the plan:

1. **Root block.** Roots that are not reported (the risk factors) are summed
   out by one matrix product: each case's Khatri-Rao product of their
   likelihoods times a constant table, the product of every CPT among the
   roots and their children. Leaves below those roots (findings with a
   risk-factor parent) get one such table per pattern of their evidence;
   rows are sorted by pattern, so each pattern is one contiguous product.
2. **Leaf groups.** The other leaves (childless, not reported) are grouped by
   parent set. A group's log-likelihood for every case is one product
   ``X @ log W``: ``X`` holds 0/1 state indicators, ``log W`` the logarithms
   of the CPT rows over the group's parent configurations. Hard evidence on
   inner nodes rides along; log 0 is stood for by ``_LOG0`` (-1e200), so
   ``0 * -inf`` never makes a NaN and zero stays exactly zero. Soft evidence
   is added row by row; rows are shifted by their maximum before
   exponentiating when underflow is possible (log-sum-exp).
3. **The rest** is eliminated greedily, smallest table first, down to the
   joint table of the reported nodes (or one table per reported node, when
   that computes less); one more product gives the marginals. A step with a
   single per-case factor is a product with a constant matrix; the others
   multiply with numpy broadcasting or ``einsum`` (axes merged first).

**Draws.** Every number of a plan carries a leading *draw* axis: one set of
node tables per draw of the parameters (:mod:`model.analysis.intervals`), one
draw (size 1) for the point values. The structure (root block, groups,
elimination order) depends only on the graph, so a plan compiled for ``D``
draws evaluates ``D`` parameter sets on every case at once.

The bundled network compiles to 27 tables of 192 x 256 (7 risk factors x 8
causes, one per pattern of the three age-dependent findings) and per-case
tables of at most 512 entries. Any network is exact; only the speed depends on
its structure. The size limits come from the caller (:class:`_Limits`), so they
stay tunable in :mod:`model.engine`. Pure: takes a model, returns arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

_LOG0 = -1e200  # stands for log(0) inside the matrix products
_DEAD = -1e100  # a row whose best log-likelihood is below this has probability 0
_MERGE = 4  # a leaf group joins a group of a larger parent set at most this many times its size
_LETTERS = "abcdefghijklmnopqrstuvwxyABCDEFGHIJKLMNOPQRSTUVWXYZ"  # einsum axis names; "z" is the case axis


@dataclass(frozen=True)
class _Limits:
    """Size limits of one compilation (the values are :mod:`model.engine`'s constants)."""

    max_table: int  # largest number of floats in one per-chunk table; sets the rows per chunk
    max_final: int  # largest joint table of the reported nodes; above it, one table per reported node
    max_root_block: int  # largest constant table of the free-roots step
    safe: float  # a group whose least likely evidence is above e^safe is exponentiated without a shift


@dataclass(frozen=True)
class _Group:
    scope: tuple  # variables, in node order
    rows: dict  # member node -> its first row in logw
    maps: dict  # member node -> per configuration: its parent configuration (leaf) or its state (other)
    logw: np.ndarray  # (member states + a last row of zeros for missing cells, draws x configurations)
    leaves: frozenset
    safe: bool  # exp(X @ logw) cannot underflow to 0 unless the row is impossible: no shift needed


@dataclass(frozen=True)
class _Plan:
    states: dict
    index: dict  # node -> pandas Index of its states, for fast lookups
    roots: tuple  # roots summed out by the root block
    tabulated: tuple  # leaves below those roots, whose evidence patterns are tabulated
    root_tables: np.ndarray | None  # (patterns, root configurations, draws x configurations of the block's rest)
    pattern_rows: np.ndarray | None  # evidence pattern -> its table in root_tables (-1: not tabulated)
    groups: tuple
    constants: dict  # factor id -> array (draws, ...) (no case axis)
    programs: tuple  # per output: (steps, final id, constants made for the steps, their log scale per draw)
    marginals: np.ndarray | None  # (joint configurations, 2 x reported): reference / other states
    joint_scope: tuple | None  # the reported nodes in the order of the joint table (when there is one)
    rows_per_chunk: int
    cpts: dict  # leaf -> its (draws, states, parent configurations) table
    draws: int  # the size of the leading draw axis of every number
    work: int  # entries computed per case and draw (matrix products and elimination steps), roughly


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
        self.order = {n: i for i, n in enumerate(model._states)}
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
        self.cpt = {}  # node -> (scope in node order, array (draws, ...) over that scope)
        for node, t in self.tables.items():
            names = (node,) + t.parents
            scope = self.ordered(names)
            array = self.values[node].reshape((self.draws, self.card[node]) + tuple(len(s) for s in t.parent_states))
            self.cpt[node] = (scope, np.transpose(array, [0] + [1 + names.index(v) for v in scope]))

    def ordered(self, names):
        return tuple(sorted(set(names), key=self.order.get))

    def size(self, names):
        return _size([self.card[v] for v in names])


def _root_block(g, max_root_block, wanted=None, tabulate=True):
    """Roots summed out by one matrix product: ``(roots, leaves below, rest, CPTs used, tables, pattern rows)``.

    First every non-reported root, with one table per evidence pattern of
    their leaf children; else only roots without leaf children; else none.
    ``wanted`` (evidence pattern numbers, see :func:`model.engine_chunk._patterns`)
    limits the tables to those patterns; default: all. ``tabulate=False`` leaves
    out the roots with leaf children (no pattern tables).
    """
    for with_leaves in ((True, False) if tabulate else (False,)):
        roots = tuple(n for n in g.core if not g.tables[n].parents and n not in g.reported
                      and (with_leaves or all(c not in g.leaves for c in g.children[n])))
        below = tuple(f for f in g.leaves if set(g.tables[f].parents) & set(roots))
        block = set(roots).union(*(g.cpt[c][0] for r in roots for c in g.children[r] if c not in g.leaves),
                                 *(g.tables[f].parents for f in below))
        patterns = _size([g.card[f] + 1 for f in below])
        if roots and patterns <= 1024 and patterns * g.size(block) <= max_root_block:
            break
    else:
        return (), (), (), [], None, None
    rest, axes = g.ordered(block - set(roots)), roots + g.ordered(block - set(roots))
    inside = [n for n in g.core if set(g.cpt[n][0]) <= block]
    base, k = np.ones((g.draws,)), 0  # the product of the CPTs inside the block, grown one axis at a time
    for node in sorted(inside, key=lambda n: max(axes.index(v) for v in g.cpt[n][0])):
        scope, array = g.cpt[node]
        top = max(axes.index(v) for v in scope) + 1
        base, k = base.reshape(base.shape + (1,) * (top - k)), max(k, top)
        array = np.transpose(array, [0] + [1 + scope.index(v) for v in axes[:k] if v in scope])
        base = base * array.reshape((g.draws,) + tuple(g.card[v] if v in scope else 1 for v in axes[:k]))
    base = np.broadcast_to(base.reshape(base.shape + (1,) * (len(axes) - k)),
                           (g.draws,) + tuple(g.card[v] for v in axes))
    rows = {}  # (leaf, code) -> its CPT row laid over the block's axes (roots first)
    for f in below:
        scope, array = g.cpt[f]
        here = [v for v in axes if v in scope]
        for code in range(1, g.card[f] + 1):
            row = np.take(array, code - 1, axis=1 + scope.index(f))
            row = np.transpose(row, [0] + [1 + [v for v in scope if v != f].index(v) for v in here])
            rows[f, code] = row.reshape((g.draws,) + tuple(g.card[v] if v in scope else 1 for v in axes))
    every = list(np.ndindex(*[g.card[f] + 1 for f in below]))  # per leaf: 0 not observed, k state k - 1
    chosen = range(len(every)) if wanted is None else sorted(set(wanted))
    pattern_rows = np.full(len(every), -1)
    pattern_rows[list(chosen)] = np.arange(len(chosen))
    patterns = [every[c] for c in chosen]
    tables = np.empty((g.draws, len(patterns)) + base.shape[1:])
    for p, pattern in enumerate(patterns):
        used = [rows[f, code] for f, code in zip(below, pattern) if code]
        if not used:
            tables[:, p] = base
            continue
        np.multiply(base, used[0], out=tables[:, p])
        for row in used[1:]:
            tables[:, p] *= row
    tables = tables.reshape(g.draws, len(patterns), g.size(roots), -1)  # cases x one matrix per pattern:
    tables = np.ascontiguousarray(tables.transpose(1, 2, 0, 3)) if g.draws > 1 else tables[0]  # draws inside
    return roots, below, rest, inside, tables.reshape(len(patterns), g.size(roots), -1), pattern_rows


def _leaf_groups(g, roots, below, safe):
    """Groups of leaves by parent set (a smaller set joins a superset at most 4x its size); the evidence
    on every other node not summed by the root block rides in the smallest group holding it."""
    scopes = {f: g.ordered(g.tables[f].parents) for f in g.leaves if f not in below}
    kept = []
    for scope in sorted(set(scopes.values()), key=lambda s: (-g.size(s), s)):
        best = min((k for k in kept if set(scope) <= set(k)), key=g.size, default=None)
        if best is None or g.size(best) > _MERGE * g.size(scope):
            kept.append(scope)
    members = {k: [] for k in kept}
    for f, scope in scopes.items():
        members[min((k for k in kept if set(scope) <= set(k)), key=g.size)].append(f)
    for v in (n for n in g.core if n not in roots):
        host = min((k for k in kept if v in k), key=g.size, default=None)
        if host is None:
            host = (v,)
            kept.append(host)
            members[host] = []
        members[host].append(v)
    groups = []
    for scope in kept:
        grid = _grid([g.card[v] for v in scope])
        rows, maps, blocks = {}, {}, []
        for node in sorted(members[scope], key=g.order.get):
            rows[node] = sum(b.shape[1] for b in blocks)
            if node in scopes:  # log P(leaf = s | parents) laid over the group's configurations
                t = g.tables[node]
                maps[node] = _flat(grid, [scope.index(p) for p in t.parents], [len(s) for s in t.parent_states])
                with np.errstate(divide="ignore"):
                    logs = np.log(g.values[node][:, :, maps[node]])
                blocks.append(np.where(logs > -np.inf, logs, _LOG0))
            else:  # log [node = s]
                maps[node] = grid[:, scope.index(node)]
                indicator = np.where(maps[node][None, :] == np.arange(g.card[node])[:, None], 0.0, _LOG0)
                blocks.append(np.broadcast_to(indicator, (g.draws,) + indicator.shape))
        logw = np.concatenate(blocks + [np.zeros((g.draws, 1, len(grid)))], axis=1)
        floor = sum(w[w > _DEAD].min(initial=0.0) for w in (logw[:, rows[f]: rows[f] + g.card[f]] for f in rows
                                                               if f in scopes))
        wide = np.ascontiguousarray(logw.transpose(1, 0, 2)).reshape(logw.shape[1], -1)  # one matrix product
        groups.append(_Group(scope, rows, maps, wide, frozenset(scopes) & set(rows), floor > safe))
    return groups


def _compile(model, limits, values=None, index=None, patterns=None, tabulate=True):
    """The evaluation plan of ``model`` under ``limits`` (a :class:`_Limits`): root block, leaf groups,
    elimination programs.

    ``values`` maps nodes to tables with a leading draw axis, ``(draws, states,
    configurations)``, replacing the model's point values (other nodes keep
    theirs); ``index`` reuses the state lookups of an earlier plan of the same model;
    ``patterns`` limits the root block's tables to the evidence patterns of the cases at hand;
    ``tabulate=False`` makes no pattern tables (cheaper numbers, dearer cases: for many draws).
    """
    g = _Graph(model, values)
    roots, below, rest, inside, root_tables, pattern_rows = _root_block(g, limits.max_root_block, patterns, tabulate)
    groups = _leaf_groups(g, roots, below, limits.safe)
    factors = ([rest] if roots else []) + [group.scope for group in groups]
    constants = {}
    for node in g.core:
        if node not in inside:
            constants[len(factors)] = g.cpt[node][1]
            factors.append(g.cpt[node][0])
    keep = g.ordered(g.reported)
    options = [[keep]] if g.size(keep) <= limits.max_final else []  # one program for the joint of the reported
    options += [[(r,) for r in keep]] if keep else []  # nodes, or one per node: whichever computes less
    best = None
    for targets in options:
        programs = [_eliminate(factors, constants, target, g) for target in targets]
        cost = sum(p[5] for p in programs) + (g.size(keep) * len(keep) if targets == [keep] else 0)
        if best is None or cost < best[0]:
            best = (cost, programs, targets)
    _, programs, targets = best
    largest = max([group.logw.shape[1] // g.draws for group in groups] + [p[4] for p in programs]
                  + ([root_tables.shape[1], root_tables.shape[2] // g.draws] if roots else []))
    marginals = None
    if targets == [keep]:
        order = programs[0][2]
        grid = _grid([g.card[v] for v in order])
        ref = np.stack([grid[:, order.index(r)] == 0 for r in g.reported], axis=1).astype(float).reshape(len(grid), -1)
        marginals = np.hstack([ref, 1.0 - ref])
    work = (sum(p[5] for p in programs) + sum(group.logw.size // g.draws for group in groups)
            + (root_tables[0].size // g.draws if roots else 0))
    if index is None:
        index = {n: pd.Index(list(s), dtype=object) for n, s in model._states.items()}
    return _Plan(dict(model._states), index, roots, below, root_tables, pattern_rows, tuple(groups), constants,
                 tuple(p[:2] + p[3:4] + p[6:7] for p in programs), marginals,
                 tuple(programs[0][2]) if marginals is not None else None,
                 max(1, limits.max_table // (largest * g.draws)), {f: g.values[f] for f in g.leaves}, g.draws, work)


def _eliminate(scopes, constants, keep, g):
    """Greedy smallest-table-first elimination, down to the variables ``keep``.

    Returns ``(steps, final id, final variable order, new constants, largest
    per-case table, cost, log scale)``, the cost being the entries computed
    per case, the log scale what rescaling the constants took out, per draw.
    Steps over constant factors only are done here, at once. A step with one
    per-case factor becomes a product with a constant matrix; in the others
    the constants are folded into one table over the step's variables, and
    neighbouring axes that every factor has or lacks alike are merged.
    """
    live, made = dict(enumerate(scopes)), {}
    next_id, steps, biggest, cost = len(scopes), [], 1, 0
    log_scale = np.zeros(g.draws)  # what the constant steps' rescaling took out of the result, per draw
    card, order, sizeof = g.card, g.order, g.size

    def folded(ids, union):
        """The product of the constant factors ``ids`` over ``union`` (flat, first variable slowest)."""
        grid = _grid([card[u] for u in union])
        table = np.ones((g.draws, len(grid)))
        for i in ids:
            where = _flat(grid, [union.index(u) for u in live[i]], [card[u] for u in live[i]])
            table = table * (constants[i] if i in constants else made[i]).reshape(g.draws, -1)[:, where]
        return grid, table

    def step(ids, union, gone, final=False):
        nonlocal next_id, biggest, cost, log_scale
        batched = [i for i in ids if i not in constants and i not in made]
        fixed, inputs = [i for i in ids if i not in batched], []
        if final:  # the variables of fewer per-case factors first: long inner axes for numpy
            ranked = tuple(sorted(union, key=lambda u: (-sum(u not in live[i] for i in batched), order[u])))
            if all([u for u in ranked if u in live[i]] == list(live[i]) for i in batched):
                union = ranked
        out = tuple(u for u in union if u not in gone)
        grid, table = folded(fixed, union)
        if len(batched) == 1 and sizeof(live[batched[0]]) * sizeof(out) <= 8 * sizeof(union):
            b = batched[0]  # out = B @ M, M[b, o] = sum over the gone variables of the constants
            matrix = np.zeros((g.draws, sizeof(live[b]), sizeof(out)))
            np.add.at(matrix, (slice(None),
                               _flat(grid, [union.index(u) for u in live[b]], [card[u] for u in live[b]]),
                               _flat(grid, [union.index(u) for u in out], [card[u] for u in out])), table)
            steps.append(("matmul", b, matrix, next_id))
            cost += matrix[0].size
        else:
            inputs = list(batched)
            if fixed:
                made[next_id] = table.reshape([g.draws] + [card[u] for u in union])
                live[next_id] = union
                inputs.append(next_id)
                next_id += 1
            merged = []
            for u in union:
                pattern = (u in gone,) + tuple(u in live[i] for i in inputs)
                if merged and merged[-1][0] == pattern:
                    merged[-1][1].append(u)
                else:
                    merged.append((pattern, [u]))
            sizes = [sizeof(us) for _, us in merged]
            shapes = tuple((i, tuple(size if pattern[1 + j] else 1 for (pattern, _), size in zip(merged, sizes)),
                            i in batched) for j, i in enumerate(inputs))
            axes = tuple(1 + k for k, (pattern, _) in enumerate(merged) if pattern[0])
            subscripts = None  # many short axes: numpy's einsum; few long ones: broadcasting
            if 3 < len(merged) <= len(_LETTERS):  # "..." is the draw axis, "z" the case axis
                subscripts = ",".join("..." + ("z" if i in batched else "") + "".join(
                    c for c, d in zip(_LETTERS, shape) if d > 1) for i, shape, _ in shapes)
                subscripts += "->..." + ("z" if batched else "") + "".join(
                    c for k, c in enumerate(_LETTERS[:len(merged)]) if 1 + k not in axes and sizes[k] > 1)
            spec = ("product", shapes, axes, next_id, subscripts, {})
            if batched:
                steps.append(spec)
                biggest = max(biggest, sizeof(union))
                cost += sizeof(union) * len(inputs)
            else:
                table, scale = _run_step(made, spec, 1)
                made[next_id] = table.reshape([g.draws] + [card[u] for u in out])
                if scale is not None:
                    log_scale = log_scale + scale[:, 0]
        for i in set(ids) | set(inputs):
            live.pop(i, None)
        live[next_id] = out
        next_id += 1
        return out

    to_go = {v for s in live.values() for v in s} - set(keep)
    while to_go:
        candidates = []
        for v in sorted(to_go, key=order.get):
            ids = [i for i, s in live.items() if v in s]
            union = tuple(sorted(set().union(*(live[i] for i in ids)), key=order.get))
            candidates.append((sizeof(union), order[v], ids, union))
        _, _, ids, union = min(candidates)
        others = set().union(*(s for i, s in live.items() if i not in ids))
        gone = {u for u in union if u in to_go and u not in others}  # every variable only these factors hold
        step(ids, union, gone)
        to_go -= gone
    final_order = step(list(live), tuple(sorted(keep, key=order.get)), set(), final=True)
    return steps, next_id - 1, final_order, made, biggest, cost, log_scale


def _run_step(env, spec, n):
    """One elimination step on a chunk of ``n`` cases; every array has a leading draw axis.

    Returns the result and, when the step summed variables out, the log of the
    factor each case was divided by (draws, n) so nothing underflows; else None.
    """
    if spec[0] == "matmul":
        _, i, matrix, _ = spec
        return np.matmul(env[i].reshape(env[i].shape[0], n, -1), matrix), None
    _, inputs, axes, _, subscripts, paths = spec
    if subscripts:  # einsum, with its contraction order found once per chunk size
        arrays = [env[i].reshape((env[i].shape[0],) + ((n,) if batched else ()) + tuple(d for d in shape if d > 1))
                  for i, shape, batched in inputs]
        key = (n,) + tuple(a.shape[0] for a in arrays)
        if key not in paths:
            paths[key] = np.einsum_path(subscripts, *arrays, optimize="greedy")[0]
        out = np.einsum(subscripts, *arrays, optimize=paths[key])
    else:
        arrays = sorted((env[i].reshape((env[i].shape[0], n if batched else 1) + shape)
                         for i, shape, batched in inputs), key=lambda a: -a.size)
        out = arrays[0] if len(arrays) == 1 else arrays[0] * arrays[1]
        for a in arrays[2:]:
            if np.broadcast_shapes(out.shape, a.shape) == out.shape:
                np.multiply(out, a, out=out)
            else:
                out = out * a
        if out.shape[1] != n:
            out = np.broadcast_to(out, out.shape[:1] + (n,) + out.shape[2:])
        if axes:
            out = out.sum(axis=tuple(a + 1 for a in axes))
    if not axes:
        return out, None
    top = out.reshape(out.shape[0], n, -1).max(axis=2)  # rescale each case: nothing underflows on long chains
    top = np.where(top > 0, top, 1.0)
    return out / top.reshape(top.shape + (1,) * (out.ndim - 2)), np.log(top)
