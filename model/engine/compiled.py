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

__all__ = ["MAX_FINAL", "MAX_JOINT", "MAX_PLAN", "PlanTooLarge", "compiled_plan", "joint_plan", "plan_structure"]

#: Largest number of floats in one per-chunk table; sets the rows per chunk.
MAX_TABLE = 2**23
#: Largest joint table of the reported nodes; above it, one table per reported node.
MAX_FINAL = 2**16
#: Largest joint table of the reported nodes that :func:`joint_plan` builds when the plan has none (next question,
#: explanations, predictions); the issue asks for at least 2^20.
MAX_JOINT = 2**20
#: Largest log group of leaves (configurations x rows); above it, its leaves stay linear.
MAX_GROUP = 2**23
#: Largest plan, in floats (of its constant tables, or of its largest per-case table), that a compile accepts: 2 GiB.
MAX_PLAN = 2**28
_SAFE = -300.0  # a group whose least likely evidence is above e^-300 is exponentiated without a shift
_PLANS = weakref.WeakKeyDictionary()


class PlanTooLarge(MemoryError):
    """A network whose batch plan would not fit in memory: refused before anything large is allocated."""


def _constant_floats(model, structure):
    """Roughly the floats compiling ``structure`` allocates per draw: each step's folded constants (or its
    matrix), the leaf tables and the log groups' weights."""
    tables, card = model._priors.node_tables, structure.card

    def size(names):
        return math.prod(card[v] for v in names)

    scope_of, total = {}, 0
    for steps, _, _ in structure.programs:
        for st in steps:
            if st.consts and st.matmul:
                total += size(set().union(*st.scopes)) * size(st.scope)
            elif st.consts:
                total += size(set().union(*(((i[1],) + tables[i[1]].parents) if i[0] == "c" else scope_of[i]
                                            for i in st.consts)))
            scope_of[st.out] = st.scope
    total += sum(size(tables[f].parents) * card[f] for f in structure.linear)
    total += sum(size(scope) * (sum(card[f] for f in members) + 1) for scope, members in structure.groups)
    return total


def _checked(model, structure):
    """``structure``, or :class:`PlanTooLarge` naming its size, before it is compiled."""
    need = max(_constant_floats(model, structure), structure.biggest)
    if need > MAX_PLAN:
        raise PlanTooLarge(f"this network's batch plan would hold {need:,} floats ({need * 8 / 2**30:.1f} GiB) in one "
                           f"table, above the limit of {MAX_PLAN:,} (model.engine.compiled.MAX_PLAN): infer_batch, "
                           "intervals, the next question and predictions cannot run on it. Model.infer and "
                           "sensitivity (the junction tree) still answer one case at a time.")
    return structure


def _limits(groups=True):
    """This module's limits; ``groups=False``: no log groups (for many draws, see :mod:`model.engine.draws`)."""
    return _Limits(MAX_TABLE, MAX_FINAL, MAX_GROUP if groups else 0, _SAFE)


def plan_structure(model):
    """The structure of ``model``'s batch plan (its elimination, and ``work``: the table entries it computes per
    case), before any table is compiled; cached. Raises :class:`PlanTooLarge` for a plan too large to compile."""
    plans = _PLANS.setdefault(model, {})
    if "structure" not in plans:
        plans["structure"] = _checked(model, _structure(model, _limits()))
    return plans["structure"]


def compiled_plan(model):
    """The compiled plan of ``model``: compiled once under this module's limits, then cached."""
    plans = _PLANS.setdefault(model, {})
    if "plan" not in plans:
        plans["plan"] = _compile(model, _limits(), structure=plan_structure(model))
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
        plans["joint"] = _compile(model, limits, structure=_checked(model, _structure(model, limits, joint=True)))
    return plans["joint"]


def _draw_structure(model):
    """The structure of ``model``'s plans for many draws (no log groups: few numbers per draw), cached."""
    plans = _PLANS.setdefault(model, {})
    if "draws" not in plans:
        plans["draws"] = _checked(model, _structure(model, _limits(groups=False)))
    return plans["draws"]
