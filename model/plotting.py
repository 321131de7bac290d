"""Figures for papers: posterior bars, variant comparisons, the network drawn by role.

Every function takes results (or a model), draws on ``ax`` (a new figure when
``ax`` is None) and returns the matplotlib ``Axes``. Nothing here infers or
calls ``plt.show()``. Needs the ``plot`` extra: ``pip install ".[plot]"``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["plot_comparison", "plot_network", "plot_posteriors"]

ROLE_COLUMNS = ("risk_factor", "cause", "complication", "finding")
#: Horizontal position of each role's column: complications sit near the findings they explain.
ROLE_X = {"risk_factor": 0.0, "cause": 1.0, "complication": 2.3, "finding": 3.0}
ROLE_COLOURS = {"risk_factor": "#8c6d31", "cause": "#3182bd", "complication": "#de2d26", "finding": "#636363"}
EMERGENCY_COLOUR = "#de2d26"


def _axes(ax, size):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


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
        The emergency red flags of ``result.attrs`` are written in red above the bars.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from model import infer
    >>> ax = plot_posteriors(infer({"crossed_slr_positive": "yes"}))
    >>> [float(x) for x in ax.get_xlim()]
    [0.0, 1.0]
    >>> matplotlib.pyplot.close(ax.figure)
    """
    ax = _axes(ax, (6.5, 0.45 * len(result) + 1.2))
    order = result.iloc[::-1]
    y = np.arange(len(order))
    ax.barh(y + 0.2, order["prior"], height=0.4, color="#bdbdbd", label="prior")
    ax.barh(y - 0.2, order["posterior"], height=0.4, color="#3182bd", label="posterior")
    for yi, value in zip(y, order["posterior"]):
        inside = value > 0.88  # no room to the right: write the number inside the bar, in white
        ax.text(value - 0.01 if inside else value + 0.01, yi - 0.2, f"{value:.2f}", va="center", fontsize=8,
                ha="right" if inside else "left", color="white" if inside else "black")
    ax.set_yticks(y, [str(c).replace("_", " ") for c in order.index])
    ax.set_xlim(0.0, 1.0)
    ax.set_xlabel("P(present)")
    ax.legend(loc="lower right", frameon=False)
    flags = result.attrs.get("red_flags", [])
    heading = title or "Posterior probability of each cause"
    if flags:
        heading += "\nEMERGENCY RED FLAG: " + ", ".join(flags) + "\n(possible cauda equina syndrome)"
    ax.set_title(heading, color=EMERGENCY_COLOUR if flags else "black", fontsize=10, loc="left")
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
    ax.set_title(title or "Posteriors under each variant of the priors", fontsize=10, loc="left")
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
    """The network laid out by role: risk factors -> causes -> complications -> findings.

    Each role is a column, so the drawing stays readable with dozens of
    findings: edges run left to right, causes are coloured by role.

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
    from matplotlib.patches import FancyArrowPatch

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
                bbox=dict(facecolor="white", edgecolor="none", alpha=0.8, pad=0.5))
    for role, x in ROLE_X.items():
        ax.text(x, 1.02, role.replace("_", " ") + "s", ha="center", va="bottom", fontsize=10, fontweight="bold")
    ax.set_xlim(-0.9, max(ROLE_X.values()) + 0.8)
    ax.set_ylim(-0.02, 1.06)
    ax.set_axis_off()
    ax.set_title(title or "Network by role (red: emergency red flags)", fontsize=11, loc="left")
    return ax
