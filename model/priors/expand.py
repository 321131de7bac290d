"""Per-node completeness and expansion: from checked rows to full node tables.

The second half of checking a priors folder. :mod:`model.priors.checks`
checks columns, cells, names, references and the graph; this module checks
that each node has what its form needs (:func:`check_files`: the canonical
files; :func:`check_cpt_file`: a well-formed ``cpts/<node>.csv``) and, in
:func:`expand_nodes`, that its rows are complete and consistent (every state
and parent configuration given, sums within :data:`TOLERANCE`, link totals
compatible with the form), then expands them with :mod:`model.priors.forms` into a
:class:`~model.priors.forms.NodeTable`. Problems go to the caller's collector, so one
:class:`~model.errors.PriorsError` still lists them all. Pure: touches no file.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import product

import numpy as np

from .forms import NodeTable, configurations, logistic_table, noisy_max_table, relative_risk_table
from .tables import CPT_FOLDER, PARAMETER_COLUMNS

__all__ = ["FORM_FILES", "TOLERANCE", "check_cpt_file", "check_files", "expand_nodes"]

#: The one tolerance for sums of probabilities.
TOLERANCE = 1e-6
#: The canonical files each form takes its rows from.
FORM_FILES = {"base_rate": ("base_rates.csv",), "relative_risk": ("base_rates.csv", "risk_factors.csv"),
              "noisy_or": ("leaks.csv", "links.csv"), "logistic": ("leaks.csv", "links.csv")}


def _at(name, lines, labels=None):
    """``"links.csv, line 4"`` or ``"links.csv, lines 4, 7"``; ``labels`` maps a file name to the
    (name, row word) of an in-memory table, so edited tables read ``"links, rows 4, 7"``.

    Examples
    --------
    >>> _at("leaks.csv", [7, 3, 7])
    'leaks.csv, lines 3, 7'
    >>> _at("leaks.csv", [5], {"leaks.csv": ("leaks", "row")})
    'leaks, row 5'
    """
    name, word = (labels or {}).get(name, (name, "line"))
    lines = sorted(set(lines))
    return f"{name}, {word} {lines[0]}" if len(lines) == 1 else f"{name}, {word}s {', '.join(map(str, lines))}"


def _named(parents, parent_states, config):
    """``"a=yes, b=no"`` for a configuration of state indices."""
    return ", ".join(f"{p}={states[k]}" for p, states, k in zip(parents, parent_states, config)) or "(no parents)"


def _by_node(rows, column):
    grouped = {}
    for line, row, value, *_ in rows:
        grouped.setdefault(row[column], []).append((line, row, value))
    return grouped


def check_files(chk, tables, usable, nodes):
    """Report canonical tables the nodes' forms need but in-memory tables lack.

    ``chk`` is the problem collector (see :func:`expand_nodes`).
    ``tables`` holds every table given (None where a file is missing or
    unreadable: reading reported it), ``usable`` those with the right columns.
    Nodes whose table is given but unusable are skipped downstream: its
    problem is reported already.
    """
    for name in ("base_rates.csv", "risk_factors.csv", "links.csv", "leaks.csv"):
        users = [n for n, info in nodes.items() if name in FORM_FILES.get(info["form"], ())]
        if not users or name in usable:  # a file without rows: each node's missing rows are reported
            continue
        if name in tables:  # unreadable, missing from a folder or without its columns: reported already
            chk.bad_nodes.update(users)
        elif name != "risk_factors.csv":  # optional: a relative_risk node may have no risk factors
            used = sorted({nodes[n]["form"] for n in users})
            chk.fail(f"{name}: missing file, needed by {len(users)} node(s) with form {' or '.join(used)} "
                     f"(e.g. {users[0]!r}). Add the file.", *users)


def check_cpt_file(chk, node, table, nodes):
    """Check one full-CPT file's header and cells (its completeness is checked in :func:`expand_nodes`).

    ``chk`` is the problem collector (see :func:`expand_nodes`); ``nodes`` the
    checked node definitions. Returns ``(parents, cells)`` or None: ``parents`` in nodes.csv order,
    ``cells`` mapping (parent states..., node state) to ``(line,
    probability)``, the probability None where its cells are faulty.
    """
    if node not in nodes:
        chk.fail(f"{table.name}: names no node in nodes.csv ({node!r}).{chk.closest(node, nodes)} Rename the "
                 "file after its node, or add the node to nodes.csv with form cpt.")
        return None
    info = nodes[node]
    if info["ok"] and info["form"] != "cpt":
        chk.fail(f"{table.name}: node {node!r} is defined both by this file and by form {info['form']!r} in "
                 f"nodes.csv (line {info['line']}). Keep one: delete the file, or set its form to cpt and "
                 "remove its canonical rows.", node)
        return None
    required = (node, "probability") + PARAMETER_COLUMNS
    parents = [c for c in table.frame.columns if c not in required]
    usable = chk.columns(table, required, extra_ok=parents, rows_needed=True)
    for parent in parents:
        if parent not in nodes:
            chk.fail(f"{table.name}, line 1: column {parent!r} is not a node.{chk.closest(parent, nodes)} "
                     f"Columns other than {', '.join(required)} name the parents of {node!r}.", node)
            usable = False
    if not usable or table.frame.empty or not info["ok"] or not all(nodes[p]["ok"] for p in parents):
        chk.bad_nodes.add(node)
        return None
    parents = sorted(parents, key=lambda p: nodes[p]["line"])
    columns = parents + [node]
    known = {column: frozenset(nodes[column]["states"]) for column in columns}  # linear in the states, not quadratic
    cells = {}
    for line, row in table.rows():
        ok = True
        for column in columns:
            states = nodes[column]["states"]
            if row[column] not in known[column]:
                chk.fail(f"{table.where(line, column)}: {column!r} has no state {row[column]!r}."
                         f"{chk.closest(row[column], states)} Its states are {', '.join(states)}.", node)
                ok = False
        value, _, _ = chk.parameter(table, line, row, "probability", node)
        key = tuple(row[c] for c in columns)
        if key in cells:
            chk.fail(f"{table.where(line)}: duplicated configuration "
                     f"{', '.join(f'{c}={v}' for c, v in zip(columns, key))} (first on line {cells[key][0]}). "
                     "Keep one row.", node)
        elif ok:
            cells[key] = (line, value)
    return tuple(parents), cells


def expand_nodes(chk, nodes, typed, cpts):
    """Check each node's rows are complete and expand them into a NodeTable.

    Parameters
    ----------
    chk : object
        The problem collector of :mod:`model.priors.checks`: ``chk.fail(message,
        *nodes)`` records a problem, ``chk.bad_nodes`` names nodes already found
        faulty (they are skipped: their problem is reported where it is);
        ``columns``, ``parameter`` and ``closest`` check headers, parameter
        rows and suggest names.
    nodes : dict
        Node name to its checked definition (``states``, ``form``, ``line``, ``ok``).
    typed : dict
        File name to the rows that passed the cell checks, as
        ``(line, row, value, low, high)`` tuples.
    cpts : dict
        Node name to ``(file name, parents, cells)`` of its full-CPT file;
        ``cells`` maps (parent states..., node state) to ``(line, probability
        or None)``.

    Returns
    -------
    dict
        Node name to :class:`~model.priors.forms.NodeTable`, for the nodes that passed.
    """
    grouped = {name: _by_node(typed.get(name, ()), column) for name, column in (
        ("base_rates.csv", "node"), ("risk_factors.csv", "cause"), ("links.csv", "child"), ("leaks.csv", "node"))}
    order = {name: info["line"] for name, info in nodes.items()}
    skip = set(chk.bad_nodes)
    tables = {}
    for node, info in nodes.items():
        if node in skip or not info["ok"]:
            continue
        form = info["form"]
        if form == "cpt":
            if node not in cpts:
                chk.fail(f"nodes.csv, line {info['line']}: node {node!r} has form cpt but there is no file "
                         f"{CPT_FOLDER}/{node}.csv. Add the file, or give the node a canonical form.", node)
                continue
            table = _cpt_table(chk, node, info, *cpts[node], nodes)
        else:
            source = "base_rates.csv" if form in ("base_rate", "relative_risk") else "leaks.csv"
            own = _own_rows(chk, node, info, source, grouped[source])
            if own is None:
                continue
            if form in ("base_rate", "relative_risk"):
                table = _base_rate_table(chk, node, info, own, grouped["risk_factors.csv"], nodes, order)
            else:
                table = _link_table(chk, node, info, own, grouped["links.csv"], nodes, order)
        if table is not None:
            tables[node] = table
    return tables


def _cpt_table(chk, node, info, name, parents, cells, nodes):
    """A full CPT: every parent configuration and state given, each column summing to 1."""
    parent_states = tuple(nodes[p]["states"] for p in parents)
    states = info["states"]
    values = np.zeros((len(states), len(configurations(parent_states))))
    complete = True
    for j, config in enumerate(product(*parent_states)):
        named = ", ".join(f"{p}={s}" for p, s in zip(parents, config)) or "(no parents)"
        missing = [s for s in states if config + (s,) not in cells]
        if missing:
            chk.fail(f"{name}: missing parent configuration {named} for state(s) {', '.join(missing)}. "
                     "Add one row per parent configuration and state.", node)
            complete = False
            continue
        given = [cells[config + (s,)] for s in states]
        if any(value is None for _, value in given):  # a bad cell, reported where it is
            complete = False
            continue
        values[:, j] = [value for _, value in given]
        total = values[:, j].sum()
        if abs(total - 1.0) > TOLERANCE:
            chk.fail(f"{_at(name, [line for line, _ in given], chk.labels)}: the probabilities for {named} sum to "
                     f"{total:.10g}, not 1 (tolerance {TOLERANCE:g}). Make them add up to 1.", node)
            complete = False
    if not complete:
        return None
    return NodeTable(node, states, tuple(parents), parent_states, values)


def _own_rows(chk, node, info, name, grouped):
    """The node's own rows (base rates or leaks) by state: ``{state: (line, value)}``, or None."""
    own = {row["state"]: (line, value) for line, row, value in grouped.get(node, [])}
    missing = [s for s in info["states"][1:] if s not in own]
    if missing:
        chk.fail(f"nodes.csv, line {info['line']}: node {node!r} (form {info['form']}) has no row in {name} "
                 f"for state(s) {', '.join(missing)}. Add one row per non-reference state.", node)
        return None
    return own


def _base_rate_table(chk, node, info, own, risks, nodes, order):
    """Forms ``base_rate`` (no parents) and ``relative_risk`` (baseline times relative risks)."""
    states = info["states"]
    total = sum(value for _, value in own.values())
    if total > 1.0 + TOLERANCE:
        at = _at("base_rates.csv", [line for line, _ in own.values()], chk.labels)
        chk.fail(f"{at}: the probabilities of node {node!r} "
                 f"sum to {total:.10g}, more than 1; the reference state {states[0]!r} takes the remainder, so "
                 "they must add up to at most 1.", node)
        return None
    if info["form"] == "base_rate":
        values = np.array([[max(0.0, 1.0 - total)] + [own[s][1] for s in states[1:]]]).T
        return NodeTable(node, states, (), (), values)
    rows = risks.get(node, [])
    parents = sorted({row["risk_factor"] for _, row, _ in rows}, key=order.get)
    parent_states = tuple(nodes[p]["states"] for p in parents)
    relative_risks, lines = {}, {}
    for line, row, value in rows:
        key = (parents.index(row["risk_factor"]), nodes[row["risk_factor"]]["states"].index(row["state"]))
        relative_risks[key], lines[key] = value, line
    baseline_line, baseline = own[states[1]]
    with np.errstate(over="ignore"):  # a product that overflows is infinite, and reported below
        values, raw = relative_risk_table(baseline, relative_risks, parent_states)
    too_high = np.flatnonzero(raw >= 1.0)
    if too_high.size:
        configs = configurations(parent_states)
        shown = "; ".join(f"{_named(parents, parent_states, configs[j])} (product {raw[j]:.4g})"
                          for j in too_high[:5])
        more = f" and {too_high.size - 5} more" if too_high.size > 5 else ""
        active = [lines[(i, k)] for j in too_high for i, k in enumerate(configs[j]) if (i, k) in lines]
        baseline_at = _at("base_rates.csv", [baseline_line], chk.labels)
        where = _at("risk_factors.csv", active, chk.labels) if active else baseline_at
        chk.fail(f"{where}: the relative risks of {node!r} push its probability to 1 or more for {shown}{more}, "
                 f"from the baseline {baseline:g} ({baseline_at}). Lower the baseline or "
                 "the relative risks.", node)
        return None
    return NodeTable(node, states, tuple(parents), parent_states, values)


def _link_table(chk, node, info, own, links, nodes, order):
    """Forms ``noisy_or`` and ``logistic``: leak plus one total per (parent state, child state)."""
    form, states = info["form"], info["states"]
    leak = [own[s][1] for s in states[1:]]
    leak_at = _at("leaks.csv", [own[s][0] for s in states[1:]], chk.labels)
    rows = links.get(node, [])
    parents = sorted({row["parent"] for _, row, _ in rows}, key=order.get)
    parent_states = tuple(nodes[p]["states"] for p in parents)
    grouped = {}
    for line, row, value in rows:
        key = (parents.index(row["parent"]), nodes[row["parent"]]["states"].index(row["parent_state"]))
        grouped.setdefault(key, {})[row["child_state"]] = (line, value)
    ok = True
    for (p, s), by_state in grouped.items():
        if len(by_state) == len(states) - 1 and _link_ok(form, [by_state[c][1] for c in states[1:]], leak):
            continue
        _report_link(chk, node, info, leak, leak_at, f"link {parents[p]}={parent_states[p][s]} -> {node}", by_state)
        ok = False
    if any(b > a + TOLERANCE for a, b in zip(leak, leak[1:])):
        chk.fail(f"{leak_at}: the leak of {node!r} gives P(>= state) = {leak}, which increases along the "
                 "ordered states; it must not increase.", node)
        ok = False
    if form == "logistic" and not all(0.0 < lk < 1.0 for lk in leak):
        chk.fail(f"{leak_at}, column 'probability': the logistic form needs the leak of {node!r} strictly "
                 f"between 0 and 1. Got {leak}.", node)
        ok = False
    if not ok:
        return None
    totals = tuple(sorted((key, tuple(by_state[c][1] for c in states[1:])) for key, by_state in grouped.items()))
    values, negative = _link_values(form, tuple(leak), totals, parent_states)
    if negative.size:
        config = configurations(parent_states)[negative[0]]
        active = [line for (p, s), by_state in grouped.items() if config[p] == s for line, _ in by_state.values()]
        chk.fail(f"{_at('links.csv', active, chk.labels) if active else leak_at}: for {node!r} with "
                 f"{_named(parents, parent_states, config)} the combined links give a higher probability to a "
                 f"higher state than to a lower one ({negative.size} configuration(s)). Make the totals of the "
                 "higher states smaller, or use a full CPT.", node)
        return None
    return NodeTable(node, states, tuple(parents), parent_states, values)


@lru_cache(maxsize=4096)
def _link_values(form, leak, totals, parent_states):
    """The expanded table of a link node, clipped to [0, 1], and the configurations that went negative.

    Cached: reloading priors in which most nodes are unchanged (a sensitivity
    sweep, a corrected typo) re-expands only the changed ones. The arrays are
    read-only, so sharing them is safe.
    """
    expand = noisy_max_table if form == "noisy_or" else logistic_table
    with np.errstate(over="ignore"):  # log-odds of totals near 0 or 1: exp overflows to the right limit
        values = expand(list(leak), dict(totals), parent_states)
    negative = np.flatnonzero((values < -1e-12).any(axis=0))
    values = np.clip(values, 0.0, 1.0)
    values.setflags(write=False)
    negative.setflags(write=False)
    return values, negative


def _link_ok(form, totals, leak):
    """The fast check of one link's totals; :func:`_report_link` says what is wrong."""
    if len(totals) > 1 and any(b > a + TOLERANCE for a, b in zip(totals, totals[1:])):
        return False
    if form == "noisy_or":
        return all(total >= lk - 1e-12 for total, lk in zip(totals, leak))
    return all(0.0 < total < 1.0 for total in totals)


def _report_link(chk, node, info, leak, leak_at, label, by_state):
    """Report what is wrong with one link's rows (``by_state``: child state to (line, total))."""
    form, states = info["form"], info["states"]
    lacking = [c for c in states[1:] if c not in by_state]
    if lacking:
        at = _at("links.csv", [line for line, _ in by_state.values()], chk.labels)
        chk.fail(f"{at}: {label} has no row for child "
                 f"state(s) {', '.join(lacking)}. Give one row per non-reference state of the child.", node)
        return
    totals = [by_state[c][1] for c in states[1:]]
    if any(b > a + TOLERANCE for a, b in zip(totals, totals[1:])):
        chk.fail(f"{_at('links.csv', [by_state[c][0] for c in states[1:]], chk.labels)}: {label} gives P(>= state) = "
                 f"{totals}, which increases along the ordered states {', '.join(states[1:])}; it must not "
                 "increase.", node)
    for c, total, lk in zip(states[1:], totals, leak):
        at = f"{_at('links.csv', [by_state[c][0]], chk.labels)}, column 'probability'"
        if form == "noisy_or" and total < lk - 1e-12:
            chk.fail(f"{at}: {label} total {total:g} is below the leak {lk:g} of {node!r} ({leak_at}), so "
                     f"this cause would make {node}={c} less likely; noisy-OR cannot express that. Set form "
                     "logistic for this node in nodes.csv, or raise the total to at least the leak.", node)
        if form == "logistic" and not 0.0 < total < 1.0:
            chk.fail(f"{at}: the logistic form needs totals strictly between 0 and 1. Got {total:g} for "
                     f"{label}.", node)
