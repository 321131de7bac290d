"""The numbers of a batch-engine plan: the tables of one network's structure, for one or many parameter sets.

In plain terms: :mod:`model.engine.plan` decides, from the graph alone, in
which order the batch engine multiplies and sums the network's tables; this
module fills that recipe with numbers: the point values of the priors, or ``D``
joint draws of them at once (credible intervals, sensitivity; see
:mod:`model.engine.draws`), every number then carrying a draw axis. It builds
the log groups and linear leaf tables, folds the constant factors of each
elimination step into one table (or one matrix, for steps whose per-case
factors multiply into a small table), and does the steps over constants only
at once. Pure: takes a model and a structure, returns arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .plan import _DEAD, _LOG0, _expand, _flat, _Graph, _grid, _size, _Structure, _structure


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
    (cscope, carray), o = const, step.scope
    b = tuple(sorted(set().union(*step.scopes), key=order.get))
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
    """A linear leaf's table: (parent configurations x draws, states + 1); the last column, all ones, is what a
    case that does not observe the leaf multiplies by (exactly 1, as pgmpy drops unobserved leaves)."""
    scope, array = g.cpt(f)
    array = np.moveaxis(array, scope.index(f), -1)  # (*parent cards, draws, states)
    return np.concatenate([array, np.ones(array.shape[:-1] + (1,))], axis=-1).reshape(-1, g.card[f] + 1)


def _compile(model, limits, values=None, index=None, structure=None):
    """The evaluation plan of ``model`` under ``limits`` (a :class:`_Limits`).

    ``values`` maps nodes to tables with a leading draw axis, ``(draws, states,
    configurations)``, replacing the model's point values (other nodes keep
    theirs); ``index`` reuses the state lookups of an earlier plan of the same
    model, ``structure`` its structure (:func:`model.engine.plan._structure`).
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
