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
#: Horizontal position of each role's column in :func:`plot_network`, in inches on its default figure: risk
#: factors are named left of their marker, the others right of it; mechanisms between their causes and the
#: findings they explain, complications near the findings.
ROLE_X = {"risk_factor": 2.4, "cause": 3.2, "mechanism": 5.7, "complication": 7.4, "finding": 8.9}
#: Characters per line of a name in each column of :func:`plot_network`.
ROLE_WRAP = {"risk_factor": 34, "cause": 36, "mechanism": 24, "complication": 22, "finding": 70}
#: The groups of findings (``nodes.csv`` ``finding_type``) in :func:`plot_network`, top to bottom; other types
#: follow alphabetically, findings without a type last.
FINDING_GROUPS = ("presentation", "symptom", "sign", "test")
#: Colours of the edges leaving each cause in :func:`plot_network`, top to bottom: tab20 without its reds
#: (emergencies) and greys (findings), dark and light by turns so that neighbouring causes differ in hue.
CAUSE_COLOURS = ("#1f77b4", "#ffbb78", "#2ca02c", "#c5b0d5", "#8c564b", "#f7b6d2", "#bcbd22", "#9edae5",
                 "#ff7f0e", "#aec7e8", "#9467bd", "#98df8a", "#e377c2", "#c49c94", "#17becf", "#dbdb8d")
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


def _namer(labels, width=None):
    """A function node -> its display name, wrapped to ``width`` characters a line when given.

    ``labels`` is None (the node's name, underscores as spaces: what one types as evidence), a model
    or priors (anything with a ``nodes`` table: its ``label`` column, from ``nodes.csv``) or a mapping
    node -> name. A node it does not name, or names with an empty label, falls back to its name.

    Examples
    --------
    >>> name = _namer({"pfcn_neuropathy": "Posterior femoral cutaneous nerve neuropathy"}, width=30)
    >>> print(name("pfcn_neuropathy"))
    Posterior femoral cutaneous
    nerve neuropathy
    >>> name("pain_burning")
    'pain burning'
    """
    nodes = getattr(labels, "nodes", None)
    if nodes is not None:
        if "label" not in getattr(nodes, "columns", ()):
            raise ValueError("labels must be a model (or priors) whose nodes table has a 'label' column, a mapping "
                             f"node -> name, or None. Got {type(labels).__name__} without a 'label' column instead.")
        labels = nodes["label"]
    elif labels is not None and not hasattr(labels, "get"):
        raise ValueError(f"labels must be a model, a mapping node -> name, or None. Got {labels!r} instead.")
    table = {} if labels is None else labels

    def name(node):
        label = table.get(node)
        return _wrap(label.strip() if isinstance(label, str) and label.strip() else str(node).replace("_", " "),
                     width)

    return name


def _wrap(text, width):
    """``text`` on lines of at most ``width`` characters (unchanged when ``width`` is None or it fits)."""
    import textwrap

    return textwrap.fill(text, width, break_on_hyphens=False) if width and len(text) > width else text


#: Characters per line of a name in the bar charts (longer ``nodes.csv`` labels wrap onto a second line).
NAME_WIDTH = 40


#: Colour of the must-not-miss bars and names in :func:`plot_posteriors`.
MUST_NOT_MISS_COLOUR = "#99000d"


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


def _network_layout(nodes, edges, sweeps=2):
    """Rows of the nodes of :func:`plot_network` (0 at the top) and the headings of the finding groups.

    The findings fill their column in groups (:data:`FINDING_GROUPS`), each under its heading; within a
    column or group the nodes are ordered by the barycentre heuristic (the mean rank of their parents,
    then of their children, ``sweeps`` times), which uncrosses edges. Risk factors and causes spread over
    the height; mechanisms and complications sit at the mean row of their neighbours, three rows apart.

    Returns
    -------
    rows : dict
        Node -> row.
    headings : list of (str, float)
        Each group of findings (its ``finding_type``; "other" for findings without one, when others have
        one) with the row of its heading; none when no finding has a type.
    total : float
        The rows used.
    """
    role = nodes["role"]
    layers = [[n for n in nodes.index if role[n] == r] for r in ROLE_COLUMNS]
    findings = layers[-1]
    kinds = (nodes["finding_type"].reindex(findings).fillna("").astype(str) if "finding_type" in nodes
             else {n: "" for n in findings})
    present = {kinds[n] for n in findings}
    order = [k for k in FINDING_GROUPS if k in present] + sorted(present - set(FINDING_GROUPS) - {""})
    groups = [[n for n in findings if kinds[n] == k] for k in order]
    if "" in present:
        order.append("other" if order else None)
        groups.append([n for n in findings if kinds[n] == ""])
    column = {n: i for i, layer in enumerate(layers) for n in layer}
    parents = {n: [] for n in nodes.index}
    children = {n: [] for n in nodes.index}
    for parent, child in edges:
        if column[parent] < column[child]:
            parents[child].append(parent)
            children[parent].append(child)

    def ranks():
        out = {}
        for layer in [*layers[:-1], [n for group in groups for n in group]]:
            out.update({n: (i + 0.5) / len(layer) for i, n in enumerate(layer)})
        return out

    def ordered(members, rank, neighbours):
        return sorted(members, key=lambda n: np.mean([rank[m] for m in neighbours[n]]) if neighbours[n] else rank[n])

    for _ in range(sweeps):
        for i in range(1, len(layers)):  # down: by the parents' mean rank
            rank = ranks()
            if i == len(layers) - 1:
                groups = [ordered(group, rank, parents) for group in groups]
            else:
                layers[i] = ordered(layers[i], rank, parents)
        for i in range(len(layers) - 2, -1, -1):  # up: by the children's mean rank
            layers[i] = ordered(layers[i], ranks(), children)

    rows, headings, row = {}, [], 0.0
    for heading, group in zip(order, groups):
        if heading is not None:
            headings.append((heading, row))
            row += 1.2
        rows.update({n: row + i for i, n in enumerate(group)})
        row += len(group) + 0.6
    total = max(row - 0.6, 1.0)
    for layer in layers[:2]:
        rows.update({n: (i + 0.5) * total / len(layer) for i, n in enumerate(layer)})
    neighbours = {n: parents[n] + children[n] for n in nodes.index}
    for layer in layers[2:4]:
        wanted = sorted((np.mean([rows[m] for m in neighbours[n] if m in rows] or [total / 2]), n) for n in layer)
        last = -np.inf
        for want, n in wanted:
            rows[n] = last = max(want, last + 3.0)
        overflow = max([rows[n] - total for n in layer] + [0.0])
        rows.update({n: rows[n] - overflow for n in layer})
    return rows, headings, total


def _emergency(value):
    """Whether a ``nodes.csv`` ``emergency_state`` cell names a state (empty and NaN do not)."""
    return isinstance(value, str) and bool(value.strip())


def plot_network(model, *, ax=None, title=None, labels=None):
    """The network laid out by role: risk factors -> causes -> mechanisms -> complications -> findings.

    Each role is a column; the findings are grouped by their ``finding_type`` (presentation, symptoms,
    signs, tests) under a heading. Within a column, nodes are ordered by the mean position of their
    parents and children (the barycentre heuristic), which uncrosses edges. Edges are thin and
    translucent, each in the colour of the cause it leaves (marked beside the cause's name), and run
    from the end of the parent's name to the child's marker. Causes and complications are in bold,
    hidden mechanisms in italics (their column has a header only when there are some), emergency
    findings in red. Without ``ax``, the figure is 13.5 inches wide and 0.2 inch a row of findings.

    Parameters
    ----------
    model : Model
        From :func:`model.load_model`.
    ax : matplotlib.axes.Axes, optional
    title : str, optional
    labels : Model or mapping, optional
        The names to show, as in :func:`plot_posteriors`: None (default) shows the node names with
        underscores as spaces; ``labels=model`` the ``label`` column of its ``nodes.csv``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from model import load_model
    >>> m = load_model()
    >>> ax = plot_network(m)
    >>> "pfcn neuropathy" in [t.get_text() for t in ax.texts]
    True
    >>> matplotlib.pyplot.close(ax.figure)
    >>> ax = plot_network(m, labels=m)
    >>> "Burning pain" in [t.get_text() for t in ax.texts]
    True
    >>> matplotlib.pyplot.close(ax.figure)
    """
    nodes = model.nodes
    edges = list(model.network.edges())
    rows, headings, total = _network_layout(nodes, edges)
    ax = _axes(ax, (13.5, max(6.0, 0.2 * total + 1.4)))
    FancyArrowPatch = _matplotlib("matplotlib.patches").FancyArrowPatch  # noqa: N806 (a class)
    roles = nodes["role"]
    causes = [n for n in nodes.index if roles[n] == "cause"]
    edge_colours = {c: CAUSE_COLOURS[i % len(CAUSE_COLOURS)] for i, c in enumerate(sorted(causes, key=rows.get))}
    name = _namer(labels)

    texts = {}
    for node in nodes.index:
        role, x, y = roles[node], ROLE_X.get(roles[node], ROLE_X["finding"]), -rows[node]
        emergency = _emergency(nodes.loc[node, "emergency_state"])
        colour = EMERGENCY_COLOUR if emergency else ROLE_COLOURS.get(role, "#999999")
        ax.scatter([x], [y], s=24, color=edge_colours.get(node, colour), edgecolor="white", linewidth=0.5, zorder=3)
        left = role == "risk_factor"  # risk factors are named left of their marker, the rest right of it
        texts[node] = ax.text(x - 0.07 if left else x + 0.07, y, _wrap(name(node), ROLE_WRAP.get(role)),
                              ha="right" if left else "left", va="center", fontsize=7.5, color=colour,
                              linespacing=0.95, zorder=4,
                              fontweight="bold" if role in ("cause", "complication") else "normal",
                              fontstyle="italic" if role == "mechanism" else "normal",
                              bbox=dict(facecolor="white", edgecolor="none", alpha=0.85, pad=0.3))
    for parent, child in edges:
        colour = edge_colours.get(parent, ROLE_COLOURS.get(roles[parent], "#999999"))
        start = (ROLE_X.get(roles[parent], ROLE_X["finding"]), -rows[parent])
        end = (ROLE_X.get(roles[child], ROLE_X["finding"]), -rows[child])
        if start[0] == end[0]:  # an edge within one column (a finding that depends on another): an arc on the left
            ax.add_patch(FancyArrowPatch(start, end, connectionstyle=f"arc3,rad={0.5 if end[1] < start[1] else -0.5}",
                                         color=colour, arrowstyle="-|>", mutation_scale=6, linewidth=0.8,
                                         alpha=0.8, zorder=1))
            continue
        from_name = roles[parent] != "risk_factor"  # from the end of the parent's name, else from its marker
        edge = ax.annotate("", end, xytext=(1.0, 0.5) if from_name else start,
                           textcoords=texts[parent] if from_name else "data", zorder=1,
                           arrowprops=dict(arrowstyle="-", color=colour, linewidth=0.55, alpha=0.5,
                                           shrinkA=0, shrinkB=2))
        edge.set_in_layout(False)
    present = set(roles)
    for role, x in ROLE_X.items():
        if role in present or role != "mechanism":  # the mechanisms' header only when the network has some
            ax.text(x, 2.2, role.replace("_", " ") + "s", ha="right" if role == "risk_factor" else "left",
                    va="bottom", fontsize=10, fontweight="bold")
    for heading, row in headings:
        ax.text(ROLE_X["finding"] - 0.1, -row + 0.2, heading + ("" if heading == "presentation" else "s"),
                ha="left", va="center", fontsize=9, fontweight="bold", fontstyle="italic", color="#252525")
    ax.set_xlim(0.0, 13.5)
    ax.set_ylim(-total - 0.5, 3.4)
    ax.set_axis_off()
    ax.set_title(title or "Network by role (edges in the colour of their cause; red: emergency red flags)",
                 fontsize=11, loc="left")
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
