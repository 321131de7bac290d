"""How one cause's posterior depends on each expert parameter, exactly: tornado data and sweeps.

In plain terms: for one case and one cause, move each expert parameter across
its plausible range ``low..high`` while every other parameter keeps its
value, and record how far the cause's posterior moves. Parameters are ranked
by that swing: the top of the table is what a researcher should pin down
first.

No sweep is re-run through the network. P(evidence) is linear in the table of
any one node, so with every other table fixed

    posterior(theta) = 1 - (G_ref . T(theta)) / (G . T(theta))

where ``T(theta)`` is the node's table at the parameter value ``theta`` (by
the same canonical form as the loader, :mod:`model.analysis.parameters`),
``G`` the gradient of P(evidence) in that table and ``G_ref`` the gradient of
P(evidence, cause in its reference state) (Castillo, Gutierrez and Hadi
1997; Coupe and van der Gaag 2002: a ratio of two linear functions when
``T`` is linear in ``theta``, as for a full-CPT cell with proportional
co-variation, a noisy-OR link or leak, a relative risk below its cap). Both
gradients, for every node at once, come from two calibrations of the
junction tree (:mod:`model.engine.junction`); each value of each parameter
then costs one table and two dot products.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from ..engine.single import calibrate
from ..inference import as_model
from .explain import _check_cause
from .parameters import Parameters, model_parameters, node_values

__all__ = ["sensitivity", "sensitivity_curve"]

#: The slope is a central difference over this fraction of the parameter's range.
SLOPE_STEP = 1e-5
#: Floats of the node tables built at once (settings are grouped to stay under it).
TABLE_FLOATS = 2**18


def _gradients(model, evidence, cause):
    """``(gradient of P(e), gradient of P(e, cause = reference))`` of every node's table, as callables."""
    hard, soft = model.check_evidence(evidence)
    reference = np.eye(len(model._states[cause]))[0]
    whole, absent = calibrate(model, hard, soft), calibrate(model, hard, soft, {cause: reference})
    return whole.table_gradient, absent.table_gradient


def _posteriors(model, parameters, node, values, gradients):
    """The cause's posterior with ``node``'s table built from each row of ``values`` (settings, parameters)."""
    own = Parameters(parameters.table, (next(r for r in parameters.recipes if r[0] == node),))
    whole, absent = (g(node).reshape(-1) for g in gradients)
    rows = max(1, TABLE_FLOATS // len(whole))  # settings per group: the tables of one group stay in the cache
    evidence, with_reference = np.empty(len(values)), np.empty(len(values))
    for start in range(0, len(values), rows):
        flat = node_values(own, model, values[start:start + rows])[node].reshape(-1, len(whole))
        evidence[start:start + rows], with_reference[start:start + rows] = flat @ whole, flat @ absent
    with np.errstate(invalid="ignore", divide="ignore"):
        return 1.0 - with_reference / evidence


def sensitivity(evidence, cause, *, priors=None, points=5):
    """How much each parameter's range moves one cause's posterior, largest swing first.

    Each parameter with ``low < high`` is evaluated at ``points`` evenly
    spaced values from ``low`` to ``high`` (and its own value), all other
    parameters at their values; tables are kept valid as in
    :mod:`model.analysis.parameters` (so a sweep may cross a point where a
    rule starts to bind, e.g. a noisy-OR total reaching its leak). Every value
    is exact (this module's docstring); parameters with ``low == high`` are
    left out. :func:`sensitivity_curve` gives one parameter's whole curve.

    Parameters
    ----------
    evidence : dict
        node -> state or node -> {state: likelihood}, as for :func:`model.infer`.
    cause : str
        A cause or complication.
    priors : str, os.PathLike or Model, optional
        Default: the bundled priors.
    points : int
        Values per sweep, ``low`` and ``high`` included (at least 2).

    Returns
    -------
    pandas.DataFrame
        One row per swept parameter, sorted by ``swing``: ``table``, ``row``
        (the row of ``Model.tables[table]``), ``node``, ``parameter`` (in
        words), ``value``, ``low``, ``high``, ``grade``, ``at_low`` and
        ``at_high`` (the posterior with the parameter at each end),
        ``minimum`` and ``maximum`` over the sweep, ``swing`` = maximum -
        minimum, and ``slope``: d posterior / d parameter at its value (a
        central difference over :data:`SLOPE_STEP` of the range; one-sided
        at a range end). ``.attrs``: ``cause``, ``posterior`` (at the
        experts' values), ``evidence``, ``population`` (as in
        :func:`model.infer`: every value is conditioned on it), ``points``,
        ``priors_digest``.

    Examples
    --------
    >>> table = sensitivity({"avid_cyclist": "yes", "sitting_effect": "dominant"}, "pfcn_neuropathy")
    >>> table.iloc[0]["parameter"]
    'P(pfcn_neuropathy=present | no risk factor)'
    >>> bool((table["swing"].diff().dropna() <= 0).all())
    True
    """
    model = as_model(priors)
    _check_cause(model, cause)
    if isinstance(points, bool) or not isinstance(points, numbers.Integral) or points < 2:
        raise ValueError(f"points must be a whole number of at least 2 (low and high). Got {points!r}.")
    posterior = float(model.infer(evidence).at[cause, "posterior"])  # bad or impossible evidence: infer's message
    parameters = model_parameters(model)
    table = parameters.table
    swept = np.flatnonzero((table["low"] < table["high"]).to_numpy())
    value, low, high = (table[c].to_numpy(dtype=float) for c in ("value", "low", "high"))
    step = SLOPE_STEP * (high - low)
    grid = np.linspace(0.0, 1.0, int(points))
    per = int(points) + 3  # the grid, the value, and the two ends of the slope's difference
    settings = np.column_stack([low[swept, None] + grid * (high - low)[swept, None], value[swept],
                                np.maximum(low, value - step)[swept], np.minimum(high, value + step)[swept]])
    at_setting = np.empty_like(settings)
    gradients = _gradients(model, evidence, cause)
    nodes = table["node"].to_numpy()[swept]
    for node in dict.fromkeys(nodes):
        mine = np.flatnonzero(nodes == node)
        values = np.tile(value, (len(mine) * per, 1))
        for j, k in enumerate(mine):
            values[j * per:(j + 1) * per, swept[k]] = settings[k]
        at_setting[mine] = _posteriors(model, parameters, node, values, gradients).reshape(len(mine), per)
    below, above = settings[:, per - 2], settings[:, per - 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where(above > below, (at_setting[:, per - 1] - at_setting[:, per - 2]) / (above - below), 0.0)
    sweep = at_setting[:, :points + 1]
    result = table.iloc[swept][["table", "row", "node", "parameter", "value", "low", "high", "grade"]] \
        .reset_index(drop=True)
    result = result.assign(at_low=at_setting[:, 0], at_high=at_setting[:, points - 1], minimum=sweep.min(axis=1),
                           maximum=sweep.max(axis=1))
    result = result.assign(swing=result["maximum"] - result["minimum"], slope=slope)
    result = result.sort_values("swing", ascending=False, kind="mergesort").reset_index(drop=True)
    result.attrs = {"cause": cause, "posterior": posterior, "evidence": dict(evidence),
                    "population": model._population_attrs(), "points": int(points),
                    "priors_digest": model.priors_digest}
    return result


def sensitivity_curve(evidence, cause, table, row, *, values=None, priors=None):
    """One cause's exact posterior as one parameter moves, every other parameter at its value.

    Parameters
    ----------
    evidence : dict
        As for :func:`model.infer`.
    cause : str
        A cause or complication.
    table, row :
        The parameter: its table name and row, as in the ``table`` and
        ``row`` columns of :func:`sensitivity` or
        :func:`model.parameter_table`.
    values : array-like, optional
        The parameter values; default 101 evenly spaced values from its
        ``low`` to its ``high``.
    priors : str, os.PathLike or Model, optional
        Default: the bundled priors.

    Returns
    -------
    pandas.DataFrame
        Columns ``value`` and ``posterior``; ``.attrs``: ``cause``,
        ``parameter`` (in words), ``at_value`` (the parameter's own value)
        and ``posterior`` there, ``priors_digest``.

    Raises
    ------
    ValueError
        No parameter has that table and row.

    Examples
    --------
    Regression snapshot (tests/test_sensitivity.py checks curves against fresh models with the parameter
    replaced): the base rate of PFCN neuropathy, row 20 of ``base_rates``, from 0.01 to 0.05.

    >>> curve = sensitivity_curve({"avid_cyclist": "yes"}, "pfcn_neuropathy", "base_rates", 20,
    ...                           values=[0.01, 0.05])
    >>> curve.attrs["parameter"]
    'P(pfcn_neuropathy=present | no risk factor)'
    >>> bool(curve["posterior"].is_monotonic_increasing)
    True
    """
    model = as_model(priors)
    _check_cause(model, cause)
    model.infer(evidence)  # bad or impossible evidence: infer's message
    parameters = model_parameters(model)
    frame = parameters.table
    match = np.flatnonzero(((frame["table"] == table) & (frame["row"] == row)).to_numpy())
    if not len(match):
        raise ValueError(f"no parameter in table {table!r}, row {row!r}; the rows of "
                         "model.parameter_table() list every parameter (columns table and row).")
    p = int(match[0])
    own = float(frame["value"].iat[p])
    if values is None:
        values = np.linspace(frame["low"].iat[p], frame["high"].iat[p], 101)
    values = np.asarray(values, dtype=float).reshape(-1)
    settings = np.tile(frame["value"].to_numpy(dtype=float), (len(values) + 1, 1))
    settings[:, p] = np.append(values, own)
    node = frame["node"].iat[p]
    posterior = _posteriors(model, parameters, node, settings, _gradients(model, evidence, cause))
    curve = pd.DataFrame({"value": values, "posterior": posterior[:-1]})
    curve.attrs = {"cause": cause, "parameter": frame["parameter"].iat[p], "at_value": own,
                   "posterior": float(posterior[-1]), "priors_digest": model.priors_digest}
    return curve
