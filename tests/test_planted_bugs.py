"""Tests that kill bugs planted by hand (issue 11, item 18).

Every expected number here is derived independently of ``model/``: from the rules of
``priors/README.md`` and ``model/analysis/parameters.py``, written out again in this file.
"""

from __future__ import annotations

import csv
import itertools
import math
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from model import load_model
from model.analysis.intervals import draw_parameters
from model.analysis.parameters import model_parameters, node_values, parameter_table
from model.priors import upgrade_priors_folder

CAP = 0.95  # priors/README.md: relative-risk products capped at 0.95


# --- 1. drawn tables rebuilt from the documented clipping rules ------------------------------------------------
def _logit(p):
    return np.log(p / (1.0 - p))


def _running_min(columns, binds, rule):
    """Ordered totals made non-increasing along the states (running minimum); counts the values it changed.

    ``columns``: one array over draws per state, least to most."""
    out = []
    for v in columns:
        if out:
            binds[rule] += int(np.sum(v > out[-1]))
            v = np.where(v > out[-1], out[-1], v)
        out.append(v)
    return out


def _renormalise(cells, binds, rule):
    """Cells outside 0..1 clipped, then the column divided by its sum; counts the draws where that changed it.

    ``cells``: one array over draws per state."""
    cells = np.array(cells)  # (states, draws)
    clipped = np.minimum(np.maximum(cells, 0.0), 1.0)
    total = clipped.sum(axis=0)
    binds[rule] += int(np.sum((clipped != cells).any(axis=0) | (np.abs(total - 1.0) > 1e-12)))
    return clipped / total


def _checked_configurations(t, seed=0, most=100):
    """Which parent configurations to rebuild: all of them for a small table; for a large one the reference
    configuration, each parent state alone, and ``most`` random ones. As (index, states) pairs, configurations
    numbered with the first parent varying slowest (pgmpy's order, model/priors/forms.py)."""
    sizes = [len(s) for s in t.parent_states]
    if math.prod(sizes) <= 4 * most:
        chosen = list(itertools.product(*(range(k) for k in sizes)))
    else:
        rng = np.random.default_rng(seed)
        chosen = [tuple([0] * len(sizes))]
        for p, k in enumerate(sizes):
            for s in range(1, k):
                chosen.append(tuple(s if i == p else 0 for i in range(len(sizes))))
        chosen += [tuple(int(rng.integers(k)) for k in sizes) for _ in range(most)]
    out = []
    for config in chosen:
        index = 0
        for state, k in zip(config, sizes):
            index = index * k + state
        out.append((index, tuple(states[i] for states, i in zip(t.parent_states, config))))
    return out


def _rebuild(model, values, binds):
    """Every node's table for every draw, from the documented rules only: ``{node: (configuration indices,
    array (draws, states, those configurations))}``.

    Which parameter is which comes from the CSV rows (``parameter_table``'s ``table``/``row``); the
    arithmetic is the README's, written out here.
    """
    listing = parameter_table(model)
    tables = model.tables  # built afresh on each access
    rows = {}  # node -> list of (table name, CSV row as dict, drawn values over draws)
    for column, (table, row, node) in enumerate(listing[["table", "row", "node"]].itertuples(index=False)):
        rows.setdefault(node, []).append((table, tables[table].loc[row].to_dict(), values[:, column]))
    nodes = tables["nodes"].set_index("node")
    out = {}
    for node, t in model._priors.node_tables.items():
        form = nodes.at[node, "form"]
        states = list(t.states)
        own = rows.get(node, [])
        configs = _checked_configurations(t)
        if form == "base_rate":
            given = [next(v for _, r, v in own if r["state"] == s) for s in states[1:]]
            total = sum(given)
            binds["base rates renormalised"] += int(np.sum(total > 1.0))  # rescaled only when they exceed 1
            given = [g / np.maximum(total, 1.0) for g in given]
            columns = [[1.0 - sum(given)] + given]
        elif form == "relative_risk":
            baseline = next(v for table, _, v in own if table == "base_rates")
            risks = {(r["risk_factor"], r["state"]): v for table, r, v in own if table == "risk_factors"}
            columns = []
            for _, config in configs:
                raw = baseline
                for parent, state in zip(t.parents, config):
                    if (parent, state) in risks:
                        raw = raw * risks[parent, state]
                binds["relative-risk product capped"] += int(np.sum(raw > CAP))
                raw = np.minimum(raw, CAP)
                columns.append([1.0 - raw, raw])
        elif form == "cpt":
            cells = {tuple(r[p] for p in t.parents) + (r[node],): v for _, r, v in own}
            columns = [_renormalise([cells[c + (s,)] for s in states], binds, "cpt column renormalised")
                       for _, c in configs]
        else:
            leak = _running_min([next(v for table, r, v in own if table == "leaks" and r["state"] == s)
                                 for s in states[1:]], binds, "ordered totals running minimum")
            totals = {}
            for table, r, v in own:
                if table == "links":
                    totals.setdefault((r["parent"], r["parent_state"]), {})[r["child_state"]] = v
            links = {}
            for key, by_state in totals.items():
                drawn = _running_min([by_state[s] for s in states[1:]], binds, "ordered totals running minimum")
                if form == "noisy_or":  # a total below the leak is raised to it: the link then has no effect
                    binds["noisy-OR total raised to the leak"] += sum(int(np.sum(p < lk)) for p, lk in zip(drawn, leak))
                    drawn = [np.maximum(p, lk) for p, lk in zip(drawn, leak)]
                links[key] = drawn
            columns = []
            for _, config in configs:
                active = [links[key] for key in zip(t.parents, config) if key in links]
                at_least = []
                for s, background in enumerate(leak):
                    if form == "noisy_or":  # P(child < s) = (1 - l) * prod (1 - q), q = 1 - (1 - p) / (1 - l)
                        below = 1.0 - background
                        for total in active:
                            below = below * (1.0 - (1.0 - (1.0 - total[s]) / (1.0 - background)))
                        at_least.append(1.0 - below)
                    else:  # logit P(child >= s) = logit(l) + sum (logit(p) - logit(l))
                        log_odds = _logit(background) + sum(_logit(total[s]) - _logit(background) for total in active)
                        at_least.append(1.0 / (1.0 + np.exp(-log_odds)))
                bounds = [np.ones_like(background)] + at_least + [np.zeros_like(background)]
                columns.append(_renormalise([bounds[i] - bounds[i + 1] for i in range(len(states))], binds,
                                            f"{form} column renormalised"))
        where = [i for i, _ in configs] if form != "base_rate" else [0]
        out[node] = where, np.moveaxis(np.array(columns), [0, 1, 2], [2, 1, 0])  # (draws, states, configurations)
    return out


def _assert_drawn_tables_are_rebuilt(model, draws, seed):
    values = draw_parameters(model, draws, seed)
    got = node_values(model_parameters(model), model, values)
    binds = Counter()
    expected = _rebuild(model, values, binds)
    assert set(expected) == set(got)
    for node, (where, table) in expected.items():
        np.testing.assert_allclose(got[node][:, :, where], table, rtol=0, atol=1e-12, err_msg=node)
    return binds


def _write(path, header, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _overlapping_priors(folder):
    """A small priors folder whose ranges overlap, so every clipping rule binds for some draws.

    - ``age`` (3 states): two base rates of 0.4 with ranges up to 0.7 (sum above 1);
    - ``c1`` relative risk: baseline 0.2 (to 0.4) x 2.5 (to 4) x 1.5 (to 2.5) passes the 0.95 cap;
    - ``f``: noisy-MAX whose >= severe leak/link ranges overlap the >= mild ones, a link range below the leak,
      and a link on the *middle* state of ``age``;
    - ``g``: logistic whose thresholds cross when both causes draw high >= severe totals;
    - ``h``: a full CPT whose drawn columns never sum to 1.
    """
    folder = Path(folder)
    nodes = [
        ["age", "risk_factor", "mid|low|high", "base_rate", "age", "age?", "1", ""],
        ["smoker", "risk_factor", "no|yes", "base_rate", "smoker", "smoker?", "1", ""],
        ["c1", "cause", "absent|present", "relative_risk", "c1", "c1?", "1", ""],
        ["c2", "cause", "absent|present", "base_rate", "c2", "c2?", "1", ""],
        ["f", "finding", "none|mild|severe", "noisy_or", "f", "f?", "1", ""],
        ["g", "finding", "none|mild|severe", "logistic", "g", "g?", "1", ""],
        ["h", "finding", "no|yes", "cpt", "h", "h?", "1", ""],
    ]
    _write(folder / "nodes.csv", ["node", "role", "states", "form", "label", "question", "cost", "emergency_state"],
           nodes)
    p = ["probability", "low", "high", "source", "grade"]
    _write(folder / "base_rates.csv", ["node", "state", *p], [
        ["age", "low", 0.4, 0.2, 0.7, "test", "E"], ["age", "high", 0.4, 0.2, 0.7, "test", "E"],
        ["smoker", "yes", 0.3, 0.1, 0.5, "test", "E"],
        ["c1", "present", 0.2, 0.05, 0.4, "test", "E"], ["c2", "present", 0.1, 0.05, 0.2, "test", "E"]])
    _write(folder / "risk_factors.csv", ["risk_factor", "state", "cause", "relative_risk", "low", "high", "source",
                                         "grade"],
           [["age", "high", "c1", 2.5, 1.5, 4.0, "test", "E"], ["smoker", "yes", "c1", 1.5, 1.0, 2.5, "test", "E"]])
    _write(folder / "leaks.csv", ["node", "state", *p], [
        ["f", "mild", 0.2, 0.1, 0.3, "test", "E"], ["f", "severe", 0.15, 0.05, 0.3, "test", "E"],
        ["g", "mild", 0.5, 0.4, 0.6, "test", "E"], ["g", "severe", 0.1, 0.05, 0.2, "test", "E"]])
    _write(folder / "links.csv", ["parent", "parent_state", "child", "child_state", *p], [
        ["c1", "present", "f", "mild", 0.5, 0.2, 0.8, "test", "E"],
        ["c1", "present", "f", "severe", 0.3, 0.1, 0.6, "test", "E"],
        ["c2", "present", "f", "mild", 0.25, 0.1, 0.5, "test", "E"],
        ["c2", "present", "f", "severe", 0.2, 0.05, 0.4, "test", "E"],
        ["age", "low", "f", "mild", 0.4, 0.25, 0.6, "test", "E"],
        ["age", "low", "f", "severe", 0.2, 0.1, 0.35, "test", "E"],
        ["c1", "present", "g", "mild", 0.55, 0.4, 0.7, "test", "E"],
        ["c1", "present", "g", "severe", 0.25, 0.1, 0.6, "test", "E"],
        ["c2", "present", "g", "mild", 0.55, 0.4, 0.7, "test", "E"],
        ["c2", "present", "g", "severe", 0.25, 0.1, 0.6, "test", "E"]])
    _write(folder / "population.csv", ["node", "state", "description"], [])
    _write(folder / "cpts" / "h.csv", ["c2", "h", *p], [
        ["absent", "no", 0.9, 0.8, 0.95, "test", "E"], ["absent", "yes", 0.1, 0.05, 0.2, "test", "E"],
        ["present", "no", 0.3, 0.2, 0.5, "test", "E"], ["present", "yes", 0.7, 0.5, 0.8, "test", "E"]])
    upgrade_priors_folder(folder)
    return folder


@pytest.mark.slow
def test_drawn_tables_equal_the_documented_rules_on_the_bundled_priors(bundled_model):
    binds = _assert_drawn_tables_are_rebuilt(bundled_model, 60, seed=11)
    # the bundled ranges make these rules bind (the others may not, at these draws)
    assert binds["noisy-OR total raised to the leak"] > 0, binds
    assert binds["ordered totals running minimum"] > 0, binds
    assert binds["cpt column renormalised"] > 0, binds


@pytest.mark.slow
def test_drawn_tables_equal_the_documented_rules_with_overlapping_ranges(tmp_path):
    model = load_model(_overlapping_priors(tmp_path / "overlap"))
    binds = _assert_drawn_tables_are_rebuilt(model, 400, seed=3)
    for rule in ("base rates renormalised", "relative-risk product capped", "cpt column renormalised",
                 "ordered totals running minimum", "noisy-OR total raised to the leak", "noisy_or column renormalised",
                 "logistic column renormalised"):
        assert binds[rule] > 0, (rule, binds)


# --- 3. refused priors: each message names the file, line, column and the fix ----------------------------------
def _set_cell(folder, name, line, column, text):
    """Set one cell (``line`` as numbered in messages: the header is line 1) of a CSV file, by column name."""
    path = Path(folder) / name
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    rows[line - 1][rows[0].index(column)] = text
    _write(path, rows[0], rows[1:])


@pytest.mark.parametrize("name, line, column, text, expected", [
    # priors/README.md: relative_risk is "a two-state cause"; a third state is refused and a full CPT suggested
    ("nodes.csv", 4, "states", "absent|present|severe",
     r"nodes\.csv, line 4, column 'form': the relative_risk form needs a two-state node; 'c1' has 3\. "
     r"Use a full CPT instead\."),
    ("risk_factors.csv", 2, "high", "1e999", r"risk_factors\.csv, line 2, column 'high': .*'1e999'"),
    ("nodes.csv", 2, "cost", "-1", r"nodes\.csv, line 2, column 'cost': must be empty or a non-negative number"),
    ("nodes.csv", 2, "cost", "-0.5", r"nodes\.csv, line 2, column 'cost': must be empty or a non-negative number"),
])
@pytest.mark.slow
def test_refused_priors_name_file_line_and_column(tmp_path, name, line, column, text, expected):
    from model.errors import PriorsError
    from model.priors import load_priors

    folder = _overlapping_priors(tmp_path / "priors")
    load_priors(folder)  # valid before the edit
    _set_cell(folder, name, line, column, text)
    with pytest.raises(PriorsError, match=expected):
        load_priors(folder)


# --- 4. validate --vignettes exits 1 when a vignette is impossible ----------------------------------------------
@pytest.mark.slow
def test_validate_vignettes_exits_1_when_a_vignette_is_impossible(monkeypatch, capsys):
    import model.analysis.validation as validation
    from model.cli import main
    from model.priors import read_vignettes

    bundled = read_vignettes()
    assert main(["validate", "--vignettes"]) == 0  # the bundled vignettes are all possible
    capsys.readouterr()
    impossible = bundled.copy()
    # the population is the complaint posterior_thigh_pain = yes: a vignette without it has probability zero
    impossible.at[impossible.index[1], "evidence"] = {**impossible.iloc[1]["evidence"], "posterior_thigh_pain": "no"}
    monkeypatch.setattr(validation, "read_vignettes", lambda: impossible)
    assert main(["validate", "--vignettes"]) == 1
    out = capsys.readouterr()
    assert f"vignette {impossible.index[1]}: posterior_thigh_pain='no'" in out.out + out.err


# --- 5. soft evidence before hard evidence, on a network with zeros, likelihoods above 1 ---------------------------
def _zeros_priors(folder):
    """Causes c1 (0.2), c2 (0.1); full CPTs h on (c1, c2) with zeros, k on c1, j on c2."""
    folder = Path(folder)
    _write(folder / "nodes.csv", ["node", "role", "states", "form", "label", "question", "cost", "emergency_state"], [
        [n, role, states, form, n, f"{n}?", "1", ""] for n, role, states, form in (
            ("c1", "cause", "absent|present", "base_rate"), ("c2", "cause", "absent|present", "base_rate"),
            ("h", "finding", "no|yes", "cpt"), ("k", "finding", "no|yes", "cpt"), ("j", "finding", "no|yes", "cpt"))])
    p = ["probability", "low", "high", "source", "grade"]
    _write(folder / "base_rates.csv", ["node", "state", *p], [["c1", "present", 0.2, 0.2, 0.2, "t", "E"],
                                                               ["c2", "present", 0.1, 0.1, 0.1, "t", "E"]])
    for name in ("risk_factors.csv", "links.csv", "leaks.csv", "population.csv"):
        header = {"risk_factors.csv": ["risk_factor", "state", "cause", "relative_risk", "low", "high", "source",
                                       "grade"],
                  "links.csv": ["parent", "parent_state", "child", "child_state", *p], "leaks.csv": ["node", "state", *p],
                  "population.csv": ["node", "state", "description"]}[name]
        _write(folder / name, header, [])
    h = {("absent", "absent"): 0.0, ("absent", "present"): 0.5, ("present", "absent"): 0.3,
         ("present", "present"): 1.0}
    _write(folder / "cpts" / "h.csv", ["c1", "c2", "h", *p],
           [[a, b, s, v, v, v, "t", "E"] for (a, b), yes in h.items() for s, v in (("no", 1 - yes), ("yes", yes))])
    for node, parent, yes in (("k", "c1", {"absent": 0.4, "present": 0.8}), ("j", "c2", {"absent": 0.2, "present": 0.6})):
        _write(folder / "cpts" / f"{node}.csv", [parent, node, *p],
               [[a, s, v, v, v, "t", "E"] for a, y in yes.items() for s, v in (("no", 1 - y), ("yes", y))])
    upgrade_priors_folder(folder)
    return folder, h


@pytest.mark.slow
def test_soft_before_hard_evidence_with_zeros_and_likelihoods_above_1(tmp_path):
    import pandas as pd

    from model import infer_batch

    folder, h = _zeros_priors(tmp_path / "zeros")
    model = load_model(folder)
    k_yes, j_yes = {"absent": 0.4, "present": 0.8}, {"absent": 0.2, "present": 0.6}
    soft_k, soft_j = {"no": 0, "yes": 5}, {"no": 2, "yes": 3}
    evidence = {"k": soft_k, "j": soft_j, "h": "yes"}  # soft evidence first, hard evidence last
    assert list(evidence) == ["k", "j", "h"]
    # hand computation: weight(c1, c2) = P(c1) P(c2) P(h=yes | c1, c2) L_k(c1) L_j(c2), L = sum_s likelihood_s P(s)
    prior = {"absent": (0.8, 0.9), "present": (0.2, 0.1)}
    weights = {}
    for a, b in itertools.product(("absent", "present"), repeat=2):
        l_k = soft_k["no"] * (1 - k_yes[a]) + soft_k["yes"] * k_yes[a]
        l_j = soft_j["no"] * (1 - j_yes[b]) + soft_j["yes"] * j_yes[b]
        weights[a, b] = prior[a][0] * prior[b][1] * h[a, b] * l_k * l_j
    total = sum(weights.values())
    expected = {"c1": (weights["present", "absent"] + weights["present", "present"]) / total,
                "c2": (weights["absent", "present"] + weights["present", "present"]) / total}
    result = model.infer(evidence)
    batch = infer_batch(pd.DataFrame({n: pd.Series([v], dtype=object) for n, v in evidence.items()}), priors=model)
    for node, value in expected.items():
        assert result.loc[node, "posterior"] == pytest.approx(value, abs=1e-12), node
        assert batch.at[0, node] == pytest.approx(value, abs=1e-12), node
    # the same numbers from pgmpy's variable elimination, with the likelihoods as virtual-evidence factors
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.inference import VariableElimination

    virtual = [TabularCPD(n, 2, [[lik["no"] / sum(lik.values())], [lik["yes"] / sum(lik.values())]],
                          state_names={n: ["no", "yes"]})  # pgmpy wants a distribution: scale does not matter
               for n, lik in (("k", soft_k), ("j", soft_j))]
    ve = VariableElimination(model.network)
    for node, value in expected.items():
        got = ve.query([node], evidence={"h": "yes"}, virtual_evidence=virtual, show_progress=False)
        assert got.get_value(**{node: "present"}) == pytest.approx(value, abs=1e-12), node


# --- 7. the quick subset (issue 11, item 20) --------------------------------------------------------------------
def test_slow_is_a_registered_marker_and_every_listed_slow_test_exists(pytestconfig):
    """``-m "not slow"`` relies on the marker (pyproject.toml) and on tests/conftest.py's list of slow tests; a
    renamed test would silently fall back into the quick subset, so every listed name must still be defined."""
    assert any(line.split(":")[0].strip() == "slow" for line in pytestconfig.getini("markers"))
    here = Path(__file__).resolve().parent
    conftest = next(p for p in pytestconfig.pluginmanager.get_plugins()
                    if getattr(p, "__file__", None) and Path(p.__file__).resolve() == here / "conftest.py")
    assert conftest.SLOW
    for nodeid in sorted(conftest.SLOW):
        path, _, name = nodeid.partition("::")
        text = (here.parent / path).read_text(encoding="utf-8")
        if path.startswith("tests/"):
            assert re.search(rf"^def {re.escape(name)}\(", text, re.MULTILINE), f"{nodeid}: no such test"
        else:  # a doctest: the dotted name of a module, class, function or method of that file
            module = path[:-3].replace("/", ".")
            last = name.rsplit(".", 1)[-1]
            assert name == module or re.search(rf"^\s*(def|class) {re.escape(last)}\b", text, re.MULTILINE), \
                f"{nodeid}: no such doctest"
