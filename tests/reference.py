"""pgmpy's variable elimination as the tests' independent reference for one case (the package itself never
uses it): marginals of a checked case, and the first impossible observation by the chain rule."""

from __future__ import annotations

import weakref

import numpy as np

from model.network import VariableElimination, likelihood_factor

#: Largest joint table of query variables asked of pgmpy in one query (past it, one query per variable).
MAX_JOINT_QUERY = 2**17

_ENGINES = weakref.WeakKeyDictionary()  # model -> VariableElimination on its network (hard evidence only)


def ve_marginals(model, variables, hard, soft):
    """pgmpy VE marginals (``{node: DiscreteFactor}``) of ``variables`` given one case checked by
    ``Model.check_evidence`` (``hard``, ``soft``); evidence passed in node order."""
    order = {node: i for i, node in enumerate(model._states)}
    hard = {n: hard[n] for n in sorted(hard, key=order.get)}
    if np.prod([len(model._states[v]) for v in variables], dtype=float) > MAX_JOINT_QUERY:
        return {v: ve_marginals(model, [v], hard, soft)[v] for v in variables}
    if not soft:
        if model not in _ENGINES:
            _ENGINES[model] = VariableElimination(model.network)
        return _ENGINES[model].query(variables, evidence=hard, joint=False, show_progress=False)
    factors = [likelihood_factor(n, model._states[n], soft[n]) for n in sorted(soft, key=order.get)]
    engine = VariableElimination(model.network)  # pgmpy rewires the engine for virtual evidence
    return engine.query(variables, evidence=hard, virtual_evidence=factors, joint=False, show_progress=False)


def ve_first_impossible(model, hard, soft, given_order):
    """The first node, in ``given_order``, whose observation has probability zero given the earlier ones, by
    pgmpy VE and the chain rule P(e) = prod_i P(e_i | e_1..e_{i-1}); None when every factor is positive."""
    seen_hard, seen_soft = {}, {}
    for node in given_order:
        marginal = ve_marginals(model, [node], seen_hard, seen_soft)[node]
        values = np.array([marginal.values[marginal.state_names[node].index(s)] for s in model._states[node]])
        if node in hard:
            probability = values[model._states[node].index(hard[node])]
        else:
            probability = float(np.dot(values, soft[node]))
        if not probability > 0.0:
            return node
        (seen_hard if node in hard else seen_soft)[node] = hard.get(node, soft.get(node))
    return None
