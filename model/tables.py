"""The in-memory shape of a priors folder: raw text tables and validated priors.

Pure data types, no I/O. :class:`RawTable` is what reading produces (text
cells that remember their line); :class:`Priors` is what the checks produce
(typed tables plus the expanded table of every node).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from types import MappingProxyType

import pandas as pd

__all__ = ["CPT_FOLDER", "PARAMETER_COLUMNS", "TABLE_FILES", "Priors", "RawTable"]

PARAMETER_COLUMNS = ("low", "high", "source", "grade")

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


@dataclass(frozen=True)
class Priors:
    """Validated priors: node definitions, typed tables, expanded node tables.

    ``nodes`` is indexed by node name (in the order of ``nodes.csv``) with
    columns ``role``, ``states`` (a tuple), ``form``, ``label``, ``question``,
    ``cost`` (float or NaN) and ``emergency_state`` (str, empty if none).
    ``tables`` maps ``"base_rates"``, ``"risk_factors"``, ``"links"``,
    ``"leaks"`` and ``"cpts/<node>"`` to typed DataFrames shaped like the CSVs.
    ``node_tables`` maps each node to its :class:`~model.forms.NodeTable`.
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


def _digest(nodes, tables):
    """Short content hash: the same numbers and names give the same digest."""
    payload = {"nodes": nodes.reset_index().astype(str).values.tolist()}
    for name in sorted(tables):
        frame = tables[name]
        payload[name] = sorted(frame.astype(str).values.tolist())
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
