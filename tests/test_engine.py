"""``infer_batch`` (model/engine/batch.py) gives pgmpy variable elimination's posteriors row by row, on many rows at
once (``Model.infer`` runs on the same engine, so the reference here is pgmpy on ``Model.network``, through
``tests/reference.py``, with impossible rows found by pgmpy's chain rule there).

Exactness (1e-9) on random bundled cases with hard, soft (dict and list) and missing cells, on two
imported bnlearn networks (asia with its deterministic ``either``, child), plus the edges: all-missing
rows, one row, no rows, chunk boundaries, bad rows, unknown columns, impossible evidence, no mutation.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model import EvidenceError, load_model
from model.engine import compiled
from model.engine import compiled_plan, infer_batch, parse_cases
from model.interop import network_to_tables, read_network
from model.priors import bundled_priors_folder, save_tables
from reference import ve_first_impossible, ve_marginals

TOL = 1e-9
DATA = Path(__file__).parent / "data" / "bnlearn"


# --- helpers ---------------------------------------------------------------------------------------
def _likelihoods(rng, size):
    values = rng.uniform(0.0, 1.0, size)
    if rng.random() < 0.3:
        values[rng.integers(size)] = 0.0
    if values.max() == 0.0:
        values[rng.integers(size)] = 1.0
    return [float(x) for x in values]


def random_rows(model, n, seed, *, observe=0.5, soft=0.1, reported=0.05):
    """``n`` random rows ``{node: cell}``: states, soft dicts or lists, about ``observe`` of nodes observed."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        row = {}
        for node, states in model._states.items():
            if rng.random() >= (reported if node in model._reported else observe) or node in model.population:
                continue  # the population's nodes: observed by the model in every row
            if rng.random() < soft:
                lik = _likelihoods(rng, len(states))
                row[node] = dict(zip(states, lik)) if rng.random() < 0.5 else lik
            else:
                row[node] = states[rng.integers(len(states))]
        rows.append(row)
    return rows


def as_evidence(model, row):
    """A row as ``Model.infer`` evidence: lists become dicts."""
    return {n: dict(zip(model._states[n], v)) if isinstance(v, (list, tuple)) else v for n, v in row.items()}


def frame(model, rows, columns=None):
    return pd.DataFrame(rows, columns=list(columns or model._states), dtype=object)


def pgmpy_posteriors(model, evidence):
    """P(not the reference state | evidence) of every reported node by pgmpy VE; EvidenceError when the evidence
    is invalid or has probability zero (pgmpy's chain rule)."""
    hard, soft = model.check_evidence(evidence)
    if any((table.values == 0).any() for table in model._priors.node_tables.values()):  # else nothing is impossible
        given = [n for n in [*model.population, *evidence] if n in hard or n in soft]
        culprit = ve_first_impossible(model, hard, soft, list(dict.fromkeys(given)))
        if culprit:
            raise EvidenceError(f"the evidence has probability zero under the model: {culprit} is impossible")
    free = [n for n in model._reported if n not in hard]
    marginals = ve_marginals(model, free, hard, soft) if free else {}
    values = {n: float(hard[n] != model._states[n][0]) for n in model._reported if n in hard}
    for n in free:
        factor = marginals[n]
        values[n] = 1.0 - float(factor.values[factor.state_names[n].index(model._states[n][0])])
    return pd.Series(values)[list(model._reported)]


def assert_rows_match_infer(model, rows, result):
    """Every possible row equals pgmpy VE within TOL; impossible rows are NaN. Returns the count of each."""
    possible = impossible = 0
    for i, row in enumerate(rows):
        try:
            expected = pgmpy_posteriors(model, as_evidence(model, row))
        except EvidenceError:
            assert result.iloc[i].isna().all(), f"row {i} is impossible but got {result.iloc[i].tolist()}"
            impossible += 1
            continue
        got = result.iloc[i][expected.index]
        worst = float((got - expected).abs().max())
        assert worst <= TOL, f"row {i}: {row}\nbatch {got.tolist()}\ninfer {expected.tolist()}"
        possible += 1
    return possible, impossible


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """name -> Model of a vendored bnlearn network imported into a priors folder (once per module)."""
    cache = {}

    def get(name):
        if name not in cache:
            folder = tmp_path_factory.mktemp("engine") / name
            save_tables(network_to_tables(read_network(DATA / f"{name}.bif.gz"), source=f"{name}.bif.gz"), folder)
            cache[name] = load_model(folder)
        return cache[name]

    return get


# --- exactness -------------------------------------------------------------------------------------
def problems_of(result):
    """The problems of a batch result as a table."""
    return pd.DataFrame(result.attrs["problems"], columns=["row", "node", "value", "problem"])


def test_random_bundled_cases_equal_infer(bundled_model):
    rows = random_rows(bundled_model, 320, seed=1)
    assert sum(any(isinstance(v, dict) for v in r.values()) for r in rows) > 30
    assert sum(any(isinstance(v, list) for v in r.values()) for r in rows) > 30
    result = infer_batch(frame(bundled_model, rows), priors=bundled_model, chunk_size=97)
    assert list(result.columns) == list(bundled_model.causes + bundled_model.complications)
    assert result.columns.name == "cause"
    possible, _ = assert_rows_match_infer(bundled_model, rows, result)
    assert possible == len(rows)
    assert problems_of(result).empty


def test_rows_observing_the_leaf_group_alike_equal_pgmpy(bundled_model):
    """Rows that observe the findings of a log group alike (the next question's hypothetical answers) score
    that group once for all rows: every row still equals pgmpy VE, with the group's findings observed or not, every
    row differing elsewhere; and rows observing the group differently (hard evidence only) are scored apart."""
    shared = {"pain_burning": "yes", "buttock_pain": "no", "posterior_thigh_cutaneous_sensory_change": "yes"}
    elsewhere = [{}, {"age_group": "60_plus"}, {"avid_cyclist": "yes"}, {"trauma_or_fall": "high_energy"},
                 {"slr_positive": "yes"}, {"sex": "female", "reduced_ankle_reflex": "yes"}]
    differing = [{"pain_burning": "yes"}, {"pain_burning": "no"}, {"buttock_pain": "yes", "pain_burning": "yes"}, {}]
    for rows in ([{**shared, **other} for other in elsewhere], elsewhere, differing):
        result = infer_batch(frame(bundled_model, rows), priors=bundled_model)
        possible, _ = assert_rows_match_infer(bundled_model, rows, result)
        assert possible == len(rows)


@pytest.mark.parametrize("name", ["asia", "child"])
def test_imported_networks_equal_infer(imported, name):
    model = imported(name)
    rows = random_rows(model, 150, seed=len(name), observe=0.35, reported=0.2)
    result = infer_batch(frame(model, rows), priors=model, chunk_size=64)
    possible, impossible = assert_rows_match_infer(model, rows, result)
    assert possible > 100
    assert len(problems_of(result)) == impossible
    assert set(problems_of(result)["problem"].str.contains("probability zero")) <= {True}


def test_alarm_one_program_per_reported_node_equals_infer(imported):
    """alarm reports 12 roots: one elimination per reported node beats their joint table."""
    model = imported("alarm")
    assert len(compiled_plan(model).structure.programs) == len(model._reported) == 12
    rows = random_rows(model, 20, seed=4, observe=0.3, reported=0.1)
    possible, _ = assert_rows_match_infer(model, rows, infer_batch(frame(model, rows), priors=model))
    assert possible >= 15


@pytest.mark.parametrize("limits", [{"MAX_GROUP": 0}, {"MAX_GROUP": 2**14}, {"MAX_FINAL": 8}, {"_SAFE": 0.0},
                                    {"MAX_TABLE": 2**12}])
def test_every_compilation_path_gives_the_same_posteriors(bundled_model, monkeypatch, limits):
    """Smaller limits force the fallbacks: no log group of leaves (every leaf linear) or only small ones,
    one program per reported node, log-sum-exp shifts everywhere, tiny chunks."""
    rows = random_rows(bundled_model, 60, seed=9, soft=0.2)
    reference = infer_batch(frame(bundled_model, rows), priors=bundled_model)
    for name, value in limits.items():
        monkeypatch.setattr(compiled, name, value)
    fresh = load_model()  # a new Model: a new plan under the new limits
    plan = compiled_plan(fresh)
    assert plan is not compiled_plan(bundled_model)
    if limits.get("MAX_GROUP") == 0:
        assert not plan.structure.groups and compiled_plan(bundled_model).structure.groups
    if "MAX_FINAL" in limits:
        assert len(plan.structure.programs) == len(fresh._reported)
    result = infer_batch(frame(fresh, rows), priors=fresh)
    np.testing.assert_allclose(result.to_numpy(), reference.to_numpy(), rtol=0, atol=1e-12)


def test_all_missing_row_and_no_columns_give_the_prior(bundled_model):
    prior = bundled_model.prior()
    empty_row = infer_batch(pd.DataFrame({"pain_burning": [None, np.nan]}), priors=bundled_model)
    no_columns = infer_batch(pd.DataFrame(index=range(3)), priors=bundled_model)
    for result in (empty_row, no_columns):
        assert np.abs(result.to_numpy() - prior[result.columns].to_numpy()).max() <= TOL


def test_single_row_and_zero_rows(bundled_model):
    row = {"pain_burning": "yes", "sitting_effect": "dominant", "age_group": "60_plus"}
    result = infer_batch(pd.DataFrame([row]), priors=bundled_model)
    assert result.shape == (1, len(bundled_model._reported))
    assert_rows_match_infer(bundled_model, [row], result)
    empty = infer_batch(pd.DataFrame({"pain_burning": pd.Series([], dtype=object)}), priors=bundled_model)
    assert empty.shape == (0, len(bundled_model._reported)) and problems_of(empty).empty


@pytest.mark.parametrize("chunk_size", [1, 2, 17, 100, 4096])
def test_results_do_not_depend_on_chunk_size(bundled_model, chunk_size):
    rows = random_rows(bundled_model, 101, seed=7)
    reference = infer_batch(frame(bundled_model, rows), priors=bundled_model)
    result = infer_batch(frame(bundled_model, rows), priors=bundled_model, chunk_size=chunk_size)
    np.testing.assert_allclose(result.to_numpy(), reference.to_numpy(), rtol=0, atol=1e-12)


_FINDINGS = ["pain_burning", "sitting_effect", "age_group", "reduced_pulses", "low_back_pain",
             "leg_pain_worse_than_back", "saddle_anaesthesia", "avid_cyclist", "tumour"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), n=st.integers(1, 12), chunk=st.integers(1, 5))
def test_rows_are_independent_of_each_other_and_of_order(bundled_model, data, n, chunk):
    """Permuting rows permutes results; chunking and neighbours never change a row."""
    cells = {node: st.sampled_from([None] + list(bundled_model.states(node))) for node in _FINDINGS}
    rows = [data.draw(st.fixed_dictionaries(cells)) for _ in range(n)]
    cases = pd.DataFrame(rows, columns=_FINDINGS, dtype=object)
    result = infer_batch(cases, priors=bundled_model, chunk_size=chunk)
    order = data.draw(st.permutations(range(n)))
    shuffled = infer_batch(cases.iloc[order], priors=bundled_model)
    np.testing.assert_allclose(shuffled.to_numpy(), result.to_numpy()[order], rtol=0, atol=1e-12)
    single = infer_batch(cases.iloc[[0]], priors=bundled_model)
    np.testing.assert_allclose(single.to_numpy()[0], result.to_numpy()[0], rtol=0, atol=1e-12)


def test_soft_evidence_as_dict_list_tuple_and_array_agree_with_infer(bundled_model):
    likelihood = {"none": 0.2, "aggravates": 1.0, "dominant": 0.5}
    values = list(likelihood.values())
    cases = pd.DataFrame({"sitting_effect": [likelihood, values, tuple(values), np.array(values)],
                          "low_back_pain": [[1.0, 0.3]] * 4, "age_group": ["60_plus"] * 4}, dtype=object)
    result = infer_batch(cases, priors=bundled_model)
    expected = bundled_model.infer({"sitting_effect": likelihood, "low_back_pain": {"no": 1.0, "yes": 0.3},
                                    "age_group": "60_plus"})["posterior"]
    for i in range(4):
        assert float((result.iloc[i][expected.index] - expected).abs().max()) <= TOL


def test_soft_evidence_on_every_kind_of_node(bundled_model):
    """Roots, leaves (in the log group and linear), inner nodes and reported nodes all take soft evidence."""
    nodes = ["age_group", "avid_cyclist", "reduced_pulses", "pain_burning", "low_back_pain", "tumour",
             "cauda_equina_syndrome", "saddle_anaesthesia", "leg_pain_worse_than_back"]
    rng = np.random.default_rng(3)
    rows = [{node: _likelihoods(rng, len(bundled_model.states(node)))} for node in nodes for _ in range(3)]
    rows.append({node: _likelihoods(rng, len(bundled_model.states(node))) for node in nodes})
    result = infer_batch(frame(bundled_model, rows, nodes), priors=bundled_model)
    assert assert_rows_match_infer(bundled_model, rows, result) == (len(rows), 0)


# --- bad rows, bad columns ---------------------------------------------------------------------------
def test_bad_rows_are_nan_and_all_reported_while_good_rows_are_exact(bundled_model):
    cases = pd.DataFrame({
        "pain_burning": ["yes", "maybe", "no", None, "yes", "no", None, "yes"],
        "sitting_effect": [None, "sometimes", [0.1, 1.0], {"none": 1, "always": 1}, [1, -1, 0], [0, 0, 0],
                           None, "dominant"],
        "avid_cyclist": ["yes", None, "no", 1, None, True, "no", "no"],
    }, index=[f"case{i}" for i in range(8)], dtype=object)
    before = copy.deepcopy(cases)
    result = infer_batch(cases, priors=bundled_model)
    pd.testing.assert_frame_equal(cases, before)
    good = ["case0", "case6", "case7"]
    assert result.drop(index=good).isna().all(axis=None)
    assert not result.loc[good].isna().any(axis=None)
    for label in good:
        evidence = {k: v for k, v in cases.loc[label].items() if v is not None}
        expected = bundled_model.infer(evidence)["posterior"]
        assert float((result.loc[label, expected.index] - expected).abs().max()) <= TOL
    problems = problems_of(result)
    assert list(problems.columns) == ["row", "node", "value", "problem"]
    assert list(zip(problems["row"], problems["node"])) == [
        ("case1", "pain_burning"), ("case1", "sitting_effect"), ("case2", "sitting_effect"),
        ("case3", "sitting_effect"), ("case3", "avid_cyclist"), ("case4", "sitting_effect"),
        ("case5", "sitting_effect"), ("case5", "avid_cyclist")]
    text = "\n".join(problems["problem"])
    assert "has no state 'maybe'. Did you mean 'yes'?" in text
    assert "one likelihood per state, in the order none, aggravates, dominant. Got 2 values" in text
    assert "unknown: ['always'], missing: ['aggravates', 'dominant']" in text
    assert "must be a finite likelihood >= 0. Got -1" in text
    assert "gives every state likelihood 0" in text
    assert problems.loc[0, "value"] == "maybe"


def test_unknown_columns_raise_once_listing_all_of_them_with_close_names(bundled_model):
    cases = pd.DataFrame({"pain_burnin": ["yes"], "sitting_efect": ["none"], "pain_below_knee": ["no"]})
    with pytest.raises(EvidenceError, match=r"(?s)unknown node 'pain_burnin'.*'pain_burning'.*"
                                            r"unknown node 'sitting_efect'.*'sitting_effect'"):
        infer_batch(cases, priors=bundled_model)


def test_duplicated_columns_and_non_frames_raise(bundled_model):
    cases = pd.DataFrame([["yes", "no"]], columns=["pain_burning", "pain_burning"])
    with pytest.raises(EvidenceError, match="more than once: pain_burning"):
        infer_batch(cases, priors=bundled_model)
    with pytest.raises(EvidenceError, match="must be a pandas DataFrame"):
        infer_batch([{"pain_burning": "yes"}], priors=bundled_model)
    with pytest.raises(TypeError, match="priors must be"):
        infer_batch(pd.DataFrame(), priors=3)


def test_impossible_evidence_names_the_first_impossible_observation(imported):
    """asia's ``either`` is tub OR lung, deterministically: either=no with tub=yes cannot happen."""
    asia = imported("asia")
    assert (asia._priors.node_tables["either"].values == 0).any()
    cases = pd.DataFrame({"tub": ["yes", "yes", "no", None], "either": ["no", "yes", "no", "no"],
                          "xray": [None, "yes", None, "yes"]}, index=[10, 11, 12, 13])
    result = infer_batch(cases, priors=asia)
    assert result.loc[10].isna().all()
    assert not result.loc[[11, 12, 13]].isna().any(axis=None)
    assert_rows_match_infer(asia, [cases.loc[i].dropna().to_dict() for i in [11, 12, 13]], result.loc[[11, 12, 13]])
    problems = problems_of(result)
    assert problems[["row", "node", "value"]].values.tolist() == [[10, "either", "no"]]
    assert "either='no' is impossible given tub='yes'" in problems.loc[0, "problem"]
    reordered = problems_of(infer_batch(cases[["either", "tub"]], priors=asia))
    assert reordered[["row", "node"]].values.tolist() == [[10, "tub"]]


# --- the rest of the contract ------------------------------------------------------------------------
def test_no_mutation_of_cases_or_model(bundled_model):
    rows = random_rows(bundled_model, 40, seed=11, soft=0.3)
    cases = frame(bundled_model, rows)
    before = copy.deepcopy(cases)
    first = infer_batch(cases, priors=bundled_model)
    second = infer_batch(cases, priors=bundled_model)
    pd.testing.assert_frame_equal(cases, before)
    pd.testing.assert_frame_equal(first, second)
    assert bundled_model.infer({}).attrs["red_flags"] == []


def test_plan_is_compiled_once_per_model(bundled_model):
    assert compiled_plan(bundled_model) is compiled_plan(bundled_model)


def test_priors_may_be_none_a_folder_or_a_model(bundled_model):
    cases = pd.DataFrame({"pain_burning": ["yes", "no"], "tumour": [None, "present"]})
    results = [infer_batch(cases), infer_batch(cases, priors=bundled_priors_folder()),
               infer_batch(cases, priors=bundled_model)]
    for result in results[1:]:
        pd.testing.assert_frame_equal(result, results[0])
    assert results[0].attrs["priors_digest"] == bundled_model.priors_digest
    assert results[0].loc[1, "tumour"] == 1.0


def test_text_categorical_and_object_columns_agree(bundled_model):
    rows = random_rows(bundled_model, 60, seed=5, soft=0.0)
    cases = frame(bundled_model, rows, bundled_model.findings)
    reference = infer_batch(cases, priors=bundled_model)
    for converted in (cases.astype("category"), cases.astype("str"), cases.astype(object)):
        np.testing.assert_allclose(infer_batch(converted, priors=bundled_model).to_numpy(), reference.to_numpy(),
                                   rtol=0, atol=1e-12)


def test_red_flags_mark_rows_with_an_emergency_finding(bundled_model):
    cases = pd.DataFrame({"saddle_anaesthesia": ["yes", "no", None],
                          "bladder_bowel_dysfunction": [None, "yes", "no"]}, index=["a", "b", "c"])
    flags = infer_batch(cases, priors=bundled_model).attrs["red_flags"]
    assert flags == {"a": ["saddle_anaesthesia"], "b": ["bladder_bowel_dysfunction"]}
    none = infer_batch(pd.DataFrame({"pain_burning": ["yes"]}), priors=bundled_model).attrs["red_flags"]
    assert none == {}


def test_results_of_several_batches_concatenate(bundled_model):
    first = infer_batch(pd.DataFrame({"saddle_anaesthesia": ["yes"]}), priors=bundled_model)
    second = infer_batch(pd.DataFrame({"pain_burning": ["maybe"]}, index=[1]), priors=bundled_model)
    joined = pd.concat([first, second])
    assert joined.shape == (2, len(bundled_model._reported)) and joined.iloc[1].isna().all()


def test_progress_bar_only_when_asked_and_more_than_one_chunk(bundled_model, capsys):
    cases = pd.DataFrame({"pain_burning": ["yes", "no", None] * 4})
    infer_batch(cases, priors=bundled_model, chunk_size=5, progress=True)
    assert "infer_batch" in capsys.readouterr().err
    infer_batch(cases, priors=bundled_model, chunk_size=5, progress=False)
    infer_batch(cases, priors=bundled_model, chunk_size=50, progress=True)
    infer_batch(cases, priors=bundled_model, chunk_size=5)  # stderr is not a terminal under pytest
    assert capsys.readouterr().err == ""


# --- joint posterior and probability of the evidence (used by next_questions) ----------------------
def _evidence_probability(model, evidence):
    """P(evidence) by enumerating every configuration of the network (small networks only)."""
    tables, states = model._priors.node_tables, model._states
    nodes = list(states)
    total = 0.0
    for config in np.ndindex(*[len(states[n]) for n in nodes]):
        at = dict(zip(nodes, config))
        if any(states[n].index(s) != at[n] for n, s in evidence.items()):
            continue
        p = 1.0
        for n, t in tables.items():
            column = 0
            for parent, parent_states in zip(t.parents, t.parent_states):
                column = column * len(parent_states) + at[parent]
            p *= t.values[at[n], column]
        total += p
    return total


def test_log_evidence_is_the_probability_of_the_evidence(imported):
    from model.engine.chunk import evaluate

    m = imported("asia")
    rows = [{}, {"xray": "yes"}, {"xray": "yes", "dysp": "no", "smoke": "yes"}, {"either": "no", "lung": "yes"}]
    cases = frame(m, rows)
    plan = compiled_plan(m)
    hard, soft, _, _ = parse_cases(m, plan, {c: cases[c] for c in cases}, 0, len(rows))
    (_, log_evidence), possible = evaluate(plan, len(rows), hard, soft, joint=True)
    for i, row in enumerate(rows):
        expected = _evidence_probability(m, row)
        if expected == 0:
            assert not possible[i] and log_evidence[i] == -np.inf
        else:
            assert abs(np.exp(log_evidence[i]) - expected) <= 1e-12 * max(1.0, expected)
    assert possible[:3].all() and not possible[3]  # asia's "either" is a deterministic OR


def test_joint_posterior_equals_pgmpy_and_answers_add_up(bundled_model):
    from model.engine.chunk import evaluate
    from model.network import VariableElimination

    m = bundled_model
    plan = compiled_plan(m)
    base = {"avid_cyclist": "yes", "sitting_effect": "dominant", "age_group": "60_plus"}
    rows = [base] + [dict(base, reduced_pulses=s) for s in m.states("reduced_pulses")]
    cases = frame(m, rows)
    hard, soft, _, _ = parse_cases(m, plan, {c: cases[c] for c in cases}, 0, len(rows))
    (joint, log_evidence), _ = evaluate(plan, len(rows), hard, soft, joint=True)
    query = VariableElimination(m.network).query(list(plan.joint_scope), evidence={**m.population, **base},
                                                 joint=True, show_progress=False)
    expected = np.transpose(query.values, [query.variables.index(v) for v in plan.joint_scope]).reshape(-1)
    assert np.abs(joint[0] - expected).max() <= 1e-12
    answers = np.exp(log_evidence[1:] - log_evidence[0])  # P(reduced_pulses = s | base)
    assert abs(answers.sum() - 1.0) <= 1e-12
    assert np.abs((answers[:, None] * joint[1:]).sum(axis=0) - joint[0]).max() <= 1e-12


def test_duplicate_row_labels_are_refused_not_merged(bundled_model):
    # Two different cases under one label would share one entry of attrs["red_flags"] and of the problems.
    cases = pd.DataFrame({"saddle_anaesthesia": ["yes", "no"]}, index=["p1", "p1"])
    with pytest.raises(EvidenceError, match="row labels appear more than once: 'p1'"):
        infer_batch(cases, priors=bundled_model)


def test_unknown_columns_get_hints_that_ignore_case(bundled_model):
    with pytest.raises(EvidenceError, match="Did you mean 'pain_burning'"):
        infer_batch(pd.DataFrame({"PAIN_BURNING": ["yes"]}), priors=bundled_model)


def test_a_plan_too_large_is_refused_and_infer_batch_runs_on_the_junction_tree(imported, monkeypatch, tmp_path,
                                                                               capsys):
    """A network whose batch plan would not fit is refused before anything large is allocated (bnlearn's munin
    and link ran out of memory compiling one): infer_batch then scores its rows one at a time on the junction
    tree (pgmpy VE checks every row; impossible rows are NaN and named); the next question and predictions,
    which run on the junction tree, work as well (the next question checked against a brute-force mutual
    information from pgmpy, predictions against predict)."""
    from test_questions import brute_information

    from model.analysis.differential import predict, predict_batch
    from model.analysis.questions import next_questions
    from model.cli import main
    from model.engine import compiled

    asia = copy.copy(imported("asia"))  # a new object: no plan cached for it
    monkeypatch.setattr(compiled, "MAX_PLAN", 4)
    with pytest.raises(compiled.PlanTooLarge, match=r"batch plan would hold [\d,]+ floats .* above the limit of 4"):
        compiled_plan(asia)
    rows = random_rows(asia, 60, seed=8)
    rows[0] = {"tub": "yes", "either": "no"}  # either = tub or lung: impossible
    result = infer_batch(frame(asia, rows), priors=asia)
    possible, impossible = assert_rows_match_infer(asia, rows, result)
    assert possible > 30 and impossible >= 1
    assert any(p["row"] == 0 and p["node"] == "either" for p in result.attrs["problems"])
    ranked = next_questions({"xray": "yes"}, priors=asia)
    assert len(ranked) == len([n for n in [*asia.findings, *asia.risk_factors] if n != "xray"])
    for node in ranked.index:
        assert abs(ranked.at[node, "info_gain"] - brute_information(asia, {"xray": "yes"}, node)) < 1e-9, node
    cases = pd.DataFrame({"xray": ["yes", "no"], "smoke": [None, "yes"]})
    batch = predict_batch(cases, priors=asia)
    for i in range(2):
        one = predict(cases.loc[i].dropna().to_dict(), priors=asia)["probability"]
        np.testing.assert_allclose(batch.loc[i, one.index].to_numpy(dtype=float), one.to_numpy(), atol=1e-12)
    folder = tmp_path / "asia"
    save_tables(network_to_tables(read_network(DATA / "asia.bif.gz"), source="asia.bif.gz"), folder)
    code = main(["next", "xray=yes", "--priors", str(folder)])
    out, err = capsys.readouterr()
    assert code == 0 and "Traceback" not in err and "tub" in out


def test_rows_go_to_the_junction_tree_when_the_plan_would_cost_more(imported, bundled_model, monkeypatch):
    """infer_batch scores rows on the junction tree when the batch plan's estimated cost per case is over twice
    the tree's (bnlearn's andes: 117 ms a case on the tree against 979 ms on the plan, measured), and on the
    plan otherwise (the bundled network); the rows agree with pgmpy VE either way."""
    from model.engine import compiled, run
    from model.engine.single import TreeRows

    assert not isinstance(run.scorer(bundled_model), TreeRows)  # the plan, estimated at about 1.4 ms a case
    child = copy.copy(imported("child"))  # a new object: no plan or choice cached for it
    monkeypatch.setattr(run, "SURE_PLAN_NS", 0.0)
    monkeypatch.setattr(run, "PLAN_NS", 1e6)  # as if every entry of the plan cost a millisecond
    monkeypatch.setattr(run, "TREE_BATCH_NS", 1e9)  # and the cases calibrated together still more
    assert type(run.scorer(child)) is TreeRows
    assert "plan" not in compiled._PLANS[child]  # the plan's tables were never compiled
    rows = random_rows(child, 25, seed=3)
    possible, _ = assert_rows_match_infer(child, rows, infer_batch(frame(child, rows), priors=child))
    assert possible > 10


@pytest.mark.parametrize("name", ["asia", "child", "alarm"])
def test_cases_calibrated_together_on_the_tree_equal_pgmpy(imported, name, monkeypatch):
    """TreeBatch (model/engine/tree_batch.py: a chunk of cases calibrated together on the whole junction tree,
    subtrees without evidence left out, the outward pass only towards the reported nodes)
    gives pgmpy VE's posteriors, soft evidence and impossible rows included, in chunks of 7 rows; alarm takes
    it by the scorer's own costs, and the bundled network keeps its plan."""
    from model.engine import run
    from model.engine.tree_batch import TreeBatch

    model = copy.copy(imported(name))  # a new object: nothing cached for it
    if name == "alarm":
        assert type(run.scorer(model)) is TreeBatch
    monkeypatch.setattr(run, "scorer", lambda m, seen=None: TreeBatch(m))
    rows = random_rows(model, 40, seed=21, observe=0.4)
    sparse = random_rows(model, 40, seed=22, observe=0.04, reported=0.0)  # subtrees with no evidence in a chunk
    for cases in (rows, sparse):
        result = infer_batch(frame(model, cases), priors=model, chunk_size=7)
        possible, impossible = assert_rows_match_infer(model, cases, result)
        assert possible > 10 and (impossible > 0 or name != "asia" or cases is sparse)


@pytest.mark.parametrize("name", ["asia", "child"])
def test_the_impossible_observation_named_equals_the_chain_rule_by_pgmpy(imported, name):
    """Model.infer names the first observation (population first, then the order given) that has probability
    zero given the earlier ones, found by calibrating the junction tree on each prefix; pgmpy VE's chain rule
    (tests/reference.py) must name the same node, and possible rows must not be refused."""
    model = imported(name)
    rows = random_rows(model, 60, seed=17, observe=0.6)
    if name == "asia":
        rows += [{"smoke": "no", "tub": "yes", "either": "no"}, {"either": "no", "lung": "yes"}]
    refused = 0
    for row in rows:
        evidence = as_evidence(model, row)
        hard, soft = model.check_evidence(evidence)
        given = [n for n in [*model.population, *evidence] if n in hard or n in soft]
        expected = ve_first_impossible(model, hard, soft, list(dict.fromkeys(given)))
        try:
            model.infer(evidence)
        except EvidenceError as error:
            refused += 1
            assert expected is not None and f"model: {expected}=" in str(error), (row, expected, str(error))
        else:
            assert expected is None, (row, expected)
    assert refused >= (2 if name == "asia" else 0)


def test_cases_on_trees_compiled_for_each_case_equal_pgmpy(imported, monkeypatch):
    """With every case given a junction tree of its own (model/engine/reduced.py: barren nodes dropped, hard
    evidence taken out before the cliques are formed; single.REDUCE = 0 forces it), infer_batch's rows on the
    tree and Model.infer equal pgmpy VE, soft evidence and impossible rows included (bnlearn's alarm: no clique
    holds all its roots)."""
    from model.engine import run, single
    from model.engine.reduced import reduced_tree
    from model.engine.single import TreeRows

    alarm = copy.copy(imported("alarm"))  # a new object: nothing cached for it
    monkeypatch.setattr(single, "REDUCE", 0)
    compiled_for = []
    monkeypatch.setattr(single, "reduced_tree", lambda *a: compiled_for.append(a[1]) or reduced_tree(*a))
    monkeypatch.setattr(run, "SURE_PLAN_NS", 0.0)
    monkeypatch.setattr(run, "PLAN_NS", 1e6)
    monkeypatch.setattr(run, "TREE_BATCH_NS", 1e9)
    assert type(run.scorer(alarm)) is TreeRows
    rows = random_rows(alarm, 30, seed=12)
    possible, _ = assert_rows_match_infer(alarm, rows, infer_batch(frame(alarm, rows), priors=alarm))
    assert possible > 10
    for row in rows[:10]:
        evidence = as_evidence(alarm, row)
        try:
            expected = pgmpy_posteriors(alarm, evidence)
        except EvidenceError:
            continue
        got = alarm.infer(evidence)["posterior"]
        assert np.abs(got[expected.index].to_numpy() - expected.to_numpy()).max() <= TOL
    assert len(compiled_for) > 20  # the per-case trees were used


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=1, max_size=9), st.data(), st.booleans())
def test_sum_axes_equals_numpy_sum(shape, data, keepdims):
    """model.engine.ops.sum_axes (contiguous rows, or a product with a 0/1 matrix, one axis at a time) equals
    numpy's sum over the same axes, on any shape, with and without keepdims; no axes: the table itself."""
    from model.engine.ops import sum_axes

    table = np.random.default_rng(len(shape)).random(shape)
    axes = data.draw(st.lists(st.integers(-len(shape), len(shape) - 1), unique_by=lambda a: a % len(shape)))
    got = sum_axes(table, axes, keepdims=keepdims)
    if not axes:
        assert got is table
        return
    want = table.sum(axis=tuple(axes), keepdims=keepdims)
    assert got.shape == want.shape
    assert np.allclose(got, want, rtol=1e-12, atol=0)


def test_sum_axes_on_a_table_of_sixteen_binary_axes():
    """The next question's shape (the causes' joint): every count of axes, scattered, against numpy."""
    from model.engine.ops import sum_axes

    rng = np.random.default_rng(16)
    table = rng.random((2,) * 16)
    for count in range(1, 16):
        axes = sorted(rng.choice(16, size=count, replace=False).tolist())
        assert np.allclose(sum_axes(table, axes), table.sum(axis=tuple(axes)), rtol=1e-12, atol=0)
        assert np.allclose(sum_axes(table[:, ::-1], axes, keepdims=True),
                           table[:, ::-1].sum(axis=tuple(axes), keepdims=True), rtol=1e-12, atol=0)
