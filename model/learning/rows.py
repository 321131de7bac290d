"""The refitted parameters written back into the priors tables, valid for the loader.

In plain terms: each fitted parameter goes back into its own row (the
``probability`` or ``relative_risk`` column), with its new ``low..high`` and
its source extended. Values are first put in the form the loader accepts,
with the same repairs that :func:`model.analysis.parameters.node_values` made
when building the tables the fit used (so the tables do not change): base
rates of one node rescaled to sum at most 1, ordered totals made
non-increasing, noisy-OR totals at least the leak, CPT columns summing to 1.
Pure: takes a model and arrays, returns DataFrames.
"""

from __future__ import annotations

import numpy as np

from ..analysis.parameters import model_parameters, node_values
from .maximise import from_unbounded, to_unbounded

__all__ = ["fitted_tables", "uncrossed"]


def _repaired(parameters, theta):
    """The parameter values with the loader's rules restored, node by node (see the module's docstring)."""
    values = theta.copy()
    for _, form, parts in parameters.recipes:
        if form == "base_rate":
            given = values[parts]
            values[parts] = given / max(given.sum(), 1.0)
        elif form == "cpt":
            cells = values[parts]
            values[parts] = cells / cells.sum(axis=0, keepdims=True)
        elif form in ("noisy_or", "logistic"):
            leak_columns, links = parts
            leak = np.minimum.accumulate(values[leak_columns])
            values[leak_columns] = leak
            for columns in links.values():
                totals = np.minimum.accumulate(values[columns])
                values[columns] = np.maximum(totals, leak) if form == "noisy_or" else totals
    return values


def fitted_tables(model, theta, intervals, stamp):
    """``{table name: DataFrame}`` of ``model``'s tables with the fitted parameters (``intervals``: index ->
    (low, high)) written in, for :meth:`model.Model.with_tables`; only the tables that changed."""
    parameters = model_parameters(model)
    listing = parameters.table
    values = _repaired(parameters, np.asarray(theta, dtype=float))
    tables, changed = model.tables, {}
    for i, (low, high) in intervals.items():
        name, row, kind = listing.at[i, "table"], listing.at[i, "row"], listing.at[i, "kind"]
        frame = changed.setdefault(name, tables[name].copy())
        column = "relative_risk" if kind == "relative_risk" else "probability"
        value = float(values[i])
        frame.at[row, column] = value
        frame.at[row, "low"] = min(low, value)
        frame.at[row, "high"] = max(high, value)
        frame.at[row, "source"] = f"{frame.at[row, 'source']}; {stamp}"
    return changed


def uncrossed(model, theta):
    """``theta`` (values of every parameter of ``model``) with each node whose link totals cross (a higher
    state's total above a lower one's in some configuration: :func:`model.analysis.parameters.node_values`
    sets that probability to 0, and the loader refuses such rows) moved back towards ``model``'s own values,
    on the straight line in the unbounded coordinates (:mod:`model.learning.maximise`), to the farthest point
    (to 1/64 of the way) where they do not cross. Other nodes keep their values."""
    parameters = model_parameters(model)
    start = parameters.table["value"].to_numpy(dtype=float)
    kind = parameters.table["kind"].to_numpy()
    out = np.asarray(theta, dtype=float).copy()
    for node, form, _ in parameters.recipes:
        if form not in ("noisy_or", "logistic"):
            continue
        if (node_values(parameters, model, out[None, :], nodes={node}, clip=False)[node] >= 0).all():
            continue
        at = np.flatnonzero((parameters.table["node"] == node).to_numpy())
        begin, end = to_unbounded(start[at], kind[at]), to_unbounded(out[at], kind[at])
        for share in np.linspace(1.0, 0.0, 65)[1:]:
            out[at] = from_unbounded(begin + share * (end - begin), kind[at])
            if (node_values(parameters, model, out[None, :], nodes={node}, clip=False)[node] >= 0).all():
                break
    return out
