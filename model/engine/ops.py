"""The array operations of the batch engine's elimination steps, on tables laid out ``(*cards, draws, cases)``.

In plain terms: the small set of array moves that :mod:`model.engine.chunk`
repeats for every step of a plan (:mod:`model.engine.plan`): multiply two
tables over the union of their variables, sum variables out, multiply a table
by a constant matrix. Large tables reuse the memory of tables no longer needed
(:class:`Pool`): fresh memory costs the operating system a page fault per
page, which on the bundled network cost as much as the arithmetic. Pure apart
from that reuse: takes arrays, returns arrays.
"""

from __future__ import annotations

import math

import numpy as np

from .plan import _expand

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"  # einsum axis names
_POOLED = 2**15  # tables of at least this many floats are recycled
_LONG_SUM = 64  # sum_axes: a summed axis followed by this many configurations or more is added row by row
_SUMMING = {}  # (states, after) -> the matrix of _summing
#: Largest matrix product (multiply-adds) done in one BLAS call; larger ones are cut into a stack of such
#: products. OpenBLAS runs small products on one thread: on a machine whose cores are busy, its threads
#: waiting for each other made a product with a long inner dimension 100 times slower (measured).
_GEMM = 2**18


def _root(array):
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


class Pool:
    """Recycled memory for large tables: ``empty(shape)`` reuses what ``give`` returned, size for size."""

    def __init__(self):
        self.free = {}

    def empty(self, shape):
        size = math.prod(shape)
        if size < _POOLED:
            return np.empty(shape)
        stack = self.free.get(size)
        return (stack.pop() if stack else np.empty(size)).reshape(shape)

    def give(self, *arrays):
        """Hand back tables nothing refers to any more (their memory is reused)."""
        for array in arrays:
            if array is None:
                continue
            root = _root(array)
            if root.size >= _POOLED and root.flags.c_contiguous and root.flags.writeable:
                self.free.setdefault(root.size, []).append(root.reshape(-1))


def _gemm(a, b, out=None):
    """``a @ b`` for 2-D ``a`` (m, k) and ``b`` (k, n), as a stack of products of at most :data:`_GEMM`
    multiply-adds."""
    (m, k), n = a.shape, b.shape[1]
    if out is None:
        out = np.empty((m, n))
    elif not out.flags.c_contiguous:
        out[...] = _gemm(a, b)
        return out
    if m * k * n <= _GEMM:
        return np.matmul(a, b, out=out)
    if m >= k and k * n > _GEMM // 16:  # long rows: blocks of columns too, through a contiguous buffer
        width = max(1, min(n, math.isqrt(_GEMM // k)))
        buffer = np.empty((m, width))
        for start in range(0, n, width):
            stop = min(n, start + width)
            out[:, start:stop] = _gemm(a, b[:, start:stop], buffer[:, : stop - start] if stop - start < width
                                       else buffer)
        return out
    if m >= k:  # cut the rows
        rows = max(1, _GEMM // (k * n))
        full = m - m % rows
        if full:
            np.matmul(a[:full].reshape(-1, rows, k), b, out=out[:full].reshape(-1, rows, n))
        if full < m:
            np.matmul(a[full:], b, out=out[full:])
        return out
    width = max(1, _GEMM // (m * n))  # cut the inner dimension, then add the pieces up
    full = k - k % width
    parts = np.matmul(a[:, :full].reshape(m, -1, width).transpose(1, 0, 2), b[:full].reshape(-1, width, n))
    np.sum(parts, axis=0, out=out)
    if full < k:
        out += a[:, full:] @ b[full:]
    return out


def _tail(*arrays):
    return np.broadcast_shapes(*(a.shape[-2:] for a in arrays))


def sum_axes(array, axes, keepdims=False):
    """``array.sum(axis=axes)``, one axis at a time, the first first; ``array`` itself (no copy) when ``axes``
    is empty.

    numpy's reduction over several scattered axes at once iterates slowly, and so does a sum over one axis
    followed by few configurations: each axis is summed as a ``(before, states, after)`` block, by adding
    contiguous rows when ``after`` is long (the table shrinks as it goes), else by one matrix product with a
    0/1 matrix (``after`` short). On a table of 16 axes of 2 states this took 50-90 µs for any set of axes
    where numpy's own sum took up to 350 µs. One or two axes followed by a long block go to numpy's sum
    directly, which is as fast there.

    >>> import numpy as np
    >>> table = np.arange(24.0).reshape(2, 3, 4)
    >>> bool(np.array_equal(sum_axes(table, (0, 2)), table.sum(axis=(0, 2))))
    True
    """
    axes = sorted(a % array.ndim for a in axes)
    if not axes:
        return array
    shape = list(array.shape)
    if len(axes) <= 2 and math.prod(shape[axes[-1] + 1:]) >= _LONG_SUM:
        return array.sum(axis=tuple(axes), keepdims=keepdims)
    out = array
    for axis in axes:
        before, states, after = math.prod(shape[:axis]), shape[axis], math.prod(shape[axis + 1:])
        if after >= _LONG_SUM or before == 1:
            out = out.reshape(before, states, after).sum(axis=1)
        elif after == 1:
            out = out.reshape(before, states) @ np.ones(states)
        else:
            out = out.reshape(before, states * after) @ _summing(states, after)
        shape[axis] = 1
    return out.reshape(shape if keepdims else [n for k, n in enumerate(array.shape) if k not in axes])


def _summing(states, after):
    """The 0/1 matrix (states * after, after) that adds up the ``states`` blocks of ``after`` columns (cached)."""
    key = (states, after)
    if key not in _SUMMING:
        _SUMMING[key] = np.tile(np.eye(after), (states, 1))
    return _SUMMING[key]


def _sum(array, scope, drop, pool):
    """Sum the variables ``drop`` out of a table: ``(array, scope)``."""
    if not drop:
        return array, scope
    axes = tuple(scope.index(v) for v in drop)
    keep = tuple(v for v in scope if v not in drop)
    out = pool.empty(tuple(n for k, n in enumerate(array.shape) if k not in axes))
    return np.add.reduce(array, axis=axes, out=out), keep


def _product(a, own_a, b, own_b, s, pool, drop=()):
    """``a * b`` summed over ``drop``: ``(scope, array)``. In place in an owned factor holding every variable
    of the other; else one ``einsum`` (with a sum) or one broadcast product."""
    (sa, x), (sb, y) = a, b
    for (s1, x1, own), (s2, x2) in (((sa, x, own_a), (sb, y)), ((sb, y, own_b), (sa, x))):
        if own and set(s2) <= set(s1) and _tail(x1, x2) == x1.shape[-2:]:
            array, scope = _sum(np.multiply(x1, _expand(x2, s2, s1, s.card), out=x1), s1, drop, pool)
            return scope, array  # the caller recycles x1 when a sum made a new table
    union = tuple(sorted(set(sa) | set(sb), key=s.order.get))
    keep = tuple(v for v in union if v not in drop)
    shape = tuple(s.card[v] for v in keep) + _tail(x, y)
    if drop and len(union) <= len(_LETTERS):
        letters = dict(zip(union, _LETTERS))
        spec = "".join(letters[v] for v in sa) + "...," + "".join(letters[v] for v in sb) + "...->" + \
            "".join(letters[v] for v in keep) + "..."
        return keep, np.einsum(spec, x, y, out=pool.empty(shape))
    array = np.multiply(_expand(x, sa, union, s.card), _expand(y, sb, union, s.card),
                        out=pool.empty(tuple(s.card[v] for v in union) + shape[len(keep):]))
    out, scope = _sum(array, union, drop, pool)
    if drop:
        pool.give(array)
    return scope, out


def _run(items, owned, schedule, s, pool):
    """The pairwise products of a step's factors (None: left out, it is 1), each followed by its sums:
    ``((scope, array), whether it may be recycled)``.

    ``owned`` says which items may be overwritten or recycled (temporaries, messages used once).
    """
    items, owned = list(items), list(owned)
    for i, j, drop in schedule:
        a, b = items[i], items[j] if j is not None else None
        if a is None or b is None:
            out, mine = (a, owned[i]) if b is None else (b, owned[j])
            if out is None:
                out, mine = ((), np.ones((1, 1))), False
            if drop:
                here = tuple(v for v in drop if v in out[0])
                array, scope = _sum(out[1], out[0], here, pool)
                if here and mine:
                    pool.give(out[1])
                absent = math.prod(s.card[v] for v in drop if v not in here)
                out, mine = (scope, array * absent if absent > 1 else array), True
        else:
            out, mine = _product(a, owned[i], b, owned[j], s, pool, drop), True
            root = _root(out[1])
            pool.give(*(item[1] for item, own in ((a, owned[i]), (b, owned[j])) if own and _root(item[1]) is not root))
        items.append(out)
        owned.append(mine)
    return items[-1], owned[-1]


def _matmul(matrix, given, step, s, pool):
    """A step whose per-case factors multiply into a small table: ``matrix @ that table`` (the constant result
    when they are all left out)."""
    card, b = s.card, tuple(sorted(set().union(*step.scopes), key=s.order.get))
    o, d = step.scope, matrix.shape[0]
    cards = tuple(card[v] for v in o)
    if given is None or given[0] == () and given[1].shape == (1, 1):
        return np.ascontiguousarray(matrix.sum(axis=2).T).reshape(cards + (d, 1))
    scope, array = given
    if scope != b:
        array = np.broadcast_to(_expand(array, scope, b, card), tuple(card[v] for v in b) + array.shape[-2:])
    k, da, n = matrix.shape[2], array.shape[-2], array.shape[-1]
    array = array.reshape(k, da, n)
    if d == 1:
        return _gemm(matrix[0], array.reshape(k, n), pool.empty((len(matrix[0]), n))).reshape(cards + (1, n))
    out = np.empty((math.prod(cards), d, n))
    for j in range(d):  # one draw at a time
        _gemm(matrix[j], array[:, j if da > 1 else 0], out[:, j])
    return out.reshape(cards + (d, n))
