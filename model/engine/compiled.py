"""The compiled plan of a model, compiled once and cached: :func:`compiled_plan`, and the engine's limits.

In which order a network's tables are multiplied and summed is decided in
:mod:`model.engine.plan`, the numbers of that recipe are filled in by
:mod:`model.engine.numbers`; this module keeps one plan per model (and one
structure for many parameter draws, :mod:`model.engine.draws`) under the
limits below. Tests lower the limits to force every fallback.
"""

from __future__ import annotations

import math
import weakref

from .numbers import _compile
from .plan import _Limits, _structure

__all__ = ["MAX_FINAL", "MAX_JOINT", "compiled_plan", "joint_plan"]

#: Largest number of floats in one per-chunk table; sets the rows per chunk.
MAX_TABLE = 2**23
#: Largest joint table of the reported nodes; above it, one table per reported node.
MAX_FINAL = 2**16
#: Largest joint table of the reported nodes that :func:`joint_plan` builds when the plan has none (next question,
#: explanations, predictions); the issue asks for at least 2^20.
MAX_JOINT = 2**20
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


def joint_plan(model):
    """A compiled plan of ``model`` that builds the joint table of its reported nodes: :func:`compiled_plan`
    when it does, else one compiled for that joint (cached), up to :data:`MAX_JOINT` configurations.

    Raises
    ------
    ValueError
        The joint has more configurations than :data:`MAX_JOINT` (the message gives its size).
    """
    plan = compiled_plan(model)
    if plan.joint_scope is not None:
        return plan
    plans = _PLANS.setdefault(model, {})
    if "joint" not in plans:
        size = math.prod(len(model._states[n]) for n in model._reported)
        if size > MAX_JOINT:
            raise ValueError(f"the joint table of this network's {len(model._reported)} causes and complications has "
                             f"{size:,} configurations, above the {MAX_JOINT:,} that fit in memory here; mark fewer "
                             "nodes as cause or complication in nodes.csv (the role column).")
        limits = _Limits(MAX_TABLE, MAX_JOINT, MAX_GROUP, _SAFE)
        plans["joint"] = _compile(model, limits, structure=_structure(model, limits, joint=True))
    return plans["joint"]


def _draw_structure(model):
    """The structure of ``model``'s plans for many draws (no log groups: few numbers per draw), cached."""
    plans = _PLANS.setdefault(model, {})
    if "draws" not in plans:
        plans["draws"] = _structure(model, _limits(groups=False))
    return plans["draws"]
