"""``infer`` and ``Model``: result shape, evidence errors, discovery, caching."""

import os
import shutil
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from model import EvidenceError, Model, infer, load_model
from model.priors import bundled_priors_folder, upgrade_priors_folder


@pytest.fixture(scope="module")
def bundled():
    return load_model()


def test_result_is_ranked_table_of_every_cause_and_complication(bundled):
    result = bundled.infer({"pain_burning": "yes"})
    assert list(result.columns) == ["posterior", "prior", "lift"]
    assert result.index.name == "cause"
    assert set(result.index) == set(bundled.causes) | set(bundled.complications)
    assert result["posterior"].is_monotonic_decreasing
    assert result.attrs["evidence"] == {"pain_burning": "yes"}
    assert result.attrs["red_flags"] == []
    assert len(result.attrs["priors_digest"]) == 12


def test_empty_evidence_gives_posterior_equal_to_prior(bundled):
    result = bundled.infer({})
    assert (result["posterior"] - result["prior"]).abs().max() < 1e-12


def test_population_priors_match_clinical_evidence_v2_section_1_1(bundled):
    # v2: the priors are the primary-care presenting shares of clinical-evidence-v2 §1.1 (first column), kept
    # with their sources in tests/data/presenting_shares.csv; the baselines are solved to reproduce them given
    # the complaint (v1 used the §2.1 population priors: disc herniation 0.60, deep gluteal 0.08, PFCN 0.015).
    shares = pd.read_csv(Path(__file__).parent / "data" / "presenting_shares.csv")
    expected = shares[shares["population"] == "primary_care"].set_index("cause")["share"]
    assert set(expected.index) == set(bundled.causes)
    assert expected["lumbar_disc_herniation"] == 0.40 and expected["deep_gluteal_syndrome"] == 0.05
    prior = bundled.prior()
    for cause, value in expected.items():
        assert prior[cause] == pytest.approx(value, rel=1e-3), cause


def test_discovery_lists_names(bundled):
    assert len(bundled.causes) == 15  # v2: 15 causes (v1 had 8)
    assert bundled.complications == ("cauda_equina_syndrome",)
    assert "pain_burning" in bundled.findings and "avid_cyclist" in bundled.risk_factors
    assert bundled.states("age_group") == ("40_59", "under_40", "60_plus")
    with pytest.raises(EvidenceError, match="pain_burnin"):
        bundled.states("pain_burnin")


def test_red_flags_are_reported_whatever_the_posteriors(bundled):
    result = bundled.infer({"bladder_bowel_dysfunction": "yes", "crossed_slr_positive": "no"})
    assert result.attrs["red_flags"] == ["bladder_bowel_dysfunction"]
    assert bundled.infer({"bladder_bowel_dysfunction": "no"}).attrs["red_flags"] == []


def test_evidence_on_a_cause_fixes_its_posterior(bundled):
    result = bundled.infer({"tumour": "present", "pain_burning": "yes"})
    assert result.loc["tumour", "posterior"] == 1.0
    assert bundled.infer({"tumour": "absent"}).loc["tumour", "posterior"] == 0.0


@pytest.mark.parametrize(
    "evidence, message",
    [
        ({"pain_burnig": "yes"}, r"unknown node 'pain_burnig'.*Did you mean 'pain_burning'"),
        ({"pain_burning": "yess"}, r"'pain_burning' has no state 'yess'.*Did you mean 'yes'.*no, yes"),
        ({"sitting_effect": "dominnt"}, r"Did you mean 'dominant'"),
        ({"pain_burning": True}, r"must be a state name"),
        ({"pain_burning": {"yes": -1, "no": 1}}, r"finite likelihood >= 0. Got -1"),
        ({"pain_burning": {"yes": 0, "no": 0}}, r"every state likelihood 0"),
        ({"pain_burning": {"yes": 1, "maybe": 1}}, r"unknown: \['maybe'\], missing: \['no'\]"),
        ({"pain_burning": {"yes": float("nan"), "no": 1}}, r"finite likelihood"),
        (["pain_burning"], r"evidence must be a mapping"),
    ],
)
def test_bad_evidence_names_the_problem(bundled, evidence, message):
    with pytest.raises(EvidenceError, match=message):
        bundled.infer(evidence)


def test_all_evidence_problems_are_reported_together(bundled):
    with pytest.raises(EvidenceError, match="2 problems") as info:
        bundled.infer({"foo": "yes", "pain_burning": "maybe"})
    assert "foo" in str(info.value) and "maybe" in str(info.value)


@pytest.fixture
def tiny_priors(tmp_path):
    """A two-node network in which a finding is impossible without its cause."""
    folder = tmp_path / "tiny"
    (folder / "cpts").mkdir(parents=True)
    (folder / "nodes.csv").write_text(textwrap.dedent("""\
        node,role,states,form
        disease,cause,absent|present,base_rate
        sign,finding,no|yes,cpt
        other,finding,no|yes,base_rate
    """))
    (folder / "base_rates.csv").write_text(textwrap.dedent("""\
        node,state,probability,low,high,source,grade
        disease,present,0.1,0.05,0.2,test,E
        other,yes,0.5,0.4,0.6,test,E
    """))
    (folder / "cpts" / "sign.csv").write_text(textwrap.dedent("""\
        disease,sign,probability,low,high,source,grade
        absent,no,1,1,1,test,E
        absent,yes,0,0,0,test,E
        present,no,0.2,0.1,0.3,test,E
        present,yes,0.8,0.7,0.9,test,E
    """))
    upgrade_priors_folder(folder)  # the empty tables and the parents column
    return folder


def test_evidence_of_probability_zero_says_which(tiny_priors):
    m = load_model(tiny_priors)
    assert m.infer({"sign": "yes"}).loc["disease", "posterior"] == pytest.approx(1.0)
    with pytest.raises(EvidenceError, match=r"probability zero.*sign=yes is impossible given other=no, "
                                             r"disease=absent"):
        m.infer({"other": "no", "disease": "absent", "sign": "yes"})
    with pytest.raises(EvidenceError, match="probability zero"):
        m.infer({"disease": "absent", "sign": {"no": 0.0, "yes": 1.0}})


def test_infer_accepts_folder_or_model_and_rereads_changed_files(tmp_path):
    folder = tmp_path / "priors"
    shutil.copytree(bundled_priors_folder(), folder)
    evidence = {"avid_cyclist": "yes"}
    before = infer(evidence, priors=folder)
    assert before.equals(infer(evidence))
    assert before.equals(infer(evidence, priors=load_model(folder)))
    rates = folder / "base_rates.csv"
    text = rates.read_text(encoding="utf-8")
    rates.write_text(text.replace("avid_cyclist,yes,0.05,", "avid_cyclist,yes,0.06,"), encoding="utf-8")
    stat = rates.stat()
    os.utime(rates, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    after = infer({}, priors=folder)
    assert after.attrs["priors_digest"] != before.attrs["priors_digest"]


def test_model_is_not_mutated_by_queries(bundled):
    evidence = {"pain_burning": "yes", "low_back_pain": "no"}
    first = bundled.infer(evidence)
    bundled.infer({"sitting_effect": {"none": 0.2, "aggravates": 0.3, "dominant": 1.0}})
    again = bundled.infer(evidence)
    assert first.equals(again)
    network = bundled.network
    network.remove_node("pain_burning")
    assert "pain_burning" in bundled.network.nodes


def test_repr_names_digest(bundled):
    assert bundled.priors_digest in repr(bundled)
    assert isinstance(bundled, Model)
