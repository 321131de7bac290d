"""The in-memory shape of a priors folder: its vocabulary, raw text tables and validated priors.

Pure data types, no I/O. :class:`RawTable` is what reading produces (text
cells that remember their line); :class:`Priors` is what the checks produce
(typed tables plus the expanded table of every node).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd

__all__ = [
    "CPT_FOLDER",
    "FORMS",
    "GRADES",
    "NODE_NAME",
    "PARAMETER_COLUMNS",
    "RESERVED",
    "ROLES",
    "STATE_NAME",
    "TABLE_FILES",
    "Priors",
    "RawTable",
    "typed_frame",
]

PARAMETER_COLUMNS = ("low", "high", "source", "grade")
#: The vocabulary of ``nodes.csv`` (``priors/README.md``): roles in edge order, forms, evidence grades.
ROLES = ("risk_factor", "cause", "complication", "finding")
FORMS = ("base_rate", "relative_risk", "noisy_or", "logistic", "cpt")
GRADES = ("M", "D", "E")
#: Node names: a letter, then letters, digits or ``_``; not a reserved column name.
NODE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
RESERVED = frozenset({"probability", "low", "high", "source", "grade", "state"})
#: State names: letters, digits, ``_ . + -``, starting with a letter or digit.
STATE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+\-]*\Z")

#: The canonical tables, by file name: (required columns, optional columns).
TABLE_FILES = {
    "nodes.csv": (("node", "role", "states", "form"), ("label", "question", "cost", "emergency_state")),
    "base_rates.csv": (("node", "state", "probability") + PARAMETER_COLUMNS, ()),
    "risk_factors.csv": (("risk_factor", "state", "cause", "relative_risk") + PARAMETER_COLUMNS, ()),
    "links.csv": (("parent", "parent_state", "child", "child_state", "probability") + PARAMETER_COLUMNS, ()),
    "leaks.csv": (("node", "state", "probability") + PARAMETER_COLUMNS, ()),
}
#: Sub-folder holding one full conditional table per node: ``cpts/<node>.csv``.
CPT_FOLDER = "cpts"


@dataclass(frozen=True)
class RawTable:
    """One table of text cells; the index holds the line (or row) each row came from.

    ``name`` is how messages refer to the table (``"links.csv"``), and
    ``row_word`` is ``"line"`` for files and ``"row"`` for in-memory tables.

    Examples
    --------
    >>> RawTable("links.csv", pd.DataFrame()).where(4, "low")
    "links.csv, line 4, column 'low'"
    """

    name: str
    frame: pd.DataFrame
    row_word: str = "line"

    def where(self, row, column=None):
        """Location text for messages."""
        text = f"{self.name}, {self.row_word} {row}"
        return f"{text}, column {column!r}" if column is not None else text

    def rows(self):
        """Every row as ``(line, {column: text})``, in table order.

        Plain dicts: walking them is many times faster than ``DataFrame.iterrows``.

        Examples
        --------
        >>> RawTable("leaks.csv", pd.DataFrame({"node": ["a"]}, index=[2])).rows()
        [(2, {'node': 'a'})]
        """
        columns = list(self.frame.columns)
        return [(line, dict(zip(columns, cells)))
                for line, cells in zip(self.frame.index.tolist(), self.frame.to_numpy(dtype=object).tolist())]


@dataclass(frozen=True)
class Priors:
    """Validated priors: node definitions, typed tables, expanded node tables.

    ``nodes`` is indexed by node name (in the order of ``nodes.csv``) with
    columns ``role``, ``states`` (a tuple), ``form``, ``label``, ``question``,
    ``cost`` (float or NaN) and ``emergency_state`` (str, empty if none).
    ``tables`` maps ``"base_rates"``, ``"risk_factors"``, ``"links"``,
    ``"leaks"`` and ``"cpts/<node>"`` to typed DataFrames shaped like the CSVs
    (indexed by line; columns in a fixed order whatever the order in the file,
    a CPT's parents in nodes.csv order). ``node_tables`` maps each node to its :class:`~model.forms.NodeTable`.
    """

    nodes: pd.DataFrame
    tables: dict
    node_tables: dict
    origin: str = "<in memory>"
    digest: str = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "tables", MappingProxyType(dict(self.tables)))
        object.__setattr__(self, "node_tables", MappingProxyType(dict(self.node_tables)))
        object.__setattr__(self, "digest", _digest(self.nodes, self.tables))


def typed_frame(rows, columns, numbers):
    """A frame shaped like a CSV from ``(line, {column: value})`` pairs, indexed by line.

    ``numbers`` name the float columns; the others hold text. Columns come in
    the order given, whatever the order in the file.

    Examples
    --------
    >>> typed_frame([(2, {"node": "a", "probability": "0.25"})], ["node", "probability"], ["probability"]).dtypes
    node               ...
    probability    float64
    dtype: object
    """
    data = {c: np.array([row[c] for _, row in rows], dtype=float) if c in numbers else [row[c] for _, row in rows]
            for c in columns}
    return pd.DataFrame(data, columns=list(columns), index=[line for line, _ in rows])


def _digest(nodes, tables):
    """Short content hash: the same numbers and names give the same digest."""
    payload = {"nodes": _text(nodes.reset_index())}
    for name in sorted(tables):
        payload[name] = sorted(_text(tables[name]))
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _text(frame):
    """The cells of a frame as lists of text, ``str(cell)`` each (pandas-version proof, and fast)."""
    return [list(map(str, row)) for row in zip(*(frame[column].tolist() for column in frame.columns))]
