"""Credible intervals on the posteriors, from the experts' plausible ranges.

In plain terms: every parameter row of the priors gives a value and a range
``low..high`` the expert finds plausible. Reading each range as a probability
distribution on that parameter, we draw many joint settings of all parameters,
compute every cause's posterior under each (exactly, with the batch engine),
and report the median and the central ``interval`` of those posteriors.

**The distributions (a modelling choice).**

- A probability with ``low < high`` follows the Beta distribution whose 5th and
  95th percentiles are ``low`` and ``high`` (solved to 1e-12). A bound of
  exactly 0 or 1, which no Beta percentile can reach, is read as
  :data:`EDGE` or 1 - :data:`EDGE`.
- A relative risk follows the log-normal whose 5th and 95th percentiles are
  ``low`` and ``high`` (a ratio is not a probability: its uncertainty is
  multiplicative).
- A parameter with ``low == high`` is fixed at its value.

The expert's ``value`` is the point estimate used by :func:`model.infer`; it
sets the distribution only when the range is a point, so the interval need not
be centred on the point posterior. Parameters are drawn independently, by
inverse-CDF sampling of one uniform number per parameter and draw (seeded):
the same seed gives the same draws, and narrower ranges map the same uniform
numbers to values nearer the centre. Drawn tables are kept valid (columns sum
to 1, ordered totals stay ordered) as described in
:mod:`model.analysis.parameters`.

**Only what the cases need is computed.** The cases are scored on the network
without its barren nodes (:mod:`model.engine.pruning`: neither observed in any
row, nor reported, nor in the population, nor an ancestor of one of those),
which leaves every posterior unchanged; every parameter's uniform number is
still drawn, so a seed gives the same interval as scoring the whole network,
but only the kept nodes' parameters and tables are computed.
"""

from __future__ import annotations

import numbers
import weakref
from functools import cache

import numpy as np
import pandas as pd

from ..engine.cases import check_columns
from ..engine.draws import draw_posteriors
from ..engine.pruning import observed_columns, pruned_model, relevant_nodes
from .parameters import model_parameters, node_values

__all__ = ["EDGE", "MAX_DRAWS", "draw_parameters", "evidence_frame", "parameter_distributions", "posterior_intervals",
           "with_intervals"]

#: Where a range bound of exactly 0 or 1 is moved to before fitting a Beta distribution.
EDGE = 1e-3
#: Most parameter draws of one interval: the draws are held in memory (parameters x draws numbers, twice). At
#: 10,000 draws a 5th percentile is already the 5 +- 0.2th (one standard error: sqrt(0.05 * 0.95 / 10,000)).
MAX_DRAWS = 20_000
_Z95 = 1.6448536269514722  # the standard normal's 95th percentile
_DISTRIBUTIONS = weakref.WeakKeyDictionary()


@cache
def _beta(low, high):
    """(a, b) of the Beta distribution whose 5th and 95th percentiles are ``low`` and ``high``."""
    from scipy import optimize, special

    lo, hi = np.log(low / (1 - low)), np.log(high / (1 - high))
    centre, spread = 1 / (1 + np.exp(-(lo + hi) / 2)), (hi - lo) / (2 * _Z95)
    size = max(1.0 / (centre * (1 - centre) * spread**2) - 1.0, 1e-3)  # a logit-normal's moments: a start

    def misfit(x):
        q = np.clip(special.betaincinv(*np.exp(x), [0.05, 0.95]), 1e-300, 1 - 1e-16)
        return np.log(q / (1 - q)) - [lo, hi]

    best = None
    for total in (size, 1.0, 10.0):  # the logit-normal start fails for ranges spanning most of (0, 1)
        fit = optimize.least_squares(misfit, np.log([centre * total, (1 - centre) * total]), xtol=1e-15,
                                     ftol=1e-15, gtol=1e-15)
        if best is None or fit.cost < best.cost:
            best = fit
    if not np.all(np.abs(best.fun) < 1e-6):
        raise ValueError(f"no Beta distribution has its 5th and 95th percentiles at {low:g} and {high:g}.")
    return tuple(float(v) for v in np.exp(best.x))


def _inside(low, high):
    """The range with a bound of exactly 0 or 1 moved to :data:`EDGE` or 1 - :data:`EDGE` (at most half-way)."""
    return (min(EDGE, high / 2) if low == 0 else low), (max(1 - EDGE, (1 + low) / 2) if high == 1 else high)


def parameter_distributions(model):
    """The distribution of every parameter: the parameter table plus ``distribution``, ``a``, ``b``.

    ``distribution`` is ``beta`` (``a``, ``b`` its shapes), ``lognormal``
    (``a``, ``b`` the mean and standard deviation of the log) or ``fixed``.

    Examples
    --------
    >>> from model import load_model
    >>> table = parameter_distributions(load_model())
    >>> row = table.iloc[0]
    >>> row["distribution"], float(row["low"]), float(row["high"])
    ('beta', 0.2, 0.4)
    >>> from scipy import stats
    >>> stats.beta(row["a"], row["b"]).ppf([0.05, 0.95]).round(9).tolist()
    [0.2, 0.4]
    """
    found = _DISTRIBUTIONS.get(model)
    if found is None:
        table = model_parameters(model).table
        kind, a, b = [], [], []
        for is_ratio, low, high in zip(table["kind"] == "relative_risk", table["low"], table["high"]):
            if low == high:
                kind.append("fixed"), a.append(np.nan), b.append(np.nan)
            elif is_ratio:
                kind.append("lognormal")
                a.append((np.log(low) + np.log(high)) / 2), b.append((np.log(high) - np.log(low)) / (2 * _Z95))
            else:
                kind.append("beta")
                shapes = _beta(*_inside(low, high))
                a.append(shapes[0]), b.append(shapes[1])
        found = _DISTRIBUTIONS[model] = table.assign(distribution=kind, a=a, b=b)
    return found.copy()


def draw_parameters(model, draws, seed=None, nodes=None):
    """``draws`` joint settings of every parameter: an array (draws, parameters).

    Columns follow :func:`model.analysis.parameters.parameter_table`. With
    ``nodes``, only the parameters of those nodes' tables are drawn (the others
    keep the expert's value); each drawn column is the same as without ``nodes``
    (the same uniform numbers are used).

    Examples
    --------
    >>> from model import load_model
    >>> values = draw_parameters(load_model(), 5, seed=1)
    >>> values.shape
    (5, 674)
    >>> bool((values == draw_parameters(load_model(), 5, seed=1)).all())
    True
    >>> some = draw_parameters(load_model(), 5, seed=1, nodes={"age_group"})
    >>> bool((some[:, 0] == values[:, 0]).all())
    True
    """
    from scipy import special

    table = parameter_distributions(model)
    uniform = np.random.default_rng(seed).random((draws, len(table)))
    values = np.tile(table["value"].to_numpy(dtype=float), (draws, 1))
    wanted = np.ones(len(table), dtype=bool) if nodes is None else table["node"].isin(list(nodes)).to_numpy()
    for kind in ("beta", "lognormal"):
        at = np.flatnonzero((table["distribution"] == kind).to_numpy() & wanted)
        a, b = table["a"].to_numpy()[at], table["b"].to_numpy()[at]
        if kind == "beta":
            values[:, at] = special.betaincinv(a, b, uniform[:, at])
        else:
            values[:, at] = np.exp(a + b * special.ndtri(uniform[:, at]))
    return values


def _check_options(interval, draws):
    if isinstance(interval, bool) or not isinstance(interval, numbers.Real) or not 0 < interval < 1:
        raise ValueError(f"interval must be a number between 0 and 1 (0.9 for a 90% interval). Got {interval!r}.")
    if isinstance(draws, bool) or not isinstance(draws, numbers.Integral) or draws < 1:
        raise ValueError(f"draws must be a positive whole number (e.g. 1000). Got {draws!r}.")
    if draws > MAX_DRAWS:
        raise ValueError(f"draws must be at most {MAX_DRAWS:,} (the draws are held in memory). Got {draws!r}. "
                         "To allow more, raise model.analysis.intervals.MAX_DRAWS first.")


def posterior_intervals(model, cases, *, interval=0.9, draws=1000, seed=None, progress=None):
    """Median and central ``interval`` of each case's posteriors over ``draws`` parameter draws.

    Parameters
    ----------
    model : Model
    cases : pandas.DataFrame
        As for :func:`model.infer_batch`.
    interval : float
        The central probability of the interval: 0.9 gives the 5th and 95th
        percentiles of the drawn posteriors.
    draws : int
        Joint parameter draws; the Monte Carlo error of a percentile shrinks
        like ``1 / sqrt(draws)``.
    seed : int, optional
        Seed of the draws: the same seed gives the same numbers.
    progress : bool, optional
        A progress bar on long runs (default: when standard error is a terminal).

    Returns
    -------
    dict of str to numpy.ndarray
        ``median``, ``low``, ``high``, each (cases, reported nodes) in
        ``Model.causes`` then ``Model.complications`` order; NaN for bad rows.

    Examples
    --------
    >>> import pandas as pd
    >>> from model import load_model
    >>> m = load_model()
    >>> out = posterior_intervals(m, pd.DataFrame({"avid_cyclist": ["yes"]}), draws=200, seed=0)
    >>> bool((out["low"] <= out["median"]).all() and (out["median"] <= out["high"]).all())
    True
    """
    return _intervals(model, cases, interval, draws, seed, progress, prune=True)


def _intervals(model, cases, interval, draws, seed, progress, prune):
    """:func:`posterior_intervals`; ``prune=False`` scores the whole network (the reference for the pruning).

    The uniform numbers of every parameter of the whole model are drawn (so a seed gives the same draws
    either way); with ``prune`` the cases are scored on the model without its barren nodes
    (:mod:`model.engine.pruning`: exact), whose parameters and tables alone are computed.
    """
    _check_options(interval, draws)
    parameters = model_parameters(model)
    scored, nodes = model, None
    if prune:
        check_columns(model, cases)  # names every unknown column, on the whole model
        observed = observed_columns(cases)
        scored = pruned_model(model, relevant_nodes(model, observed))
        cases, nodes = cases[observed], set(scored._states)
    values = draw_parameters(model, int(draws), seed, nodes)
    tail = (1.0 - float(interval)) / 2.0
    n, reported = len(cases), len(model._reported)
    out = {name: np.empty((n, reported)) for name in ("low", "median", "high")}

    def tables(a, b):
        return node_values(parameters, model, values[a:b], nodes, contiguous=False)

    for start, stop, posteriors in draw_posteriors(scored, cases, tables, int(draws), progress=progress):
        low, median, high = np.quantile(posteriors, [tail, 0.5, 1.0 - tail], axis=0)
        out["low"][start:stop], out["median"][start:stop], out["high"][start:stop] = low, median, high
    return out


def with_intervals(model, cases, result, *, interval, draws=1000, seed=None, progress=None):
    """``result`` (:func:`model.engine.run_batch` of ``cases``) with each posterior's median and central
    credible interval (:func:`posterior_intervals`): what :func:`model.infer_batch` returns for ``interval``.

    The columns become a two-level index (cause, statistic), statistics ``posterior``, ``median``, ``low``,
    ``high``; the attrs of ``result`` are kept and ``interval`` (level, draws, seed) is added.
    """
    ranges = posterior_intervals(model, cases, interval=interval, draws=draws, seed=seed, progress=progress)
    ranges["posterior"] = result.to_numpy()
    names = ("posterior", "median", "low", "high")
    columns = pd.MultiIndex.from_product([list(result.columns), names], names=["cause", "statistic"])
    frame = pd.DataFrame(np.stack([ranges[s] for s in names], axis=2).reshape(len(result), len(columns)),
                         index=cases.index, columns=columns)
    frame.attrs = {**result.attrs, "interval": {"level": float(interval), "draws": int(draws), "seed": seed}}
    return frame


def evidence_frame(evidence):
    """One case of evidence (a dict, as for :func:`model.infer`) as a one-row DataFrame for the batch engine.

    Examples
    --------
    >>> evidence_frame({"avid_cyclist": "yes", "sitting_effect": {"none": 0.2, "aggravates": 1, "dominant": 1}})
       avid_cyclist                                 sitting_effect
    0           yes  {'none': 0.2, 'aggravates': 1, 'dominant': 1}
    """
    return pd.DataFrame({node: pd.Series([value], dtype=object) for node, value in evidence.items()}, index=[0])
