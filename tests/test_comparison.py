"""compare(): posteriors of several priors variants side by side, and the `compare` command."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model import EvidenceError, PriorsError, compare, load_model
from model.cli import main
from model.priors import bundled_priors_folder

COLUMNS = ["case", "variant", "cause", "posterior", "prior", "difference"]
BURNING = {"pain_burning": "yes"}
CASES = [
    {},
    {"pain_burning": "yes", "avid_cyclist": "yes", "sitting_effect": "dominant"},
    {"crossed_slr_positive": "yes", "pain_below_knee": "yes"},
    {"pain_burning": {"no": 0.3, "yes": 1.0}, "saddle_anaesthesia": "yes"},
]


@pytest.fixture(scope="module")
def stronger(bundled_model):
    """A variant where PFCN neuropathy makes burning pain more likely."""
    return bundled_model.with_parameter("links", parent="pfcn_neuropathy", child="pain_burning",
                                        probability=0.85, high=0.95)


@pytest.fixture(scope="module")
def folders(tmp_path_factory, bundled_model, stronger):
    root = tmp_path_factory.mktemp("variants")
    bundled_model.save(root / "base")
    stronger.save(root / "variant")
    return root


def test_columns_and_shape_for_one_case(bundled_model, stronger, reported_nodes):
    table = compare({"bundled": bundled_priors_folder(), "stronger": stronger}, BURNING)
    assert list(table.columns) == COLUMNS
    assert len(table) == 2 * len(reported_nodes)
    assert set(table["case"]) == {0}
    assert list(table["variant"].unique()) == ["bundled", "stronger"]
    for _, rows in table.groupby("variant"):
        assert sorted(rows["cause"]) == sorted(reported_nodes)
    assert table["case"].dtype.kind == "i"
    assert all(table[c].dtype == np.float64 for c in ("posterior", "prior", "difference"))


def test_folder_as_str_or_path_and_model_agree(bundled_model, folders):
    by_model = compare({"a": bundled_model}, BURNING)
    by_path = compare({"a": folders / "base"}, BURNING)
    by_str = compare({"a": str(folders / "base")}, BURNING)
    pd.testing.assert_frame_equal(by_model, by_path)
    pd.testing.assert_frame_equal(by_model, by_str)


def test_difference_is_zero_for_first_and_posterior_gap_for_second(bundled_model, stronger):
    table = compare({"bundled": bundled_model, "stronger": stronger}, CASES)
    first = table[table["variant"] == "bundled"]
    assert (first["difference"] == 0.0).all()
    wide = table.pivot(index=["case", "cause"], columns="variant", values="posterior")
    second = table[table["variant"] == "stronger"].set_index(["case", "cause"])["difference"]
    expected = (wide["stronger"] - wide["bundled"]).loc[second.index]
    np.testing.assert_array_equal(second.to_numpy(), expected.to_numpy())
    pfcn = second.xs("pfcn_neuropathy", level="cause")
    assert pfcn.loc[1] > 0 and pfcn.loc[3] > 0  # burning pain observed: the stronger link raises PFCN
    # pain_burning unobserved: its table does not matter, every difference vanishes
    np.testing.assert_allclose(second.loc[[0, 2]].to_numpy(), 0.0, atol=1e-12)


def test_each_variant_equals_model_infer(bundled_model, stronger, folders):
    variants = {"bundled": bundled_model, "stronger": stronger, "saved": folders / "variant"}
    table = compare(variants, CASES)
    models = {"bundled": bundled_model, "stronger": stronger, "saved": load_model(folders / "variant")}
    for number, case in enumerate(CASES):
        for name, model in models.items():
            rows = table[(table["case"] == number) & (table["variant"] == name)].set_index("cause")
            expected = model.infer(case)
            assert len(rows) == len(expected)
            np.testing.assert_allclose(rows["posterior"], expected.loc[rows.index, "posterior"], rtol=0, atol=1e-12)
            np.testing.assert_allclose(rows["prior"], model.prior().loc[rows.index], rtol=0, atol=1e-12)
    saved = table[table["variant"] == "saved"].reset_index(drop=True)
    same = table[table["variant"] == "stronger"].reset_index(drop=True)
    pd.testing.assert_series_equal(saved["posterior"], same["posterior"])


def test_list_of_cases(bundled_model, stronger, reported_nodes):
    table = compare({"a": bundled_model, "b": stronger}, CASES)
    assert list(table["case"].unique()) == list(range(len(CASES)))
    assert table.groupby(["case", "variant"]).size().eq(len(reported_nodes)).all()
    assert list(table[["case", "variant"]].drop_duplicates().itertuples(index=False, name=None)) == [
        (n, v) for n in range(len(CASES)) for v in ("a", "b")]
    one = compare({"a": bundled_model, "b": stronger}, CASES[1])
    pd.testing.assert_frame_equal(
        table[table["case"] == 1].drop(columns="case").reset_index(drop=True), one.drop(columns="case"))


def test_tuple_and_generator_of_cases(bundled_model):
    expected = compare({"a": bundled_model}, CASES[:2])
    pd.testing.assert_frame_equal(compare({"a": bundled_model}, tuple(CASES[:2])), expected)
    pd.testing.assert_frame_equal(compare({"a": bundled_model}, (c for c in CASES[:2])), expected)


def test_causes_in_the_same_order_for_every_variant(bundled_model, stronger):
    table = compare({"a": bundled_model, "b": stronger}, CASES)
    for _, rows in table.groupby("case"):
        orders = [list(r["cause"]) for _, r in rows.groupby("variant", sort=False)]
        assert orders[0] == orders[1]
        first = rows[rows["variant"] == "a"]["posterior"].to_numpy()
        assert (np.diff(first) <= 0).all()  # the first variant's ranking, highest first


def test_empty_list_of_cases_gives_empty_table(bundled_model):
    table = compare({"a": bundled_model}, [])
    assert list(table.columns) == COLUMNS and table.empty


def test_variants_are_not_changed(bundled_model, stronger):
    before = (bundled_model.priors_digest, stronger.priors_digest)
    first = compare({"a": bundled_model, "b": stronger}, CASES)
    again = compare({"a": bundled_model, "b": stronger}, CASES)
    pd.testing.assert_frame_equal(first, again)
    assert (bundled_model.priors_digest, stronger.priors_digest) == before


@pytest.mark.parametrize("evidence, pattern", [
    ({"pain_burnig": "yes"}, r"unknown node 'pain_burnig'\. Did you mean 'pain_burning'"),
    ({"pain_burning": "maybe"}, r"'pain_burning' has no state 'maybe'"),
    ([BURNING, {"pain_burning": "maybe"}], r"no state 'maybe'"),
    ([BURNING, "pain_burning=yes"], r"evidence must be a dict of node -> state, or a list of such dicts"),
    ("pain_burning=yes", r"evidence must be a dict"),
    ({"pain_burning": {"yes": -1, "no": 1}}, r"finite likelihood >= 0"),
])
def test_bad_evidence_raises_evidence_error(bundled_model, stronger, evidence, pattern):
    with pytest.raises(EvidenceError, match=pattern):
        compare({"a": bundled_model, "b": stronger}, evidence)


@pytest.mark.parametrize("variants", [{}, [], None, [("a", None)]])
def test_variants_must_be_a_non_empty_dict(variants):
    with pytest.raises(ValueError, match="variants must be a non-empty dict"):
        compare(variants, BURNING)


def test_bad_priors_folder_raises_priors_error(tmp_path, bundled_model):
    with pytest.raises(PriorsError, match="no such folder"):
        compare({"a": bundled_model, "b": tmp_path / "missing"}, BURNING)


# --- the command line -------------------------------------------------------

def test_cli_compare_prints_table_with_difference(capsys, monkeypatch, folders, bundled_model, stronger):
    monkeypatch.chdir(folders)
    code = main(["compare", "base", "variant/", "--given", "pain_burning=yes", "avid_cyclist=yes"])
    out, err = capsys.readouterr()
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["variant", "base", "variant", "variant", "-", "base"]
    assert lines[1].split() == ["cause"]
    rows = {line.split()[0]: [float(x) for x in line.split()[1:]] for line in lines[2:]}
    assert set(rows) == set(bundled_model.causes) | set(bundled_model.complications)
    evidence = {"pain_burning": "yes", "avid_cyclist": "yes"}
    for cause, (base, variant, difference) in rows.items():
        expected_base = float(bundled_model.infer(evidence).loc[cause, "posterior"])
        expected_variant = float(stronger.infer(evidence).loc[cause, "posterior"])
        assert base == pytest.approx(expected_base, abs=5e-5)
        assert variant == pytest.approx(expected_variant, abs=5e-5)
        assert difference == pytest.approx(expected_variant - expected_base, abs=5e-5)
    assert rows["pfcn_neuropathy"][2] > 0
    bases = [values[0] for values in rows.values()]
    assert bases == sorted(bases, reverse=True)  # ranked by the reference variant


def test_cli_compare_without_evidence_compares_priors(capsys, folders):
    code = main(["compare", str(folders / "base"), str(folders / "variant")])
    out, _ = capsys.readouterr()
    assert code == 0
    assert f"{folders / 'variant'} - {folders / 'base'}" in out.splitlines()[0]


def test_cli_compare_bad_evidence_exits_2(capsys, folders):
    code = main(["compare", str(folders / "base"), str(folders / "variant"), "--given", "pain_burnig=yes"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert "unknown node 'pain_burnig'" in err


def test_cli_compare_bad_folder_exits_1(capsys, folders, tmp_path):
    code = main(["compare", str(folders / "base"), str(tmp_path / "missing")])
    _, err = capsys.readouterr()
    assert code == 1 and "no such folder" in err


def test_cli_compare_same_folder_twice_is_an_error(capsys, folders):
    with pytest.raises(SystemExit) as exit_:
        main(["compare", str(folders / "base"), str(folders / "base") + "/"])
    _, err = capsys.readouterr()
    assert exit_.value.code == 2 and "given twice" in err
