"""The compiled plan of a model, compiled once and cached: :func:`compiled_plan`, and the engine's limits.

In which order a network's tables are multiplied and summed is decided in
:mod:`model.engine.plan`, the numbers of that recipe are filled in by
:mod:`model.engine.numbers`; this module keeps one plan per model (and one
structure for many parameter draws, :mod:`model.engine.draws`) under the
limits below. Tests lower the limits to force every fallback.
"""

from __future__ import annotations

import weakref

from .numbers import _compile
from .plan import _Limits, _structure

__all__ = ["MAX_FINAL", "compiled_plan"]

#: Largest number of floats in one per-chunk table; sets the rows per chunk.
MAX_TABLE = 2**23
#: Largest joint table of the reported nodes; above it, one table per reported node.
MAX_FINAL = 2**16
#: Largest log group of leaves (configurations x rows); above it, its leaves stay linear.
MAX_GROUP = 2**23
_SAFE = -300.0  # a group whose least likely evidence is above e^-300 is exponentiated without a shift
_PLANS = weakref.WeakKeyDictionary()


def _limits(groups=True):
    """This module's limits; ``groups=False``: no log groups (for many draws, see :mod:`model.engine.draws`)."""
    return _Limits(MAX_TABLE, MAX_FINAL, MAX_GROUP if groups else 0, _SAFE)


def compiled_plan(model):
    """The compiled plan of ``model``: compiled once under this module's limits, then cached."""
    plans = _PLANS.setdefault(model, {})
    if "plan" not in plans:
        limits = _limits()
        plans["plan"] = _compile(model, limits, structure=_structure(model, limits))
    return plans["plan"]


def _draw_structure(model):
    """The structure of ``model``'s plans for many draws (no log groups: few numbers per draw), cached."""
    plans = _PLANS.setdefault(model, {})
    if "draws" not in plans:
        plans["draws"] = _structure(model, _limits(groups=False))
    return plans["draws"]
