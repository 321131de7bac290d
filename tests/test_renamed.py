"""Old node and state names (priors/renamed.csv): evidence that uses one is told what replaced it.

The renames are read from the bundled priors folder; these tests point it at a temporary one, so they do not
depend on the renames the bundled file lists.
"""

import textwrap

import pandas as pd
import pytest

import model.priors.files
from model import EvidenceError, PriorsError, infer_batch, load_model
from model.cli import main
from model.priors import read_renamed

RENAMED = textwrap.dedent("""\
    old_node,old_state,new_node,new_state,note
    worse_bending_forward,yes,flexion_effect,worsens,"three states now: relieves, none, worsens"
    sitting_effect,dominant,sitting_effect,severe,
    pain_burning,,burning_quality,,not in these priors
    kept_node,,flexion_effect,,
""")
NODES = textwrap.dedent("""\
    node,role,states,form
    disc,cause,absent|present,base_rate
    flexion_effect,finding,none|relieves|worsens,base_rate
    sitting_effect,finding,none|aggravates|severe,base_rate
    kept_node,finding,no|yes,base_rate
""")
BASE_RATES = textwrap.dedent("""\
    node,state,probability,low,high,source,grade
    disc,present,0.3,0.2,0.4,test,E
    flexion_effect,relieves,0.2,0.1,0.3,test,E
    flexion_effect,worsens,0.3,0.2,0.4,test,E
    sitting_effect,aggravates,0.3,0.2,0.4,test,E
    sitting_effect,severe,0.1,0.05,0.2,test,E
    kept_node,yes,0.5,0.4,0.6,test,E
""")
NODE_MESSAGE = ("unknown node 'worse_bending_forward': renamed in clinical model v2 to flexion_effect "
                "(worse_bending_forward=yes is now flexion_effect=worsens; three states now: relieves, none, "
                "worsens). See priors/renamed.csv.")
STATE_MESSAGE = ("'sitting_effect' has no state 'dominant': renamed in clinical model v2 to sitting_effect=severe. "
                 "See priors/renamed.csv. Its states are none, aggravates, severe.")


@pytest.fixture
def m(tmp_path, monkeypatch):
    """A model of small priors, with the bundled renames pointed at a temporary priors/renamed.csv."""
    root = tmp_path / "bundled"
    folder = root / "primary_care"
    folder.mkdir(parents=True)
    (folder / "nodes.csv").write_text(NODES, encoding="utf-8")
    (folder / "base_rates.csv").write_text(BASE_RATES, encoding="utf-8")
    (root / "renamed.csv").write_text(RENAMED, encoding="utf-8")
    model.priors.upgrade_priors_folder(folder)  # the empty tables and the parents column
    monkeypatch.setattr(model.priors.files, "_bundled_root", lambda: root)
    return load_model(folder)


def test_the_bundled_file_reads():
    table = read_renamed()
    assert list(table.columns) == ["old_node", "old_state", "new_node", "new_state", "note"]
    assert table["old_node"].astype(bool).all() and table["new_node"].astype(bool).all()


def test_read_renamed_gives_text_cells(m):
    table = read_renamed()
    assert table.loc[0].tolist() == ["worse_bending_forward", "yes", "flexion_effect", "worsens",
                                     "three states now: relieves, none, worsens"]
    assert table.loc[2, "old_state"] == "" and table.loc[2, "new_state"] == ""


def test_no_file_is_no_renames(tmp_path):
    table = read_renamed(tmp_path / "renamed.csv")
    assert table.empty and list(table.columns) == ["old_node", "old_state", "new_node", "new_state", "note"]


def test_an_old_node_says_what_replaced_it(m):
    with pytest.raises(EvidenceError) as info:
        m.infer({"worse_bending_forward": "yes"})
    assert str(info.value) == NODE_MESSAGE
    with pytest.raises(EvidenceError, match="renamed in clinical model v2 to flexion_effect"):
        m.states("worse_bending_forward")


def test_an_old_state_says_what_replaced_it(m):
    with pytest.raises(EvidenceError) as info:
        m.infer({"sitting_effect": "dominant"})
    assert str(info.value) == STATE_MESSAGE


def test_every_old_name_at_once(m):
    with pytest.raises(EvidenceError) as info:
        m.infer({"worse_bending_forward": "yes", "sitting_effect": "dominant", "disc": "present"})
    assert str(info.value) == f"2 problems in the evidence:\n  - {NODE_MESSAGE}\n  - {STATE_MESSAGE}"


def test_no_rename_message_when_the_name_is_valid_or_the_new_one_is_not_in_the_model(m):
    assert m.infer({"kept_node": "yes"}).loc["disc", "posterior"] == pytest.approx(0.3)  # the id was kept
    with pytest.raises(EvidenceError) as info:
        m.infer({"pain_burning": "yes"})  # its new name is not a node of these priors
    assert "renamed" not in str(info.value) and str(info.value).startswith("unknown node 'pain_burning'.")
    with pytest.raises(EvidenceError) as info:
        m.infer({"sitting_effect": "dominnt"})
    assert "renamed" not in str(info.value)


def test_infer_batch_columns_and_cells(m):
    with pytest.raises(EvidenceError, match=r"unknown node 'worse_bending_forward' \(a column of cases\): renamed "
                                            r"in clinical model v2 to flexion_effect"):
        infer_batch(pd.DataFrame({"worse_bending_forward": ["yes"]}), priors=m)
    batch = infer_batch(pd.DataFrame({"sitting_effect": ["dominant", "severe"]}), priors=m)
    assert batch.loc[0].isna().all() and not batch.loc[1].isna().any()
    assert batch.attrs["problems"][0]["problem"] == STATE_MESSAGE


def test_cli_says_what_replaced_an_old_name(m, capsys):
    assert main(["infer", "--priors", "primary_care", "worse_bending_forward=yes"]) == 2
    assert NODE_MESSAGE in capsys.readouterr().err


@pytest.mark.parametrize("text, pattern", [
    ("old_node,old_state,new_node,new_state,note\nworse bending,yes,flexion_effect,worsens,\n",
     r"renamed\.csv, line 2, column 'old_node': must be a node name\. Got 'worse bending' instead\."),
    ("old_node,old_state,new_node,new_state,note\na,yes,b,,\na,yes,c,,\n",
     r"renamed\.csv, line 3: a=yes is given twice \(first on line 2\)"),
    ("old_node,old_state,note\na,yes,x\n", r"renamed\.csv, line 1: missing column 'new_node'"),
    ("old_node,old_state,new_node,new_state,note\na,,,,\n",
     r"renamed\.csv, line 2, column 'new_node': must be a node name\. Got an empty cell instead\."),
])
def test_bad_renamed_file_is_a_priors_error(tmp_path, text, pattern):
    path = tmp_path / "renamed.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PriorsError, match=pattern):
        read_renamed(path)


def test_a_header_alone_is_fine(tmp_path):
    path = tmp_path / "renamed.csv"
    path.write_text("old_node,old_state,new_node,new_state,note\n", encoding="utf-8")
    assert read_renamed(path).empty
