"""``Model.infer`` is exact: it agrees with independent computations to 1e-9, on both bundled
populations (``primary_care`` and ``specialist``, each query conditioned on the population's
``population.csv`` finding, which every oracle adds itself).

a. pgmpy's ``VariableElimination`` run directly on ``Model.network`` (20 random
   partial-evidence cases per population, hard and soft evidence, sometimes an
   observed cause), and the ``prior`` column against VE with no evidence;
b. brute-force enumeration:
   1. of the joint distribution of small random priors folders, with the
      canonical forms of ``priors/README.md`` implemented here from scratch (no
      pgmpy, no ``model.priors.forms``), so expansion *and* inference are checked;
   2. on the bundled networks (4 cases per population): every risk factor
      observed, a random subset of findings observed (hard, and soft in half the
      cases); all joint configurations of the unobserved non-barren nodes (the
      causes, the mechanisms, cauda equina syndrome and any unobserved finding
      parent of an observed finding: 2^17 to 2^20 here) are enumerated with numpy, each
      one's probability the product of the entries of the network's
      ``TabularCPD`` tables; compared with ``Model.infer`` and ``Model.infer_batch``;
c. pyAgrum's ``LazyPropagation`` on a pyAgrum copy of the bundled network
   (20 random cases per population, hard and soft evidence).
"""

from __future__ import annotations

import csv
import itertools
import math
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyagrum as gum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pgmpy.factors.discrete import TabularCPD
from pgmpy.inference import VariableElimination

from model import EvidenceError, load_model
from model.priors import upgrade_priors_folder

TOL = 1e-9
PRESENT = "present"
#: The bundled populations, by the name ``load_model`` takes (folders under priors/).
POPULATIONS = ("primary_care", "specialist")
PRIORS = Path(__file__).resolve().parents[1] / "priors"
N_VE_CASES = 20
N_AGRUM_CASES = 20
N_ENUMERATION_CASES = 4
#: The hidden mechanism nodes: never observed in the enumeration cases (their role may read
#: ``mechanism`` or ``finding``).
MECHANISMS = ("nerve_conduction_loss", "neurogenic_claudication", "sciatic_nerve_entrapment")


@pytest.fixture(scope="module", params=POPULATIONS)
def population(request):
    """The name of one bundled population."""
    return request.param


@pytest.fixture(scope="module")
def model(population):
    """The :class:`model.Model` of one bundled population."""
    return load_model(population)


def _seed(population, *words):
    return np.random.default_rng([*words, POPULATIONS.index(population)])


def test_population_is_the_finding_of_population_csv(model, population):
    """Every oracle below adds ``Model.population``: it must be the population.csv finding."""
    with open(PRIORS / population / "population.csv", newline="", encoding="utf-8") as handle:
        rows = {row["node"]: row["state"] for row in csv.DictReader(handle)}
    assert rows == {"posterior_thigh_pain": "yes"}
    assert model.population == rows


# --- random partial evidence on the bundled network ------------------------------------------


def _likelihoods(rng, size):
    """Random likelihoods for one node: sometimes a zero, never all zero."""
    values = rng.uniform(0.0, 1.0, size)
    if rng.random() < 0.3:
        values[rng.integers(size)] = 0.0
    if values.max() == 0.0:
        values[rng.integers(size)] = 1.0
    return [float(x) for x in values]


def _bundled_case(model, rng, *, soft_rate=0.2):
    """One random case: ``(evidence for Model.infer, hard dict, soft dict of likelihood lists)``.

    A random subset of findings and of risk factors is observed, sometimes a
    cause or complication; in about ``soft_rate`` of cases one or two other
    nodes get soft evidence. The population's nodes are left to the model,
    which observes them in every query (the oracles add them).
    """
    hard = {}
    p_finding, p_risk = rng.uniform(0.0, 0.5), rng.uniform(0.0, 0.8)
    for nodes, p in ((model.findings, p_finding), (model.risk_factors, p_risk)):
        for node in nodes:
            if rng.random() < p and node not in model.population:
                states = model.states(node)
                hard[node] = states[rng.integers(len(states))]
    if rng.random() < 0.3:
        reported = model.causes + model.complications
        node = reported[rng.integers(len(reported))]
        hard[node] = model.states(node)[rng.integers(2)]
    soft = {}
    if rng.random() < soft_rate:
        free = [n for n in model.nodes.index if n not in hard and n not in model.population]
        for node in rng.choice(free, size=rng.integers(1, 3), replace=False):
            soft[str(node)] = _likelihoods(rng, len(model.states(str(node))))
    items = list(hard.items()) + [(n, dict(zip(model.states(n), lik))) for n, lik in soft.items()]
    order = rng.permutation(len(items))
    evidence = dict(items[i] for i in order)
    return evidence, hard, soft


def _assert_matches(result, expected, context):
    for node, value in expected.items():
        got = result.loc[node, "posterior"]
        assert abs(got - value) <= TOL, f"{node}: infer gives {got!r}, reference {value!r}; {context}"


# --- a. pgmpy VariableElimination on Model.network ---------------------------------------------


def _ve_posteriors(network, model, hard, soft):
    """P(present | evidence and the population), every cause and complication, by a fresh pgmpy VE."""
    hard = {**model.population, **hard}
    reported = model.causes + model.complications
    query = [n for n in reported if n not in hard]
    virtual = [TabularCPD(n, len(lik), [[x] for x in lik], state_names={n: list(model.states(n))})
               for n, lik in soft.items()]
    expected = {n: float(hard[n] == PRESENT) for n in reported if n in hard}
    if query:
        factors = VariableElimination(network).query(query, evidence=hard or None, virtual_evidence=virtual or None,
                                                     joint=False, show_progress=False)
        for node in query:
            factor = factors[node]
            expected[node] = float(factor.values[factor.state_names[node].index(PRESENT)])
    return expected


@pytest.fixture(scope="module")
def ve_prior(model):
    return _ve_posteriors(model.network, model, {}, {})


def test_prior_column_equals_no_evidence_variable_elimination(model, ve_prior):
    result = model.infer({})
    for node, value in ve_prior.items():
        assert abs(result.loc[node, "prior"] - value) <= TOL
        assert abs(result.loc[node, "posterior"] - value) <= TOL


def test_random_cases_include_soft_evidence_and_observed_causes(model, population):
    """The cases checked below really mix in soft evidence and observed causes."""
    for seed, count, soft_rate in ((2024, N_VE_CASES, 0.2), (7, N_AGRUM_CASES, 0.3)):
        cases = [_bundled_case(model, _seed(population, seed, i), soft_rate=soft_rate) for i in range(count)]
        with_soft = sum(bool(soft) for _, _, soft in cases)
        with_cause = sum(any(n in hard for n in model.causes) for _, hard, _ in cases)
        assert 2 <= with_soft <= count - 2, (seed, with_soft)
        assert with_cause >= 2, (seed, with_cause)


@pytest.mark.parametrize("case", range(N_VE_CASES))
def test_infer_equals_pgmpy_variable_elimination(model, population, ve_prior, case):
    evidence, hard, soft = _bundled_case(model, _seed(population, 2024, case))
    result = model.infer(evidence)
    expected = _ve_posteriors(model.network, model, hard, soft)
    _assert_matches(result, expected, f"{population}, evidence {evidence}")
    for node, value in ve_prior.items():
        assert abs(result.loc[node, "prior"] - value) <= TOL



@pytest.mark.parametrize("hard, soft", [
    ({"lumbar_disc_herniation": "present"}, {}),
    ({"tumour": "present", "spinal_infection": "absent", "pain_burning": "yes"}, {}),
    ({"lumbar_spinal_stenosis": "present", "saddle_anaesthesia": "yes"}, {}),
    ({"lumbar_disc_herniation": "present"}, {"bone_injury": [0.3, 1.0]}),
], ids=["one parent", "two parents", "a child observed", "a soft parent"])
def test_complication_with_observed_parent_causes_equals_pgmpy(model, population, hard, soft):
    """The complication's posterior when causes among its parents are observed, from the joint of its parents
    when none of its children is observed (model/engine/single.py), from its own clique when one is."""
    evidence = {**hard, **{n: dict(zip(model.states(n), lik)) for n, lik in soft.items()}}
    _assert_matches(model.infer(evidence), _ve_posteriors(model.network, model, hard, soft),
                    f"{population}, evidence {evidence}")

# --- c. pyAgrum LazyPropagation on a copy of the bundled network ---------------------------------


def _pyagrum_network(network):
    """A pyAgrum ``BayesNet`` with the same variables, labels and tables as a pgmpy network.

    pgmpy stores a CPT with one axis per variable of ``cpd.variables`` (child
    first), each in the order of ``cpd.state_names``. Each table is brought to
    the labels of the pyAgrum variables, then to the variable order pyAgrum
    reports for the tensor (``variablesSequence``, first variable fastest when
    filling), so pyAgrum's own variable order never matters.
    """
    bn = gum.BayesNet("bundled")
    cpds = {cpd.variable: cpd for cpd in network.get_cpds()}
    for node, cpd in cpds.items():
        bn.add(gum.LabelizedVariable(node, node, list(cpd.state_names[node])))
    for node, cpd in cpds.items():
        for parent in cpd.variables[1:]:
            bn.addArc(parent, node)
    for node, cpd in cpds.items():
        table = np.asarray(cpd.values, dtype=float)
        for axis, variable in enumerate(cpd.variables):
            labels = bn.variable(variable).labels()
            table = np.take(table, [cpd.state_names[variable].index(s) for s in labels], axis=axis)
        sequence = [v.name() for v in bn.cpt(node).variablesSequence()]
        table = np.transpose(table, [cpd.variables.index(v) for v in reversed(sequence)])
        bn.cpt(node).fillWith([float(x) for x in table.ravel()])
    return bn


@pytest.fixture(scope="module")
def agrum_net(model):
    return _pyagrum_network(model.network)


def test_pyagrum_copy_has_the_same_tables(model, agrum_net):
    """Same nodes, parents and numbers, read back by naming the states (not through the layout used to
    fill the tables): every entry of the tables up to 256 entries, 300 random entries of each larger one."""
    network = model.network
    rng = np.random.default_rng(11)
    assert set(agrum_net.names()) == set(network.nodes())
    for cpd in network.get_cpds():
        node, parents = cpd.variable, cpd.variables[1:]
        cpt = agrum_net.cpt(node)
        assert set(cpt.names) == {node, *parents}
        values = cpd.values
        if values.size <= 256:
            entries = list(np.ndindex(values.shape))
        else:
            entries = [tuple(int(rng.integers(k)) for k in values.shape) for _ in range(300)]
        for entry in entries:
            inst = {v: agrum_net.variable(v).index(cpd.state_names[v][i]) for v, i in zip(cpd.variables, entry)}
            assert cpt[inst] == pytest.approx(float(values[entry]), abs=1e-15), (node, entry)


def test_pyagrum_mapping_on_a_tiny_network():
    """The layout mapping, checked by hand: P(c | a, b) with a 3-state parent."""
    from pgmpy.models import DiscreteBayesianNetwork

    network = DiscreteBayesianNetwork([("a", "c"), ("b", "c")])
    values = [[0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]]
    network.add_cpds(
        TabularCPD("a", 2, [[0.3], [0.7]], state_names={"a": ["x", "y"]}),
        TabularCPD("b", 3, [[0.2], [0.3], [0.5]], state_names={"b": ["p", "q", "r"]}),
        TabularCPD("c", 2, values, evidence=["a", "b"], evidence_card=[2, 3],
                   state_names={"c": ["n", "m"], "a": ["x", "y"], "b": ["p", "q", "r"]}),
    )
    bn = _pyagrum_network(network)
    c = bn.cpt("c")
    # column order: (x,p) (x,q) (x,r) (y,p) (y,q) (y,r) -- first parent slowest
    assert c[{"a": 0, "b": 1, "c": 0}] == pytest.approx(0.2)
    assert c[{"a": 1, "b": 0, "c": 0}] == pytest.approx(0.4)
    assert c[{"a": 1, "b": 2, "c": 1}] == pytest.approx(0.4)
    ie = gum.LazyPropagation(bn)
    ie.setEvidence({"c": "m"})
    ie.makeInference()
    p_m_x = 0.2 * 0.9 + 0.3 * 0.8 + 0.5 * 0.7
    p_m_y = 0.2 * 0.6 + 0.3 * 0.5 + 0.5 * 0.4
    expected = 0.3 * p_m_x / (0.3 * p_m_x + 0.7 * p_m_y)
    assert ie.posterior("a").toarray()[0] == pytest.approx(expected, abs=1e-12)


def _agrum_posteriors(bn, model, hard, soft):
    ie = gum.LazyPropagation(bn)
    for node, state in {**model.population, **hard}.items():
        ie.addEvidence(node, state)
    for node, likelihoods in soft.items():
        ie.addEvidence(node, likelihoods)
    ie.makeInference()
    out = {}
    for node in model.causes + model.complications:
        # pyAgrum 3.3 returns a likelihood with a single non-zero entry *unnormalised*
        # as the posterior of its own node ([0, 0.5] -> [0, 0.5]): normalise here.
        posterior = ie.posterior(node).toarray()
        out[node] = float(posterior[bn.variable(node).index(PRESENT)] / posterior.sum())
    return out


def test_pyagrum_prior_equals_prior_column(model, agrum_net):
    expected = _agrum_posteriors(agrum_net, model, {}, {})
    prior = model.prior()
    for node, value in expected.items():
        assert abs(prior[node] - value) <= TOL


@pytest.mark.parametrize("case", range(N_AGRUM_CASES))
def test_infer_equals_pyagrum_lazy_propagation(model, population, agrum_net, case):
    evidence, hard, soft = _bundled_case(model, _seed(population, 7, case), soft_rate=0.3)
    result = model.infer(evidence)
    expected = _agrum_posteriors(agrum_net, model, hard, soft)
    _assert_matches(result, expected, f"{population}, evidence {evidence}")


# --- b1. brute force on small random priors folders ------------------------------------------------

BINARY = ("absent", PRESENT)
RISK_STATES = {2: ("no", "yes"), 3: ("mid", "low", "high")}
FINDING_STATES = {2: ("no", "yes"), 3: ("none", "mild", "severe")}
CAP = 0.95


def _p(low, high):
    return st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def _expit(x):
    return 1.0 / (1.0 + math.exp(-x))


def _draw_noisy_or(draw, k, parents):
    """Leak and link totals with P(>= state) non-increasing: leak_s and q_s non-increasing in s."""
    leak = [draw(_p(0.01, 0.5))]
    for _ in range(k - 2):
        leak.append(leak[-1] * draw(_p(0.1, 1.0)))
    links = {}
    for parent in parents:
        q = [draw(_p(0.0, 0.95))]
        for _ in range(k - 2):
            q.append(q[-1] * draw(_p(0.0, 1.0)))
        links[parent] = [1.0 - (1.0 - lk) * (1.0 - qs) for lk, qs in zip(leak, q)]
    return leak, links


def _draw_logistic(draw, k, parents):
    """Leak and totals on either side of the leak; log-odds shifts non-increasing along states."""
    base = [draw(_p(-2.5, 2.5))]
    for _ in range(k - 2):
        base.append(base[-1] - draw(_p(0.0, 2.0)))
    links = {}
    for parent in parents:
        shift = [draw(_p(-3.0, 3.0))]
        for _ in range(k - 2):
            shift.append(shift[-1] - draw(_p(0.0, 2.0)))
        links[parent] = [_expit(b + d) for b, d in zip(base, shift)]
    return [_expit(b) for b in base], links


def _subset(draw, candidates, min_size, max_size):
    chosen = draw(st.lists(st.sampled_from(candidates), min_size=min_size, max_size=max_size, unique=True))
    return tuple(c for c in candidates if c in chosen)


@st.composite
def small_networks(draw):
    """A random network spec: name -> role, states, form, parents and the form's parameters."""
    spec = {}
    for i in range(draw(st.integers(2, 3))):
        states = RISK_STATES[draw(st.integers(2, 3))]
        probs = [draw(_p(0.02, 0.45)) for _ in states[1:]]
        spec[f"risk_{i}"] = dict(role="risk_factor", states=states, form="base_rate", parents=(), probs=probs)
    risks = list(spec)
    causes = []
    for i in range(draw(st.integers(2, 3))):
        rr = {}
        for rf in risks:
            for state in spec[rf]["states"][1:]:
                if draw(st.booleans()):
                    rr[(rf, state)] = draw(_p(0.2, 5.0))
        worst = math.prod(max([1.0] + [v for (r, _), v in rr.items() if r == rf]) for rf in risks)
        baseline = min(draw(_p(0.005, 0.4)), 0.9 / worst)  # every product stays below 0.95
        parents = tuple(rf for rf in risks if any(r == rf for r, _ in rr))
        name = f"cause_{i}"
        spec[name] = dict(role="cause", states=BINARY, form="relative_risk", parents=parents, baseline=baseline, rr=rr)
        causes.append(name)
    upstream = list(causes)
    if draw(st.booleans()):
        parents = _subset(draw, causes, 1, len(causes))
        leak, links = _draw_noisy_or(draw, 2, parents)
        spec["comp_0"] = dict(role="complication", states=BINARY, form="noisy_or", parents=parents, leak=leak,
                              links=links)
        upstream.append("comp_0")
    n_findings = draw(st.integers(3, 5))
    forms = ["noisy_or", "logistic"] + [draw(st.sampled_from(["noisy_or", "logistic"])) for _ in range(n_findings - 3)]
    for i, form in enumerate(forms):
        states = FINDING_STATES[draw(st.integers(2, 3))]
        parents = _subset(draw, upstream, 1, len(upstream))
        # sometimes a link on the middle state of a 3-state risk factor (a parent that acts through one state)
        middle = [rf for rf in risks if len(spec[rf]["states"]) == 3]
        link_state = {rf: spec[rf]["states"][1] for rf in (_subset(draw, middle, 0, 1) if middle else ())}
        parents = tuple(link_state) + parents
        drawer = _draw_noisy_or if form == "noisy_or" else _draw_logistic
        leak, links = drawer(draw, len(states), parents)
        spec[f"finding_{i}"] = dict(role="finding", states=states, form=form, parents=parents, leak=leak, links=links,
                                    link_state=link_state)
    # the full-CPT finding: one cause plus up to two parents of any earlier node (risk factors, findings ...)
    states = FINDING_STATES[draw(st.integers(2, 3))]
    first = draw(st.sampled_from(causes))
    others = _subset(draw, [n for n in spec if n != first], 0, 2)
    parents = tuple(n for n in spec if n == first or n in others)
    table = {}
    for config in itertools.product(*(spec[p]["states"] for p in parents)):
        weights = [draw(_p(0.05, 1.0)) for _ in states]
        probs = [w / sum(weights) for w in weights[:-1]]
        table[config] = probs + [1.0 - sum(probs)]
    spec[f"finding_{len(forms)}"] = dict(role="finding", states=states, form="cpt", parents=parents, table=table)
    spec["finding_0"]["emergency"] = spec["finding_0"]["states"][-1]
    return spec


@st.composite
def evidence_sets(draw, spec, count=3):
    """``count`` evidence dicts: hard evidence on any nodes, soft on up to two others."""
    out = []
    names = list(spec)
    for _ in range(count):
        observed = draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names) - 1))
        items = [(n, draw(st.sampled_from(spec[n]["states"]))) for n in observed]
        free = [n for n in names if n not in observed]
        for node in draw(st.lists(st.sampled_from(free), unique=True, max_size=2)):
            states = spec[node]["states"]
            lik = [draw(st.one_of(st.just(0.0), _p(0.001, 1.0))) for _ in states]
            if max(lik) == 0.0:
                lik[-1] = 1.0
            items.append((node, dict(zip(states, lik))))
        out.append(dict(draw(st.permutations(items))))
    return out


def _num(x):
    text = repr(float(x))
    assert float(text) == float(x)
    return text


def _write_csv(path, header, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _write_priors(spec, folder):
    """Write a spec as a priors folder in the CSV format of priors/README.md."""
    folder = Path(folder)
    param = ["source", "grade"]
    nodes, base, risk, links, leaks = [], [], [], [], []
    for name, node in spec.items():
        nodes.append([name, node["role"], "|".join(node["states"]), node["form"], name.replace("_", " "),
                      f"{name}?", "1", node.get("emergency", "")])
        form = node["form"]
        if form == "base_rate":
            for state, p in zip(node["states"][1:], node["probs"]):
                base.append([name, state, _num(p), _num(p), _num(p), "test", "E"])
        elif form == "relative_risk":
            b = node["baseline"]
            base.append([name, PRESENT, _num(b), _num(b), _num(b), "test", "E"])
            for (rf, state), v in node["rr"].items():
                risk.append([rf, state, name, _num(v), _num(v), _num(v), "test", "E"])
        elif form in ("noisy_or", "logistic"):
            for state, lk in zip(node["states"][1:], node["leak"]):
                leaks.append([name, state, _num(lk), _num(lk), _num(lk), "test", "E"])
            for parent, totals in node["links"].items():
                for state, p in zip(node["states"][1:], totals):
                    links.append([parent, node.get("link_state", {}).get(parent, PRESENT), name, state, _num(p), _num(p),
                                  _num(p), "test", "D"])
        else:  # cpt: columns deliberately in another order than nodes.csv
            parents = list(node["parents"])[::-1]
            rows = []
            for config, probs in node["table"].items():
                named = dict(zip(node["parents"], config))
                for state, p in zip(node["states"], probs):
                    rows.append([_num(p), state] + [named[q] for q in parents] + [_num(p), _num(p), "test", "E"])
            _write_csv(folder / "cpts" / f"{name}.csv", ["probability", name, *parents, "low", "high", *param], rows)
    _write_csv(folder / "nodes.csv", ["node", "role", "states", "form", "label", "question", "cost",
                                      "emergency_state"], nodes)
    value = ["probability", "low", "high", *param]
    for name, header, rows in (
        ("base_rates.csv", ["node", "state", *value], base),
        ("risk_factors.csv", ["risk_factor", "state", "cause", "relative_risk", "low", "high", *param], risk),
        ("links.csv", ["parent", "parent_state", "child", "child_state", *value], links),
        ("leaks.csv", ["node", "state", *value], leaks),
    ):
        _write_csv(folder / name, header, rows)  # every file; a header without rows says "none"
    upgrade_priors_folder(folder)  # the parents column, from the rows


def _logit(p):
    return math.log(p / (1.0 - p))


def _conditional(node, named):
    """P(node = each state | parents named) from the formulas of priors/README.md, written out here."""
    form = node["form"]
    if form == "base_rate":
        return [1.0 - sum(node["probs"])] + list(node["probs"])
    if form == "relative_risk":
        raw = node["baseline"]
        for (rf, state), v in node["rr"].items():
            if named[rf] == state:
                raw *= v
        present = min(raw, CAP)
        return [1.0 - present, present]
    if form == "cpt":
        return node["table"][tuple(named[p] for p in node["parents"])]
    active = [p for p in node["parents"] if named[p] == node.get("link_state", {}).get(p, PRESENT)]
    at_least = []
    for s, leak in enumerate(node["leak"]):
        totals = [node["links"][p][s] for p in active]
        if form == "noisy_or":  # Henrion: q = 1 - (1 - total) / (1 - leak)
            below = 1.0 - leak
            for total in totals:
                q = 1.0 - (1.0 - total) / (1.0 - leak)
                below *= 1.0 - q
            at_least.append(1.0 - below)
        else:  # additive log-odds
            log_odds = _logit(leak) + sum(_logit(t) - _logit(leak) for t in totals)
            at_least.append(_expit(log_odds))
    bounds = [1.0] + at_least + [0.0]
    return [bounds[i] - bounds[i + 1] for i in range(len(bounds) - 1)]


def _joint(spec):
    """The joint distribution over every node of the spec, axes in spec order."""
    names = list(spec)
    cards = [len(spec[n]["states"]) for n in names]
    joint = np.ones(cards)
    for name, node in spec.items():
        parents = node["parents"]
        table = np.zeros([len(node["states"])] + [len(spec[p]["states"]) for p in parents])
        for config in itertools.product(*(range(len(spec[p]["states"])) for p in parents)):
            named = {p: spec[p]["states"][i] for p, i in zip(parents, config)}
            table[(slice(None),) + config] = _conditional(node, named)
        axes = [names.index(name)] + [names.index(p) for p in parents]
        order = np.argsort(axes)
        shape = [cards[i] if i in axes else 1 for i in range(len(names))]
        joint = joint * table.transpose(order).reshape(shape)
    return joint


def _brute_force(spec, joint, evidence):
    """P(present | evidence) of every cause and complication, by summing the joint."""
    names = list(spec)
    weights = joint.copy()
    for node, value in evidence.items():
        states = spec[node]["states"]
        vector = np.array([value[s] for s in states]) if isinstance(value, dict) else np.array(
            [float(s == value) for s in states])
        shape = [1] * len(names)
        shape[names.index(node)] = len(states)
        weights = weights * vector.reshape(shape)
    total = weights.sum()
    if total == 0.0:
        return None  # the evidence has probability zero
    out = {}
    for name, node in spec.items():
        if node["role"] in ("cause", "complication"):
            axis = names.index(name)
            marginal = weights.sum(axis=tuple(i for i in range(len(names)) if i != axis))
            out[name] = float(marginal[1] / total)
    return out


def test_brute_force_reference_on_a_hand_example():
    """The reference itself, on the README worked example (sciatic notch tenderness)."""
    node = dict(form="noisy_or", parents=("dgs", "ldh"), leak=[0.2], links={"dgs": [0.85], "ldh": [0.35]})
    assert _conditional(node, {"dgs": PRESENT, "ldh": "absent"})[1] == pytest.approx(0.85, abs=1e-15)
    assert _conditional(node, {"dgs": PRESENT, "ldh": PRESENT})[1] == pytest.approx(0.878125, abs=1e-15)
    logistic = dict(form="logistic", parents=("a",), leak=[0.9], links={"a": [0.25]})
    assert _conditional(logistic, {"a": PRESENT}) == pytest.approx([0.75, 0.25], abs=1e-15)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_infer_equals_brute_force_on_small_random_networks(data):
    spec = data.draw(small_networks(), label="network")
    cases = data.draw(evidence_sets(spec), label="evidence")
    with tempfile.TemporaryDirectory() as folder:
        _write_priors(spec, folder)
        model = load_model(folder)
    joint = _joint(spec)
    assert abs(joint.sum() - 1.0) <= 1e-12
    prior = _brute_force(spec, joint, {})
    reported = [n for n, node in spec.items() if node["role"] in ("cause", "complication")]
    for evidence in [{}] + cases:
        expected = _brute_force(spec, joint, evidence)
        if expected is None:  # states with probability zero can occur (equal thresholds of an ordered finding)
            with pytest.raises(EvidenceError, match="probability zero"):
                model.infer(evidence)
            continue
        result = model.infer(evidence)
        assert sorted(result.index) == sorted(reported)
        _assert_matches(result, expected, f"evidence {evidence}")
        for node, value in prior.items():
            assert abs(result.loc[node, "prior"] - value) <= TOL
        flags = [n for n, v in evidence.items() if v == spec[n].get("emergency")]
        assert result.attrs["red_flags"] == flags


# --- b2. brute-force enumeration on the bundled networks ------------------------------------------


def _enumerate(network, states, hard, soft, reported):
    """P(not the reference state | evidence) of each ``reported`` node, by enumerating the joint.

    ``states`` maps every node to its states (reference first); ``hard`` maps
    nodes to a state, ``soft`` maps nodes to likelihoods in ``states`` order.
    The non-barren nodes are those observed or reported and their ancestors;
    every other node sums to one and is left out. The unobserved non-barren
    nodes are enumerated jointly (one column of ``grid`` per configuration),
    except a soft-evidence node with no child among them, which is summed out
    in its own factor, sum_s likelihood_s P(s | parents). Each configuration's
    weight is the product of the CPT entries read from ``network.get_cpds()``.

    Returns ``(posteriors, total weight, enumerated nodes)``; posteriors is None when the total is 0.
    """
    cpds = {cpd.variable: cpd for cpd in network.get_cpds()}
    parents = {node: list(cpd.variables[1:]) for node, cpd in cpds.items()}
    needed, stack = set(), [*hard, *soft, *reported]
    while stack:
        node = stack.pop()
        if node not in needed:
            needed.add(node)
            stack.extend(parents[node])
    has_child = {p for node in needed for p in parents[node]}
    summed_out = {n for n in soft if n not in has_child}
    free = [n for n in cpds if n in needed and n not in hard and n not in summed_out]
    grid = np.indices([len(states[n]) for n in free], dtype=np.int8).reshape(len(free), -1)
    column = dict(zip(free, grid))

    def index(cpd, node):
        """The node's state index in this CPD's own state order: an int (observed) or one per configuration."""
        own = cpd.state_names[node]
        if node in hard:
            return own.index(hard[node])
        return np.array([own.index(s) for s in states[node]])[column[node]]

    weight = np.ones(grid.shape[1])
    for node in (n for n in cpds if n in needed):
        cpd = cpds[node]
        at_parents = tuple(index(cpd, p) for p in parents[node])
        if node in summed_out:
            likelihood = np.array([soft[node][states[node].index(s)] for s in cpd.state_names[node]])
            weight = weight * np.tensordot(likelihood, cpd.values[(slice(None), *at_parents)], axes=1)
            continue
        weight = weight * cpd.values[(index(cpd, node), *at_parents)]
        if node in soft:
            weight = weight * np.asarray(soft[node])[column[node]]
    total = float(weight.sum())
    if total == 0.0:
        return None, total, free
    posteriors = {}
    for node in reported:
        if node in hard:
            posteriors[node] = float(hard[node] != states[node][0])
        else:
            posteriors[node] = float(weight[column[node] != 0].sum() / total)
    return posteriors, total, free


def _enumeration_case(model, rng, *, with_soft):
    """Every risk factor observed; a random subset of the observable findings hard, 1-3 others soft.

    Mechanisms and the population's finding are never drawn (the model and the
    oracle add the population).
    """
    hard = {rf: model.states(rf)[rng.integers(len(model.states(rf)))] for rf in model.risk_factors}
    observable = [n for n in model.findings if n not in MECHANISMS and n not in model.population]
    p_finding = rng.uniform(0.15, 0.6)
    for node in observable:
        if rng.random() < p_finding:
            hard[node] = model.states(node)[rng.integers(len(model.states(node)))]
    soft = {}
    if with_soft:
        free = [n for n in observable if n not in hard]
        for node in rng.choice(free, size=rng.integers(1, 4), replace=False):
            soft[str(node)] = _likelihoods(rng, len(model.states(str(node))))
    evidence = {**hard, **{n: dict(zip(model.states(n), lik)) for n, lik in soft.items()}}
    return evidence, hard, soft


@pytest.fixture(scope="module")
def enumerations(model, population):
    """``[(evidence, brute-force posteriors, enumerated nodes)]``, one per enumeration case."""
    states = {n: model.states(n) for n in model.nodes.index}
    reported = model.causes + model.complications
    out = []
    for case in range(N_ENUMERATION_CASES):
        evidence, hard, soft = _enumeration_case(model, _seed(population, 99, case), with_soft=case % 2 == 1)
        expected, _, free = _enumerate(model.network, states, {**model.population, **hard}, soft, reported)
        out.append((evidence, expected, free))
    return out


def test_enumeration_reference_on_the_risk_factors_alone(model):
    """The reference itself: with only the risk factors observed (no population), P(evidence) is the
    product of their base rates and each cause's posterior its own CPT entry, read with ``get_value``."""
    network = model.network
    states = {n: model.states(n) for n in model.nodes.index}
    hard = {rf: states[rf][-1] for rf in model.risk_factors}
    expected, total, free = _enumerate(network, states, hard, {}, model.causes + model.complications)
    assert set(free) == set(model.causes + model.complications)  # the findings and mechanisms are barren
    base = math.prod(network.get_cpds(rf).get_value(**{rf: s}) for rf, s in hard.items())
    assert abs(total - base) <= 1e-12 * base
    for cause in model.causes:
        cpd = network.get_cpds(cause)
        named = {v: hard[v] for v in cpd.variables[1:]}
        assert abs(expected[cause] - cpd.get_value(**{cause: PRESENT}, **named)) <= 1e-12


def test_enumeration_cases_observe_every_risk_factor_and_enumerate_the_hidden_nodes(model, enumerations):
    """Every cause and complication is enumerated; the other enumerated nodes are mechanisms or
    unobserved findings (a finding parent of an observed CPT finding); some case enumerates all the
    mechanisms; soft evidence occurs."""
    reported = set(model.causes) | set(model.complications)
    assert set(MECHANISMS) <= set(model.nodes.index)
    for evidence, _, free in enumerations:
        assert set(model.risk_factors) <= set(evidence)
        assert not set(MECHANISMS) & set(evidence)
        assert reported <= set(free)
        others = set(free) - reported
        hard = {n for n, v in evidence.items() if not isinstance(v, dict)} | set(model.population)
        assert others <= set(MECHANISMS) | set(model.findings) and not others & hard
    assert any(set(MECHANISMS) <= set(free) for _, _, free in enumerations)
    assert sum(any(isinstance(v, dict) for v in e.values()) for e, _, _ in enumerations) >= 1


@pytest.mark.parametrize("case", range(N_ENUMERATION_CASES))
def test_infer_equals_brute_force_enumeration_of_the_bundled_network(model, population, enumerations, case):
    evidence, expected, _ = enumerations[case]
    if expected is None:
        with pytest.raises(EvidenceError, match="probability zero"):
            model.infer(evidence)
        return
    _assert_matches(model.infer(evidence), expected, f"{population}, evidence {evidence}")


def test_infer_batch_equals_brute_force_enumeration_of_the_bundled_network(model, population, enumerations):
    cases = pd.DataFrame([evidence for evidence, _, _ in enumerations])
    batch = model.infer_batch(cases)
    assert list(batch.index) == list(cases.index)
    for row, (evidence, expected, _) in enumerate(enumerations):
        if expected is None:
            assert batch.loc[row].isna().all()
            continue
        for node, value in expected.items():
            got = batch.loc[row, node]
            assert abs(got - value) <= TOL, f"{node}: infer_batch gives {got!r}, reference {value!r}; {population}, " \
                                            f"evidence {evidence}"


# --- evidence of probability zero -------------------------------------------------------------

#: cause_a absent forbids finding_a = yes; cause_b is unrelated to both.
ZERO_SPEC = {
    "cause_a": dict(role="cause", states=BINARY, form="relative_risk", parents=(), baseline=0.1, rr={}),
    "cause_b": dict(role="cause", states=BINARY, form="relative_risk", parents=(), baseline=0.2, rr={}),
    "finding_a": dict(role="finding", states=("no", "yes"), form="cpt", parents=("cause_a",),
                      table={("absent",): [1.0, 0.0], ("present",): [0.1, 0.9]}),
}


@pytest.fixture(scope="module")
def zero_model():
    with tempfile.TemporaryDirectory() as folder:
        _write_priors(ZERO_SPEC, folder)
        return load_model(folder)


@pytest.mark.parametrize(
    "evidence",
    [
        {"finding_a": "yes", "cause_a": "absent"},
        {"cause_a": "absent", "finding_a": "yes"},
        {"cause_a": "absent", "finding_a": {"no": 0.0, "yes": 0.7}},
    ],
    ids=["hard", "hard-reordered", "soft"],
)
def test_impossible_evidence_is_rejected_even_when_separated_from_every_query(zero_model, evidence):
    """P(evidence) = 0, but the impossible part is d-separated from cause_b, the only node queried.

    pgmpy normalises each queried marginal on the pruned network, so no NaN
    appears; infer must still raise instead of returning P(cause_b) = 0.2.
    """
    assert _brute_force(ZERO_SPEC, _joint(ZERO_SPEC), evidence) is None
    with pytest.raises(EvidenceError, match="probability zero"):
        zero_model.infer(evidence)


def test_impossible_evidence_message_blames_the_right_observation(zero_model):
    """finding_a=yes then cause_a=absent is what is impossible; cause_b=present is innocent."""
    with pytest.raises(EvidenceError, match="probability zero") as info:
        zero_model.infer({"finding_a": "yes", "cause_a": "absent", "cause_b": "present"})
    message = str(info.value)
    assert "cause_a=absent is impossible" in message, message
    assert "cause_b=present is impossible" not in message, message


def test_possible_evidence_on_the_zero_model_matches_brute_force(zero_model):
    joint = _joint(ZERO_SPEC)
    for evidence in ({}, {"finding_a": "yes"}, {"finding_a": "no", "cause_b": "present"},
                     {"cause_a": "present", "finding_a": "yes"}):
        _assert_matches(zero_model.infer(evidence), _brute_force(ZERO_SPEC, joint, evidence), f"evidence {evidence}")
