"""Learning from cases (issue 13): expected counts, the log posterior's gradient, and :func:`model.fit`.

References are independent: expected counts by enumerating every state of every node of asia; the
gradient by finite differences of the log posterior; maximum-likelihood counts from the sampled cases.
"""

import itertools
import math
import warnings

import numpy as np
import pandas as pd
import pytest

from model import EvidenceError, load_model, simulate
from model.interop import network_to_tables, read_network
from model.learning import FitWarning, fit
from model.learning.counts import expected_counts
from model.learning.estimate import _evidence, _Posterior
from model.priors.save import save_tables

from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "bnlearn"


def widened_asia(folder):
    """bnlearn's asia with every cell strictly between 0 and 1 given a range (imported tables are fixed): a
    third of the way to 0 and to 1. Also used by benchmarks/bench_learning.py."""
    tables = network_to_tables(read_network(DATA / "asia.bif.gz"), source="asia.bif.gz")
    for name, frame in tables.items():
        if name.startswith("cpts/"):
            inside = (frame["probability"] > 0) & (frame["probability"] < 1)
            p = frame["probability"]
            frame.loc[inside, "low"] = np.maximum(p / 3, 0.001)[inside]
            frame.loc[inside, "high"] = np.minimum(1 - (1 - p) / 3, 0.999)[inside]
    save_tables(tables, folder)
    return load_model(folder)


@pytest.fixture(scope="module")
def asia(tmp_path_factory):
    return widened_asia(tmp_path_factory.mktemp("asia") / "asia")


def sample(model, n, seed):
    """``n`` complete cases drawn from ``model`` (:func:`model.simulate`; asia has no population)."""
    return simulate(n, priors=model, seed=seed)


def brute_counts(model, cases):
    """Sum over the cases of P(node, parents | case) of every node, by enumerating the joint; and log P."""
    names = list(model.nodes.index)
    tables = model._priors.node_tables
    joint = np.ones([len(model.states(v)) for v in names])
    for node, t in tables.items():
        axes = [names.index(v) for v in (node, *t.parents)]
        table = t.values.reshape([len(model.states(v)) for v in (node, *t.parents)])
        shape = [1] * len(names)
        for position, axis in enumerate(axes):
            shape[axis] = table.shape[position]
        order = np.argsort(axes)
        joint = joint * np.transpose(table, order).reshape(shape)
    counts, total = {}, 0.0
    for hard, soft in cases:
        weight = np.ones_like(joint)
        for node, state in hard.items():
            vector = np.zeros(len(model.states(node)))
            vector[state] = 1.0
            shape = [1] * len(names)
            shape[names.index(node)] = len(vector)
            weight = weight * vector.reshape(shape)
        for node, vector in soft.items():
            shape = [1] * len(names)
            shape[names.index(node)] = len(vector)
            weight = weight * np.asarray(vector).reshape(shape)
        posterior = joint * weight
        total += math.log(posterior.sum())
        posterior /= posterior.sum()
        for node, t in tables.items():
            family = [names.index(v) for v in (node, *t.parents)]
            rest = tuple(i for i in range(len(names)) if i not in family)
            marginal = np.transpose(posterior.sum(axis=rest), np.argsort(np.argsort(family)))
            counts[node] = counts.get(node, 0.0) + marginal.reshape(len(model.states(node)), -1)
    return counts, total


def junction_tables(model):
    states = model._states
    return {node: ((node,) + tuple(t.parents),
                   t.values.reshape((len(states[node]),) + tuple(len(s) for s in t.parent_states)))
            for node, t in model._priors.node_tables.items()}


def test_expected_counts_equal_enumeration(asia):
    rng = np.random.default_rng(5)
    names = list(asia.nodes.index)
    cases = []
    for _ in range(6):
        chosen = rng.choice(names, size=3, replace=False)
        hard = {v: int(rng.integers(len(asia.states(v)))) for v in chosen[:2]}
        soft = {chosen[2]: rng.uniform(0.1, 1.0, size=len(asia.states(chosen[2])))}
        cases.append((hard, soft))
    # the reference counts every node in every case; ours leaves out the nodes a case says nothing about,
    # whose counts are then P(node | parents) times P(parents | case): compare the informed ones
    card = {v: len(asia.states(v)) for v in names}
    weights = np.array([1.0, 2.0, 1.0, 1.0, 3.0, 1.0])
    ours = expected_counts(junction_tables(asia), card, cases, weights=weights)
    expanded = [case for case, w in zip(cases, weights) for _ in range(int(w))]
    tables = junction_tables(asia)
    for node in names:
        informed = [case for case in expanded if any(node in _ancestors(tables, v) for v in (*case[0], *case[1]))]
        if not informed:
            assert ours.tables[node] is None
            continue
        reference, _ = brute_counts(asia, informed)
        np.testing.assert_allclose(ours.tables[node], reference[node], atol=1e-12, rtol=0)
    _, total = brute_counts(asia, expanded)
    assert ours.log_likelihood == pytest.approx(total, abs=1e-10)


@pytest.mark.parametrize("group, chunk", [(10_000, 2**25), (2, 2**21)])
def test_expected_counts_on_the_bundled_network_equal_one_case_at_a_time(bundled_model, monkeypatch, group, chunk):
    """The batched expectation step (cases calibrated together, leaf findings added in log space, cases grouped
    by a few observations cut out of the tree, several chunks) against each case's own calibration on the
    junction tree with its hard evidence cut out (model.engine.junction, itself checked against pgmpy VE), on
    the bundled network: hard and soft evidence, labelled causes, a negative weight."""
    import model.engine.families as families
    import model.learning.counts as counts_module
    from model.engine.junction import compile_junction_tree
    from model.engine.single import family_tables
    from model.engine.sliced import given

    monkeypatch.setattr(counts_module, "GROUP", group)
    monkeypatch.setattr(families, "CHUNK_FLOATS", chunk)
    m = bundled_model
    tables, card = family_tables(m), {node: len(s) for node, s in m._states.items()}
    rng = np.random.default_rng(11)
    cohort = simulate(24, priors=m, seed=11)
    cases = []
    for i, row in cohort.iterrows():
        hard = {v: m.states(v).index(row[v]) for v in cohort.columns if v not in m.mechanisms and
                v not in m.complications and rng.random() < (0.3 if v in m.causes else 0.6)}
        hard["posterior_thigh_pain"] = 1  # the population's observation, in every case as in a fit
        soft = {}
        if i % 3 == 0:  # soft evidence on a leaf finding and on a finding with a child
            for v in ("night_pain", "slr_positive"):
                hard.pop(v, None)
                soft[v] = rng.uniform(0.1, 1.0, size=card[v])
        cases.append((hard, soft))
    cases.append(({"posterior_thigh_pain": 1}, {}))
    weights = np.append(rng.integers(1, 4, size=len(cases) - 1).astype(float), -7.0)
    ours = expected_counts(tables, card, cases, m.causes, weights)
    tree = compile_junction_tree(tables, card, root=tuple(m.causes))
    expected, total = {}, 0.0
    for (hard, soft), weight in zip(cases, weights):
        calibration = given(tree, hard).calibrate(soft)
        total += weight * calibration.log_evidence
        for node in set().union(*(_ancestors(tables, v) for v in (*hard, *soft))):
            scope = tables[node][0]
            free = tuple(v for v in scope if v not in hard)
            joint = np.zeros([card[v] for v in scope])
            joint[tuple(hard.get(v, slice(None)) for v in scope)] = calibration.marginal(free) if free else 1.0
            expected[node] = expected.get(node, 0.0) + weight * joint.reshape(card[node], -1)
    assert ours.log_likelihood == pytest.approx(total, rel=1e-12)
    assert {n for n, c in ours.tables.items() if c is not None} == set(expected)
    for node, reference in expected.items():
        np.testing.assert_allclose(ours.tables[node], reference, atol=1e-9, rtol=0, err_msg=node)


def _ancestors(tables, node):
    out, stack = set(), [node]
    while stack:
        v = stack.pop()
        if v not in out:
            out.add(v)
            stack.extend(tables[v][0][1:])
    return out


def test_gradient_equals_finite_differences(asia):
    cases = sample(asia, 60, seed=2).mask(np.random.default_rng(3).random((60, 8)) < 0.4)
    posterior = _Posterior(asia, _evidence(asia, cases))
    rng = np.random.default_rng(4)
    from model.learning.maximise import to_unbounded

    z = to_unbounded(posterior.start[posterior.free], posterior.kind[posterior.free])
    z = z + rng.normal(0, 0.3, size=len(z))
    value, gradient = posterior(z)
    step = 1e-6
    for i in rng.choice(len(z), size=6, replace=False):
        up, down = z.copy(), z.copy()
        up[i] += step
        down[i] -= step
        numeric = (posterior(up)[0] - posterior(down)[0]) / (2 * step)
        assert gradient[i] == pytest.approx(numeric, rel=1e-5, abs=1e-6)


def test_zero_cases_return_the_model_unchanged(asia):
    assert fit(pd.DataFrame({"smoke": pd.Series([], dtype=object)}), priors=asia) is asia


def test_many_complete_cases_approach_the_maximum_likelihood_counts(asia):
    cases = sample(asia, 20_000, seed=7)
    refit, report = fit(cases, priors=asia, report=True)
    assert report.converged and report.cases_used == 20_000
    for node, t in refit._priors.node_tables.items():
        parents = list(t.parents)
        seen = cases.groupby(parents)[node].value_counts().unstack(fill_value=0) if parents else \
            cases[node].value_counts().to_frame().T
        for config in itertools.product(*t.parent_states):
            row = seen.loc[config if len(config) > 1 else config[0]] if parents else seen.iloc[0]
            n = row.sum()
            column = int(np.ravel_multi_index(tuple(s.index(c) for s, c in zip(t.parent_states, config)),
                                              [len(s) for s in t.parent_states])) if parents else 0
            original = asia._priors.node_tables[node].values[:, column]
            if n < 500 or ((original == 0) | (original == 1)).any():
                continue  # few cases, or a fixed (logical) column
            frequency = np.array([row.get(s, 0) for s in t.states]) / n
            np.testing.assert_allclose(t.values[:, column], frequency, atol=0.01)


def test_fixed_rows_never_move_and_the_input_is_untouched(asia):
    before = {name: frame.copy() for name, frame in asia.tables.items()}
    digest = asia.priors_digest
    cases = sample(asia, 300, seed=11)
    refit = fit(cases, priors=asia)
    assert asia.priors_digest == digest
    for name, frame in asia.tables.items():
        pd.testing.assert_frame_equal(frame, before[name])
    fixed_rows = moved_rows = 0
    for name, frame in refit.tables.items():
        if not name.startswith("cpts/"):
            continue
        old = before[name]
        fixed = (old["low"] == old["high"]).to_numpy()
        np.testing.assert_array_equal(frame["probability"].to_numpy()[fixed], old["probability"].to_numpy()[fixed])
        np.testing.assert_array_equal(frame["source"].to_numpy()[fixed], old["source"].to_numpy()[fixed])
        moved = ~fixed & (frame["probability"].to_numpy() != old["probability"].to_numpy())
        assert all("refitted on 300 cases" in s for s in frame["source"][moved])
        assert ((frame["low"] <= frame["probability"]) & (frame["probability"] <= frame["high"])).all()
        fixed_rows, moved_rows = fixed_rows + fixed.sum(), moved_rows + moved.sum()
    assert fixed_rows >= 4 and moved_rows >= 10  # either's logical cells; the rest


def test_the_fitted_model_saves_reloads_and_checks(asia, tmp_path):
    refit = fit(sample(asia, 200, seed=13), priors=asia)
    refit.save(tmp_path / "refit")
    again = load_model(tmp_path / "refit")
    assert again.priors_digest == refit.priors_digest


def test_bad_rows_are_listed_and_left_out(asia):
    cases = sample(asia, 50, seed=17)
    cases.loc[3, "smoke"] = "sometimes"
    with pytest.warns(FitWarning, match="row 3, smoke"):
        refit, report = fit(cases, priors=asia, report=True)
    assert report.cases_used == 49 and len(report.problems) == 1


def test_bad_columns_and_labels_raise(asia, bundled_model):
    with pytest.raises(EvidenceError, match="unknown node 'smoker'"):
        fit(pd.DataFrame({"smoker": ["yes"]}), priors=asia)
    cases = pd.DataFrame({"pain_burning": ["yes", "no"]})
    with pytest.raises(EvidenceError, match="not a cause"):
        fit(cases, pd.DataFrame({"pain_burning": [1, 0]}), priors=bundled_model)
    with pytest.raises(EvidenceError, match="values must be 0, 1 or missing"):
        fit(cases, pd.DataFrame({"tumour": [2, 0]}), priors=bundled_model)


def test_a_fit_stopped_early_says_so(asia):
    with pytest.warns(FitWarning, match="did not converge"):
        fit(sample(asia, 200, seed=19).mask(np.random.default_rng(1).random((200, 8)) < 0.3), priors=asia,
            max_iterations=1)


@pytest.mark.slow
def test_labels_move_a_cause_the_right_way(bundled_model):
    """Labels saying disc herniation is commoner than the model thinks raise its prior in the population."""
    n = 200
    labels = pd.DataFrame({"lumbar_disc_herniation": [1] * (n * 3 // 4) + [0] * (n - n * 3 // 4)})
    cases = pd.DataFrame(index=labels.index)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FitWarning)
        refit = fit(cases, labels, priors=bundled_model)
    before = bundled_model.infer({}).at["lumbar_disc_herniation", "posterior"]
    after = refit.infer({}).at["lumbar_disc_herniation", "posterior"]
    assert before < after < 0.75


def test_crossing_link_totals_are_moved_back_until_the_loader_accepts_them(bundled_model):
    """A fitted point whose logistic totals cross (the search's tables clip such a probability to 0) is moved
    back towards the experts' values until they do not; the rows written back then load."""
    from model.analysis.parameters import node_values
    from model.learning.maximise import from_unbounded, to_unbounded
    from model.learning.rows import fitted_tables, uncrossed

    cases = pd.DataFrame({"flexion_effect": ["worsens", "none", "relieves"] * 5})
    posterior = _Posterior(bundled_model, _evidence(bundled_model, cases))
    indexes = posterior.nodes["flexion_effect"][0]
    kind = posterior.kind[indexes]
    rng = np.random.default_rng(0)
    for _ in range(500):
        theta = posterior.start.copy()
        theta[indexes] = from_unbounded(to_unbounded(theta[indexes], kind) + rng.normal(0, 2.5, len(indexes)), kind)
        raw = node_values(posterior.parameters, bundled_model, theta[None, :], nodes={"flexion_effect"}, clip=False)
        if (raw["flexion_effect"] < 0).any():
            break
    else:
        pytest.fail("no crossing point found")
    fixed = uncrossed(bundled_model, theta)
    raw = node_values(posterior.parameters, bundled_model, fixed[None, :], nodes={"flexion_effect"}, clip=False)
    assert (raw["flexion_effect"] >= 0).all() and not np.array_equal(fixed[indexes], posterior.start[indexes])
    intervals = {int(i): (min(fixed[i], posterior.start[i]) * 0.9, 1.0) for i in indexes}
    bundled_model.with_tables(fitted_tables(bundled_model, fixed, intervals, "test"))  # loads


def test_parameter_changes_measure_the_move_in_prior_spreads(asia):
    from model import parameter_changes
    from model.learning.maximise import normal_prior, to_unbounded

    refit = fit(sample(asia, 400, seed=23), priors=asia)
    changes = parameter_changes(asia, refit)
    assert len(changes) == len(asia.tables["cpts/smoke"]) + sum(len(f) for n, f in asia.tables.items()
                                                                 if n.startswith("cpts/") and n != "cpts/smoke")
    assert (np.abs(changes["move"]).diff().dropna() <= 1e-12).all()  # largest move first
    row = changes[changes["refitted"]].iloc[0]
    kind = np.array([row["kind"]])
    centre, spread = normal_prior(np.array([row["prior_value"]]), np.array([row["prior_low"]]),
                                  np.array([row["prior_high"]]), kind)
    by_hand = (to_unbounded(np.array([row["fitted_value"]]), kind) - centre) / spread
    assert row["move"] == pytest.approx(float(by_hand[0]))
    fixed = changes["prior_low"] == changes["prior_high"]
    assert (changes.loc[fixed, "move"] == 0).all() and not changes.loc[fixed, "refitted"].any()
    with pytest.raises(ValueError, match="same parameters"):
        parameter_changes(asia, load_model())


@pytest.mark.slow
def test_the_command_line_fits_into_a_new_folder_that_checks(tmp_path, capsys):
    from model.cli.main import main

    rng = np.random.default_rng(0)
    cases = pd.DataFrame({"id": range(40), "sex": rng.choice(["male", "female"], 40),
                          "pain_burning": rng.choice(["yes", "no"], 40)})
    cases.loc[5, "pain_burning"] = "maybe"
    cases.to_csv(tmp_path / "cases.csv", index=False)
    pd.DataFrame({"id": range(40), "tumour": [1, 0, ""] * 13 + [1]}).to_csv(tmp_path / "labels.csv", index=False)
    out = tmp_path / "refitted"
    code = main(["fit", str(tmp_path / "cases.csv"), "--labels", str(tmp_path / "labels.csv"), "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 1  # one bad row, reported by line
    assert "line 7: 'pain_burning' has no state 'maybe'" in err and "fit: evaluation 1," in err
    assert "refitted on 39 cases (converged" in err
    assert main(["check", str(out)]) == 0
    assert load_model(out).priors_digest != load_model().priors_digest
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    assert main(["fit", str(tmp_path / "cases.csv"), "-o", str(tmp_path / "full")]) == 1
    assert "fit: evaluation" not in capsys.readouterr().err  # refused before anything was computed


def perturbed(model, seed, tmp_path=None):
    """A copy of ``model`` whose free CPT cells are moved within their ranges (columns renormalised): the
    "true" model of a simulated cohort. Also used by benchmarks/bench_learning.py."""
    rng = np.random.default_rng(seed)
    changes = {}
    for name, frame in model.tables.items():
        if not name.startswith("cpts/"):
            continue
        frame = frame.copy()
        free = (frame["low"] < frame["high"]).to_numpy()
        frame.loc[free, "probability"] = rng.uniform(frame["low"], frame["high"])[free]
        node = name.split("/", 1)[1]
        parents = [c for c in frame.columns if c in model.nodes.index and c != node]
        totals = frame.groupby(parents)["probability"].transform("sum") if parents else frame["probability"].sum()
        frame["probability"] = frame["probability"] / totals
        frame["low"] = np.minimum(frame["low"], frame["probability"])
        frame["high"] = np.maximum(frame["high"], frame["probability"])
        changes[name] = frame
    return model.with_tables(changes)


def test_cross_validation_scores_both_models_on_held_out_folds(asia, tmp_path):
    from model import cross_validate, validate
    from model.learning.crossval import held_out_log_likelihood

    truth = perturbed(asia, 29, tmp_path)
    data = sample(truth, 600, seed=31)
    causes = list(asia.causes)
    labels = pd.DataFrame({c: (data[c] == asia.states(c)[1]).astype(int) for c in causes})
    cases = data.drop(columns=causes).mask(np.random.default_rng(37).random((600, 8 - len(causes))) < 0.3)
    result = cross_validate(cases, labels, priors=asia, folds=3, seed=5)
    assert sorted(result.metrics["fold"].unique()) == [0, 1, 2]
    assert set(result.metrics["model"]) == {"expert", "refitted"} and set(result.metrics["cause"]) == set(causes)
    assert result.log_likelihood["cases"].sum() == 600
    assert result.log_likelihood["per_case_gain"].mean() > 0  # the refit predicts held-out cases better
    # the expert's scores on a fold equal validate()'s on the same rows
    fold_of = np.empty(600, dtype=int)
    fold_of[np.random.default_rng(5).permutation(600)] = np.arange(600) % 3
    rows = np.flatnonzero(fold_of == 0)
    report = validate(cases.iloc[rows], labels.iloc[rows], priors=asia)
    mine = result.metrics[(result.metrics["fold"] == 0) & (result.metrics["model"] == "expert")].set_index("cause")
    pd.testing.assert_frame_equal(mine[["auc", "brier", "log_loss", "ece"]],
                                  report.metrics[["auc", "brier", "log_loss", "ece"]], check_names=False)
    # the held-out log-likelihood equals enumeration
    evidence = _evidence(asia, cases.iloc[rows])
    expanded = [case for case, w in zip(*evidence) for _ in range(int(w))]
    assert held_out_log_likelihood(asia, cases.iloc[rows])[0] == pytest.approx(brute_counts(asia, expanded)[1],
                                                                                abs=1e-9)


@pytest.mark.slow
def test_parameter_recovery_on_asia(asia, tmp_path):
    """Issue 13's recovery test on a small network, every parameter a CPT cell, in seconds (the bundled
    network's version is below): 5,000 cases from a "true" model whose parameters differ from the experts' within their ranges, 40% of
    the cells hidden, the causes labelled on half the rows. The fit halves the mean absolute error of the
    parameters the data inform, and predicts held-out cases better."""
    from model.analysis.parameters import parameter_table
    from model.learning.crossval import held_out_log_likelihood

    truth = perturbed(asia, 41, tmp_path)
    data = sample(truth, 6_000, seed=43)
    causes = list(asia.causes)
    rng = np.random.default_rng(47)
    hidden = data.mask(rng.random(data.shape) < 0.4)
    labels = hidden[causes].apply(lambda c: (c == asia.states(c.name)[1]).astype(float).where(c.notna()))
    labels.iloc[::2] = np.nan  # labels on half the rows
    cases = hidden.drop(columns=causes)
    train, test = slice(0, 5_000), slice(5_000, 6_000)
    refit, report = fit(cases.iloc[train], labels.iloc[train], priors=asia, report=True)
    assert report.converged
    start, true_values, fitted = (parameter_table(m)["value"].to_numpy(dtype=float) for m in (asia, truth, refit))
    free = (parameter_table(asia)["low"] < parameter_table(asia)["high"]).to_numpy()
    before, after = np.abs(start - true_values)[free].mean(), np.abs(fitted - true_values)[free].mean()
    assert after <= before / 2, (before, after)
    held_out = data.iloc[test].drop(columns=causes).mask(rng.random((1_000, len(data.columns) - len(causes))) < 0.4)
    assert held_out_log_likelihood(refit, held_out)[0] > held_out_log_likelihood(asia, held_out)[0]


@pytest.mark.slow
def test_parameter_recovery_on_the_bundled_network(bundled_model):
    """Issue 13's recovery test on the bundled network: a "true" model with every free parameter drawn within
    its expert range (the credible intervals' distributions, kept loadable by ``uncrossed``); 6,000 patients
    drawn from it within the population, 40% of the recorded cells hidden, the causes' labels kept on half
    the rows (where their cell is not hidden), mechanisms and the complication never recorded. Fitted on
    5,000 of them, the model's error on the parameters the data inform (those whose fitted 90% interval is
    under half the width of the expert's range) falls by at least half, on the logit or log scale of the
    prior and on the scale the rows are written in, and the 1,000 held-out patients are predicted better."""
    from model.analysis.intervals import draw_parameters
    from model.analysis.parameters import parameter_table
    from model.learning.crossval import held_out_log_likelihood
    from model.learning.maximise import normal_prior, to_unbounded
    from model.learning.rows import fitted_tables, uncrossed

    experts = bundled_model
    listing = parameter_table(experts)
    free = (listing["low"] < listing["high"]).to_numpy()
    drawn = uncrossed(experts, draw_parameters(experts, 1, seed=41)[0])
    truth = experts.with_tables(fitted_tables(experts, drawn, {i: (listing.at[i, "low"], listing.at[i, "high"])
                                                               for i in np.flatnonzero(free)}, "simulated truth"))
    rng = np.random.default_rng(43)
    cohort = simulate(6_000, priors=truth, seed=43)
    causes = list(experts.causes)
    data = cohort.drop(columns=[*experts.complications, *experts.mechanisms, *experts.population])
    data = data.mask(rng.random(data.shape) < 0.4)
    labels = (data[causes] == "present").astype(float).where(data[causes].notna())
    labels.iloc[::2] = np.nan  # labels on half the rows
    cases = data.drop(columns=causes)
    refit, report = fit(cases.iloc[:5_000], labels.iloc[:5_000], priors=experts, report=True, tolerance=1e-5)
    assert report.converged
    kind = listing["kind"].to_numpy()
    start, true_z, fitted_z = (to_unbounded(parameter_table(m)["value"].to_numpy(dtype=float), kind)
                               for m in (experts, truth, refit))
    fitted = parameter_table(refit)
    _, prior_sd = normal_prior(listing["value"], listing["low"], listing["high"], kind)
    _, fitted_sd = normal_prior(fitted["value"], fitted["low"], fitted["high"], kind)
    informed = free & (fitted_sd < prior_sd / 2)
    assert informed.sum() >= 50
    before, after = np.abs(start - true_z)[informed].mean(), np.abs(fitted_z - true_z)[informed].mean()
    assert after <= before / 2, (informed.sum(), before, after)
    written = [parameter_table(m)["value"].to_numpy(dtype=float)[informed] for m in (experts, truth, refit)]
    before, after = np.abs(written[0] - written[1]).mean(), np.abs(written[2] - written[1]).mean()
    assert after <= before / 2, (before, after)  # and on the scale the rows are written in
    held_out = cases.iloc[5_000:]
    assert held_out_log_likelihood(refit, held_out)[0] > held_out_log_likelihood(experts, held_out)[0]


def test_a_step_that_makes_a_case_impossible_is_refused_not_fatal(asia, monkeypatch):
    """Tables under which some case has probability zero give log-likelihood -inf and no counts; the search
    then sees a value far worse than any it has seen (finite, so that its line search steps back) instead
    of failing."""
    t = {"a": (("a",), np.array([1.0, 0.0])), "b": (("b", "a"), np.array([[0.9, 0.2], [0.1, 0.8]]))}
    impossible = expected_counts(t, {"a": 2, "b": 2}, [({"b": 1}, {}), ({"a": 1}, {})])
    assert impossible.log_likelihood == -math.inf and all(c is None for c in impossible.tables.values())
    import model.learning.estimate as estimate

    posterior = _Posterior(asia, _evidence(asia, sample(asia, 30, seed=3)))
    from model.learning.maximise import to_unbounded

    z = to_unbounded(posterior.start[posterior.free], posterior.kind[posterior.free])
    first, slope = posterior(z)
    monkeypatch.setattr(estimate, "expected_counts", lambda *args, **kwargs: impossible)
    value, gradient = posterior(z + 1.0)
    assert np.isfinite(value) and value > 10 * abs(first) and np.array_equal(gradient, slope)


def test_simulated_cohorts_follow_the_model(bundled_model):
    """Frequencies of simulate() within sampling error of the exact population marginals (Model.predict)."""
    cohort = simulate(4_000, priors=bundled_model, seed=3)
    assert (cohort["posterior_thigh_pain"] == "yes").all()
    for node in ("lumbar_disc_herniation", "low_back_pain", "slr_positive", "sex"):
        expected = bundled_model.predict({}, [node]).loc[node, "probability"] if node not in bundled_model.causes \
            else None
        state = bundled_model.states(node)[1]
        if expected is None:
            p = bundled_model.infer({}).at[node, "posterior"]
        else:
            p = float(expected.loc[state])
        observed = (cohort[node] == state).mean()
        assert abs(observed - p) < 4 * np.sqrt(p * (1 - p) / len(cohort)), (node, observed, p)


def test_soft_evidence_cells_count_with_their_likelihoods(asia):
    """A cell holding likelihoods (soft evidence) enters the expected counts as that likelihood vector (scaled
    so that its largest entry is 1, as the engine reads soft evidence: a constant, which moves no fit)."""
    cases = pd.DataFrame({"smoke": [{"yes": 0.8, "no": 0.2}, "yes", None], "dysp": ["yes", None, "no"]})
    evidence, weights = _evidence(asia, cases)
    assert list(weights) == [1.0, 1.0, 1.0]
    (hard, soft) = evidence[0]
    assert hard == {"dysp": asia.states("dysp").index("yes")}
    np.testing.assert_allclose(soft["smoke"], [1.0 if s == "yes" else 0.25 for s in asia.states("smoke")])
    card = {v: len(asia.states(v)) for v in asia.nodes.index}
    ours = expected_counts(junction_tables(asia), card, evidence)
    expanded = [(h, s) for h, s in evidence]
    reference, total = brute_counts(asia, expanded)
    assert ours.log_likelihood == pytest.approx(total, abs=1e-12)
    np.testing.assert_allclose(ours.tables["smoke"], reference["smoke"], atol=1e-12)
