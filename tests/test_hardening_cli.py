"""Issue 11, the command line's front door: no silent wrong answer, no traceback, nothing lost.

Each test names the item of issue 11 it guards. The expected numbers come from the model's own
``infer`` on the same evidence (a separator, an id column or a write path must not change them).
"""

import errno
import gzip
import io
import os
import sys
import time
import zipfile
import zlib
from pathlib import Path

import pandas as pd
import pytest

from model import load_model
from model.cli import MAX_DRAWS, main

CASES = "case,pain_burning,sitting_effect,avid_cyclist\np1,yes,dominant,yes\np2,no,,\n"


def run(capsys, *argv):
    """(exit code, stdout, stderr) of ``python -m model ...`` run in-process; parser errors included."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err):
    """The stderr of a failed command is one line, an error, with no traceback."""
    lines = [line for line in err.splitlines() if line.strip()]
    return len(lines) == 1 and "error" in lines[0] and "Traceback" not in err


def expected(evidence):
    """Posteriors of one case from ``infer``: what a batch row must hold."""
    return load_model().infer(evidence)["posterior"]


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


# --- item 3: batch must not overwrite its input; outputs are written atomically -----------------------
@pytest.mark.parametrize("spelling", ["same", "dotted", "hard link"])
def test_batch_refuses_to_write_onto_its_own_input(capsys, tmp_path, monkeypatch, spelling):
    cases = write(tmp_path / "cases.csv", CASES)
    monkeypatch.chdir(tmp_path)
    output = {"same": cases, "dotted": Path(".") / "sub" / ".." / "cases.csv", "hard link": tmp_path / "link.csv"}
    (tmp_path / "sub").mkdir()
    if spelling == "hard link":
        os.link(cases, output[spelling])
    code, _, err = run(capsys, "batch", cases, "-o", output[spelling])
    assert code == 2 and one_line_error(err)
    assert "would overwrite it" in err
    assert cases.read_text(encoding="utf-8") == CASES


def test_batch_onto_a_full_disk_keeps_the_old_output_and_leaves_no_temporary_file(capsys, tmp_path, monkeypatch):
    cases = write(tmp_path / "cases.csv", CASES)
    out = write(tmp_path / "out.csv", "old results\n")
    real = pd.DataFrame.to_csv

    def full(self, target, *args, **kwargs):
        real(self.head(1), target, *args, **kwargs)  # part of the file is written, then the disk is full
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    code, _, err = run(capsys, "batch", cases, "-o", out)
    assert code == 2 and one_line_error(err)
    assert os.strerror(errno.ENOSPC) in err and str(out) in err
    assert out.read_text(encoding="utf-8") == "old results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cases.csv", "out.csv"]


# --- item 4: semicolons, tabs and spreadsheets -------------------------------------------------------
@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_batch_reads_semicolon_tab_and_bar_separated_files_by_their_header(capsys, tmp_path, sep):
    cases = write(tmp_path / "cases.csv", CASES.replace(",", sep))
    code, _, err = run(capsys, "batch", cases, "-o", tmp_path / "out.csv")
    assert code == 0, err
    assert "-separated" in err  # the separator used is said
    out = pd.read_csv(tmp_path / "out.csv")
    assert list(out["case"]) == ["p1", "p2"]
    first = expected({"pain_burning": "yes", "sitting_effect": "dominant", "avid_cyclist": "yes"})
    second = expected({"pain_burning": "no"})
    for cause in first.index:  # not the priors: the observations were read
        assert out.loc[0, cause] == pytest.approx(first[cause], abs=1e-12)
        assert out.loc[1, cause] == pytest.approx(second[cause], abs=1e-12)


def xlsx_bytes():
    """A minimal zip file shaped like a workbook (no spreadsheet library needed)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as book:
        book.writestr("[Content_Types].xml", "<Types/>")
        book.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


@pytest.mark.parametrize("name, data", [("cases.xlsx", xlsx_bytes()), ("cases.csv", xlsx_bytes()),
                                        ("cases.xls", b"\xd0\xcf\x11\xe0" + bytes(60))],
                         ids=["xlsx", "xlsx named .csv", "xls"])
def test_batch_refuses_a_spreadsheet_workbook_saying_how_to_save_it_as_csv(capsys, tmp_path, name, data):
    (tmp_path / name).write_bytes(data)
    code, _, err = run(capsys, "batch", tmp_path / name, "-o", tmp_path / "out.csv")
    assert code == 2 and one_line_error(err)
    assert "workbook" in err and "CSV" in err
    assert not (tmp_path / "out.csv").exists()


def test_cases_are_numbered_by_the_line_they_start_on_blank_lines_and_quoted_newlines_included(capsys, tmp_path):
    text = 'case,pain_burning\np1,yes\n\n"p\n2",maybe\n'  # line 3 blank; the bad case starts on line 4
    cases = write(tmp_path / "cases.csv", text)
    code, _, err = run(capsys, "batch", cases, "-o", tmp_path / "out.csv")
    assert code == 1
    assert f"{cases}, line 4: 'pain_burning' has no state 'maybe'" in err


# --- item 5 and item 12: the id column, unknown headers, extra columns -------------------------------
def test_a_misspelt_first_header_is_an_unknown_column_not_the_case_id(capsys, tmp_path):
    cases = write(tmp_path / "cases.csv", "pain_burnig,avid_cyclist\nyes,yes\n")
    code, _, err = run(capsys, "batch", cases, "-o", tmp_path / "out.csv")
    assert code == 2 and one_line_error(err)
    assert "'pain_burnig' (did you mean 'pain_burning'" in err
    assert not (tmp_path / "out.csv").exists()


def test_a_header_in_other_case_is_not_an_id_and_gets_a_hint(capsys, tmp_path):
    cases = write(tmp_path / "cases.csv", "PAIN_BURNING,avid_cyclist\nyes,yes\n")
    code, _, err = run(capsys, "batch", cases, "-o", tmp_path / "out.csv")
    assert code == 2 and "'PAIN_BURNING' (did you mean 'pain_burning'" in err


def test_a_column_called_id_is_the_case_id_wherever_it_is(capsys, tmp_path):
    cases = write(tmp_path / "cases.csv", "pain_burning,id\nyes,p1\nno,p2\n")
    code, _, err = run(capsys, "batch", cases, "-o", tmp_path / "out.csv")
    assert code == 0, err
    out = pd.read_csv(tmp_path / "out.csv")
    assert list(out.columns[:2]) == ["id", load_model().causes[0]]
    assert list(out["id"]) == ["p1", "p2"]
    tumour = expected({"pain_burning": "yes"})["tumour"]
    assert out.loc[0, "tumour"] == pytest.approx(tumour, abs=1e-12)


def test_id_column_option_names_the_id_and_other_unknown_headers_are_errors(capsys, tmp_path):
    cases = write(tmp_path / "cases.csv", "pain_burning,patient,notes\nyes,p1,seen twice\n")
    code, _, err = run(capsys, "batch", cases, "-o", tmp_path / "out.csv", "--id-column", "patient")
    assert code == 2 and one_line_error(err)
    assert "'notes'" in err and "--ignore-columns" in err and "python -m model nodes" in err
    assert "Model." not in err  # CLI words, not Python's
    code, _, err = run(capsys, "batch", cases, "-o", tmp_path / "out.csv", "--id-column", "patient",
                       "--ignore-columns", "notes")
    assert code == 0, err
    out = pd.read_csv(tmp_path / "out.csv")
    assert list(out["patient"]) == ["p1"] and "notes" not in out.columns
    assert out.loc[0, "tumour"] == pytest.approx(expected({"pain_burning": "yes"})["tumour"], abs=1e-12)


@pytest.mark.parametrize("option, value", [("--id-column", "patiant"), ("--ignore-columns", "note")])
def test_options_naming_a_missing_column_are_refused_with_a_hint(capsys, tmp_path, option, value):
    cases = write(tmp_path / "cases.csv", "patient,pain_burning,notes\np1,yes,x\n")
    code, _, err = run(capsys, "batch", cases, "-o", tmp_path / "out.csv", option, value)
    assert code == 2 and one_line_error(err) and f"{option} {value!r} is not a column" in err and "did you mean" in err


def test_messages_speak_command_line_not_python(capsys):
    code, _, err = run(capsys, "infer", "--priors", "no_such_population_or_folder")
    assert code == 1
    assert "None" not in err and "leave out --priors" in err


# --- item 8: missing folders, folders, full or read-only disks, absurd draws --------------------------
def test_batch_output_into_a_missing_folder_or_onto_a_folder_is_refused_before_any_work(capsys, tmp_path):
    cases = write(tmp_path / "cases.csv", CASES)
    code, _, err = run(capsys, "batch", cases, "-o", tmp_path / "missing" / "out.csv")
    assert code == 2 and one_line_error(err) and "does not exist" in err
    assert not (tmp_path / "missing").exists()
    code, _, err = run(capsys, "batch", cases, "-o", tmp_path)
    assert code == 2 and one_line_error(err) and "is a folder" in err


@pytest.mark.parametrize("argv", [["infer", "--interval", "0.9", "--draws", "99999999999"],
                                  ["batch", "cases.csv", "-o", "out.csv", "--interval", "0.9", "--draws",
                                   "99999999999"]])
def test_absurd_draws_are_refused_in_one_line_naming_the_limit(capsys, argv):
    code, _, err = run(capsys, *argv)
    assert code == 2 and one_line_error(err)
    assert f"at most {MAX_DRAWS}" in err and "MAX_DRAWS" in err


def test_absurd_draws_in_the_api_are_refused_quickly_with_how_to_raise_the_limit():
    from model.analysis import intervals

    assert intervals.MAX_DRAWS == MAX_DRAWS  # the command line's copy of the limit
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"draws must be at most 20,000 .*model\.analysis\.intervals\.MAX_DRAWS"):
        load_model().infer({"avid_cyclist": "yes"}, interval=0.9, draws=99_999_999_999)
    assert time.perf_counter() - start < 30  # refused, not attempted (the attempt needs terabytes)


@pytest.fixture
def full_disk(monkeypatch, tmp_path):
    """Every file opened for writing under ``tmp_path`` fails: no space left (or, with EROFS, read-only)."""
    real = open
    state = {"errno": errno.ENOSPC}

    def guarded(file, mode="r", *args, **kwargs):
        if any(c in mode for c in "wax+") and str(file).startswith(str(tmp_path)):
            raise OSError(state["errno"], os.strerror(state["errno"]), str(file))
        return real(file, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", guarded)
    return state


ASIA = Path(__file__).parent / "data" / "bnlearn" / "asia.bif.gz"


@pytest.mark.parametrize("code_", [errno.ENOSPC, errno.EROFS])
def test_import_onto_a_full_or_read_only_disk_fails_in_one_line_and_keeps_the_old_folder(
        capsys, tmp_path, full_disk, code_):
    full_disk["errno"] = code_
    target = tmp_path / "imported"
    code, _, err = run(capsys, "import", ASIA, target)
    assert code == 2 and one_line_error(err) and os.strerror(code_) in err
    assert not target.exists() or not any(target.iterdir())
    target.mkdir(exist_ok=True)
    (target / "keep.txt").write_bytes(b"old")  # Path.write_bytes opens with io.open: allowed
    code, _, err = run(capsys, "import", ASIA, target, "--overwrite")
    assert code == 2 and one_line_error(err)
    assert (target / "keep.txt").read_bytes() == b"old"


# --- item 9: hostile network files -------------------------------------------------------------------
def gzip_bomb(path, megabytes):
    """A .bif.gz that unpacks to ``megabytes`` MB of spaces (about a thousandth of that on disk)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip framing
    chunk = b" " * 1_000_000
    with open(path, "wb") as handle:
        for _ in range(megabytes):
            handle.write(packer.compress(chunk))
        handle.write(packer.flush())
    return path


def test_import_refuses_a_gzip_bomb_saying_the_limit_and_how_to_raise_it(capsys, tmp_path):
    from model.interop import MAX_MEGABYTES

    bomb = gzip_bomb(tmp_path / "bomb.bif.gz", MAX_MEGABYTES + 1)
    assert bomb.stat().st_size < 100_000
    code, _, err = run(capsys, "import", bomb, tmp_path / "out")
    assert code == 2 and one_line_error(err)
    assert f"more than the limit of {MAX_MEGABYTES} MB of text" in err and "--max-megabytes" in err
    assert not (tmp_path / "out").exists()
    code, _, err = run(capsys, "import", gzip_bomb(tmp_path / "small.bif.gz", 2), tmp_path / "out",
                       "--max-megabytes", "1")
    assert code == 2 and "more than the limit of 1 MB" in err


def xmlbif(variables, tables):
    """An XMLBIF text: ``variables`` {name: states}, ``tables`` {name: (parents, numbers as text)}."""
    parts = ['<?xml version="1.0"?>', '<BIF VERSION="0.3"><NETWORK><NAME>hostile</NAME>']
    for name, states in variables.items():
        parts.append(f"<VARIABLE TYPE='nature'><NAME>{name}</NAME>" + "".join(f"<OUTCOME>{s}</OUTCOME>" for s in states)
                     + "</VARIABLE>")
    for name, (parents, table) in tables.items():
        parts.append(f"<DEFINITION><FOR>{name}</FOR>" + "".join(f"<GIVEN>{p}</GIVEN>" for p in parents)
                     + f"<TABLE>{table}</TABLE></DEFINITION>")
    return "\n".join(parts + ["</NETWORK></BIF>"])


def uniform(states, configurations=1):
    return " ".join([f"{1 / states!r}"] * (states * configurations))


def test_import_refuses_a_variable_with_too_many_states(capsys, tmp_path):
    from model.interop import MAX_STATES

    states = [f"s{i}" for i in range(MAX_STATES + 1)]
    path = write(tmp_path / "wide.xmlbif", xmlbif({"X": states}, {"X": ((), uniform(len(states)))}))
    code, _, err = run(capsys, "import", path, tmp_path / "out")
    assert code == 2 and one_line_error(err)
    assert f"'X' has {MAX_STATES + 1:,} states, more than the limit of {MAX_STATES:,}" in err
    assert "--max-states" in err and "max_states=N" in err


def test_import_refuses_tables_above_the_entry_limit_with_how_to_raise_it(capsys, tmp_path):
    # 2 x 30 x 30 = 1,800 numbers in B's table, 2 + 30 + 1,800 = 1,832 in all: above a limit of 1,000, below the default
    variables = {"A": ["a0", "a1"], "C": [f"c{i}" for i in range(30)], "B": [f"b{i}" for i in range(30)]}
    tables = {"A": ((), "0.5 0.5"), "C": ((), uniform(30)), "B": (("A", "C"), uniform(30, 60))}
    path = write(tmp_path / "big.xmlbif", xmlbif(variables, tables))
    code, _, err = run(capsys, "import", path, tmp_path / "out", "--max-entries", "1000")
    assert code == 2 and one_line_error(err)
    assert "hold 1,832 numbers ('B' alone 1,800), more than the limit of 1,000" in err and "--max-entries" in err
    code, out, err = run(capsys, "import", path, tmp_path / "out")
    assert code == 0, err


class Counted(str):
    """A state name that counts how often it is compared for equality (a quadratic check compares n^2 times)."""

    comparisons = 0

    def __eq__(self, other):
        Counted.comparisons += 1
        return str.__eq__(self, other)

    __hash__ = str.__hash__


def test_the_import_checks_of_many_states_are_linear():
    import warnings

    from model.interop import network_to_tables

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgmpy.factors.discrete import TabularCPD
        from pgmpy.models import DiscreteBayesianNetwork

    n = 3000
    states = [Counted(f"s{i}") for i in range(n)]
    network = DiscreteBayesianNetwork()
    network.add_node("X")
    network.add_cpds(TabularCPD("X", n, [[1 / n]] * n, state_names={"X": states}))
    Counted.comparisons = 0
    tables = network_to_tables(network, source="wide.xmlbif")
    assert len(tables["cpts/X"]) == n
    assert Counted.comparisons < 20 * n  # a repeated-state check by list.count would make about n^2 = 9e6


# --- item 15: --priors and bundled names on every command that reads priors ----------------------------
def test_compare_takes_bundled_population_names_and_priors_as_the_reference(capsys):
    code, out, err = run(capsys, "compare", "primary_care", "specialist", "--given", "avid_cyclist=yes")
    assert code == 0, err
    code2, out2, err2 = run(capsys, "compare", "specialist", "--priors", "primary_care", "--given", "avid_cyclist=yes")
    assert code2 == 0, err2
    assert out2 == out
    header = out.splitlines()[0].split()
    assert header[:3] == ["variant", "primary_care", "specialist"]
    cyclist = {"avid_cyclist": "yes"}
    line = next(line for line in out.splitlines() if line.startswith("pfcn_neuropathy "))
    first, second = (load_model(p).infer(cyclist).loc["pfcn_neuropathy", "posterior"]
                     for p in ("primary_care", "specialist"))
    assert [float(x) for x in line.split()[1:]] == pytest.approx([first, second, second - first], abs=6e-5)


def test_export_reads_priors_from_the_option_or_a_bundled_name(capsys, tmp_path, monkeypatch):
    import model.interop

    written = []
    monkeypatch.setattr(model.interop, "write_network", lambda network, path, **kw: written.append(
        (len(network.nodes()), kw["roles"])))
    code, out, err = run(capsys, "export", "--priors", "specialist", tmp_path / "s.xmlbif")
    assert code == 0, err
    assert "from specialist" in out and load_model("specialist").priors_digest in out
    assert written[0][1] == load_model("specialist").nodes["role"].to_dict()
    code, _, err = run(capsys, "export", "specialist", "--priors", "primary_care", tmp_path / "s.xmlbif")
    assert code == 2 and one_line_error(err)


# --- item 16: progress of long interval runs --------------------------------------------------------
def test_intervals_show_progress_when_asked_whatever_the_size(capsys):
    from model.analysis.intervals import posterior_intervals

    cases = pd.DataFrame({"avid_cyclist": ["yes", "no"]})
    posterior_intervals(load_model(), cases, draws=20, seed=1, progress=True)
    err = capsys.readouterr().err
    assert "intervals" in err and "case-draw" in err and "40/40" in err


# --- item 17: plotting without matplotlib -----------------------------------------------------------
def test_plotting_without_matplotlib_says_which_extra_to_install(monkeypatch):
    from model import infer
    from model.plotting import plot_posteriors

    result = infer({"avid_cyclist": "yes"})
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails as if not installed
    with pytest.raises(ImportError, match=r'pip install "thighpain-bayesnet\[plot\]".*pip install "\.\[plot\]"'):
        plot_posteriors(result)


def test_pyproject_has_the_plot_extra_the_message_names():
    tomllib = pytest.importorskip("tomllib")

    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    assert any(d.startswith("matplotlib") for d in pyproject["project"]["optional-dependencies"]["plot"])
    assert pyproject["project"]["name"] == "thighpain-bayesnet"
    assert any(d.startswith("tqdm") for d in pyproject["project"]["dependencies"])  # the progress bar


def test_an_old_folder_is_refused_with_the_command_that_upgrades_it(capsys, tmp_path):
    import shutil

    from model.priors import bundled_priors_folder

    old = tmp_path / "old"
    shutil.copytree(bundled_priors_folder(), old)
    nodes = pd.read_csv(old / "nodes.csv", dtype=str, keep_default_na=False)
    nodes.drop(columns="parents").to_csv(old / "nodes.csv", index=False)  # as saved before the column existed
    code, out, err = run(capsys, "check", str(old))
    assert code == 1
    assert "python -m model upgrade DIR" in err and "upgrade_priors_folder" not in err
    code, out, err = run(capsys, "upgrade", str(old))
    assert code == 0 and out.startswith("OK:")
    assert load_model(old).priors_digest == load_model().priors_digest  # the same network as before
