"""The junction tree (model/engine/junction.py) against independent references.

References: pgmpy's VariableElimination for posteriors, pyAgrum's LazyPropagation for P(evidence),
brute-force enumeration on small networks, and the tables themselves for the gradient identity
P(evidence) = sum(gradient * table) under any replacement table (checked by pyAgrum on the
network with the table replaced, never by the junction tree itself).
"""

from __future__ import annotations

import math
from itertools import product
from pathlib import Path

import numpy as np
import pytest
from pgmpy.inference import VariableElimination

from model.engine.junction import compile_junction_tree
from model.engine.reduced import reduced_tree
from model.engine.sliced import given
from model.interop import read_network

DATA = Path(__file__).parent / "data" / "bnlearn"
TOL = 1e-9
NETWORKS = ["asia", "cancer", "child", "insurance", "alarm"]


def tables_of(network):
    """node -> ((node, *parents), array) and node -> number of states, from a pgmpy network."""
    tables = {cpd.variable: (tuple(cpd.variables), np.asarray(cpd.values, dtype=float))
              for cpd in network.get_cpds()}
    card = {cpd.variable: int(cpd.cardinality[0]) for cpd in network.get_cpds()}
    return tables, card


def random_evidence(network, rng, share=0.3):
    """Hard evidence on about ``share`` of the nodes: {node: state name}."""
    states = {cpd.variable: cpd.state_names[cpd.variable] for cpd in network.get_cpds()}
    return {n: s[rng.integers(len(s))] for n, s in states.items() if rng.random() < share}


def one_hot(network, evidence):
    out = {}
    for node, state in evidence.items():
        names = network.get_cpds(node).state_names[node]
        vector = np.zeros(len(names))
        vector[names.index(state)] = 1.0
        out[node] = vector
    return out


def calibrated(tree, network, evidence, cut, wanted=()):
    """``(calibration, log constant)`` of ``tree`` on hard ``evidence`` ({node: state name}): multiplied in as
    0/1 vectors (``cut`` False), cut out of the tables (True, model/engine/sliced.py), or taken out before a
    tree is compiled for the case over the ancestors of the evidence and ``wanted`` ("reduced",
    model/engine/reduced.py)."""
    if not cut:
        return tree.calibrate(one_hot(network, evidence)), 0.0
    codes = {node: network.get_cpds(node).state_names[node].index(state) for node, state in evidence.items()}
    if cut in ("reduced", "searched"):  # searched: the greedy order tried on every case, the smaller tree kept
        reduced, constant = reduced_tree(tree, codes, wanted, search_above=0 if cut == "searched" else None)
        return reduced.calibrate(), constant
    return given(tree, codes).calibrate(), 0.0


@pytest.fixture(scope="module")
def network():
    """name -> a vendored bnlearn network, every CPT column rescaled to sum to 1 (bnlearn's sum to 1 only
    within 1e-7, and engines that leave out barren nodes then differ by that much)."""
    cache = {}

    def get(name):
        if name not in cache:
            net = read_network(DATA / f"{name}.bif.gz")
            for cpd in net.get_cpds():
                cpd.normalize()
            cache[name] = net
        return cache[name]

    return get


def pyagrum_net(network, replaced=None):
    """The network in pyAgrum, optionally with one node's table replaced: ``(node, array over (node,
    *parents))``."""
    gum = pytest.importorskip("pyagrum")
    bn = gum.BayesNet()
    cpds = {cpd.variable: cpd for cpd in network.get_cpds()}
    for name, cpd in cpds.items():
        bn.add(gum.LabelizedVariable(name, name, list(cpd.state_names[name])))
    for name, cpd in cpds.items():
        for parent in cpd.variables[1:]:
            bn.addArc(parent, name)
    for name, cpd in cpds.items():
        values = np.asarray(cpd.values, dtype=float)
        if replaced is not None and replaced[0] == name:
            values = replaced[1]
        parents = cpd.variables[1:]
        for config in product(*(range(len(cpd.state_names[p])) for p in parents)):
            at = {p: cpd.state_names[p][i] for p, i in zip(parents, config)}
            bn.cpt(name)[at] = list(values[(slice(None),) + config])
    return gum, bn


def pyagrum_evidence_probability(network, evidence, replaced=None):
    gum, bn = pyagrum_net(network, replaced)
    engine = gum.LazyPropagation(bn)
    engine.setEvidence(evidence)
    engine.makeInference()
    return engine.evidenceProbability()


@pytest.mark.parametrize("cut", [False, True, "reduced", "searched"], ids=["multiplied", "cut", "reduced", "searched"])
@pytest.mark.parametrize("name", NETWORKS)
def test_marginals_equal_pgmpy_variable_elimination(network, name, cut):
    net = network(name)
    tree = compile_junction_tree(*tables_of(net))
    ve = VariableElimination(net)
    rng = np.random.default_rng(11)
    for _ in range(3):
        evidence = random_evidence(net, rng)
        free = [n for n in net.nodes() if n not in evidence]
        asked = list(rng.choice(free, size=min(8, len(free)), replace=False))
        case, constant = calibrated(tree, net, evidence, cut, wanted=asked)
        if math.isinf(case.log_evidence + constant):
            continue
        for node in asked:
            got = case.marginal((node,))
            want = ve.query([node], evidence=evidence, show_progress=False)
            want = want.values[[want.state_names[node].index(s) for s in net.get_cpds(node).state_names[node]]]
            assert np.abs(got - want).max() <= TOL, (name, node, evidence)


@pytest.mark.parametrize("cut", [False, True, "reduced", "searched"], ids=["multiplied", "cut", "reduced", "searched"])
@pytest.mark.parametrize("name", NETWORKS)
def test_log_evidence_equals_pyagrum(network, name, cut):
    net = network(name)
    tree = compile_junction_tree(*tables_of(net))
    rng = np.random.default_rng(5)
    for _ in range(3):
        evidence = random_evidence(net, rng, share=0.2)
        case, constant = calibrated(tree, net, evidence, cut)
        try:
            expected = pyagrum_evidence_probability(net, evidence)
        except Exception:  # pyAgrum refuses impossible evidence
            assert math.isinf(case.log_evidence + constant)
            continue
        assert math.exp(case.log_evidence + constant) == pytest.approx(expected, rel=1e-9, abs=1e-300)


@pytest.mark.parametrize("name", ["insurance", "alarm"])
def test_a_case_tree_keeps_the_smaller_of_the_two_orders(network, name):
    """A tree compiled for one case (model/engine/reduced.py) in the full tree's order, or, when the greedy
    min-fill order is searched as well, in whichever order makes fewer configurations: never more, and fewer on
    some cases (cutting the observed nodes out changes the graph the full tree's order was chosen for)."""
    net = network(name)
    tree = compile_junction_tree(*tables_of(net))
    rng = np.random.default_rng(3)
    smaller = 0
    for _ in range(20):
        evidence = random_evidence(net, rng)
        codes = {node: net.get_cpds(node).state_names[node].index(state) for node, state in evidence.items()}
        kept, _ = reduced_tree(tree, codes, search_above=None)
        searched, _ = reduced_tree(tree, codes, search_above=0)
        before, after = (sum(map(len, t.potentials)) for t in (kept, searched))
        assert after <= before, (name, evidence)
        smaller += after < before
    assert smaller >= 1


def test_soft_evidence_and_family_joint_by_enumeration(network):
    net = network("asia")
    tables, card = tables_of(net)
    tree = compile_junction_tree(tables, card)
    rng = np.random.default_rng(2)
    soft = {"xray": rng.random(2), "dysp": np.array([0.3, 1.0]), "smoke": np.array([0.0, 1.0])}
    case = tree.calibrate(soft)
    nodes = list(card)
    joint = np.ones([card[n] for n in nodes])
    for node, (scope, table) in tables.items():
        axes = [nodes.index(v) for v in scope]
        order = np.argsort(axes)
        shape = [1] * len(nodes)
        for a in axes:
            shape[a] = card[nodes[a]]
        joint = joint * np.transpose(table, order).reshape(shape)
    for node, lam in soft.items():
        shape = [1] * len(nodes)
        shape[nodes.index(node)] = len(lam)
        joint = joint * lam.reshape(shape)
    assert math.exp(case.log_evidence) == pytest.approx(joint.sum(), rel=1e-12)
    family = tables["either"][0]
    keep = [nodes.index(v) for v in family]
    expected = joint.sum(axis=tuple(i for i in range(len(nodes)) if i not in keep))
    expected = np.transpose(expected, np.argsort(np.argsort(keep))) / joint.sum()
    assert np.abs(case.marginal(family) - expected).max() <= 1e-12


def test_cut_evidence_with_soft_evidence_by_enumeration(network):
    """Hard evidence cut out of the tables, soft evidence multiplied in, on the same case; every node but
    one observed (cliques cut down to nothing) against the joint enumerated cell by cell."""
    net = network("asia")
    tables, card = tables_of(net)
    tree = compile_junction_tree(tables, card)
    nodes = list(card)
    joint = np.ones([card[n] for n in nodes])
    for node, (scope, table) in tables.items():
        axes = [nodes.index(v) for v in scope]
        shape = [1] * len(nodes)
        for a in axes:
            shape[a] = card[nodes[a]]
        joint = joint * np.transpose(table, np.argsort(axes)).reshape(shape)
    rng = np.random.default_rng(7)
    for hard in ({"xray": 1, "smoke": 0}, {n: 0 for n in nodes if n != "lung"}, {"either": 0, "tub": 1}):  # either = yes, tub = no
        soft = {"dysp": rng.random(2)} if "dysp" not in hard else {}
        case = given(tree, hard).calibrate(soft)
        weighted = joint.copy()
        for node, at in hard.items():
            keep = np.zeros(card[node])
            keep[at] = 1.0
            weighted = weighted * keep.reshape([-1 if v == node else 1 for v in nodes])
        for node, lam in soft.items():
            weighted = weighted * lam.reshape([-1 if v == node else 1 for v in nodes])
        assert math.exp(case.log_evidence) == pytest.approx(weighted.sum(), rel=1e-12, abs=1e-300)
        for node in nodes:
            if node not in hard:
                other = tuple(i for i, v in enumerate(nodes) if v != node)
                expected = weighted.sum(axis=other) / weighted.sum()
                assert np.abs(case.marginal((node,)) - expected).max() <= 1e-12, (hard, node)


def test_cut_impossible_evidence_has_minus_infinite_log_probability(network):
    net = network("asia")
    tables, card = tables_of(net)
    case = given(compile_junction_tree(tables, card), {"tub": 0, "either": 1}).calibrate()  # tub = yes, either = no
    assert case.log_evidence == -math.inf


@pytest.mark.parametrize("name", ["asia", "child", "alarm"])
def test_gradient_gives_the_evidence_probability_under_any_table(network, name):
    net = network(name)
    tables, card = tables_of(net)
    rng = np.random.default_rng(3)
    evidence = random_evidence(net, rng, share=0.25)
    case = compile_junction_tree(tables, card).calibrate(one_hot(net, evidence))
    assert not math.isinf(case.log_evidence)
    for node in rng.choice(sorted(tables), size=4, replace=False):
        scope, table = tables[node]
        new = rng.random(table.shape)
        new /= new.sum(axis=0, keepdims=True)
        expected = pyagrum_evidence_probability(net, evidence, (node, new))
        got = float((case.table_gradient(node) * new).sum())
        assert got == pytest.approx(expected, rel=1e-9), (name, node)


def test_gradient_where_the_table_has_zeros(network):
    """Cells whose value is 0 (asia's deterministic ``either``) still get their derivative."""
    net = network("asia")
    tables, card = tables_of(net)
    assert (tables["either"][1] == 0).any()
    evidence = {"xray": "yes", "dysp": "no"}
    case = compile_junction_tree(tables, card).calibrate(one_hot(net, evidence))
    new = np.full_like(tables["either"][1], 0.5)
    expected = pyagrum_evidence_probability(net, evidence, ("either", new))
    assert float((case.table_gradient("either") * new).sum()) == pytest.approx(expected, rel=1e-9)


def test_impossible_evidence_has_minus_infinite_log_probability(network):
    net = network("asia")
    tree = compile_junction_tree(*tables_of(net))
    case = tree.calibrate(one_hot(net, {"tub": "yes", "either": "no"}))  # either = tub or lung
    assert case.log_evidence == -math.inf


def test_beliefs_of_impossible_evidence_are_zero_without_error():
    """Rain never falls, the grass is never wet without it, and the grass is seen wet: P(evidence) = 0. Every clique's
    belief, the root's included (which was calibrated in the inward pass but not normalised), is all zeros."""
    wet = np.array([[1.0, 0.5], [0.0, 0.5]])  # P(grass | rain), rows grass = dry, wet
    tables = {"rain": (("rain",), np.array([1.0, 0.0])), "grass": (("grass", "rain"), wet),
              "road": (("road", "rain"), wet)}
    tree = compile_junction_tree(tables, {"rain": 2, "grass": 2, "road": 2})
    case = tree.calibrate({"grass": np.array([0.0, 1.0])})
    assert case.log_evidence == -math.inf
    for k in range(len(tree.cliques)):
        assert not case.belief(k).any()


def test_a_clique_above_the_limit_is_refused_with_its_size(network):
    tables, card = tables_of(network("alarm"))
    with pytest.raises(MemoryError, match="clique of .* configurations"):
        compile_junction_tree(tables, card, max_clique=8)


def test_cliques_above_the_limit_in_all_are_refused_with_their_total(network):
    """Each of alarm's cliques fits, but not all of them together (bnlearn's link once used 23 GiB)."""
    tables, card = tables_of(network("alarm"))
    total = sum(len(p) for p in compile_junction_tree(tables, card).potentials)
    with pytest.raises(MemoryError, match=f"needs {total:,} configurations in its .* cliques"):
        compile_junction_tree(tables, card, max_tree=total - 1)


def test_bundled_network_marginals_equal_the_model(bundled_model):
    m = bundled_model
    tables = {n: ((n,) + tuple(t.parents), t.values.reshape((len(m._states[n]),) +
                                                            tuple(len(s) for s in t.parent_states)))
              for n, t in m._priors.node_tables.items()}
    tree = compile_junction_tree(tables, {n: len(s) for n, s in m._states.items()})
    evidence = {"pain_burning": "yes", "low_back_pain": "no", "sitting_effect": "dominant", **m.population}
    likelihoods = {}
    for node, state in evidence.items():
        likelihoods[node] = np.eye(len(m._states[node]))[m._states[node].index(state)]
    case = tree.calibrate(likelihoods)
    ve = VariableElimination(m.network)
    for node in m._reported:
        want = ve.query([node], evidence=evidence, show_progress=False)
        want = want.values[[want.state_names[node].index(s) for s in m._states[node]]]
        assert np.abs(case.marginal((node,)) - want).max() <= TOL, node


@pytest.mark.slow
def test_model_infer_on_large_imported_networks_equals_pyagrum(tmp_path):
    """bnlearn's andes (223 nodes), as shipped with pgmpy (pigs and munin were checked by hand): the batch
    plan of issue 12 was
    47-1,500x slower than pyAgrum on such networks or did not compile; Model.infer runs on the junction
    tree. pyAgrum gets the model's own tables cell by cell; the evidence is a path of most probable states
    (so it is possible)."""
    import os

    import pgmpy

    from model import load_model
    from model.interop import network_to_tables
    from model.priors import save_tables

    gum = pytest.importorskip("pyagrum")
    for name in ("andes",):
        path = Path(pgmpy.__file__).parent / "utils" / "example_models" / f"{name}.bif.gz"
        if not os.path.exists(path):
            pytest.skip(f"pgmpy does not ship {name}")
        save_tables(network_to_tables(read_network(path), source=f"{name}.bif.gz"), tmp_path / name)
        m = load_model(tmp_path / name)
        bn = gum.BayesNet()
        for node, states in m._states.items():
            bn.add(gum.LabelizedVariable(node, node, list(states)))
        for node, table in m._priors.node_tables.items():
            for parent in table.parents:
                bn.addArc(parent, node)
        for node, table in m._priors.node_tables.items():
            for column, config in enumerate(product(*table.parent_states)):
                bn.cpt(node)[dict(zip(table.parents, config))] = list(table.values[:, column])
        engine = gum.LazyPropagation(bn)
        evidence = {}
        for node in np.random.default_rng(0).choice(list(m._states), size=8, replace=False):
            engine.setEvidence(evidence)
            engine.makeInference()
            evidence[str(node)] = m._states[str(node)][int(np.argmax(engine.posterior(str(node)).toarray()))]
        engine.setEvidence(evidence)
        engine.makeInference()
        result = m.infer(evidence)
        for node in m._reported:
            if node not in evidence:
                expected = 1.0 - engine.posterior(node)[{node: m._states[node][0]}]
                assert abs(result.at[node, "posterior"] - expected) <= TOL, (name, node)


@pytest.mark.parametrize("shape, message_shape", [
    ((24, 2, 2, 8, 2, 2, 8, 2, 2), (24, 1, 2, 1, 2, 1, 8, 1, 2)), ((3072, 2, 4, 4), (3072, 1, 4, 1)),
    ((3, 4, 2, 256, 2, 8), (3, 1, 2, 1, 2, 1)), ((2, 8192, 2, 2), (1, 8192, 1, 2)), ((2, 32768), (1, 32768)),
    ((6, 2, 2048, 2), (6, 1, 2048, 1)), ((64, 2, 64), (64, 1, 64)), ((4, 3), (1, 3))])
def test_every_way_of_multiplying_a_message_in_makes_the_same_products(shape, message_shape):
    """model/engine/flat.py multiplies a child's message into a table in one of several ways (the fastest
    is chosen by timing): each gives exactly the broadcast product, in place and from a source table."""
    from model.engine import flat

    rng = np.random.default_rng(4)
    size = math.prod(shape)
    table, source, message = rng.random(size), rng.random(size), rng.random(math.prod(message_shape))
    broadcast = np.broadcast_to(message.reshape(message_shape), shape).reshape(-1)
    for way in flat.WAYS + (flat.into,):
        for given in (source, None):
            out = table.copy()
            way(out, message, (shape, message_shape, None), given)
            assert np.array_equal(out, (table if given is None else source) * broadcast), (way.__name__, given)


@pytest.mark.parametrize("name", ["asia", "alarm"])
def test_a_root_of_exactly_the_nodes_asked_for_gives_the_same_marginals(network, name):
    """``exact_root``: a clique of exactly the ``root`` nodes is the root (the clique of every cause of the
    bundled network, its population cut out), holding the tables over them alone; marginals equal VE."""
    net = network(name)
    tables, card = tables_of(net)
    plain = compile_junction_tree(tables, card)
    wanted = next(c for c in sorted(plain.cliques, key=len, reverse=True) if len(c) >= 3)[:2]
    tree = compile_junction_tree(tables, card, root=wanted, exact_root=True)
    top = [k for k, p in enumerate(tree.parent) if p is None and set(tree.cliques[k]) == set(wanted)]
    assert len(top) == 1
    assert all(set(tables[node][0]) <= set(wanted) for node in tree.holds[top[0]])
    ve, rng = VariableElimination(net), np.random.default_rng(8)
    for _ in range(3):
        evidence = random_evidence(net, rng, share=0.2)
        case = tree.calibrate(one_hot(net, evidence))
        if math.isinf(case.log_evidence) or set(wanted) & set(evidence):
            continue
        got = case.marginal(wanted)
        want = ve.query(list(wanted), evidence=evidence, joint=True, show_progress=False)
        order = [[want.state_names[v].index(s) for s in net.get_cpds(v).state_names[v]] for v in wanted]
        want = want.values[np.ix_(*order)] if want.variables == list(wanted) else \
            np.transpose(want.values, [want.variables.index(v) for v in wanted])[np.ix_(*order)]
        assert np.abs(got - want).max() <= TOL, (name, evidence)
