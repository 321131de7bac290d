"""Learning from cases: :func:`fit` refines the experts' parameters with data (MAP on the exact engine).

The doorway: :func:`fit` (also :meth:`model.Model.fit`), :func:`parameter_changes` (what a fit changed),
:func:`cross_validate` (did it help), :func:`simulate` (a cohort drawn from a model), :class:`FitReport`,
:class:`FitWarning`, :class:`CrossValidation`. The work is in :mod:`model.learning.estimate` (the search),
:mod:`model.learning.counts` (expected counts on the junction tree), :mod:`model.learning.maximise` (the
canonical forms' derivatives and the priors), :mod:`model.learning.rows` (the rows written back),
:mod:`model.learning.changes`, :mod:`model.learning.crossval` and :mod:`model.learning.cohort`. No module is
named after a function of this doorway (an imported submodule would shadow it).
"""

from .changes import parameter_changes
from .crossval import CrossValidation
from .crossval import cross_validate as _cross_validate
from .cohort import simulate as _simulate
from .estimate import FitReport, FitWarning, refit

__all__ = ["CrossValidation", "FitReport", "FitWarning", "cross_validate", "fit", "parameter_changes", "simulate"]


def fit(cases, labels=None, *, priors=None, max_iterations=100, tolerance=1e-6, report=False, progress=False):
    """A new Model whose parameters are refined by ``cases`` (and optional cause ``labels``): the MAP, each
    parameter's prior centred on the expert's value with its row's ``low..high`` as spread.

    ``priors`` is the model to refine: a :class:`~model.Model`, a priors folder or a bundled population
    name (the primary-care priors by default); it is not changed. The other arguments, the result and the
    errors are those of :func:`model.learning.estimate.refit`.

    Examples
    --------
    >>> import pandas as pd
    >>> cases = pd.DataFrame({"sex": ["female"] * 90 + ["male"] * 10})
    >>> new = fit(cases)
    >>> float(new.tables["base_rates"].set_index("node").at["sex", "probability"]) > 0.6
    True
    """
    from ..inference import as_model

    return refit(as_model(priors), cases, labels, max_iterations=max_iterations, tolerance=tolerance, report=report,
                 progress=progress)


def cross_validate(cases, labels=None, *, priors=None, folds=5, seed=None, max_iterations=100, bins=10):
    """The experts' model and its refit scored side by side on ``folds`` held-out parts of ``cases``: per
    labelled cause AUC, Brier, log loss and ECE, and the held-out log-likelihood of the observations. See
    :func:`model.learning.crossval.cross_validate`; ``priors`` as for :func:`fit`.
    """
    from ..inference import as_model

    return _cross_validate(as_model(priors), cases, labels, folds=folds, seed=seed, max_iterations=max_iterations,
                           bins=bins)


def simulate(n, *, priors=None, seed=None):
    """``n`` complete cases drawn from a model within its population (forward sampling, seeded): see
    :func:`model.learning.cohort.simulate`; ``priors`` as for :func:`fit`.

    >>> cohort = simulate(3, seed=7)
    >>> len(cohort), cohort["posterior_thigh_pain"].tolist()
    (3, ['yes', 'yes', 'yes'])
    """
    from ..inference import as_model

    return _simulate(as_model(priors), n, seed=seed)
