"""Explanation waterfalls and sensitivity tornadoes: :func:`plot_explanation`, :func:`plot_tornado`."""

from __future__ import annotations

import numpy as np

from .common import (
    NAME_WIDTH,
    _axes,
    _flagged,
    _namer,
    _wrap,
)

__all__ = ["plot_explanation", "plot_tornado"]


EXPLANATION_COLOURS = {"raises": "#d6604d", "lowers": "#4393c3", "none": "#969696"}


def plot_explanation(explanation, *, ax=None, title=None, labels=None):
    """Waterfall of an explanation: the cause's log-odds from its prior to its posterior.

    The top bar is the prior's log-odds, the bottom one the posterior's (both
    from 0, i.e. probability 0.5, and labelled with their probability); each
    evidence row in between is a floating bar from the running total, red
    when it raises the cause, blue when it lowers it, grey otherwise (the
    ``interaction`` row included), labelled with its ``log_lr``.

    Parameters
    ----------
    explanation : pandas.DataFrame
        From :func:`model.analysis.explain.explain`: columns ``observed``,
        ``log_lr``, ``direction``; ``.attrs`` with ``cause``, ``prior`` and
        ``posterior``.
    ax : matplotlib.axes.Axes, optional
    title : str, optional
    labels : Model or mapping, optional
        The names of the cause and the evidence, as in :func:`plot_posteriors` (default: node names).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from model.analysis.explain import explain
    >>> ax = plot_explanation(explain({"avid_cyclist": "yes", "pain_burning": "yes"}, "pfcn_neuropathy"))
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['posterior', 'pain burning = yes', 'avid cyclist = yes', 'prior']
    >>> matplotlib.pyplot.close(ax.figure)
    """
    attrs = explanation.attrs
    missing = [key for key in ("cause", "prior", "posterior") if key not in attrs]
    if missing:
        raise ValueError(f"explanation.attrs lacks {', '.join(missing)}: pass the DataFrame returned by "
                         "explain() (row selections keep the attrs, so the prior and posterior stay known).")
    prior, posterior = float(attrs["prior"]), float(attrs["posterior"])
    start = np.log(prior) - np.log1p(-prior)
    end = np.log(posterior) - np.log1p(-posterior)
    steps = explanation["log_lr"].to_numpy(dtype=float)
    lefts = start + np.concatenate([[0.0], np.cumsum(steps)[:-1]])
    n = len(steps)
    ax = _axes(ax, (7.5, 0.4 * n + 2.0))
    y = np.arange(n, 0, -1)  # prior at n + 1, evidence rows downwards, posterior at 0
    colours = [EXPLANATION_COLOURS.get(d, EXPLANATION_COLOURS["none"]) for d in explanation["direction"]]
    ax.barh([n + 1, 0], [start, end], height=0.6, color="#525252")
    ax.barh(y, steps, left=lefts, height=0.6, color=colours)
    ax.plot([start] * 2, [n + 0.7, n + 0.3], color="#737373", linewidth=0.6)
    for yi, left, step in zip(y, lefts, steps):
        ax.plot([left + step] * 2, [yi - 0.3, yi - 0.7], color="#737373", linewidth=0.6)  # link to the next bar
        ax.text(max(left, left + step), yi, f" {step:+.2f}", va="center", ha="left", fontsize=8)
    for yi, value, p in ((n + 1, start, prior), (0, end, posterior)):
        ax.text(max(value, 0.0), yi, f" P = {p:.3g}", va="center", ha="left", fontsize=8, fontweight="bold")
    ax.axvline(0.0, color="#bdbdbd", linewidth=0.8, zorder=0)
    name = _namer(labels)
    rows = [_wrap(name(node) + (f" = {observed}" if observed else ""), NAME_WIDTH + 8)
            for node, observed in zip(explanation.index, explanation["observed"])]
    ax.set_yticks([0, *y[::-1], n + 1], ["posterior", *rows[::-1], "prior"])
    low = min(0.0, start, end, *(lefts + np.minimum(steps, 0.0)))
    high = max(0.0, start, end, *(lefts + np.maximum(steps, 0.0)))
    margin = 0.25 * (high - low) + 0.1
    ax.set_xlim(low - 0.05 * margin, high + margin)
    cause = name(attrs["cause"])
    ax.set_xlabel(f"log-odds of {cause}\n(natural log; 0 = probability 0.5)")
    heading, colour = _flagged(title or f"How the evidence moved P({cause})\nfrom {prior:.3g} to {posterior:.3g}",
                               attrs)
    ax.set_title(heading, color=colour, fontsize=10, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    return ax


TORNADO_COLOURS = {"low": "#4393c3", "high": "#d6604d"}


def plot_tornado(sensitivity_table, *, top=15, ax=None, title=None, labels=None):
    """Tornado diagram: the cause's posterior with each parameter at the low and high end of its range.

    One row per parameter, the largest swing on top; the blue part of a bar
    reaches the posterior with the parameter at ``low``, the red part at
    ``high``; the vertical line is the posterior at the experts' values.
    A thin line spans the full sweep (``minimum`` to ``maximum``), which
    reaches beyond the bar where the posterior is not monotone in the parameter.

    Parameters
    ----------
    sensitivity_table : pandas.DataFrame
        From :func:`model.analysis.sensitivity.sensitivity`.
    top : int
        How many parameters to draw.
    ax : matplotlib.axes.Axes, optional
    title : str, optional
    labels : Model or mapping, optional
        The name of the cause, as in :func:`plot_posteriors` (default: its node name); the parameters
        keep the names of their CSV rows.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> table = pd.DataFrame({"parameter": ["a", "b"], "at_low": [0.2, 0.45], "at_high": [0.7, 0.55],
    ...                       "minimum": [0.2, 0.45], "maximum": [0.7, 0.55], "swing": [0.5, 0.1]})
    >>> table.attrs = {"cause": "tumour", "posterior": 0.5}
    >>> ax = plot_tornado(table)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['a', 'b']
    >>> matplotlib.pyplot.close(ax.figure)
    """
    if "posterior" not in sensitivity_table.attrs or "cause" not in sensitivity_table.attrs:
        raise ValueError("plot_tornado needs the table returned by sensitivity() (its attrs give the cause and "
                         "the posterior at the experts' values).")
    rows = sensitivity_table.head(int(top))
    centre = sensitivity_table.attrs["posterior"]
    ax = _axes(ax, (7.5, 0.5 + 0.38 * max(len(rows), 1)))
    y = np.arange(len(rows))[::-1]
    for end in ("low", "high"):
        values = rows[f"at_{end}"].to_numpy(dtype=float)
        ax.barh(y, values - centre, left=centre, height=0.6, color=TORNADO_COLOURS[end],
                label=f"parameter at {end}")
    ax.hlines(y, rows["minimum"], rows["maximum"], color="#252525", linewidth=0.8)
    ax.axvline(centre, color="#252525", linewidth=1)
    ax.set_yticks(y, [str(p) for p in rows["parameter"]], fontsize=8)
    cause = _namer(labels)(sensitivity_table.attrs["cause"])
    ax.set_xlabel(f"P({cause} present | evidence)")
    ax.legend(loc="best", frameon=False, fontsize=8)
    ax.set_title(title or f"Sensitivity of {cause} "
                 f"(line: {centre:.3f} at the experts' values)", fontsize=10, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    return ax
