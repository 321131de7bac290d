"""``next_questions``: equal to a brute-force mutual information (pgmpy, by the definition) within
1e-9, with and without a target cause; the expected change of the top cause against ``Model.infer``;
no dependence on the order of the evidence; no side effects in an ask -> answer -> re-rank loop;
costs; errors.

The references use pgmpy variable elimination on ``Model.network`` and :meth:`Model.infer`, never
the code under test.
"""

import math

import numpy as np
import pandas as pd
import pytest

from model import EvidenceError
from model.analysis.questions import next_questions
from model.network import VariableElimination, likelihood_factor

TOLERANCE = 1e-9
COLUMNS = ["screen", "info_gain", "expected_change_top", "cost", "gain_per_cost", "role", "question"]


def joint_table(model, evidence, variables):
    """P(variables | evidence) by one pgmpy joint query, axes in the order of ``variables``."""
    hard, soft = model.check_evidence(evidence)
    virtual = [likelihood_factor(n, model.states(n), soft[n]) for n in soft]
    factor = VariableElimination(model.network).query(variables, evidence=hard, virtual_evidence=virtual or None,
                                                      joint=True, show_progress=False)
    table = factor.values.transpose([factor.variables.index(v) for v in variables])
    return table / table.sum()


def brute_information(model, evidence, node, target=None):
    """I(node; causes and complications | evidence) in bits by the definition sum p log2 p / (p p); the causes
    and complications not fixed by hard evidence, or ``target`` alone."""
    hard, _ = model.check_evidence(evidence)
    about = [c for c in [*model.causes, *model.complications] if c not in hard] if target is None else [target]
    pair = joint_table(model, evidence, about + [node]).reshape(-1, len(model.states(node)))
    outer = pair.sum(axis=1, keepdims=True) * pair.sum(axis=0, keepdims=True)
    return sum(p * math.log2(p / q) for p, q in zip(pair.ravel(), outer.ravel()) if p > 0)


def ve_present(model, evidence, node):
    """P(node not in its reference state | evidence) by one pgmpy joint query."""
    hard, _ = model.check_evidence(evidence)
    if node in hard:
        return float(hard[node] != model.states(node)[0])
    return 1.0 - float(joint_table(model, evidence, [node])[0])


def brute_change(model, evidence, node, top):
    """sum over answers s of P(s | e) |P(top | e, s) - P(top | e)|, with pgmpy for the posteriors."""
    p_answer = joint_table(model, evidence, [node])
    before = ve_present(model, evidence, top)
    return sum(p * abs(ve_present(model, {**evidence, node: s}, top) - before)
               for s, p in zip(model.states(node), p_answer) if p > 0)


def random_evidence(model, seed, k):
    """Evidence on ``k`` random findings and risk factors (a third of it soft), sometimes a cause too."""
    rng = np.random.default_rng(seed)
    nodes = [n for n in list(model.findings) + list(model.risk_factors) if n not in model.population]
    evidence = {}
    for node in rng.choice(nodes, size=k, replace=False):
        states = model.states(str(node))
        if rng.random() < 1 / 3:
            evidence[str(node)] = {s: float(x) for s, x in zip(states, rng.uniform(0.05, 1.0, len(states)))}
        else:
            evidence[str(node)] = states[rng.integers(len(states))]
    if rng.random() < 0.5:
        cause = str(rng.choice(model.causes))
        evidence[cause] = "present" if rng.random() < 0.5 else {"absent": 1.0, "present": 0.4}
    return evidence


CASES = [  # (evidence, target, every candidate checked?)
    ({}, None, True),
    ({"pain_burning": "yes", "low_back_pain": {"no": 1.0, "yes": 0.3}, "sitting_effect": "dominant",
      "avid_cyclist": "yes"}, None, True),
    ({"age_group": "60_plus", "tumour": "present", "leg_pain_worse_than_back": "yes"}, None, False),
    ({"saddle_anaesthesia": "yes", "reduced_pulses": "no"}, "vascular_lesion", True),
    ({"pain_below_knee": "yes", "low_back_pain": "yes"}, "cauda_equina_syndrome", True),
    ({"sitting_effect": {"none": 0.1, "aggravates": 0.5, "dominant": 1.0}, "buttock_pain": "yes"},
     "deep_gluteal_syndrome", False),
]


@pytest.mark.parametrize("evidence, target, every", CASES)
def test_equals_brute_force_mutual_information(bundled_model, evidence, target, every):
    ranked = next_questions(evidence, target=target, priors=bundled_model)
    candidates = [n for n in bundled_model.nodes.index if bundled_model.nodes.at[n, "role"] in
                  ("finding", "risk_factor") and n not in evidence and n not in bundled_model.population]
    assert sorted(ranked.index) == sorted(candidates)
    checked = candidates if every else candidates[::5] + ["age_group", "sitting_effect", "saddle_anaesthesia"]
    for node in dict.fromkeys(n for n in checked if n in ranked.index):
        assert abs(ranked.at[node, "info_gain"] - brute_information(bundled_model, evidence, node, target)) \
            < TOLERANCE, node


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_evidence_against_brute_force(bundled_model, seed):
    evidence = random_evidence(bundled_model, seed, k=4 + seed)
    target = None if seed % 2 else str(np.random.default_rng(seed).choice(
        [c for c in bundled_model.causes if c not in evidence]))
    ranked = next_questions(evidence, target=target, priors=bundled_model)
    for node in ranked.index[:: 4]:
        assert abs(ranked.at[node, "info_gain"] - brute_information(bundled_model, evidence, node, target)) \
            < TOLERANCE, (evidence, node)


@pytest.mark.parametrize("evidence", [CASES[1][0], {"crossed_slr_positive": "yes", "age_group": "under_40"}])
def test_expected_change_of_the_top_cause(bundled_model, evidence):
    ranked = next_questions(evidence, priors=bundled_model)
    top = ranked.attrs["top_cause"]
    free = [c for c in bundled_model.causes if c not in evidence]
    assert top == max(free, key=lambda c: ve_present(bundled_model, evidence, c))
    for node in ["low_back_pain", "sitting_effect", "age_group", "reduced_pulses", "pfcn_block_relief"]:
        if node not in evidence:
            assert abs(ranked.at[node, "expected_change_top"] - brute_change(bundled_model, evidence, node, top)) \
                < TOLERANCE, node


def test_table_shape_sorting_costs_and_attrs(bundled_model):
    evidence = {"pain_burning": "yes", "low_back_pain": {"no": 2.0, "yes": 1.0}}
    ranked = next_questions(evidence, priors=bundled_model)
    assert list(ranked.columns) == COLUMNS and ranked.index.name == "node"
    assert (ranked["info_gain"] >= 0).all()
    screen, rest = ranked[ranked["screen"]], ranked[~ranked["screen"]]
    assert list(ranked.index) == [*screen.index, *rest.index]  # the screen first, then by information per cost
    assert (np.diff(rest["gain_per_cost"].to_numpy()) <= 0).all()
    nodes = bundled_model.nodes
    assert (ranked["cost"] == nodes.loc[ranked.index, "cost"]).all()
    assert np.allclose(ranked["gain_per_cost"], ranked["info_gain"] / ranked["cost"], rtol=0, atol=1e-15)
    assert (ranked["question"] == nodes.loc[ranked.index, "question"]).all()
    assert set(ranked["role"]) == {"finding", "risk_factor"}
    assert ranked.attrs == {"evidence": {"low_back_pain": {"no": 2.0, "yes": 1.0}, "pain_burning": "yes"},
                            "population": {"evidence": bundled_model.population,
                                           "description": bundled_model.infer({}).attrs["population"]["description"]},
                            "target": None, "top_cause": "lumbar_disc_herniation", "rank_by": "gain_per_cost",
                            "screen": ranked.attrs["screen"], "priors_digest": bundled_model.priors_digest,
                            "red_flags": [], "possible_red_flags": []}


def test_missing_cost_gives_nan(bundled_model):
    nodes = bundled_model.tables["nodes"]
    nodes.loc[nodes["node"] == "slr_positive", "cost"] = np.nan
    ranked = next_questions({}, priors=bundled_model.with_tables({"nodes": nodes}))
    assert np.isnan(ranked.at["slr_positive", "cost"]) and np.isnan(ranked.at["slr_positive", "gain_per_cost"])
    assert ranked["gain_per_cost"].drop("slr_positive").notna().all()


def test_evidence_order_does_not_matter(bundled_model):
    evidence = CASES[1][0]
    forward = next_questions(evidence, priors=bundled_model)
    backward = next_questions(dict(reversed(list(evidence.items()))), priors=bundled_model)
    pd.testing.assert_frame_equal(forward, backward, check_exact=True)
    assert forward.attrs == backward.attrs


def test_ask_answer_rerank_loop_has_no_side_effects(bundled_model):
    start = {"pain_burning": "yes"}
    first = next_questions(start, priors=bundled_model)
    posteriors = bundled_model.infer(start)
    evidence = dict(start)
    for _ in range(3):  # ask the best question, answer it, re-rank
        ranked = next_questions(evidence, priors=bundled_model)
        question = ranked.index[0]
        assert question not in evidence
        evidence[question] = bundled_model.states(question)[-1]
        assert question not in next_questions(evidence, priors=bundled_model).index
    again = next_questions(start, priors=bundled_model)
    pd.testing.assert_frame_equal(first, again, check_exact=True)
    pd.testing.assert_frame_equal(posteriors, bundled_model.infer(start), check_exact=True)
    assert start == {"pain_burning": "yes"}


def test_hard_evidence_on_every_cause_and_complication_leaves_nothing_to_learn(bundled_model):
    evidence = {c: "absent" for c in [*bundled_model.causes, *bundled_model.complications]}
    ranked = next_questions(evidence, priors=bundled_model)
    assert (ranked["info_gain"] == 0).all() and (ranked["expected_change_top"] == 0).all()
    assert ranked.attrs["top_cause"] is None


def test_unknown_target_lists_the_closest_causes():
    with pytest.raises(EvidenceError, match=r"unknown target 'pfcn_neuropahty'\. Did you mean "
                                            r"'pfcn_neuropathy'\?"):
        next_questions({}, target="pfcn_neuropahty")
    with pytest.raises(EvidenceError, match="target must be one of Model.causes or Model.complications"):
        next_questions({}, target="posterior_thigh_pain")
    with pytest.raises(ValueError, match="rank_by must be one of 'gain_per_cost', 'info_gain'"):
        next_questions({}, rank_by="cost")


def test_target_fixed_by_the_evidence_is_refused():
    with pytest.raises(EvidenceError, match=r"the evidence fixes the target 'tumour' \(tumour=absent\)"):
        next_questions({"tumour": "absent"}, target="tumour")


def test_bad_evidence_is_an_evidence_error():
    with pytest.raises(EvidenceError, match=r"unknown node 'pain_burnign'\. Did you mean 'pain_burning'"):
        next_questions({"pain_burnign": "yes"})
    with pytest.raises(EvidenceError, match=r"'sitting_effect' has no state 'often'"):
        next_questions({"sitting_effect": "often"})


def test_impossible_evidence_is_an_evidence_error(bundled_model):
    cpt = bundled_model.tables["cpts/leg_pain_worse_than_back"]
    yes = cpt["leg_pain_worse_than_back"] == "yes"
    cpt["probability"] = np.where(yes, 0.0, 1.0)  # leg pain is never worse than back pain
    cpt["low"], cpt["high"] = cpt["probability"], cpt["probability"]
    model = bundled_model.with_tables({"cpts/leg_pain_worse_than_back": cpt})
    with pytest.raises(EvidenceError, match="probability zero"):
        next_questions({"leg_pain_worse_than_back": "yes"}, priors=model)
    ranked = next_questions({"low_back_pain": "yes"}, priors=model)
    assert ranked.at["leg_pain_worse_than_back", "info_gain"] == 0.0  # its only answer is certain


# --- the red-flag screen (issue 10, item 5) -------------------------------------------------------------
SCREEN = ["saddle_anaesthesia", "bladder_bowel_dysfunction", "progressive_motor_weakness"]
SCIATICA = {"pain_below_knee": "yes", "low_back_pain": "yes", "paraesthesia_numbness": "yes"}


def test_sciatica_without_red_flags_asked_starts_with_the_screen(bundled_model):
    ranked = next_questions(SCIATICA, priors=bundled_model)
    assert sorted(ranked.index[:3]) == sorted(SCREEN) and ranked["screen"].sum() == 3  # within: per cost
    screen = ranked.attrs["screen"]
    assert [s["complication"] for s in screen] == ["cauda_equina_syndrome"]
    assert screen[0]["questions"] == SCREEN
    # the trigger, by pgmpy VE: P(at least one parent cause of cauda equina syndrome present | evidence)
    parents = ["lumbar_disc_herniation", "lumbar_spinal_stenosis", "tumour", "bone_injury", "spinal_infection"]
    none = joint_table(bundled_model, SCIATICA, parents)[(0,) * len(parents)]
    assert abs(screen[0]["p_parent_cause"] - (1 - none)) < TOLERANCE
    assert screen[0]["p_parent_cause"] >= screen[0]["threshold"]
    assert bundled_model.nodes.at["cauda_equina_syndrome", "screen_threshold"] == screen[0]["threshold"]


def test_with_the_screen_answered_the_ranking_is_by_information_per_cost(bundled_model):
    evidence = {**SCIATICA, **{node: "no" for node in SCREEN}}
    ranked = next_questions(evidence, priors=bundled_model)
    assert not ranked["screen"].any()
    assert [s["questions"] for s in ranked.attrs["screen"]] == [[]]  # the screen is still on, and complete
    assert (np.diff(ranked["gain_per_cost"].to_numpy()) <= 0).all()
    by_information = next_questions(evidence, rank_by="info_gain", priors=bundled_model)
    assert (np.diff(by_information["info_gain"].to_numpy()) <= 0).all()
    assert ranked.at[ranked.index[0], "cost"] <= 2  # a history question or an examination before imaging
    assert ranked.at[ranked.index[0], "cost"] <= by_information.at[by_information.index[0], "cost"]


def test_a_partly_answered_screen_keeps_the_rest_first(bundled_model):
    ranked = next_questions({**SCIATICA, "saddle_anaesthesia": "no"}, priors=bundled_model)
    assert sorted(ranked.index[:2]) == sorted(SCREEN[1:]) and ranked["screen"].sum() == 2


def test_no_screen_when_no_parent_cause_is_plausible(bundled_model):
    cyclist = {"avid_cyclist": "yes", "sitting_effect": "dominant", "pain_burning": "yes", "low_back_pain": "no"}
    ranked = next_questions(cyclist, priors=bundled_model)
    assert ranked.attrs["screen"] == [] and not ranked["screen"].any()


def test_no_screen_when_the_complication_is_settled(bundled_model):
    ranked = next_questions({**SCIATICA, "cauda_equina_syndrome": "absent"}, priors=bundled_model)
    assert ranked.attrs["screen"] == [] and not ranked["screen"].any()


def test_expected_change_follows_the_target(bundled_model):
    ranked = next_questions(SCIATICA, target="cauda_equina_syndrome", priors=bundled_model)
    assert ranked.attrs["top_cause"] == "cauda_equina_syndrome"
    for node in SCREEN[:2]:
        assert abs(ranked.at[node, "expected_change_top"] -
                   brute_change(bundled_model, SCIATICA, node, "cauda_equina_syndrome")) < TOLERANCE


def test_screen_threshold_column_round_trips_and_is_checked(tmp_path, bundled_model):
    import shutil

    from model import PriorsError, load_model
    from model.priors import bundled_priors_folder

    for population in ("primary_care", "specialist"):
        m = load_model(population)
        assert m.nodes["screen_threshold"].dropna().to_dict() == {"cauda_equina_syndrome": 0.25}
        m.save(tmp_path / population)
        assert (tmp_path / population / "nodes.csv").read_bytes() == \
            (bundled_priors_folder(population) / "nodes.csv").read_bytes()
        assert m.with_parameter("base_rates", node="avid_cyclist", probability=0.1).nodes["screen_threshold"] \
            .dropna().to_dict() == {"cauda_equina_syndrome": 0.25}
    folder = tmp_path / "bad"
    shutil.copytree(bundled_priors_folder(), folder)
    nodes = pd.read_csv(folder / "nodes.csv", dtype=str, keep_default_na=False)
    nodes.loc[nodes["node"] == "tumour", "screen_threshold"] = "0.3"
    nodes.loc[nodes["node"] == "cauda_equina_syndrome", "screen_threshold"] = "often"
    nodes.to_csv(folder / "nodes.csv", index=False)
    with pytest.raises(PriorsError) as caught:
        load_model(folder)
    message = str(caught.value)
    tumour, ces = (int(np.flatnonzero(nodes["node"] == n)[0]) + 2 for n in ("tumour", "cauda_equina_syndrome"))
    assert f"nodes.csv, line {tumour}, column 'screen_threshold'" in message and "'tumour' is a cause" in message
    assert f"nodes.csv, line {ces}, column 'screen_threshold'" in message and "'often'" in message
    without = bundled_model.with_tables({"nodes": bundled_model.tables["nodes"].drop(columns="screen_threshold")})
    assert next_questions(SCIATICA, priors=without).attrs["screen"] == []


def test_leaf_answers_come_from_the_joint_only_when_that_is_exact(bundled_model):
    """A candidate whose parents are reported or observed, and no descendant of which is observed, is scored
    from the joint of row 0 (no engine row); the brute-force tests above check the numbers."""
    from model.analysis.questions import _answered_from_the_joint

    scope = list(bundled_model._reported)
    names = ["low_back_pain", "pain_burning", "avid_cyclist", "motor_weakness", "mri_lumbar_root_compression"]
    hard, soft = bundled_model.check_evidence({})
    assert _answered_from_the_joint(bundled_model, names, scope, hard, soft) == ["low_back_pain", "pain_burning"]
    hard, soft = bundled_model.check_evidence({"leg_pain_worse_than_back": "yes", "age_group": "60_plus"})
    assert _answered_from_the_joint(bundled_model, names, scope, hard, soft) == [  # a child observed; age known
        "pain_burning", "mri_lumbar_root_compression"]
    evidence = {"leg_pain_worse_than_back": "yes", "age_group": "60_plus"}
    ranked = next_questions(evidence, priors=bundled_model)
    for node in ("low_back_pain", "mri_lumbar_root_compression", "pain_burning"):
        assert abs(ranked.at[node, "info_gain"] - brute_information(bundled_model, evidence, node)) < TOLERANCE


def test_next_questions_on_alarm_whose_batch_plan_has_no_joint(tmp_path):
    """alarm's batch plan computes one program per cause (cheaper than their joint of 9,216 configurations),
    and its min-fill junction tree has no clique of every cause: next_questions compiles a tree whose root is
    exactly their joint (model.engine.answers.question_tree); brute force checks it."""
    from pathlib import Path

    from model import load_model
    from model.engine import compiled_plan
    from model.engine.answers import question_tree
    from model.engine.single import junction_tree
    from model.interop import network_to_tables, read_network
    from model.priors import save_tables

    source = Path(__file__).parent / "data" / "bnlearn" / "alarm.bif.gz"
    save_tables(network_to_tables(read_network(source), source="alarm.bif.gz"), tmp_path / "alarm")
    alarm = load_model(tmp_path / "alarm")
    assert compiled_plan(alarm).joint_scope is None and not junction_tree(alarm).within(alarm._reported)
    tree = question_tree(alarm, cut=False)
    root = next(k for k, p in enumerate(tree.parent) if p is None)
    assert set(tree.cliques[root]) == set(alarm._reported)
    evidence = {"HRBP": "HIGH", "BP": "LOW", "CVP": {"LOW": 0.2, "NORMAL": 1.0, "HIGH": 0.5}}
    ranked = next_questions(evidence, priors=alarm)
    assert len(ranked) == len([n for n in alarm.findings if n not in evidence])
    for node in ["HR", "SAO2", "PCWP"]:
        assert abs(ranked.at[node, "info_gain"] - brute_information(alarm, evidence, node)) < TOLERANCE, node


def test_every_answer_joint_equals_pgmpy(bundled_model):
    """P(causes and complications, F = s | e) = P(them | e) P(F = s | separator, e) for each answer, from the
    root's belief and the path of F's clique (model.engine.answer_tables): P(separator, F = s | e) equals a
    pgmpy joint query for a risk factor (its clique far from the root), a sign below a mechanism whose other
    sign is observed, crossed SLR below SLR, with soft evidence and a cause observed; each table sums to 1
    over the answers wherever the separator's configuration is possible."""
    from model.engine import answer_tables

    evidence = {"pain_burning": "yes", "low_back_pain": {"no": 0.3, "yes": 1.0}, "motor_weakness": "yes",
                "tumour": "absent"}
    hard, soft = bundled_model.check_evidence(evidence)
    candidates = ["age_group", "reduced_ankle_reflex", "crossed_slr_positive", "trauma_or_fall"]
    scope, belief, tables, _ = answer_tables(bundled_model, hard, soft, candidates)
    assert "tumour" not in scope and set(scope) == set(bundled_model._reported) - {"tumour"}
    assert abs(belief.sum() - 1.0) < 1e-12
    np.testing.assert_allclose(belief, joint_table(bundled_model, evidence, list(scope)).reshape(-1),
                               rtol=0, atol=TOLERANCE)
    cards = [len(bundled_model.states(v)) for v in scope]
    for node, (separator, table) in zip(candidates, tables):
        assert set(separator) <= set(scope) and len(table) == len(bundled_model.states(node))
        on_separator = belief.reshape(cards).transpose(
            [scope.index(v) for v in separator] + [i for i, v in enumerate(scope) if v not in separator])
        b = on_separator.reshape(table.shape[1], -1).sum(axis=1)  # P(separator | e), first slowest
        reference = joint_table(bundled_model, evidence, list(separator) + [node]).reshape(-1, len(table))
        np.testing.assert_allclose(table.T * b[:, None], reference, rtol=0, atol=TOLERANCE, err_msg=node)
        np.testing.assert_allclose(table.sum(axis=0)[b > 0], 1.0, rtol=0, atol=1e-12, err_msg=node)


def test_next_questions_on_the_specialist_population():
    """The second bundled population (a specialist clinic after a lumbar MRI without concordant compression)
    has its own question tree: the information of questions answered on the tree's paths (a risk factor, a
    sign under a mechanism, crossed SLR) and from the joint alone equals the pgmpy brute force."""
    from model import load_model

    specialist = load_model("specialist")
    evidence = {"pain_burning": "yes", "low_back_pain": "no", "sitting_effect": "aggravates"}
    ranked = next_questions(evidence, priors=specialist)
    for node in ["age_group", "motor_weakness", "crossed_slr_positive", "pain_below_knee"]:
        assert abs(ranked.at[node, "info_gain"] - brute_information(specialist, evidence, node)) < TOLERANCE, node
