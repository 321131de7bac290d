"""Check raw priors tables and turn them into validated :class:`~model.priors.tables.Priors`.

Every rule of ``priors/README.md`` is checked, and every problem is collected
before anything is raised, so one :class:`~model.errors.PriorsError` lists
them all, each with its file, line, column, offending value and fix. This
module checks columns, cells, names, references and the graph, and runs the
whole check (:func:`check_priors`), including the optional ``population.csv``
(the observations that define the population) and the separate
``renamed.csv`` (:func:`check_renamed`); whether each node has the files and rows
its form needs, and their expansion into full tables, are in
:mod:`model.priors.expand`. Pure: takes tables, returns values, touches no file.
"""

from __future__ import annotations

import graphlib
import math
import re
from operator import itemgetter

import numpy as np
import pandas as pd

from ..errors import PriorsError, close_names
from .expand import TOLERANCE, check_cpt_file, check_files, expand_nodes
from .parents import check_declared_parents
from .tables import (
    CPT_FOLDER,
    FINDING_TYPES,
    FORMS,
    GRADES,
    MECHANISM_FORMS,
    NAME_LIMIT,
    NODE_NAME,
    PARAMETER_COLUMNS,
    POPULATION_ROLES,
    RESERVED,
    ROLES,
    STATE_NAME,
    TABLE_FILES,
    Priors,
    typed_frame,
)

__all__ = ["RENAMED_COLUMNS", "TOLERANCE", "check_priors", "check_renamed"]

#: The columns of ``priors/renamed.csv``: an old name and what replaced it (empty states: the whole node).
RENAMED_COLUMNS = ("old_node", "old_state", "new_node", "new_state", "note")

#: A plain decimal: no 'nan', 'inf', '1_0', '60%' or non-ASCII digits.
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\Z", re.ASCII)
#: Columns of free text (labels, questions, sources, descriptions, notes): never numbers or names.
TEXT_COLUMNS = ("label", "question", "source", "description", "note")
#: Optional ``nodes.csv`` columns beyond :data:`~model.priors.tables.TABLE_FILES` (kept by the loader, by
#: ``Model.tables`` and by saving), each with the roles that may carry it and what it means
#: (``priors/README.md``): ``action_threshold``, the posterior at or above which a serious cause or
#: complication is listed as must-not-miss; ``screen_threshold``, the probability that at least one parent cause
#: of a complication is present at or above which its red-flag findings are asked first.
NODE_THRESHOLDS = {
    "action_threshold": (("cause", "complication"), "an action threshold marks a serious cause or complication as "
                         "must-not-miss",
                         "the posterior at or above which the node is listed as must-not-miss, e.g. 0.05"),
    "screen_threshold": (("complication",), "a screen threshold puts a complication's red-flag questions first",
                         "the probability that at least one parent cause is present at or above which the "
                         "complication's red-flag questions come first, e.g. 0.25"),
}
NODE_EXTRA_COLUMNS = tuple(NODE_THRESHOLDS)
#: First characters that make a spreadsheet run a cell as a formula (CSV injection).
FORMULA_START = ("=", "+", "-", "@")


def _close(word, choices):
    return close_names(word, choices)


def _closest(word, choices):
    """A 'Did you mean' hint naming up to three close choices (``" Did you mean 'role'?"``), or ``""``."""
    match = _close(word, choices)
    return f" Did you mean {' or '.join(repr(m) for m in match)}?" if match else ""


class _Checker:
    """Collects problems while walking the tables; one instance per check.

    ``bad_nodes`` names the nodes a problem was found for; later steps skip
    them, so a problem is reported once, where it is, not again downstream.
    """

    closest = staticmethod(_closest)

    def __init__(self):
        self.problems = []
        self.bad_nodes = set()
        self.labels = {}
        self.unknown = {}  # (file, column, name) -> (table, lines naming an unknown node); see report_unknown

    def fail(self, message, *nodes):
        self.problems.append(message)
        self.bad_nodes.update(n for n in nodes if n)

    # --- cells -------------------------------------------------------------
    def number(self, table, line, column, text, *, low=-math.inf, high=math.inf, node=None, what="a number"):
        """The cell as a finite float within [low, high], or None (problem recorded)."""
        value = float(text) if NUMBER.match(text) else math.nan
        if low <= value <= high and math.isfinite(value):
            return value
        if math.isfinite(value):
            self.fail(f"{table.where(line, column)}: must be {what}. Got {text} instead.", node)
        else:
            shown = "an empty cell" if text == "" else repr(text)
            self.fail(f"{table.where(line, column)}: must be {what}. Got {shown} instead. "
                      "Write a plain decimal such as 0.25.", node)
        return None

    def parameter(self, table, line, row, value_column, node, *, probability=True):
        """Check value, low, high, source and grade of one parameter row; returns the three numbers."""
        texts = row[value_column], row["low"], row["high"]
        if row["source"] and row["grade"] in GRADES and all(NUMBER.match(text) for text in texts):
            value, low, high = map(float, texts)  # the common case, checked fast; problems take the long way
            if 0.0 <= low <= value <= high <= (1.0 if probability else math.inf) and math.isfinite(high) \
                    and (probability or value > 0):
                return value, low, high
        what = "a probability between 0 and 1" if probability else "a positive relative risk"
        high = 1.0 if probability else math.inf
        values = [self.number(table, line, c, row[c], low=0.0, high=high, node=node, what=what)
                  for c in (value_column, "low", "high")]
        if probability is False and values[0] == 0.0:
            self.fail(f"{table.where(line, value_column)}: must be a positive relative risk. Got 0 instead.", node)
            values[0] = None
        value, low, high = values
        if None not in values and not low <= value <= high:
            self.fail(f"{table.where(line)}: the range must hold the value: low {row['low']} <= "
                      f"{value_column} {row[value_column]} <= high {row['high']} does not hold. "
                      "Widen the range or correct the value.", node)
        if row["grade"] not in GRADES:
            self.fail(f"{table.where(line, 'grade')}: must be one of M, D, E. Got {row['grade']!r} instead.", node)
        if not row["source"]:
            self.fail(f"{table.where(line, 'source')}: is empty. Every parameter needs its source "
                      "(citation keys, or 'expert judgement' and why).", node)
        return value, low, high

    # --- names ---------------------------------------------------------------
    def known_node(self, table, line, column, name, nodes):
        """True for a well-defined node; an unknown name is noted, a faulty node is skipped quietly."""
        if name in nodes:
            return nodes[name]["ok"]
        self.unknown.setdefault((table.name, column, name), (table, []))[1].append(line)
        return False

    def report_unknown(self, nodes):
        """One problem per unknown name and column of a table, listing every line it is on."""
        for (_, column, name), (table, lines) in self.unknown.items():
            more = ""
            if len(lines) > 1:
                shown = ", ".join(map(str, lines[1:11])) + (" and others" if len(lines) > 11 else "")
                more = f" The same name is on {len(lines) - 1} more {table.row_word}(s): {shown}."
            # The nodes it was probably meant to be are skipped downstream: their rows look incomplete.
            self.fail(f"{table.where(lines[0], column)}: unknown node {name!r}.{_closest(name, nodes)} Every node "
                      f"must be defined in nodes.csv.{more}", *_close(name, nodes))
        self.unknown.clear()

    def active_state(self, table, line, column, node, state, nodes):
        """A state that must be one of the node's non-reference states."""
        states = nodes[node]["states"]
        if state in states[1:]:
            return True
        if state == states[0]:
            self.fail(f"{table.where(line, column)}: {state!r} is the reference state of {node!r}; rows give "
                      f"the other states ({', '.join(states[1:])}).", node)
        else:
            self.fail(f"{table.where(line, column)}: {node!r} has no state {state!r}.{_closest(state, states)} "
                      f"Its states are {', '.join(states)}.", node)
        return False

    def columns(self, table, required, optional=(), extra_ok=(), *, rows_needed=False):
        """Report missing and unknown columns; True when the table is usable.

        A table with a header and no rows means "none", unless ``rows_needed``.
        """
        present = list(table.frame.columns)
        allowed = set(required) | set(optional) | set(extra_ok)
        missing = [c for c in required if c not in present]
        header = f"{table.name}, line 1" if table.row_word == "line" else f"{table.name}, columns"
        for column in missing:
            self.fail(f"{header}: missing column {column!r}. The header needs "
                      f"{', '.join(required)}.")
        for column in present:
            if column not in allowed:
                self.fail(f"{header}: unknown column {column!r}.{_closest(column, allowed)} "
                          f"Allowed columns: {', '.join(sorted(allowed))}.")
        if not missing and table.frame.empty and rows_needed:
            self.fail(f"{header}: has a header but no rows. Add the rows.")
        return not missing

    def unique(self, table, rows, keys, describe):
        seen = {}
        key_of = itemgetter(*keys)
        for line, row in rows:
            key = key_of(row)
            if key in seen:
                self.fail(f"{table.where(line)}: duplicated {describe} {', '.join(key)} (first on "
                          f"{table.row_word} {seen[key]}). Keep one row.", key[0])
            else:
                seen[key] = line


def _check_nodes(chk, table, rows):
    """Node definitions by name: ``line``, ``states`` (a tuple), ``ok`` (usable) and the nodes.csv cells."""
    nodes = {}
    for line, row in rows:
        name = row["node"]
        if not NODE_NAME.match(name) or name in RESERVED:
            chk.fail(f"{table.where(line, 'node')}: {name!r} is not a valid node name. Use a letter followed "
                     "by letters, digits or underscores (not a reserved column name).")
            continue
        if len(name) > NAME_LIMIT:
            chk.fail(f"{table.where(line, 'node')}: the node name {name[:20]}... has {len(name)} characters; at most "
                     f"{NAME_LIMIT} can be saved (a full CPT is the file cpts/<node>.csv). Use a shorter name.")
            continue
        if name in nodes:
            chk.fail(f"{table.where(line, 'node')}: duplicated node {name!r} (first on line "
                     f"{nodes[name]['line']}). Keep one row per node.", name)
            continue
        states = tuple(s.strip() for s in row["states"].split("|"))
        ok = True
        if len(states) < 2:
            chk.fail(f"{table.where(line, 'states')}: node {name!r} has fewer than two states "
                     f"({row['states']!r}). List at least two, separated by '|'.", name)
            ok = False
        if len(set(states)) != len(states):
            chk.fail(f"{table.where(line, 'states')}: node {name!r} repeats a state ({row['states']!r}). "
                     "Each state must appear once.", name)
            ok = False
        for state in states:
            if not STATE_NAME.match(state):
                chk.fail(f"{table.where(line, 'states')}: {state!r} is not a valid state name. A state may be "
                         "any text but empty, '|' (the separator), control characters or spaces at either end; "
                         "remove them.", name)
                ok = False
            elif len(state) > NAME_LIMIT:
                chk.fail(f"{table.where(line, 'states')}: the state name {state[:20]}... of {name!r} has "
                         f"{len(state)} characters; at most {NAME_LIMIT} are allowed. Use a shorter name.", name)
                ok = False
        for column, allowed in (("role", ROLES), ("form", FORMS)):
            if row[column] not in allowed:
                chk.fail(f"{table.where(line, column)}: must be one of {', '.join(allowed)}. Got "
                         f"{row[column]!r} instead.{_closest(row[column], allowed)}", name)
                ok = False
        if row["role"] == "mechanism" and row["form"] in FORMS and row["form"] not in MECHANISM_FORMS:
            chk.fail(f"{table.where(line, 'form')}: {name!r} is a mechanism, a hidden node between its parent "
                     f"causes and its findings, so its form must be one of {', '.join(MECHANISM_FORMS)}. Got "
                     f"{row['form']!r} instead. Give it parents (links.csv or a CPT), or make it a cause.", name)
        finding_type = row.get("finding_type", "")
        if finding_type and row["role"] in ROLES and row["role"] != "finding":
            chk.fail(f"{table.where(line, 'finding_type')}: {name!r} is a {row['role']}, not a finding; "
                     f"finding_type is only for findings. Got {finding_type!r}; leave the cell empty.", name)
        elif finding_type and finding_type not in FINDING_TYPES:
            chk.fail(f"{table.where(line, 'finding_type')}: must be one of {', '.join(FINDING_TYPES)} (or empty). "
                     f"Got {finding_type!r} instead.{_closest(finding_type, FINDING_TYPES)}", name)
        if row["form"] == "relative_risk" and len(states) != 2:
            chk.fail(f"{table.where(line, 'form')}: the relative_risk form needs a two-state node; "
                     f"{name!r} has {len(states)}. Use a full CPT instead.", name)
        emergency = row.get("emergency_state", "")
        if emergency and emergency not in states:
            chk.fail(f"{table.where(line, 'emergency_state')}: {emergency!r} is not a state of {name!r}."
                     f"{_closest(emergency, states)} Its states are {', '.join(states)}.", name)
        elif emergency and emergency == states[0]:
            chk.fail(f"{table.where(line, 'emergency_state')}: {emergency!r} is the reference (first) state of "
                     f"{name!r}, the state of patients without the finding, so the red flag would be raised for "
                     f"them. Give the state that signals the emergency ({', '.join(states[1:])}), or leave the "
                     "cell empty.", name)
        cost = row.get("cost", "")
        cost = chk.number(table, line, "cost", cost, low=0.0, node=name,
                          what="empty or a non-negative number") if cost else np.nan
        thresholds = {column: _threshold(chk, table, line, row, name, column) for column in NODE_THRESHOLDS}
        nodes[name] = dict(line=line, states=states, role=row["role"], form=row["form"], ok=ok,
                           label=row.get("label", ""), question=row.get("question", ""),
                           cost=np.nan if cost is None else cost, emergency_state=emergency,
                           finding_type=finding_type, **thresholds)
    return nodes


def _threshold(chk, table, line, row, name, column):
    """One threshold cell (:data:`NODE_THRESHOLDS`) of a nodes.csv row as a float (NaN when empty or wrong;
    problems recorded). Only the roles of :data:`NODE_THRESHOLDS` may have one; a probability above 0, at most 1.
    """
    text = row.get(column, "")
    if not text:
        return np.nan
    roles, does, what = NODE_THRESHOLDS[column]
    if row["role"] in ROLES and row["role"] not in roles:
        chk.fail(f"{table.where(line, column)}: {name!r} is a {row['role']}; {does}. Got {text!r}; leave the "
                 "cell empty.", name)
        return np.nan
    value = chk.number(table, line, column, text, low=0.0, high=1.0, node=name,
                       what=f"empty or a probability above 0 and at most 1 ({what})")
    if value == 0.0:
        chk.fail(f"{table.where(line, column)}: must be above 0 (a threshold of 0 would hold for every patient, "
                 f"{name!r} included). Got {text} instead; use e.g. {what.rsplit('e.g. ', 1)[-1]}, or leave the "
                 "cell empty.", name)
    return np.nan if value is None or value == 0.0 else value


def _check_text_cells(chk, table):
    """NUL bytes in any cell, and free-text cells (:data:`TEXT_COLUMNS`) a spreadsheet would run as a formula."""
    for column in table.frame.columns:
        text_column = column in TEXT_COLUMNS
        for line, value in zip(table.frame.index.tolist(), table.frame[column].tolist()):
            if "\x00" in value:
                chk.fail(f"{table.where(line, column)}: contains a NUL byte (character 0), which is not text: the "
                         "file was probably saved by a program in a binary format. Delete the character, or save the "
                         "file again as CSV UTF-8.")
            elif text_column and value.startswith(FORMULA_START):
                chk.fail(f"{table.where(line, column)}: starts with {value[0]!r}, so a spreadsheet would run it as a "
                         f"formula (got {value[:30]!r}). Reword it to start with a letter or digit.")


def _check_risk_factor_roles(chk, table, rows, nodes):
    """The ``risk_factor`` column of risk_factors.csv names risk factors, never a cause or a finding."""
    rank = {role: i for i, role in enumerate(ROLES)}
    for line, row in rows:
        info, cause = nodes.get(row["risk_factor"]), nodes.get(row["cause"])
        # an edge against the roles (a finding above a cause) is reported with the other edges
        if info is not None and cause is not None and info["role"] != "risk_factor" \
                and info["ok"] and cause["ok"] and rank[info["role"]] <= rank[cause["role"]]:
            chk.fail(f"{table.where(line, 'risk_factor')}: {row['risk_factor']!r} is a {info['role']} (nodes.csv, "
                     f"line {info['line']}), not a risk factor; risk_factors.csv gives the relative risks of risk "
                     f"factors on causes. Give {row['cause']!r} a full CPT if it truly depends on "
                     f"{row['risk_factor']!r}, or remove the row.", row["cause"])


def _check_population(chk, table, rows, nodes):
    """The rows of population.csv: an existing finding or risk factor, one of its states, a description,
    each node once. Returns the rows that passed, as ``(line, row)``."""
    seen, typed = {}, []
    for line, row in rows:
        name, state = row["node"], row["state"]
        if name in seen:
            chk.fail(f"{table.where(line, 'node')}: {name!r} is given twice (first on {table.row_word} "
                     f"{seen[name]}). The population gives each node one state; keep one row.")
            continue
        seen[name] = line
        if not chk.known_node(table, line, "node", name, nodes):
            continue
        info, ok = nodes[name], True
        if info["role"] not in POPULATION_ROLES:
            chk.fail(f"{table.where(line, 'node')}: {name!r} is a {info['role']} (nodes.csv, line {info['line']}); "
                     f"the population is defined by what is observed at entry: a "
                     f"{' or a '.join(r.replace('_', ' ') for r in POPULATION_ROLES)}. Choose one, or remove the row.")
            ok = False
        if state not in info["states"]:
            chk.fail(f"{table.where(line, 'state')}: {name!r} has no state {state!r}.{_closest(state, info['states'])} "
                     f"Its states are {', '.join(info['states'])}.")
            ok = False
        if not row["description"]:
            chk.fail(f"{table.where(line, 'description')}: is empty. Describe the population in words (e.g. "
                     "'Adults presenting in primary care with pain in the back of the thigh').")
            ok = False
        if ok:
            typed.append((line, row))
    return typed


TABLE_SPECS = {  # file: (state references, owning node column, forms allowed, value column, unique key, its name)
    "base_rates.csv": ([("node", "state")], "node", ("base_rate", "relative_risk"), "probability",
                       ("node", "state"), "base rate for"),
    "risk_factors.csv": ([("risk_factor", "state")], "cause", ("relative_risk",), "relative_risk",
                         ("cause", "risk_factor", "state"), "relative risk for"),
    "links.csv": ([("parent", "parent_state"), ("child", "child_state")], "child", ("noisy_or", "logistic"),
                  "probability", ("child", "parent", "parent_state", "child_state"), "link for"),
    "leaks.csv": ([("node", "state")], "node", ("noisy_or", "logistic"), "probability", ("node", "state"), "leak for"),
}


def _check_rows(chk, table, rows, nodes, spec):
    """Shared walk over base_rates, risk_factors, links and leaks rows.

    ``spec`` (see :data:`TABLE_SPECS`) gives, for this table: the (node column,
    state column) pairs that must name an existing node and one of its active
    states, the node whose form decides where the row belongs, the forms
    allowed there, and the value column. With ``nodes`` None (nodes.csv
    unusable) only the cells are checked. Returns the typed rows that passed.
    """
    refs, owner, forms, value_column, *_ = spec
    owner_unchecked = nodes is not None and owner not in (node_column for node_column, _ in refs)
    typed = []
    for line, row in rows:
        ok = nodes is not None
        for node_column, state_column in refs if ok else ():
            name = row[node_column]
            if not chk.known_node(table, line, node_column, name, nodes):
                ok = False
            elif not chk.active_state(table, line, state_column, name, row[state_column], nodes):
                ok = False
        target = row[owner]
        if owner_unchecked:  # risk_factors.csv: the cause
            ok = chk.known_node(table, line, owner, target, nodes) and ok
        info = nodes.get(target) if nodes else None
        if info and info["ok"] and info["form"] not in forms:
            chk.fail(f"{table.where(line, owner)}: node {target!r} has form {info['form']!r} in nodes.csv "
                     f"(line {info['line']}), so it cannot also be defined by rows in {table.name}. Remove this "
                     f"row, or change its form to {' or '.join(forms)}.", target)
            ok = False
        value, low, high = chk.parameter(table, line, row, value_column, target,
                                         probability=value_column == "probability")
        if ok and None not in (value, low, high):
            typed.append((line, row, value, low, high))
    return typed


def _edges(chk, nodes, usable, typed, cpts):
    """Parent -> child edges with where they were declared; role direction checked."""
    rank = {role: i for i, role in enumerate(ROLES)}
    declared = []
    for name, parent_column, child_column in (("risk_factors.csv", "risk_factor", "cause"),
                                              ("links.csv", "parent", "child")):
        declared += [(usable[name].where(line), row[parent_column], row[child_column])
                     for line, row, *_ in typed.get(name, ())]
    for node, (table, parents, _) in cpts.items():
        declared += [(table.where(1, parent), parent, node) for parent in parents]
    edges = {}
    for where, parent, child in declared:
        if parent == child:
            chk.fail(f"{where}: {parent!r} cannot be its own parent.", child)
            continue
        roles = nodes[parent]["role"], nodes[child]["role"]
        if rank[roles[0]] > rank[roles[1]]:
            chk.fail(f"{where}: edge {parent} ({roles[0]}) -> {child} ({roles[1]}) goes against the roles: "
                     f"edges run {' -> '.join(ROLES)}. Reverse it or fix the roles in nodes.csv.", child)
        edges.setdefault((parent, child), where)
    return edges


def _cycles(chk, nodes, edges):
    """Report every cycle, naming where its edges are declared: find one, break it, look again."""
    parents = {}
    for parent, child in edges:
        parents.setdefault(child, {})[parent] = None  # dicts, not sets: the same cycle is found every time
    while True:
        try:
            graphlib.TopologicalSorter(parents).prepare()
            return
        except graphlib.CycleError as err:
            cycle = err.args[1][:-1]  # each a parent of the next, the first repeated at the end
        first = min(range(len(cycle)), key=lambda i: nodes[cycle[i]]["line"])
        cycle = cycle[first:] + cycle[:first + 1]  # start from the node first in nodes.csv
        steps = ", ".join(f"{a} -> {b} ({edges[a, b]})" for a, b in zip(cycle, cycle[1:]))
        chk.fail(f"cycle in the network: {' -> '.join(cycle)}. A node cannot depend on itself; remove one of "
                 f"these edges: {steps}.", *cycle)
        del parents[cycle[1]][cycle[0]]


def check_priors(tables, cpt_tables, problems=(), *, origin="<in memory>"):
    """Check raw tables and return validated :class:`~model.priors.tables.Priors`.

    Parameters
    ----------
    tables : dict of str to RawTable
        The canonical tables by file name (``"nodes.csv"`` ...); absent files
        omitted, files present but unreadable given as None.
    cpt_tables : dict of str to RawTable
        Full-CPT tables by node name (None for an unreadable file).
    problems : sequence of str
        Problems already met while reading; reported together with the rest.
    origin : str
        The folder the tables came from, for messages.

    Raises
    ------
    PriorsError
        Listing every problem found.

    Examples
    --------
    >>> from model.priors.tables import RawTable
    >>> nodes = RawTable("nodes.csv", pd.DataFrame([["rain", "cause", "no|yes", "base_rate", ""]], index=[2],
    ...                                            columns=["node", "role", "states", "form", "parents"]))
    >>> rates = RawTable("base_rates.csv", pd.DataFrame([["rain", "yes", "0.2", "0.1", "nan", "a guess", "E"]],
    ...                  index=[2], columns=["node", "state", "probability", "low", "high", "source", "grade"]))
    >>> check_priors({"nodes.csv": nodes, "base_rates.csv": rates}, {})
    Traceback (most recent call last):
    ...
    model.errors.PriorsError: 1 problem in <in memory>:
      - base_rates.csv, line 2, column 'high': must be a probability between 0 and 1. Got 'nan' instead. ...
    """
    chk = _Checker()
    chk.problems.extend(problems)
    chk.labels = {file: (table.name, table.row_word) for file, table in tables.items() if table is not None}
    chk.labels.update({t.name: (t.name, t.row_word) for t in cpt_tables.values() if t is not None})
    if "nodes.csv" not in tables:
        chk.fail(f"nodes.csv: missing file in {origin}. Every priors folder needs nodes.csv.")
    for table in [*tables.values(), *cpt_tables.values()]:
        if table is not None:
            _check_text_cells(chk, table)
    usable = {name: table for name, table in tables.items()
              if table is not None and chk.columns(table, *TABLE_FILES[name], rows_needed=name == "nodes.csv",
                                             extra_ok=NODE_EXTRA_COLUMNS if name == "nodes.csv" else ())}
    rows = {name: table.rows() for name, table in usable.items()}
    if "nodes.csv" not in usable or usable["nodes.csv"].frame.empty:  # no nodes: only cells can be checked
        for name, spec in TABLE_SPECS.items():
            if name in usable:
                _check_rows(chk, usable[name], rows[name], None, spec)
        raise PriorsError(chk.problems, where=origin)
    nodes = _check_nodes(chk, usable["nodes.csv"], rows["nodes.csv"])
    check_files(chk, tables, usable, nodes)
    typed = {}
    for name, spec in TABLE_SPECS.items():
        if name in usable:
            chk.unique(usable[name], rows[name], *spec[4:])
            typed[name] = _check_rows(chk, usable[name], rows[name], nodes, spec)
            chk.report_unknown(nodes)
    if "risk_factors.csv" in usable:
        _check_risk_factor_roles(chk, usable["risk_factors.csv"], rows["risk_factors.csv"], nodes)
    population = None
    if "population.csv" in usable:
        population = _check_population(chk, usable["population.csv"], rows["population.csv"], nodes)
        chk.report_unknown(nodes)
    cpts = {}
    for node, table in cpt_tables.items():
        result = check_cpt_file(chk, node, table, nodes) if table is not None else None
        if result is None:
            chk.bad_nodes.add(node)
        else:
            cpts[node] = (table, *result)
    check_declared_parents(chk, usable["nodes.csv"], nodes, usable, rows, cpts)
    _cycles(chk, nodes, _edges(chk, nodes, usable, typed, cpts))
    node_tables = expand_nodes(chk, nodes, typed, {n: (t.name, p, c) for n, (t, p, c) in cpts.items()})
    if chk.problems:
        raise PriorsError(chk.problems, where=origin)
    return Priors(_node_frame(nodes), _typed_tables(typed, cpts, population), node_tables, origin=origin)


def _node_frame(nodes):
    columns = ("role", "states", "form", "label", "question", "cost", "emergency_state", "finding_type")
    data = {c: [info[c] for info in nodes.values()] for c in columns}
    data["cost"] = np.array(data["cost"], dtype=float)
    for column in NODE_THRESHOLDS:  # only when some node has one: priors without the column keep their digest
        thresholds = np.array([info[column] for info in nodes.values()], dtype=float)
        if not np.isnan(thresholds).all():
            data[column] = thresholds
    return pd.DataFrame(data, index=pd.Index(list(nodes), name="node"))


def _typed_tables(typed, cpts, population=None):
    """Typed frames shaped like the CSVs, columns in a fixed order (file order does not matter)."""
    out = {}
    for name, rows in typed.items():
        if not rows:  # a file with its header only: none (the same priors as without the table)
            continue
        value_column = TABLE_SPECS[name][3]
        values = [(line, {**row, value_column: v, "low": lo, "high": hi}) for line, row, v, lo, hi in rows]
        out[name.removesuffix(".csv")] = typed_frame(values, TABLE_FILES[name][0], (value_column, "low", "high"))
    if population:
        out["population"] = typed_frame(population, TABLE_FILES["population.csv"][0], ())
    for node, (table, parents, _) in cpts.items():
        columns = list(parents) + [node, "probability"] + list(PARAMETER_COLUMNS)
        out[f"{CPT_FOLDER}/{node}"] = typed_frame(table.rows(), columns, ("probability", "low", "high"))
    return out


def check_renamed(table):
    """Check ``renamed.csv`` (old names and what replaced them); return its rows as a DataFrame.

    Columns :data:`RENAMED_COLUMNS`; ``old_node`` and ``new_node`` are node
    names, ``old_state`` and ``new_state`` state names or empty (the whole
    node), and each ``(old_node, old_state)`` is given once.

    Raises
    ------
    PriorsError
        Every problem, with line and column.

    Examples
    --------
    >>> from model.priors.tables import RawTable
    >>> frame = pd.DataFrame([["worse_bending_forward", "yes", "flexion_effect", "worsens", ""]], index=[2],
    ...                      columns=list(RENAMED_COLUMNS))
    >>> check_renamed(RawTable("renamed.csv", frame)).loc[0, "new_state"]
    'worsens'
    """
    chk = _Checker()
    _check_text_cells(chk, table)
    if chk.columns(table, RENAMED_COLUMNS[:3], RENAMED_COLUMNS[3:]) and not table.frame.empty:
        seen = {}
        for line, row in table.rows():
            for column, pattern, what in (("old_node", NODE_NAME, "node"), ("new_node", NODE_NAME, "node"),
                                          ("old_state", STATE_NAME, "state"), ("new_state", STATE_NAME, "state")):
                value = row.get(column, "")
                if (value or what == "node") and not pattern.match(value):
                    shown = "an empty cell" if value == "" else repr(value)
                    chk.fail(f"{table.where(line, column)}: must be a {what} name. Got {shown} instead.")
            key = (row["old_node"], row["old_state"])
            if key in seen:
                chk.fail(f"{table.where(line)}: {'='.join(k for k in key if k)} is given twice (first on line "
                         f"{seen[key]}). Keep one row.")
            seen.setdefault(key, line)
    if chk.problems:
        raise PriorsError(chk.problems, where=table.name)
    frame = table.frame.reindex(columns=list(RENAMED_COLUMNS), fill_value="")
    return frame.reset_index(drop=True).astype(object)
