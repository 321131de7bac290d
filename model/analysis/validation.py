"""How good are the posteriors on labelled cases: :func:`validate`, :func:`vignette_scorecard`.

In plain terms: give cases (observations, as for :func:`model.infer_batch`)
and what each patient turned out to have (0/1 per cause); get back, per cause,
how well the posterior separates patients with and without it (AUC), how close
it is to the truth (Brier score, log loss), how honest the probabilities are
(calibration table and expected calibration error), and how often a true cause
tops the ranking. The vignette scorecard does the same for the published
vignettes: the rank of the cause each vignette expects.

Metrics are computed here with numpy; they equal scikit-learn's (tested).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from ..engine import infer_batch
from ..errors import EvidenceError, close_names
from ..inference import as_model
from ..priors.files import read_vignettes

__all__ = ["ValidationReport", "cause_metrics", "validate", "vignette_scorecard"]

#: Probabilities are clipped to [CLIP, 1 - CLIP] for the log loss (as scikit-learn does for float64).
CLIP = float(np.finfo(np.float64).eps)
METRICS = ("n", "prevalence", "auc", "brier", "log_loss", "ece")


@dataclass(frozen=True, eq=False)
class ValidationReport:
    """What :func:`validate` measured. Every table is in the model's names.

    Attributes
    ----------
    metrics : pandas.DataFrame
        Indexed by cause (each labelled cause or complication, model order);
        columns ``n`` (cases scored), ``prevalence`` (share labelled 1),
        ``auc``, ``brier``, ``log_loss``, ``ece``.
    calibration : pandas.DataFrame
        Tidy: one row per cause and bin, columns ``cause``, ``bin``, ``low``,
        ``high``, ``count``, ``mean_predicted``, ``observed_rate`` (NaN for an
        empty bin).
    true_cause_rank : pandas.Series
        Per case with at least one cause labelled 1: the rank (1 = highest
        posterior) of its best-ranked true cause among the labelled causes.
    top1, top3 : float
        Share of those cases whose true cause ranks first / in the top three.
    posteriors : pandas.DataFrame
        The :func:`model.infer_batch` result, every row included.
    excluded : pandas.DataFrame
        The problems of the rows left out (NaN posteriors: bad cells or
        impossible evidence), columns ``row``, ``node``, ``value``, ``problem``.
    """

    metrics: pd.DataFrame
    calibration: pd.DataFrame
    true_cause_rank: pd.Series
    top1: float
    top3: float
    posteriors: pd.DataFrame
    excluded: pd.DataFrame

    def __repr__(self):
        left_out = self.excluded["row"].nunique()
        return (f"<ValidationReport {len(self.posteriors) - left_out} cases scored ({left_out} excluded), "
                f"{len(self.metrics)} causes, top-1 {self.top1:.3f}, top-3 {self.top3:.3f}>")


# --- metrics (y: 0/1 labels, p: probabilities, both 1-d float arrays of equal length) --------------
def _auc(y, p):
    """Area under the ROC curve = Mann-Whitney U / (positives x negatives), ties counted half."""
    positives = int(y.sum())
    negatives = len(y) - positives
    if positives == 0 or negatives == 0:
        return np.nan
    ranks = rankdata(p)  # average ranks: a tie between a positive and a negative counts half
    return float((ranks[y == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def _brier(y, p):
    return float(np.mean((p - y) ** 2)) if len(y) else np.nan


def _log_loss(y, p):
    q = np.clip(p, CLIP, 1.0 - CLIP)
    return float(-np.mean(y * np.log(q) + (1.0 - y) * np.log(1.0 - q))) if len(y) else np.nan


def _bins(y, p, bins):
    """Per equal-width bin: low, high, count, mean predicted, observed rate (scikit-learn's binning:
    the first bin is [0, 1/bins], the others (low, high])."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.searchsorted(edges[1:-1], p)
    count = np.bincount(which, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        predicted = np.bincount(which, weights=p, minlength=bins) / count
        observed = np.bincount(which, weights=y, minlength=bins) / count
    return pd.DataFrame({"bin": np.arange(bins), "low": edges[:-1], "high": edges[1:], "count": count,
                         "mean_predicted": predicted, "observed_rate": observed})


def _ece(table):
    """Expected calibration error: sum over bins of count / N x |observed rate - mean predicted|."""
    filled = table[table["count"] > 0]
    total = filled["count"].sum()
    if total == 0:
        return np.nan
    return float((filled["count"] / total * (filled["observed_rate"] - filled["mean_predicted"]).abs()).sum())


def cause_metrics(posteriors, labels, bins=10):
    """Per labelled cause: ``n``, ``prevalence``, ``auc``, ``brier``, ``log_loss``, ``ece`` (as :func:`validate`)
    over the rows where its label is known (0 or 1; NaN = unknown, left out) and its posterior is a number.

    >>> p = pd.DataFrame({"tumour": [0.9, 0.2, 0.6, 0.1]})
    >>> cause_metrics(p, pd.DataFrame({"tumour": [1, 0, float("nan"), 0]})).loc["tumour", ["n", "auc"]].tolist()
    [3.0, 1.0]
    """
    rows = {}
    for cause in labels.columns:
        y, p = labels[cause].to_numpy(dtype=float), posteriors[cause].to_numpy(dtype=float)
        known = ~np.isnan(y) & ~np.isnan(p)
        y, p = y[known], p[known]
        rows[cause] = [len(y), float(y.mean()) if len(y) else np.nan, _auc(y, p), _brier(y, p), _log_loss(y, p),
                       _ece(_bins(y, p, bins))]
    metrics = pd.DataFrame.from_dict(rows, orient="index", columns=list(METRICS))
    metrics.index.name = "cause"
    return metrics


def _ranks(posteriors, labels):
    """Rank (1 = top) of each case's best-ranked true cause; ties keep column (model) order, as infer."""
    p, y = posteriors.to_numpy(), labels.to_numpy()
    rank_of = np.argsort(np.argsort(-p, axis=1, kind="stable"), axis=1) + 1
    has_true = (y == 1).any(axis=1)
    best = np.where(y == 1, rank_of, p.shape[1] + 1).min(axis=1, initial=p.shape[1] + 1)
    return pd.Series(best[has_true], index=posteriors.index[has_true], name="true_cause_rank")


def _report(posteriors, labels, ranked, bins):
    """Score ``posteriors`` against 0/1 ``labels`` of the same shape (rows already filtered); the causes
    ``ranked`` are the ones the ranking runs over."""
    rows, tables = {}, []
    for cause in labels.columns:
        y, p = labels[cause].to_numpy(dtype=float), posteriors[cause].to_numpy(dtype=float)
        table = _bins(y, p, bins)
        rows[cause] = [len(y), float(y.mean()) if len(y) else np.nan, _auc(y, p), _brier(y, p),
                       _log_loss(y, p), _ece(table)]
        tables.append(table.assign(cause=cause))
    metrics = pd.DataFrame.from_dict(rows, orient="index", columns=list(METRICS)).astype({"n": int})
    metrics.index.name = "cause"
    calibration = pd.concat(tables, ignore_index=True)[
        ["cause", "bin", "low", "high", "count", "mean_predicted", "observed_rate"]]
    rank = _ranks(posteriors[ranked], labels[ranked])
    top1 = float((rank == 1).mean()) if len(rank) else np.nan
    top3 = float((rank <= 3).mean()) if len(rank) else np.nan
    no_problems = pd.DataFrame(columns=["row", "node", "value", "problem"])
    return ValidationReport(metrics, calibration, rank, top1, top3, posteriors, no_problems)


# --- labels --------------------------------------------------------------------------------------
def _bad_cells(column):
    """Positions of cells that are not 0, 1, True or False."""
    if pd.api.types.is_bool_dtype(column.dtype) and not column.isna().any():
        return np.zeros(0, dtype=int)
    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
        return np.flatnonzero(~column.isin([0, 1]).to_numpy())
    ok = [isinstance(v, (bool, np.bool_)) or (isinstance(v, (int, float, np.integer, np.floating)) and v in (0, 1))
          for v in column.to_numpy(dtype=object)]
    return np.flatnonzero(~np.asarray(ok, dtype=bool))


def _shown(value):
    """A cell as a user wrote it: plain Python repr, 'an empty cell' for NaN/None."""
    if value is None or (isinstance(value, (float, np.floating)) and np.isnan(value)):
        return "an empty cell"
    return repr(value.item() if isinstance(value, np.generic) else value)


def _check_labels(model, cases, labels):
    """Every problem with ``labels`` at once, as one EvidenceError; the labelled causes, in model order."""
    if not isinstance(labels, pd.DataFrame):
        raise EvidenceError(f"labels must be a pandas DataFrame, one row per case and one 0/1 column per cause. "
                            f"Got {type(labels).__name__}.")
    problems, scorable = [], set(model._reported)
    if not labels.index.equals(cases.index):
        missing = [str(r) for r in cases.index.difference(labels.index)[:5]]
        extra = [str(r) for r in labels.index.difference(cases.index)[:5]]
        problems.append(f"labels must have the same index as cases (same rows, same order). Rows of cases "
                        f"without labels: {missing or 'none'}; rows of labels not in cases: {extra or 'none'}. "
                        "Fix: labels = labels.loc[cases.index].")
    duplicated = sorted({str(c) for c in labels.columns[labels.columns.duplicated()]})
    if duplicated:
        problems.append(f"columns appear more than once: {', '.join(duplicated)}. Keep one column per cause.")
    for column in dict.fromkeys(labels.columns):
        if isinstance(column, str) and column in scorable:
            if column in duplicated:
                continue
            for i in _bad_cells(labels[column]):
                problems.append(f"row {labels.index[i]!r}, column {column!r}: labels must be 0 or 1 (or "
                                f"True/False). Got {_shown(labels[column].iat[i])}. Write 1 when the case has "
                                "the cause, 0 when it does not.")
        elif isinstance(column, str) and column in model._states:
            problems.append(f"column {column!r} is a {model.nodes.loc[column, 'role']}, not a cause: only "
                            f"causes and complications can be labelled ({', '.join(model._reported)}).")
        else:
            close = close_names(column, model._reported)
            hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
            problems.append(f"unknown cause {column!r} (a column of labels).{hint} Model.causes and "
                            "Model.complications list the valid names.")
    if not problems and not len(labels.columns):
        problems.append("labels has no column: add one 0/1 column per cause to score.")
    if problems:
        noun = "problem" if len(problems) == 1 else "problems"
        raise EvidenceError(f"{len(problems)} {noun} with the labels:\n" + "\n".join(f"  - {p}" for p in problems))
    return [c for c in model._reported if c in labels.columns]


def validate(cases, labels, *, priors=None, bins=10):
    """Score the model's posteriors against what labelled cases turned out to have.

    Parameters
    ----------
    cases : pandas.DataFrame
        One row per case, one column per observed node, as for
        :func:`model.infer_batch` (whose one call gives every posterior).
    labels : pandas.DataFrame
        Same index as ``cases``; one column per scored cause or complication
        (names as in ``nodes.csv``), values 0/1 or True/False. Causes without
        a column are not scored.
    priors : str, os.PathLike or Model, optional
        A priors folder or a loaded ``Model``; default: the bundled priors.
    bins : int
        Number of equal-width probability bins of the calibration table and
        ECE: scikit-learn's ``calibration_curve(strategy="uniform")`` bins,
        the first ``[0, 1/bins]``, the others ``(low, high]``.

    Returns
    -------
    ValidationReport
        Per cause (``metrics``): ``auc`` (Mann-Whitney, ties counted half; NaN
        when every case has the same label), ``brier`` (mean squared error),
        ``log_loss`` (natural log, mean over cases; probabilities clipped to
        ``[eps, 1 - eps]``, eps = 2.2e-16, the float64 machine epsilon, as
        scikit-learn does), ``ece`` (sum over bins of count / n x |observed
        rate - mean predicted|); the ``calibration`` table; ``top1`` and
        ``top3``, over the cases with a cause labelled 1: the share whose
        true cause (any, if several) ranks first / in the top three among the
        labelled causes (complications are scored but not ranked, as in
        the vignette tests). Rows whose posteriors are NaN (bad cells,
        impossible evidence) are left out and listed in ``excluded``.

    Raises
    ------
    EvidenceError
        Every problem with the labels at once: not a DataFrame, an index
        other than ``cases``'s, unknown or non-cause columns (closest names
        suggested), cells other than 0/1 (by row and column). Unknown
        columns of ``cases`` as :func:`model.infer_batch`.

    Examples
    --------
    >>> import pandas as pd
    >>> from model import read_vignettes
    >>> vignettes = read_vignettes()
    >>> cases = pd.DataFrame(list(vignettes["evidence"]), index=vignettes.index)
    >>> labels = pd.get_dummies(vignettes["expected_first"]).astype(int)
    >>> report = validate(cases, labels)
    >>> report.top1, report.top3
    (1.0, 1.0)
    >>> report.metrics.loc["pfcn_neuropathy", ["n", "prevalence", "auc"]].tolist()
    [29.0, 0.13793103448275862, 1.0]
    >>> report.calibration.columns.tolist()
    ['cause', 'bin', 'low', 'high', 'count', 'mean_predicted', 'observed_rate']
    """
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ValueError(f"bins must be a positive whole number. Got {bins!r}.")
    model = as_model(priors)
    scored = _check_labels(model, cases, labels) if isinstance(cases, pd.DataFrame) else None
    posteriors = infer_batch(cases, priors=model)
    keep = posteriors.notna().all(axis=1).to_numpy()
    excluded = pd.DataFrame(posteriors.attrs["problems"], columns=["row", "node", "value", "problem"])
    ranked = [c for c in scored if c in model.causes]
    report = _report(posteriors.loc[keep, scored], labels.loc[keep, scored].astype(float), ranked, int(bins))
    return replace(report, posteriors=posteriors, excluded=excluded)


def vignette_scorecard(*, priors=None):
    """Rank of the expected cause in every published vignette (``model/data/vignettes.csv``).

    Causes are ranked by posterior, highest first, among the causes alone
    (complications such as cauda equina syndrome are not competing
    diagnoses), ties in ``nodes.csv`` order, as :meth:`Model.infer` sorts.

    Parameters
    ----------
    priors : str, os.PathLike or Model, optional
        A priors folder or a loaded ``Model``; default: the bundled priors.

    Returns
    -------
    pandas.DataFrame
        Indexed by vignette number: ``title``, ``expected_cause``, ``rank``
        (1 = top; missing when the vignette's evidence is impossible under
        these priors), ``posterior`` (of the expected cause), ``top_cause``,
        ``top_posterior``, ``top1`` (the expected cause ranks first).
        ``.attrs["problems"]`` lists impossible vignettes, as
        :func:`model.infer_batch`.

    Examples
    --------
    >>> card = vignette_scorecard()
    >>> card[["expected_cause", "rank", "top1"]].head(3)
                     expected_cause  rank  top1
    vignette
    1        lumbar_disc_herniation     1  True
    2        lumbar_disc_herniation     1  True
    3               pfcn_neuropathy     1  True
    >>> bool(card["top1"].all())
    True
    """
    model = as_model(priors)
    vignettes = read_vignettes()
    cases = pd.DataFrame(list(vignettes["evidence"]), index=vignettes.index)
    batch = infer_batch(cases, priors=model)
    posteriors = batch[list(model.causes)]
    expected = vignettes["expected_first"]
    labels = pd.DataFrame(np.equal.outer(expected.to_numpy(), posteriors.columns.to_numpy()).astype(float),
                          index=vignettes.index, columns=posteriors.columns)
    possible = posteriors.notna().all(axis=1)
    rank = _ranks(posteriors[possible], labels[possible]).reindex(vignettes.index).astype("Int64")
    top = posteriors.fillna(-1.0).idxmax(axis=1).where(possible)  # ties: the first in nodes.csv order
    card = pd.DataFrame({
        "title": vignettes["title"],
        "expected_cause": expected,
        "rank": rank,
        "posterior": [posteriors.at[i, c] if c in posteriors.columns else np.nan for i, c in expected.items()],
        "top_cause": top,
        "top_posterior": posteriors.max(axis=1),
        "top1": rank.eq(1).fillna(False).astype(bool),
    })
    card.attrs = {"problems": batch.attrs["problems"], "priors_digest": model.priors_digest}
    return card
