"""One-at-a-time sensitivity of a cause's posterior to every uncertain parameter: tornado data.

In plain terms: for one case and one cause, move each expert parameter across
its plausible range ``low..high`` while every other parameter keeps its
value, and record how far the cause's posterior moves. Parameters are ranked
by that swing: the top of the table is what a researcher should pin down
first. All sweeps are exact posteriors, computed together through the batch
engine's draw axis (each swept setting is one "draw").
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from ..engine import draw_posteriors
from ..inference import as_model
from .explain import _check_cause
from .intervals import evidence_frame
from .parameters import Parameters, model_parameters, node_values

__all__ = ["sensitivity"]

#: The slope is a central difference over this fraction of the parameter's range.
SLOPE_STEP = 1e-5


def sensitivity(evidence, cause, *, priors=None, points=5):
    """How much each parameter's range moves one cause's posterior, largest swing first.

    Each parameter with ``low < high`` is swept over ``points`` evenly spaced
    values from ``low`` to ``high`` (and its own value), all other parameters
    at their values; drawn tables are kept valid as in
    :mod:`model.analysis.parameters` (so a sweep may cross a point where a
    rule starts to bind, e.g. a noisy-OR total reaching its leak). Parameters
    with ``low == high`` are left out.

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
        :func:`model.infer`: every sweep is conditioned on it), ``points``,
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
    grid = np.linspace(0.0, 1.0, int(points))
    step = SLOPE_STEP * (high - low)
    rows, settings = [], []  # settings: (parameter, its value) per swept setting, one "draw" each
    for p in swept:
        for x in list(low[p] + grid * (high[p] - low[p])) + [value[p], max(low[p], value[p] - step[p]),
                                                               min(high[p], value[p] + step[p])]:
            settings.append((p, x))
    nodes = table["node"].to_numpy()

    def tables_of(a, b):
        chunk = settings[a:b]
        values = np.tile(value, (len(chunk), 1))
        values[np.arange(len(chunk)), [p for p, _ in chunk]] = [x for _, x in chunk]
        touched = {nodes[p] for p, _ in chunk}
        subset = Parameters(table, tuple(r for r in parameters.recipes if r[0] in touched))
        return node_values(subset, model, values)

    column = list(model._reported).index(cause)
    at_setting = np.empty(len(settings))
    for _, _, block in draw_posteriors(model, evidence_frame(evidence), tables_of, len(settings), progress=False):
        at_setting[:] = block[:, 0, column]
    per = int(points) + 3
    for k, p in enumerate(swept):
        sweep = at_setting[k * per: (k + 1) * per]
        below, above = settings[k * per + per - 2][1], settings[k * per + per - 1][1]
        rows.append({"at_low": sweep[0], "at_high": sweep[points - 1], "minimum": sweep[:points + 1].min(),
                     "maximum": sweep[:points + 1].max(),
                     "slope": (sweep[per - 1] - sweep[per - 2]) / (above - below) if above > below else 0.0})
    result = pd.concat([table.iloc[swept][["table", "row", "node", "parameter", "value", "low", "high", "grade"]]
                        .reset_index(drop=True), pd.DataFrame(rows, columns=["at_low", "at_high", "minimum",
                                                                             "maximum", "slope"])], axis=1)
    result.insert(result.columns.get_loc("slope"), "swing", result["maximum"] - result["minimum"])
    result = result.sort_values("swing", ascending=False, kind="mergesort").reset_index(drop=True)
    result.attrs = {"cause": cause, "posterior": posterior, "evidence": dict(evidence),
                    "population": model._population_attrs(), "points": int(points),
                    "priors_digest": model.priors_digest}
    return result
