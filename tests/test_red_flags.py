"""Red flags, firm and possible (soft evidence leaning to an emergency state), on every output of a case."""

import csv
import subprocess
import sys
from pathlib import Path

import matplotlib
import pandas as pd
import pytest

import model
from model.cli import main
from model.plotting import plot_comparison, plot_explanation, plot_posteriors

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parents[1]
POPULATIONS = ("primary_care", "specialist")


def _leaning(m, node, towards=True, ratio=10.0):
    """Soft evidence on ``node``: the emergency state ``ratio`` times as likely as every other state (or the reverse)."""
    emergency = m._emergency[node]
    return {s: (1.0 if (s == emergency) == towards else 1.0 / ratio) for s in m.states(node)}


@pytest.fixture(scope="module", params=POPULATIONS)
def m(request):
    return model.load_model(request.param)


def test_every_population_has_emergency_findings(m):
    assert len(m._emergency) >= 3  # saddle anaesthesia, bladder/bowel, progressive weakness


def test_soft_evidence_leaning_to_every_emergency_state_is_a_possible_flag(m):
    for node in m._emergency:
        attrs = m.infer({node: _leaning(m, node)}).attrs
        assert attrs["possible_red_flags"] == [node], node
        assert attrs["red_flags"] == [], node


def test_soft_evidence_leaning_away_or_not_at_all_raises_nothing(m):
    for node in m._emergency:
        for evidence in (_leaning(m, node, towards=False), {s: 1.0 for s in m.states(node)}):
            attrs = m.infer({node: evidence}).attrs
            assert attrs["possible_red_flags"] == [] and attrs["red_flags"] == [], (node, evidence)


def test_a_slight_lean_is_enough(m):
    node = next(iter(m._emergency))
    assert m.infer({node: _leaning(m, node, ratio=1.01)}).attrs["possible_red_flags"] == [node]


def test_hard_evidence_is_a_firm_flag_not_a_possible_one(m):
    for node, state in m._emergency.items():
        attrs = m.infer({node: state}).attrs
        assert attrs["red_flags"] == [node] and attrs["possible_red_flags"] == []


def test_batch_flags_each_row_as_infer_does(m):
    nodes = list(m._emergency)
    rows = [{nodes[0]: _leaning(m, nodes[0])}, {nodes[1]: m._emergency[nodes[1]]},
            {nodes[0]: _leaning(m, nodes[0], towards=False)}, {nodes[2]: list(_leaning(m, nodes[2]).values())}]
    frame = pd.DataFrame([{k: v for k, v in row.items()} for row in rows], index=list("abcd"))
    result = m.infer_batch(frame)
    rows[3] = {nodes[2]: _leaning(m, nodes[2])}  # the same likelihoods as a dict, for infer
    for label, row in zip(frame.index, rows):
        single = m.infer(row).attrs
        assert result.attrs["red_flags"].get(label, []) == single["red_flags"], label
        assert result.attrs["possible_red_flags"].get(label, []) == single["possible_red_flags"], label
    assert result.attrs["possible_red_flags"] == {"a": [nodes[0]], "d": [nodes[2]]}


@pytest.fixture(scope="module")
def primary():
    return model.load_model()


def test_explain_next_questions_explanations_predict_and_compare_carry_the_flags(primary):
    evidence = {"saddle_anaesthesia": {"no": 0.1, "yes": 1.0}, "bladder_bowel_dysfunction": "yes",
                "pain_below_knee": "yes"}
    expected = {"red_flags": ["bladder_bowel_dysfunction"], "possible_red_flags": ["saddle_anaesthesia"]}
    outputs = {
        "explain": model.explain(evidence, "lumbar_disc_herniation", priors=primary).attrs,
        "next_questions": model.next_questions(evidence, priors=primary).attrs,
        "explanations": model.explanations(evidence, priors=primary).attrs,
        "predict": model.predict(evidence, nodes=["mri_lumbar_root_compression"], priors=primary).attrs,
    }
    for name, attrs in outputs.items():
        assert {k: attrs[k] for k in expected} == expected, name
    table = model.compare({"a": primary, "b": primary}, [{"pain_burning": "yes"}, evidence])
    assert table.attrs == {"red_flags": {1: expected["red_flags"]},
                           "possible_red_flags": {1: expected["possible_red_flags"]}}


def test_every_plot_of_a_case_shows_the_flags(primary):
    evidence = {"saddle_anaesthesia": {"no": 0.1, "yes": 1.0}}
    axes = [plot_posteriors(primary.infer(evidence)),
            plot_explanation(model.explain(evidence, "tumour", priors=primary)),
            plot_comparison(model.compare({"a": primary}, evidence))]
    for ax in axes:
        assert "POSSIBLE RED FLAG (uncertain answer): saddle_anaesthesia" in ax.get_title(loc="left")
        matplotlib.pyplot.close(ax.figure)
    quiet = plot_posteriors(primary.infer({"pain_burning": "yes"}))
    assert "RED FLAG" not in quiet.get_title(loc="left")
    matplotlib.pyplot.close(quiet.figure)


SOFT = 'saddle_anaesthesia={"no": 0.1, "yes": 1}'


@pytest.mark.parametrize("argv", [
    ["infer", SOFT],
    ["explain", "tumour", SOFT],
    ["next", SOFT, "--top", "2"],
    ["compare", "primary_care", "specialist", "--given", SOFT],
    ["explanations", SOFT, "--top", "2"],
    ["predict", SOFT, "--nodes", "mri_lumbar_root_compression"],
])
def test_every_cli_command_of_a_case_prints_possible_flags(argv, capsys):
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("!!! POSSIBLE RED FLAG: saddle_anaesthesia"), out[:300]
    assert main([argv[0], *[a.replace(SOFT, "saddle_anaesthesia=yes") for a in argv[1:]]]) == 0
    assert capsys.readouterr().out.startswith("!!! EMERGENCY RED FLAG: saddle_anaesthesia=yes")


def test_cli_soft_evidence_must_be_json(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["infer", "saddle_anaesthesia={no: 0.1}"])
    assert stop.value.code == 2
    assert "JSON object" in capsys.readouterr().err


def test_cli_batch_writes_the_flags_as_columns(tmp_path):
    cases = tmp_path / "cases.csv"
    cases.write_text("id,saddle_anaesthesia,bladder_bowel_dysfunction\nA,yes,yes\nB,,\nC,no,yes\n")
    out = tmp_path / "out.csv"
    done = subprocess.run([sys.executable, "-m", "model", "batch", str(cases), "-o", str(out)], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    rows = {row["id"]: row for row in csv.DictReader(out.open())}
    assert rows["A"]["red_flags"] == "saddle_anaesthesia|bladder_bowel_dysfunction"
    assert rows["B"]["red_flags"] == "" and rows["C"]["red_flags"] == "bladder_bowel_dysfunction"
    assert all(row["possible_red_flags"] == "" for row in rows.values())


def test_batch_lists_must_not_miss_as_infer_does(primary):
    rows = [{"trauma_or_fall": "high_energy", "pain_on_weight_bearing": "yes"}, {"pain_burning": "yes"},
            {"cancer_history": "yes", "age_group": "60_plus", "night_pain": "yes", "unexplained_weight_loss": "yes"}]
    result = primary.infer_batch(pd.DataFrame(rows, index=["fall", "plain", "cancer"]))
    expected = {label: primary.infer(row).attrs["must_not_miss"] for label, row in zip(["fall", "plain", "cancer"], rows)}
    assert result.attrs["must_not_miss"] == {k: v for k, v in expected.items() if v}
    assert "bone_injury" in result.attrs["must_not_miss"]["fall"] and "tumour" in result.attrs["must_not_miss"]["cancer"]
    ranged = primary.infer_batch(pd.DataFrame(rows[:1]), interval=0.8, draws=20, seed=1)
    assert ranged.attrs["must_not_miss"] == {0: expected["fall"]}


@pytest.mark.parametrize("argv, rows", [
    (["explain", "tumour", "pain_burning=yes", SOFT, "--json"], "evidence"),
    (["next", "pain_burning=yes", SOFT, "--json"], "node"),
])
def test_json_of_explain_and_next_carries_the_flags_and_every_row(argv, rows, capsys):
    import json

    assert main(argv) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["possible_red_flags"] == ["saddle_anaesthesia"] and printed["red_flags"] == []
    assert printed["rows"] and all(rows in row for row in printed["rows"])
    if argv[0] == "next":
        evidence = {"pain_burning": "yes", "saddle_anaesthesia": {"no": 0.1, "yes": 1.0}}
        expected = model.next_questions(evidence)
        assert [row["node"] for row in printed["rows"]] == list(expected.index)  # every candidate, in order
        assert printed["screen"][0]["complication"] == "cauda_equina_syndrome"


def test_batch_forms_of_explanations_and_predict_carry_the_flags_as_infer_batch(primary):
    rows = pd.DataFrame({"saddle_anaesthesia": [{"no": 0.1, "yes": 1.0}, "yes", None]}, index=list("abc"))
    expected = primary.infer_batch(rows).attrs
    for result in (model.explanations_batch(rows, priors=primary),
                   model.predict_batch(rows, nodes="mri_lumbar_root_compression", priors=primary)):
        assert result.attrs["red_flags"] == expected["red_flags"] == {"b": ["saddle_anaesthesia"]}
        assert result.attrs["possible_red_flags"] == expected["possible_red_flags"] == {"a": ["saddle_anaesthesia"]}
