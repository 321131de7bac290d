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

from ..errors import PriorsError

__all__ = [
    "CPT_FOLDER",
    "FINDING_TYPES",
    "FORMS",
    "GRADES",
    "MECHANISM_FORMS",
    "NAME_LIMIT",
    "NODE_NAME",
    "PARAMETER_COLUMNS",
    "POPULATION_ROLES",
    "RESERVED",
    "ROLES",
    "STATE_NAME",
    "TABLE_FILES",
    "Priors",
    "RawTable",
    "declared_parents",
    "typed_frame",
]

PARAMETER_COLUMNS = ("low", "high", "source", "grade")
#: The vocabulary of ``nodes.csv`` (``priors/README.md``): roles in edge order, forms, evidence grades.
#: A ``mechanism`` is a hidden intermediate node (children of causes, parents of findings), never reported.
ROLES = ("risk_factor", "cause", "mechanism", "complication", "finding")
FORMS = ("base_rate", "relative_risk", "noisy_or", "logistic", "cpt")
GRADES = ("M", "D", "E")
#: The forms a mechanism may have: it always has parents.
MECHANISM_FORMS = ("noisy_or", "logistic", "cpt")
#: Values of the optional ``finding_type`` column of ``nodes.csv`` (findings only; empty for other roles).
FINDING_TYPES = ("symptom", "sign", "test", "presentation")
#: Roles whose nodes may define the population (``population.csv``): what is observed at entry.
POPULATION_ROLES = ("finding", "risk_factor")
#: Node names: a letter, then letters, digits or ``_``; not a reserved column name.
NODE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
RESERVED = frozenset({"probability", "low", "high", "source", "grade", "state"})
#: State names: any text a CSV cell holds (``<5``, ``>=7.5``, ``a b``, ``Asy/Patch``) except what a
#: ``states`` cell cannot: the separator ``|``, spaces at either end (cells are stripped), control characters
#: (tab, newline, NUL ...), and the empty name.
STATE_NAME = re.compile(r"(?=\S)[^|\x00-\x1f\x7f-\x9f]+(?<=\S)\Z")
#: Longest node or state name, in characters: a node's full CPT is saved as ``cpts/<node>.csv``, and file
#: names (255 bytes on common file systems, less inside deep folders on Windows) must hold it with room to spare.
NAME_LIMIT = 100

#: The canonical tables, by file name: (required columns, optional columns).
TABLE_FILES = {
    "nodes.csv": (("node", "role", "states", "form"),
                  ("parents", "label", "question", "cost", "emergency_state", "finding_type")),
    "base_rates.csv": (("node", "state", "probability") + PARAMETER_COLUMNS, ()),
    "risk_factors.csv": (("risk_factor", "state", "cause", "relative_risk") + PARAMETER_COLUMNS, ()),
    "links.csv": (("parent", "parent_state", "child", "child_state", "probability") + PARAMETER_COLUMNS, ()),
    "leaks.csv": (("node", "state", "probability") + PARAMETER_COLUMNS, ()),
    "population.csv": (("node", "state", "description"), ()),
}
#: Sub-folder holding one full conditional table per node: ``cpts/<node>.csv``.
CPT_FOLDER = "cpts"
#: The rows that give each node its parents: (file, parent column, parent state column, child column).
PARENT_ROWS = (("links", "parent", "parent_state", "child"), ("risk_factors", "risk_factor", "state", "cause"))


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
    ``cost`` (float or NaN), ``emergency_state`` and ``finding_type`` (str,
    empty if none). ``tables`` maps ``"base_rates"``, ``"risk_factors"``,
    ``"links"``, ``"leaks"``, ``"population"`` and ``"cpts/<node>"`` to typed
    DataFrames shaped like the CSVs (indexed by line; columns in a fixed order
    whatever the order in the file, a CPT's parents in nodes.csv order).
    ``node_tables`` maps each node to its :class:`~model.priors.forms.NodeTable`.
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

    @property
    def population(self):
        """The observations that define the population (``population.csv``): node -> state, in node order.

        Empty when the priors have no population condition.

        Examples
        --------
        >>> frame = pd.DataFrame({"node": ["pain"], "state": ["yes"], "description": ["Adults in pain"]})
        >>> nodes = pd.DataFrame({"role": ["finding"]}, index=pd.Index(["pain"], name="node"))
        >>> Priors(nodes, {"population": frame}, {}).population
        {'pain': 'yes'}
        """
        frame = self.tables.get("population")
        if frame is None:
            return {}
        rank = {node: i for i, node in enumerate(self.nodes.index)}
        return dict(sorted(zip(frame["node"], frame["state"]), key=lambda pair: rank.get(pair[0], len(rank))))

    @property
    def population_description(self):
        """The population in words: the ``description`` cells of ``population.csv`` (node order, each once,
        joined by "; "); empty when there is no population condition."""
        frame = self.tables.get("population")
        if frame is None:
            return ""
        rank = {node: i for i, node in enumerate(self.nodes.index)}
        rows = sorted(zip(frame["node"], frame["description"]), key=lambda pair: rank.get(pair[0], len(rank)))
        return "; ".join(dict.fromkeys(text for _, text in rows if text))


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
    """Short content hash: the same numbers and names give the same digest.

    An optional ``nodes.csv`` column that is empty for every node (``finding_type``) is left out, so priors
    written before the column existed keep their digest.
    """
    frame = nodes.reset_index()
    if "finding_type" in frame and not frame["finding_type"].astype(bool).any():
        frame = frame.drop(columns="finding_type")
    payload = {"nodes": _text(frame)}
    for name in sorted(tables):
        payload[name] = sorted(_text(tables[name]))
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _text(frame):
    """The cells of a frame as lists of text, ``str(cell)`` each (pandas-version proof, and fast)."""
    return [list(map(str, row)) for row in zip(*(frame[column].tolist() for column in frame.columns))]


#: Table names as users write them (``Model.tables`` keys), with the CSV file each is saved as.
TABLE_NAMES = {name.removesuffix(".csv"): name for name in TABLE_FILES}


def format_cell(value):
    """Text of one cell as saved: shortest round-trip floats, whole numbers without '.0', '' for NaN.

    Missing values (None, NaN, ``pd.NA``) are ''. Carriage returns inside text
    become line feeds: the CSV writer would leave a lone one unquoted.

    Examples
    --------
    >>> [format_cell(x) for x in (0.6, 20.0, 1e-05, float("nan"), ("no", "yes"), "E", None, pd.NA)]
    ['0.6', '20', '1e-05', '', 'no|yes', 'E', '', '']
    """
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n") if "\r" in value else value
    if isinstance(value, tuple):
        return "|".join(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if value != value:
            return ""
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


def canonical_tables(priors):
    """The priors as DataFrames shaped like the CSV files, rows in a fixed order.

    Keys: ``nodes``, ``base_rates``, ``risk_factors``, ``links``, ``leaks``,
    ``population`` (those with rows) and ``cpts/<node>``. Rows follow
    ``nodes.csv`` order (then state order), so saving is stable and one
    changed number is one changed line. The ``parents`` column of ``nodes``
    is written from the rows (:func:`declared_parents`); the optional
    ``finding_type`` column is there only when some node has one. The frames
    are fresh copies, indexed 0..n-1.

    Examples
    --------
    >>> from model.priors import load_priors
    >>> tables = canonical_tables(load_priors())
    >>> list(tables["links"].columns)[:4]
    ['parent', 'parent_state', 'child', 'child_state']
    """
    nodes = priors.nodes
    node_rank = {n: i for i, n in enumerate(nodes.index)}
    state_rank = {n: {s: i for i, s in enumerate(states)} for n, states in nodes["states"].items()}
    frame = nodes.reset_index()
    frame["states"] = [format_cell(s) for s in frame["states"]]
    frame["parents"] = frame["node"].map(declared_parents(dict(nodes["states"].items()), priors.tables))
    columns = [c for c in TABLE_FILES["nodes.csv"][0] + TABLE_FILES["nodes.csv"][1]
               if c != "finding_type" or frame.get(c, pd.Series(dtype=object)).astype(bool).any()]
    out = {"nodes": frame[columns]}
    # Sort keys: a column naming a node sorts by node order; a column holding a state sorts by the state
    # order of the node named in the column given here (for CPT files: the column's own node).
    keys = {
        "base_rates": (("node", None), ("state", "node")),
        "risk_factors": (("cause", None), ("risk_factor", None), ("state", "risk_factor")),
        "links": (("child", None), ("parent", None), ("parent_state", "parent"), ("child_state", "child")),
        "leaks": (("node", None), ("state", "node")),
        "population": (("node", None),),
    }

    def rank(row, column, owner):
        if owner is None:
            return node_rank[row[column]]
        node = column if owner == "itself" else row[owner]
        return state_rank[node][row[column]]

    for name, table in priors.tables.items():
        spec = ([(c, "itself") for c in table.columns if c in state_rank]
                if name.startswith(f"{CPT_FOLDER}/") else keys[name])
        rows = sorted(table.to_dict("records"), key=lambda row: tuple(rank(row, c, o) for c, o in spec))
        out[name] = pd.DataFrame(rows, columns=list(table.columns))
    return {name: frame.reset_index(drop=True).copy() for name, frame in out.items()}


def declared_parents(states, tables):
    """The ``parents`` cell of every node, as the rows of ``tables`` give it.

    A parent whose every non-reference state has a row (in ``links`` or
    ``risk_factors``), or that is a column of the node's full CPT, is written
    by name (``tumour``); a parent that acts through some of its states only is
    written once per such state (``age_group=60_plus``). Entries are
    separated by ``|`` and follow the order of ``states`` (nodes.csv order);
    a node without parents gets ``""``.

    Parameters
    ----------
    states : dict of str to sequence of str
        Every node's states, reference first, in nodes.csv order.
    tables : mapping of str to DataFrame
        Tables shaped like the CSVs (``"links"``, ``"risk_factors"``,
        ``"cpts/<node>"``; others are ignored).

    Examples
    --------
    >>> states = {"age": ("mid", "young", "old"), "disc": ("absent", "present"), "pain": ("no", "yes")}
    >>> links = pd.DataFrame({"parent": ["disc", "age"], "parent_state": ["present", "old"], "child": ["pain"] * 2})
    >>> declared_parents(states, {"links": links})
    {'age': '', 'disc': '', 'pain': 'age=old|disc'}
    """
    acting = {node: {} for node in states}
    for name, parent_column, state_column, child_column in PARENT_ROWS:
        frame = tables.get(name)
        if frame is None:
            continue
        for parent, state, child in zip(frame[parent_column], frame[state_column], frame[child_column]):
            if child in acting and parent in states:
                acting[child].setdefault(parent, set()).add(state)
    for name, frame in tables.items():
        node = name.split("/", 1)[1] if name.startswith(f"{CPT_FOLDER}/") else None
        if node in acting:
            owned = {node, "probability", *PARAMETER_COLUMNS}
            acting[node].update({c: set(states[c][1:]) for c in frame.columns if c not in owned and c in states})
    cells = {}
    for node, parents in acting.items():
        entries = []
        for parent in (p for p in states if p in parents):
            active = [s for s in states[parent][1:] if s in parents[parent]]
            if len(active) == len(states[parent]) - 1:
                entries.append(parent)
            else:
                entries += [f"{parent}={s}" for s in active]
        cells[node] = "|".join(entries)
    return cells


def raw_tables(frames):
    """In-memory DataFrames (as from :func:`canonical_tables`) as text tables for the checks.

    Returns ``(tables by file name, CPT tables by node)``; messages then name
    the table and the row label: ``links, row 12, column 'probability'``.
    Unknown table names raise a ``PriorsError``.
    """
    tables, cpts, problems = {}, {}, []
    for name, frame in frames.items():
        key = str(name).removesuffix(".csv")
        if not isinstance(frame, pd.DataFrame):
            problems.append(f"table {name!r}: must be a pandas DataFrame. Got {type(frame).__name__}.")
            continue
        # Cells stripped as when reading a file, so what is checked is what a save and reload give back.
        text = pd.DataFrame({str(c).strip(): [format_cell(v).strip() for v in frame[c].tolist()]
                             for c in frame.columns}, index=frame.index, dtype=object)
        if key in TABLE_NAMES:
            tables[TABLE_NAMES[key]] = RawTable(key, text, row_word="row")
        elif key.startswith(f"{CPT_FOLDER}/") and key.count("/") == 1:
            cpts[key.split("/", 1)[1]] = RawTable(key, text, row_word="row")
        else:
            problems.append(f"table {name!r}: unknown table name. Use one of {', '.join(TABLE_NAMES)} or "
                            f"'{CPT_FOLDER}/<node>'.")
    if problems:
        raise PriorsError(problems, where="the edited tables")
    return tables, cpts
