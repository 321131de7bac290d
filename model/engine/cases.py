"""Reading the cases of :func:`model.engine.infer_batch`: columns, hard and soft evidence, bad cells.

In plain terms: before the batch engine computes anything, every column is
checked against the network's node names, every cell of a chunk of rows is read
into a state number (hard evidence), a likelihood vector (soft evidence: a dict
or a list of likelihoods) or a problem (a cell that is neither), and the
population's observations are added to every row. For rows whose evidence
turns out impossible, :func:`_explain` finds the first observation that makes
it so. Pure apart from reading ``cases``: takes a model and a frame, returns
arrays and problem records.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..errors import EvidenceError, close_names
from ..evidence import check_likelihood, population_conflict
from .chunk import evaluate


def check_columns(model, cases):
    if not isinstance(cases, pd.DataFrame):
        raise EvidenceError(f"cases must be a pandas DataFrame, one row per case and one column per observed "
                            f"node. Got {type(cases).__name__}.")
    problems = []
    duplicated = sorted({str(c) for c in cases.columns[cases.columns.duplicated()]})
    if duplicated:
        problems.append(f"columns appear more than once: {', '.join(duplicated)}. Keep one column per node.")
    twice = list(dict.fromkeys(str(label) for label in cases.index[cases.index.duplicated()]))
    if twice:
        shown = ", ".join(map(repr, twice[:5])) + (f" and {len(twice) - 5} more" if len(twice) > 5 else "")
        problems.append(f"row labels appear more than once: {shown}. Each case needs its own label (the results, "
                        f"problems and red flags are keyed on it); give unique ids or use cases.reset_index(drop=True).")
    for column in cases.columns:
        if not (isinstance(column, str) and column in model._states):
            renamed = model._renamed_hint(column) if isinstance(column, str) else ""
            if renamed:
                problems.append(f"unknown node {column!r} (a column of cases): {renamed}")
                continue
            close = close_names(column, model._states)
            hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
            problems.append(f"unknown node {column!r} (a column of cases).{hint}")
    if problems:
        if any(p.startswith("unknown") for p in problems):
            problems.append("Model.findings, Model.causes and Model.risk_factors list the valid names; "
                            "nothing was computed.")
        raise EvidenceError(f"{len(problems)} problems with the columns of cases:\n" +
                            "\n".join(f"  - {p}" for p in problems))
    return list(cases.columns)


def _codes(plan, node, column):
    """State index of every cell: -1 for a missing cell, -2 for one that is not a state name."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        lookup = np.append(plan.index[node].get_indexer(column.cat.categories), -1)
        codes = lookup[column.cat.codes.to_numpy()]
    elif isinstance(column.dtype, pd.StringDtype):
        codes = plan.index[node].astype(column.dtype).get_indexer(column)
    else:
        try:
            codes = plan.index[node].get_indexer(column)
        except TypeError:  # unhashable cells (dicts, lists): look them up one by one
            index = plan.index[node]
            codes = np.array([index.get_loc(v) if isinstance(v, str) and v in index else -1 for v in column])
    unknown = np.flatnonzero(codes < 0)
    if len(unknown):
        codes[unknown[~pd.isna(column.to_numpy()[unknown])]] = -2
    return codes


def parse_cases(model, plan, chunk, start, n):
    """Hard codes and soft likelihoods of one chunk of ``n`` rows, its bad rows and their problems."""
    hard, soft, problems, bad = {}, {}, [], np.zeros(n, dtype=bool)
    for position, (node, column) in enumerate(chunk.items()):
        codes = _codes(plan, node, column)
        rows = []
        for i in np.flatnonzero(codes == -2):
            value, found = column.iat[i], []
            likelihood = _soft(model, node, value, found)
            if found:
                bad[i] = True
                problems.extend((start + i, position, column.index[i], node, value, p) for p in found)
            else:
                rows.append((i, likelihood))
        codes[codes == -2] = -1
        hard[node] = codes
        if rows:
            soft[node] = (np.array([i for i, _ in rows]), np.array([lik for _, lik in rows], dtype=float))
    _add_population(model, chunk, start, n, hard, soft, bad, problems)
    return hard, soft, bad, problems


def _add_population(model, chunk, start, n, hard, soft, bad, problems):
    """Observe every population node in every row (in place); a cell that contradicts it makes its row bad.

    A cell in the population state, or soft evidence giving it a positive
    likelihood, says nothing new and is replaced by the population state.
    """
    columns = list(chunk)
    for node, state in model._population.items():
        code = model._states[node].index(state)
        if node in hard:
            clash = np.flatnonzero((hard[node] >= 0) & (hard[node] != code))
            if node in soft:
                at, lam = soft.pop(node)
                clash = np.union1d(clash, at[lam[:, code] == 0])
            column = chunk[node]
            for i in clash:
                value = column.iat[i]
                text = (population_conflict(node, value, state) if isinstance(value, str) else
                        population_conflict(node, value, state, f"give {state!r} likelihood 0"))
                bad[i] = True
                problems.append((start + i, columns.index(node), column.index[i], node, value, text))
        hard[node] = np.full(n, code)


def _soft(model, node, value, problems):
    """Likelihoods of a soft-evidence cell; appends a message to ``problems`` when it is not valid."""
    states = model._states[node]
    if isinstance(value, (list, tuple, np.ndarray)) and not isinstance(value, str):
        items = list(np.asarray(value, dtype=object).ravel()) if isinstance(value, np.ndarray) else list(value)
        if len(items) != len(states):
            problems.append(f"soft evidence for {node!r} as a list must give one likelihood per state, in the "
                            f"order {', '.join(states)}. Got {len(items)} values.")
            return None
        value = dict(zip(states, items))
    if isinstance(value, Mapping):
        return check_likelihood(model._states[node], node, value, problems)
    try:
        model.check_evidence({node: value}, population=False)
    except EvidenceError as err:
        problems.append(str(err))
    else:
        problems.append(f"{node!r}: cannot read {value!r} as evidence.")
    return None


def _explain(plan, model, columns, rows):
    """For impossible rows ``[(row, {node: code or likelihoods})]``: the first impossible observation."""
    prefixes = []
    for r, (_, observed) in enumerate(rows):
        names = [c for c in columns if c in observed]
        prefixes += [(r, names[: k + 1]) for k in range(len(names))]
    culprit = {}
    step = plan.rows_per_chunk
    for start in range(0, len(prefixes), step):
        part = prefixes[start: start + step]
        hard = {c: np.full(len(part), -1) for c in columns}
        soft_rows = {}
        for i, (r, names) in enumerate(part):
            for name in names:
                value = rows[r][1][name]
                if isinstance(value, tuple):
                    soft_rows.setdefault(name, []).append((i, value))
                else:
                    hard[name][i] = value
        soft = {c: (np.array([i for i, _ in v]), np.array([lik for _, lik in v])) for c, v in soft_rows.items()}
        _, possible = evaluate(plan, len(part), hard, soft)
        for i in np.flatnonzero(~possible):
            r, names = part[i]
            culprit.setdefault(r, names)
    return culprit
