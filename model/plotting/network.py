"""The network, drawn in columns by role: :func:`plot_network`."""

from __future__ import annotations

import numpy as np

from .common import (
    CAUSE_COLOURS,
    EMERGENCY_COLOUR,
    FINDING_GROUPS,
    ROLE_COLOURS,
    ROLE_COLUMNS,
    ROLE_WRAP,
    ROLE_X,
    _axes,
    _matplotlib,
    _namer,
    _wrap,
)

__all__ = ["plot_network"]


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
