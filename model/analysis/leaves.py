"""The information and expected change of the questions answered from the joint alone, without their rows.

In plain terms: a candidate question ``F`` whose parents are all causes or
complications (or fixed by hard evidence) and none of whose descendants is
observed has ``P(F = s, c | e) = P(F = s | parents) P(c | e)`` exactly
(:func:`model.analysis.questions._answered_from_the_joint`). Its table over every
answer and every configuration of the causes need not be built: each sum the
ranking needs is a sum over the configurations of the parents (and of the top
cause or the target) of the question's table times ``B = P(c | e)`` summed onto
them:

    P(F = s | e) = sum_pa P(s | pa) B(pa)
    I(F; C | e)  = H(F | e) - H(F | C, e) = H(F | e) + sum_pa B(pa) sum_s P(s | pa) log P(s | pa)

so each question costs one sum of the joint onto its parents (and the top cause)
instead of a table as large as the joint per answer. Pure: takes arrays,
returns arrays.
"""

from __future__ import annotations

import math

import numpy as np

from ..engine.ops import sum_axes

__all__ = ["leaf_scores", "leaf_table"]


def leaf_table(model, node, free, hard):
    """``node``'s table at the hard-evidence states of its parents, axes: its states, then ``free`` (1 for
    the axes it does not depend on); and the set of its parents left."""
    table, states = model._priors.node_tables[node], model._states
    cpt = table.values.reshape((len(states[node]),) + tuple(len(s) for s in table.parent_states))
    kept = []
    for parent in reversed(table.parents):
        axis = 1 + table.parents.index(parent)
        if parent in hard:
            cpt = np.take(cpt, states[parent].index(hard[parent]), axis=axis)
        else:
            kept.insert(0, parent)
    order = sorted(kept, key=free.index)
    cpt = np.transpose(cpt, [0] + [1 + kept.index(v) for v in order])
    return cpt.reshape((len(cpt),) + tuple(len(states[v]) if v in kept else 1 for v in free)), set(kept)


def leaf_scores(model, leaves, cube, free, hard, target, top, present_top, tables=None):
    """``(info_gain in bits, expected change of the top cause)`` of each question of ``leaves``.

    ``cube`` is P(c | e) over the ``free`` causes and complications (one axis each, in ``free`` order);
    ``target`` (or None) the cause the information is about; ``top`` (or None) the cause whose expected
    change is measured, ``present_top`` its P(present | e). ``tables`` (node -> ``(P(F = s | nodes, e)``
    with the axes of :func:`leaf_table`, those nodes)) gives the table of a question that is not a leaf:
    one whose answers depend on the causes only through those nodes (:func:`model.engine.answer_tables`).
    The same numbers as :func:`model.analysis.questions.next_questions` computes from full tables (tested
    against pgmpy).
    """
    from scipy.special import entr

    info, change = np.zeros(len(leaves)), np.zeros(len(leaves))
    if not leaves:
        return info, change
    if target is not None:
        at = free.index(target)
        h_target = float(entr(sum_axes(cube, [i for i in range(cube.ndim) if i != at])).sum())
    extra = {v for v in (target, top) if v is not None}
    summed = {}  # the joint summed onto a set of nodes, once for every question over them
    for j, node in enumerate(leaves):
        cpt, parents = tables[node] if tables and node in tables else leaf_table(model, node, free, hard)
        kept = frozenset(parents | extra)
        if kept not in summed:
            summed[kept] = sum_axes(cube, [i for i, v in enumerate(free) if v not in kept], keepdims=True)
        b = summed[kept]
        joint = cpt * b[None]  # P(F = s, parents, target, top | e)
        p_answer = joint.reshape(len(joint), -1).sum(axis=1)
        h_answer = float(entr(p_answer).sum())
        if target is None:  # H(F | C) from the table's own entropy per configuration of the parents
            bits = h_answer - float((entr(cpt) * b[None]).sum())
        else:
            pair = np.moveaxis(joint, 1 + free.index(target), 1).reshape(len(joint), cube.shape[at], -1).sum(axis=2)
            bits = h_answer + h_target - float(entr(pair).sum())
        info[j] = max(bits / math.log(2.0), 0.0)
        if top is not None:
            with_top = np.moveaxis(joint, 1 + free.index(top), 1)[:, 1:].reshape(len(joint), -1).sum(axis=1)
            change[j] = float(np.abs(with_top - p_answer * present_top).sum())
    return info, change
