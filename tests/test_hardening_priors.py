"""Issue 11, the priors part: no silently different model, no lost save, no doubtful priors accepted.

Each test copies the bundled priors (or saves them) into a temporary folder,
damages one thing the way a user or a crash would, and checks that the loader
says what is wrong (file, line, column, value and fix) instead of answering
with another network. Expected values come from the CSV files read here with
the ``csv`` module, never from the loader under test.
"""

from __future__ import annotations

import copy
import csv
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from model import EvidenceError, PriorsError, infer, load_model
from model.priors import bundled_priors_folder, load_priors, upgrade_priors_folder
from model.priors.tables import NAME_LIMIT, TABLE_FILES

BUNDLED = bundled_priors_folder()
REQUIRED = tuple(TABLE_FILES)


# --- helpers ------------------------------------------------------------------
@pytest.fixture
def folder(tmp_path):
    copy_ = tmp_path / "priors"
    shutil.copytree(BUNDLED, copy_)
    return copy_


def read(folder, name):
    with open(folder / name, newline="", encoding="utf-8") as file:
        return list(csv.reader(file))


def write(folder, name, rows):
    with open(folder / name, "w", newline="", encoding="utf-8") as file:
        csv.writer(file, lineterminator="\n").writerows(rows)


def records(folder, name):
    """The rows of a file as dicts with their CSV line (header = line 1)."""
    rows = read(folder, name)
    return [(number, dict(zip(rows[0], row))) for number, row in enumerate(rows[1:], start=2)]


def line_of(folder, name, **match):
    return next(line for line, row in records(folder, name) if all(row[k] == v for k, v in match.items()))


def edit(folder, name, line, **cells):
    rows = read(folder, name)
    for column, value in cells.items():
        rows[line - 1][rows[0].index(column)] = value
    write(folder, name, rows)


def delete(folder, name, *lines):
    write(folder, name, [row for number, row in enumerate(read(folder, name), start=1) if number not in lines])


def append(folder, name, **cells):
    rows = read(folder, name)
    rows.append([cells.get(column, "") for column in rows[0]])
    write(folder, name, rows)
    return len(rows)


def problems(folder):
    with pytest.raises(PriorsError) as info:
        load_priors(folder)
    return info.value.problems


def at(*parts):
    """A pattern matching the parts in order within one problem."""
    return ".*".join(re.escape(str(part)) for part in parts)


def one_matching(found, *parts):
    pattern = re.compile(at(*parts))
    hits = [p for p in found if pattern.search(p)]
    assert hits, f"no problem matches {parts}; got:\n" + "\n".join(found)
    return hits[0]


# --- item 1: every file of the format is required ---------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("name", REQUIRED)
def test_a_missing_file_is_an_error_naming_it(folder, name):
    (folder / name).unlink()
    found = problems(folder)
    one_matching(found, f"{name}: missing file in {folder}", "header line")


def test_missing_risk_factors_no_longer_drops_every_relative_risk(folder):
    """The issue's case: without risk_factors.csv, tumour given cancer history at 60+ fell from 0.141 to 0.0024."""
    (folder / "risk_factors.csv").unlink()
    with pytest.raises(PriorsError, match=at("risk_factors.csv: missing file")):
        infer({"cancer_history": "yes", "age_group": "60_plus"}, priors=folder)


@pytest.mark.slow
@pytest.mark.parametrize("renamed", ["Risk_factors.csv", "risk_factors.csv.bak", "risk_factor.csv"])
def test_a_renamed_file_is_named_in_the_hint(folder, renamed):
    (folder / "risk_factors.csv").rename(folder / renamed)
    one_matching(problems(folder), "risk_factors.csv: missing file", f"There is a '{renamed}'",
                 "rename it to risk_factors.csv")


@pytest.mark.parametrize("name", ["links.csv", "population.csv"])
def test_a_folder_in_place_of_a_file(folder, name):
    (folder / name).unlink()
    (folder / name).mkdir()
    one_matching(problems(folder), f"{name}: is a folder, not a file")


def test_a_folder_in_place_of_a_cpt_file_and_a_file_in_place_of_cpts(folder, tmp_path):
    cpt = folder / "cpts" / "bone_injury.csv"
    cpt.unlink()
    cpt.mkdir()
    one_matching(problems(folder), "cpts/bone_injury.csv: is a folder, not a file")
    shutil.rmtree(folder / "cpts")
    (folder / "cpts").write_text("not a folder")
    one_matching(problems(folder), "cpts: is a file, not a folder")


def test_an_unreadable_file_says_so(folder, monkeypatch):
    real = Path.read_bytes

    def read_bytes(self):
        if self.name == "leaks.csv":
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    one_matching(problems(folder), "leaks.csv: cannot be read (Permission denied)", "permissions")


@pytest.mark.slow
def test_a_header_only_population_means_no_population(folder):
    write(folder, "population.csv", read(folder, "population.csv")[:1])
    priors = load_priors(folder)
    assert priors.population == {}
    assert load_model(folder).infer({}).attrs["population"]["evidence"] == {}


@pytest.mark.slow
def test_a_header_only_risk_factors_file_means_none(folder):
    """Header only = no risk factors: the nodes that list risk factors as parents are then reported."""
    causes = {row["cause"] for _, row in records(folder, "risk_factors.csv")}
    write(folder, "risk_factors.csv", read(folder, "risk_factors.csv")[:1])
    found = problems(folder)
    assert not any("has a header but no rows" in p for p in found)
    reported = {cause for cause in causes if any(f"as a parent of '{cause}'" in p for p in found)}
    assert reported == causes
    # and once no node lists a risk factor as parent, the folder loads
    for line, row in records(folder, "nodes.csv"):
        if row["form"] == "relative_risk":
            edit(folder, "nodes.csv", line, parents="")
    assert load_priors(folder).tables.get("risk_factors") is None


# --- item 2: a deleted row is found ------------------------------------------------------------------
def declared(folder, node):
    return next(row["parents"] for _, row in records(folder, "nodes.csv") if row["node"] == node)


def test_bundled_parents_column_lists_exactly_the_rows(folder):
    """Derived here from the CSVs: a parent by name when every active state has a row, else name=state."""
    states = {row["node"]: row["states"].split("|") for _, row in records(folder, "nodes.csv")}
    acting = {node: {} for node in states}
    for name, p, s, c in (("links.csv", "parent", "parent_state", "child"),
                          ("risk_factors.csv", "risk_factor", "state", "cause")):
        for _, row in records(folder, name):
            acting[row[c]].setdefault(row[p], set()).add(row[s])
    for path in (folder / "cpts").glob("*.csv"):
        header = read(folder, f"cpts/{path.name}")[0]
        for column in header:
            if column in states and column != path.stem:
                acting[path.stem][column] = set(states[column][1:])
    for node in states:
        entries = set()
        for parent, active in acting[node].items():
            if active == set(states[parent][1:]):
                entries.add(parent)
            else:
                entries |= {f"{parent}={s}" for s in active}
        assert set(filter(None, declared(folder, node).split("|"))) == entries, node


def test_a_deleted_link_row_is_reported(folder):
    line = line_of(folder, "links.csv", parent="tumour", child="fever")
    delete(folder, "links.csv", line)
    fever = line_of(folder, "nodes.csv", node="fever")
    found = problems(folder)
    one_matching(found, f"nodes.csv, line {fever}, column 'parents'", "lists tumour as a parent of 'fever'",
                 "links.csv has no row with parent tumour, parent_state present, child fever", "add it back")
    assert len(found) == 1


def test_a_deleted_risk_factor_row_is_reported(folder):
    line = line_of(folder, "risk_factors.csv", risk_factor="cancer_history", cause="tumour")
    delete(folder, "risk_factors.csv", line)
    tumour = line_of(folder, "nodes.csv", node="tumour")
    found = problems(folder)
    one_matching(found, f"nodes.csv, line {tumour}, column 'parents'", "cancer_history", "'tumour'",
                 "risk_factors.csv has no row with risk_factor cancer_history, state yes, cause tumour")
    assert len(found) == 1


def test_a_deleted_row_of_one_state_of_a_multi_state_parent_is_reported(folder):
    line = line_of(folder, "risk_factors.csv", risk_factor="age_group", state="60_plus",
                   cause="lumbar_disc_herniation")
    delete(folder, "risk_factors.csv", line)
    one_matching(problems(folder), "lists age_group as a parent of 'lumbar_disc_herniation'",
                 "no row with risk_factor age_group, state 60_plus")


def test_a_row_of_a_parent_not_listed_is_reported(folder):
    line = append(folder, "links.csv", parent="avid_cyclist", parent_state="yes", child="fever", child_state="yes",
                  probability="0.1", low="0.05", high="0.2", source="test", grade="E")
    fever = line_of(folder, "nodes.csv", node="fever")
    one_matching(problems(folder), f"links.csv, line {line}: avid_cyclist=yes -> fever is not among the parents",
                 f"nodes.csv, line {fever}, column 'parents'", "Add 'avid_cyclist'", "or delete the row")


def test_a_cpt_parent_not_listed_and_a_listed_parent_without_column(folder):
    line = line_of(folder, "nodes.csv", node="crossed_slr_positive")
    cell = declared(folder, "crossed_slr_positive")
    edit(folder, "nodes.csv", line, parents="|".join(filter(None, [*cell.split("|")[1:], "avid_cyclist"])))
    found = problems(folder)
    first = cell.split("|")[0]
    one_matching(found, "cpts/crossed_slr_positive.csv, line 1", f"'{first}' is a parent of 'crossed_slr_positive'",
                 "not among its parents")
    one_matching(found, f"nodes.csv, line {line}, column 'parents'", "lists avid_cyclist as a parent",
                 "cpts/crossed_slr_positive.csv has no column 'avid_cyclist'")


@pytest.mark.parametrize("cell, message", [
    ("tumuor", "'tumuor' is not a node. Did you mean 'tumour'"),
    ("tumour=absent", "'absent' is the reference state of 'tumour'"),
    ("tumour|tumour", "'tumour' is listed twice"),
])
@pytest.mark.slow
def test_a_faulty_parents_cell(folder, cell, message):
    line = line_of(folder, "nodes.csv", node="fever")
    edit(folder, "nodes.csv", line, parents=cell)
    one_matching(problems(folder), f"nodes.csv, line {line}, column 'parents'", message)


@pytest.mark.slow
def test_an_old_folder_without_the_column_is_refused_and_can_be_upgraded(folder):
    rows = read(folder, "nodes.csv")
    index = rows[0].index("parents")
    write(folder, "nodes.csv", [row[:index] + row[index + 1:] for row in rows])
    found = problems(folder)
    assert len(found) == 1
    one_matching(found, "nodes.csv, line 1: missing column 'parents'", "deleted row of links.csv",
                 "upgrade_priors_folder")
    assert upgrade_priors_folder(folder).digest == load_priors(BUNDLED).digest
    assert read(folder, "nodes.csv") == read(BUNDLED, "nodes.csv")


def test_an_old_folder_without_empty_tables_is_upgraded(tmp_path):
    """An earlier version's import: nodes.csv and cpts/ only, no parents column."""
    folder = tmp_path / "old"
    (folder / "cpts").mkdir(parents=True)
    (folder / "nodes.csv").write_text("node,role,states,form\nrain,cause,no|yes,cpt\nwet,finding,no|yes,cpt\n")
    (folder / "cpts" / "rain.csv").write_text("rain,probability,low,high,source,grade\nno,0.8,0.8,0.8,t,E\n"
                                              "yes,0.2,0.2,0.2,t,E\n")
    (folder / "cpts" / "wet.csv").write_text("rain,wet,probability,low,high,source,grade\n"
                                             "no,no,0.9,0.9,0.9,t,E\nno,yes,0.1,0.1,0.1,t,E\n"
                                             "yes,no,0.2,0.2,0.2,t,E\nyes,yes,0.8,0.8,0.8,t,E\n")
    found = problems(folder)
    assert len(found) == 6 and all("upgrade_priors_folder" in p for p in found)  # 5 files, the column
    priors = upgrade_priors_folder(folder)
    assert dict(records(folder, "nodes.csv")[1][1]) == {"node": "wet", "role": "finding", "states": "no|yes",
                                                        "form": "cpt", "parents": "rain"}
    assert read(folder, "risk_factors.csv") == [list(TABLE_FILES["risk_factors.csv"][0])]
    assert priors.node_tables["wet"].values[1, 1] == 0.8


@pytest.mark.slow
def test_a_row_dropped_from_an_edited_table_is_reported(bundled_model):
    links = bundled_model.tables["links"]
    keep = ~((links["parent"] == "tumour") & (links["child"] == "fever"))
    with pytest.raises(PriorsError, match=at("nodes, row", "column 'parents'", "lists tumour as a parent of 'fever'",
                                             "links has no row")):
        bundled_model.with_tables({"links": links[keep]})


@pytest.mark.slow
def test_tables_built_in_code_without_the_column_still_load_and_save_it(bundled_model, tmp_path):
    nodes = bundled_model.tables["nodes"].drop(columns="parents")
    edited = bundled_model.with_tables({"nodes": nodes})
    assert edited.priors_digest == bundled_model.priors_digest
    from model.priors import save_tables

    save_tables({k: v for k, v in bundled_model.tables.items() if k != "nodes"} | {"nodes": nodes}, tmp_path / "out")
    assert read(tmp_path / "out", "nodes.csv") == read(BUNDLED, "nodes.csv")


# --- item 6: results are copies --------------------------------------------------------------------------
@pytest.mark.slow
def test_writing_to_prior_does_not_change_later_results():
    m = load_model()
    before = m.infer({"avid_cyclist": "yes"})
    prior = m.prior()
    prior.iloc[:] = 0.5
    array = prior.to_numpy()
    if array.flags.writeable:  # pandas 2 without copy-on-write hands out the array itself
        array[:] = 0.25
    assert m.prior().equals(before["prior"].reindex(m.prior().index))
    assert m.infer({"avid_cyclist": "yes"}).equals(before)


@pytest.mark.slow
def test_writing_to_nodes_and_tables_does_not_change_the_model(bundled_model):
    before = bundled_model.infer({"fever": "yes"})
    nodes, leaks = bundled_model.nodes, bundled_model.tables["leaks"]
    nodes.loc["fever", "emergency_state"] = "yes"
    leaks.loc[:, "probability"] = 0.9
    assert bundled_model.infer({"fever": "yes"}).equals(before)


# --- item 7: infer(priors=folder) sees every edit ---------------------------------------------------------
@pytest.mark.slow
def test_an_edit_that_keeps_size_and_time_is_seen(folder):
    evidence = {"avid_cyclist": "yes"}
    before = infer(evidence, priors=folder)
    rates = folder / "base_rates.csv"
    stat = rates.stat()
    text = rates.read_text(encoding="utf-8")
    assert "avid_cyclist,yes,0.05,0.02,0.1," in text
    rates.write_text(text.replace("avid_cyclist,yes,0.05,0.02,0.1,", "avid_cyclist,yes,0.07,0.02,0.1,"),
                     encoding="utf-8")
    os.utime(rates, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert rates.stat().st_size == stat.st_size and rates.stat().st_mtime_ns == stat.st_mtime_ns
    after = infer(evidence, priors=folder)
    assert after.attrs["priors_digest"] != before.attrs["priors_digest"]
    assert after.attrs["priors_digest"] == load_model(folder).priors_digest


# --- item 10: a save killed between its renames is recovered --------------------------------------------
KILLER = textwrap.dedent("""\
    import os, signal, sys
    target, stage = sys.argv[1], sys.argv[2]
    real = os.rename

    def rename(source, destination, *args, **kwargs):
        source, destination = os.fspath(source), os.fspath(destination)
        if (stage == "swap" and destination == target) or (stage == "ready" and ".ready-" in destination):
            os.kill(os.getpid(), signal.SIGKILL)  # a real kill: no cleanup, no exception handler runs
        return real(source, destination, *args, **kwargs)

    os.rename = rename
    from model import load_model
    m = load_model().with_parameter("base_rates", node="avid_cyclist", probability=0.07)
    m.save(target, overwrite=True)
""")


def kill_a_save(target, stage):
    """Save changed priors over ``target`` in another process, killed at ``stage``; returns the changed digest."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run([sys.executable, "-c", KILLER, str(target), stage], env=env, capture_output=True,
                          timeout=600)
    assert done.returncode == -9, done.stderr.decode()
    return load_model().with_parameter("base_rates", node="avid_cyclist", probability=0.07).priors_digest


def hidden(parent):
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


@pytest.mark.slow
@pytest.mark.parametrize("recover_by", ["load", "save"])
def test_a_save_killed_between_its_renames_is_completed(bundled_model, tmp_path, recover_by):
    target = tmp_path / "mine"
    bundled_model.save(target)
    changed = kill_a_save(target, "swap")
    assert not target.exists() and hidden(tmp_path)  # what the kill left: the new and the old folder, hidden
    if recover_by == "load":
        assert load_model(target).priors_digest == changed
    else:
        bundled_model.save(target, overwrite=True)
        assert load_model(target).priors_digest == bundled_model.priors_digest
    assert hidden(tmp_path) == []


@pytest.mark.slow
def test_a_save_killed_before_the_swap_leaves_the_old_folder_and_the_next_save_cleans_up(bundled_model,
                                                                                           tmp_path):
    target = tmp_path / "mine"
    bundled_model.save(target)
    kill_a_save(target, "ready")
    assert load_model(target).priors_digest == bundled_model.priors_digest
    assert hidden(tmp_path), "the killed save left its hidden folder"
    bundled_model.save(tmp_path / "other")
    assert any(name.startswith(".mine.") for name in hidden(tmp_path)), "another folder's save leaves it alone"
    bundled_model.save(target, overwrite=True)
    assert hidden(tmp_path) == []


@pytest.mark.slow
def test_a_hidden_folder_left_by_the_old_save_is_restored(bundled_model, tmp_path):
    """The layout the issue found: the target gone, its content only in .NAME.old-XXXXXXXX."""
    bundled_model.save(tmp_path / "mine")
    (tmp_path / "mine").rename(tmp_path / ".mine.old-k2j4h5g6")
    assert load_model(tmp_path / "mine").priors_digest == bundled_model.priors_digest
    assert hidden(tmp_path) == []


def test_saved_files_are_flushed_to_disk(bundled_model, tmp_path, monkeypatch):
    synced = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real(fd))[1])
    bundled_model.save(tmp_path / "out")
    written = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert len(synced) >= len(written) + 2  # every file, the folders and their parent


# --- item 11: hints ignore case; doubtful priors are refused -------------------------------------------
@pytest.mark.parametrize("evidence, hint", [
    ({"PAIN_BURNING": "yes"}, "Did you mean 'pain_burning'"),
    ({"pain_burning": "YES"}, "Did you mean 'yes'"),
    ({"Sitting_Effect": "dominant"}, "Did you mean 'sitting_effect'"),
])
def test_closest_name_hints_ignore_case(bundled_model, evidence, hint):
    with pytest.raises(EvidenceError, match=re.escape(hint)):
        bundled_model.infer(evidence)


def test_priors_hints_ignore_case(folder):
    line = line_of(folder, "nodes.csv", node="fever")
    edit(folder, "nodes.csv", line, role="FINDING")
    one_matching(problems(folder), f"nodes.csv, line {line}, column 'role'", "'FINDING'", "Did you mean 'finding'")


def test_a_cause_used_as_a_risk_factor_is_refused(folder):
    line = append(folder, "risk_factors.csv", risk_factor="lumbar_disc_herniation", state="present",
                  cause="lumbar_spinal_stenosis", relative_risk="2", low="1.5", high="3", source="test", grade="E")
    stenosis = line_of(folder, "nodes.csv", node="lumbar_spinal_stenosis")
    edit(folder, "nodes.csv", stenosis,
         parents=declared(folder, "lumbar_spinal_stenosis") + "|lumbar_disc_herniation")
    found = problems(folder)
    one_matching(found, f"risk_factors.csv, line {line}, column 'risk_factor'", "'lumbar_disc_herniation' is a cause",
                 "not a risk factor")
    assert len(found) == 1


def test_an_emergency_state_equal_to_the_reference_state_is_refused(folder):
    line = line_of(folder, "nodes.csv", node="saddle_anaesthesia")
    edit(folder, "nodes.csv", line, emergency_state="no")
    one_matching(problems(folder), f"nodes.csv, line {line}, column 'emergency_state'",
                 "'no' is the reference (first) state of 'saddle_anaesthesia'", "(yes)")


@pytest.mark.parametrize("column, value", [("label", "Fever\x00"), ("question", "x\x00y")])
def test_a_nul_byte_in_a_text_cell_is_refused(folder, column, value):
    line = line_of(folder, "nodes.csv", node="fever")
    edit(folder, "nodes.csv", line, **{column: value})
    one_matching(problems(folder), f"nodes.csv, line {line}, column '{column}'", "NUL byte")


@pytest.mark.parametrize("name, column, value", [
    ("nodes.csv", "label", "=HYPERLINK(\"http://example.invalid\")"),
    ("nodes.csv", "question", "+1 for yes"),
    ("links.csv", "source", "-see the notes"),
    ("population.csv", "description", "@adults"),
])
@pytest.mark.slow
def test_a_spreadsheet_formula_in_a_text_cell_is_refused(folder, name, column, value):
    line = 2
    edit(folder, name, line, **{column: value})
    one_matching(problems(folder), f"{name}, line {line}, column '{column}'", f"starts with '{value[0]}'",
                 "formula")


def test_a_negative_number_is_not_taken_for_a_formula(folder):
    line = line_of(folder, "leaks.csv", node="fever")
    edit(folder, "leaks.csv", line, low="-0.5")
    found = problems(folder)
    one_matching(found, f"leaks.csv, line {line}, column 'low'", "must be a probability", "-0.5")
    assert not any("formula" in p for p in found)


@pytest.mark.parametrize("length, ok", [(NAME_LIMIT, True), (NAME_LIMIT + 1, False)])
def test_names_longer_than_the_limit_are_refused(folder, length, ok):
    name = "a" * length
    line = append(folder, "nodes.csv", node=name, role="risk_factor", states="no|yes", form="base_rate")
    append(folder, "base_rates.csv", node=name, state="yes", probability="0.1", low="0.05", high="0.2",
           source="test", grade="E")
    if ok:
        assert name in load_priors(folder).nodes.index
    else:
        one_matching(problems(folder), f"nodes.csv, line {line}, column 'node'", f"{length} characters",
                     f"at most {NAME_LIMIT}")


def test_a_state_name_longer_than_the_limit_is_refused(folder):
    line = append(folder, "nodes.csv", node="long_state", role="risk_factor", states="no|" + "y" * (NAME_LIMIT + 1),
                  form="base_rate")
    one_matching(problems(folder), f"nodes.csv, line {line}, column 'states'", f"at most {NAME_LIMIT}")


# --- item 12: evidence in and out --------------------------------------------------------------------
def test_attrs_evidence_is_a_deep_copy(bundled_model):
    soft = {"pain_burning": {"no": 0.2, "yes": 1.0}}
    given = copy.deepcopy(soft)
    result = bundled_model.infer(soft)
    soft["pain_burning"]["yes"] = 0.0
    assert result.attrs["evidence"] == given


@pytest.mark.slow
def test_a_pandas_row_is_accepted_as_evidence(bundled_model):
    cases = pd.DataFrame({"pain_burning": ["yes"], "avid_cyclist": [None], "sitting_effect": ["dominant"],
                          "fever": [float("nan")]})
    row = cases.iloc[0]
    expected = bundled_model.infer({"pain_burning": "yes", "sitting_effect": "dominant"})
    result = bundled_model.infer(row)
    assert result.equals(expected)
    assert result.attrs["evidence"] == {"pain_burning": "yes", "sitting_effect": "dominant"}
    assert infer(row).equals(expected)


def test_a_row_is_numbered_by_the_line_it_starts_on(folder):
    """A quoted cell that spans two lines: a problem in that row is on the line where the row starts, and
    the rows below count the extra line."""
    rows = read(folder, "leaks.csv")
    target = line_of(folder, "leaks.csv", node="fever")
    assert target < len(rows), "fever must not be the last row"
    source, probability = rows[0].index("source"), rows[0].index("probability")
    rows[target - 1][source] = "first line\nsecond line"
    rows[target - 1][probability] = "high"
    rows[target][probability] = "higher"
    write(folder, "leaks.csv", rows)
    text = (folder / "leaks.csv").read_text(encoding="utf-8").splitlines()
    assert text[target - 1].startswith("fever,") and text[target + 1].startswith(rows[target][0] + ",")
    found = problems(folder)
    one_matching(found, f"leaks.csv, line {target}, column 'probability'", "'high'")
    one_matching(found, f"leaks.csv, line {target + 2}, column 'probability'", "'higher'")
