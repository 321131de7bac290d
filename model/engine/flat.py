"""Multiplying a message into a clique's flat table, and summing a flat table to a separator: the array moves
of the junction tree's message passing (:mod:`model.engine.junction`).

In plain terms: a clique's table is one flat array over its configurations
(first variable slowest), and a message from a neighbouring clique is a flat
array over the variables the two share. Multiplying the message in means
repeating each of its entries over the configurations of the variables it
lacks; summing to a separator adds those configurations up. numpy broadcasts
slowly when the table's last axes are short, so a large table's first calls
for each layout try several equivalent ways and keep the fastest
(:func:`into`). Pure apart from caches: takes arrays, returns arrays or
writes into the one it is given.

Examples
--------
A table over (a, b, c), 2 states each, times a message over (a, c):

>>> import numpy as np
>>> table, message = np.ones(8), np.array([1.0, 2.0, 3.0, 4.0])
>>> up = runs(("a", "b", "c"), ("a", "c"), {"a": 2, "b": 2, "c": 2})
>>> up
((2, 2, 2), (2, 1, 2), (1,))
>>> into(table, message, up)
>>> table.tolist()
[1.0, 2.0, 1.0, 2.0, 3.0, 4.0, 3.0, 4.0]
>>> onto(table, up).tolist()  # summed back over b
[2.0, 4.0, 6.0, 8.0]
"""

from __future__ import annotations

import math
import threading
import time

import numpy as np

from .ops import sum_axes

__all__ = ["LARGE", "LONG", "MAX_LOOP", "WAYS", "into", "onto", "runs", "times", "to_separator"]

#: In a table of ``LARGE`` configurations or more, last axes shorter than ``LONG``, with at most ``MAX_LOOP``
#: configurations together, are multiplied one configuration at a time (numpy broadcasts slowly over them).
LARGE, LONG, MAX_LOOP = 4096, 64, 64
#: Gather indexes kept (see _gathered), per shape of table and message.
MAX_GATHERS = 512

#: Calls of each way, per layout of table and message, before the fastest is kept (see into).
TRIALS = 2

_GATHERS = {}
_BUFFERS = threading.local()
_TRIALS = {}  # (table shape, message shape, in place) -> [(seconds, way)] of the calls so far
_CHOSEN = {}  # (table shape, message shape, in place) -> the fastest way


def to_separator(belief, size, out=None):
    """A clique's flat ``belief`` summed to its separator with its parent (its last ``size`` configurations);
    written into ``out`` when given."""
    flat = belief.reshape(-1, size)
    return np.matmul(np.ones(flat.shape[0]), flat, out=out)


def into(belief, message, up, source=None):
    """Multiply a child's ``message`` (flat over its separator) into its parent's flat ``belief``, in place;
    with ``source`` (flat, as ``belief``), write ``source`` times the message into ``belief`` (one pass less
    than a copy first).

    numpy broadcasts slowly when the table's last axes are short, and which way round is fastest depends on
    the layout and the machine (on the bundled network's cliques the best of them is up to 2.4 times as fast
    as the worst): a large table's first calls for each layout try each way in turn (:data:`WAYS`), ``TRIALS``
    times each, and the fastest is kept from then on. Every way makes the same products, so the result does not
    depend on the choice.
    """
    if len(belief) < LARGE:
        view = belief.reshape(up[0])
        np.multiply(view if source is None else source.reshape(up[0]), message.reshape(up[1]), out=view)
        return
    key = (up[0], up[1], source is None)
    way = _CHOSEN.get(key)
    if way is not None:
        way(belief, message, up, source)
        return
    ways = [w for w in WAYS if w is not _by_repeats_last_looped or _loops_last(up[0], up[1])]
    trials = _TRIALS.setdefault(key, [])
    way = ways[len(trials) % len(ways)]
    start = time.perf_counter()
    way(belief, message, up, source)
    trials.append((time.perf_counter() - start, ways.index(way)))
    if len(trials) >= TRIALS * len(ways):
        _CHOSEN[key] = ways[min(trials)[1]]
        _TRIALS.pop(key, None)


def _loops_last(shape, message_shape):
    """Whether the table's last axis is out of the message and short (it can be looped over)."""
    return len(shape) > 1 and message_shape[-1] == 1 and 1 < shape[-1] < LONG


def _by_repeats(belief, message, up, source=None, loop_last=False):
    """:func:`into` by repeating the message along the short axes it lacks near the end of the table (until
    the table's last axes together have ``LONG`` configurations), then broadcasting; with ``loop_last``, the
    last axis (when :func:`_loops_last`) is instead looped over, one strided slice per state."""
    shape, message_shape, _ = up
    loop_last = loop_last and _loops_last(shape, message_shape)
    core = shape[:-1] if loop_last else shape
    m, inner = message.reshape(message_shape[:-1] if loop_last else message_shape), 1
    for axis in range(len(core) - 1, -1, -1):
        if inner >= LONG:
            break
        if m.shape[axis] == 1 and core[axis] > 1:
            m = np.repeat(m, core[axis], axis=axis)
        inner *= core[axis]
    view = belief.reshape(shape)
    given = view if source is None else source.reshape(shape)
    if not loop_last:
        np.multiply(given, m, out=view)
        return
    for j in range(shape[-1]):
        np.multiply(given[..., j], m, out=view[..., j])


def _by_repeats_last_looped(belief, message, up, source=None):
    _by_repeats(belief, message, up, source, loop_last=True)


def _by_gather_or_loop(belief, message, up, source=None):
    """:func:`into` by broadcasting, looping in Python over short last axes, or, when that would take many
    small steps, gathering the message for every configuration (:func:`_gathered`)."""
    parent_shape, message_shape, _ = up
    tail = _short_tail(parent_shape)
    index = _gathered(parent_shape, message_shape, tail)
    if index is not None:
        buffer = _buffer(len(belief))
        np.take(message, index, out=buffer, mode="clip")
        np.multiply(belief if source is None else source, buffer, out=belief)
        return
    view, message = belief.reshape(parent_shape), message.reshape(message_shape)
    if not tail:
        np.multiply(view if source is None else source.reshape(parent_shape), message, out=view)
        return
    if source is not None:
        np.copyto(belief, source)
    for at in np.ndindex(*parent_shape[-tail:]):
        view[(..., *at)] *= message[(..., *(i if m > 1 else 0 for i, m in zip(at, message_shape[-tail:])))]


#: The ways :func:`into` may multiply a message into a large table, tried in turn on a layout's first calls.
WAYS = (_by_gather_or_loop, _by_repeats, _by_repeats_last_looped)


def _gathered(shape, message_shape, tail):
    """The flat position in the message of every configuration of a table of runs ``shape`` (cached), when a
    gather beats broadcasting: measured on the bundled network's cliques of 8,192-98,304 configurations, when
    the short last axes looped over have 8 configurations or more together, or, with none looped over, the
    last axis has 4 states or fewer and the table 5 runs or more (broadcasting then takes 1.2-4x as long).
    None otherwise, and for tables outside 4,096 to 2^20 configurations."""
    key = (shape, message_shape)
    if key not in _GATHERS:
        size = math.prod(shape)
        short = math.prod(shape[-tail:]) >= 8 if tail else (len(shape) >= 5 and shape[-1] <= 4)
        index = None
        if short and LARGE <= size <= 2**20:
            flat = np.arange(math.prod(message_shape), dtype=np.int32).reshape(message_shape)
            index = np.broadcast_to(flat, shape).reshape(-1)
        if len(_GATHERS) >= MAX_GATHERS:
            _GATHERS.clear()
        _GATHERS[key] = index
    return _GATHERS[key]


def _buffer(size):
    """A scratch array of ``size`` floats, reused by the calling thread."""
    array = getattr(_BUFFERS, "array", None)
    if array is None or len(array) < size:
        array = _BUFFERS.array = np.empty(size)
    return array[:size]


def _short_tail(shape):
    """How many last axes of ``shape`` to loop over in Python (numpy broadcasts slowly over short last axes):
    those that together have at most ``MAX_LOOP`` configurations, when the axis before them is long; none for a
    small table or when no long axis comes soon enough."""
    if math.prod(shape) < LARGE:
        return 0
    tail, size = 0, 1
    while tail < len(shape) - 1 and shape[-1 - tail] < LONG and size * shape[-1 - tail] <= MAX_LOOP:
        size *= shape[-1 - tail]
        tail += 1
    return tail if shape[-1 - tail] >= LONG else 0


def times(belief, shape, lam):
    """Multiply a node's likelihood ``lam`` into a clique's flat ``belief`` in place; ``shape`` is the clique's
    (configurations before the node, its states, configurations after)."""
    view = belief.reshape(shape)
    if shape[2] == 1 and shape[1] <= MAX_LOOP and shape[0] >= LONG:
        for j, value in enumerate(lam):
            if value != 1.0:
                view[:, j] *= value
    else:
        view *= lam.reshape(1, -1, 1)


def onto(belief, up):
    """A parent's flat ``belief`` summed to its separator with a child, flat in the separator's order."""
    shape, _, out = up
    if not out:
        return belief.copy()
    if out[-1] == len(shape) - 1:  # a last axis summed by a matrix product (numpy sums it slowly)
        belief = belief.reshape(-1, shape[-1]) @ np.ones(shape[-1])
        shape, out = shape[:-1], out[:-1]
    return sum_axes(belief.reshape(shape), out).reshape(-1) if out else belief


def runs(scope, separator, card):
    """``(shape, message shape, axes out)`` of ``scope`` cut into runs of consecutive variables in or out of
    ``separator`` (listed in ``scope``'s order): see :func:`into` and :func:`onto`."""
    inside = set(separator)
    shape, message, out, last = [], [], [], None
    for v in scope:
        is_in = v in inside
        if is_in == last:  # the same run goes on
            shape[-1] *= card[v]
            message[-1] *= card[v] if is_in else 1
            continue
        shape.append(card[v])
        message.append(card[v] if is_in else 1)
        if not is_in:
            out.append(len(shape) - 1)
        last = is_in
    return tuple(shape), tuple(message), tuple(out)
