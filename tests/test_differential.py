"""The differential a clinician can act on (issue 10, items 1-3): ``lift``, P(no modelled cause) and the
must-not-miss tier of ``infer``; ``explanations`` (the most probable combinations of causes); ``predict``
(what an unobserved finding or test will show); the ``action_threshold`` column of nodes.csv.

References are independent of the code under test: pgmpy variable elimination (joint queries and
``map_query``) on ``Model.network``, brute-force enumeration of every state of a small imported network,
and hand-computed cases.
"""

import itertools
import math
import shutil

import numpy as np
import pandas as pd
import pytest

from model import EvidenceError, PriorsError, explanations, explanations_batch, infer, load_model, predict
from model import predict_batch
from model.interop import network_to_tables, read_network
from model.network import VariableElimination, likelihood_factor
from model.priors import bundled_priors_folder, save_tables

TOLERANCE = 1e-9
DATA = __import__("pathlib").Path(__file__).parent / "data" / "bnlearn"
SERIOUS = {"tumour": 0.05, "spinal_infection": 0.02, "bone_injury": 0.05, "vascular_lesion": 0.05,
           "cauda_equina_syndrome": 0.02}
CASES = [
    {},
    {"pain_burning": "yes", "avid_cyclist": "yes", "sitting_effect": "dominant"},
    {"cancer_history": "yes", "unexplained_weight_loss": "yes", "night_pain": "yes"},
    {"saddle_anaesthesia": "yes", "low_back_pain": {"no": 0.3, "yes": 1.0}},
    {"lumbar_disc_herniation": "present", "fever": "yes"},
]


def ve_query(model, evidence, variables, joint=True):
    hard, soft = model.check_evidence(evidence)
    virtual = [likelihood_factor(n, model.states(n), soft[n]) for n in soft]
    return VariableElimination(model.network).query(variables, evidence=hard, virtual_evidence=virtual or None,
                                                    joint=joint, show_progress=False)


def cause_joint(model, evidence):
    """P(causes | evidence) by one pgmpy joint query, axes in ``model.causes`` order."""
    hard, _ = model.check_evidence(evidence)
    free = [c for c in model.causes if c not in hard]
    factor = ve_query(model, evidence, free)
    table = factor.values.transpose([factor.variables.index(v) for v in free])
    full = np.zeros([len(model.states(c)) for c in model.causes])
    where = tuple(model.states(c).index(hard[c]) if c in hard else slice(None) for c in model.causes)
    full[where] = table / table.sum()
    return full


@pytest.fixture(scope="module")
def asia(tmp_path_factory):
    folder = tmp_path_factory.mktemp("asia") / "asia"
    save_tables(network_to_tables(read_network(DATA / "asia.bif.gz"), source="asia.bif.gz"), folder)
    return load_model(folder)


def brute_force(model, evidence):
    """P(every node's state | evidence) by enumerating every state of every node (a small network)."""
    network = model.network
    names = list(model.nodes.index)
    cpds = {cpd.variable: cpd for cpd in network.get_cpds()}
    hard, _ = model.check_evidence(evidence)
    rows = {}
    for states in itertools.product(*(range(len(model.states(n))) for n in names)):
        value = dict(zip(names, states))
        if any(model.states(n).index(s) != value[n] for n, s in hard.items()):
            continue
        p = 1.0
        for node, cpd in cpds.items():
            index = [cpd.state_names[v].index(model.states(v)[value[v]]) for v in cpd.variables]
            p *= cpd.values[tuple(index)]
        rows[tuple(states)] = p
    total = sum(rows.values())
    return names, {k: v / total for k, v in rows.items()}


# --- item 1: lift, P(no modelled cause), must-not-miss ---------------------------------------------------------


@pytest.mark.parametrize("evidence", CASES)
def test_lift_and_p_no_modelled_cause_against_pgmpy(bundled_model, evidence):
    result = bundled_model.infer(evidence)
    assert list(result.columns[:3]) == ["posterior", "prior", "lift"]
    assert np.allclose(result["lift"], result["posterior"] / result["prior"], rtol=1e-12)
    expected = cause_joint(bundled_model, evidence).reshape(-1)[0]
    assert abs(result.attrs["p_no_modelled_cause"] - expected) < TOLERANCE


def test_p_no_modelled_cause_by_hand_when_a_cause_is_present(bundled_model):
    result = bundled_model.infer({"tumour": "present"})
    assert result.attrs["p_no_modelled_cause"] == 0.0
    assert result.attrs["must_not_miss"][0] == "tumour"  # 1 >= 0.05


def test_must_not_miss_by_hand(bundled_model):
    """Each serious node is listed exactly when its posterior reaches its threshold, in ranking order."""
    for evidence in [*CASES, {"trauma_or_fall": "high_energy"}, {"pulsatile_mass": "yes"},
                     {"fever": "yes", "infection_risk_factor": "yes"}]:
        result = bundled_model.infer(evidence)
        expected = [n for n in result.index if n in SERIOUS and result.loc[n, "posterior"] >= SERIOUS[n]]
        assert result.attrs["must_not_miss"] == expected
    assert bundled_model.infer({}).attrs["must_not_miss"] == []
    assert bundled_model.infer({"trauma_or_fall": "high_energy"}).attrs["must_not_miss"] == ["bone_injury"]
    assert "cauda_equina_syndrome" in bundled_model.infer({"saddle_anaesthesia": "yes"}).attrs["must_not_miss"]


def test_must_not_miss_at_the_threshold_itself(bundled_model):
    """'At or above': a threshold equal to the posterior lists the node; one just above it does not."""
    posterior = float(bundled_model.infer({"pulsatile_mass": "yes"}).loc["tumour", "posterior"])
    nodes = bundled_model.tables["nodes"]
    row = nodes["node"] == "tumour"
    for threshold, listed in ((posterior, True), (posterior * (1 + 1e-9), False)):
        nodes.loc[row, "action_threshold"] = threshold
        tweaked = bundled_model.with_tables({"nodes": nodes})
        assert ("tumour" in tweaked.infer({"pulsatile_mass": "yes"}).attrs["must_not_miss"]) is listed


# --- the action_threshold column ------------------------------------------------------------------------------


def test_bundled_thresholds_and_round_trip(tmp_path):
    for population in ("primary_care", "specialist"):
        model = load_model(population)
        assert model.nodes["action_threshold"].dropna().to_dict() == SERIOUS
        model.save(tmp_path / population)
        again = load_model(tmp_path / population)
        assert again.priors_digest == model.priors_digest
        assert (tmp_path / population / "nodes.csv").read_bytes() == \
            (bundled_priors_folder(population) / "nodes.csv").read_bytes()
        tweaked = model.with_parameter("base_rates", node="avid_cyclist", probability=0.1)
        assert tweaked.nodes["action_threshold"].dropna().to_dict() == SERIOUS
        assert model.with_tables({}).priors_digest == model.priors_digest


def test_old_folder_without_the_column_loads(tmp_path):
    folder = tmp_path / "old"
    shutil.copytree(bundled_priors_folder(), folder)
    nodes = pd.read_csv(folder / "nodes.csv", dtype=str, keep_default_na=False).drop(columns="action_threshold")
    nodes.to_csv(folder / "nodes.csv", index=False)
    model = load_model(folder)
    assert "action_threshold" not in model.nodes
    result = model.infer({"trauma_or_fall": "high_energy"})
    assert result.attrs["must_not_miss"] == []
    model.save(tmp_path / "saved")
    assert "action_threshold" not in (tmp_path / "saved" / "nodes.csv").read_text().splitlines()[0]


@pytest.mark.parametrize("node, value, words", [
    ("tumour", "high", "must be empty or a probability above 0 and at most 1"),
    ("tumour", "1.5", "Got 1.5 instead"),
    ("tumour", "0", "must be above 0"),
    ("pain_burning", "0.1", "'pain_burning' is a finding; an action threshold marks a serious cause or "
                            "complication"),
])
def test_bad_threshold_names_file_line_column_value_and_fix(tmp_path, node, value, words):
    folder = tmp_path / "bad"
    shutil.copytree(bundled_priors_folder(), folder)
    nodes = pd.read_csv(folder / "nodes.csv", dtype=str, keep_default_na=False)
    nodes.loc[nodes["node"] == node, "action_threshold"] = value
    nodes.to_csv(folder / "nodes.csv", index=False)
    line = int(np.flatnonzero(nodes["node"] == node)[0]) + 2
    with pytest.raises(PriorsError) as caught:
        load_model(folder)
    message = str(caught.value)
    assert f"nodes.csv, line {line}, column 'action_threshold'" in message
    assert words in message


# --- item 2: explanations ------------------------------------------------------------------------------------


@pytest.mark.parametrize("evidence", CASES)
def test_explanations_equal_pgmpy_joint_and_map_query(bundled_model, evidence):
    table = cause_joint(bundled_model, evidence)
    result = explanations(evidence, k=8, priors=bundled_model)
    causes = list(bundled_model.causes)
    for _, row in result.iterrows():
        index = tuple(int(c in row["present"]) for c in causes)
        assert abs(row["probability"] - table[index]) < TOLERANCE
    top = np.sort(table.reshape(-1))[::-1][:len(result)]
    assert np.allclose(result["probability"].to_numpy(), top, atol=TOLERANCE, rtol=0)
    assert abs(result.attrs["p_no_modelled_cause"] - table.reshape(-1)[0]) < TOLERANCE
    hard, soft = bundled_model.check_evidence(evidence)
    if not soft:  # pgmpy's map_query takes hard evidence only
        free = [c for c in causes if c not in hard]
        best = VariableElimination(bundled_model.network).map_query(free, evidence=hard, show_progress=False)
        assert set(result["present"].iloc[0]) == {c for c in free if best[c] == "present"} | \
            {c for c in causes if hard.get(c) == "present"}


def test_explanations_equal_brute_force_enumeration(asia):
    evidence = {"dysp": "yes", "xray": "no"}
    names, rows = brute_force(asia, evidence)
    causes = list(asia.causes)
    expected = {}
    for states, p in rows.items():
        key = tuple(c for c in causes if states[names.index(c)] != 0)
        expected[key] = expected.get(key, 0.0) + p
    result = explanations(evidence, k=100, priors=asia)
    assert len(result) == sum(1 for p in expected.values() if p > 0)
    for _, row in result.iterrows():
        assert abs(row["probability"] - expected[row["present"]]) < TOLERANCE
    assert abs(result["probability"].sum() - 1.0) < TOLERANCE


def test_explanations_batch_first_rows(bundled_model):
    cases = pd.DataFrame({"pain_burning": ["yes", None, "maybe"], "avid_cyclist": ["yes", "no", None],
                          "sitting_effect": ["dominant", None, None], "saddle_anaesthesia": [None, "yes", None]},
                         index=["a", "b", "c"])
    batch = explanations_batch(cases, priors=bundled_model)
    for label in ("a", "b"):
        one = explanations(cases.loc[label], k=1, priors=bundled_model)
        assert batch.loc[label, "present"] == one["present"].iloc[0]
        assert abs(batch.loc[label, "probability"] - one["probability"].iloc[0]) < TOLERANCE
        assert abs(batch.loc[label, "p_no_modelled_cause"] - one.attrs["p_no_modelled_cause"]) < TOLERANCE
    assert batch.loc["c", "present"] is None and math.isnan(batch.loc["c", "probability"])
    assert [p["row"] for p in batch.attrs["problems"]] == ["c"]
    assert batch.attrs["red_flags"] == {"b": ["saddle_anaesthesia"]}


def test_explanations_errors(bundled_model):
    with pytest.raises(ValueError, match="k must be a whole number of at least 1"):
        explanations({}, k=0, priors=bundled_model)
    with pytest.raises(EvidenceError, match="no state 'maybe'"):
        explanations({"pain_burning": "maybe"}, priors=bundled_model)


# --- item 3: predict ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("evidence", CASES)
def test_predict_equals_pgmpy(bundled_model, evidence):
    nodes = ["mri_lumbar_root_compression", "crossed_slr_positive", "sitting_effect", "age_group", "fever",
             "low_back_pain"]
    result = predict(evidence, nodes, priors=bundled_model)
    hard, _ = bundled_model.check_evidence(evidence)
    for node in nodes:
        if node in hard:
            expected = [float(s == hard[node]) for s in bundled_model.states(node)]
        else:
            factor = ve_query(bundled_model, evidence, [node], joint=False)[node]
            expected = [factor.values[factor.state_names[node].index(s)] for s in bundled_model.states(node)]
        assert np.allclose(result.loc[node, "probability"].to_numpy(), expected, atol=TOLERANCE, rtol=0)


def test_predict_default_nodes_and_brute_force(asia):
    evidence = {"smoke": "yes", "xray": "yes"}
    names, rows = brute_force(asia, evidence)
    result = predict(evidence, priors=asia)
    roles = asia.nodes["role"]
    assert list(result.index.unique("node")) == [n for n in names if roles[n] in ("finding", "risk_factor")
                                                 and n not in evidence]
    for (node, state), p in result["probability"].items():
        expected = sum(q for states, q in rows.items()
                       if asia.states(node)[states[names.index(node)]] == state)
        assert abs(p - expected) < TOLERANCE


def test_predict_batch_equals_predict(bundled_model):
    cases = pd.DataFrame({"slr_positive": ["yes", "no", "sometimes"], "age_group": ["under_40", None, None],
                          "low_back_pain": [None, {"no": 0.3, "yes": 1.0}, None]})
    nodes = ["mri_lumbar_root_compression", "age_group"]
    batch = predict_batch(cases, nodes, priors=bundled_model)
    for i in (0, 1):
        one = predict(cases.loc[i], nodes, priors=bundled_model)["probability"]
        assert np.allclose(batch.loc[i].to_numpy(), one.to_numpy(), atol=TOLERANCE, rtol=0)
    assert batch.loc[0, ("age_group", "under_40")] == 1.0
    assert batch.loc[2].isna().all() and [p["row"] for p in batch.attrs["problems"]] == [2]


def test_predict_errors(bundled_model):
    with pytest.raises(EvidenceError, match="Did you mean"):
        predict({}, ["pain_burnin"], priors=bundled_model)


# --- the command line ------------------------------------------------------------------------------------------


def run(capsys, *argv):
    from model.cli import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_infer_prints_must_not_miss_lift_and_p_none(capsys):
    code, out, _ = run(capsys, "infer", "trauma_or_fall=high_energy")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("*** MUST NOT MISS: bone_injury 0.3")
    assert "action threshold 0.05" in lines[0]
    assert lines.index(next(line for line in lines if line.startswith("cause"))) > 0
    assert "lift" in next(line for line in lines if line.startswith("cause"))
    expected = infer({"trauma_or_fall": "high_energy"}).attrs["p_no_modelled_cause"]
    assert f"P(none of the modelled causes | evidence) = {expected:.4f}" in out


def test_cli_json(capsys):
    import json

    code, out, _ = run(capsys, "infer", "--json", "pain_burning=yes")
    data = json.loads(out)
    result = infer({"pain_burning": "yes"})
    assert code == 0 and data["must_not_miss"] == [] and data["evidence"] == {"pain_burning": "yes"}
    assert [row["cause"] for row in data["rows"]] == list(result.index)
    assert abs(data["p_no_modelled_cause"] - result.attrs["p_no_modelled_cause"]) < 1e-12
    code, out, _ = run(capsys, "explanations", "--json", "--top", "3", "cancer_history=yes")
    data = json.loads(out)
    assert code == 0 and [row["rank"] for row in data["rows"]] == [1, 2, 3]
    assert data["rows"][0]["present"] == ["lumbar_disc_herniation"]
    code, out, _ = run(capsys, "predict", "--json", "--nodes", "fever", "pain_burning=yes")
    data = json.loads(out)
    assert code == 0 and [(row["node"], row["state"]) for row in data["rows"]] == [("fever", "no"), ("fever", "yes")]
    assert abs(sum(row["probability"] for row in data["rows"]) - 1.0) < 1e-12


def test_cli_explanations_and_predict_text(capsys):
    code, out, _ = run(capsys, "explanations", "cancer_history=yes", "night_pain=yes", "--top", "2")
    assert code == 0 and out.splitlines()[0] == "rank  probability  cumulative  causes present"
    assert "P(none of the modelled causes | evidence) = " in out
    code, out, _ = run(capsys, "predict", "slr_positive=yes", "--nodes", "mri_lumbar_root_compression")
    assert code == 0 and out.splitlines()[1].startswith("mri_lumbar_root_compression  no")
    code, _, err = run(capsys, "predict", "--nodes", "pain_burnin")
    assert code == 2 and "Did you mean" in err


def test_must_not_miss_of_a_batch_equals_infer_row_by_row(bundled_model):
    cases = pd.DataFrame({"trauma_or_fall": ["high_energy", None, None, "maybe"],
                          "pulsatile_mass": [None, "yes", None, None],
                          "saddle_anaesthesia": [None, None, "yes", None]})
    batch = bundled_model.infer_batch(cases)
    rows = bundled_model._must_not_miss_rows(batch)
    for i in range(3):
        assert rows.get(i, []) == bundled_model.infer(cases.loc[i].dropna().to_dict()).attrs["must_not_miss"]
    assert 3 not in rows  # a bad row (NaN) lists nothing


@pytest.mark.parametrize("evidence", [*CASES, {"tumour": {"absent": 0.2, "present": 1.0}, "fever": "yes"}])
def test_p_no_modelled_cause_without_a_clique_of_every_cause(bundled_model, evidence, monkeypatch):
    """The route for networks where no clique of the junction tree holds every cause (a second calibration,
    every cause at its reference state) gives the same number and the same posteriors."""
    from model.engine import single
    from model.analysis.explanations import p_no_modelled_cause

    hard, soft = bundled_model.check_evidence(evidence)
    expected = cause_joint(bundled_model, evidence).reshape(-1)[0]
    assert abs(p_no_modelled_cause(bundled_model, hard, soft) - expected) < TOLERANCE
    posterior = single.case_posteriors(bundled_model, hard, soft)[0]
    cache = single._cache(bundled_model)
    monkeypatch.setitem(cache, "report", None)
    assert abs(p_no_modelled_cause(bundled_model, hard, soft) - expected) < TOLERANCE
    assert np.abs(single.case_posteriors(bundled_model, hard, soft)[0] - posterior).max() < TOLERANCE


def test_cli_batch_writes_the_must_not_miss_column(capsys, tmp_path):
    (tmp_path / "cases.csv").write_text("id,trauma_or_fall,pulsatile_mass\na,high_energy,\nb,,\nc,,yes\n")
    code, _, _ = run(capsys, "batch", str(tmp_path / "cases.csv"), "-o", str(tmp_path / "out.csv"))
    out = pd.read_csv(tmp_path / "out.csv", keep_default_na=False)
    assert code == 0 and out["must_not_miss"].tolist() == ["bone_injury", "", "vascular_lesion"]


def test_upgrade_keeps_the_thresholds(tmp_path):
    from model.priors import upgrade_priors_folder

    folder = tmp_path / "old"
    shutil.copytree(bundled_priors_folder(), folder)
    nodes = pd.read_csv(folder / "nodes.csv", dtype=str, keep_default_na=False).drop(columns="parents")
    nodes.to_csv(folder / "nodes.csv", index=False)
    priors = upgrade_priors_folder(folder)
    assert priors.nodes["action_threshold"].dropna().to_dict() == SERIOUS
