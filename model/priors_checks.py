"""Check raw priors tables and turn them into validated :class:`~model.tables.Priors`.

Every rule of ``priors/README.md`` is checked here, and every problem is
collected before anything is raised, so one :class:`~model.errors.PriorsError`
lists them all, each with its file, line, column, offending value and fix.
Pure: takes tables, returns values, touches no file.
"""

from __future__ import annotations

import difflib
import re
from itertools import product

import numpy as np
import pandas as pd

from .errors import PriorsError
from .forms import NodeTable, configurations, logistic_table, noisy_max_table, relative_risk_table
from .tables import CPT_FOLDER, PARAMETER_COLUMNS, TABLE_FILES, Priors, RawTable

__all__ = ["TOLERANCE", "check_priors"]

#: The one tolerance for sums of probabilities.
TOLERANCE = 1e-6
NODE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
STATE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+\-]*\Z")
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\Z")
RESERVED = frozenset({"probability", "low", "high", "source", "grade", "state"})
ROLES = ("risk_factor", "cause", "complication", "finding")
FORMS = ("base_rate", "relative_risk", "noisy_or", "logistic", "cpt")
GRADES = ("M", "D", "E")
CANONICAL_FILE = {"base_rate": "base_rates.csv", "relative_risk": "base_rates.csv",
                  "noisy_or": "links.csv", "logistic": "links.csv"}


def _closest(word, choices):
    match = difflib.get_close_matches(word, list(choices), n=3, cutoff=0.5)
    return f" Did you mean {' or '.join(repr(m) for m in match)}?" if match else ""


class _Checker:
    """Collects problems while walking the tables; one instance per check."""

    def __init__(self):
        self.problems = []
        self.bad_nodes = set()

    def fail(self, message, *nodes):
        self.problems.append(message)
        self.bad_nodes.update(n for n in nodes if n)

    # --- cells -------------------------------------------------------------
    def number(self, table, line, column, text, *, low=None, high=None, node=None, what="a number"):
        if not NUMBER.match(text):
            shown = "an empty cell" if text == "" else repr(text)
            self.fail(f"{table.where(line, column)}: must be {what}. Got {shown} instead. "
                      "Write a plain decimal such as 0.25.", node)
            return None
        value = float(text)
        if (low is not None and value < low) or (high is not None and value > high):
            self.fail(f"{table.where(line, column)}: must be {what}. Got {text} instead.", node)
            return None
        return value

    def parameter(self, table, line, row, value_column, node, *, probability=True):
        """Check value, low, high, source and grade of one parameter row."""
        what = "a probability between 0 and 1" if probability else "a positive relative risk"
        bounds = dict(low=0.0, high=1.0) if probability else dict(low=0.0)
        values = [self.number(table, line, c, row[c], node=node, what=what, **bounds)
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
        if name in nodes:
            return True
        self.fail(f"{table.where(line, column)}: unknown node {name!r}.{_closest(name, nodes)} "
                  "Every node must be defined in nodes.csv.")
        return False

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

    def columns(self, table, required, optional=(), extra_ok=()):
        """Report missing and unknown columns; True when the table is usable."""
        present = list(table.frame.columns)
        allowed = set(required) | set(optional) | set(extra_ok)
        missing = [c for c in required if c not in present]
        for column in missing:
            self.fail(f"{table.name}, line 1: missing column {column!r}. The header needs "
                      f"{', '.join(required)}.")
        for column in present:
            if column not in allowed:
                self.fail(f"{table.name}, line 1: unknown column {column!r}.{_closest(column, allowed)} "
                          f"Allowed columns: {', '.join(sorted(allowed))}.")
        if not missing and table.frame.empty:
            self.fail(f"{table.name}: has a header but no rows. Add the rows, or delete the file if "
                      "no node needs it.")
        return not missing

    def unique(self, table, keys, describe):
        seen = {}
        for line, row in table.frame.iterrows():
            key = tuple(row[k] for k in keys)
            if key in seen:
                self.fail(f"{table.where(line)}: duplicated {describe} {', '.join(key)} (first on "
                          f"{table.row_word} {seen[key]}). Keep one row.", key[0])
            else:
                seen[key] = line
        return seen


def _check_nodes(chk, table):
    nodes = {}
    frame = table.frame
    for line, row in frame.iterrows():
        name = row["node"]
        if not NODE_NAME.match(name) or name in RESERVED:
            chk.fail(f"{table.where(line, 'node')}: {name!r} is not a valid node name. Use a letter followed "
                     "by letters, digits or underscores (not a reserved column name).")
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
                chk.fail(f"{table.where(line, 'states')}: {state!r} is not a valid state name. Use letters, "
                         "digits, '_', '.', '+' or '-', starting with a letter or digit.", name)
                ok = False
        if row["role"] not in ROLES:
            chk.fail(f"{table.where(line, 'role')}: must be one of {', '.join(ROLES)}. Got "
                     f"{row['role']!r} instead.{_closest(row['role'], ROLES)}", name)
            ok = False
        if row["form"] not in FORMS:
            chk.fail(f"{table.where(line, 'form')}: must be one of {', '.join(FORMS)}. Got "
                     f"{row['form']!r} instead.{_closest(row['form'], FORMS)}", name)
            ok = False
        if row["form"] == "relative_risk" and len(states) != 2:
            chk.fail(f"{table.where(line, 'form')}: the relative_risk form needs a two-state node; "
                     f"{name!r} has {len(states)}. Use a full CPT instead.", name)
        emergency = row.get("emergency_state", "")
        if emergency and emergency not in states:
            chk.fail(f"{table.where(line, 'emergency_state')}: {emergency!r} is not a state of {name!r}. "
                     f"Its states are {', '.join(states)}.", name)
        cost = row.get("cost", "")
        cost = chk.number(table, line, "cost", cost, low=0.0, node=name,
                          what="empty or a non-negative number") if cost else np.nan
        nodes[name] = dict(line=line, states=states, role=row["role"], form=row["form"], ok=ok,
                           label=row.get("label", "") or name, question=row.get("question", ""),
                           cost=np.nan if cost is None else cost, emergency_state=emergency)
    return nodes


def _check_rows(chk, table, nodes, spec):
    """Shared walk over base_rates, risk_factors, links and leaks rows.

    ``spec`` gives, for this table: the (node column, state column) pairs that
    must name an existing node and one of its active states, the node whose
    form decides where the row belongs, the forms allowed there, and the value
    column. Returns the typed rows that passed.
    """
    refs, owner, forms, value_column = spec
    typed = []
    for line, row in table.frame.iterrows():
        ok = True
        for node_column, state_column in refs:
            name = row[node_column]
            if not chk.known_node(table, line, node_column, name, nodes):
                ok = False
            elif not chk.active_state(table, line, state_column, name, row[state_column], nodes):
                ok = False
        target = row[owner]
        if target in nodes and nodes[target]["form"] not in forms:
            chk.fail(f"{table.where(line, owner)}: node {target!r} has form {nodes[target]['form']!r} in "
                     f"nodes.csv (line {nodes[target]['line']}), so it cannot also be defined by rows in "
                     f"{table.name}. Remove this row, or change its form to {' or '.join(forms)}.", target)
            ok = False
        value, low, high = chk.parameter(table, line, row, value_column, target,
                                         probability=value_column == "probability")
        if ok and None not in (value, low, high):
            typed.append((line, row, value, low, high))
    return typed


def _typed_frame(typed, columns, value_column):
    records = [{**{c: row[c] for c in columns}, value_column: v, "low": lo, "high": hi}
               for _, row, v, lo, hi in typed]
    frame = pd.DataFrame(records, columns=list(columns), index=[line for line, *_ in typed])
    return frame.astype({value_column: float, "low": float, "high": float})


TABLE_SPECS = {  # file: (state references, owning node column, forms allowed, value column)
    "base_rates.csv": ([("node", "state")], "node", ("base_rate", "relative_risk"), "probability"),
    "risk_factors.csv": ([("risk_factor", "state")], "cause", ("relative_risk",), "relative_risk"),
    "links.csv": ([("parent", "parent_state"), ("child", "child_state")], "child", ("noisy_or", "logistic"),
                  "probability"),
    "leaks.csv": ([("node", "state")], "node", ("noisy_or", "logistic"), "probability"),
}
UNIQUE_KEYS = {
    "base_rates.csv": (("node", "state"), "base rate for"),
    "risk_factors.csv": (("cause", "risk_factor", "state"), "relative risk for"),
    "links.csv": (("child", "parent", "parent_state", "child_state"), "link for"),
    "leaks.csv": (("node", "state"), "leak for"),
}


def _check_cpt(chk, node, table, nodes):
    """Check one full-CPT table; return (parents, values) or None."""
    if node not in nodes:
        chk.fail(f"{table.name}: names no node in nodes.csv ({node!r}).{_closest(node, nodes)} Rename the "
                 "file after its node, or add the node to nodes.csv with form cpt.")
        return None
    if nodes[node]["form"] != "cpt":
        chk.fail(f"{table.name}: node {node!r} is defined both by this file and by form "
                 f"{nodes[node]['form']!r} in nodes.csv (line {nodes[node]['line']}). Keep one: delete the "
                 "file, or set its form to cpt and remove its canonical rows.", node)
        return None
    required = (node, "probability") + PARAMETER_COLUMNS
    parents = [c for c in table.frame.columns if c not in required]
    usable = chk.columns(table, required, extra_ok=parents)
    for parent in parents:
        if parent not in nodes:
            chk.fail(f"{table.name}, line 1: column {parent!r} is not a node.{_closest(parent, nodes)} "
                     f"Columns other than {', '.join(required)} name the parents of {node!r}.", node)
            usable = False
    if not usable or not nodes[node]["ok"] or not all(nodes[p]["ok"] for p in parents):
        chk.bad_nodes.add(node)
        return None
    parents = sorted(parents, key=lambda p: nodes[p]["line"])
    columns = parents + [node]
    cells = {}
    for line, row in table.frame.iterrows():
        ok = True
        for column in columns:
            if row[column] not in nodes[column]["states"]:
                states = nodes[column]["states"]
                chk.fail(f"{table.where(line, column)}: {column!r} has no state {row[column]!r}."
                         f"{_closest(row[column], states)} Its states are {', '.join(states)}.", node)
                ok = False
        value, _, _ = chk.parameter(table, line, row, "probability", node)
        key = tuple(row[c] for c in columns)
        if key in cells:
            chk.fail(f"{table.where(line)}: duplicated configuration "
                     f"{', '.join(f'{c}={v}' for c, v in zip(columns, key))} (first on line {cells[key][0]}). "
                     "Keep one row.", node)
        elif ok and value is not None:
            cells[key] = (line, value)
    parent_states = [nodes[p]["states"] for p in parents]
    states = nodes[node]["states"]
    values = np.zeros((len(states), len(configurations(parent_states))))
    complete = True
    for j, config in enumerate(product(*parent_states)):
        named = ", ".join(f"{p}={s}" for p, s in zip(parents, config)) or "(no parents)"
        missing = [s for s in states if config + (s,) not in cells]
        if missing:
            chk.fail(f"{table.name}: missing parent configuration {named} for state(s) {', '.join(missing)}. "
                     "Add one row per parent configuration and state.", node)
            complete = False
            continue
        lines = [cells[config + (s,)][0] for s in states]
        values[:, j] = [cells[config + (s,)][1] for s in states]
        total = values[:, j].sum()
        if abs(total - 1.0) > TOLERANCE:
            chk.fail(f"{table.name}, lines {', '.join(map(str, lines))}: the probabilities for {named} sum to "
                     f"{total:.6g}, not 1 (tolerance {TOLERANCE:g}). Make them add up to 1.", node)
            complete = False
    return (tuple(parents), values) if complete else None


def _edges(chk, nodes, typed, cpts):
    """Parent -> child edges with where they were declared; role direction checked."""
    rank = {role: i for i, role in enumerate(ROLES)}
    edges = {}
    declared = []
    for name, (parent_column, child_column) in (("risk_factors.csv", ("risk_factor", "cause")),
                                                ("links.csv", ("parent", "child"))):
        if name in typed:
            table, rows = typed[name]
            declared += [(table, line, row[parent_column], row[child_column]) for line, row, *_ in rows]
    for node, (table, parents) in cpts.items():
        declared += [(table, 1, parent, node) for parent in parents]
    for table, line, parent, child in declared:
        if parent == child:
            chk.fail(f"{table.where(line)}: {parent!r} cannot be its own parent.", child)
            continue
        roles = nodes[parent]["role"], nodes[child]["role"]
        if roles[0] in rank and roles[1] in rank and rank[roles[0]] > rank[roles[1]]:
            chk.fail(f"{table.where(line)}: edge {parent} ({roles[0]}) -> {child} ({roles[1]}) goes against "
                     f"the roles: edges run {' -> '.join(ROLES)}. Reverse it or fix the roles in nodes.csv.",
                     child)
        edges.setdefault((parent, child), (table, line))
    return edges


def _cycles(chk, nodes, edges):
    import networkx as nx

    graph = nx.DiGraph(list(edges))
    for component in nx.strongly_connected_components(graph):
        if len(component) > 1:
            cycle = next(nx.simple_cycles(graph.subgraph(component)))
            path = " -> ".join(cycle + [cycle[0]])
            chk.fail(f"cycle in the network: {path}. A node cannot depend on itself; remove one of these "
                     "edges.", *cycle)



def _by_node(typed, name, node_column):
    grouped = {}
    if name in typed:
        for line, row, value, *_ in typed[name][1]:
            grouped.setdefault(row[node_column], []).append((line, row, value))
    return grouped


def _expand(chk, nodes, typed, cpt_values, problem_nodes):
    """Check each node's rows are complete and expand them into a NodeTable."""
    base = _by_node(typed, "base_rates.csv", "node")
    risks = _by_node(typed, "risk_factors.csv", "cause")
    links = _by_node(typed, "links.csv", "child")
    leaks = _by_node(typed, "leaks.csv", "node")
    order = {name: info["line"] for name, info in nodes.items()}
    tables = {}
    for node, info in nodes.items():
        form, states, at = info["form"], info["states"], f"nodes.csv, line {info['line']}"
        if node in problem_nodes or not info["ok"] or form not in FORMS:
            continue
        if form == "cpt":
            if node in cpt_values:
                parents, values = cpt_values[node]
                tables[node] = NodeTable(node, states, parents, tuple(nodes[p]["states"] for p in parents), values)
            elif node not in chk.bad_nodes:
                chk.fail(f"{at}: node {node!r} has form cpt but there is no file {CPT_FOLDER}/{node}.csv. "
                         "Add the file, or give the node a canonical form.", node)
            continue
        source_file = "leaks.csv" if form in ("noisy_or", "logistic") else "base_rates.csv"
        own = {row["state"]: value for _, row, value in (leaks if source_file == "leaks.csv" else base).get(node, [])}
        missing = [s for s in states[1:] if s not in own]
        if missing:
            chk.fail(f"{at}: node {node!r} (form {form}) has no row in {source_file} for state(s) "
                     f"{', '.join(missing)}. Add one row per non-reference state.", node)
            continue
        first = own[states[1]]
        if form in ("base_rate", "relative_risk"):
            total = sum(own.values())
            if total > 1.0 + TOLERANCE:
                chk.fail(f"base_rates.csv: the probabilities of node {node!r} sum to {total:.6g}, more than 1; "
                         f"the reference state {states[0]!r} takes the remainder, so they must add up to at "
                         "most 1.", node)
                continue
            if form == "base_rate":
                values = np.array([[max(0.0, 1.0 - total)] + [own[s] for s in states[1:]]]).T
                tables[node] = NodeTable(node, states, (), (), values)
                continue
            parents = sorted({row["risk_factor"] for _, row, _ in risks.get(node, [])}, key=order.get)
            parent_states = tuple(nodes[p]["states"] for p in parents)
            rr = {(parents.index(row["risk_factor"]), nodes[row["risk_factor"]]["states"].index(row["state"])): v
                  for _, row, v in risks.get(node, [])}
            values, raw = relative_risk_table(first, rr, parent_states)
            too_high = [j for j, v in enumerate(raw) if v >= 1.0]
            if too_high:
                combos = [", ".join(f"{p}={s}" for p, s in zip(parents, cfg)) for cfg in product(*parent_states)]
                shown = "; ".join(f"{combos[j]} (product {raw[j]:.4g})" for j in too_high[:5])
                more = f" and {len(too_high) - 5} more" if len(too_high) > 5 else ""
                chk.fail(f"risk_factors.csv: the relative risks of {node!r} push its probability to 1 or more "
                         f"for {shown}{more}. Lower the baseline in base_rates.csv or the relative risks.", node)
                continue
            tables[node] = NodeTable(node, states, tuple(parents), parent_states, values)
            continue
        leak = [own[s] for s in states[1:]]
        parents = sorted({row["parent"] for _, row, _ in links.get(node, [])}, key=order.get)
        parent_states = tuple(nodes[p]["states"] for p in parents)
        grouped = {}
        for line, row, value in links.get(node, []):
            key = (parents.index(row["parent"]), nodes[row["parent"]]["states"].index(row["parent_state"]))
            grouped.setdefault(key, {})[row["child_state"]] = (line, value)
        ok = True
        for (p, s), by_state in grouped.items():
            label = f"link {parents[p]}={parent_states[p][s]} -> {node}"
            lacking = [c for c in states[1:] if c not in by_state]
            if lacking:
                chk.fail(f"links.csv: {label} has no row for child state(s) {', '.join(lacking)}. "
                         "Give one row per non-reference state of the child.", node)
                ok = False
                continue
            totals = [by_state[c][1] for c in states[1:]]
            lines = ", ".join(str(by_state[c][0]) for c in states[1:])
            if any(b > a + TOLERANCE for a, b in zip(totals, totals[1:])):
                chk.fail(f"links.csv, lines {lines}: {label} gives P(>= state) = {totals}, which increases along "
                         f"the ordered states {', '.join(states[1:])}; it must not increase.", node)
                ok = False
            for c, total, lk in zip(states[1:], totals, leak):
                line = by_state[c][0]
                if form == "noisy_or" and total < lk - 1e-12:
                    chk.fail(f"links.csv, line {line}, column 'probability': {label} total {total:g} is below the "
                             f"leak {lk:g} of {node!r}, so this cause would make {node}={c} less likely; noisy-OR "
                             "cannot express that. Set form logistic for this node in nodes.csv, or raise the "
                             "total to at least the leak.", node)
                    ok = False
                if form == "logistic" and not 0.0 < total < 1.0:
                    chk.fail(f"links.csv, line {line}, column 'probability': the logistic form needs totals "
                             f"strictly between 0 and 1. Got {total:g} for {label}.", node)
                    ok = False
        if any(b > a + TOLERANCE for a, b in zip(leak, leak[1:])):
            chk.fail(f"leaks.csv: the leak of {node!r} gives P(>= state) = {leak}, which increases along the "
                     "ordered states; it must not increase.", node)
            ok = False
        if form == "logistic" and not all(0.0 < lk < 1.0 for lk in leak):
            chk.fail(f"leaks.csv: the logistic form needs the leak of {node!r} strictly between 0 and 1. "
                     f"Got {leak}.", node)
            ok = False
        if not ok:
            continue
        link_totals = {key: [by_state[c][1] for c in states[1:]] for key, by_state in grouped.items()}
        expand = noisy_max_table if form == "noisy_or" else logistic_table
        values = expand(leak, link_totals, parent_states)
        negative = np.flatnonzero((values < -1e-12).any(axis=0))
        if negative.size:
            cfg = configurations(parent_states)[negative[0]]
            named = ", ".join(f"{p}={parent_states[i][k]}" for i, (p, k) in enumerate(zip(parents, cfg)))
            chk.fail(f"links.csv: for {node!r} with {named} the combined links give a higher probability to a "
                     f"higher state than to a lower one ({len(negative)} configuration(s)). Make the totals of "
                     "the higher states smaller, or use a full CPT.", node)
            continue
        tables[node] = NodeTable(node, states, tuple(parents), parent_states, np.clip(values, 0.0, 1.0))
    return tables


def check_priors(tables, cpt_tables, problems=(), *, origin="<in memory>"):
    """Check raw tables and return validated :class:`~model.tables.Priors`.

    Parameters
    ----------
    tables : dict of str to RawTable
        The canonical tables by file name (``"nodes.csv"`` ...); absent files omitted.
    cpt_tables : dict of str to RawTable
        Full-CPT tables by node name.
    problems : sequence of str
        Problems already met while reading; reported together with the rest.
    origin : str
        The folder the tables came from, for messages.

    Raises
    ------
    PriorsError
        Listing every problem found.
    """
    chk = _Checker()
    chk.problems.extend(problems)
    usable = {name: table for name, table in tables.items() if chk.columns(table, *TABLE_FILES[name])}
    nodes = _check_nodes(chk, usable["nodes.csv"]) if "nodes.csv" in usable else {}
    forms_used = {info["form"] for info in nodes.values()}
    for name, (_, _, forms, _) in TABLE_SPECS.items():
        needed = name != "risk_factors.csv" and forms_used & set(forms)
        if needed and name not in tables:
            users = [n for n, info in nodes.items() if info["form"] in forms]
            chk.fail(f"{name}: missing file, needed by {len(users)} node(s) with form "
                     f"{' or '.join(sorted(forms_used & set(forms)))} (e.g. {users[0]!r}). Add the file.", *users)
    typed = {}
    for name, spec in TABLE_SPECS.items():
        if name in usable:
            chk.unique(usable[name], *UNIQUE_KEYS[name])
            typed[name] = (usable[name], _check_rows(chk, usable[name], nodes, spec))
    cpt_values, cpt_parents = {}, {}
    for node, table in cpt_tables.items():
        result = _check_cpt(chk, node, table, nodes)
        if result is not None:
            cpt_values[node] = result
            cpt_parents[node] = (table, result[0])
    if nodes:
        _cycles(chk, nodes, _edges(chk, nodes, typed, cpt_parents))
    node_tables = _expand(chk, nodes, typed, cpt_values, set(chk.bad_nodes)) if nodes else {}
    if chk.problems:
        raise PriorsError(chk.problems, where=origin)
    return Priors(_node_frame(nodes), _typed_tables(typed, cpt_tables, node_tables), node_tables, origin=origin)


def _node_frame(nodes):
    frame = pd.DataFrame.from_dict(nodes, orient="index")
    frame.index.name = "node"
    return frame[["role", "states", "form", "label", "question", "cost", "emergency_state"]]


def _typed_tables(typed, cpt_tables, node_tables):
    out = {}
    for name, (table, rows) in typed.items():
        key = name.removesuffix(".csv")
        value_column = TABLE_SPECS[name][3]
        columns = [c for c in TABLE_FILES[name][0]]
        out[key] = _typed_frame(rows, columns, value_column)
    for node, table in cpt_tables.items():
        frame = table.frame.copy()
        for column in ("probability", "low", "high"):
            frame[column] = frame[column].astype(float)
        out[f"{CPT_FOLDER}/{node}"] = frame
    return out
