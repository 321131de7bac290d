"""Checking evidence: node names, states and soft-evidence likelihoods, every problem at once.

Pure functions over ``states`` (node -> tuple of its states, reference first),
used by :class:`model.inference.Model` and the batch engine, so a mistake reads
the same wherever the evidence comes in.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping

import numpy as np

from .errors import EvidenceError

__all__ = ["check_evidence", "check_likelihood", "check_node"]


def check_node(states, node):
    """Raise an EvidenceError naming the closest valid names when ``node`` is not a node of ``states``."""
    if not isinstance(node, str) or node not in states:
        close = difflib.get_close_matches(str(node), list(states), n=3, cutoff=0.5)
        hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
        raise EvidenceError(f"unknown node {node!r}.{hint} Model.findings, Model.causes and "
                            "Model.risk_factors list the valid names.")


def check_evidence(states, evidence):
    """Validate evidence against ``states`` (node -> its states); return ``(hard, soft)``.

    ``hard`` maps node -> state; ``soft`` maps node -> likelihoods aligned to
    the node's states, scaled so the largest is 1. Every problem is listed in
    one :class:`~model.errors.EvidenceError`.

    Examples
    --------
    >>> check_evidence({"pain": ("no", "yes")}, {"pain": {"no": 1, "yes": 4}})
    ({}, {'pain': (0.25, 1.0)})
    >>> check_evidence({"pain": ("no", "yes")}, {"pain": "yse"})
    Traceback (most recent call last):
    ...
    model.errors.EvidenceError: 'pain' has no state 'yse'. Did you mean 'yes'? Its states are no, yes.
    """
    if not isinstance(evidence, Mapping):
        raise EvidenceError(f"evidence must be a mapping of node -> state. Got {type(evidence).__name__}.")
    hard, soft, problems = {}, {}, []
    for node, value in evidence.items():
        try:
            check_node(states, node)
        except EvidenceError as err:
            problems.append(str(err))
            continue
        own = states[node]
        if isinstance(value, str):
            if value in own:
                hard[node] = value
            else:
                close = difflib.get_close_matches(value, own, n=2, cutoff=0.4)
                hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
                problems.append(f"{node!r} has no state {value!r}.{hint} Its states are {', '.join(own)}.")
        elif isinstance(value, Mapping):
            likelihood = check_likelihood(own, node, value, problems)
            if likelihood is not None:
                soft[node] = likelihood
        else:
            problems.append(f"evidence for {node!r} must be a state name ({', '.join(own)}) or a "
                            f"dict {{state: likelihood}}. Got {value!r}.")
    if problems:
        raise EvidenceError("\n".join(problems) if len(problems) == 1 else
                            f"{len(problems)} problems in the evidence:\n" +
                            "\n".join(f"  - {p}" for p in problems))
    return hard, soft

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
