"""The pieces of the log posterior of the parameters, per node, in the form its rows are written in.

In plain terms: a node's free parameters (its link totals and leak, relative
risks and base rate, logistic totals, or CPT cells) build its table by the
loader's own canonical forms (:func:`model.analysis.parameters.node_values`);
each is searched in an unbounded coordinate ``z`` (the logit of a
probability, the log of a relative risk), where its prior is normal: centred
on the expert's value, with the width of its row's range (``z(low)`` and
``z(high)`` 2 x 1.645 standard deviations apart, as the 5th and 95th
percentiles). So a narrow range moves little and a wide one follows the data,
and a parameter no data inform stays at the expert's value. (The credible
intervals' Beta, fitted to the range's percentiles alone, has its mode away
from the expert's value: as a prior it would move every parameter the data
say little about.) This module gives the derivatives of each cell's log
probability with respect to ``z`` (central differences, one vectorised table
build per node), the prior's log density and derivative, and the 90% Laplace
interval of each parameter at the fitted values.

The interval uses, per node, the outer-product (Fisher) curvature of the
cases' expected counts of that node plus the prior's curvature: the
*complete-data* information of the node alone, which ignores both the
information lost to hidden cells and the correlation with other nodes'
parameters, so intervals from data with many hidden cells are optimistic.
Pure: takes arrays, returns arrays.
"""

from __future__ import annotations

import numpy as np

from ..analysis.parameters import node_values

__all__ = ["LIMIT", "from_unbounded", "log_prior", "node_interval", "normal_prior", "slopes", "to_unbounded"]

_STEP = 1e-5  # central differences, in the unbounded coordinates
_Z90 = 1.6448536269514722  # the standard normal's 95th percentile: a central 90% interval
LIMIT = 30.0  # |logit| or |log| of a parameter at most this (a Beta prior with a < 1 has its mode at 0)
_FLOOR = 1e-300


def from_unbounded(z, kind):
    """Parameters from unbounded coordinates: a probability from its logit, a relative risk from its log."""
    return np.where(kind == "relative_risk", np.exp(z), 1.0 / (1.0 + np.exp(-z)))


def to_unbounded(values, kind):
    values = np.asarray(values, dtype=float)
    ratio = kind == "relative_risk"
    z = np.empty_like(values)
    with np.errstate(divide="ignore"):
        z[ratio] = np.log(values[ratio])
        z[~ratio] = np.log(values[~ratio]) - np.log1p(-values[~ratio])
    return np.clip(z, -LIMIT, LIMIT)


def normal_prior(value, low, high, kind):
    """``(centre, spread)`` of each parameter's normal prior on ``z``: the expert's value, and the standard
    deviation that puts ``low`` and ``high`` 1.645 of them either side of the middle of their ``z``."""
    centre = to_unbounded(value, kind)
    spread = (to_unbounded(high, kind) - to_unbounded(low, kind)) / (2 * _Z90)
    return centre, spread


def log_prior(z, centre, spread):
    """Log prior density of the parameters at ``z`` (up to a constant), and its gradient and curvature."""
    gap = (z - centre) / spread
    return -0.5 * float(np.sum(gap**2)), -gap / spread, -1.0 / spread**2


def slopes(parameters, model, node, base, free, kind):
    """d log P(state | parents) / dz for every cell of ``node``'s table (parameters, cells), by central
    differences in the unbounded coordinates ``z`` of its ``free`` parameters (one vectorised call), with
    every other parameter at its value in ``base``. Cells whose probability is 0 get slope 0 (no case can
    fall in them)."""
    k = len(free)
    z = to_unbounded(base[free], kind)
    values = np.tile(base, (2 * k, 1))
    values[:, free] = from_unbounded(z + np.vstack([np.eye(k), -np.eye(k)]) * _STEP, kind)
    table = node_values(parameters, model, values, nodes={node})[node].reshape(2 * k, -1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (np.log(table[:k]) - np.log(table[k:])) / (2 * _STEP)
    return np.where(np.isfinite(out), out, 0.0)


def node_interval(parameters, model, node, base, free, kind, spread, counts):
    """``(low, high)``: the 90% Laplace interval of ``node``'s ``free`` parameters at the values in ``base``
    (``kind`` of each, their prior's ``centre`` and ``spread`` on ``z``, ``counts`` the node's expected counts,
    states by parent configurations). The curvature of the counts' term is its outer-product (Fisher) form,
    the sum of count * d log P / dz d log P / dz' over the cells."""
    k = len(free)
    z = to_unbounded(base[free], kind)
    slope = slopes(parameters, model, node, base, free, kind)
    weights = counts.reshape(-1)
    slope = np.where(weights > 0, slope, 0.0)
    hessian = (slope * weights) @ slope.T
    hessian[np.diag_indices(k)] += 1.0 / spread**2
    try:
        variance = np.diag(np.linalg.inv(hessian))
    except np.linalg.LinAlgError:
        variance = np.full(k, np.nan)
    spread = np.where(np.isfinite(variance) & (variance > 0), np.sqrt(np.abs(variance)), np.inf) * _Z90
    low = from_unbounded(np.clip(z - spread, -LIMIT, LIMIT), kind)
    high = from_unbounded(np.clip(z + spread, -LIMIT, LIMIT), kind)
    values = base[free]
    return np.minimum(low, values), np.maximum(high, values)
