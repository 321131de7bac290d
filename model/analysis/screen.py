"""The red-flag screen: which questions must come first, whatever their information.

In plain terms: in suspected sciatica the cauda equina screen (saddle
anaesthesia, bladder or bowel dysfunction, progressive weakness) is asked
first, because it decides where the patient goes today, not which diagnosis
is most likely. GeNIe calls such questions *mandatory observations*.

The rule, all of it data in the priors folder: a complication (role
``complication`` in ``nodes.csv``) with a ``screen_threshold`` is *plausible*
while the probability that at least one of its parent causes is present,
given the evidence, is at or above that threshold. While it is plausible, its
red-flag findings (its children with an ``emergency_state``) that are not yet
in the evidence form the screen. A complication fixed by hard evidence has no
screen (the question is settled). Used by
:func:`model.analysis.questions.next_questions`. Pure: arrays in, lists out.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["red_flag_screen"]


def red_flag_screen(model, hard, p_free, free, candidates):
    """The screens that are on, given the evidence.

    Parameters
    ----------
    model : Model
    hard : dict
        The hard evidence (node -> state), the population included.
    p_free : numpy.ndarray
        P(configuration | evidence) of the reported nodes not fixed by hard
        evidence, one axis per node of ``free``, in that order.
    free : list of str
    candidates : list of str
        The questions not yet in the evidence.

    Returns
    -------
    list of dict
        One record per complication whose screen is on: ``complication``,
        ``p_parent_cause`` (P(at least one parent cause present | evidence)),
        ``threshold`` and ``questions`` (its unasked red-flag findings, in
        ``nodes.csv`` order; the screen is on even when none is left, so the
        record says that the screen is complete).

    Examples
    --------
    >>> from model import load_model
    >>> from model.analysis.questions import next_questions
    >>> ranked = next_questions({"pain_below_knee": "yes", "low_back_pain": "yes"})
    >>> screen = ranked.attrs["screen"][0]
    >>> screen["complication"], screen["questions"]
    ('cauda_equina_syndrome', ['saddle_anaesthesia', 'bladder_bowel_dysfunction', 'progressive_motor_weakness'])
    >>> bool(screen["p_parent_cause"] >= screen["threshold"])
    True
    """
    nodes = model._priors.nodes
    if "screen_threshold" not in nodes.columns:
        return []
    tables, states = model._priors.node_tables, model._states
    children = {n: [] for n in states}
    for node, table in tables.items():
        for parent in table.parents:
            children[parent].append(node)
    screens = []
    roles = dict(zip(nodes.index.tolist(), nodes["role"].tolist()))
    for complication, threshold in nodes["screen_threshold"].items():
        if roles[complication] != "complication" or _missing(threshold) or complication in hard:
            continue
        parents = [p for p in tables[complication].parents if roles[p] == "cause"]
        if any(p in hard and hard[p] != states[p][0] for p in parents):
            p_any = 1.0  # a parent cause observed present
        else:
            absent = tuple(0 if v in parents else slice(None) for v in free)
            p_any = 1.0 - float(p_free[absent].sum())
        if p_any >= float(threshold):
            asked = [c for c in children[complication] if c in model._emergency and c in candidates]
            screens.append({"complication": complication, "p_parent_cause": p_any, "threshold": float(threshold),
                            "questions": asked})
    return screens


def _missing(value):
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is np.nan
