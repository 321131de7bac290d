"""Compiled, vectorised exact inference over many cases: :func:`infer_batch`.

A network is compiled once per :class:`~model.inference.Model` (the plan is
cached) into exact variable elimination whose every step works on a chunk of
cases at once: numpy arrays with a leading case axis, mostly matrix products.

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

The bundled network compiles to 27 tables of 192 x 256 (7 risk factors x 8
causes, one per pattern of the three age-dependent findings) and per-case
tables of at most 512 entries. Any network is exact; only the speed depends on
its structure. Chunks bound the memory whatever the number of rows.
"""

from __future__ import annotations

import difflib
import math
import os
import sys
import weakref
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import EvidenceError
from .inference import Model, _cached_model, _signature
from .priors import bundled_priors_folder

__all__ = ["infer_batch"]

#: Rows evaluated together (fewer when the network's tables are large).
CHUNK_SIZE = 4096
#: Largest number of floats in one per-chunk table; sets the rows per chunk.
MAX_TABLE = 2**23
#: Largest joint table of the reported nodes; above it, one table per reported node.
MAX_FINAL = 2**16
#: Largest constant table of the free-roots step (root configurations x the rest).
MAX_ROOT_BLOCK = 2**22
#: Impossible rows whose first impossible observation is looked for.
MAX_EXPLAINED = 10_000
_LOG0 = -1e200  # stands for log(0) inside the matrix products
_DEAD = -1e100  # a row whose best log-likelihood is below this has probability 0
_MERGE = 4  # a leaf group joins a group of a larger parent set at most this many times its size
_SAFE = -300.0  # a group whose least likely evidence is above e^-300 is exponentiated without a shift
_PLANS = weakref.WeakKeyDictionary()
_LETTERS = "abcdefghijklmnopqrstuvwxyABCDEFGHIJKLMNOPQRSTUVWXYZ"  # einsum axis names; "z" is the case axis


@dataclass(frozen=True)
class _Group:
    scope: tuple  # variables, in node order
    rows: dict  # member node -> its first row in logw
    maps: dict  # member node -> per configuration: its parent configuration (leaf) or its state (other)
    logw: np.ndarray  # (member states + a last row of zeros for missing cells, configurations)
    leaves: frozenset
    safe: bool  # exp(X @ logw) cannot underflow to 0 unless the row is impossible: no shift needed


@dataclass(frozen=True)
class _Plan:
    states: dict
    index: dict  # node -> pandas Index of its states, for fast lookups
    roots: tuple  # roots summed out by the root block
    tabulated: tuple  # leaves below those roots, whose evidence patterns are tabulated
    root_tables: np.ndarray | None  # (patterns, root configurations, configurations of the block's rest)
    groups: tuple
    constants: dict  # factor id -> array (no case axis)
    programs: tuple  # per output: (steps, final id, constants made for the steps)
    marginals: np.ndarray | None  # (joint configurations, 2 x reported): reference / other states
    rows_per_chunk: int
    cpts: dict  # leaf -> its (states, parent configurations) table


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

    def __init__(self, model):
        self.tables, self.reported = model._priors.node_tables, model._reported
        self.order = {n: i for i, n in enumerate(model._states)}
        self.card = {n: len(s) for n, s in model._states.items()}
        self.children = {n: [] for n in self.order}
        for node, table in self.tables.items():
            for parent in table.parents:
                self.children[parent].append(node)
        self.leaves = [n for n in self.order if not self.children[n] and n not in self.reported]
        self.core = [n for n in self.order if n not in self.leaves]
        self.cpt = {}  # node -> (scope in node order, array over that scope)
        for node, t in self.tables.items():
            names = (node,) + t.parents
            scope = self.ordered(names)
            array = t.values.reshape((self.card[node],) + tuple(len(s) for s in t.parent_states))
            self.cpt[node] = (scope, np.transpose(array, [names.index(v) for v in scope]))

    def ordered(self, names):
        return tuple(sorted(set(names), key=self.order.get))

    def size(self, names):
        return _size([self.card[v] for v in names])


def _root_block(g):
    """Roots summed out by one matrix product: ``(roots, leaves below, rest, CPTs used, tables)``.

    First every non-reported root, with one table per evidence pattern of
    their leaf children; else only roots without leaf children; else none.
    """
    for with_leaves in (True, False):
        roots = tuple(n for n in g.core if not g.tables[n].parents and n not in g.reported
                      and (with_leaves or all(c not in g.leaves for c in g.children[n])))
        below = tuple(f for f in g.leaves if set(g.tables[f].parents) & set(roots))
        block = set(roots).union(*(g.cpt[c][0] for r in roots for c in g.children[r] if c not in g.leaves),
                                 *(g.tables[f].parents for f in below))
        patterns = _size([g.card[f] + 1 for f in below])
        if roots and patterns <= 1024 and patterns * g.size(block) <= MAX_ROOT_BLOCK:
            break
    else:
        return (), (), (), [], None
    rest, axes = g.ordered(block - set(roots)), g.ordered(block)
    inside = [n for n in g.core if set(g.cpt[n][0]) <= block]
    letters = {v: chr(65 + i) if i < 26 else chr(71 + i) for i, v in enumerate(axes)}
    spec = ",".join("".join(letters[v] for v in g.cpt[n][0]) for n in inside)
    base = np.einsum(f"{spec}->{''.join(letters[v] for v in axes)}", *(g.cpt[n][1] for n in inside), optimize=True)
    tables = []
    for pattern in np.ndindex(*[g.card[f] + 1 for f in below]):  # per leaf: 0 not observed, k state k - 1
        table = base
        for f, code in zip(below, pattern):
            if code:
                scope, array = g.cpt[f]
                row = np.take(array, [code - 1], axis=scope.index(f))
                table = table * row.reshape([g.card[v] if v in scope else 1 for v in axes])
        tables.append(np.transpose(table, [axes.index(v) for v in roots + rest]).reshape(g.size(roots), -1))
    return roots, below, rest, inside, np.stack(tables)


def _leaf_groups(g, roots, below):
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
            rows[node] = sum(len(b) for b in blocks)
            if node in scopes:  # log P(leaf = s | parents) laid over the group's configurations
                t = g.tables[node]
                maps[node] = _flat(grid, [scope.index(p) for p in t.parents], [len(s) for s in t.parent_states])
                with np.errstate(divide="ignore"):
                    logs = np.log(t.values[:, maps[node]])
                blocks.append(np.where(logs > -np.inf, logs, _LOG0))
            else:  # log [node = s]
                maps[node] = grid[:, scope.index(node)]
                blocks.append(np.where(maps[node][None, :] == np.arange(g.card[node])[:, None], 0.0, _LOG0))
        logw = np.vstack(blocks + [np.zeros((1, len(grid)))])
        floor = sum(w[w > _DEAD].min(initial=0.0) for w in (logw[rows[f]: rows[f] + g.card[f]] for f in rows
                                                               if f in scopes))
        groups.append(_Group(scope, rows, maps, logw, frozenset(scopes) & set(rows), floor > _SAFE))
    return groups


def _compile(model):
    """The evaluation plan of ``model``: root block, leaf groups, elimination programs."""
    g = _Graph(model)
    roots, below, rest, inside, root_tables = _root_block(g)
    groups = _leaf_groups(g, roots, below)
    factors = ([rest] if roots else []) + [group.scope for group in groups]
    constants = {}
    for node in g.core:
        if node not in inside:
            constants[len(factors)] = g.cpt[node][1]
            factors.append(g.cpt[node][0])
    keep = g.ordered(g.reported)
    options = [[keep]] if g.size(keep) <= MAX_FINAL else []  # one program for the joint of the reported
    options += [[(r,) for r in keep]] if keep else []  # nodes, or one per node: whichever computes less
    best = None
    for targets in options:
        programs = [_eliminate(factors, constants, target, g) for target in targets]
        cost = sum(p[5] for p in programs) + (g.size(keep) * len(keep) if targets == [keep] else 0)
        if best is None or cost < best[0]:
            best = (cost, programs, targets)
    _, programs, targets = best
    largest = max([len(group.logw[0]) for group in groups] + [p[4] for p in programs]
                  + ([*root_tables.shape[1:]] if roots else []))
    marginals = None
    if targets == [keep]:
        order = programs[0][2]
        grid = _grid([g.card[v] for v in order])
        ref = np.stack([grid[:, order.index(r)] == 0 for r in g.reported], axis=1).astype(float).reshape(len(grid), -1)
        marginals = np.hstack([ref, 1.0 - ref])
    return _Plan(dict(model._states), {n: pd.Index(list(s), dtype=object) for n, s in model._states.items()},
                 roots, below, root_tables, tuple(groups), constants, tuple(p[:2] + p[3:4] for p in programs),
                 marginals,
                 max(1, MAX_TABLE // largest), {f: g.tables[f].values for f in g.leaves})


def _eliminate(scopes, constants, keep, g):
    """Greedy smallest-table-first elimination, down to the variables ``keep``.

    Returns ``(steps, final id, final variable order, new constants, largest
    per-case table, cost)``, the cost being the entries computed per case.
    Steps over constant factors only are done here, at once. A step with one
    per-case factor becomes a product with a constant matrix; in the others
    the constants are folded into one table over the step's variables, and
    neighbouring axes that every factor has or lacks alike are merged.
    """
    live, made = dict(enumerate(scopes)), {}
    next_id, steps, biggest, cost = len(scopes), [], 1, 0
    card, order, sizeof = g.card, g.order, g.size

    def folded(ids, union):
        """The product of the constant factors ``ids`` over ``union`` (flat, first variable slowest)."""
        grid = _grid([card[u] for u in union])
        table = np.ones(len(grid))
        for i in ids:
            where = _flat(grid, [union.index(u) for u in live[i]], [card[u] for u in live[i]])
            table = table * (constants[i] if i in constants else made[i]).reshape(-1)[where]
        return grid, table

    def step(ids, union, gone, final=False):
        nonlocal next_id, biggest, cost
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
            matrix = np.zeros((sizeof(live[b]), sizeof(out)))
            np.add.at(matrix, (_flat(grid, [union.index(u) for u in live[b]], [card[u] for u in live[b]]),
                               _flat(grid, [union.index(u) for u in out], [card[u] for u in out])), table)
            steps.append(("matmul", b, matrix, next_id))
            cost += matrix.size
        else:
            inputs = list(batched)
            if fixed:
                made[next_id] = table.reshape([card[u] for u in union])
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
            if 3 < len(merged) <= len(_LETTERS):
                subscripts = ",".join(("z" if i in batched else "") + "".join(c for c, d in zip(_LETTERS, shape)
                                                                              if d > 1) for i, shape, _ in shapes)
                subscripts += "->" + ("z" if batched else "") + "".join(
                    c for k, c in enumerate(_LETTERS[:len(merged)]) if 1 + k not in axes and sizes[k] > 1)
            spec = ("product", shapes, axes, next_id, subscripts, {})
            if batched:
                steps.append(spec)
                biggest = max(biggest, sizeof(union))
                cost += sizeof(union) * len(inputs)
            else:
                made[next_id] = _run_step(made, spec, 1).reshape([card[u] for u in out])
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
    return steps, next_id - 1, final_order, made, biggest, cost


def _run_step(env, spec, n):
    """One elimination step on a chunk of ``n`` cases."""
    if spec[0] == "matmul":
        _, i, matrix, _ = spec
        return env[i].reshape(n, -1) @ matrix
    _, inputs, axes, _, subscripts, paths = spec
    if subscripts:  # einsum, with its contraction order found once per chunk size
        arrays = [env[i].reshape(((n,) if batched else ()) + tuple(d for d in shape if d > 1))
                  for i, shape, batched in inputs]
        if n not in paths:
            paths[n] = np.einsum_path(subscripts, *arrays, optimize="greedy")[0]
        out = np.einsum(subscripts, *arrays, optimize=paths[n])
    else:
        arrays = sorted((env[i].reshape(((n if batched else 1),) + shape) for i, shape, batched in inputs),
                        key=lambda a: -a.size)
        out = arrays[0] if len(arrays) == 1 else arrays[0] * arrays[1]
        for a in arrays[2:]:
            if np.broadcast_shapes(out.shape, a.shape) == out.shape:
                np.multiply(out, a, out=out)
            else:
                out = out * a
        if out.shape[0] != n:
            out = np.broadcast_to(out, (n,) + out.shape[1:])
        if axes:
            out = out.sum(axis=axes)
    if axes:
        top = out.reshape(n, -1).max(axis=1)  # rescale each case: nothing underflows on long chains
        out = out / np.where(top > 0, top, 1.0).reshape((n,) + (1,) * (out.ndim - 1))
    return out


def _plan(model):
    plan = _PLANS.get(model)
    if plan is None:
        plan = _PLANS[model] = _compile(model)
    return plan


def _evaluate(plan, n, hard, soft):
    """Posteriors P(not reference | evidence), shape (n, reported), and whether each row is possible.

    When the root block tabulates leaf patterns (and no row has soft evidence
    on those leaves), rows are first sorted by pattern, so each pattern's rows
    are one contiguous matrix product.
    """
    if plan.root_tables is None or len(plan.root_tables) == 1 or any(f in soft for f in plan.tabulated):
        return _compute(plan, n, hard, soft, None)
    pattern = np.zeros(n, dtype=np.intp)
    for f in plan.tabulated:
        codes = hard.get(f)
        pattern = pattern * (len(plan.states[f]) + 1) + (0 if codes is None else codes + 1)
    perm = np.argsort(pattern, kind="stable")
    counts = np.bincount(pattern, minlength=len(plan.root_tables))
    inverse = np.empty(n, dtype=np.intp)
    inverse[perm] = np.arange(n)
    hard = {node: codes[perm] for node, codes in hard.items()}
    soft = {node: (inverse[at], lam) for node, (at, lam) in soft.items()}
    posterior, possible = _compute(plan, n, hard, soft, counts)
    return posterior[inverse], possible[inverse]


def _compute(plan, n, hard, soft, counts):
    env = dict(plan.constants)
    if plan.roots:
        env[0] = _root_factor(plan, n, hard, soft, counts)
    first = 1 if plan.roots else 0
    possible = np.ones(n, dtype=bool)
    for g, group in enumerate(plan.groups):
        observed = [(row, hard[node]) for node, row in group.rows.items() if node in hard]
        x = np.zeros((n, len(group.logw)))  # one-hot state indicators; missing cells hit the last, zero row
        if observed:
            codes = np.stack([c for _, c in observed], axis=1)
            columns = np.where(codes >= 0, codes + np.array([r for r, _ in observed]), len(group.logw) - 1)
            x[np.arange(n)[:, None], columns] = 1.0
        logs = x @ group.logw
        shift = not group.safe
        for node in group.rows:
            if node in soft:
                at, lam = soft[node]
                with np.errstate(divide="ignore"):
                    extra = np.log(lam @ plan.cpts[node]) if node in group.leaves else np.log(lam)
                logs[at] += extra[:, group.maps[node]]
                shift = True
        if shift:  # log-sum-exp: each row's largest entry becomes exp(0) = 1
            top = logs.max(axis=1)
            dead = top < _DEAD
            possible &= ~dead
            logs -= np.where(dead, 0.0, top)[:, None]
        env[first + g] = np.exp(logs, out=logs)
    ref, other = [], []
    for steps, final, made in plan.programs:
        local = {**env, **made}
        for spec in steps:
            local[spec[3]] = _run_step(local, spec, n)
        table = local[final].reshape(n, -1)
        if plan.marginals is not None:
            sums = table @ plan.marginals
            k = sums.shape[1] // 2
            ref, other = sums[:, :k], sums[:, k:]
        else:
            ref.append(table[:, 0])
            other.append(table[:, 1:].sum(axis=1))
    if plan.marginals is None:
        ref, other = np.stack(ref, axis=1), np.stack(other, axis=1)
    total = ref + other
    if total.shape[1]:
        possible &= total[:, 0] > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        posterior = other / total
    posterior[~possible] = np.nan
    return posterior, possible


def _root_factor(plan, n, hard, soft, counts):
    """Sum out the block's roots: Khatri-Rao products of their likelihoods times the constant tables,
    one table per evidence pattern of the tabulated leaves (``counts``: rows sorted by pattern)."""
    kr = np.ones((n, 1))
    for root in plan.roots[::-1]:  # the first root slowest; the long axis innermost
        lam = _likelihoods(plan, root, n, hard, soft)
        kr = (lam[:, :, None] * kr[:, None, :]).reshape(n, -1)
    tables = plan.root_tables
    if len(tables) == 1:
        return kr @ tables[0]
    if counts is not None:
        out, start = np.empty((n, tables.shape[2])), 0
        for p, count in enumerate(counts):
            if count:
                np.matmul(kr[start:start + count], tables[p], out=out[start:start + count])
                start += count
        return out
    weights = np.ones((n, 1))  # soft evidence mixes patterns: weight of each pattern per row
    for f in plan.tabulated:
        w = np.zeros((n, len(plan.states[f]) + 1))
        codes = hard.get(f)
        if codes is None:
            w[:, 0] = 1.0
        else:
            at = np.flatnonzero(codes >= 0)
            w[at, 1 + codes[at]] = 1.0
            w[codes < 0, 0] = 1.0
        if f in soft:
            at, lam = soft[f]
            w[at, 0], w[at, 1:] = 0.0, lam
        weights = (weights[:, :, None] * w[:, None, :]).reshape(n, -1)
    out = np.zeros((n, tables.shape[2]))
    for p in range(len(tables)):
        rows = np.flatnonzero(weights[:, p])
        if len(rows):
            out[rows] += weights[rows, p, None] * (kr[rows] @ tables[p])
    return out


def _likelihoods(plan, node, n, hard, soft):
    lam = np.ones((n, len(plan.states[node])))
    codes = hard.get(node)
    if codes is not None:
        at = np.flatnonzero(codes >= 0)
        lam[at] = 0.0
        lam[at, codes[at]] = 1.0
    if node in soft:
        at, values = soft[node]
        lam[at] = values
    return lam


# --- reading the cases ---------------------------------------------------------
def _model(priors):
    if isinstance(priors, Model):
        return priors
    if priors is None or isinstance(priors, (str, os.PathLike)):
        folder = bundled_priors_folder() if priors is None else os.fspath(priors)
        return _cached_model(_signature(folder))
    raise TypeError(f"priors must be None, a priors folder or a Model. Got {type(priors).__name__}.")


def _check_columns(model, cases):
    if not isinstance(cases, pd.DataFrame):
        raise EvidenceError(f"cases must be a pandas DataFrame, one row per case and one column per observed "
                            f"node. Got {type(cases).__name__}.")
    problems = []
    duplicated = sorted({str(c) for c in cases.columns[cases.columns.duplicated()]})
    if duplicated:
        problems.append(f"columns appear more than once: {', '.join(duplicated)}. Keep one column per node.")
    for column in cases.columns:
        if not (isinstance(column, str) and column in model._states):
            close = difflib.get_close_matches(str(column), list(model._states), n=3, cutoff=0.5)
            hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
            problems.append(f"unknown node {column!r} (a column of cases).{hint}")
    if problems:
        if any(p.startswith("unknown") for p in problems):
            problems.append("Model.findings, Model.causes and Model.risk_factors list the valid names; "
                            "nothing was computed.")
        raise EvidenceError(f"{len(problems)} problems with the columns of cases:\n" +
                            "\n".join(f"  - {p}" for p in problems))
    return list(cases.columns)


def _codes(plan, node, column):
    """State index of every cell: -1 for a missing cell, -2 for one that is not a state name."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        lookup = np.append(plan.index[node].get_indexer(column.cat.categories), -1)
        codes = lookup[column.cat.codes.to_numpy()]
    elif isinstance(column.dtype, pd.StringDtype):
        codes = plan.index[node].astype(column.dtype).get_indexer(column)
    else:
        try:
            codes = plan.index[node].get_indexer(column)
        except TypeError:  # unhashable cells (dicts, lists): look them up one by one
            index = plan.index[node]
            codes = np.array([index.get_loc(v) if isinstance(v, str) and v in index else -1 for v in column])
    unknown = np.flatnonzero(codes < 0)
    if len(unknown):
        codes[unknown[~pd.isna(column.to_numpy()[unknown])]] = -2
    return codes


def _parse(model, plan, chunk, start, n):
    """Hard codes and soft likelihoods of one chunk of ``n`` rows, its bad rows and their problems."""
    hard, soft, problems, bad = {}, {}, [], np.zeros(n, dtype=bool)
    for position, (node, column) in enumerate(chunk.items()):
        codes = _codes(plan, node, column)
        rows = []
        for i in np.flatnonzero(codes == -2):
            value, found = column.iat[i], []
            likelihood = _soft(model, node, value, found)
            if found:
                bad[i] = True
                problems.extend((start + i, position, column.index[i], node, value, p) for p in found)
            else:
                rows.append((i, likelihood))
        codes[codes == -2] = -1
        hard[node] = codes
        if rows:
            soft[node] = (np.array([i for i, _ in rows]), np.array([lik for _, lik in rows], dtype=float))
    return hard, soft, bad, problems


def _soft(model, node, value, problems):
    """Likelihoods of a soft-evidence cell; appends a message to ``problems`` when it is not valid."""
    states = model._states[node]
    if isinstance(value, (list, tuple, np.ndarray)) and not isinstance(value, str):
        items = list(np.asarray(value, dtype=object).ravel()) if isinstance(value, np.ndarray) else list(value)
        if len(items) != len(states):
            problems.append(f"soft evidence for {node!r} as a list must give one likelihood per state, in the "
                            f"order {', '.join(states)}. Got {len(items)} values.")
            return None
        value = dict(zip(states, items))
    if isinstance(value, Mapping):
        return model._check_likelihood(node, value, problems)
    try:
        model.check_evidence({node: value})
    except EvidenceError as err:
        problems.append(str(err))
    else:
        problems.append(f"{node!r}: cannot read {value!r} as evidence.")
    return None


def _explain(plan, model, columns, rows):
    """For impossible rows ``[(row, {node: code or likelihoods})]``: the first impossible observation."""
    prefixes = []
    for r, (_, observed) in enumerate(rows):
        names = [c for c in columns if c in observed]
        prefixes += [(r, names[: k + 1]) for k in range(len(names))]
    culprit = {}
    step = plan.rows_per_chunk
    for start in range(0, len(prefixes), step):
        part = prefixes[start: start + step]
        hard = {c: np.full(len(part), -1) for c in columns}
        soft_rows = {}
        for i, (r, names) in enumerate(part):
            for name in names:
                value = rows[r][1][name]
                if isinstance(value, tuple):
                    soft_rows.setdefault(name, []).append((i, value))
                else:
                    hard[name][i] = value
        soft = {c: (np.array([i for i, _ in v]), np.array([lik for _, lik in v])) for c, v in soft_rows.items()}
        _, possible = _evaluate(plan, len(part), hard, soft)
        for i in np.flatnonzero(~possible):
            r, names = part[i]
            culprit.setdefault(r, names)
    return culprit


def infer_batch(cases, *, priors=None, chunk_size=CHUNK_SIZE, progress=None):
    """Exact posteriors of every cause and complication for many cases at once.

    Gives the numbers of :meth:`Model.infer` row by row (to rounding, far below
    1e-9), on the bundled network some hundreds of times faster per case than
    one pgmpy query per case (``benchmarks/bench_batch.py``). The network is
    compiled once per model; rows are evaluated in chunks, so a million rows
    run in bounded memory.

    Parameters
    ----------
    cases : pandas.DataFrame
        One row per case, one column per observed node (names as in
        ``nodes.csv``). A cell holds a state name (hard evidence); a dict
        ``{state: likelihood}`` or a list/tuple of likelihoods aligned to the
        node's states (soft evidence); or NaN/None (not observed). An absent
        column is not observed. ``cases`` is never modified.
    priors : str, os.PathLike or Model, optional
        A priors folder or a loaded ``Model``; default: the bundled priors.
    chunk_size : int
        Rows evaluated together (capped lower for networks with large tables).
    progress : bool, optional
        Show a tqdm progress bar when there is more than one chunk. Default:
        only when standard error is a terminal.

    Returns
    -------
    pandas.DataFrame
        Same index as ``cases``; one column per cause then complication, each
        P(present | evidence) = 1 - P(reference state | evidence): the
        ``posterior`` column of :meth:`Model.infer`. ``.attrs`` holds:

        - ``problems``: a list of records ``{"row", "node", "value",
          "problem"}`` (``row`` is the index label), one per bad cell (unknown
          state, malformed likelihoods, a value that is neither) and one per
          impossible row (evidence of probability zero, naming its first
          impossible observation in column order); ``pd.DataFrame(problems)``
          tabulates them. **Bad rows are NaN**; every other row is computed.
          Empty when all rows are fine.
        - ``red_flags``: ``{row label: [emergency findings]}`` for the rows
          that observe an emergency finding in its emergency state (hard
          evidence, as :meth:`Model.infer`); rows without a flag are absent.
        - ``priors_digest``: the digest of the priors used.

        The attrs are plain lists and dicts, so results of several batches
        can be joined with ``pd.concat``.

    Raises
    ------
    EvidenceError
        Only for what concerns every row: ``cases`` is not a DataFrame, or
        columns are unknown node names (all listed at once, each with the
        closest valid names) or duplicated. Nothing is computed then.

    Examples
    --------
    >>> import pandas as pd
    >>> cases = pd.DataFrame({
    ...     "pain_burning": ["yes", None, "maybe"],
    ...     "avid_cyclist": ["yes", "no", "no"],
    ...     "sitting_effect": ["dominant", [0.1, 1.0, 1.0], None],
    ...     "saddle_anaesthesia": [None, "yes", None]})
    >>> result = infer_batch(cases)
    >>> result.round(3).loc[:, ["pfcn_neuropathy", "cauda_equina_syndrome"]]
    cause  pfcn_neuropathy  cauda_equina_syndrome
    0                0.407                  0.016
    1                0.019                  0.197
    2                  NaN                    NaN
    >>> print(result.attrs["problems"][0]["problem"])
    'pain_burning' has no state 'maybe'. Did you mean 'yes'? Its states are no, yes.
    >>> result.attrs["red_flags"]
    {1: ['saddle_anaesthesia']}
    """
    model = _model(priors)
    columns = _check_columns(model, cases)
    plan = _plan(model)
    n, reported = len(cases), list(model._reported)
    step = max(1, min(int(chunk_size), plan.rows_per_chunk))
    posterior = np.empty((n, len(reported)))
    problems, impossible = [], []
    flags = {node: np.zeros(n, dtype=bool) for node in model._emergency}
    series = {c: cases[c] for c in columns}
    show = n > step and (sys.stderr.isatty() if progress is None else bool(progress))
    bar = None
    if show:
        from tqdm.auto import tqdm

        bar = tqdm(total=n, unit="case", desc="infer_batch")
    try:
        for start in range(0, n, step):
            stop = min(n, start + step)
            chunk = {c: s.iloc[start:stop] for c, s in series.items()}
            hard, soft, bad, found = _parse(model, plan, chunk, start, stop - start)
            values, possible = _evaluate(plan, stop - start, hard, soft)
            values[bad] = np.nan
            posterior[start:stop] = values
            problems += found
            for i in np.flatnonzero(~possible & ~bad):
                observed = {c: int(hard[c][i]) for c in columns if hard[c][i] >= 0}
                for c, (at, lam) in soft.items():
                    hit = np.flatnonzero(at == i)
                    if len(hit):
                        observed[c] = tuple(lam[hit[0]])
                impossible.append((start + i, observed))
            for node, state in model._emergency.items():
                if node in hard:
                    flags[node][start:stop] = hard[node] == model._states[node].index(state)
            if bar is not None:
                bar.update(stop - start)
    finally:
        if bar is not None:
            bar.close()
    problems += _impossible_problems(plan, model, columns, series, cases.index, impossible)
    problems.sort(key=lambda p: (p[0], p[1]))
    result = pd.DataFrame(posterior, index=cases.index, columns=pd.Index(reported, name="cause"))
    emergency = list(model._emergency)
    flags = np.column_stack([flags[node] for node in emergency]) if emergency else np.zeros((n, 0), dtype=bool)
    result.attrs = {
        "problems": [dict(zip(("row", "node", "value", "problem"), p[2:])) for p in problems],
        "red_flags": {cases.index[i]: [emergency[j] for j in np.flatnonzero(flags[i])]
                      for i in np.flatnonzero(flags.any(axis=1))},
        "priors_digest": model.priors_digest,
    }
    return result


def _impossible_problems(plan, model, columns, series, labels, impossible):
    """One problem line per impossible row, naming its first impossible observation (column order)."""
    culprits = _explain(plan, model, columns, impossible[:MAX_EXPLAINED])
    problems = []
    for r, (i, _) in enumerate(impossible):
        names = culprits.get(r)
        if names is None:
            problems.append((i, len(columns), labels[i], "", None,
                             "the evidence of this row has probability zero under the model."))
            continue
        node, earlier = names[-1], names[:-1]
        value = series[node].iat[i]
        given = ", ".join(f"{c}={series[c].iat[i]!r}" for c in earlier) or "nothing else"
        text = (f"the evidence has probability zero under the model: {node}={value!r} is impossible given "
                f"{given}. Check these observations or the priors that forbid them.")
        problems.append((i, columns.index(node), labels[i], node, value, text))
    return problems
