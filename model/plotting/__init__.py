"""Figures for papers: posteriors, comparisons, the network, calibration, explanation waterfalls, tornadoes,
what a fit changed.

Every function takes results (or a model), draws on ``ax`` (a new figure when
``ax`` is None) and returns the matplotlib ``Axes``. Nothing here infers or
calls ``plt.show()``. Needs the ``plot`` extra: ``pip install ".[plot]"``.
"""

from .changes import plot_parameter_changes
from .common import MUST_NOT_MISS_COLOUR, NAME_WIDTH
from .explanation import plot_explanation, plot_tornado
from .network import plot_network
from .results import plot_calibration, plot_comparison, plot_posteriors

__all__ = [
    "plot_calibration",
    "plot_comparison",
    "plot_explanation",
    "plot_network",
    "plot_parameter_changes",
    "plot_posteriors",
    "plot_tornado",
]
