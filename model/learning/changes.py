"""What a fit changed: every parameter of two models side by side, and how far the data moved it.

In plain terms: for a model and its refitted copy (:func:`model.fit`), one row
per parameter with the expert's value and range, the fitted value and range,
and the move in units of the prior's spread: the distance between the two
values on the logit (log for a relative risk), divided by the prior's
standard deviation there (:mod:`model.learning.maximise`). A move of 1 is one
prior standard deviation; the row's range spans 3.3 of them. Pure: takes two
models, returns a DataFrame.
"""

from __future__ import annotations

import numpy as np

from ..analysis.parameters import parameter_table
from .maximise import normal_prior, to_unbounded

__all__ = ["parameter_changes"]


def parameter_changes(before, after):
    """Every parameter of ``before`` (the experts' model) and ``after`` (its refitted copy), largest move first.

    Returns
    -------
    pandas.DataFrame
        Columns ``table``, ``row``, ``node``, ``parameter``, ``kind``, ``prior_value``, ``prior_low``,
        ``prior_high``, ``fitted_value``, ``fitted_low``, ``fitted_high``, ``move`` (signed, in prior
        standard deviations; 0 for a fixed parameter) and ``refitted`` (whether the fit wrote the row).

    Raises
    ------
    ValueError
        When the two models do not have the same parameters (the same rows of the same tables).

    Examples
    --------
    >>> import pandas as pd
    >>> from model import fit, load_model
    >>> m = load_model()
    >>> new = fit(pd.DataFrame({"sex": ["female"] * 90 + ["male"] * 10}), priors=m)
    >>> changes = parameter_changes(m, new)
    >>> top = changes.iloc[0]
    >>> top["node"], float(top["prior_value"]), bool(top["move"] > 0)
    ('sex', 0.6, True)
    """
    old, new = parameter_table(before), parameter_table(after)
    keys = ["table", "row", "node", "parameter", "kind"]
    if not old[keys].equals(new[keys]):
        raise ValueError("the two models do not have the same parameters (the same rows of the same tables); "
                         "parameter_changes compares a model with its refitted copy.")
    kind = old["kind"].to_numpy()
    value, low, high = (old[c].to_numpy(dtype=float) for c in ("value", "low", "high"))
    centre, spread = normal_prior(value, low, high, kind)
    fixed = low == high
    with np.errstate(divide="ignore", invalid="ignore"):
        move = np.where(fixed, 0.0, (to_unbounded(new["value"].to_numpy(dtype=float), kind) - centre) / spread)
    table = old[keys].assign(prior_value=value, prior_low=low, prior_high=high,
                             fitted_value=new["value"].to_numpy(dtype=float),
                             fitted_low=new["low"].to_numpy(dtype=float), fitted_high=new["high"].to_numpy(dtype=float),
                             move=move, refitted=(new["source"] != old["source"]).to_numpy())
    order = np.argsort(-np.abs(move), kind="stable")
    return table.iloc[order].reset_index(drop=True)
