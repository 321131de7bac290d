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
COLUMNS = ["info_gain", "expected_change_top", "cost", "gain_per_cost", "role", "question"]


def joint_table(model, evidence, variables):
    """P(variables | evidence) by one pgmpy joint query, axes in the order of ``variables``."""
    hard, soft = model.check_evidence(evidence)
    virtual = [likelihood_factor(n, model.states(n), soft[n]) for n in soft]
    factor = VariableElimination(model.network).query(variables, evidence=hard, virtual_evidence=virtual or None,
                                                      joint=True, show_progress=False)
    table = factor.values.transpose([factor.variables.index(v) for v in variables])
    return table / table.sum()


def brute_information(model, evidence, node, target=None):
    """I(node; causes | evidence) in bits by the definition sum p log2 p / (p p); causes = the free ones,
    or ``target`` alone."""
    hard, _ = model.check_evidence(evidence)
    about = [c for c in model.causes if c not in hard] if target is None else [target]
    pair = joint_table(model, evidence, about + [node]).reshape(-1, len(model.states(node)))
    outer = pair.sum(axis=1, keepdims=True) * pair.sum(axis=0, keepdims=True)
    return sum(p * math.log2(p / q) for p, q in zip(pair.ravel(), outer.ravel()) if p > 0)


def brute_change(model, evidence, node, top):
    """sum over answers s of P(s | e) |P(top | e, s) - P(top | e)|, with Model.infer for the posteriors."""
    p_answer = joint_table(model, evidence, [node])
    before = model.infer(evidence).loc[top, "posterior"]
    return sum(p * abs(model.infer({**evidence, node: s}).loc[top, "posterior"] - before)
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
    posteriors = bundled_model.infer(evidence)
    top = ranked.attrs["top_cause"]
    assert top == posteriors.loc[list(bundled_model.causes), "posterior"].idxmax()
    for node in ["low_back_pain", "sitting_effect", "age_group", "reduced_pulses", "pfcn_block_relief"]:
        if node not in evidence:
            assert abs(ranked.at[node, "expected_change_top"] - brute_change(bundled_model, evidence, node, top)) \
                < TOLERANCE, node


def test_table_shape_sorting_costs_and_attrs(bundled_model):
    evidence = {"pain_burning": "yes", "low_back_pain": {"no": 2.0, "yes": 1.0}}
    ranked = next_questions(evidence, priors=bundled_model)
    assert list(ranked.columns) == COLUMNS and ranked.index.name == "node"
    assert (np.diff(ranked["info_gain"].to_numpy()) <= 0).all() and (ranked["info_gain"] >= 0).all()
    nodes = bundled_model.nodes
    assert (ranked["cost"] == nodes.loc[ranked.index, "cost"]).all()
    assert np.allclose(ranked["gain_per_cost"], ranked["info_gain"] / ranked["cost"], rtol=0, atol=1e-15)
    assert (ranked["question"] == nodes.loc[ranked.index, "question"]).all()
    assert set(ranked["role"]) == {"finding", "risk_factor"}
    assert ranked.attrs == {"evidence": {"low_back_pain": {"no": 2.0, "yes": 1.0}, "pain_burning": "yes"},
                            "population": {"evidence": bundled_model.population,
                                           "description": bundled_model.infer({}).attrs["population"]["description"]},
                            "target": None, "top_cause": "lumbar_disc_herniation",
                            "priors_digest": bundled_model.priors_digest}


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


def test_hard_evidence_on_every_cause_leaves_nothing_to_learn(bundled_model):
    evidence = {c: "absent" for c in bundled_model.causes}
    ranked = next_questions(evidence, priors=bundled_model)
    assert (ranked["info_gain"] == 0).all() and (ranked["expected_change_top"] == 0).all()
    assert ranked.attrs["top_cause"] is None


def test_unknown_target_lists_the_closest_causes():
    with pytest.raises(EvidenceError, match=r"unknown target cause 'pfcn_neuropahty'\. Did you mean "
                                            r"'pfcn_neuropathy'\?"):
        next_questions({}, target="pfcn_neuropahty")
    with pytest.raises(EvidenceError, match="target must be one of Model.causes"):
        next_questions({}, target="cauda_equina_syndrome")


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
