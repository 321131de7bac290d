"""``model.analysis.validation``: metrics equal scikit-learn's, labels are checked, the scorecard and the
calibration plot.

scikit-learn is a test-only dependency: the package computes every metric itself.
"""

import ast
import re
import subprocess
import sys
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.axes import Axes
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

from model import EvidenceError, infer_batch, read_vignettes
from model.analysis import validation as v
from model.analysis.validation import ValidationReport, validate, vignette_scorecard
from model.plotting import plot_calibration

matplotlib.use("Agg")
TOL = 1e-12


def sklearn_log_loss(y, p):
    """scikit-learn's log loss on probabilities clipped as ``validate`` documents ([eps, 1 - eps])."""
    return log_loss(y, np.clip(p, v.CLIP, 1 - v.CLIP), labels=[0, 1])


def loop_ece(y, p, bins):
    """ECE by an independent loop over explicit intervals: [0, 1/bins], then (low, high]."""
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for i in range(bins):
        inside = (p <= edges[i + 1]) & ((p > edges[i]) | (i == 0))
        if inside.any():
            total += inside.sum() / len(p) * abs(y[inside].mean() - p[inside].mean())
    return total


def random_scores(seed, n):
    """Labels and probabilities with ties, exact 0 and 1, and values on bin edges."""
    rng = np.random.default_rng(seed)
    p = rng.beta(0.7, 1.5, n)
    special = rng.choice(n, size=n // 5, replace=False)
    p[special] = rng.choice(np.r_[0.0, 1.0, np.linspace(0, 1, 11), 0.25], size=len(special))
    p[: n // 4] = np.round(p[: n // 4], 2)  # ties
    y = (rng.random(n) < p).astype(float)
    y[:2] = [0.0, 1.0]  # both classes
    return y, p


# --- metrics against scikit-learn ------------------------------------------------------------------

@pytest.mark.parametrize("seed,n", [(0, 50), (1, 500), (2, 5000), (3, 7)])
@pytest.mark.parametrize("bins", [10, 5, 1, 13])
def test_each_metric_equals_scikit_learn_on_random_data(seed, n, bins):
    y, p = random_scores(seed, n)
    assert abs(v._auc(y, p) - roc_auc_score(y, p)) < TOL
    assert abs(v._brier(y, p) - brier_score_loss(y, p)) < TOL
    assert abs(v._log_loss(y, p) - sklearn_log_loss(y, p)) < TOL
    table = v._bins(y, p, bins)
    filled = table[table["count"] > 0]
    observed, predicted = calibration_curve(y, p, n_bins=bins, strategy="uniform")
    np.testing.assert_allclose(filled["observed_rate"], observed, rtol=0, atol=TOL)
    np.testing.assert_allclose(filled["mean_predicted"], predicted, rtol=0, atol=TOL)
    assert table["count"].sum() == n and len(table) == bins
    assert abs(v._ece(table) - loop_ece(y, p, bins)) < TOL


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.floats(0, 1)), min_size=2, max_size=60))
def test_metrics_equal_scikit_learn_for_any_scores(pairs):
    y = np.array([float(a) for a, _ in pairs])
    p = np.array([b for _, b in pairs])
    if 0 < y.sum() < len(y):
        assert abs(v._auc(y, p) - roc_auc_score(y, p)) < TOL
    else:
        assert np.isnan(v._auc(y, p))  # AUC needs both classes
    assert abs(v._brier(y, p) - brier_score_loss(y, p, labels=[0, 1])) < TOL
    assert abs(v._log_loss(y, p) - sklearn_log_loss(y, p)) < TOL
    ece = v._ece(v._bins(y, p, 10))
    assert abs(ece - loop_ece(y, p, 10)) < TOL and 0 <= ece <= 1


def test_auc_counts_ties_half():
    y = np.array([0.0, 1.0, 0.0, 1.0])
    p = np.array([0.2, 0.5, 0.5, 0.9])  # pairs (pos, neg): 3 wins and one tie of 4
    assert v._auc(y, p) == pytest.approx(3.5 / 4, abs=TOL)


# --- validate end to end ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sampled(bundled_model):
    """About 3000 cases drawn from the model itself (pgmpy forward sampling, fixed seed; those of its
    population), with a quarter of the observations hidden; labels are the sampled causes and complication.

    v2: about one person in seven drawn has the presenting complaint, and the rarest causes have presenting
    shares of 0.0005-0.001, so 20000 people are drawn (v1: 3000, all kept) to keep about 3000 cases with
    every cause and the complication both present and absent somewhere (AUC needs both classes)."""
    from pgmpy.sampling import BayesianModelSampling

    draws = BayesianModelSampling(bundled_model.network).forward_sample(size=20000, seed=11, show_progress=False)
    for node, state in bundled_model.population.items():  # the cases the priors describe (rejection sampling)
        draws = draws[draws[node] == state].reset_index(drop=True)
    scored = list(bundled_model.causes) + list(bundled_model.complications)
    labels = pd.DataFrame({c: (draws[c] != bundled_model.states(c)[0]).astype(int) for c in scored})
    assert len(labels) > 2500 and ((labels.sum() > 0) & (labels.sum() < len(labels))).all(), labels.sum()
    observed = list(bundled_model.findings) + list(bundled_model.risk_factors)
    cases = draws[observed].astype(object).where(np.random.default_rng(5).random((len(draws), len(observed))) > 0.25)
    return cases, labels


def test_validate_equals_scikit_learn_on_cases_sampled_from_the_model(bundled_model, sampled):
    cases, labels = sampled
    report = validate(cases, labels, priors=bundled_model)
    assert isinstance(report, ValidationReport)
    posteriors = infer_batch(cases, priors=bundled_model)  # computed independently of validate
    assert list(report.metrics.index) == list(labels.columns)
    for cause in labels.columns:
        y, p = labels[cause].to_numpy(), posteriors[cause].to_numpy()
        row = report.metrics.loc[cause]
        assert row["n"] == len(cases) and row["prevalence"] == pytest.approx(y.mean(), abs=TOL)
        assert abs(row["auc"] - roc_auc_score(y, p)) < TOL, cause
        assert abs(row["brier"] - brier_score_loss(y, p)) < TOL, cause
        assert abs(row["log_loss"] - sklearn_log_loss(y, p)) < TOL, cause
        assert abs(row["ece"] - loop_ece(y, p, 10)) < TOL, cause
        observed, predicted = calibration_curve(y, p, n_bins=10)
        table = report.calibration[(report.calibration["cause"] == cause) & (report.calibration["count"] > 0)]
        np.testing.assert_allclose(table[["observed_rate", "mean_predicted"]].to_numpy().T, [observed, predicted],
                                   rtol=0, atol=TOL)


def test_on_its_own_cases_the_model_beats_base_rates_and_is_calibrated(bundled_model, sampled):
    """Posteriors of data drawn from the model are exact: lower log loss than predicting the prevalence,
    better than chance ranking, small calibration error."""
    cases, labels = sampled
    metrics = validate(cases, labels, priors=bundled_model).metrics
    prevalence = labels.mean()
    constant = [sklearn_log_loss(labels[c], np.full(len(labels), prevalence[c])) for c in labels.columns]
    assert (metrics["log_loss"].to_numpy() < constant).all()
    assert (metrics["auc"] > 0.75).all()
    assert (metrics["ece"] < 0.03).all(), metrics["ece"]


def test_top1_and_top3_on_a_hand_made_example():
    causes = ["a", "b", "c", "d"]
    posteriors = pd.DataFrame([[0.9, 0.5, 0.2, 0.1],   # true a: rank 1
                               [0.9, 0.5, 0.2, 0.1],   # true c: rank 3
                               [0.1, 0.2, 0.3, 0.4],   # true a: rank 4
                               [0.3, 0.3, 0.1, 0.0],   # true b, tied with a: rank 2 (column order breaks ties)
                               [0.1, 0.9, 0.8, 0.2],   # true a and c: best rank 2
                               [0.5, 0.5, 0.5, 0.5]],  # nothing true: not ranked
                              index=list("uvwxyz"), columns=causes)
    labels = pd.DataFrame(0.0, index=posteriors.index, columns=causes)
    for row, cause in [("u", "a"), ("v", "c"), ("w", "a"), ("x", "b"), ("y", "a"), ("y", "c")]:
        labels.loc[row, cause] = 1.0
    report = v._report(posteriors, labels, causes, 10)
    assert report.true_cause_rank.to_dict() == {"u": 1, "v": 3, "w": 4, "x": 2, "y": 2}
    assert report.top1 == pytest.approx(1 / 5) and report.top3 == pytest.approx(4 / 5)
    only_d = v._report(posteriors, labels, ["a", "b", "c"], 10)  # d is not ranked
    assert only_d.true_cause_rank.to_dict() == {"u": 1, "v": 3, "w": 3, "x": 2, "y": 2}


def test_complications_are_scored_but_not_ranked(bundled_model, sampled):
    cases, labels = sampled
    report = validate(cases.iloc[:200], labels.iloc[:200][["cauda_equina_syndrome"]], priors=bundled_model)
    assert list(report.metrics.index) == ["cauda_equina_syndrome"]
    assert report.true_cause_rank.empty and np.isnan(report.top1) and np.isnan(report.top3)


def test_boolean_labels_give_the_same_report(bundled_model, sampled):
    cases, labels = sampled
    as_int = validate(cases.iloc[:300], labels.iloc[:300], priors=bundled_model)
    as_bool = validate(cases.iloc[:300], labels.iloc[:300].astype(bool), priors=bundled_model)
    pd.testing.assert_frame_equal(as_int.metrics, as_bool.metrics)
    assert (as_int.top1, as_int.top3) == (as_bool.top1, as_bool.top3)


def test_rows_without_posteriors_are_excluded_and_reported(bundled_model):
    no_cyclists = bundled_model.with_parameter("base_rates", node="avid_cyclist", probability=0.0, low=0.0)
    cases = pd.DataFrame({"avid_cyclist": ["no", "yes", "no", "no", "no"],
                          "pain_burning": ["yes", "no", "maybe", "no", "yes"]}, index=list("pqrst"))
    labels = pd.DataFrame({"pfcn_neuropathy": [1, 0, 0, 0, 0], "tumour": [0, 0, 1, 1, 0]}, index=cases.index)
    report = validate(cases, labels, priors=no_cyclists)
    assert list(report.excluded["row"]) == ["q", "r"]
    assert "impossible" in report.excluded.loc[0, "problem"] and "maybe" in report.excluded.loc[1, "problem"]
    assert (report.metrics["n"] == 3).all()
    assert report.metrics.loc["tumour", "prevalence"] == pytest.approx(1 / 3)
    assert list(report.true_cause_rank.index) == ["p", "s"]
    assert len(report.posteriors) == 5
    assert "3 cases scored (2 excluded)" in repr(report)


# --- label checks --------------------------------------------------------------------------------

def test_every_label_problem_is_reported_at_once():
    cases = pd.DataFrame({"pain_burning": ["yes", "no", "no"]}, index=["ann", "bob", "cy"])
    labels = pd.DataFrame({"tumor": [0, 1, 0], "pain_burning": [1, 0, 0], "pfcn_neuropathy": ["yes", 1, 0],
                           "bone_injury": [0, 2, np.nan]}, index=cases.index)
    with pytest.raises(EvidenceError) as caught:
        validate(cases, labels)
    message = str(caught.value)
    assert message.startswith("5 problems with the labels:")
    assert re.search(r"unknown cause 'tumor'.*Did you mean 'tumour'", message)
    assert "column 'pain_burning' is a finding, not a cause" in message
    assert "row 'ann', column 'pfcn_neuropathy': labels must be 0 or 1 (or True/False). Got 'yes'." in message
    assert "row 'bob', column 'bone_injury'" in message and "Got 2" in message
    assert "row 'cy', column 'bone_injury'" in message and "Got an empty cell" in message
    assert "Write 1 when the case has the cause, 0 when it does not." in message


@pytest.mark.parametrize("labels,match", [
    (pd.DataFrame({"tumour": [0, 1]}, index=[1, 0]), r"same index as cases.*labels = labels\.loc\[cases\.index\]"),
    (pd.DataFrame({"tumour": [0, 1, 0]}), r"Rows of cases without labels: none; rows of labels not in cases: \['2'\]"),
    (pd.DataFrame(index=[0, 1]), "labels has no column"),
    (pd.DataFrame([[0, 1], [1, 0]], columns=["tumour", "tumour"]), "columns appear more than once: tumour"),
    ({"tumour": [0, 1]}, "labels must be a pandas DataFrame.*Got dict"),
], ids=["order", "extra row", "no column", "duplicated", "not a frame"])
def test_label_shape_problems(labels, match):
    cases = pd.DataFrame({"pain_burning": ["yes", "no"]})
    with pytest.raises(EvidenceError, match=match):
        validate(cases, labels)


@pytest.mark.parametrize("bins", [0, 2.5, True, "10"])
def test_bins_must_be_a_positive_whole_number(bins):
    with pytest.raises(ValueError, match="bins must be a positive whole number"):
        validate(pd.DataFrame({"pain_burning": ["yes"]}), pd.DataFrame({"tumour": [0]}), bins=bins)


# --- vignette scorecard ---------------------------------------------------------------------------

def infer_rank(model, evidence, cause):
    causes_only = model.infer(evidence).loc[list(model.causes)].sort_values("posterior", ascending=False,
                                                                             kind="mergesort")
    return list(causes_only.index).index(cause) + 1, causes_only


# v2: bone_injury is a full CPT (no base rate to tweak), so the first tweak makes tumour rarer instead; the cause
# baselines are solved to the presenting shares (tumour 0.0005, PFCN 0.00065), so each tweak sets a baseline
# well below its v2 value (v1: bone injury 0.0002, PFCN 0.001)
@pytest.mark.parametrize("tweak", [None, ("tumour", 0.00002), ("pfcn_neuropathy", 0.00005)],
                         ids=["bundled", "rarer tumour", "rarer PFCN"])
def test_scorecard_ranks_agree_with_model_infer(bundled_model, tweak):
    model = bundled_model if tweak is None else bundled_model.with_parameter(
        "base_rates", node=tweak[0], probability=tweak[1], low=tweak[1])
    card = vignette_scorecard(priors=model)
    vignettes = read_vignettes()
    assert list(card.index) == list(vignettes.index)
    for number, row in card.iterrows():
        rank, ranked = infer_rank(model, vignettes.loc[number, "evidence"], row["expected_cause"])
        assert row["rank"] == rank and row["top1"] == (rank == 1)
        assert row["posterior"] == pytest.approx(ranked.loc[row["expected_cause"], "posterior"], abs=1e-9)
        assert row["top_cause"] == ranked.index[0]
        assert row["top_posterior"] == pytest.approx(ranked["posterior"].iloc[0], abs=1e-9)
    if tweak is not None:  # the tweak pushes the cause out of first place somewhere
        assert not card.loc[card["expected_cause"] == tweak[0], "top1"].all()


# --- calibration plot ------------------------------------------------------------------------------

def test_calibration_plot_draws_each_nonempty_bin(no_show, bundled_model, sampled):
    cases, labels = sampled
    report = validate(cases, labels, priors=bundled_model)
    ax = plot_calibration(report, causes=["lumbar_disc_herniation", "tumour"])
    assert isinstance(ax, Axes) and plt.get_fignums() == [ax.figure.number]
    assert len(ax.lines) == 3 and len(ax.collections) == 2  # the diagonal, then one line and points per cause
    for cause, points in zip(["lumbar_disc_herniation", "tumour"], ax.collections):
        table = report.calibration[(report.calibration["cause"] == cause) & (report.calibration["count"] > 0)]
        np.testing.assert_allclose(points.get_offsets(), table[["mean_predicted", "observed_rate"]].to_numpy())
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "perfect calibration", "lumbar disc herniation", "tumour"]


def test_calibration_plot_takes_the_table_and_a_given_ax(no_show, bundled_model, sampled):
    cases, labels = sampled
    report = validate(cases.iloc[:500], labels.iloc[:500], priors=bundled_model)
    fig, (left, right) = plt.subplots(1, 2)
    ax = plot_calibration(report.calibration, ax=right, title="Held-out cases")
    assert ax is right and plt.get_fignums() == [fig.number]
    assert len(ax.collections) == len(labels.columns) and not left.lines
    assert ax.get_title(loc="left") == "Held-out cases"
    with pytest.raises(ValueError, match="causes not in the calibration table: tumor"):
        plot_calibration(report, causes=["tumor"])


def test_validation_imports_neither_scikit_learn_nor_matplotlib():
    """scikit-learn is a test-only dependency (pgmpy may import it, the package must not rely on it);
    matplotlib is imported only when a plot is drawn."""
    tree = ast.parse(Path(v.__file__).read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert not {name for name in imported if name.split(".")[0] in ("sklearn", "matplotlib")}
    code = "import sys, model.analysis.validation; assert 'matplotlib' not in sys.modules"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr


def test_when_every_row_is_excluded_the_metrics_are_missing():
    cases = pd.DataFrame({"pain_burning": ["maybe", "often"]})
    report = validate(cases, pd.DataFrame({"tumour": [0, 1]}))
    assert report.metrics.loc["tumour", "n"] == 0 and report.metrics.loc["tumour", ["auc", "ece"]].isna().all()
    assert np.isnan(report.top1) and list(report.excluded["row"]) == [0, 1]
