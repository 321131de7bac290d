"""Credible intervals (model/analysis/intervals.py) and the draw axis of the batch engine.

The draw axis is exact: each draw's posteriors equal pgmpy's on a model built from that draw's
tables, through every compilation path (pattern tables or not, several draw groups, several case
blocks). Intervals shrink when the ranges shrink, collapse to the point value when low == high, are
reproducible with a seed, and agree between ``infer`` and ``infer_batch``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from model import Model, infer, infer_batch, load_model
from model.analysis import intervals as intervals_module
from model.engine import draws as engine_draws
from model.engine.pruning import observed_columns, pruned_model, relevant_nodes
from model.analysis.intervals import (
    EDGE,
    draw_parameters,
    parameter_distributions,
    posterior_intervals,
)
from model.analysis.parameters import model_parameters, node_values
from model.priors.forms import NodeTable
from model.interop import network_to_tables, read_network
from model.priors import save_tables
from model.priors.expand import TOLERANCE

DATA = Path(__file__).parent / "data" / "bnlearn"
SCENARIOS = [
    {"pain_burning": "yes", "low_back_pain": "no", "sitting_effect": "dominant"},
    {"avid_cyclist": "yes", "groin_perineal_radiation": "yes", "pfcn_block_relief": "yes"},
    {"crossed_slr_positive": "yes", "pain_below_knee": "yes", "age_group": "60_plus"},
    {"sitting_effect": {"none": 0.2, "aggravates": 1.0, "dominant": 1.0}, "reduced_pulses": "yes"},
]


def random_cases(model, n, seed, observe=0.4):
    """``n`` cases of hard, soft and missing cells over every non-reported node (the population's nodes
    always missing: the model observes them)."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        row = {}
        for node, states in model._states.items():
            if node in model._reported or rng.random() > observe or node in model.population:
                continue
            if rng.random() < 0.1:
                row[node] = [float(x) for x in rng.uniform(0.05, 1.0, len(states))]
            else:
                row[node] = states[rng.integers(len(states))]
        rows.append(row)
    return pd.DataFrame(rows, columns=[n for n in model._states if n not in model._reported], dtype=object)


def model_of_draw(model, tables, d):
    """A Model (pgmpy VE inside) whose node tables are draw ``d`` of ``tables``."""
    node_tables = dict(model._priors.node_tables)
    for node, values in tables.items():
        t = node_tables[node]
        node_tables[node] = NodeTable(node, t.states, t.parents, t.parent_states, np.array(values[d]))
    return Model(dataclasses.replace(model._priors, node_tables=node_tables))


def assert_each_draw_equals_pgmpy(model, tables, cases, got):
    """``got[d, i]`` equals pgmpy's posteriors for case ``i`` on the model built from draw ``d`` of ``tables``."""
    for d in range(len(got)):
        variant = model_of_draw(model, tables, d)
        for i, (_, row) in enumerate(cases.iterrows()):
            expected = variant.infer(as_evidence(model, row.dropna().to_dict()))["posterior"][list(model._reported)]
            assert np.max(np.abs(got[d, i] - expected.to_numpy())) <= 1e-9


def as_evidence(model, row):
    return {n: dict(zip(model._states[n], v)) if isinstance(v, list) else v for n, v in row.items()
            if not (isinstance(v, float) and np.isnan(v)) and v is not None}


def with_ranges(model, shrink):
    """The model with every range pulled towards its value by the factor ``shrink`` (0: low == high)."""
    changes = {}
    for name, frame in model.tables.items():
        if name in ("nodes", "population"):  # no parameters
            continue
        value = frame["relative_risk" if "relative_risk" in frame else "probability"]
        frame = frame.copy()
        frame["low"] = value - shrink * (value - frame["low"])
        frame["high"] = value + shrink * (frame["high"] - value)
        changes[name] = frame
    return model.with_tables(changes)


def with_exact_cpts(model):
    """The model with each full CPT's probabilities (and range ends) divided by their sum per parent configuration.

    v2: the bundled ``bone_injury`` CPT is written with 10 significant digits, so its columns sum to 1 only within
    about 5e-11; the loader keeps the numbers as written (within its tolerance), while drawn tables are
    distributions (renormalised). v1's CPTs summed to 1 exactly. Dividing by the sums makes the loader's table the
    exact distribution, as v1's were.
    """
    changes = {}
    for name, frame in model.tables.items():
        if not name.startswith("cpts/"):
            continue
        node = name.split("/", 1)[1]
        parents = [c for c in frame.columns if c not in (node, "probability", "low", "high", "source", "grade")]
        total = frame.groupby(parents)["probability"].transform("sum") if parents else frame["probability"].sum()
        for column in ("probability", "low", "high"):
            frame[column] = frame[column] / total
        changes[name] = frame
    return model.with_tables(changes)


# --- the draw axis is exact ------------------------------------------------------------------------
@pytest.mark.parametrize("tabulate", [True, False])
@pytest.mark.parametrize("small_groups", [False, True])
def test_each_draw_equals_pgmpy_on_a_model_built_from_that_draw(bundled_model, monkeypatch, tabulate, small_groups):
    m = bundled_model
    monkeypatch.setattr(engine_draws, "CASES_PER_PATTERN", 0 if tabulate else 10**9)
    if small_groups:  # several draw groups and several case blocks
        monkeypatch.setattr(engine_draws, "MAX_DRAW_NUMBERS", 1)
        monkeypatch.setattr(engine_draws, "MAX_DRAW_RESULTS", 2 * 3 * len(m._reported))
    cases = random_cases(m, 7, seed=5)
    values = draw_parameters(m, 3, seed=11)
    p = model_parameters(m)
    tables = node_values(p, m, values)
    got = np.full((3, len(cases), len(m._reported)), np.nan)
    for start, stop, block in engine_draws.draw_posteriors(m, cases, lambda a, b: node_values(p, m, values[a:b]), 3):
        got[:, start:stop] = block
    assert_each_draw_equals_pgmpy(m, tables, cases, got)


def test_draw_axis_on_an_imported_network_equals_pgmpy(tmp_path):
    save_tables(network_to_tables(read_network(DATA / "child.bif.gz"), source="child.bif.gz"), tmp_path / "child")
    m = load_model(tmp_path / "child")
    rng = np.random.default_rng(3)
    tables = {}
    for node, t in m._priors.node_tables.items():  # random valid tables, 2 draws
        raw = rng.uniform(0.05, 1.0, (2,) + t.values.shape)
        tables[node] = raw / raw.sum(axis=1, keepdims=True)
    cases = random_cases(m, 5, seed=8)
    (_, _, got), = engine_draws.draw_posteriors(m, cases, lambda a, b: {k: v[a:b] for k, v in tables.items()}, 2)
    assert_each_draw_equals_pgmpy(m, tables, cases, got)


# --- the parameters and their distributions --------------------------------------------------------
def test_tables_at_the_experts_values_are_the_loaders(bundled_model):
    p = model_parameters(bundled_model)
    tables = node_values(p, bundled_model, p.table["value"].to_numpy()[None, :])
    for node, t in bundled_model._priors.node_tables.items():
        expected = t.values
        if bundled_model.nodes.at[node, "form"] == "cpt":  # v2: see with_exact_cpts (bone_injury sums to 1 +- 5e-11)
            assert np.max(np.abs(expected.sum(axis=0) - 1.0)) <= TOLERANCE, node
            expected = expected / expected.sum(axis=0)
        assert np.max(np.abs(tables[node][0] - expected)) <= 1e-12, node
    exact = with_exact_cpts(bundled_model)  # with exact CPTs the loader's tables are the drawn ones, node by node
    p = model_parameters(exact)
    tables = node_values(p, exact, p.table["value"].to_numpy()[None, :])
    for node, t in exact._priors.node_tables.items():
        assert np.max(np.abs(tables[node][0] - t.values)) <= 1e-12, node


def test_drawn_tables_are_valid_distributions(bundled_model):
    p = model_parameters(bundled_model)
    tables = node_values(p, bundled_model, draw_parameters(bundled_model, 300, seed=2))
    for node, values in tables.items():
        assert values.shape[1:] == bundled_model._priors.node_tables[node].values.shape
        assert (values >= 0).all() and (values <= 1).all(), node
        assert np.allclose(values.sum(axis=1), 1.0, atol=1e-12), node


def test_each_distribution_puts_its_5th_and_95th_percentiles_at_low_and_high(bundled_model):
    table = parameter_distributions(bundled_model)
    assert set(table["distribution"]) == {"beta", "lognormal"}
    for _, row in table.iterrows():
        if row["distribution"] == "beta":
            q = stats.beta(row["a"], row["b"]).ppf([0.05, 0.95])
            bounds = [EDGE if row["low"] == 0 else row["low"], 1 - EDGE if row["high"] == 1 else row["high"]]
        else:
            q = stats.lognorm(s=row["b"], scale=np.exp(row["a"])).ppf([0.05, 0.95])
            bounds = [row["low"], row["high"]]
        assert np.allclose(q, bounds, rtol=1e-9, atol=1e-12), row["parameter"]


def test_draws_follow_their_distributions(bundled_model):
    table = parameter_distributions(bundled_model)
    values = draw_parameters(bundled_model, 4000, seed=7)
    beta = (table["distribution"] == "beta").to_numpy()
    low = np.where(beta & (table["low"] == 0), EDGE, table["low"])  # a bound at 0 or 1 is read as EDGE
    high = np.where(beta & (table["high"] == 1), 1 - EDGE, table["high"])
    inside = ((values >= low) & (values <= high)).mean(axis=0)
    assert abs(inside.mean() - 0.9) < 0.01  # each range holds 90% of its draws
    assert ((inside > 0.85) & (inside < 0.95)).all()


# --- intervals -------------------------------------------------------------------------------------
def test_intervals_collapse_to_the_point_value_when_low_equals_high(bundled_model):
    point_model = with_exact_cpts(with_ranges(bundled_model, 0.0))  # v2: exact CPT sums, see with_exact_cpts
    assert set(parameter_distributions(point_model)["distribution"]) == {"fixed"}
    for evidence in SCENARIOS:
        result = point_model.infer(evidence, interval=0.9, draws=20, seed=1)
        for column in ("median", "low", "high"):
            assert np.max(np.abs(result[column] - result["posterior"])) <= 1e-12


@pytest.mark.parametrize("evidence", SCENARIOS[:3])
def test_intervals_shrink_when_the_ranges_shrink(bundled_model, evidence):
    widths = []
    for shrink in (1.0, 0.5, 0.1):
        result = with_ranges(bundled_model, shrink).infer(evidence, interval=0.9, draws=300, seed=4)
        assert (result["low"] <= result["median"]).all() and (result["median"] <= result["high"]).all()
        widths.append(result["high"] - result["low"])
    assert (widths[1] < widths[0]).all() and (widths[2] < widths[1]).all()
    assert (widths[2] < 0.25 * widths[0]).all()


def test_same_seed_same_interval_other_seed_other_interval(bundled_model):
    evidence = SCENARIOS[1]
    a = bundled_model.infer(evidence, interval=0.9, draws=100, seed=3)
    b = bundled_model.infer(evidence, interval=0.9, draws=100, seed=3)
    c = bundled_model.infer(evidence, interval=0.9, draws=100, seed=4)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["low"], c["low"])
    assert a.attrs["interval"] == {"level": 0.9, "draws": 100, "seed": 3}


def test_infer_and_infer_batch_give_the_same_interval(bundled_model):
    cases = pd.DataFrame([{k: v for k, v in e.items()} for e in SCENARIOS], dtype=object)
    batch = infer_batch(cases, priors=bundled_model, interval=0.8, draws=150, seed=9)
    assert batch.columns.names == ["cause", "statistic"]
    for i, evidence in enumerate(SCENARIOS):
        one = infer(evidence, priors=bundled_model, interval=0.8, draws=150, seed=9)
        for statistic in ("posterior", "median", "low", "high"):
            got = batch.xs(statistic, axis=1, level="statistic").iloc[i][one.index]
            assert np.max(np.abs(got - one[statistic])) <= 1e-12, statistic


def test_the_interval_level_sets_the_percentiles(bundled_model):
    values = posterior_intervals(bundled_model, pd.DataFrame({"avid_cyclist": ["yes"]}), interval=0.5, draws=200,
                                 seed=1)
    wide = posterior_intervals(bundled_model, pd.DataFrame({"avid_cyclist": ["yes"]}), interval=0.95, draws=200,
                               seed=1)
    assert (wide["low"] < values["low"]).all() and (values["high"] < wide["high"]).all()
    assert np.array_equal(values["median"], wide["median"])


def test_bad_rows_get_no_interval_and_good_rows_keep_theirs(bundled_model):
    cases = pd.DataFrame({"pain_burning": ["yes", "maybe", None]})
    result = infer_batch(cases, priors=bundled_model, interval=0.9, draws=50, seed=0)
    assert result.iloc[1].isna().all()
    assert result.iloc[[0, 2]].notna().all().all()
    assert len(result.attrs["problems"]) == 1


def test_no_rows_give_an_empty_frame_with_the_interval_columns(bundled_model):
    empty = pd.DataFrame({"pain_burning": pd.Series([], dtype=object)})
    result = infer_batch(empty, priors=bundled_model, interval=0.9, draws=20, seed=1)
    assert result.shape == (0, 4 * len(bundled_model._reported))
    assert list(result.columns[:2]) == [(bundled_model.causes[0], "posterior"), (bundled_model.causes[0], "median")]


def test_an_imported_network_has_fixed_parameters_and_point_intervals(tmp_path):
    save_tables(network_to_tables(read_network(DATA / "asia.bif.gz"), source="asia.bif.gz"), tmp_path / "asia")
    m = load_model(tmp_path / "asia")
    result = m.infer({"xray": "yes"}, interval=0.9, draws=10, seed=0)
    assert np.max(np.abs(result["high"] - result["posterior"])) <= 1e-12


@pytest.mark.parametrize("options, message", [
    ({"interval": 1.5}, "interval must be a number between 0 and 1"),
    ({"interval": 0.0}, "interval must be a number between 0 and 1"),
    ({"interval": "0.9"}, "interval must be a number between 0 and 1"),
    ({"interval": 0.9, "draws": 0}, "draws must be a positive whole number"),
    ({"interval": 0.9, "draws": 2.5}, "draws must be a positive whole number"),
])
def test_bad_interval_options_are_refused(bundled_model, options, message):
    with pytest.raises(ValueError, match=message):
        bundled_model.infer({"avid_cyclist": "yes"}, **options)
    with pytest.raises(ValueError, match=message):
        infer_batch(pd.DataFrame({"avid_cyclist": ["yes"]}), priors=bundled_model, **options)


def test_intervals_leave_the_model_and_the_cases_unchanged(bundled_model):
    cases = random_cases(bundled_model, 4, seed=1)
    before = cases.copy()
    plain = bundled_model.infer(SCENARIOS[0])
    infer_batch(cases, priors=bundled_model, interval=0.9, draws=30, seed=1)
    pd.testing.assert_frame_equal(cases, before)
    pd.testing.assert_frame_equal(bundled_model.infer(SCENARIOS[0]), plain)


def test_a_range_reaching_0_or_1_is_read_from_edge(bundled_model):
    # v2: crossed SLR is a full CPT on slr_positive, so the link widened is tumour -> slr_positive (SLR is the
    # parent of crossed SLR, which SCENARIOS[2] observes)
    variant = bundled_model.with_parameter("links", parent="tumour", child="slr_positive", low=0.0, high=1.0)
    table = parameter_distributions(variant)
    row = table[(table["table"] == "links") & (table["parameter"] == "P(slr_positive=yes | tumour=present "
                                                                      "alone)")].iloc[0]
    assert row["distribution"] == "beta"
    assert np.allclose(stats.beta(row["a"], row["b"]).ppf([0.05, 0.95]), [EDGE, 1 - EDGE], rtol=1e-9)
    result = variant.infer(SCENARIOS[2], interval=0.9, draws=50, seed=0)
    assert result[["median", "low", "high"]].notna().all().all()


# --- barren nodes are pruned, exactly ---------------------------------------------------------------
def unpruned(model, cases, **options):
    """The intervals scored on the whole network (no pruning): the reference for the pruned path."""
    return intervals_module._intervals(model, cases, options.get("interval", 0.9), options["draws"],
                                       options["seed"], False, prune=False)


def test_pruned_intervals_equal_the_whole_networks_for_the_same_seed(bundled_model):
    m = bundled_model
    batch = random_cases(m, 4, seed=21, observe=0.15)
    batch.loc[1, "sitting_effect"] = None  # a column missing in some rows
    batch["night_pain"] = None  # and one missing in every row
    frames = [intervals_module.evidence_frame(e) for e in SCENARIOS] + [batch]
    for cases in frames:
        got = posterior_intervals(m, cases, interval=0.8, draws=40, seed=13)
        expected = unpruned(m, cases, interval=0.8, draws=40, seed=13)
        for statistic in ("low", "median", "high"):
            assert np.max(np.abs(got[statistic] - expected[statistic])) <= 1e-12, statistic


def test_bad_and_impossible_rows_are_the_same_with_pruning(bundled_model):
    cases = pd.DataFrame({"pain_burning": ["yes", "maybe", None], "posterior_thigh_pain": [None, None, "no"]},
                         dtype=object)  # the population observes posterior_thigh_pain = yes: row 2 is bad
    got = posterior_intervals(bundled_model, cases, draws=10, seed=2)
    expected = unpruned(bundled_model, cases, draws=10, seed=2)
    for statistic in ("low", "median", "high"):
        np.testing.assert_array_equal(np.isnan(got[statistic]), np.isnan(expected[statistic]))
        assert np.nanmax(np.abs(got[statistic] - expected[statistic])) <= 1e-12


def test_each_draw_of_the_pruned_model_equals_pgmpy_on_the_whole_model(bundled_model):
    m = bundled_model
    cases = pd.DataFrame([SCENARIOS[0], SCENARIOS[3]], dtype=object)
    small = pruned_model(m, relevant_nodes(m, observed_columns(cases)))
    assert len(small._states) < len(m._states) and small._reported == m._reported
    values = draw_parameters(m, 2, seed=17)
    p = model_parameters(m)
    (_, _, got), = engine_draws.draw_posteriors(small, cases, lambda a, b: node_values(p, m, values[a:b]), 2)
    rows = cases.map(lambda v: [v[s] for s in m._states["sitting_effect"]] if isinstance(v, dict) else v)
    assert_each_draw_equals_pgmpy(m, node_values(p, m, values), rows, got)


def test_the_relevant_nodes_are_the_ancestors_of_the_observed_reported_and_population_nodes(bundled_model):
    import networkx as nx

    m = bundled_model
    graph = nx.DiGraph(m.network.edges())
    graph.add_nodes_from(m._states)
    observed = ["pain_burning", "sitting_effect"]
    expected = set()
    for node in [*observed, *m._reported, *m.population]:
        expected |= nx.ancestors(graph, node) | {node}
    kept = relevant_nodes(m, observed)
    assert set(kept) == expected and list(kept) == [n for n in m._states if n in expected]
    small = pruned_model(m, kept)
    assert pruned_model(m, list(reversed(kept))) is small  # built once per node set
    assert pruned_model(m, tuple(m._states)) is m
    assert small.population == m.population and small.causes == m.causes


def test_drawing_some_nodes_draws_the_same_numbers_for_them(bundled_model):
    table = model_parameters(bundled_model).table
    everything = draw_parameters(bundled_model, 30, seed=5)
    some = draw_parameters(bundled_model, 30, seed=5, nodes={"pain_burning", "age_group"})
    mine = table["node"].isin(["pain_burning", "age_group"]).to_numpy()
    assert np.array_equal(some[:, mine], everything[:, mine])
    assert (some[:, ~mine] == table["value"].to_numpy()[~mine]).all()


def test_drawn_link_tables_are_the_forms_tables_bit_for_bit(bundled_model):
    """node_values computes noisy-OR and logistic tables with the configurations first (faster); the numbers
    are those of model.priors.forms, clipped to [0, 1] and divided by their column sums."""
    from model.priors.forms import logistic_table, noisy_max_table

    m = bundled_model
    p = model_parameters(m)
    values = draw_parameters(m, 7, seed=3)
    got = node_values(p, m, values)
    views = node_values(p, m, values, contiguous=False)  # the layout credible intervals use: the same numbers
    assert all(np.array_equal(views[n], got[n]) for n in got)
    checked = set()
    for node, form, (leak_columns, links) in (r for r in p.recipes if r[1] in ("noisy_or", "logistic")):
        states = m._priors.node_tables[node].parent_states
        leak = np.minimum.accumulate(values[:, leak_columns], axis=1)
        totals = {k: np.minimum.accumulate(values[:, c], axis=1) for k, c in links.items()}
        if form == "noisy_or":
            table = noisy_max_table(leak, {k: np.maximum(v, leak) for k, v in totals.items()}, states)
        else:
            table = logistic_table(leak, totals, states)
        table = np.clip(table, 0.0, 1.0)
        assert np.array_equal(got[node], table / table.sum(axis=1, keepdims=True)), node
        assert got[node].flags["C_CONTIGUOUS"], node  # a matrix product's rounding depends on the layout
        checked.add(form)
    assert checked == {"noisy_or", "logistic"}
