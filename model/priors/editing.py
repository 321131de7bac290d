"""Change priors in memory: replace whole tables or one parameter, validated like a folder.

Pure: takes :class:`~model.priors.tables.Priors` and DataFrames, returns new
:class:`~model.priors.tables.Priors`; nothing is mutated and no file is touched.
"""

from __future__ import annotations

import pandas as pd

from ..errors import PriorsError, close_names
from .checks import check_priors
from .tables import CPT_FOLDER, TABLE_NAMES, canonical_tables, raw_tables

__all__ = ["VALUE_COLUMNS", "replace_parameter", "replace_tables"]

#: Columns a parameter change may set; every other keyword selects the row.
VALUE_COLUMNS = ("probability", "relative_risk", "low", "high", "source", "grade")
#: Tables without parameters: changed whole, with ``with_tables``.
WHOLE_TABLES = ("nodes", "population")


def replace_tables(priors, changes):
    """New priors with some tables replaced, checked as a whole.

    Parameters
    ----------
    priors : Priors
    changes : dict of str to DataFrame
        Table name (``"links"``, ``"nodes"``, ``"population"``,
        ``"cpts/<node>"``; a ``.csv`` suffix is accepted) to its new content,
        shaped like the CSV file. A CPT table for a node that has none adds
        one; ``None`` removes a table (``{"population": None}``: no
        population condition).

    Raises
    ------
    PriorsError
        Every problem of the resulting priors, naming the table and row label
        (``links, row 12, column 'probability'``).
    """
    frames = canonical_tables(priors)
    for name, frame in changes.items():
        key = str(name).removesuffix(".csv")
        if frame is None:
            frames.pop(key, None)
        else:
            frames[key] = frame
    tables, cpts = raw_tables(frames)
    return check_priors(tables, cpts, origin="the edited tables")


def replace_parameter(priors, table, replacement=None, **columns):
    """New priors with one row of one table changed (or one whole CPT replaced).

    Parameters
    ----------
    priors : Priors
    table : str
        ``"links"``, ``"leaks"``, ``"base_rates"``, ``"risk_factors"`` or ``"cpts/<node>"``.
    replacement : DataFrame, optional
        For ``"cpts/<node>"``: the whole new table.
    **columns
        Keywords naming key columns select the row (``parent=..., child=...``);
        keywords among :data:`VALUE_COLUMNS` set its values.

    Raises
    ------
    PriorsError
        When no row or several rows match (the message lists the choices), or
        the changed priors fail a check.
    """
    key = str(table).removesuffix(".csv")
    if key.startswith(f"{CPT_FOLDER}/"):
        if replacement is None or columns:
            raise PriorsError([f"table {key!r}: pass the whole new table and nothing else, e.g. "
                               f"with_parameter({key!r}, frame)."], where="the edited tables")
        return replace_tables(priors, {key: replacement})
    if replacement is not None:
        raise PriorsError([f"table {key!r}: a whole table replaces only a '{CPT_FOLDER}/<node>' table here; use "
                           f"with_tables({{{key!r}: frame}}) for other tables."], where="the edited tables")
    if key not in TABLE_NAMES or key in WHOLE_TABLES:
        what = f"the {key} table" if key in WHOLE_TABLES else "unknown table"
        raise PriorsError([f"table {table!r}: {what}; with_parameter changes one row of "
                           f"{', '.join(n for n in TABLE_NAMES if n not in WHOLE_TABLES)} or a whole "
                           f"'{CPT_FOLDER}/<node>'. Use with_tables for {' and '.join(WHOLE_TABLES)}."],
                          where="the edited tables")
    frame = canonical_tables(priors).get(key)
    if frame is None:
        raise PriorsError([f"table {key!r}: these priors have no such table."], where="the edited tables")
    selectors = {c: v for c, v in columns.items() if c not in VALUE_COLUMNS}
    values = {c: v for c, v in columns.items() if c in VALUE_COLUMNS}
    unknown = [c for c in columns if c not in frame.columns]
    keys = [c for c in frame.columns if c not in VALUE_COLUMNS]
    if unknown or not values or not selectors:
        hint = f"; got unknown {', '.join(map(repr, unknown))}{_closest(unknown[0], frame.columns)}" if unknown else ""
        raise PriorsError([f"table {key!r}: name the row with key columns ({', '.join(keys)}) and the new values "
                           f"with {', '.join(c for c in VALUE_COLUMNS if c in frame.columns)}{hint}."],
                          where="the edited tables")
    match = pd.Series(True, index=frame.index)
    for column, value in selectors.items():
        match &= frame[column].astype(str) == str(value)
    rows = frame.index[match]
    if len(rows) != 1:
        described = ", ".join(f"{c}={v}" for c, v in selectors.items())
        raise PriorsError([f"table {key!r}: {described}: {_no_single_row(frame, selectors, keys, rows)}."],
                          where="the edited tables")
    edited = frame.copy()
    for column, value in values.items():
        edited[column] = edited[column].astype(object)
        edited.at[rows[0], column] = value
    return replace_tables(priors, {key: edited})


def _closest(word, choices):
    match = close_names(word, choices)
    return f" (did you mean {' or '.join(map(repr, match))}?)" if match else ""


def _no_single_row(frame, selectors, keys, rows, shown=8):
    """Why a selection is not one row, and the rows to choose from."""
    def listing(index):
        text = "; ".join(", ".join(f"{c}={frame.at[r, c]}" for c in keys) for r in index[:shown])
        return text + (f"; ... and {len(index) - shown} more" if len(index) > shown else "")

    if len(rows):
        return f"{len(rows)} rows match; add another key column to choose one of: {listing(rows)}"
    for column, value in selectors.items():
        present = frame[column].astype(str)
        if str(value) not in set(present):
            valid = list(dict.fromkeys(present))
            more = f", ... ({len(valid)} in all)" if len(valid) > 12 else ""
            return (f"no row has {column}={value}{_closest(value, valid)}. Values of {column!r}: "
                    f"{', '.join(valid[:12])}{more}")
    first, value = next(iter(selectors.items()))
    near = frame.index[frame[first].astype(str) == str(value)]
    return f"no row matches this combination; rows with {first}={value}: {listing(near)}"
