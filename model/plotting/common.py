"""What the figures share: matplotlib on first use (with the install hint), axes, names, colours, flags."""

from __future__ import annotations

import numpy as np

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
