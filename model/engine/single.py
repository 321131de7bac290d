"""One case at a time on the junction tree: the posteriors of :meth:`Model.infer`, every node's marginal for
predictions (:func:`case_marginals`) and the exact gradients of sensitivity analysis.

In plain terms: the model's network is compiled once into a junction tree
(:mod:`model.engine.junction`); one case's observations become likelihood
vectors (hard evidence a 0/1 vector, soft evidence its likelihoods), one
calibration gives P(evidence) and the joint of every clique with it. The
posterior of every cause and complication, and P(no modelled cause), are then
read from the smallest clique holding them all with one matrix product (the
bundled network has one: the presenting complaint ties every cause
together), else node by node and by a second calibration.

The model is duck-typed (``_priors.node_tables``, ``_states``,
``_reported``, ``causes``): this module does not import
:mod:`model.inference`.
"""

from __future__ import annotations

import math
import threading
import weakref

import numpy as np
import pandas as pd

from .junction import compile_junction_tree
from .reduced import ancestor_sets, cut_tables, reduced_tree
from .sliced import given

__all__ = ["TreeRows", "calibrate", "case_marginals", "case_posteriors", "family_tables", "junction_tree",
           "likelihoods", "log_evidence"]

#: Configurations of the junction tree above which a case gets a tree of its own, when no clique holds every
#: cause (on bnlearn's networks, 20% of cells seen: water 21 -> 13 ms a case, mildew 31 -> 18, barley 144 -> 20,
#: andes 45 -> 39, every root's marginal). The bundled network keeps the cut-down tree and its clique of causes.
REDUCE = 100_000

_TREES = weakref.WeakKeyDictionary()  # model -> {"tree": JunctionTree, "report": clique or None, "scratch", ...}


def _cache(model):
    cache = _TREES.setdefault(model, {})
    if "tree" not in cache:
        states = model._states
        tables = family_tables(model)
        card = {n: len(s) for n, s in states.items()}
        cache["tree"] = compile_junction_tree(tables, card, root=model.causes)
        cache["report"] = _report(model, cache["tree"])
        # the population, observed in every case, cut out of the tables before the cliques are formed
        population = {node: states[node].index(state) for node, state in model._population.items()}
        cut, cache["population constant"] = cut_tables(tables, population)
        cache["case tree"] = cache["tree"] if not population else compile_junction_tree(
            cut, {n: c for n, c in card.items() if n not in population}, root=model.causes, exact_root=True)
        cache["population"] = population
        cache["case report"] = _report(model, cache["case tree"])
        cache["scratch"] = threading.local()  # per thread: arrays one calibration lends the next (case_posteriors)
        # no clique holds every cause and the tree is large: each case gets a tree of its own (case_posteriors)
        cache["own trees"] = cache["report"] is None and sum(map(len, cache["tree"].potentials)) > REDUCE
        if cache["own trees"]:
            cache["ancestors"], cache["prior"] = ancestor_sets(tables), {}
    return cache


def family_tables(model, values=None):
    """node -> ``(family scope (node, *parents), table over it)`` of ``model``, as
    :func:`model.engine.junction.compile_junction_tree` takes them; ``values`` (node -> array whose first
    entry is (states, parent configurations), as :func:`model.analysis.parameters.node_values` gives) replaces
    the model's own tables."""
    states = model._states
    return {node: ((node,) + tuple(t.parents),
                   (t.values if values is None else values[node][0]).reshape(
                       (len(states[node]),) + tuple(len(s) for s in t.parent_states)))
            for node, t in model._priors.node_tables.items()}


def junction_tree(model):
    """The junction tree of ``model``'s network, compiled once and cached with the model."""
    return _cache(model)["tree"]


def _report(model, tree):
    """The smallest clique holding every cause (its belief gives every cause's posterior and P(no cause)), or
    None when no clique holds them all."""
    within = tree.within(tuple(model.causes))
    return within[0] if within else None


def _axis_marginals(belief, cards):
    """The marginal of every axis of a flat table over axes of ``cards`` states (first slowest), by two sums
    per axis on a table that shrinks as it goes (about four passes over it in all, whatever the number of
    axes; sums of contiguous rows, 1.4x faster than matrix products with ones on the bundled root clique)."""
    out, rest = [], belief
    for card in cards:
        table = rest.reshape(card, -1)
        out.append(table.sum(axis=1))
        rest = table.sum(axis=0)
    return out


def likelihoods(model, hard, soft):
    """``{node: likelihood vector}`` of one case (``Model.check_evidence`` output: hard states, soft
    likelihoods)."""
    out = {}
    for node, state in hard.items():
        vector = np.zeros(len(model._states[node]))
        vector[model._states[node].index(state)] = 1.0
        out[node] = vector
    for node, lam in soft.items():
        out[node] = out.get(node, 1.0) * np.asarray(lam, dtype=float)
    return out


def calibrate(model, hard, soft, extra=None, scratch=None):
    """The junction tree of ``model`` calibrated on one case; ``extra`` adds likelihood vectors (multiplied
    with the case's own on the same node); ``scratch`` as for :meth:`JunctionTree.calibrate`."""
    given = likelihoods(model, hard, soft)
    for node, lam in (extra or {}).items():
        given[node] = given.get(node, 1.0) * np.asarray(lam, dtype=float)
    return junction_tree(model).calibrate(given, scratch)


class TreeRows:
    """Many cases one at a time on the junction tree, for a network whose batch plan is refused
    (:class:`model.engine.compiled.PlanTooLarge`): :func:`model.engine.chunk.evaluate` takes it in place of a
    plan (posteriors of the reported nodes and whether each row is possible; no joint, no draws)."""

    rows_per_chunk = 64

    def __init__(self, model):
        self.model = model
        self.index = {node: pd.Index(states) for node, states in model._states.items()}

    def evaluate_rows(self, n, hard, soft):
        model, reported = self.model, self.model._reported
        values, possible = np.full((n, len(reported)), np.nan), np.zeros(n, dtype=bool)
        for i in range(n):
            given = {node: model._states[node][int(codes[i])] for node, codes in hard.items() if codes[i] >= 0}
            likelihoods = {node: lam[np.flatnonzero(at == i)[0]] for node, (at, lam) in soft.items() if (at == i).any()}
            posterior, _ = case_posteriors(model, given, likelihoods, none=False)
            possible[i] = bool(np.isfinite(posterior).all())
            if possible[i]:
                values[i] = posterior
        return values, possible


def case_posteriors(model, hard, soft, none=True):
    """``(P(not reference | evidence) of every reported node in ``model._reported`` order, P(every cause in
    its reference state | evidence))`` of one case, exact; NaN (both) when the evidence has probability
    zero; with ``none=False`` the second is NaN (it may cost a second calibration). A node fixed by hard
    evidence is exactly 0 or 1. Hard evidence is cut out of the tree's tables (:func:`model.engine.sliced.given`),
    soft evidence multiplied in. When no clique holds every cause and the tree is large (over ``REDUCE``
    configurations), a tree is compiled for the case alone (:func:`model.engine.reduced.reduced_tree`)."""
    cache = _cache(model)
    local = cache["scratch"]
    if not hasattr(local, "arrays"):
        local.arrays = {}
    states, causes = model._states, model.causes
    seen, weights = _cut_case(model, hard, soft)
    observed = seen  # every hard observation, the population's included (seen loses it on the case tree)
    reported = model._reported
    full, log_constant, present, report = cache["tree"], 0.0, {}, cache["report"]
    if cache["own trees"]:
        present = _unmoved(cache, reported, {*seen, *weights})
        wanted = (*(node for node in reported if node not in seen and node not in present), *weights)
        tree, log_constant = reduced_tree(full, seen, wanted, cache["ancestors"])
    else:
        population = cache["population"]
        if population and all(seen.get(node) == code for node, code in population.items()):
            # the tree with the population cut out at compile time: its clique of causes is the smaller
            full, log_constant, report = cache["case tree"], cache["population constant"], cache["case report"]
            seen = {node: code for node, code in seen.items() if node not in population}
        tree = given(full, seen)
    base_constant = 0.0 if cache["own trees"] else log_constant  # what given(full, seen) leaves out
    case = tree.calibrate(weights, local.arrays)  # read below, before the next calibration
    if math.isinf(case.log_evidence + log_constant):
        return np.full(len(reported), np.nan), float("nan")
    none = None if none else float("nan")
    if report is not None:
        k, axes, none_at = _report_cut(model, tree, report)
        belief = case.belief(k)
        marginals = _axis_marginals(belief, [tree.card[v] for v in tree.cliques[k]])
        for node, axis in axes.items():
            present[node] = 1.0 - float(marginals[axis][0])
        if none is None:
            none = float(belief[none_at].sum()) if all(seen.get(c, 0) == 0 for c in causes) else 0.0
    for node in reported:
        if node not in present and node not in seen:
            present[node] = _present(model, cache, case, node, observed, weights)
    posterior = np.array([present.get(node, np.nan) for node in reported])
    for i, node in enumerate(reported):
        if node in hard:
            posterior[i] = float(hard[node] != states[node][0])
    if none is None:  # P(no cause | evidence) = P(evidence, every cause absent) / P(evidence)
        none = _none_by_second_calibration(full, causes, seen, weights, case.log_evidence + log_constant - base_constant)
    return np.clip(posterior, 0.0, 1.0), float(np.clip(none, 0.0, 1.0))


def case_marginals(model, hard, soft, nodes):
    """``{node: P(node | evidence)}`` (one array over its states) of the unobserved ``nodes`` of one case
    (``Model.check_evidence`` output: hard states, soft likelihoods; a node's own soft evidence counts), by one
    calibration of the junction tree and each node's smallest clique; None when the evidence is impossible."""
    cache = _cache(model)
    seen, weights = _cut_case(model, hard, soft)
    tree, population = cache["tree"], cache["population"]
    if population and all(seen.get(node) == code for node, code in population.items()):
        tree = cache["case tree"]
        seen = {node: code for node, code in seen.items() if node not in population}
    case = given(tree, seen).calibrate(weights)
    if math.isinf(case.log_evidence):
        return None
    return {node: case.marginal((node,)) for node in nodes}


def _present(model, cache, case, node, seen, weights):
    """P(not reference | evidence) of an unobserved ``node`` of a calibrated ``case``; ``seen``: every hard
    observation (node -> state index), ``weights``: the likelihoods. When no observation descends from it (nor
    is on it), its table is barren: the sum over its parents' joint with the evidence (from the smallest
    calibrated clique holding them, often the clique of every cause) of P(reference | parents), which spares
    calibrating its own clique. Else its clique's marginal."""
    if "descendants" not in cache:
        cache["descendants"] = _descendant_sets(model)
    if node in weights or not cache["descendants"][node].isdisjoint({*seen, *weights}):
        return 1.0 - float(case.marginal((node,))[0])
    table = model._priors.node_tables[node]
    reference = table.values[0].reshape([len(s) for s in table.parent_states])
    reference = reference[tuple(seen.get(p, slice(None)) for p in table.parents)]  # observed parents fixed
    free = [p for p in table.parents if p not in seen]
    if not free:
        return 1.0 - float(reference)
    return 1.0 - float(np.vdot(case.marginal(free), reference))


def _descendant_sets(model):
    """node -> the set of its descendants (itself excluded), from :func:`model.engine.reduced.ancestor_sets`."""
    ancestors = ancestor_sets({node: ((node, *t.parents), None) for node, t in model._priors.node_tables.items()})
    out = {node: set() for node in ancestors}
    for node, above in ancestors.items():
        for ancestor in above - {node}:
            out[ancestor].add(node)
    return out


def _unmoved(cache, reported, observed):
    """``{node: P(not reference)}`` of the reported nodes that no observation can move, with their prior: those
    sharing no ancestor (themselves included) with any observed node are d-separated from all of them (the
    ancestral graph of both, moralised, falls into two parts)."""
    ancestors, prior = cache["ancestors"], cache["prior"]
    moved = frozenset().union(*(ancestors[node] for node in observed))
    out = {}
    for node in reported:
        if node not in observed and not ancestors[node] & moved:
            if node not in prior:
                if "prior case" not in cache:  # no evidence: each clique calibrated when first asked for
                    cache["prior case"] = cache["tree"].calibrate()
                prior[node] = 1.0 - float(cache["prior case"].marginal((node,))[0])
            out[node] = prior[node]
    return out


def log_evidence(model, hard, soft):
    """log P(evidence) of one case (``Model.check_evidence`` output); -inf when it is impossible."""
    seen, weights = _cut_case(model, hard, soft)
    return given(junction_tree(model), seen).calibrate(weights).log_evidence


def _cut_case(model, hard, soft):
    """``(observed, weights)`` of one case: the index of each hard state to cut out of the tables (see
    :func:`model.engine.sliced.given`), and the likelihood vectors to multiply in (soft evidence, times the
    0/1 vector of a hard state on the same node)."""
    seen = {node: model._states[node].index(state) for node, state in hard.items() if node not in soft}
    return seen, likelihoods(model, {node: state for node, state in hard.items() if node in soft}, soft)


def _none_by_second_calibration(full, causes, seen, weights, log_evidence):
    if any(seen.get(c, 0) != 0 for c in causes):
        return 0.0
    seen, weights = dict(seen), dict(weights)
    for c in causes:
        if c in weights:
            weights[c] = weights[c] * np.eye(len(weights[c]))[0]
        else:
            seen[c] = 0
    with_none = given(full, seen).calibrate(weights)
    return 0.0 if math.isinf(with_none.log_evidence) else math.exp(with_none.log_evidence - log_evidence)


def _report_cut(model, tree, k):
    """:func:`_report` of clique k on a tree with observed nodes cut out (cached with the cut tree): the axes
    of the reported nodes it still holds, and the flat positions where every cause it holds is absent."""
    key = ("report", k)
    if key not in tree.indexes:
        scope = tree.cliques[k]
        axes = {node: scope.index(node) for node in model._reported if node in scope}
        none = np.ones(len(tree.potentials[k]), dtype=bool)
        for cause in model.causes:
            if cause in scope:
                none &= tree.index(k, (cause,)) == 0
        tree.indexes[key] = (k, axes, np.flatnonzero(none))
    return tree.indexes[key]
