"""Did the refit help? :func:`cross_validate` scores the experts' model and the refitted one on held-out folds.

In plain terms: the cases are split into ``folds`` parts at random (seeded);
each part in turn is held out while the model is refitted on the others
(:func:`model.learning.estimate.refit`), and both models, the experts' and the
refitted, score the held-out part: per labelled cause AUC, Brier score, log
loss and ECE (:func:`model.analysis.validation.cause_metrics`; the labels are
not given to the models as evidence), and the held-out log-likelihood of the
observations, log P(case | the population), summed over the part. Larger
log-likelihood, AUC; smaller Brier, log loss, ECE: better.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..analysis.validation import cause_metrics
from ..engine import infer_batch
from ..engine.single import junction_tree
from ..engine.sliced import given
from .estimate import FitWarning, _evidence, _with_labels, refit

__all__ = ["CrossValidation", "cross_validate"]


@dataclass(frozen=True, eq=False)
class CrossValidation:
    """What :func:`cross_validate` measured.

    Attributes
    ----------
    metrics : pandas.DataFrame
        Tidy: one row per fold, model (``expert`` or ``refitted``) and labelled cause, columns ``fold``,
        ``model``, ``cause``, ``n``, ``prevalence``, ``auc``, ``brier``, ``log_loss``, ``ece``.
    log_likelihood : pandas.DataFrame
        One row per fold: ``cases`` held out and scored, ``expert`` and ``refitted`` (sum of log P(case |
        population) over them), ``per_case_gain`` (refitted minus expert, per case).
    summary : pandas.DataFrame
        The metrics averaged over the folds, indexed by (cause, model).
    """

    metrics: pd.DataFrame
    log_likelihood: pd.DataFrame
    summary: pd.DataFrame


def held_out_log_likelihood(model, cases):
    """Sum over ``cases`` (as for :func:`model.infer_batch`; good rows only) of log P(case | the population),
    exact, and the number of cases."""
    evidence, weights = _evidence(model, cases)
    tree, total = junction_tree(model), 0.0
    states = model._states
    population = {node: states[node].index(state) for node, state in model._population.items()}
    for (hard, soft), weight in zip(evidence, weights):
        total += weight * given(tree, hard).calibrate(soft).log_evidence
    n = float(weights.sum())
    if population:
        total -= n * given(tree, population).calibrate({}).log_evidence
    return total, n


def cross_validate(model, cases, labels=None, *, folds=5, seed=None, max_iterations=100, bins=10):
    """Score ``model`` and its refit on ``folds`` held-out parts of ``cases`` (see the module's docstring).

    ``cases`` and ``labels`` are as for :func:`model.fit`; rows that are bad or impossible under the
    experts' model are left out of every fold. Returns a :class:`CrossValidation`.

    Examples
    --------
    >>> import pandas as pd
    >>> from model import load_model
    >>> cases = pd.DataFrame({"sex": ["female"] * 45 + ["male"] * 5, "pain_burning": ["yes", "no"] * 25})
    >>> result = cross_validate(load_model(), cases, folds=2, seed=1)
    >>> result.log_likelihood.columns.tolist()
    ['fold', 'cases', 'expert', 'refitted', 'per_case_gain']
    >>> bool((result.log_likelihood["per_case_gain"] > 0).all())
    True
    """
    if isinstance(folds, bool) or not isinstance(folds, (int, np.integer)) or folds < 2:
        raise ValueError(f"folds must be a whole number of at least 2. Got {folds!r}.")
    combined = _with_labels(model, cases, labels)  # the same checks as fit, before anything is computed
    good = infer_batch(combined, priors=model).notna().all(axis=1).to_numpy()
    rows = np.flatnonzero(good)
    if len(rows) < folds:
        raise ValueError(f"{len(rows)} usable cases cannot be split into {folds} folds.")
    fold_of = np.empty(len(rows), dtype=int)
    fold_of[np.random.default_rng(seed).permutation(len(rows))] = np.arange(len(rows)) % folds
    scored = [] if labels is None else [c for c in model.causes if c in labels.columns]
    metrics, likelihood = [], []
    for fold in range(folds):
        train, test = rows[fold_of != fold], rows[fold_of == fold]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FitWarning)  # the whole fit's warnings are the user's own call
            refitted = refit(model, cases.iloc[train], None if labels is None else labels.iloc[train],
                             max_iterations=max_iterations)
        held_out = cases.iloc[test]
        scores = {}
        for name, candidate in (("expert", model), ("refitted", refitted)):
            scores[name] = held_out_log_likelihood(candidate, held_out)[0]
            if scored:
                table = cause_metrics(infer_batch(held_out, priors=candidate)[scored], labels.iloc[test][scored],
                                      bins)
                metrics.append(table.reset_index().assign(fold=fold, model=name))
        likelihood.append({"fold": fold, "cases": len(test), **scores,
                           "per_case_gain": (scores["refitted"] - scores["expert"]) / len(test)})
    columns = ["fold", "model", "cause", "n", "prevalence", "auc", "brier", "log_loss", "ece"]
    metrics = pd.concat(metrics, ignore_index=True)[columns] if metrics else pd.DataFrame(columns=columns)
    summary = metrics.groupby(["cause", "model"], sort=False)[["auc", "brier", "log_loss", "ece"]].mean()
    return CrossValidation(metrics, pd.DataFrame(likelihood), summary)

