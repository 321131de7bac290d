"""Posteriors, comparisons and calibration: :func:`plot_posteriors`, :func:`plot_comparison`, :func:`plot_calibration`."""

from __future__ import annotations

import numpy as np

from .common import (
    MUST_NOT_MISS_COLOUR,
    NAME_WIDTH,
    _axes,
    _flagged,
    _matplotlib,
    _namer,
)

__all__ = ["plot_calibration", "plot_comparison", "plot_posteriors"]


def plot_posteriors(result, *, ax=None, title=None, labels=None):
    """Horizontal bars of each cause's posterior next to its prior, with its credible interval when known.

    Parameters
    ----------
    result : pandas.DataFrame
        From :func:`model.infer` (index cause; columns posterior, prior; with ``interval=``, also
        ``low`` and ``high``, drawn as error bars on the posterior bars).
    ax : matplotlib.axes.Axes, optional
    title : str, optional
    labels : Model or mapping, optional
        The names to show. None (default): node names with underscores as spaces, as typed in
        evidence. A model (the one the result came from, e.g. ``load_model()``): the ``label`` column
        of its ``nodes.csv``. A mapping: node -> name. Names longer than :data:`NAME_WIDTH` characters wrap.

    Returns
    -------
    matplotlib.axes.Axes
        The emergency red flags of ``result.attrs`` (firm and possible) are written in red above the bars.
        The must-not-miss nodes (``result.attrs["must_not_miss"]``: serious causes at or above their action
        threshold) have dark red, hatched bars and a bold dark red name starting with "!", whatever their rank.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from model import infer
    >>> ax = plot_posteriors(infer({"crossed_slr_positive": "yes"}))
    >>> [float(x) for x in ax.get_xlim()]
    [0.0, 1.0]
    >>> matplotlib.pyplot.close(ax.figure)
    >>> ax = plot_posteriors(infer({"trauma_or_fall": "high_energy"}))
    >>> [label.get_text() for label in ax.get_yticklabels() if label.get_text().startswith("!")]
    ['! bone injury']
    >>> matplotlib.pyplot.close(ax.figure)

    The labels of ``nodes.csv``, and the 90% credible intervals as error bars:

    >>> from model import load_model
    >>> m = load_model()
    >>> result = m.infer({"crossed_slr_positive": "yes"}, interval=0.9, draws=50, seed=1)
    >>> ax = plot_posteriors(result, labels=m)
    >>> print(ax.get_yticklabels()[-1].get_text())
    Lumbar disc herniation
    (radiculopathy)
    >>> ax.get_legend().get_texts()[-1].get_text()
    '90% credible interval'
    >>> matplotlib.pyplot.close(ax.figure)
    """
    name = _namer(labels, NAME_WIDTH)
    ax = _axes(ax, (7.5 if labels is not None else 6.5, 0.45 * len(result) + 1.2))
    order = result.iloc[::-1]
    y = np.arange(len(order))
    ax.barh(y + 0.2, order["prior"], height=0.4, color="#bdbdbd", label="prior")
    bars = ax.barh(y - 0.2, order["posterior"], height=0.4, color="#3182bd", label="posterior")
    must = set(result.attrs.get("must_not_miss", ()))
    for bar, node in zip(bars, order.index):
        if node in must:
            bar.set_facecolor(MUST_NOT_MISS_COLOUR)
            bar.set_edgecolor("white")  # the hatch is drawn in the edge colour: white lines on dark red
            bar.set_hatch("//")
    if must:
        ax.barh([], [], height=0.4, label="must not miss")
    ends = order["posterior"].to_numpy(dtype=float)
    if {"low", "high"} <= set(result.columns):
        low, high = order["low"].to_numpy(dtype=float), order["high"].to_numpy(dtype=float)
        level = (result.attrs.get("interval") or {}).get("level")
        ax.errorbar(ends, y - 0.2, xerr=[np.clip(ends - low, 0.0, None), np.clip(high - ends, 0.0, None)],
                    fmt="none", ecolor="#252525", elinewidth=0.9, capsize=2.5, zorder=3,
                    label=f"{level:.0%} credible interval" if level else "credible interval")
        ends = np.maximum(ends, high)  # the number goes right of the interval
    for yi, value, end in zip(y, order["posterior"], ends):
        inside = end > 0.88 and value > 0.12  # no room to the right: write the number inside the bar, in white
        ax.text(value - 0.01 if inside else end + 0.01, yi - 0.2, f"{value:.2f}", va="center", fontsize=8,
                ha="right" if inside else "left", color="white" if inside else "black")
    ax.set_yticks(y, [("! " if c in must else "") + name(c) for c in order.index])
    for label, node in zip(ax.get_yticklabels(), order.index):
        if node in must:
            label.set_color(MUST_NOT_MISS_COLOUR)
            label.set_fontweight("bold")
    ax.set_xlim(0.0, 1.0)
    ax.set_xlabel("P(present)")
    handles, names = ax.get_legend_handles_labels()
    patch = _matplotlib("matplotlib.patches").Patch  # an empty bar's own legend swatch has the default colour
    handles = [patch(facecolor=MUST_NOT_MISS_COLOUR, edgecolor="white", hatch="//") if n == "must not miss" else h
               for h, n in zip(handles, names)]
    ax.legend(handles, names, loc="lower right", frameon=False)
    heading, colour = _flagged(title or "Posterior probability of each cause", result.attrs)
    ax.set_title(heading, color=colour, fontsize=10, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_comparison(comparison, *, ax=None, title=None, labels=None):
    """Grouped bars: each cause's posterior under each variant.

    Parameters
    ----------
    comparison : pandas.DataFrame
        Tidy rows with columns ``variant``, ``cause`` and ``posterior`` (as
        returned by ``compare``); with several cases, the mean posterior per
        variant and cause is drawn.
    ax : matplotlib.axes.Axes, optional
    title : str, optional
    labels : Model or mapping, optional
        The names to show, as in :func:`plot_posteriors` (default: node names).

    Returns
    -------
    matplotlib.axes.Axes
    """
    table = comparison.pivot_table(index="cause", columns="variant", values="posterior", aggfunc="mean",
                                   sort=False)
    variants = list(dict.fromkeys(comparison["variant"]))
    table = table[variants].sort_values(variants[0])
    ax = _axes(ax, (7.5 if labels is not None else 6.5, 0.5 * len(table) + 1.2))
    height = 0.8 / len(variants)
    y = np.arange(len(table))
    for i, variant in enumerate(variants):
        ax.barh(y + (i - (len(variants) - 1) / 2) * height, table[variant], height=height, label=str(variant))
    ax.set_yticks(y, [_namer(labels, NAME_WIDTH)(c) for c in table.index])
    ax.set_xlim(0.0, 1.0)
    ax.set_xlabel("P(present)")
    handles, names = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], names[::-1], frameon=False, loc="lower right")  # top-to-bottom, as the bars
    heading, colour = _flagged(title or "Posteriors under each variant of the priors", comparison.attrs)
    ax.set_title(heading, color=colour, fontsize=10, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_calibration(report_or_calibration, *, causes=None, ax=None, title=None, labels=None):
    """Reliability diagram: observed rate against mean predicted probability, per bin and cause.

    Points on the dashed diagonal are perfectly calibrated; above it, the
    model under-estimates the cause, below it, over-estimates. A point's area
    grows with the number of cases in its bin; empty bins are not drawn.

    Parameters
    ----------
    report_or_calibration : ValidationReport or pandas.DataFrame
        The result of ``model.analysis.validation.validate`` or its
        ``calibration`` table (columns ``cause``, ``count``,
        ``mean_predicted``, ``observed_rate``).
    causes : list of str, optional
        The causes to draw, in this order; default: every cause in the table.
    ax : matplotlib.axes.Axes, optional
    title : str, optional
    labels : Model or mapping, optional
        The names in the legend, as in :func:`plot_posteriors` (default: node names).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> table = pd.DataFrame({"cause": ["tumour", "tumour"], "count": [90, 10],
    ...                       "mean_predicted": [0.05, 0.8], "observed_rate": [0.04, 0.7]})
    >>> ax = plot_calibration(table)
    >>> [float(x) for x in ax.get_xlim()]
    [0.0, 1.0]
    >>> matplotlib.pyplot.close(ax.figure)
    """
    table = getattr(report_or_calibration, "calibration", report_or_calibration)
    names = list(dict.fromkeys(table["cause"])) if causes is None else list(causes)
    unknown = [c for c in names if c not in set(table["cause"])]
    if unknown:
        raise ValueError(f"causes not in the calibration table: {', '.join(map(str, unknown))}. "
                         f"It has: {', '.join(map(str, dict.fromkeys(table['cause'])))}.")
    name = _namer(labels, NAME_WIDTH)
    ax = _axes(ax, (5.5, 5.5))
    ax.plot([0.0, 1.0], [0.0, 1.0], linestyle="--", color="#969696", linewidth=1, label="perfect calibration")
    largest = max(float(table["count"].max()), 1.0) if len(table) else 1.0
    for cause in names:
        rows = table[(table["cause"] == cause) & (table["count"] > 0)]
        line, = ax.plot(rows["mean_predicted"], rows["observed_rate"], marker="", linewidth=1.2,
                        label=name(cause))
        ax.scatter(rows["mean_predicted"], rows["observed_rate"], s=15 + 185 * rows["count"] / largest,
                   color=line.get_color(), alpha=0.8, zorder=3)
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.0)
    ax.set_aspect("equal")
    ax.set_xlabel("mean predicted P(present) in bin")
    ax.set_ylabel("observed rate in bin")
    ax.legend(loc="upper left", frameon=False, fontsize=8)
    ax.set_title(title or "Calibration (point area: cases in bin)", fontsize=10, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    return ax
