"""The bundled priors load, and harmless variations of the files load to the same priors."""

import csv
import io
import random
import shutil
from collections import Counter

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from model.errors import PriorsError
from model.priors import bundled_priors_folder, load_priors
from model.priors.checks import TOLERANCE
from model.priors.tables import Priors

BUNDLED = sorted(str(p.relative_to(bundled_priors_folder())) for p in
                 [*bundled_priors_folder().glob("*.csv"), *bundled_priors_folder().glob("cpts/*.csv")])
VALUE_COLUMNS = {"probability", "relative_risk"}
#: Fewest refused and fewest accepted outcomes a randomised test must see: it cannot pass on one branch only.
MIN_OUTCOMES = 10


@pytest.fixture(scope="module")
def priors():
    return load_priors()


@pytest.fixture
def folder(tmp_path):
    copy = tmp_path / "priors"
    shutil.copytree(bundled_priors_folder(), copy)
    return copy


def rows_of(path):
    with open(path, newline="", encoding="utf-8") as file:
        return list(csv.reader(file))


def to_text(rows, terminator="\n"):
    out = io.StringIO()
    csv.writer(out, lineterminator=terminator).writerows(rows)
    return out.getvalue()


# --- the bundled folder ------------------------------------------------------------------
def test_bundled_priors_load(priors):
    assert isinstance(priors, Priors)
    assert set(priors.node_tables) == set(priors.nodes.index)
    assert priors.origin == str(bundled_priors_folder())


@pytest.mark.slow
def test_default_folder_is_the_bundled_one(priors):
    assert load_priors(bundled_priors_folder()).digest == priors.digest
    assert load_priors(str(bundled_priors_folder())).digest == priors.digest


def test_loading_is_repeatable(priors):
    again = load_priors()
    assert again.digest == priors.digest
    for node, table in priors.node_tables.items():
        np.testing.assert_array_equal(again.node_tables[node].values, table.values)


def test_typed_tables_have_float_columns(priors):
    assert priors.nodes["cost"].dtype == np.float64
    assert {"base_rates", "risk_factors", "links", "leaks"} <= set(priors.tables)
    assert any(name.startswith("cpts/") for name in priors.tables)
    for name, frame in priors.tables.items():
        if name == "population":  # not parameters: node, state, description
            continue
        value_column = "relative_risk" if name == "risk_factors" else "probability"
        for column in (value_column, "low", "high"):
            assert frame[column].dtype == np.float64, (name, column)


@pytest.mark.parametrize("name", sorted(set(load_priors().tables) - {"population"}))
def test_every_parameter_row_is_complete(priors, name):
    frame = priors.tables[name]
    value = frame["relative_risk" if name == "risk_factors" else "probability"]
    assert len(frame) > 0
    bad = frame[~((frame["low"] <= value) & (value <= frame["high"]))]
    assert bad.empty, f"{name}: low <= value <= high fails on lines {list(bad.index)}"
    assert (frame["source"].str.strip() != "").all()
    assert frame["grade"].isin(["M", "D", "E"]).all()


def test_every_node_table_is_a_distribution(priors):
    for node, table in priors.node_tables.items():
        assert table.values.shape[0] == len(priors.nodes.loc[node, "states"])
        assert (table.values >= 0).all(), node
        np.testing.assert_allclose(table.values.sum(axis=0), 1.0, atol=TOLERANCE, err_msg=node)


def test_tables_are_read_only(priors):
    with pytest.raises(TypeError):
        priors.tables["links"] = None
    with pytest.raises(ValueError):
        priors.node_tables["pain_burning"].values[0, 0] = 0.5


# --- harmless variations ---------------------------------------------------------------------
def with_bom(path):
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())


def with_crlf(path):
    path.write_bytes(path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))


def with_spaces(path):
    """Spaces around every cell, outside the quotes (as hand-aligned files have them)."""
    lines = []
    for row in rows_of(path):
        cells = [to_text([[cell]]).rstrip("\n") for cell in row]
        lines.append(",".join(f"  {cell} " for cell in cells))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def with_padded_cells(path):
    """Spaces inside every cell (quoted as a spreadsheet would write them)."""
    path.write_text(to_text([[f" {cell}  " for cell in row] for row in rows_of(path)]), encoding="utf-8")


def with_trailing_empty_lines(path):
    path.write_bytes(path.read_bytes() + b"\n\n   \n\n")


def shuffled_columns(seed):
    def shuffle(path):
        rows = rows_of(path)
        order = list(range(len(rows[0])))
        random.Random(f"{seed}{path.name}").shuffle(order)
        path.write_text(to_text([[row[i] for i in order] for row in rows]), encoding="utf-8")
    shuffle.__name__ = f"shuffled_columns_{seed}"
    return shuffle


def reversed_columns(path):
    rows = rows_of(path)
    path.write_text(to_text([row[::-1] for row in rows]), encoding="utf-8")


VARIATIONS = [with_bom, with_crlf, with_spaces, with_padded_cells, with_trailing_empty_lines, reversed_columns,
              shuffled_columns(1), shuffled_columns(2), shuffled_columns(3)]


@pytest.mark.slow
@pytest.mark.parametrize("variation", VARIATIONS, ids=lambda v: v.__name__)
def test_harmless_variation_loads_to_the_same_priors(folder, priors, variation):
    for name in BUNDLED:
        variation(folder / name)
    varied = load_priors(folder)
    assert varied.digest == priors.digest
    for node, table in priors.node_tables.items():
        assert varied.node_tables[node].parents == table.parents
        np.testing.assert_array_equal(varied.node_tables[node].values, table.values)


@pytest.mark.slow
def test_all_variations_at_once(folder, priors):
    for name in BUNDLED:
        for variation in (shuffled_columns(7), with_padded_cells, with_spaces, with_crlf, with_trailing_empty_lines,
                          with_bom):
            variation(folder / name)
    assert load_priors(folder).digest == priors.digest


@pytest.mark.slow
def test_row_order_does_not_matter(folder, priors):
    for name in BUNDLED:
        if name == "nodes.csv":  # node order is the parents' order, so it is part of the model
            continue
        rows = rows_of(folder / name)
        (folder / name).write_text(to_text(rows[:1] + rows[:0:-1]), encoding="utf-8")
    assert load_priors(folder).digest == priors.digest


@pytest.mark.slow
def test_other_files_are_ignored(folder, priors):
    (folder / "notes.txt").write_text("not a table", encoding="utf-8")
    (folder / "cpts" / "README.md").write_text("# notes", encoding="utf-8")
    assert load_priors(folder).digest == priors.digest


@pytest.mark.slow
def test_a_changed_number_changes_the_digest(folder, priors):
    rows = rows_of(folder / "leaks.csv")
    header = rows[0]
    rows[1][header.index("probability")] = rows[1][header.index("high")]  # another value inside the range
    (folder / "leaks.csv").write_text(to_text(rows), encoding="utf-8")
    assert load_priors(folder).digest != priors.digest


# --- any numbers the checks accept give proper distributions -----------------------------------------
NUMBER_TEXT = st.one_of(st.sampled_from(["0", "1", "1e-300", "5e-324", "0.9999999999", "1e300", "0.5"]),
                        st.floats(0, 1).map(repr), st.floats(0, 2000).map(repr))


@pytest.fixture(scope="module")
def shared_folder(tmp_path_factory):
    copy = tmp_path_factory.mktemp("numbers") / "priors"
    shutil.copytree(bundled_priors_folder(), copy)
    return copy


def assert_distributions(priors):
    for node, table in priors.node_tables.items():
        assert np.isfinite(table.values).all(), node
        assert ((table.values >= 0) & (table.values <= 1)).all(), node
        np.testing.assert_allclose(table.values.sum(axis=0), 1.0, atol=TOLERANCE, err_msg=node)


@pytest.mark.slow
def test_accepted_numbers_give_distributions(shared_folder):
    """Set random rows' value (and perhaps its whole range) to a random number: the priors either
    load, with every column of every node table a probability distribution, or raise PriorsError.
    Both outcomes are counted: a run that only ever refused (or only accepted) tests nothing."""
    outcomes = Counter()

    @given(name=st.sampled_from([n for n in BUNDLED if n != "nodes.csv"]), data=st.data())
    def mutate(name, data):
        path = shared_folder / name
        original = path.read_bytes()
        rows = rows_of(path)
        header = rows[0]
        for _ in range(data.draw(st.integers(1, 4))):
            row = rows[data.draw(st.integers(1, len(rows) - 1))]
            value = data.draw(NUMBER_TEXT)
            whole_range = data.draw(st.booleans())
            for column in ("probability", "relative_risk", "low", "high"):
                if column in header and (whole_range or column in VALUE_COLUMNS):
                    row[header.index(column)] = value
        path.write_text(to_text(rows), encoding="utf-8")
        try:
            priors = load_priors(shared_folder)
        except PriorsError as err:
            assert err.problems
            outcomes["refused"] += 1
            return
        finally:
            path.write_bytes(original)
        outcomes["accepted"] += 1
        assert_distributions(priors)

    mutate()
    assert outcomes["accepted"] >= MIN_OUTCOMES and outcomes["refused"] >= MIN_OUTCOMES, outcomes


# --- random damage: refused, or accepted and harmless --------------------------------------------------
CELL_TEXT = st.one_of(st.text(max_size=12),
                      st.sampled_from(["", "nan", "-1", "1e999", "x?", "|", "yes", "0", "1", '"', "E", "M"]),
                      st.binary(max_size=12).map(lambda b: b.decode("latin-1")))
#: Free text: damage there is usually accepted (unless it is empty, a formula or holds a NUL), so both outcomes occur.
TEXT_COLUMNS = {"label", "question", "source", "description"}
#: Columns whose damage may change the numbers and still be valid priors (another value inside the checks).
NUMBER_COLUMNS = {"probability", "relative_risk", "low", "high", "cost"}


def structure(priors):
    """What no damage may change silently: nodes in order, their states, roles and forms, each table's parents."""
    nodes = priors.nodes
    return ([(n, tuple(nodes.loc[n, "states"]), nodes.loc[n, "role"], nodes.loc[n, "form"]) for n in nodes.index],
            {n: tuple(t.parents) for n, t in priors.node_tables.items()})


@pytest.mark.slow
def test_random_damage_is_refused_or_harmless(shared_folder, priors):
    """Damage a random cell (or a free-text cell), insert a junk line or replace a line of any bundled file.
    Either the loader refuses it (a PriorsError with its problems) or what it accepted is harmless: the same
    nodes, states, roles, forms and parents, proper distributions, and the same numbers unless a number cell
    was changed. Accepted and refused outcomes are counted, and each must occur (issue 11, item 19)."""
    outcomes = Counter()

    @given(name=st.sampled_from(BUNDLED), data=st.data())
    def damage(name, data):
        path = shared_folder / name
        original = path.read_bytes()
        kind = data.draw(st.sampled_from(["cell", "text cell", "insert line", "replace line"]))
        column = None
        if kind.endswith("cell"):
            rows = rows_of(path)
            line = data.draw(st.integers(0, len(rows) - 1))
            text = [i for i, c in enumerate(rows[0]) if c in TEXT_COLUMNS] if kind == "text cell" else []
            index = data.draw(st.sampled_from(text) if text else st.integers(0, len(rows[0]) - 1))
            column = rows[0][index] if line else None  # the header itself: no column of values
            rows[line][index] = data.draw(CELL_TEXT)
            path.write_text(to_text(rows), encoding="utf-8")
        else:
            lines = original.split(b"\n")
            where = data.draw(st.integers(0, len(lines) - 1))
            junk = data.draw(st.one_of(st.binary(max_size=60), st.text(max_size=60).map(str.encode)))
            lines[where:where + (kind == "replace line")] = [junk]
            path.write_bytes(b"\n".join(lines))
        try:
            loaded = load_priors(shared_folder)
        except PriorsError as err:
            assert err.problems
            outcomes["refused"] += 1
            return
        finally:
            path.write_bytes(original)
        outcomes["accepted"] += 1
        assert structure(loaded) == structure(priors), (name, kind, column)
        assert_distributions(loaded)
        if column not in NUMBER_COLUMNS:
            for node, table in priors.node_tables.items():
                np.testing.assert_array_equal(loaded.node_tables[node].values, table.values, err_msg=node)

    damage()
    assert outcomes["accepted"] >= MIN_OUTCOMES and outcomes["refused"] >= MIN_OUTCOMES, outcomes
