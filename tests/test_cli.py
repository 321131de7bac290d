"""The command line: ranked table, red flags, check, and one-line errors with exit code 2."""

import shutil
import subprocess
import sys

import pytest

from model.cli import main
from model.priors import bundled_priors_folder


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def table_lines(out):
    """The lines of an ``infer`` output below its "Population: ..." line (printed when the priors have one)."""
    lines = out.splitlines()
    return lines[1:] if lines and lines[0].startswith("Population: ") else lines


def test_infer_prints_ranked_table(capsys):
    code, out, err = run(capsys, "infer", "crossed_slr_positive=yes", "pain_below_knee=yes")
    assert code == 0, err
    lines = table_lines(out)
    assert lines[0].split() == ["cause", "posterior", "prior", "lift"]
    assert lines[1].split()[0] == "lumbar_disc_herniation"
    assert "not medical advice" in out
    assert "EMERGENCY" not in out


def test_infer_interval_prints_median_low_high_equal_to_the_api(capsys):
    from model import infer

    code, out, err = run(capsys, "infer", "avid_cyclist=yes", "sitting_effect=dominant", "--interval", "0.8",
                         "--draws", "60", "--seed", "3")
    assert code == 0, err
    lines = table_lines(out)
    assert lines[0].split() == ["cause", "posterior", "prior", "lift", "median", "low", "high"]
    expected = infer({"avid_cyclist": "yes", "sitting_effect": "dominant"}, interval=0.8, draws=60, seed=3)
    for line in lines[1:len(expected) + 1]:
        cause, *numbers = line.split()
        assert [float(x) for x in numbers] == pytest.approx(
            expected.loc[cause, ["posterior", "prior", "lift", "median", "low", "high"]].tolist(), abs=5e-5)
    assert "80% credible intervals from 60 draws, seed 3" in out


def test_infer_draws_without_interval_is_refused(capsys):
    code, err = fail(capsys, ["infer", "avid_cyclist=yes", "--seed", "3"])
    assert code == 2 and "--draws and --seed only apply with --interval" in err


def test_infer_shows_emergency_flag_first(capsys):
    code, out, _ = run(capsys, "infer", "saddle_anaesthesia=yes")
    assert code == 0
    assert out.startswith("!!! EMERGENCY RED FLAG: saddle_anaesthesia=yes")


def test_infer_with_priors_folder(capsys, tmp_path):
    folder = tmp_path / "p"
    shutil.copytree(bundled_priors_folder(), folder)
    code, out, _ = run(capsys, "infer", "--priors", str(folder), "avid_cyclist=yes")
    assert code == 0 and "pfcn_neuropathy" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["infer", "pain_burning"], "evidence must be node=state, got 'pain_burning'"),
        (["infer", "pain_burnig=yes"], "unknown node 'pain_burnig'"),
        (["infer", "pain_burning=maybe"], "no state 'maybe'"),
        (["infer", "a=yes", "a=no"], "'a' is given twice"),
        (["frobnicate"], "invalid choice"),
        (["infer", "--bogus"], "unrecognized arguments"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(capsys, argv, message):
    code = None
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    _, err = capsys.readouterr()
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_check_ok_prints_one_line_summary(capsys):
    code, out, _ = run(capsys, "check")
    assert code == 0
    assert out.startswith("OK: ") and len(out.strip().splitlines()) == 1


def test_check_lists_every_problem_and_exits_1(capsys, tmp_path):
    folder = tmp_path / "p"
    shutil.copytree(bundled_priors_folder(), folder)
    links = folder / "links.csv"
    lines = links.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace(",0.", ",x0.", 1)
    lines[2] = lines[2].replace("present", "presnt", 1)
    links.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, _, err = run(capsys, "check", str(folder))
    assert code == 1
    assert "2 problems" in err and "links.csv, line 2" in err and "links.csv, line 3" in err


def test_missing_priors_folder_is_reported(capsys, tmp_path):
    code, _, err = run(capsys, "check", str(tmp_path / "nowhere"))
    assert code == 1 and "no such folder" in err


def test_nodes_lists_questions(capsys):
    code, out, _ = run(capsys, "nodes")
    assert code == 0 and "sitting_effect [finding] none|aggravates|dominant" in out


def test_help_has_examples():
    out = subprocess.run([sys.executable, "-m", "model", "--help"], capture_output=True, text=True, check=False)
    assert out.returncode == 0
    assert "examples:" in out.stdout and "python -m model infer" in out.stdout


def test_module_entry_point_runs_a_diagnosis():
    out = subprocess.run([sys.executable, "-m", "model", "infer", "pain_burning=yes", "low_back_pain=no"],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert table_lines(out.stdout)[0].split() == ["cause", "posterior", "prior", "lift"]
    assert out.stderr == ""


CASES = """case,pain_burning,sitting_effect,avid_cyclist,low_back_pain
p1,yes,dominant,yes,no
p2,,aggravates,,yes
p3,maybe,,no,
p4, no ,none,,
"""


def test_batch_writes_posteriors_beside_case_ids_and_reports_bad_rows_by_line(capsys, tmp_path):
    import pandas as pd

    from model import load_model

    (tmp_path / "cases.csv").write_text(CASES, encoding="utf-8")
    code, _, err = run(capsys, "batch", str(tmp_path / "cases.csv"), "-o", str(tmp_path / "out.csv"))
    assert code == 1
    assert f"{tmp_path / 'cases.csv'}, line 4: 'pain_burning' has no state 'maybe'" in err
    assert "4 cases, 3 computed, 1 bad" in err
    out = pd.read_csv(tmp_path / "out.csv")
    m = load_model()
    assert list(out.columns) == (["case"] + list(m.causes) + list(m.complications)
                                 + ["red_flags", "possible_red_flags", "must_not_miss"])
    assert list(out["case"]) == ["p1", "p2", "p3", "p4"]
    assert out.iloc[2, 1:].isna().all()
    expected = m.infer({"pain_burning": "yes", "sitting_effect": "dominant", "avid_cyclist": "yes",
                        "low_back_pain": "no"})["posterior"]
    for cause, value in expected.items():
        assert out.loc[0, cause] == pytest.approx(value, abs=1e-12)
    assert out.loc[3, "tumour"] == pytest.approx(
        m.infer({"pain_burning": "no", "sitting_effect": "none"}).loc["tumour", "posterior"], abs=1e-12)


def test_batch_without_id_column_numbers_rows_by_line(capsys, tmp_path):
    import pandas as pd

    (tmp_path / "cases.csv").write_text("pain_burning,crossed_slr_positive\nyes,yes\n,no\n", encoding="utf-8")
    code, _, err = run(capsys, "batch", str(tmp_path / "cases.csv"), "-o", str(tmp_path / "out.csv"))
    assert code == 0, err
    assert list(pd.read_csv(tmp_path / "out.csv")["line"]) == [2, 3]


def test_batch_unknown_column_and_unreadable_file_fail_cleanly(capsys, tmp_path):
    (tmp_path / "cases.csv").write_text("case,pain_burnig\np1,yes\n", encoding="utf-8")
    code, err = fail(capsys, ["batch", str(tmp_path / "cases.csv"), "-o", str(tmp_path / "out.csv")])
    assert code == 2 and "pain_burnig" in err and "Traceback" not in err
    assert not (tmp_path / "out.csv").exists()
    try:
        code = main(["batch", str(tmp_path / "missing.csv"), "-o", str(tmp_path / "out.csv")])
    except SystemExit as exit_:
        code = exit_.code
    assert code == 2 and "cannot read" in capsys.readouterr().err


# --- batch --interval, explain, next, validate ------------------------------------------------------
def fail(capsys, argv):
    """Exit code and stderr of a command that should stop with an error."""
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    return code, capsys.readouterr().err


BATCH_EVIDENCE = {
    "pain_burning": ["yes", None, "maybe", "no"],
    "sitting_effect": ["dominant", "aggravates", None, "none"],
    "avid_cyclist": ["yes", None, "no", None],
    "low_back_pain": ["no", "yes", None, None],
}


def test_batch_interval_writes_posterior_median_low_high_per_cause_equal_to_the_api(capsys, tmp_path):
    import pandas as pd

    from model import load_model

    (tmp_path / "cases.csv").write_text(CASES, encoding="utf-8")
    code, _, err = run(capsys, "batch", str(tmp_path / "cases.csv"), "-o", str(tmp_path / "out.csv"),
                       "--interval", "0.8", "--draws", "50", "--seed", "3")
    assert code == 1  # line 4 is bad, the others are kept
    assert "line 4: 'pain_burning' has no state 'maybe'" in err
    assert "80% credible intervals from 50 draws, seed 3" in err
    out = pd.read_csv(tmp_path / "out.csv")
    m = load_model()
    reported = list(m.causes) + list(m.complications)
    assert list(out.columns) == ["case"] + [f"{c}{s}" for c in reported for s in ("", "_median", "_low", "_high")] \
        + ["red_flags", "possible_red_flags", "must_not_miss"]
    expected = m.infer_batch(pd.DataFrame(BATCH_EVIDENCE), interval=0.8, draws=50, seed=3)
    for cause in reported:
        for statistic, suffix in (("posterior", ""), ("median", "_median"), ("low", "_low"), ("high", "_high")):
            column = out[cause + suffix].to_numpy()
            assert column == pytest.approx(expected[(cause, statistic)].to_numpy(), abs=1e-12, nan_ok=True)
    numbers = out.columns[1:-3]  # the flag and must-not-miss columns are empty when a row has none
    assert out.loc[2, numbers].isna().all() and out.loc[[0, 1, 3], numbers].notna().all().all()
    assert (out["tumour_low"] <= out["tumour_high"]).iloc[[0, 1, 3]].all()


def test_batch_interval_is_reproducible_with_the_seed_and_prints_a_seed_when_none_is_given(capsys, tmp_path):
    import re

    (tmp_path / "cases.csv").write_text("pain_burning,avid_cyclist\nyes,yes\nno,\n", encoding="utf-8")

    def batch(name, *seed):
        code, _, err = run(capsys, "batch", str(tmp_path / "cases.csv"), "-o", str(tmp_path / name),
                           "--interval", "0.9", "--draws", "40", *seed)
        assert code == 0, err
        return (tmp_path / name).read_text(encoding="utf-8"), err

    first, _ = batch("a.csv", "--seed", "11")
    assert batch("b.csv", "--seed", "11")[0] == first
    assert "_low" in first.splitlines()[0]
    unseeded, err = batch("c.csv")
    assert batch("d.csv", "--seed", re.search(r"seed (\d+);", err).group(1))[0] == unseeded


@pytest.mark.parametrize(
    "options, message",
    [
        (["--draws", "50"], "--draws and --seed only apply with --interval"),
        (["--seed", "1"], "--draws and --seed only apply with --interval"),
        (["--interval", "1.5"], "argument --interval: must be a number between 0 and 1"),
        (["--interval", "0"], "argument --interval: must be a number between 0 and 1"),
        (["--interval", "ninety"], "argument --interval: must be a number between 0 and 1"),
        (["--interval", "0.9", "--draws", "0"], "argument --draws: must be a whole number >= 1, got '0'"),
        (["--interval", "0.9", "--seed", "-1"], "argument --seed: must be a whole number >= 0, got '-1'"),
    ],
)
def test_batch_interval_options_are_checked_before_anything_runs(capsys, tmp_path, options, message):
    (tmp_path / "cases.csv").write_text(CASES, encoding="utf-8")
    code, err = fail(capsys, ["batch", str(tmp_path / "cases.csv"), "-o", str(tmp_path / "out.csv"), *options])
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out.csv").exists()


def test_batch_help_documents_the_interval_columns(capsys):
    code, out = None, ""
    try:
        main(["batch", "--help"])
    except SystemExit as exit_:
        code, out = exit_.code, capsys.readouterr().out
    assert code == 0
    flat = " ".join(out.split())
    assert "<cause>_median, <cause>_low and <cause>_high" in flat and "--draws" in flat and "--seed" in flat


EXPLAINED = {"avid_cyclist": "yes", "pain_burning": "yes", "sitting_effect": "dominant"}


def test_explain_prints_each_log_lr_equal_to_the_api(capsys):
    import math

    from model import explain

    code, out, err = run(capsys, "explain", "pfcn_neuropathy", *(f"{k}={v}" for k, v in EXPLAINED.items()))
    assert code == 0, err
    expected = explain(EXPLAINED, "pfcn_neuropathy")
    lines = out.splitlines()
    assert lines[0].startswith(f"pfcn_neuropathy: prior {expected.attrs['prior']:.4f} -> posterior "
                               f"{expected.attrs['posterior']:.4f}")
    assert lines[2].split()[:5] == ["evidence", "observed", "log", "LR", "LR"]
    rows = [line.split() for line in lines[3:3 + len(expected)]]
    assert [row[0] for row in rows] == list(expected.index)  # largest |log LR| first, as the API
    for row in rows:
        node, observed, log_lr, lr, direction = row[:5]
        assert observed == expected.loc[node, "observed"] and direction == expected.loc[node, "direction"]
        assert float(log_lr) == pytest.approx(expected.loc[node, "log_lr"], abs=5e-4)
        assert float(lr) == pytest.approx(math.exp(expected.loc[node, "log_lr"]), rel=5e-3)
    total = lines[3 + len(expected)].split()
    assert total[0] == "total" and float(total[1]) == pytest.approx(expected.attrs["log_odds_change"], abs=5e-4)
    assert "Method: exact Shapley values" in out and out.rstrip().endswith("Research model, not medical advice.")
    assert "EMERGENCY" not in out


def test_explain_lists_the_answers_that_would_change_the_top_cause(capsys):
    from model import explain

    evidence = {"buttock_pain": "yes", "sciatic_notch_tenderness": "yes", "low_back_pain": "no",
                "piriformis_provocation_positive": "yes"}
    code, out, _ = run(capsys, "explain", "deep_gluteal_syndrome", *(f"{k}={v}" for k, v in evidence.items()))
    assert code == 0
    expected = explain(evidence, "deep_gluteal_syndrome")
    assert f"answers that change the top cause ({expected.attrs['top_cause']})" in out
    flips = expected["flips_top"][expected["flips_top"] != ""]
    assert len(flips)  # the example must show one
    for node, flip in flips.items():
        assert next(line for line in out.splitlines() if line.startswith(node + " ")).endswith(flip)


def test_explain_shows_the_emergency_flag_first(capsys):
    code, out, _ = run(capsys, "explain", "lumbar_disc_herniation", "pain_below_knee=yes", "saddle_anaesthesia=yes")
    assert code == 0
    assert out.startswith("!!! EMERGENCY RED FLAG: saddle_anaesthesia=yes")
    assert "lumbar_disc_herniation: prior" in out


def test_explain_without_evidence_says_the_posterior_is_the_prior(capsys):
    code, out, _ = run(capsys, "explain", "tumour")
    assert code == 0 and "no evidence: the posterior is the prior." in out


def test_next_prints_the_best_questions_as_the_api_ranks_them(capsys):
    from model import load_model, next_questions

    code, out, err = run(capsys, "next", "pain_burning=yes", "avid_cyclist=yes", "--top", "4")
    assert code == 0, err
    expected = next_questions({"pain_burning": "yes", "avid_cyclist": "yes"})
    lines = out.splitlines()
    assert f"top cause now: {expected.attrs['top_cause']}" in lines[0]
    assert lines[2].startswith("RED-FLAG SCREEN for cauda_equina_syndrome: P(at least one of its causes) = ")
    start = lines.index(next(line for line in lines if line.startswith("#")))
    assert lines[start].split()[:6] == ["#", "node", "bits", "top_shift", "cost", "bits/cost"]
    rows = lines[start + 1:start + 5]
    assert lines[start + 5] == ""  # exactly --top rows
    nodes = load_model().nodes
    for rank, (line, (node, row)) in enumerate(zip(rows, expected.head(4).iterrows()), start=1):
        cells = line.split()
        if row["screen"]:  # the red-flag screen first, marked
            assert cells.pop(1) == "SCREEN"
        assert cells[:2] == [str(rank), node]
        assert float(cells[2]) == pytest.approx(row["info_gain"], abs=5e-4)
        assert float(cells[3]) == pytest.approx(row["expected_change_top"], abs=5e-4)
        assert line.endswith(f"{row['question']} [{'|'.join(nodes.loc[node, 'states'])}]")
    assert f"showing 4 of {len(expected)}" in out and "not medical advice" in out


def test_next_with_a_target_ranks_by_that_cause_and_flags_emergencies(capsys):
    from model import next_questions

    code, out, _ = run(capsys, "next", "saddle_anaesthesia=yes", "--target", "tumour", "--top", "3")
    assert code == 0
    assert out.startswith("!!! EMERGENCY RED FLAG: saddle_anaesthesia=yes")
    assert "about tumour alone" in out
    shown = [[cell for cell in line.split() if cell != "SCREEN"][1]
             for line in out.splitlines() if line[:3].strip() in ("1", "2", "3")]
    assert shown == list(next_questions({"saddle_anaesthesia": "yes"}, target="tumour").index[:3])


@pytest.mark.parametrize(
    "argv, message",
    [
        (["explain", "pfcn"], "unknown cause 'pfcn'"),
        (["explain", "pain_burning=yes"], "the first argument is the cause to explain, got 'pain_burning=yes'"),
        (["explain", "tumour", "pain_burning"], "evidence must be node=state, got 'pain_burning'"),
        (["explain", "tumour", "pain_burning=maybe"], "no state 'maybe'"),
        (["explain", "tumour", "tumour=present"], "the evidence observes 'tumour'"),
        (["next", "pain_burnig=yes"], "unknown node 'pain_burnig'"),
        (["next", "--target", "tumor"], "unknown target 'tumor'. Did you mean 'tumour'?"),
        (["next", "--top", "0"], "argument --top: must be a whole number >= 1"),
        (["validate", "--vignettes", "--bins", "5"], "--vignettes scores the bundled vignettes"),
        (["validate", "cases.csv"], "validate needs CASES.csv and LABELS.csv (or --vignettes)"),
        (["validate", "--bins", "0"], "argument --bins: must be a whole number >= 1"),
    ],
)
def test_new_commands_bad_arguments_give_one_line_and_exit_2(capsys, argv, message):
    code, err = fail(capsys, argv)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


LABELS_BY_ID = """case,lumbar_disc_herniation,pfcn_neuropathy,tumour
p4,0,0,1
p2,1,0,0
p1,0,1,0
p3,1,0,0
"""


def test_validate_prints_the_metrics_of_the_api_matching_labels_by_id(capsys, tmp_path):
    import pandas as pd

    from model import validate

    (tmp_path / "cases.csv").write_text(CASES, encoding="utf-8")
    (tmp_path / "labels.csv").write_text(LABELS_BY_ID, encoding="utf-8")
    code, out, err = run(capsys, "validate", str(tmp_path / "cases.csv"), str(tmp_path / "labels.csv"), "--bins", "4")
    assert code == 1  # one row left out
    assert f"{tmp_path / 'cases.csv'}, line 4: 'pain_burning' has no state 'maybe'" in err
    labels = pd.DataFrame({"lumbar_disc_herniation": [0, 1, 1, 0], "pfcn_neuropathy": [1, 0, 0, 0],
                           "tumour": [0, 0, 0, 1]})  # in the cases' order
    report = validate(pd.DataFrame(BATCH_EVIDENCE), labels, bins=4)
    lines = out.splitlines()
    assert lines[0].split() == ["cause", "n", "prevalence", "auc", "brier", "log_loss", "ece"]
    for line, (cause, row) in zip(lines[1:4], report.metrics.iterrows()):
        cells = line.split()
        assert cells[0] == cause and int(cells[1]) == row["n"] == 3
        for cell, metric in zip(cells[2:], ("prevalence", "auc", "brier", "log_loss", "ece")):
            if cell == "n/a":
                assert pd.isna(row[metric])
            else:
                assert float(cell) == pytest.approx(row[metric], abs=5e-5)
    assert f"top-1 {report.top1:.4f}, top-3 {report.top3:.4f}" in out
    assert "3 cases scored, 1 excluded" in out and "ece over 4 equal-width bins" in out
    assert "not medical advice" in out


def test_validate_without_id_column_matches_labels_by_row_order(capsys, tmp_path):
    import pandas as pd

    from model import validate

    (tmp_path / "cases.csv").write_text("crossed_slr_positive,avid_cyclist\nyes,no\nno,yes\n", encoding="utf-8")
    (tmp_path / "labels.csv").write_text("lumbar_disc_herniation,pfcn_neuropathy\n1,0\n0,1\n", encoding="utf-8")
    code, out, err = run(capsys, "validate", str(tmp_path / "cases.csv"), str(tmp_path / "labels.csv"))
    assert code == 0, err
    report = validate(pd.DataFrame({"crossed_slr_positive": ["yes", "no"], "avid_cyclist": ["no", "yes"]}),
                      pd.DataFrame({"lumbar_disc_herniation": [1, 0], "pfcn_neuropathy": [0, 1]}))
    assert f"top-1 {report.top1:.4f}, top-3 {report.top3:.4f}" in out and "2 cases scored, 0 excluded" in out
    auc = report.metrics.loc["pfcn_neuropathy", "auc"]
    assert next(line for line in out.splitlines() if line.startswith("pfcn_neuropathy")).split()[3] == f"{auc:.4f}"


@pytest.mark.parametrize(
    "cases, labels, message",
    [
        (CASES, LABELS_BY_ID.replace("p4,", "p9,"), "cases without labels: ['p4']; labels without a case: ['p9']"),
        (CASES, LABELS_BY_ID.replace("case,", "id,"), "has no column 'case', the case ids of"),
        (CASES, LABELS_BY_ID.replace("p4,", "p1,"), "every case id ('case') must be given once; line 2 has 'p1'"),
        ("pain_burning\nyes\nno\n", "tumour\n1\n", "has 1 rows but"),
    ],
)
def test_validate_labels_that_do_not_match_the_cases_exit_2(capsys, tmp_path, cases, labels, message):
    (tmp_path / "cases.csv").write_text(cases, encoding="utf-8")
    (tmp_path / "labels.csv").write_text(labels, encoding="utf-8")
    code, err = fail(capsys, ["validate", str(tmp_path / "cases.csv"), str(tmp_path / "labels.csv")])
    assert code == 2 and message in err and "Traceback" not in err


def test_validate_lists_every_bad_label_by_line_and_unknown_causes(capsys, tmp_path):
    (tmp_path / "cases.csv").write_text(CASES, encoding="utf-8")
    (tmp_path / "labels.csv").write_text(LABELS_BY_ID.replace("p2,1,", "p2,yes,").replace("p3,1,0,0", "p3,1,,0"),
                                         encoding="utf-8")
    code, err = fail(capsys, ["validate", str(tmp_path / "cases.csv"), str(tmp_path / "labels.csv")])
    assert code == 2
    assert "2 bad labels in" in err
    assert "line 3, column 'lumbar_disc_herniation': a label must be 0 or 1, got 'yes'" in err
    assert "line 5, column 'pfcn_neuropathy': a label must be 0 or 1, got an empty cell" in err
    (tmp_path / "labels.csv").write_text(LABELS_BY_ID.replace("tumour", "tumor"), encoding="utf-8")
    code, err = fail(capsys, ["validate", str(tmp_path / "cases.csv"), str(tmp_path / "labels.csv")])
    assert code == 2 and "unknown cause 'tumor'" in err and "Did you mean 'tumour'?" in err


def test_validate_vignettes_prints_the_scorecard(capsys):
    from model import vignette_scorecard

    code, out, err = run(capsys, "validate", "--vignettes")
    assert code == 0, err
    card = vignette_scorecard()
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["#", "expected", "cause", "rank"]
    for line, (number, row) in zip(lines[1:], card.iterrows()):
        cells = line.split()
        assert cells[:3] == [str(number), row["expected_cause"], str(row["rank"])]
        assert float(cells[3]) == pytest.approx(row["posterior"], abs=5e-5)
        assert line.endswith(row["title"])
    assert f"expected cause ranked first in {int(card['top1'].sum())} of {len(card)} vignettes." in out


def test_help_lists_the_new_commands_and_cli_imports_stay_lazy():
    out = subprocess.run([sys.executable, "-m", "model", "--help"], capture_output=True, text=True, check=False)
    for example in ("--interval 0.9", "explain pfcn_neuropathy", "next pain_burning=yes", "validate cases.csv",
                    "validate --vignettes"):
        assert example in out.stdout
    code = "import sys, model.cli; print(sorted(m for m in ('pandas', 'model.cli.reports') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
