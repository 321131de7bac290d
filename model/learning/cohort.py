"""Simulated cohorts: cases drawn from a model, for studies of how well it can be learned or validated.

In plain terms: :func:`simulate` draws every node of the network for ``n``
patients, parents before children, each from its table given its parents'
drawn states (forward sampling, seeded); patients outside the model's
population (its presenting complaint not present) are drawn again, so every
case belongs to the population the model describes. Pure: takes a model and a
seed, returns a DataFrame of state names.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["simulate"]

_BATCH = 4096  # patients drawn at a time, before the population's selection


def _order(tables):
    """The nodes, parents before children."""
    order, done = [], set()
    while len(order) < len(tables):
        for node, table in tables.items():
            if node not in done and all(p in done for p in table.parents):
                order.append(node)
                done.add(node)
    return order


def simulate(model, n, *, seed=None):
    """``n`` complete cases drawn from ``model`` within its population: one row per case, one column per node
    (in ``nodes.csv`` order), state names as cells.

    Examples
    --------
    >>> from model import load_model
    >>> cohort = simulate(load_model(), 5, seed=1)
    >>> cohort.shape, set(cohort["posterior_thigh_pain"])
    ((5, 85), {'yes'})
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be a whole number of cases, 0 or more. Got {n!r}.")
    rng = np.random.default_rng(seed)
    tables = model._priors.node_tables
    order, states = _order(tables), model._states
    kept, total = {node: [] for node in order}, 0
    while total < n:
        codes = {}
        for node in order:
            table = tables[node]
            column = np.zeros(_BATCH, dtype=np.int64)
            for parent, parent_states in zip(table.parents, table.parent_states):
                column = column * len(parent_states) + codes[parent]
            cumulative = np.cumsum(table.values[:, column], axis=0)
            codes[node] = np.minimum((rng.random(_BATCH) > cumulative).sum(axis=0), len(table.values) - 1)
        inside = np.ones(_BATCH, dtype=bool)
        for node, state in model._population.items():
            inside &= codes[node] == states[node].index(state)
        for node in order:
            kept[node].append(codes[node][inside])
        total += int(inside.sum())
    return pd.DataFrame({node: np.array(states[node], dtype=object)[np.concatenate(kept[node])[:n]]
                         for node in model.nodes.index})
