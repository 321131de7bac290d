"""The experts' parameters as one list, and the node tables as a function of their values.

In plain terms: every parameter row of the priors (a base rate, a relative
risk, a link total, a leak, a cell of a full CPT) becomes one entry of
:func:`parameter_table`, with its value, plausible range, source and grade.
:func:`node_values` takes a matrix of values, one row per *draw* (a joint
setting of every parameter) and one column per parameter, and returns every
node's table for every draw at once, by the same canonical forms as the loader
(:mod:`model.priors.forms`). Credible intervals (:mod:`model.analysis.intervals`) and
sensitivity sweeps (:mod:`model.analysis.sensitivity`) are built on these two.

Values drawn independently can break rules the loader enforces on the experts'
own numbers; :func:`node_values` restores them, the same way every time:

- probabilities of one distribution (a base-rate node's states, a CPT column)
  are rescaled to sum to 1 (base rates only when they exceed 1: the reference
  state takes the remainder);
- cumulative totals of an ordered finding (P(state or above)) are made
  non-increasing along the states (running minimum), and a noisy-OR total below
  its leak is raised to the leak (the link then has no effect);
- a relative-risk product above the cap is capped (:data:`model.priors.forms.RELATIVE_RISK_CAP`).

At the experts' own values the tables equal the loader's.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from itertools import product

import numpy as np
import pandas as pd

from ..priors.forms import relative_risk_table
from ..priors.tables import CPT_FOLDER, canonical_tables

__all__ = ["Parameters", "model_parameters", "node_values", "parameter_table"]

_CACHE = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Parameters:
    """Every parameter of a model (``table``: one row each) and how each node's table is built from them."""

    table: pd.DataFrame
    recipes: tuple  # (node, form, parts): parts index columns of the values matrix


def parameter_table(model):
    """One row per parameter of ``model``: where it lives, what it means, its value and range.

    Columns: ``table`` and ``row`` (the row of ``model.tables[table]``),
    ``node`` (whose table it sets), ``parameter`` (in words), ``kind``
    (``probability`` or ``relative_risk``), ``value``, ``low``, ``high``,
    ``grade``, ``source``.

    Examples
    --------
    >>> from model import load_model
    >>> table = parameter_table(load_model())
    >>> table.loc[0, ["table", "parameter"]].tolist(), table.loc[0, ["value", "low", "high"]].astype(float).tolist()
    (['base_rates', 'P(age_group=under_40)'], [0.3, 0.2, 0.4])
    """
    return model_parameters(model).table.copy()


def model_parameters(model):
    """The :class:`Parameters` of ``model`` (built once per model, then cached)."""
    found = _CACHE.get(model)
    if found is None:
        found = _CACHE[model] = _build(model)
    return found


def _build(model):
    priors = model._priors
    nodes, tables = priors.nodes, canonical_tables(priors)
    entries, index = [], {}

    def add(table, row, node, text, kind, value, frame):
        index[table, row] = len(entries)
        entries.append({"table": table, "row": row, "node": node, "parameter": text, "kind": kind, "value": value,
                        "low": frame.at[row, "low"], "high": frame.at[row, "high"],
                        "grade": frame.at[row, "grade"], "source": frame.at[row, "source"]})

    def at_least(node, state):
        return "=" if len(nodes.at[node, "states"]) == 2 else ">="

    frame = tables.get("base_rates", pd.DataFrame())
    for row, r in frame.iterrows():
        given = " | no risk factor" if nodes.at[r["node"], "form"] == "relative_risk" else ""
        add("base_rates", row, r["node"], f"P({r['node']}={r['state']}{given})", "probability", r["probability"], frame)
    frame = tables.get("risk_factors", pd.DataFrame())
    for row, r in frame.iterrows():
        add("risk_factors", row, r["cause"], f"relative risk of {r['cause']} if {r['risk_factor']}={r['state']}",
            "relative_risk", r["relative_risk"], frame)
    frame = tables.get("links", pd.DataFrame())
    for row, r in frame.iterrows():
        add("links", row, r["child"], f"P({r['child']}{at_least(r['child'], r['child_state'])}{r['child_state']} | "
            f"{r['parent']}={r['parent_state']} alone)", "probability", r["probability"], frame)
    frame = tables.get("leaks", pd.DataFrame())
    for row, r in frame.iterrows():
        add("leaks", row, r["node"], f"P({r['node']}{at_least(r['node'], r['state'])}{r['state']} | no modelled "
            "cause)", "probability", r["probability"], frame)
    for name in sorted(t for t in tables if t.startswith(f"{CPT_FOLDER}/")):
        frame, node = tables[name], name.split("/", 1)[1]
        parents = [c for c in frame.columns if c in nodes.index and c != node]
        for row, r in frame.iterrows():
            given = ", ".join(f"{p}={r[p]}" for p in parents)
            add(name, row, node, f"P({node}={r[node]}{' | ' + given if given else ''})", "probability",
                r["probability"], frame)
    listing = pd.DataFrame(entries, columns=["table", "row", "node", "parameter", "kind", "value", "low", "high",
                                             "grade", "source"])
    recipes = tuple(_recipe(node, nodes.at[node, "form"], priors.node_tables[node], tables, index)
                    for node in nodes.index)
    return Parameters(listing, recipes)


def _recipe(node, form, t, tables, index):
    """Which columns of the values matrix set each part of ``node``'s form."""
    where = {p: i for i, p in enumerate(t.parents)}

    def rows(name, **match):
        frame = tables[name]
        hit = np.ones(len(frame), dtype=bool)
        for column, value in match.items():
            hit &= (frame[column] == value).to_numpy()
        return frame[hit]

    if form == "base_rate":
        own = rows("base_rates", node=node)
        return node, form, [index["base_rates", own.index[own["state"] == s][0]] for s in t.states[1:]]
    if form == "relative_risk":
        own = rows("base_rates", node=node)
        risks = {(where[r["risk_factor"]], t.parent_states[where[r["risk_factor"]]].index(r["state"])):
                 index["risk_factors", row] for row, r in rows("risk_factors", cause=node).iterrows()}
        return node, form, (index["base_rates", own.index[own["state"] == t.states[1]][0]], risks)
    if form in ("noisy_or", "logistic"):
        own = rows("leaks", node=node)
        leak = [index["leaks", own.index[own["state"] == s][0]] for s in t.states[1:]]
        links = {}
        for row, r in rows("links", child=node).iterrows():
            key = (where[r["parent"]], t.parent_states[where[r["parent"]]].index(r["parent_state"]))
            links.setdefault(key, [None] * len(leak))[t.states.index(r["child_state"]) - 1] = index["links", row]
        return node, form, (leak, links)
    name = f"{CPT_FOLDER}/{node}"
    frame = tables[name]
    cells = {tuple(r[p] for p in t.parents) + (r[node],): index[name, row] for row, r in frame.iterrows()}
    columns = [[cells[config + (s,)] for s in t.states] for config in product(*t.parent_states)]
    return node, "cpt", np.array(columns).T  # (states, configurations)


def node_values(parameters, model, values, nodes=None, *, contiguous=True, clip=True):
    """Every node's table for every draw: ``{node: array (draws, states, configurations)}``.

    ``values`` has shape (draws, parameters), columns in the order of
    ``parameters.table``. The rules that keep drawn tables valid are in this
    module's docstring. With ``nodes``, only those nodes' tables (each the
    same as without it). ``contiguous=False`` gives the noisy-OR and logistic
    tables as views of arrays laid out (states, configurations, draws), the
    same numbers, quicker for the batch engine to rearrange (credible
    intervals); the default gives C-ordered arrays (whose matrix products do
    not depend on the layout).

    Examples
    --------
    >>> from model import load_model
    >>> m = load_model()
    >>> p = model_parameters(m)
    >>> tables = node_values(p, m, p.table["value"].to_numpy()[None, :])
    >>> bool(np.allclose(tables["sitting_effect"][0], m._priors.node_tables["sitting_effect"].values, atol=1e-12))
    True
    >>> list(node_values(p, m, p.table["value"].to_numpy()[None, :], nodes={"sitting_effect"}))
    ['sitting_effect']
    """
    values = np.asarray(values, dtype=float)
    out = {}
    for node, form, parts in parameters.recipes:
        if nodes is not None and node not in nodes:
            continue
        t = model._priors.node_tables[node]
        if form == "base_rate":
            given = values[:, parts]
            given = given / np.maximum(given.sum(axis=1, keepdims=True), 1.0)
            table = np.concatenate([1.0 - given.sum(axis=1, keepdims=True), given], axis=1)[:, :, None]
        elif form == "relative_risk":
            baseline, risks = parts
            table, _ = relative_risk_table(values[:, baseline], {k: values[:, i] for k, i in risks.items()},
                                           t.parent_states)
        elif form == "cpt":
            table = values[:, parts]
            table = table / table.sum(axis=1, keepdims=True)
        else:
            leak_columns, links = parts
            leak = np.minimum.accumulate(values[:, leak_columns], axis=1)
            totals = {k: np.minimum.accumulate(values[:, cols], axis=1) for k, cols in links.items()}
            if form == "noisy_or":
                totals = {k: np.maximum(v, leak) for k, v in totals.items()}
            table = _links_table(form, leak, totals, t.parent_states)  # (states, configurations, draws)
            if not clip:
                out[node] = np.ascontiguousarray(table.transpose(2, 0, 1))
                continue
            np.clip(table, 0.0, 1.0, out=table)
            total = table[0] + table[1]  # the states added in order, as table.sum(axis=1) does
            for state in table[2:]:
                total += state
            table = np.divide(table, total, out=table).transpose(2, 0, 1)
            if contiguous:
                table = np.ascontiguousarray(table)
        out[node] = table
    return out


def _links_table(form, leak, totals, parent_states):
    """:func:`~model.priors.forms.noisy_max_table` (``noisy_or``) or :func:`~model.priors.forms.logistic_table`
    of many draws, laid out (states, configurations, draws): the same numbers (the same operations in the same
    order), computed with the configurations first so that every pass runs over long rows of draws.

    ``leak`` (draws, states - 1), ``totals`` {(parent, state): (draws, states - 1)}.
    """
    draws, above = leak.shape
    if form == "noisy_or":
        with np.errstate(divide="ignore", invalid="ignore"):
            cut = {k: np.where(leak < 1.0, 1.0 - (1.0 - v) / (1.0 - leak), 0.0) for k, v in totals.items()}
        start, effects, combine = 1.0 - leak, {k: 1.0 - q for k, q in cut.items()}, np.multiply
    else:
        with np.errstate(over="ignore", divide="ignore"):
            base = np.log(leak) - np.log1p(-leak)
            effects = {k: (np.log(v) - np.log1p(-v)) - base for k, v in totals.items()}
        start, combine = base, np.add
    result = start.reshape(1, -1)  # (configurations so far, draws x states above the reference)
    for parent, states in enumerate(parent_states):
        grown = np.empty((len(result), len(states), draws * above))
        for state in range(len(states)):  # a state without a link combines with 1 (or 0): a copy
            effect = effects.get((parent, state))
            if effect is None:
                grown[:, state] = result
            else:
                combine(result, effect.reshape(-1), out=grown[:, state])
        result = grown.reshape(-1, draws * above)
    table = np.empty((above + 1, len(result), draws))
    at_least = table[1:]  # P(state or above), (above, configurations, draws), in place
    if form == "noisy_or":
        np.subtract(1.0, np.moveaxis(result.reshape(-1, draws, above), 2, 0), out=at_least)
    else:
        with np.errstate(over="ignore"):
            at_least[...] = np.moveaxis((1.0 / (1.0 + np.exp(-result))).reshape(-1, draws, above), 2, 0)
    np.subtract(1.0, table[1], out=table[0])
    for state in range(1, above):  # P(state) = P(state or above) - P(next state or above), upwards
        np.subtract(table[state], table[state + 1], out=table[state])
    return table
