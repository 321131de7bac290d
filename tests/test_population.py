"""The population a priors folder describes (population.csv), mechanism nodes, finding types, bundled populations.

Every query is conditioned on the population: each result must equal pgmpy's own VariableElimination run on
``Model.network`` with the population's observations added to the evidence. The priors are small synthetic
folders written here, so these tests do not depend on the bundled clinical numbers.
"""

import contextlib
import math
import shutil
import textwrap
import warnings

import numpy as np
import pandas as pd
import pytest

import model.priors.files
from model import (
    EvidenceError,
    PriorsError,
    bundled_populations,
    explain,
    infer,
    infer_batch,
    load_model,
    next_questions,
    sensitivity,
)
from model.cli import main
from model.priors import bundled_priors_folder, priors_folder, upgrade_priors_folder

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from pgmpy.inference import VariableElimination

TOLERANCE = 1e-9
DESCRIPTION = "Adults with pain in the back of the thigh"

NODES = """\
node,role,states,form,label,question,cost,emergency_state,finding_type
cyclist,risk_factor,no|yes,base_rate,Avid cyclist,Do you cycle?,1,,
disc,cause,absent|present,relative_risk,Disc herniation,,,,
nerve,cause,absent|present,relative_risk,Nerve entrapment,,,,
conduction_loss,mechanism,absent|present,noisy_or,Conduction loss,Not observed directly,,,
ces,complication,absent|present,noisy_or,Cauda equina syndrome,,,,
thigh_pain,finding,no|yes,noisy_or,Thigh pain,Pain in the back of the thigh?,1,,presentation
burning,finding,no|yes,logistic,Burning pain,Is it burning?,1,,symptom
weakness,finding,no|yes,noisy_or,Weakness,Test the muscles,2,,sign
reflex_loss,finding,no|yes,cpt,Reflex loss,Test the ankle reflex,2,,sign
mri,finding,no|yes,noisy_or,MRI,Lumbar MRI,50,,test
saddle,finding,no|yes,noisy_or,Saddle anaesthesia,Numb saddle area?,1,yes,symptom
"""
BASE_RATES = """\
node,state,probability,low,high,source,grade
cyclist,yes,0.2,0.1,0.3,test,E
disc,present,0.3,0.2,0.4,test,E
nerve,present,0.05,0.02,0.1,test,E
"""
RISK_FACTORS = """\
risk_factor,state,cause,relative_risk,low,high,source,grade
cyclist,yes,disc,1.5,1.2,2,test,E
cyclist,yes,nerve,4,2,6,test,E
"""
LEAKS = """\
node,state,probability,low,high,source,grade
conduction_loss,present,0.05,0.02,0.1,test,E
ces,present,0.001,0.0005,0.002,test,E
thigh_pain,yes,0.2,0.1,0.3,test,E
burning,yes,0.3,0.2,0.4,test,E
weakness,yes,0.05,0.02,0.1,test,E
mri,yes,0.1,0.05,0.2,test,E
saddle,yes,0.01,0.005,0.02,test,E
"""
LINKS = """\
parent,parent_state,child,child_state,probability,low,high,source,grade
disc,present,conduction_loss,present,0.5,0.3,0.7,test,E
nerve,present,conduction_loss,present,0.6,0.4,0.8,test,E
disc,present,ces,present,0.03,0.01,0.05,test,E
disc,present,thigh_pain,yes,0.9,0.8,0.95,test,E
nerve,present,thigh_pain,yes,0.8,0.6,0.9,test,E
disc,present,burning,yes,0.2,0.1,0.25,test,E
nerve,present,burning,yes,0.8,0.6,0.9,test,E
conduction_loss,present,weakness,yes,0.7,0.5,0.8,test,E
disc,present,mri,yes,0.8,0.7,0.9,test,E
ces,present,saddle,yes,0.8,0.6,0.9,test,E
"""
REFLEX_CPT = """\
conduction_loss,reflex_loss,probability,low,high,source,grade
absent,no,0.9,0.9,0.9,test,E
absent,yes,0.1,0.1,0.1,test,E
present,no,0.4,0.4,0.4,test,E
present,yes,0.6,0.6,0.6,test,E
"""
POPULATION = f"node,state,description\nthigh_pain,yes,{DESCRIPTION}\n"

CASES = [
    {},
    {"burning": "yes"},
    {"burning": "yes", "cyclist": "yes", "weakness": "no"},
    {"reflex_loss": "yes", "mri": "no", "saddle": "yes"},
    {"conduction_loss": "present", "burning": "no"},          # a mechanism observed, like a cause
    {"disc": "absent", "weakness": "yes"},
    {"weakness": {"no": 0.3, "yes": 1.0}, "cyclist": "yes"},   # soft evidence
    {"thigh_pain": "yes", "burning": "yes"},                   # the population state given again
]


def write_priors(folder, *, population=POPULATION, nodes=NODES):
    """A small priors folder: two causes, a mechanism, a complication, findings of every type."""
    (folder / "cpts").mkdir(parents=True)
    for name, text in (("nodes.csv", nodes), ("base_rates.csv", BASE_RATES), ("risk_factors.csv", RISK_FACTORS),
                       ("leaks.csv", LEAKS), ("links.csv", LINKS), ("cpts/reflex_loss.csv", REFLEX_CPT)):
        (folder / name).write_text(text, encoding="utf-8")
    if population is not None:
        (folder / "population.csv").write_text(population, encoding="utf-8")
    with contextlib.suppress(PriorsError):  # some tests write faulty priors on purpose, and load them later
        upgrade_priors_folder(folder)  # a header-only population.csv when none is given; the parents column
    return folder


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return write_priors(tmp_path_factory.mktemp("population") / "priors")


@pytest.fixture(scope="module")
def m(folder):
    return load_model(folder)


@pytest.fixture(scope="module")
def bare(m):
    """The same priors without the population condition."""
    return m.with_tables({"population": None})


def pgmpy_posteriors(model, evidence):
    """P(present) of every reported node by pgmpy VE on ``model.network`` (hard evidence only)."""
    engine = VariableElimination(model.network)
    out = {}
    for node in (*model.causes, *model.complications):
        if node in evidence:
            out[node] = 0.0 if evidence[node] == model.states(node)[0] else 1.0
            continue
        factor = engine.query([node], evidence=evidence, show_progress=False)
        out[node] = 1.0 - float(factor.values[factor.state_names[node].index(model.states(node)[0])])
    return pd.Series(out)


def expected(model, evidence, population):
    """pgmpy's answer for ``evidence`` plus ``population``; one soft observation as the mixture of its states,
    weighted by likelihood x P(state | the hard evidence)."""
    hard = {**population, **{n: v for n, v in evidence.items() if isinstance(v, str)}}
    soft = {n: v for n, v in evidence.items() if not isinstance(v, str)}
    if not soft:
        return pgmpy_posteriors(model, hard)
    (node, likelihood), = soft.items()
    marginal = VariableElimination(model.network).query([node], evidence=hard, show_progress=False)
    weights = np.array([likelihood[s] * marginal.values[marginal.state_names[node].index(s)]
                        for s in model.states(node)])
    parts = [pgmpy_posteriors(model, {**hard, node: s}) for s in model.states(node)]
    return sum(w * p for w, p in zip(weights / weights.sum(), parts))


# --- the model's view -------------------------------------------------------------

def test_model_exposes_population_mechanisms_and_finding_types(m, bare):
    assert m.population == {"thigh_pain": "yes"}
    copy = m.population
    copy["thigh_pain"] = "no"
    assert m.population == {"thigh_pain": "yes"}  # a copy
    assert bare.population == {}
    assert m.mechanisms == ("conduction_loss",)
    assert m.symptoms == ("burning", "saddle")
    types = m.nodes["finding_type"]
    assert types["thigh_pain"] == "presentation" and types["mri"] == "test" and types["disc"] == ""
    assert "conduction_loss" not in m.causes + m.complications + m.findings + m.risk_factors


def test_mechanisms_are_not_reported(m):
    result = m.infer({"burning": "yes"})
    assert set(result.index) == {"disc", "nerve", "ces"}
    assert "conduction_loss" not in m.prior().index
    assert "conduction_loss" not in infer_batch(pd.DataFrame({"burning": ["yes"]}), priors=m).columns


@pytest.mark.parametrize("evidence", CASES, ids=range(len(CASES)))
def test_infer_equals_pgmpy_with_the_population_added(m, bare, evidence):
    got = m.infer(evidence)["posterior"]
    want = expected(m, evidence, {"thigh_pain": "yes"})
    assert np.abs(got[want.index] - want).max() < TOLERANCE
    got_bare = bare.infer(evidence)["posterior"]
    want_bare = expected(bare, evidence, {})
    assert np.abs(got_bare[want_bare.index] - want_bare).max() < TOLERANCE


@pytest.mark.parametrize("evidence", CASES[:4], ids=range(4))
def test_a_complication_above_the_population_equals_pgmpy(tmp_path, evidence):
    """The population finding a child of the complication too: the population, cut out of the single-case tree
    at compile time (model/engine/single.py), still counts as an observed descendant of the complication,
    whose posterior then cannot come from its parents alone."""
    links = LINKS + "ces,present,thigh_pain,yes,0.7,0.5,0.9,test,E\n"
    folder = write_priors(tmp_path / "priors")
    (folder / "links.csv").write_text(links, encoding="utf-8")
    nodes = (folder / "nodes.csv").read_text(encoding="utf-8").splitlines()
    nodes = [line.replace("disc|nerve", "disc|nerve|ces") if line.startswith("thigh_pain,") else line for line in nodes]
    (folder / "nodes.csv").write_text("\n".join(nodes) + "\n", encoding="utf-8")
    model = load_model(folder)
    assert "ces" in model.network.get_parents("thigh_pain")
    got = model.infer(evidence)["posterior"]
    want = expected(model, evidence, {"thigh_pain": "yes"})
    assert np.abs(got[want.index] - want).max() < TOLERANCE


def test_prior_is_conditioned_on_the_population(m, bare):
    want = pgmpy_posteriors(m, {"thigh_pain": "yes"})
    assert np.abs(m.prior()[want.index] - want).max() < TOLERANCE
    assert np.abs(m.infer({})["prior"][want.index] - want).max() < TOLERANCE
    assert np.abs(bare.prior()[want.index] - pgmpy_posteriors(bare, {})).max() < TOLERANCE
    assert abs(m.prior()["disc"] - bare.prior()["disc"]) > 0.01  # the condition matters here


def test_infer_with_priors_folder_and_model_agree(folder, m):
    evidence = {"burning": "yes", "cyclist": "yes"}
    assert infer(evidence, priors=folder).equals(m.infer(evidence))


def test_evidence_in_the_population_state_is_accepted_silently(m):
    given = m.infer({"thigh_pain": "yes", "burning": "yes"})
    plain = m.infer({"burning": "yes"})
    np.testing.assert_allclose(given["posterior"], plain["posterior"][given.index], rtol=0, atol=1e-12)
    assert given.attrs["evidence"] == {"thigh_pain": "yes", "burning": "yes"}  # the user's own evidence
    soft = m.infer({"thigh_pain": {"no": 0.5, "yes": 1.0}, "burning": "yes"})
    np.testing.assert_allclose(soft["posterior"], plain["posterior"][soft.index], rtol=0, atol=1e-12)


def test_evidence_that_contradicts_the_population_is_refused(m):
    with pytest.raises(EvidenceError, match=r"thigh_pain='no': the population of these priors is defined by "
                                            r"thigh_pain=yes \(population\.csv\); evidence cannot set it to 'no'\. "
                                            r"Use priors without this population condition"):
        m.infer({"burning": "yes", "thigh_pain": "no"})
    with pytest.raises(EvidenceError, match=r"evidence cannot give 'yes' likelihood 0"):
        m.infer({"thigh_pain": {"no": 1.0, "yes": 0.0}})
    for call in (lambda: explain({"thigh_pain": "no"}, "disc", priors=m),
                 lambda: next_questions({"thigh_pain": "no"}, priors=m),
                 lambda: sensitivity({"thigh_pain": "no"}, "disc", priors=m)):
        with pytest.raises(EvidenceError, match="population of these priors"):
            call()


def test_attrs_carry_the_population(m, bare):
    result = m.infer({"burning": "yes"})
    assert result.attrs["population"] == {"evidence": {"thigh_pain": "yes"}, "description": DESCRIPTION}
    assert result.attrs["evidence"] == {"burning": "yes"}
    assert bare.infer({"burning": "yes"}).attrs["population"] == {"evidence": {}, "description": ""}
    batch = infer_batch(pd.DataFrame({"burning": ["yes"]}), priors=m)
    assert batch.attrs["population"] == result.attrs["population"]


def test_population_description_joins_several_rows(tmp_path):
    two = POPULATION + 'cyclist,yes,"who cycle"\n'
    m2 = load_model(write_priors(tmp_path / "p", population=two))
    assert m2.population == {"cyclist": "yes", "thigh_pain": "yes"}  # nodes.csv order
    assert m2.infer({}).attrs["population"]["description"] == f"who cycle; {DESCRIPTION}"
    want = pgmpy_posteriors(m2, {"cyclist": "yes", "thigh_pain": "yes"})
    assert np.abs(m2.prior()[want.index] - want).max() < TOLERANCE


# --- many cases, intervals, sensitivity, explain, next question ---------------------

def test_infer_batch_equals_infer_row_by_row(m):
    cases = pd.DataFrame(CASES[1:]).astype(object)
    cases = cases.where(cases.notna(), None)
    batch = infer_batch(cases, priors=m)
    assert batch.attrs["problems"] == []
    for i, case in enumerate(CASES[1:]):
        one = m.infer(case)["posterior"]
        assert np.abs(batch.loc[i, one.index] - one).max() < TOLERANCE, case
    empty = infer_batch(pd.DataFrame(index=range(2)), priors=m)  # no column at all: the population alone
    assert np.abs(empty.loc[0, m.prior().index] - m.prior()).max() < TOLERANCE


def test_infer_batch_row_that_contradicts_the_population_is_bad_alone(m):
    cases = pd.DataFrame({"thigh_pain": ["no", "yes", None, {"no": 1.0, "yes": 0.0}],
                          "burning": ["yes", "yes", "yes", "yes"]})
    batch = infer_batch(cases, priors=m)
    assert batch.loc[[0, 3]].isna().all().all()
    one = m.infer({"burning": "yes"})["posterior"]
    for row in (1, 2):
        assert np.abs(batch.loc[row, one.index] - one).max() < TOLERANCE
    problems = batch.attrs["problems"]
    assert [p["row"] for p in problems] == [0, 3]
    assert problems[0]["node"] == "thigh_pain"
    assert "the population of these priors is defined by thigh_pain=yes" in problems[0]["problem"]


def test_infer_batch_impossible_row_names_the_population(tmp_path):
    never = NODES.replace("weakness,finding,no|yes,noisy_or", "weakness,finding,no|yes,cpt")
    folder = write_priors(tmp_path / "p", nodes=never)
    (folder / "cpts" / "weakness.csv").write_text(textwrap.dedent("""\
        thigh_pain,weakness,probability,low,high,source,grade
        no,no,0,0,0,test,E
        no,yes,1,1,1,test,E
        yes,no,1,1,1,test,E
        yes,yes,0,0,0,test,E
    """), encoding="utf-8")
    leaks = (folder / "leaks.csv").read_text().replace("weakness,yes,0.05,0.02,0.1,test,E\n", "")
    (folder / "leaks.csv").write_text(leaks)
    links = (folder / "links.csv").read_text().replace("conduction_loss,present,weakness,yes,0.7,0.5,0.8,test,E\n", "")
    (folder / "links.csv").write_text(links)
    nodes = pd.read_csv(folder / "nodes.csv", dtype=str, keep_default_na=False)
    nodes.loc[nodes["node"] == "weakness", "parents"] = "thigh_pain"  # the CPT's parent, not the link's
    nodes.to_csv(folder / "nodes.csv", index=False)
    m2 = load_model(folder)
    with pytest.raises(EvidenceError, match=r"weakness=yes is impossible given thigh_pain=yes"):
        m2.infer({"weakness": "yes"})
    batch = infer_batch(pd.DataFrame({"weakness": ["yes", "no"]}), priors=m2)
    assert batch.loc[0].isna().all() and not batch.loc[1].isna().any()
    assert "weakness='yes' is impossible given thigh_pain='yes'" in batch.attrs["problems"][0]["problem"]


def test_intervals_and_sensitivity_apply_the_population(m, bare):
    evidence = {"burning": "yes", "cyclist": "yes"}
    with_population = m.infer(evidence, interval=0.9, draws=40, seed=3)
    added = bare.infer({**evidence, "thigh_pain": "yes"}, interval=0.9, draws=40, seed=3)
    columns = ["posterior", "median", "low", "high"]
    np.testing.assert_allclose(with_population[columns], added.loc[with_population.index, columns], atol=1e-12)
    batch = infer_batch(pd.DataFrame([evidence]), priors=m, interval=0.9, draws=40, seed=3)
    assert abs(batch.loc[0, ("nerve", "low")] - with_population.loc["nerve", "low"]) < TOLERANCE
    swept = sensitivity(evidence, "nerve", priors=m, points=3)
    reference = sensitivity({**evidence, "thigh_pain": "yes"}, "nerve", priors=bare, points=3)
    pd.testing.assert_frame_equal(swept, reference, check_like=False, atol=1e-12)
    assert swept.attrs["population"]["evidence"] == {"thigh_pain": "yes"}


def test_explain_never_explains_the_population(m):
    evidence = {"burning": "yes", "cyclist": "yes", "thigh_pain": "yes"}
    why = explain(evidence, "nerve", priors=m)
    assert "thigh_pain" not in why.index
    assert set(why.index) == {"burning", "cyclist"}
    assert abs(why.attrs["prior"] - m.prior()["nerve"]) < TOLERANCE
    assert abs(why.attrs["posterior"] - m.infer(evidence).loc["nerve", "posterior"]) < TOLERANCE
    logit = lambda p: math.log(p / (1 - p))  # noqa: E731
    assert abs(why["log_lr"].sum() - (logit(why.attrs["posterior"]) - logit(why.attrs["prior"]))) < 1e-12
    assert why.attrs["population"]["evidence"] == {"thigh_pain": "yes"}


def test_next_questions_offers_neither_population_causes_nor_mechanisms(m, bare):
    ranked = next_questions({"burning": "yes"}, priors=m)
    assert "thigh_pain" not in ranked.index
    roles = set(m.nodes.loc[ranked.index, "role"])
    assert roles <= {"finding", "risk_factor"}
    assert not set(ranked.index) & set(m.causes + m.mechanisms + m.complications)
    reference = next_questions({"burning": "yes", "thigh_pain": "yes"}, priors=bare)
    np.testing.assert_allclose(ranked["info_gain"], reference.loc[ranked.index, "info_gain"], atol=1e-12)
    assert ranked.attrs["evidence"] == {"burning": "yes"}
    assert ranked.attrs["population"]["evidence"] == {"thigh_pain": "yes"}


# --- the priors: save, edit, check -------------------------------------------------

def files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*.csv"))}


def test_save_load_round_trip_is_byte_identical(m, bare, tmp_path):
    first = m.save(tmp_path / "a")
    assert (first / "population.csv").read_text(encoding="utf-8") == POPULATION
    again = load_model(first)
    assert again.priors_digest == m.priors_digest
    assert again.population == m.population
    second = again.save(tmp_path / "b")
    assert files(first) == files(second)
    assert "finding_type" in (first / "nodes.csv").read_text().splitlines()[0]
    # no population: the file has its header only
    assert (bare.save(tmp_path / "c") / "population.csv").read_text(encoding="utf-8") == "node,state,description\n"
    assert bare.priors_digest != m.priors_digest


def test_with_tables_replaces_the_population(m):
    frame = pd.DataFrame({"node": ["cyclist"], "state": ["yes"], "description": ["Cyclists"]})
    cyclists = m.with_tables({"population": frame})
    assert cyclists.population == {"cyclist": "yes"}
    assert cyclists.tables["population"].equals(frame)
    assert cyclists.priors_digest not in (m.priors_digest, m.with_tables({"population": None}).priors_digest)
    assert m.with_tables(m.tables).priors_digest == m.priors_digest
    bad = frame.assign(state=["often"])
    with pytest.raises(PriorsError, match=r"population, row 0, column 'state': 'cyclist' has no state 'often'"):
        m.with_tables({"population": bad})


@pytest.mark.parametrize("rows, pattern", [
    ("thigh_pian,yes,Adults\n", r"population\.csv, line 2, column 'node': unknown node 'thigh_pian'\. "
                                r"Did you mean 'thigh_pain'\?"),
    ("thigh_pain,often,Adults\n", r"population\.csv, line 2, column 'state': 'thigh_pain' has no state 'often'\. "
                                  r".*Its states are no, yes\."),
    ("thigh_pain,yes,Adults\nthigh_pain,yes,Again\n", r"population\.csv, line 3, column 'node': 'thigh_pain' is "
                                                      r"given twice \(first on line 2\)"),
    ("disc,present,Adults\n", r"population\.csv, line 2, column 'node': 'disc' is a cause .*finding or a risk "
                              r"factor"),
    ("thigh_pain,yes,\n", r"population\.csv, line 2, column 'description': is empty"),
])
def test_bad_population_file_is_a_priors_error(tmp_path, rows, pattern):
    folder = write_priors(tmp_path / "p", population="node,state,description\n" + rows)
    with pytest.raises(PriorsError, match=pattern):
        load_model(folder)


def test_every_population_problem_at_once(tmp_path):
    rows = "thigh_pian,yes,Adults\nburning,often,Adults\nburning,yes,Again\nnerve,present,Adults\n"
    folder = write_priors(tmp_path / "p", population="node,state,description\n" + rows)
    with pytest.raises(PriorsError) as info:
        load_model(folder)
    text = "\n".join(info.value.problems)
    for line in (2, 3, 4, 5):
        assert f"population.csv, line {line}" in text


def test_population_file_needs_its_columns(tmp_path):
    folder = write_priors(tmp_path / "p", population="node,value\nthigh_pain,yes\n")
    with pytest.raises(PriorsError, match=r"population\.csv, line 1: missing column 'state'"):
        load_model(folder)


@pytest.mark.parametrize("old, new, pattern", [
    (",Do you cycle?,1,,\n", ",Do you cycle?,1,,symptom\n",
     r"nodes\.csv, line 2, column 'finding_type': 'cyclist' is a risk_factor, not a finding.*Got 'symptom'"),
    (",Is it burning?,1,,symptom\n", ",Is it burning?,1,,symptm\n",
     r"nodes\.csv, line 8, column 'finding_type': must be one of symptom, sign, test, presentation \(or empty\)\. "
     r"Got 'symptm' instead\. Did you mean 'symptom'\?"),
])
def test_bad_finding_type_is_a_priors_error(tmp_path, old, new, pattern):
    folder = write_priors(tmp_path / "p", nodes=NODES.replace(old, new))
    with pytest.raises(PriorsError, match=pattern):
        load_model(folder)


def test_finding_type_column_is_optional(tmp_path, m):
    lines = [line.rsplit(",", 1)[0] for line in NODES.splitlines()]
    plain = load_model(write_priors(tmp_path / "p", nodes="\n".join(lines) + "\n"))
    assert set(plain.nodes["finding_type"]) == {""}
    assert plain.symptoms == ()
    assert "finding_type" not in plain.tables["nodes"].columns  # saved as it was read
    assert plain.with_tables({"nodes": m.tables["nodes"]}).symptoms == m.symptoms


def test_mechanism_rules(tmp_path):
    based = NODES.replace("conduction_loss,mechanism,absent|present,noisy_or", "conduction_loss,mechanism,"
                          "absent|present,base_rate")
    with pytest.raises(PriorsError, match=r"nodes\.csv, line 5, column 'form': 'conduction_loss' is a mechanism.*"
                                          r"must be one of noisy_or, logistic, cpt\. Got 'base_rate'"):
        load_model(write_priors(tmp_path / "a", nodes=based))
    folder = write_priors(tmp_path / "b")
    links = (folder / "links.csv").read_text() + "mri,yes,conduction_loss,present,0.5,0.4,0.6,test,E\n"
    (folder / "links.csv").write_text(links)
    with pytest.raises(PriorsError, match=r"edge mri \(finding\) -> conduction_loss \(mechanism\) goes against "
                                          r"the roles: edges run risk_factor -> cause -> mechanism -> complication "
                                          r"-> finding"):
        load_model(folder)


def test_plot_network_draws_the_mechanism_column(m, no_show):
    from model.plotting import plot_network

    ax = plot_network(m)
    position = {t.get_text(): t.get_position() for t in ax.texts}
    assert "conduction loss" in position and "mechanisms" in position
    x = {node: position[node.replace("_", " ")][0] for node in m.nodes.index}
    assert max(x[c] for c in m.causes) < x["conduction_loss"] < min(x[f] for f in m.findings)
    assert x["conduction_loss"] < x["ces"]


# --- bundled populations, by name ------------------------------------------------------

@pytest.fixture
def bundled_root(tmp_path, monkeypatch):
    """A bundled priors folder with two synthetic populations: primary_care (thigh pain) and specialist (none)."""
    root = tmp_path / "bundled"
    write_priors(root / "primary_care")
    write_priors(root / "specialist", population=None)
    (root / "notes").mkdir()  # no nodes.csv: not a population
    monkeypatch.setattr(model.priors.files, "_bundled_root", lambda: root)
    return root


def test_bundled_populations_are_found_by_name(bundled_root, tmp_path, monkeypatch):
    assert bundled_populations() == ("primary_care", "specialist")
    assert bundled_priors_folder() == bundled_root / "primary_care"
    assert bundled_priors_folder("specialist") == bundled_root / "specialist"
    assert priors_folder("specialist") == bundled_root / "specialist"
    specialist = load_model("specialist")
    assert specialist.population == {} and load_model().population == {"thigh_pain": "yes"}
    assert specialist.priors_digest == load_model(bundled_root / "specialist").priors_digest
    evidence = {"burning": "yes"}
    assert infer(evidence, priors="specialist").equals(specialist.infer(evidence))
    cases = pd.DataFrame({"burning": ["yes", "no"]})
    assert infer_batch(cases, priors="specialist").equals(infer_batch(cases, priors=specialist))
    monkeypatch.chdir(tmp_path)
    shutil.copytree(bundled_root / "primary_care", tmp_path / "specialist")  # an existing folder wins
    assert load_model("specialist").population == {"thigh_pain": "yes"}


def test_unknown_population_name_lists_the_bundled_ones(bundled_root):
    for call in (lambda: load_model("specalist"), lambda: infer({}, priors="specalist"),
                 lambda: infer_batch(pd.DataFrame({"burning": ["yes"]}), priors="specalist"),
                 lambda: bundled_priors_folder("specalist")):
        with pytest.raises(PriorsError, match=r"specalist.*bundled population.*primary_care, specialist"):
            call()


def test_cli_accepts_a_population_name_and_prints_the_population(bundled_root, capsys):
    assert main(["infer", "--priors", "primary_care", "burning=yes"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"Population: {DESCRIPTION} (thigh_pain=yes)"
    assert out[1].split() == ["cause", "posterior", "prior", "lift"]
    assert main(["infer", "--priors", "specialist", "burning=yes"]) == 0
    assert not capsys.readouterr().out.startswith("Population")
    assert main(["infer", "--priors", "primary_care", "thigh_pain=no"]) == 2
    assert "population of these priors is defined by thigh_pain=yes" in capsys.readouterr().err
    assert main(["infer", "--priors", "specalist"]) == 1
    assert "primary_care, specialist" in capsys.readouterr().err
