"""Change priors in memory: replace whole tables or one parameter, validated like a folder.

Pure: takes :class:`~model.tables.Priors` and DataFrames, returns new
:class:`~model.tables.Priors`; nothing is mutated and no file is touched.
"""

from __future__ import annotations

import pandas as pd

from .errors import PriorsError
from .priors_checks import check_priors
from .tables import CPT_FOLDER, TABLE_NAMES, canonical_tables, raw_tables

__all__ = ["VALUE_COLUMNS", "replace_parameter", "replace_tables"]

#: Columns a parameter change may set; every other keyword selects the row.
VALUE_COLUMNS = ("probability", "relative_risk", "low", "high", "source", "grade")


def replace_tables(priors, changes):
    """New priors with some tables replaced, checked as a whole.

    Parameters
    ----------
    priors : Priors
    changes : dict of str to DataFrame
        Table name (``"links"``, ``"nodes"``, ``"cpts/<node>"``; a ``.csv``
        suffix is accepted) to its new content, shaped like the CSV file. A
        CPT table for a node that has none adds one; ``None`` removes a table.

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
        if replacement is None:
            raise PriorsError([f"table {key!r}: pass the whole new table, e.g. with_parameter({key!r}, frame)."],
                              where="the edited tables")
        return replace_tables(priors, {key: replacement})
    if key not in TABLE_NAMES or key == "nodes":
        raise PriorsError([f"table {table!r}: with_parameter changes one row of "
                           f"{', '.join(n for n in TABLE_NAMES if n != 'nodes')} or a whole '{CPT_FOLDER}/<node>'. "
                           "Use with_tables for nodes."], where="the edited tables")
    frame = canonical_tables(priors).get(key)
    if frame is None:
        raise PriorsError([f"table {key!r}: these priors have no such table."], where="the edited tables")
    selectors = {c: v for c, v in columns.items() if c not in VALUE_COLUMNS}
    values = {c: v for c, v in columns.items() if c in VALUE_COLUMNS}
    unknown = [c for c in columns if c not in frame.columns]
    if unknown or not values or not selectors:
        raise PriorsError([f"table {key!r}: name the row with key columns and the new values with "
                           f"{', '.join(c for c in VALUE_COLUMNS if c in frame.columns)}. Columns are "
                           f"{', '.join(frame.columns)}; got unknown {unknown}."], where="the edited tables")
    match = pd.Series(True, index=frame.index)
    for column, value in selectors.items():
        match &= frame[column].astype(str) == str(value)
    rows = frame.index[match]
    if len(rows) != 1:
        described = ", ".join(f"{c}={v}" for c, v in selectors.items())
        hint = ("no row matches" if not len(rows) else
                f"{len(rows)} rows match; add one of the other key columns to choose: "
                + "; ".join(", ".join(f"{c}={frame.at[r, c]}" for c in frame.columns[:4]) for r in rows[:5]))
        raise PriorsError([f"table {key!r}: {described}: {hint}."], where="the edited tables")
    edited = frame.copy()
    for column, value in values.items():
        edited[column] = edited[column].astype(object)
        edited.at[rows[0], column] = value
    return replace_tables(priors, {key: edited})
