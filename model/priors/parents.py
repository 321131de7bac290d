"""The ``parents`` column of ``nodes.csv``: every node says which parents it has, so a lost row is found.

An edge lives in one row of ``links.csv`` or ``risk_factors.csv`` (or in a
column of a full CPT); deleting that row would silently remove the edge. Each
node therefore also lists its parents in ``nodes.csv``, and
:func:`check_declared_parents` compares the two: a parent listed without its
rows, or rows of a parent not listed, is a problem naming the file, the line
and what is missing. Pure: takes checked tables, touches no file.

A ``parents`` cell lists entries separated by ``|``: a node name (every
non-reference state of that parent acts: ``tumour``), or ``name=state`` for a
parent that acts through some of its states only (``age_group=60_plus``).
"""

from __future__ import annotations

from ..errors import close_names
from .expand import _at
from .tables import PARENT_ROWS, ROLES

__all__ = ["PARENTS_HELP", "check_declared_parents", "parse_parents"]

#: What the column is, for messages.
PARENTS_HELP = ("the column 'parents' lists each node's parents, separated by '|' (a parent acting through some of "
                "its states only as name=state), so that a deleted row of links.csv or risk_factors.csv is found")
#: The file whose rows give a node of each form its parents (full CPTs: the CPT's columns; base rates: none).
PARENT_FILES = {"noisy_or": "links.csv", "logistic": "links.csv", "relative_risk": "risk_factors.csv"}
#: How a row of each file is described: (parent column, parent state column, child column).
ROW_COLUMNS = {f"{name}.csv": columns for name, *columns in PARENT_ROWS}


def parse_parents(cell, nodes):
    """The parents a ``parents`` cell lists, as ``(parent -> set of its acting states, problems)``.

    ``nodes`` maps node names to their checked definitions (``states``,
    reference first). A bare name stands for every non-reference state. A
    name that is not a node gives a problem here; :func:`check_declared_parents`
    gathers those per name instead, so a renamed node is reported once.

    Examples
    --------
    >>> nodes = {"age": {"states": ("mid", "young", "old")}, "disc": {"states": ("absent", "present")}}
    >>> parse_parents("age=old|disc", nodes)
    ({'age': {'old'}, 'disc': {'present'}}, [])
    >>> parse_parents("dsic", nodes)[1]
    ["'dsic' is not a node. Did you mean 'disc'?"]
    """
    parents, problems = {}, []
    for entry in (e.strip() for e in cell.split("|")) if cell.strip() else ():
        name, _, state = (part.strip() for part in entry.partition("="))
        if name not in nodes:
            close = close_names(name, nodes)
            problems.append(f"{name!r} is not a node." + (f" Did you mean {' or '.join(map(repr, close))}?"
                                                          if close else " Every parent must be defined in nodes.csv."))
            continue
        states = nodes[name]["states"]
        if not state:
            acting = set(states[1:])
        elif state in states[1:]:
            acting = {state}
        else:
            what = "is the reference state" if state == states[0] else "is not a state"
            problems.append(f"{entry!r}: {state!r} {what} of {name!r}; list the states that act "
                            f"({', '.join(states[1:])}), or just {name}.")
            continue
        if acting & parents.get(name, set()):
            problems.append(f"{entry!r} is listed twice. List each parent (or parent state) once.")
        parents.setdefault(name, set()).update(acting)
    return parents, problems


def _rows_by_child(nodes, usable, rows):
    """The rows that give parents, by ``(file, child)``: ``(found, faulty)``.

    ``found`` maps to ``{parent: {state: [lines]}}`` the rows that name
    well-defined nodes, an active state and an edge along the roles (the
    other rows are reported where they are); ``faulty`` is the set of
    ``(file, child cell)`` of the rows that do not: such a row may be the one a
    node seems to miss, so its nodes are not reported as missing it.
    """
    rank = {role: i for i, role in enumerate(ROLES)}
    found, faulty = {}, set()
    for name, (parent_column, state_column, child_column) in ROW_COLUMNS.items():
        for line, row in rows.get(name, ()) if name in usable else ():
            parent, state, child = row[parent_column], row[state_column], row[child_column]
            known = parent in nodes and child in nodes and nodes[parent]["ok"] and nodes[child]["ok"]
            if known and state in nodes[parent]["states"][1:] and parent != child \
                    and rank.get(nodes[parent]["role"], 0) <= rank.get(nodes[child]["role"], 0) \
                    and (name != "risk_factors.csv" or nodes[parent]["role"] == "risk_factor"):
                found.setdefault((name, child), {}).setdefault(parent, {}).setdefault(state, []).append(line)
            else:
                faulty.add((name, child))
    return found, faulty


def check_declared_parents(chk, table, nodes, usable, rows, cpts):
    """Compare each node's ``parents`` cell with the rows (or CPT columns) that give it parents.

    Parameters
    ----------
    chk : object
        The problem collector of :mod:`model.priors.checks` (``fail``,
        ``labels``).
    table : RawTable
        ``nodes.csv`` (or the in-memory ``nodes`` table).
    nodes : dict
        Node name to its checked definition (``line``, ``states``, ``form``).
    usable, rows : dict
        The tables with the right columns, by file name, and their rows.
    cpts : dict
        Node name to ``(table, parents, cells)`` of each checked CPT file.

    A file's nodes table must have the column; an in-memory one without it
    (built in code, e.g. by an import) is not compared.
    """
    if "parents" not in table.frame.columns:
        if table.row_word == "line":
            chk.fail(f"{table.where(1)}: missing column 'parents'. Since this check was added, {PARENTS_HELP}. "
                     "Fill it from the current rows with model.priors.upgrade_priors_folder(folder) (check first "
                     "that no row was lost), or by hand.")
        return
    found, faulty = _rows_by_child(nodes, usable, rows)
    unknown = {}  # a name that is not a node: one problem listing its lines (a renamed node is listed often)
    cells = dict(zip(table.frame.index.tolist(), table.frame["parents"].tolist()))  # by line
    for node, info in nodes.items():
        cell = cells[info["line"]]
        where = table.where(info["line"], "parents")
        listed, problems = parse_parents(cell, nodes)
        for problem in problems:
            if problem.endswith("is not a node.") or " is not a node. " in problem:
                unknown.setdefault(problem, []).append(info["line"])
            else:
                chk.fail(f"{where}: {problem}")
        if problems or not info["ok"] or any(not nodes[p]["ok"] for p in listed):
            continue  # a faulty node or parent is reported where it is defined
        form = info["form"]
        if form == "base_rate":
            if listed:
                chk.fail(f"{where}: {node!r} has form base_rate, which has no parents. Got {cell!r}; empty the "
                         "cell, or give the node a form with parents.")
        elif form == "cpt":
            if node in cpts:
                _compare_cpt(chk, node, where, cell, listed, cpts[node], nodes)
        elif PARENT_FILES.get(form) in usable:
            name = PARENT_FILES[form]
            # a faulty row naming this node (or a name close to it) may be the one it seems to miss
            missing_too = node not in chk.bad_nodes and not any(
                file == name and (child == node or node in close_names(child, nodes)) for file, child in faulty)
            _compare_rows(chk, node, where, cell, listed, name, found.get((name, node), {}), nodes, missing_too)
    for problem, lines in unknown.items():
        more = ""
        if len(lines) > 1:
            shown = ", ".join(map(str, lines[1:11])) + (" and others" if len(lines) > 11 else "")
            more = f" The same name is on {len(lines) - 1} more {table.row_word}(s): {shown}."
        chk.fail(f"{table.where(lines[0], 'parents')}: {problem}{more}")


def _compare_rows(chk, node, where, cell, listed, name, given, nodes, missing_too=True):
    """Listed parent states without rows (when ``missing_too``), and rows of parent states not listed."""
    parent_column, state_column, child_column = ROW_COLUMNS[name]
    for parent, states in listed.items() if missing_too else ():
        missing = [s for s in nodes[parent]["states"] if s in states and s not in given.get(parent, {})]
        if missing:
            entry = parent if len(states) == len(nodes[parent]["states"]) - 1 else f"{parent}={missing[0]}"
            chk.fail(f"{where}: lists {entry} as a parent of {node!r}, but {chk.labels.get(name, (name,))[0]} has "
                     f"no row with {parent_column} {parent}, {state_column} {' or '.join(missing)}, {child_column} "
                     f"{node}. If the row was deleted, add it back; if {parent} does not act on {node} that way, "
                     f"remove it from the parents.")
    for parent, by_state in given.items():
        for state, lines in by_state.items():
            if state not in listed.get(parent, set()):
                chk.fail(f"{_at(name, lines, chk.labels)}: {parent}={state} -> {node} is not among the parents of "
                         f"{node!r} ({where}: {cell!r}). Add {parent!r} (or '{parent}={state}') to its parents, or "
                         "delete the row.")


def _compare_cpt(chk, node, where, cell, listed, cpt, nodes):
    """Listed parents that are not columns of the node's CPT, and columns not listed."""
    table, parents, _ = cpt
    for parent, states in listed.items():
        if parent in parents and len(states) < len(nodes[parent]["states"]) - 1:
            chk.fail(f"{where}: {cell!r} lists some states of {parent} only, but a full CPT ({table.name}) gives "
                     f"every state of its parents. Write just {parent}.")
        elif parent not in parents:
            chk.fail(f"{where}: lists {parent} as a parent of {node!r}, but {table.name} has no column {parent!r}. "
                     f"Add the column and its rows, or remove {parent} from the parents.")
    for parent in parents:
        if parent not in listed:
            chk.fail(f"{table.where(1, parent)}: {parent!r} is a parent of {node!r} that is not among its "
                     f"parents ({where}: {cell!r}). Add it to the parents, or remove the column.")
