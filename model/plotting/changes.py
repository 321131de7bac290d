"""The figure of what a fit changed: the parameters the data moved most, prior and fitted side by side."""

from __future__ import annotations

import numpy as np

from .common import _axes

__all__ = ["plot_parameter_changes"]


def plot_parameter_changes(changes, *, top=15, ax=None, title=None):
    """The ``top`` largest moves of :func:`model.parameter_changes`: for each parameter, the expert's value and
    range (grey) and the fitted value and range (blue), on one row, the largest move on top.

    Parameters
    ----------
    changes : pandas.DataFrame
        From :func:`model.parameter_changes`.
    top : int
        How many parameters to draw.
    ax : matplotlib.axes.Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> table = pd.DataFrame({"parameter": ["P(a)", "P(b)"], "kind": ["probability"] * 2, "prior_value": [0.2, 0.5],
    ...                       "prior_low": [0.1, 0.4], "prior_high": [0.3, 0.6], "fitted_value": [0.35, 0.52],
    ...                       "fitted_low": [0.3, 0.45], "fitted_high": [0.4, 0.58], "move": [2.5, 0.3]})
    >>> ax = plot_parameter_changes(table)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['P(a)  (+2.5 sd)', 'P(b)  (+0.3 sd)']
    >>> matplotlib.pyplot.close(ax.figure)
    """
    if "move" not in changes or "fitted_value" not in changes:
        raise ValueError("plot_parameter_changes needs the table returned by parameter_changes().")
    rows = changes.head(int(top))
    ax = _axes(ax, (7.5, 0.6 + 0.42 * max(len(rows), 1)))
    y = np.arange(len(rows))[::-1].astype(float)
    for offset, prefix, colour, label in ((0.15, "prior", "#969696", "expert: value and range"),
                                          (-0.15, "fitted", "#2171b5", "fitted: value and 90% interval")):
        value = rows[f"{prefix}_value"].to_numpy(dtype=float)
        low, high = rows[f"{prefix}_low"].to_numpy(dtype=float), rows[f"{prefix}_high"].to_numpy(dtype=float)
        ax.hlines(y + offset, low, high, color=colour, linewidth=2.5)
        ax.plot(value, y + offset, "o", color=colour, markersize=5, label=label)
    if (rows["kind"] == "relative_risk").all():
        ax.set_xscale("log")
    ax.set_yticks(y, [f"{p}  ({m:+.1f} sd)" for p, m in zip(rows["parameter"], rows["move"])], fontsize=8)
    ax.set_xlabel("parameter value")
    ax.legend(loc="best", frameon=False, fontsize=8)
    ax.set_title(title or "What the data moved most (in prior standard deviations)", fontsize=10, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    return ax
