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


def test_infer_prints_ranked_table(capsys):
    code, out, err = run(capsys, "infer", "crossed_slr_positive=yes", "pain_below_knee=yes")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["cause", "posterior", "prior"]
    assert lines[1].split()[0] == "lumbar_disc_herniation"
    assert "not medical advice" in out
    assert "EMERGENCY" not in out


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
    out, err = capsys.readouterr()
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
    code, out, err = run(capsys, "check", str(folder))
    assert code == 1
    assert "2 problems" in err and "links.csv, line 2" in err and "links.csv, line 3" in err


def test_missing_priors_folder_is_reported(capsys, tmp_path):
    code, _, err = run(capsys, "check", str(tmp_path / "nowhere"))
    assert code == 1 and "no such folder" in err


def test_nodes_lists_questions(capsys):
    code, out, _ = run(capsys, "nodes")
    assert code == 0 and "sitting_effect [finding] none|aggravates|dominant" in out


def test_help_has_examples():
    out = subprocess.run([sys.executable, "-m", "model", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    assert "examples:" in out.stdout and "python -m model infer" in out.stdout


def test_module_entry_point_runs_a_diagnosis():
    out = subprocess.run([sys.executable, "-m", "model", "infer", "pain_burning=yes", "low_back_pain=no"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0].split() == ["cause", "posterior", "prior"]
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
    assert list(out.columns) == ["case"] + list(m.causes) + list(m.complications)
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
    code, _, err = run(capsys, "batch", str(tmp_path / "cases.csv"), "-o", str(tmp_path / "out.csv"))
    assert code == 2 and "pain_burnig" in err and "Traceback" not in err
    assert not (tmp_path / "out.csv").exists()
    try:
        code = main(["batch", str(tmp_path / "missing.csv"), "-o", str(tmp_path / "out.csv")])
    except SystemExit as exit_:
        code = exit_.code
    assert code == 2 and "cannot read" in capsys.readouterr().err
