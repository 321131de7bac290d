"""Checking evidence: node names, states and soft-evidence likelihoods, every problem at once.

Pure functions over ``states`` (node -> tuple of its states, reference first),
used by :class:`model.inference.Model` and the batch engine, so a mistake reads
the same wherever the evidence comes in. Two more inputs come from the priors:
the *population* (the observations every query is conditioned on, from
``population.csv``), merged into the evidence by :func:`with_population`, and
the *renamed* names (``priors/renamed.csv``), which turn an unknown old name
into a message saying what replaced it (:func:`renamed_hint`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from .errors import EvidenceError, close_names

__all__ = [
    "RENAMED_WHEN",
    "as_evidence",
    "check_evidence",
    "check_likelihood",
    "check_node",
    "population_conflict",
    "renamed_hint",
    "with_population",
]

#: When the names of ``priors/renamed.csv`` changed, as messages say it.
RENAMED_WHEN = "in clinical model v2"


def renamed_hint(states, renamed, node, state=None):
    """What replaced an old name that ``states`` no longer has, from the rows of ``priors/renamed.csv``.

    ``renamed`` holds records ``(old_node, old_state, new_node, new_state,
    note)`` (empty states: the whole node). For an unknown ``node``: the rows
    renaming it; for a known node and an unknown ``state``: the rows renaming
    that state. Only rows whose new name exists in ``states`` count, so the
    bundled renames never mislead about an unrelated network. Returns ``""``
    when no row applies.

    Examples
    --------
    >>> rows = [("worse_bending_forward", "yes", "flexion_effect", "worsens", "")]
    >>> renamed_hint({"flexion_effect": ("relieves", "none", "worsens")}, rows, "worse_bending_forward")
    'renamed in clinical model v2 to flexion_effect (worse_bending_forward=yes is now flexion_effect=worsens)...'
    >>> renamed_hint({"other": ("no", "yes")}, rows, "worse_bending_forward")
    ''
    """
    def valid(row):
        return row[2] in states and (not row[3] or row[3] in states[row[2]])

    if node not in states:  # a renamed node: where it went, and where each of its states went
        rows = [r for r in renamed if r[0] == node and valid(r)]
        targets = [r[2] for r in rows]
        details = [f"{r[0]}={r[1]} is now {r[2]}" + (f"={r[3]}" if r[3] else "") for r in rows if r[1]]
    else:  # a renamed state of a node that kept its name
        rows = [r for r in renamed if r[0] == node and r[1] == state and state not in states[node] and valid(r)]
        targets = [f"{r[2]}={r[3]}" if r[3] else r[2] for r in rows]
        details = []
    if not rows:
        return ""
    details += [r[4] for r in rows if r[4]]
    detail = f" ({'; '.join(dict.fromkeys(details))})" if details else ""
    return f"renamed {RENAMED_WHEN} to {', '.join(dict.fromkeys(targets))}{detail}. See priors/renamed.csv."


def check_node(states, node, renamed=()):
    """Raise an EvidenceError naming the closest valid names (or what replaced an old name, from the
    ``renamed`` records; see :func:`renamed_hint`) when ``node`` is not a node of ``states``."""
    if not isinstance(node, str) or node not in states:
        hint = renamed_hint(states, renamed, node) if isinstance(node, str) else ""
        if hint:
            raise EvidenceError(f"unknown node {node!r}: {hint}")
        close = close_names(node, states)
        hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
        raise EvidenceError(f"unknown node {node!r}.{hint} Model.findings, Model.causes and "
                            "Model.risk_factors list the valid names.")


def population_conflict(node, value, state, shown=None):
    """The message for evidence that contradicts the population's observation ``node=state``.

    Examples
    --------
    >>> print(population_conflict("thigh_pain", "no", "yes"))
    thigh_pain='no': the population of these priors is defined by thigh_pain=yes (population.csv); evidence
    cannot set it to 'no'. Use priors without this population condition ... or leave thigh_pain out of the evidence.
    """
    shown = f"set it to {value!r}" if shown is None else shown
    return (f"{node}={value!r}: the population of these priors is defined by {node}={state} (population.csv); "
            f"evidence cannot {shown}. Use priors without this population condition (e.g. a copy of the priors "
            f"folder without population.csv), or leave {node} out of the evidence.")


def with_population(states, hard, soft, population):
    """The evidence with the population's observations added: ``(hard, soft)``, population first.

    Evidence that sets a population node to its population state is
    accepted (it says nothing new); soft evidence on a population node is
    dropped when it gives the population state a positive likelihood. Any
    other evidence on a population node contradicts the population: an
    :class:`~model.errors.EvidenceError` listing every such node.

    Examples
    --------
    >>> states = {"thigh_pain": ("no", "yes"), "cyclist": ("no", "yes")}
    >>> with_population(states, {"cyclist": "yes"}, {}, {"thigh_pain": "yes"})
    ({'thigh_pain': 'yes', 'cyclist': 'yes'}, {})
    >>> with_population(states, {"thigh_pain": "no"}, {}, {"thigh_pain": "yes"})
    Traceback (most recent call last):
    ...
    model.errors.EvidenceError: thigh_pain='no': the population of these priors is defined by thigh_pain=yes ...
    """
    _raise(_population_problems(states, hard, soft, population))
    merged = dict(population)
    merged.update((node, state) for node, state in hard.items() if node not in population)
    return merged, {node: lam for node, lam in soft.items() if node not in population}


def _population_problems(states, hard, soft, population):
    problems = []
    for node, state in population.items():
        if node in hard and hard[node] != state:
            problems.append(population_conflict(node, hard[node], state))
        elif node in soft and soft[node][states[node].index(state)] == 0:
            problems.append(population_conflict(node, dict(zip(states[node], soft[node])), state,
                                                f"give {state!r} likelihood 0"))
    return problems


def _raise(problems):
    if problems:
        raise EvidenceError("\n".join(problems) if len(problems) == 1 else
                            f"{len(problems)} problems in the evidence:\n" + "\n".join(f"  - {p}" for p in problems))


def as_evidence(evidence):
    """Evidence as a mapping: a pandas Series (one row of a table of cases) becomes a dict of its observed
    cells (missing values and empty text dropped, as in a cases file); anything else is returned as given.

    Examples
    --------
    >>> as_evidence(pd.Series({"pain": "yes", "cyclist": None, "fever": float("nan"), "age": ""}))
    {'pain': 'yes'}
    """
    if not isinstance(evidence, pd.Series):
        return evidence
    return {node: value for node, value in evidence.items()
            if not (value is None or value is pd.NA or (isinstance(value, float) and value != value)
                    or (isinstance(value, str) and value == ""))}


def check_evidence(states, evidence, renamed=(), population=None):
    """Validate evidence against ``states`` (node -> its states); return ``(hard, soft)``.

    ``hard`` maps node -> state; ``soft`` maps node -> likelihoods aligned to
    the node's states, scaled so the largest is 1. Every problem is listed in
    one :class:`~model.errors.EvidenceError`; an old name of ``renamed``
    (records of ``priors/renamed.csv``) is answered with what replaced it.
    With ``population`` (node -> state), the evidence comes back with it
    added, as from :func:`with_population`, and contradicting it is one more
    problem.

    Examples
    --------
    >>> check_evidence({"pain": ("no", "yes")}, {"pain": {"no": 1, "yes": 4}})
    ({}, {'pain': (0.25, 1.0)})
    >>> check_evidence({"pain": ("no", "yes")}, {"pain": "yse"})
    Traceback (most recent call last):
    ...
    model.errors.EvidenceError: 'pain' has no state 'yse'. Did you mean 'yes'? Its states are no, yes.
    """
    evidence = as_evidence(evidence)
    if not isinstance(evidence, Mapping):
        raise EvidenceError(f"evidence must be a mapping of node -> state (a dict, or one row of a DataFrame). "
                            f"Got {type(evidence).__name__}.")
    hard, soft, problems = {}, {}, []
    for node, value in evidence.items():
        try:
            check_node(states, node, renamed)
        except EvidenceError as err:
            problems.append(str(err))
            continue
        own = states[node]
        if isinstance(value, str):
            if value in own:
                hard[node] = value
            elif renamed_hint(states, renamed, node, value):
                problems.append(f"{node!r} has no state {value!r}: {renamed_hint(states, renamed, node, value)} "
                                f"Its states are {', '.join(own)}.")
            else:
                close = close_names(value, own, n=2, cutoff=0.4)
                hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
                problems.append(f"{node!r} has no state {value!r}.{hint} Its states are {', '.join(own)}.")
        elif isinstance(value, Mapping):
            likelihood = check_likelihood(own, node, value, problems)
            if likelihood is not None:
                soft[node] = likelihood
        else:
            problems.append(f"evidence for {node!r} must be a state name ({', '.join(own)}) or a "
                            f"dict {{state: likelihood}}. Got {value!r}.")
    _raise(problems + _population_problems(states, hard, soft, population or {}))
    return with_population(states, hard, soft, population) if population else (hard, soft)

def check_likelihood(states, node, value, problems):
    """Soft evidence ``value`` ({state: likelihood}) for ``node`` as a tuple in ``states`` order, scaled so
    the largest is 1; None after appending a message to ``problems`` when it is not valid."""
    unknown = [s for s in value if s not in states]
    missing = [s for s in states if s not in value]
    if unknown or missing:
        problems.append(f"soft evidence for {node!r} must give one likelihood per state "
                        f"({', '.join(states)}); unknown: {unknown}, missing: {missing}.")
        return None
    numbers = []
    for state in states:
        x = value[state]
        if isinstance(x, bool) or not isinstance(x, (int, float, np.number)) or not math.isfinite(x) or x < 0:
            problems.append(f"soft evidence for {node}={state} must be a finite likelihood >= 0. Got {x!r}.")
            return None
        numbers.append(float(x))
    if max(numbers) == 0.0:
        problems.append(f"soft evidence for {node!r} gives every state likelihood 0; at least one must be "
                        "positive.")
        return None
    top = max(numbers)
    return tuple(x / top for x in numbers)
