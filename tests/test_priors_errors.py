"""Every defect in a priors folder gives one PriorsError naming file, line and offending value.

Each test copies the bundled priors to a temporary folder, corrupts one thing
and loads it. Messages are pinned with ``pytest.raises(match=...)``; the
pattern joins file, line and value with ``.*``, which does not cross a line
break, so all three must appear in the *same* problem.
"""

import contextlib
import csv
import io
import re
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.errors import PriorsError
from model.priors import bundled_priors_folder, load_priors, upgrade_priors_folder
from model.priors.tables import Priors

CPT = "cpts/leg_pain_worse_than_back.csv"
PARAMETER_ROW = dict(low="0.1", high="0.9", source="test", grade="E")


# --- helpers ------------------------------------------------------------------
@pytest.fixture
def folder(tmp_path):
    copy = tmp_path / "priors"
    shutil.copytree(bundled_priors_folder(), copy)
    return copy


def read(folder, name):
    with open(folder / name, newline="", encoding="utf-8") as file:
        return list(csv.reader(file))


def write(folder, name, rows):
    (folder / name).parent.mkdir(parents=True, exist_ok=True)
    with open(folder / name, "w", newline="", encoding="utf-8") as file:
        csv.writer(file, lineterminator="\n").writerows(rows)


def line_of(folder, name, **match):
    """The file line (header = 1) of the first row whose cells match."""
    rows = read(folder, name)
    for number, row in enumerate(rows[1:], start=2):
        cells = dict(zip(rows[0], row))
        if all(cells[k] == v for k, v in match.items()):
            return number
    raise LookupError(f"no row {match} in {name}")


def edit(folder, name, line, **cells):
    rows = read(folder, name)
    for column, value in cells.items():
        rows[line - 1][rows[0].index(column)] = value
    write(folder, name, rows)


def append(folder, name, **cells):
    """Add a row (missing cells empty); returns its line."""
    rows = read(folder, name)
    rows.append([cells.get(column, "") for column in rows[0]])
    write(folder, name, rows)
    return len(rows)


def delete(folder, name, *lines):
    rows = read(folder, name)
    write(folder, name, [row for number, row in enumerate(rows, start=1) if number not in lines])


def complete(folder):
    """Add what a hand-made folder leaves out: a header-only file ("none") for each table it has no rows for,
    and the parents column of nodes.csv, filled from its rows and CPT columns."""
    with contextlib.suppress(PriorsError):  # upgrading loads the folder, whose problems the test is about
        upgrade_priors_folder(folder)


def at(*parts):
    """A pattern matching the parts in order within one problem line."""
    return ".*".join(re.escape(str(part)) for part in parts)


def problems(folder):
    with pytest.raises(PriorsError) as info:
        load_priors(folder)
    return info.value.problems


def cell(folder, name, line, column):
    rows = read(folder, name)
    return rows[line - 1][rows[0].index(column)]


def lines_where(folder, name, **match):
    rows = read(folder, name)
    return [number for number, row in enumerate(rows[1:], start=2)
            if all(dict(zip(rows[0], row))[k] == v for k, v in match.items())]


# The rows the tests corrupt, found by content: editing other numbers or rows of the bundled priors does not
# break these tests.
def bundled_line(name, **match):
    return line_of(bundled_priors_folder(), name, **match)


# v2: low_back_pain is a noisy_or finding (its leak is now the small residual); relieved_lying_down is logistic
LINK = bundled_line("links.csv", parent="tumour", child="relieved_lying_down")  # child logistic
NOISY_LINK = bundled_line("links.csv", parent="lumbar_disc_herniation", child="sciatic_notch_tenderness")
LEAK = bundled_line("leaks.csv", node="sciatic_notch_tenderness")  # noisy_or
LOGISTIC_LEAK = bundled_line("leaks.csv", node="relieved_lying_down")
RATE = bundled_line("base_rates.csv", node="avid_cyclist")
AGE_RATES = bundled_line("base_rates.csv", node="age_group", state="under_40"), \
    bundled_line("base_rates.csv", node="age_group", state="60_plus")
TUMOUR_RATE = bundled_line("base_rates.csv", node="tumour")
RISK = bundled_line("risk_factors.csv", risk_factor="cancer_history", cause="tumour")
CYCLIST = bundled_line("nodes.csv", node="avid_cyclist")
TUMOUR = bundled_line("nodes.csv", node="tumour")
CPT_LINE = {(back, disc, leg): bundled_line(CPT, low_back_pain=back, lumbar_disc_herniation=disc,
                                            leg_pain_worse_than_back=leg)
            for back in ("no", "yes") for disc in ("absent", "present") for leg in ("no", "yes")}


# --- missing files ----------------------------------------------------------------
def test_missing_nodes_file(folder):
    (folder / "nodes.csv").unlink()
    with pytest.raises(PriorsError, match=at("nodes.csv: missing file in", folder)) as info:
        load_priors(folder)
    assert len(info.value.problems) == 1  # no flood of 'unknown node' from the other files


def test_missing_links_file(folder):
    (folder / "links.csv").unlink()
    with pytest.raises(PriorsError, match=at("links.csv: missing file in", folder, "needs all of")) as info:
        load_priors(folder)
    assert len(info.value.problems) == 1  # the nodes that need it are not reported again


def test_missing_cpt_file(folder):
    (folder / CPT).unlink()
    line = line_of(folder, "nodes.csv", node="leg_pain_worse_than_back")
    with pytest.raises(PriorsError, match=at(f"nodes.csv, line {line}", "'leg_pain_worse_than_back' has form cpt",
                                             f"no file {CPT}")):
        load_priors(folder)


def test_missing_folder(tmp_path):
    with pytest.raises(PriorsError, match=at(tmp_path / "nowhere", "no such folder")):
        load_priors(tmp_path / "nowhere")


# --- columns and empty files ----------------------------------------------------------
@pytest.mark.parametrize("name, column", [("nodes.csv", "states"), ("leaks.csv", "grade"), ("links.csv", "child"),
                                          ("risk_factors.csv", "relative_risk"), ("base_rates.csv", "low"),
                                          (CPT, "probability")])
def test_missing_column(folder, name, column):
    rows = read(folder, name)
    index = rows[0].index(column)
    write(folder, name, [row[:index] + row[index + 1:] for row in rows])
    with pytest.raises(PriorsError, match=at(f"{name}, line 1: missing column '{column}'")) as info:
        load_priors(folder)
    assert len(info.value.problems) == 1


@pytest.mark.parametrize("name, column, typo", [
    ("nodes.csv", "role", "rol"),
    ("links.csv", "probability", "probabilty"),
    ("leaks.csv", "source", "sources"),
    (CPT, "low_back_pain", "low_back_pian"),
])
def test_misspelt_column(folder, name, column, typo):
    edit(folder, name, 1, **{column: typo})
    with pytest.raises(PriorsError, match=at(f"{name}, line 1", f"'{typo}'", f"Did you mean '{column}'")):
        load_priors(folder)


@pytest.mark.parametrize("name", ["nodes.csv", "links.csv", "leaks.csv", "base_rates.csv", "risk_factors.csv", CPT])
def test_empty_file(folder, name):
    (folder / name).write_text("\n\n", encoding="utf-8")
    with pytest.raises(PriorsError, match=at(f"{name}, line 1: the file is empty")) as info:
        load_priors(folder)
    assert len(info.value.problems) == 1  # not also 'missing file' or 'no rows for ...'


@pytest.mark.parametrize("name", ["nodes.csv", CPT])  # other tables: header only says "none" (test_hardening_priors)
def test_header_only_file(folder, name):
    write(folder, name, read(folder, name)[:1])
    with pytest.raises(PriorsError, match=at(f"{name}, line 1: has a header but no rows")) as info:
        load_priors(folder)
    assert len(info.value.problems) == 1


def test_wrong_number_of_cells(folder):
    with open(folder / "leaks.csv", "a", encoding="utf-8") as file:
        file.write("buttock_pain,yes,0.5\n")
    line = len(read(folder, "leaks.csv"))
    with pytest.raises(PriorsError, match=at(f"leaks.csv, line {line}: 3 cells", "has 7 columns")):
        load_priors(folder)


def test_not_utf8(folder):
    data = (folder / "leaks.csv").read_bytes() + "buttock_pain,yes,0.6,0.4,0.8,café,E\n".encode("latin-1")
    (folder / "leaks.csv").write_bytes(data)
    line = data.count(b"\n")
    with pytest.raises(PriorsError, match=at(f"leaks.csv, line {line}: the file is not valid UTF-8")):
        load_priors(folder)


# --- cells -------------------------------------------------------------------------
BAD_NUMBERS = ["abc", "nan", "NaN", "inf", "-inf", "Infinity", "1_0", "60%", "0,5", "1e999", "0x1", "\u0663", "1/2"]
NUMBER_CELLS = [("links.csv", LINK, "probability"), ("leaks.csv", LOGISTIC_LEAK, "low"),
                ("base_rates.csv", AGE_RATES[1], "high"), ("risk_factors.csv", RISK, "relative_risk"),
                (CPT, CPT_LINE["no", "present", "no"], "probability"), ("nodes.csv", CYCLIST, "cost")]


@pytest.mark.parametrize("name, line, column", NUMBER_CELLS)
@pytest.mark.parametrize("value", BAD_NUMBERS)
def test_not_a_number(folder, name, line, column, value):
    edit(folder, name, line, **{column: value})
    with pytest.raises(PriorsError, match=at(f"{name}, line {line}, column '{column}'", "Got", repr(value))) as info:
        load_priors(folder)
    assert len(info.value.problems) == 1


@pytest.mark.parametrize("name, line, column", [cell for cell in NUMBER_CELLS if cell[2] != "cost"])
def test_empty_number(folder, name, line, column):
    edit(folder, name, line, **{column: ""})
    with pytest.raises(PriorsError, match=at(f"{name}, line {line}, column '{column}'", "Got an empty cell")):
        load_priors(folder)


@pytest.mark.parametrize("value", ["-0.1", "1.5", "-1e-9", "1.0000001"])
@pytest.mark.parametrize("column", ["probability", "low", "high"])
def test_probability_outside_0_1(folder, column, value):
    edit(folder, "links.csv", LINK, **{column: value})
    with pytest.raises(PriorsError, match=at(f"links.csv, line {LINK}, column '{column}'", "between 0 and 1", value)):
        load_priors(folder)


@pytest.mark.parametrize("value", ["0", "-2"])
def test_relative_risk_not_positive(folder, value):
    edit(folder, "risk_factors.csv", RISK, relative_risk=value, low="0")
    with pytest.raises(PriorsError, match=at(f"risk_factors.csv, line {RISK}, column 'relative_risk'", "positive",
                                             value)):
        load_priors(folder)


@pytest.mark.parametrize("low, high", [("0.7", "0.8"), ("0.4", "0.5")])
def test_range_does_not_hold_value(folder, low, high):
    edit(folder, "links.csv", LINK, probability="0.6", low=low, high=high)
    with pytest.raises(PriorsError, match=at(f"links.csv, line {LINK}: the range must hold the value",
                                             f"low {low} <= probability 0.6 <= high {high} does not hold")):
        load_priors(folder)


@pytest.mark.parametrize("grade", ["X", "m", "", "D/E"])
def test_bad_grade(folder, grade):
    edit(folder, "base_rates.csv", RATE, grade=grade)
    with pytest.raises(PriorsError, match=at(f"base_rates.csv, line {RATE}, column 'grade'", "M, D, E", repr(grade))):
        load_priors(folder)


@pytest.mark.parametrize("name, line", [("base_rates.csv", RATE), ("links.csv", NOISY_LINK), ("risk_factors.csv", RISK),
                                        (CPT, CPT_LINE["yes", "present", "yes"])])
def test_empty_source(folder, name, line):
    edit(folder, name, line, source="  ")
    with pytest.raises(PriorsError, match=at(f"{name}, line {line}, column 'source': is empty")):
        load_priors(folder)


# --- full CPT tables ------------------------------------------------------------------
@pytest.mark.parametrize("offset, loads", [(5e-7, True), (-5e-7, True), (2e-6, False), (-2e-6, False), (0.05, False)])
def test_cpt_configuration_sum(folder, offset, loads):
    no, yes = CPT_LINE["no", "absent", "no"], CPT_LINE["no", "absent", "yes"]
    edit(folder, CPT, no, probability=repr(0.3 + offset), low="0", high="1")
    edit(folder, CPT, yes, probability="0.7", low="0", high="1")
    if loads:
        load_priors(folder)
        return
    total = f"{0.3 + offset + 0.7:.10g}"
    assert total != "1"
    with pytest.raises(PriorsError, match=at(f"{CPT}, lines {min(no, yes)}, {max(no, yes)}",
                                             "lumbar_disc_herniation=absent, low_back_pain=no",
                                             f"sum to {total}, not 1")):
        load_priors(folder)


def test_cpt_missing_configuration(folder):
    delete(folder, CPT, CPT_LINE["no", "present", "no"])
    missing = "lumbar_disc_herniation=present, low_back_pain=no for state(s) no"
    with pytest.raises(PriorsError, match=at(CPT, "missing parent configuration", missing)) as info:
        load_priors(folder)
    assert len(info.value.problems) == 1


def test_cpt_duplicated_configuration(folder):
    rows, first = read(folder, CPT), CPT_LINE["no", "absent", "yes"]
    line = append(folder, CPT, **dict(zip(rows[0], rows[first - 1])))
    with pytest.raises(PriorsError, match=at(f"{CPT}, line {line}: duplicated configuration lumbar_disc_herniation="
                                             "absent, low_back_pain=no, leg_pain_worse_than_back=yes",
                                             f"(first on line {first})")) as info:
        load_priors(folder)
    assert len(info.value.problems) == 1


def test_cpt_and_canonical_rows(folder):
    rows = [["pfcn_neuropathy", "pfcn_block_relief", "probability", "low", "high", "source", "grade"]]
    rows += [[cause, state, "0.5", "0.1", "0.9", "test", "E"]
             for cause in ("absent", "present") for state in ("no", "yes")]
    write(folder, "cpts/pfcn_block_relief.csv", rows)
    line = line_of(folder, "nodes.csv", node="pfcn_block_relief")
    form = cell(folder, "nodes.csv", line, "form")  # v2: noisy_or (v1: logistic)
    assert form in ("noisy_or", "logistic")
    with pytest.raises(PriorsError, match=at("cpts/pfcn_block_relief.csv", "'pfcn_block_relief' is defined both",
                                             f"'{form}'", f"line {line}")) as info:
        load_priors(folder)
    assert len(info.value.problems) == 1


def test_cpt_for_unknown_node(folder):
    shutil.copy(folder / CPT, folder / "cpts/leg_pain_worse_than_bak.csv")
    with pytest.raises(PriorsError, match=at("cpts/leg_pain_worse_than_bak.csv", "'leg_pain_worse_than_bak'",
                                             "Did you mean 'leg_pain_worse_than_back'")):
        load_priors(folder)


# --- duplicates ---------------------------------------------------------------------
@pytest.mark.parametrize("name, line, what", [
    ("nodes.csv", TUMOUR, "duplicated node 'tumour'"),
    ("links.csv", NOISY_LINK, "duplicated link for sciatic_notch_tenderness, lumbar_disc_herniation, present, yes"),
    ("base_rates.csv", AGE_RATES[0], "duplicated base rate for age_group, under_40"),
    ("leaks.csv", LEAK, "duplicated leak for sciatic_notch_tenderness, yes"),
    ("risk_factors.csv", RISK, "duplicated relative risk for tumour, cancer_history, yes"),
])
def test_duplicated_row(folder, name, line, what):
    rows = read(folder, name)
    new = append(folder, name, **dict(zip(rows[0], rows[line - 1])))
    with pytest.raises(PriorsError, match=at(f"{name}, line {new}", what, f"first on line {line}")) as info:
        load_priors(folder)
    assert len(info.value.problems) == 1


# --- names ----------------------------------------------------------------------------
@pytest.mark.parametrize("name, line, column, value, hint", [
    ("links.csv", LINK, "parent", "tumor", "unknown node 'tumor'. Did you mean 'tumour'"),
    ("links.csv", LINK, "child", "relieved_lying_dwn",
     "unknown node 'relieved_lying_dwn'. Did you mean 'relieved_lying_down'"),
    ("links.csv", LINK, "child_state", "yess", "'relieved_lying_down' has no state 'yess'. Did you mean 'yes'"),
    ("links.csv", LINK, "parent_state", "absent", "'absent' is the reference state of 'tumour'"),
    ("risk_factors.csv", RISK, "risk_factor", "cancer_histry",
     "unknown node 'cancer_histry'. Did you mean 'cancer_history'"),
    ("risk_factors.csv", RISK, "state", "yse", "'cancer_history' has no state 'yse'. Did you mean 'yes'"),
    ("base_rates.csv", AGE_RATES[0], "state", "under40", "'age_group' has no state 'under40'. Did you mean 'under_40'"),
    ("leaks.csv", LEAK, "node", "sciatic_notch_tendernes", "Did you mean 'sciatic_notch_tenderness'"),
    (CPT, CPT_LINE["no", "present", "no"], "lumbar_disc_herniation", "presnt",
     "'lumbar_disc_herniation' has no state 'presnt'. Did you mean 'present'"),
    (CPT, CPT_LINE["no", "present", "no"], "leg_pain_worse_than_back", "Yes",
     "'leg_pain_worse_than_back' has no state 'Yes'. Did you mean 'yes'"),
])
def test_unknown_node_or_state(folder, name, line, column, value, hint):
    edit(folder, name, line, **{column: value})
    with pytest.raises(PriorsError, match=at(f"{name}, line {line}, column '{column}'", hint)) as info:
        load_priors(folder)
    assert len(info.value.problems) == 1


@pytest.mark.parametrize("cause", ["tumor", ""])
def test_risk_factor_row_for_unknown_cause(folder, cause):
    edit(folder, "risk_factors.csv", RISK, cause=cause)
    with pytest.raises(PriorsError, match=at(f"risk_factors.csv, line {RISK}, column 'cause'",
                                             f"unknown node {cause!r}")):
        load_priors(folder)


def test_a_renamed_node_is_reported_once_per_file_and_column(folder):
    edit(folder, "nodes.csv", TUMOUR, node="tumor")  # still named tumour in base_rates, risk_factors and links
    links = lines_where(folder, "links.csv", parent="tumour")
    assert len(links) > 11
    found = problems(folder)
    # base_rates, risk_factors, links and the parents column of nodes.csv; not also "'tumor' has no rows"
    assert len(found) == 4
    assert any(re.search(at(f"links.csv, line {links[0]}, column 'parent': unknown node 'tumour'",
                            "Did you mean 'tumor'", f"on {len(links) - 1} more line(s): {links[1]}, {links[2]},",
                            "and others"), p) for p in found)


@pytest.mark.parametrize("states, what", [("yes", "fewer than two states ('yes')"),
                                          ("no|yes|no", "repeats a state ('no|yes|no')"),
                                          ("no|a\tb", "'a\\tb' is not a valid state name. A state may be any text "
                                                       "but empty, '|'"),  # a tab; 'a b' is a state
                                          ("no||yes", "'' is not a valid state name")])
def test_bad_states(folder, states, what):
    edit(folder, "nodes.csv", CYCLIST, states=states)
    with pytest.raises(PriorsError, match=at(f"nodes.csv, line {CYCLIST}, column 'states'", what)) as info:
        load_priors(folder)
    assert len(info.value.problems) == 1  # rows naming avid_cyclist are not reported again


@pytest.mark.parametrize("node", ["bad name", "1st", "probability", "é", "a-b"])
def test_invalid_node_name(folder, node):
    line = append(folder, "nodes.csv", node=node, role="finding", states="no|yes", form="cpt")
    with pytest.raises(PriorsError, match=at(f"nodes.csv, line {line}, column 'node'", repr(node),
                                             "not a valid node name")):
        load_priors(folder)


@pytest.mark.parametrize("column, value", [("role", "symptom"), ("form", "noisy-or"), ("emergency_state", "ja")])
def test_bad_role_form_or_emergency_state(folder, column, value):
    line = line_of(folder, "nodes.csv", node="saddle_anaesthesia")
    edit(folder, "nodes.csv", line, **{column: value})
    with pytest.raises(PriorsError, match=at(f"nodes.csv, line {line}, column '{column}'", repr(value))) as info:
        load_priors(folder)
    assert len(info.value.problems) == 1


# --- graph -----------------------------------------------------------------------------
def test_link_from_finding_to_cause(folder):
    edit(folder, "nodes.csv", line_of(folder, "nodes.csv", node="pfcn_neuropathy"), form="logistic",
         parents="saddle_anaesthesia")
    delete(folder, "base_rates.csv", *lines_where(folder, "base_rates.csv", node="pfcn_neuropathy"))
    delete(folder, "risk_factors.csv", *lines_where(folder, "risk_factors.csv", cause="pfcn_neuropathy"))
    append(folder, "leaks.csv", node="pfcn_neuropathy", state="present", probability="0.01",
           **PARAMETER_ROW | {"low": "0"})
    line = append(folder, "links.csv", parent="saddle_anaesthesia", parent_state="yes", child="pfcn_neuropathy",
                  child_state="present", probability="0.5", **PARAMETER_ROW)
    edge = "saddle_anaesthesia (finding) -> pfcn_neuropathy (cause) goes against the roles"
    with pytest.raises(PriorsError, match=at(f"links.csv, line {line}", edge)) as info:
        load_priors(folder)
    assert len(info.value.problems) == 1


def test_risk_factor_row_whose_cause_is_a_risk_factor(folder):
    edit(folder, "nodes.csv", line_of(folder, "nodes.csv", node="vascular_risk"), form="relative_risk")
    line = append(folder, "risk_factors.csv", risk_factor="lumbar_disc_herniation", state="present",
                  cause="vascular_risk", relative_risk="2", **PARAMETER_ROW | {"high": "3"})
    with pytest.raises(PriorsError, match=at(f"risk_factors.csv, line {line}", "lumbar_disc_herniation (cause) -> "
                                             "vascular_risk (risk_factor) goes against the roles")) as info:
        load_priors(folder)
    assert len(info.value.problems) == 1


def test_cycle(tmp_path):
    folder = tmp_path / "cyclic"
    write(folder, "nodes.csv", [["node", "role", "states", "form"], ["a", "cause", "no|yes", "cpt"],
                                ["b", "cause", "no|yes", "cpt"], ["c", "finding", "no|yes", "cpt"]])
    for node, parent in (("a", "b"), ("b", "a"), ("c", "a")):
        write(folder, f"cpts/{node}.csv", [[parent, node, "probability", "low", "high", "source", "grade"]] + [
            [p, s, "0.5", "0.1", "0.9", "test", "E"] for p in ("no", "yes") for s in ("no", "yes")])
    complete(folder)
    with pytest.raises(PriorsError, match=at("cycle in the network: a -> b -> a", "a -> b (cpts/b.csv, line 1",
                                             "b -> a (cpts/a.csv, line 1")) as info:
        load_priors(folder)
    assert len(info.value.problems) == 1


def test_every_cycle_is_reported(tmp_path):
    folder = tmp_path / "cycles"
    write(folder, "nodes.csv", [["node", "role", "states", "form"]] + [[n, "cause", "no|yes", "cpt"] for n in "abcd"])
    for node, parent in (("a", "b"), ("b", "a"), ("c", "d"), ("d", "c")):
        write(folder, f"cpts/{node}.csv", [[parent, node, "probability", "low", "high", "source", "grade"]] + [
            [p, s, "0.5", "0.1", "0.9", "test", "E"] for p in ("no", "yes") for s in ("no", "yes")])
    complete(folder)
    found = problems(folder)
    assert sorted(p.split(".")[0] for p in found) == ["cycle in the network: a -> b -> a",
                                                      "cycle in the network: c -> d -> c"]


def test_without_the_back_edge_the_cyclic_folder_loads(tmp_path):
    """The same folder without the back edge loads: the cycle check is what fails above."""
    folder = tmp_path / "acyclic"
    write(folder, "nodes.csv", [["node", "role", "states", "form"], ["a", "cause", "no|yes", "cpt"],
                                ["b", "cause", "no|yes", "cpt"]])
    write(folder, "cpts/a.csv", [["a", "probability", "low", "high", "source", "grade"],
                                 ["no", "0.5", "0", "1", "t", "E"], ["yes", "0.5", "0", "1", "t", "E"]])
    write(folder, "cpts/b.csv", [["a", "b", "probability", "low", "high", "source", "grade"]] + [
        [p, s, "0.5", "0.1", "0.9", "test", "E"] for p in ("no", "yes") for s in ("no", "yes")])
    complete(folder)
    assert load_priors(folder).node_tables["b"].parents == ("a",)


def test_relative_risks_reach_one(folder):
    edit(folder, "risk_factors.csv", RISK, relative_risk="1000", low="10", high="2000")  # cancer_history -> tumour
    with pytest.raises(PriorsError, match=at("risk_factors.csv, line", f"{RISK}: the relative risks of 'tumour'",
                                             "1 or more", "cancer_history=yes",
                                             f"(base_rates.csv, line {TUMOUR_RATE})")) as info:
        load_priors(folder)
    assert len(info.value.problems) == 1


def test_relative_risk_baseline_of_one(folder):
    edit(folder, "base_rates.csv", TUMOUR_RATE, probability="1", high="1")
    for line in lines_where(folder, "risk_factors.csv", cause="tumour"):  # every risk factor lowers it
        edit(folder, "risk_factors.csv", line, relative_risk="0.5", low="0.1", high="0.9")
    with pytest.raises(PriorsError, match=at(f"base_rates.csv, line {TUMOUR_RATE}: the relative risks of 'tumour'",
                                             "age_group=40_59", "cancer_history=no (product 1)")):
        load_priors(folder)


def test_noisy_or_link_below_leak(folder):
    leak = float(cell(folder, "leaks.csv", LEAK, "probability"))
    edit(folder, "links.csv", NOISY_LINK, probability=repr(leak / 2), low="0")
    with pytest.raises(PriorsError, match=at(f"links.csv, line {NOISY_LINK}, column 'probability'",
                                             f"total {leak / 2:g} is below the leak {leak:g}",
                                             f"(leaks.csv, line {LEAK})", "Set form logistic")) as info:
        load_priors(folder)
    assert len(info.value.problems) == 1


def test_logistic_leak_must_be_inside_0_1(folder):
    edit(folder, "leaks.csv", LOGISTIC_LEAK, probability="1", high="1")
    with pytest.raises(PriorsError, match=at(f"leaks.csv, line {LOGISTIC_LEAK}, column 'probability'",
                                             "strictly between 0 and 1")):
        load_priors(folder)


def test_base_rates_sum_above_one(folder):
    edit(folder, "base_rates.csv", AGE_RATES[0], probability="0.8", low="0", high="0.9")
    edit(folder, "base_rates.csv", AGE_RATES[1], probability="0.3", low="0", high="0.9")
    with pytest.raises(PriorsError, match=at(f"base_rates.csv, lines {min(AGE_RATES)}, {max(AGE_RATES)}",
                                             "'age_group' sum to 1.1, more than 1")):
        load_priors(folder)


def test_missing_leak_row(folder):
    delete(folder, "leaks.csv", LEAK)
    line = line_of(folder, "nodes.csv", node="sciatic_notch_tenderness")
    with pytest.raises(PriorsError, match=at(f"nodes.csv, line {line}", "'sciatic_notch_tenderness'",
                                             "no row in leaks.csv", "yes")):
        load_priors(folder)


def test_ordered_link_increasing(folder):
    lower = line_of(folder, "links.csv", parent="tumour", child="sitting_effect", child_state="aggravates")
    higher = line_of(folder, "links.csv", parent="tumour", child="sitting_effect", child_state="dominant")
    edit(folder, "links.csv", lower, probability="0.4", low="0.1", high="0.9")
    edit(folder, "links.csv", higher, probability="0.6", low="0.1", high="0.9")
    with pytest.raises(PriorsError, match=at(f"links.csv, lines {min(lower, higher)}, {max(lower, higher)}",
                                             "P(>= state) = [0.4, 0.6], which increases along")):
        load_priors(folder)


# --- many problems at once ------------------------------------------------------------------
def test_every_problem_is_reported_at_once(folder):
    edit(folder, "links.csv", LINK, probability="nan")
    edit(folder, "leaks.csv", LOGISTIC_LEAK, grade="Q")
    edit(folder, "nodes.csv", CYCLIST, states="yes")
    no, yes = CPT_LINE["no", "absent", "no"], CPT_LINE["no", "absent", "yes"]
    edit(folder, CPT, no, probability="0.3", low="0", high="1")
    edit(folder, CPT, yes, probability="0.75", low="0", high="1")
    with pytest.raises(PriorsError, match="4 problems") as info:
        load_priors(folder)
    found = info.value.problems
    assert len(found) == 4
    for pattern in (at(f"links.csv, line {LINK}", "'nan'"), at(f"leaks.csv, line {LOGISTIC_LEAK}", "'Q'"),
                    at(f"nodes.csv, line {CYCLIST}", "'yes'"), at(CPT, f"lines {min(no, yes)}, {max(no, yes)}",
                                                                    "sum to 1.05")):
        assert sum(bool(re.search(pattern, p)) for p in found) == 1, pattern


# --- any corruption of any cell: PriorsError, never another exception ---------------------------
NUMERIC = {"probability", "relative_risk", "low", "high", "cost", "action_threshold", "screen_threshold"}
FREE_TEXT = {"label", "question", "source", "description"}
OPTIONAL = {"label", "question", "cost", "emergency_state", "finding_type", "action_threshold", "screen_threshold"}
BUNDLED = sorted(str(p.relative_to(bundled_priors_folder())) for p in
                 [*bundled_priors_folder().glob("*.csv"), *bundled_priors_folder().glob("cpts/*.csv")])


@pytest.fixture(scope="module")
def shared_folder(tmp_path_factory):
    copy = tmp_path_factory.mktemp("corrupt") / "priors"
    shutil.copytree(bundled_priors_folder(), copy)
    return copy


def garbage(column, line):
    """Values a cell may be corrupted to: one per kind of column, and an empty cell."""
    if line == 1:
        return ["x?", ""]
    if column in NUMERIC:
        return ["-1" if line % 2 else "abc", ""]
    return ["x?", ""]


def may_load(column, line, value):
    """Corruptions that are legitimately valid priors (everything else must be a PriorsError)."""
    if line == 1:
        return False
    if column in FREE_TEXT and value:  # free text may say anything, but a source may not be empty
        return True
    return column in OPTIONAL and value == ""


def lines_to_corrupt(rows):
    """The header, the first two and the last data rows, and the first row of each form.

    Every column is damaged on each of these lines. Checks are per column and per kind of row, so these
    lines reach every check a cell can fail; damaging every line of the 436-row links.csv repeated the
    same checks for twenty minutes (the random-damage test below still draws from every line).
    """
    header, last = rows[0], len(rows)
    chosen = {1, 2, 3, last} & set(range(1, last + 1))
    for column in ("form",):
        if column in header:
            index = header.index(column)
            firsts = {}
            for line, row in enumerate(rows[1:], start=2):
                firsts.setdefault(row[index], line)
            chosen |= set(firsts.values())
    return sorted(chosen)


def csv_line(cells):
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    return out.getvalue()


@pytest.mark.parametrize("name", BUNDLED)
def test_corrupting_any_cell_gives_priors_error(shared_folder, name):
    original = (shared_folder / name).read_bytes()
    rows = read(shared_folder, name)
    lines = [csv_line(row) for row in rows]
    header = rows[0]
    wrong = []
    try:
        for line in lines_to_corrupt(rows):
            row = rows[line - 1]
            for index, column in enumerate(header):
                for value in garbage(column, line):
                    if row[index] == value:
                        continue
                    damaged = lines.copy()
                    damaged[line - 1] = csv_line(row[:index] + [value] + row[index + 1:])
                    (shared_folder / name).write_text("".join(damaged), encoding="utf-8")
                    try:
                        priors = load_priors(shared_folder)
                    except PriorsError:
                        continue
                    except Exception as err:  # noqa: BLE001 - the point of the test
                        wrong.append(f"line {line}, column {column!r} = {value!r}: {type(err).__name__}: {err}")
                        continue
                    if not may_load(column, line, value):
                        wrong.append(f"line {line}, column {column!r} = {value!r}: loaded without a problem")
                    elif column == "label" and value == "":
                        node = row[header.index("node")]
                        assert priors.nodes.loc[node, "label"] == ""  # kept empty, so saving reproduces it
    finally:
        (shared_folder / name).write_bytes(original)
    assert not wrong, f"{name}: {len(wrong)} corruption(s) not reported as PriorsError:\n" + "\n".join(wrong[:20])


CELL_TEXT = st.one_of(st.text(max_size=12),
                      st.sampled_from(["", "nan", "-1", "1e999", "x?", "|", "yes", "0", "1", '"']),
                      st.binary(max_size=12).map(lambda b: b.decode("latin-1")))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(BUNDLED), data=st.data())
def test_random_damage_gives_priors_error(shared_folder, name, data):
    original = (shared_folder / name).read_bytes()
    lines = original.split(b"\n")
    kind = data.draw(st.sampled_from(["cell", "insert line", "replace line"]))
    if kind == "cell":
        rows = read(shared_folder, name)
        line = data.draw(st.integers(0, len(rows) - 1))
        index = data.draw(st.integers(0, len(rows[0]) - 1))
        rows[line][index] = data.draw(CELL_TEXT)
        write(shared_folder, name, rows)
    else:
        where = data.draw(st.integers(0, len(lines) - 1))
        junk = data.draw(st.one_of(st.binary(max_size=60), st.text(max_size=60).map(str.encode)))
        lines[where:where + (kind == "replace line")] = [junk]
        (shared_folder / name).write_bytes(b"\n".join(lines))
    try:
        assert isinstance(load_priors(shared_folder), Priors)
    except PriorsError as err:
        assert err.problems
    finally:
        (shared_folder / name).write_bytes(original)
