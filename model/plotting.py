"""Figures for papers: posteriors, comparisons, the network, calibration, explanation waterfalls, tornadoes.

Every function takes results (or a model), draws on ``ax`` (a new figure when
``ax`` is None) and returns the matplotlib ``Axes``. Nothing here infers or
calls ``plt.show()``. Needs the ``plot`` extra: ``pip install ".[plot]"``.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "plot_calibration",
    "plot_comparison",
    "plot_explanation",
    "plot_network",
    "plot_posteriors",
    "plot_tornado",
]

ROLE_COLUMNS = ("risk_factor", "cause", "mechanism", "complication", "finding")
#: Horizontal position of each role's column: mechanisms between their causes and the findings they explain,
#: complications near the findings.
ROLE_X = {"risk_factor": 0.0, "cause": 1.0, "mechanism": 1.65, "complication": 2.3, "finding": 3.0}
ROLE_COLOURS = {"risk_factor": "#8c6d31", "cause": "#3182bd", "mechanism": "#756bb1", "complication": "#de2d26",
                "finding": "#636363"}
EMERGENCY_COLOUR = "#de2d26"


#: What to do when matplotlib is missing (``plot`` is the extra of ``pyproject.toml`` that installs it).
INSTALL_HINT = ("plotting needs matplotlib, which is not installed. Install the 'plot' extra: "
                "pip install \"thighpain-bayesnet[plot]\" (in a clone of the repository: pip install \".[plot]\").")


def _matplotlib(name):
    """Import ``name`` (``matplotlib.pyplot``, ...); without matplotlib, an error that says how to install it."""
    import importlib

    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as err:
        if (err.name or "").split(".")[0] != "matplotlib":
            raise
        raise ModuleNotFoundError(INSTALL_HINT, name=err.name) from None


def _flagged(heading, attrs):
    """``(title, colour)``: ``heading`` followed by the red flags of ``attrs`` (firm, then possible), red when any.

    ``attrs`` holds lists (one case) or dicts of lists by case (``compare``, ``infer_batch``).

    Examples
    --------
    >>> heading, colour = _flagged("Posteriors", {"red_flags": [], "possible_red_flags": ["saddle_anaesthesia"]})
    >>> print(heading)
    Posteriors
    POSSIBLE RED FLAG (uncertain answer): saddle_anaesthesia
    (ask directly; possible cauda equina syndrome)
    >>> _flagged("Posteriors", {})
    ('Posteriors', 'black')
    """
    def names(key):
        value = attrs.get(key) or []
        return list(dict.fromkeys(n for v in value.values() for n in v)) if isinstance(value, dict) else list(value)

    firm, possible = names("red_flags"), names("possible_red_flags")
    if firm:
        heading += "\nEMERGENCY RED FLAG: " + ", ".join(firm) + "\n(possible cauda equina syndrome)"
    if possible:
        heading += ("\nPOSSIBLE RED FLAG (uncertain answer): " + ", ".join(possible) +
                    "\n(ask directly; possible cauda equina syndrome)")
    return heading, EMERGENCY_COLOUR if firm or possible else "black"


def _axes(ax, size):
    if ax is not None:
        return ax
    plt = _matplotlib("matplotlib.pyplot")
    _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


#: Colour of the must-not-miss bars and names in :func:`plot_posteriors`.
MUST_NOT_MISS_COLOUR = "#99000d"


def plot_posteriors(result, *, ax=None, title=None):
    """Horizontal bars of each cause's posterior next to its prior.

    Parameters
    ----------
    result : pandas.DataFrame
        From :func:`model.infer` (index cause; columns posterior, prior).
    ax : matplotlib.axes.Axes, optional
    title : str, optional

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
    """
    ax = _axes(ax, (6.5, 0.45 * len(result) + 1.2))
    order = result.iloc[::-1]
    y = np.arange(len(order))
    ax.barh(y + 0.2, order["prior"], height=0.4, color="#bdbdbd", label="prior")
    bars = ax.barh(y - 0.2, order["posterior"], height=0.4, color="#3182bd", label="posterior")
    must = set(result.attrs.get("must_not_miss", ()))
    for bar, node in zip(bars, order.index):
        if node in must:
            bar.set_color(MUST_NOT_MISS_COLOUR)
            bar.set_hatch("//")
    if must:
        ax.barh([], [], height=0.4, color=MUST_NOT_MISS_COLOUR, hatch="//", label="must not miss")
    for yi, value in zip(y, order["posterior"]):
        inside = value > 0.88  # no room to the right: write the number inside the bar, in white
        ax.text(value - 0.01 if inside else value + 0.01, yi - 0.2, f"{value:.2f}", va="center", fontsize=8,
                ha="right" if inside else "left", color="white" if inside else "black")
    ax.set_yticks(y, [("! " if c in must else "") + str(c).replace("_", " ") for c in order.index])
    for label, node in zip(ax.get_yticklabels(), order.index):
        if node in must:
            label.set_color(MUST_NOT_MISS_COLOUR)
            label.set_fontweight("bold")
    ax.set_xlim(0.0, 1.0)
    ax.set_xlabel("P(present)")
    ax.legend(loc="lower right", frameon=False)
    heading, colour = _flagged(title or "Posterior probability of each cause", result.attrs)
    ax.set_title(heading, color=colour, fontsize=10, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_comparison(comparison, *, ax=None, title=None):
    """Grouped bars: each cause's posterior under each variant.

    Parameters
    ----------
    comparison : pandas.DataFrame
        Tidy rows with columns ``variant``, ``cause`` and ``posterior`` (as
        returned by ``compare``); with several cases, the mean posterior per
        variant and cause is drawn.

    Returns
    -------
    matplotlib.axes.Axes
    """
    table = comparison.pivot_table(index="cause", columns="variant", values="posterior", aggfunc="mean",
                                   sort=False)
    variants = list(dict.fromkeys(comparison["variant"]))
    table = table[variants].sort_values(variants[0])
    ax = _axes(ax, (6.5, 0.5 * len(table) + 1.2))
    height = 0.8 / len(variants)
    y = np.arange(len(table))
    for i, variant in enumerate(variants):
        ax.barh(y + (i - (len(variants) - 1) / 2) * height, table[variant], height=height, label=str(variant))
    ax.set_yticks(y, [str(c).replace("_", " ") for c in table.index])
    ax.set_xlim(0.0, 1.0)
    ax.set_xlabel("P(present)")
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], labels[::-1], frameon=False, loc="lower right")  # top-to-bottom, as the bars
    heading, colour = _flagged(title or "Posteriors under each variant of the priors", comparison.attrs)
    ax.set_title(heading, color=colour, fontsize=10, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def _layered_positions(nodes):
    """x by role column, y spread evenly within each column (top to bottom in file order)."""
    positions = {}
    for role in ROLE_COLUMNS:
        members = [n for n, r in nodes["role"].items() if r == role]
        for i, node in enumerate(members):
            positions[node] = (ROLE_X[role], 1.0 - (i + 0.5) / max(len(members), 1))
    return positions


def plot_network(model, *, ax=None, title=None):
    """The network laid out by role: risk factors -> causes -> mechanisms -> complications -> findings.

    Each role is a column, so the drawing stays readable with dozens of
    findings: edges run left to right, causes are coloured by role. Hidden
    mechanism nodes are drawn in italics (their column has a header only when there are some).

    Parameters
    ----------
    model : Model
        From :func:`model.load_model`.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from model import load_model
    >>> ax = plot_network(load_model())
    >>> "pfcn neuropathy" in [t.get_text() for t in ax.texts]
    True
    >>> matplotlib.pyplot.close(ax.figure)
    """
    nodes = model.nodes
    positions = _layered_positions(nodes)
    ax = _axes(ax, (13, max(8.0, 0.3 * (nodes["role"] == "finding").sum())))
    FancyArrowPatch = _matplotlib("matplotlib.patches").FancyArrowPatch  # noqa: N806 (a class)

    for parent, child in model.network.edges():
        (x0, y0), (x1, y1) = positions[parent], positions[child]
        colour = ROLE_COLOURS.get(nodes.loc[parent, "role"], "#999999")
        if x0 == x1:  # an edge within one column (a finding that depends on another): an arc to the left
            ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), connectionstyle="arc3,rad=0.6", color=colour,
                                         arrowstyle="-|>", mutation_scale=6, linewidth=0.8, alpha=0.8, zorder=1))
        else:
            ax.plot([x0 + 0.02, x1 - 0.02], [y0, y1], color=colour, alpha=0.25, linewidth=0.6, zorder=1)
    for node, (x, y) in positions.items():
        role = nodes.loc[node, "role"]
        emergency = bool(nodes.loc[node, "emergency_state"])
        colour = EMERGENCY_COLOUR if emergency else ROLE_COLOURS.get(role, "#999999")
        ax.scatter([x], [y], s=28, color=colour, zorder=2)
        align = "right" if role in ("risk_factor",) else "left"
        offset = -0.03 if align == "right" else 0.03
        ax.text(x + offset, y, node.replace("_", " "), ha=align, va="center", fontsize=7.5, color=colour,
                fontweight="bold" if role in ("cause", "complication") else "normal", zorder=3,
                fontstyle="italic" if role == "mechanism" else "normal",
                bbox=dict(facecolor="white", edgecolor="none", alpha=0.8, pad=0.5))
    present = set(nodes["role"])
    for role, x in ROLE_X.items():
        if role in present or role != "mechanism":  # the mechanisms' header only when the network has some
            ax.text(x, 1.02, role.replace("_", " ") + "s", ha="center", va="bottom", fontsize=10, fontweight="bold")
    ax.set_xlim(-0.9, max(ROLE_X.values()) + 0.8)
    ax.set_ylim(-0.02, 1.06)
    ax.set_axis_off()
    ax.set_title(title or "Network by role (red: emergency red flags)", fontsize=11, loc="left")
    return ax


def plot_calibration(report_or_calibration, *, causes=None, ax=None, title=None):
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
    ax = _axes(ax, (5.5, 5.5))
    ax.plot([0.0, 1.0], [0.0, 1.0], linestyle="--", color="#969696", linewidth=1, label="perfect calibration")
    largest = max(float(table["count"].max()), 1.0) if len(table) else 1.0
    for cause in names:
        rows = table[(table["cause"] == cause) & (table["count"] > 0)]
        line, = ax.plot(rows["mean_predicted"], rows["observed_rate"], marker="", linewidth=1.2,
                        label=str(cause).replace("_", " "))
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


EXPLANATION_COLOURS = {"raises": "#d6604d", "lowers": "#4393c3", "none": "#969696"}


def plot_explanation(explanation, *, ax=None, title=None):
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
    labels = [str(node).replace("_", " ") + (f" = {observed}" if observed else "")
              for node, observed in zip(explanation.index, explanation["observed"])]
    ax.set_yticks([0, *y[::-1], n + 1], ["posterior", *labels[::-1], "prior"])
    low = min(0.0, start, end, *(lefts + np.minimum(steps, 0.0)))
    high = max(0.0, start, end, *(lefts + np.maximum(steps, 0.0)))
    margin = 0.25 * (high - low) + 0.1
    ax.set_xlim(low - 0.05 * margin, high + margin)
    cause = str(attrs["cause"]).replace("_", " ")
    ax.set_xlabel(f"log-odds of {cause}\n(natural log; 0 = probability 0.5)")
    heading, colour = _flagged(title or f"How the evidence moved P({cause})\nfrom {prior:.3g} to {posterior:.3g}",
                               attrs)
    ax.set_title(heading, color=colour, fontsize=10, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    return ax


TORNADO_COLOURS = {"low": "#4393c3", "high": "#d6604d"}


def plot_tornado(sensitivity_table, *, top=15, ax=None, title=None):
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
    ax.set_xlabel(f"P({sensitivity_table.attrs['cause']} present | evidence)")
    ax.legend(loc="best", frameon=False, fontsize=8)
    ax.set_title(title or f"Sensitivity of {sensitivity_table.attrs['cause'].replace('_', ' ')} "
                 f"(line: {centre:.3f} at the experts' values)", fontsize=10, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    return ax
