"""Barren nodes: the part of a network that a set of cases can be scored on, exactly.

In plain terms: a node that is neither observed, nor reported, nor an ancestor
of one of those is *barren*. Summing it out of the joint distribution gives 1
whatever its table says, so removing it (and, in turn, every node that then has
no children left among the kept ones) leaves the posteriors of the reported
nodes unchanged, exactly. For one case with a few findings most of the network
drops out, so each parameter draw of a credible interval
(:mod:`model.analysis.intervals`) has far fewer numbers to compute.

:func:`relevant_nodes` names the nodes a set of cases needs: the ancestors
(themselves included) of every node observed in at least one row (hard or soft
evidence), of every reported node (causes and complications) and of the
population's nodes. :func:`pruned_model` is the model on those nodes alone,
built once per model and node set, then cached.
"""

from __future__ import annotations

import dataclasses
import weakref

import pandas as pd

__all__ = ["observed_columns", "pruned_model", "relevant_nodes"]

#: Pruned models kept per model (one per set of relevant nodes); the oldest is dropped first.
MAX_PRUNED = 16
_PRUNED = weakref.WeakKeyDictionary()  # model -> {frozenset of nodes: pruned model}


def observed_columns(cases):
    """The columns of ``cases`` with at least one cell that is not missing (hard or soft evidence).

    Examples
    --------
    >>> import pandas as pd
    >>> observed_columns(pd.DataFrame({"pain_burning": ["yes", None], "night_pain": [None, None]}))
    ['pain_burning']
    """
    return [c for c in cases.columns if not pd.isna(cases[c].to_numpy(dtype=object)).all()]


def relevant_nodes(model, observed):
    """The nodes needed to score cases that observe ``observed``: every ancestor (itself included) of an
    observed node, a reported node (cause or complication) or a population node; in the model's order.

    Examples
    --------
    >>> from model import load_model
    >>> m = load_model()
    >>> kept = relevant_nodes(m, ["pain_burning"])
    >>> "pain_burning" in kept and set(m.causes) <= set(kept), len(kept) < len(m._states)
    (True, True)
    """
    tables = model._priors.node_tables
    seen, stack = set(), [*observed, *model._reported, *model._population]
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(tables[node].parents)
    return tuple(n for n in model._states if n in seen)


def pruned_model(model, nodes):
    """``model`` on ``nodes`` alone (a set closed under parents, from :func:`relevant_nodes`): the same class
    on the same priors with the other nodes left out of ``nodes.csv`` and the node tables; ``model`` itself
    when nothing is left out. Built once per model and node set, then cached.

    Examples
    --------
    >>> from model import load_model
    >>> m = load_model()
    >>> small = pruned_model(m, relevant_nodes(m, ["pain_burning"]))
    >>> small._reported == m._reported, len(small._states) < len(m._states), small.population == m.population
    (True, True, True)
    """
    key = frozenset(nodes)
    if len(key) == len(model._states):
        return model
    found = _PRUNED.setdefault(model, {})
    if key not in found:
        priors = model._priors
        kept = [n for n in priors.nodes.index if n in key]
        small = dataclasses.replace(priors, nodes=priors.nodes.loc[kept],
                                    node_tables={n: priors.node_tables[n] for n in kept})
        if len(found) >= MAX_PRUNED:
            del found[next(iter(found))]
        found[key] = type(model)(small)
    return found[key]
