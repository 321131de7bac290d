"""Turn validated priors into a pgmpy ``DiscreteBayesianNetwork``.

The only module that imports pgmpy's model and factor classes (design.md §5.11).
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():  # pgmpy 1.1 warns on import (its deprecated estimators; tqdm without widgets)
    warnings.simplefilter("ignore")
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.inference import VariableElimination
    from pgmpy.models import DiscreteBayesianNetwork

__all__ = ["VariableElimination", "build_network", "likelihood_factor"]


def build_network(priors):
    """The pgmpy network of validated priors, one ``TabularCPD`` per node.

    Parameters
    ----------
    priors : Priors
        From :func:`model.priors.load_priors` (already checked and expanded).

    Returns
    -------
    pgmpy.models.DiscreteBayesianNetwork
        Nodes and states named exactly as in ``nodes.csv``.

    Examples
    --------
    >>> from model.priors import load_priors
    >>> network = build_network(load_priors())
    >>> network.get_cpds("avid_cyclist").state_names["avid_cyclist"]
    ['no', 'yes']
    """
    network = DiscreteBayesianNetwork()
    network.add_nodes_from(priors.nodes.index)
    cpds = []
    for node in priors.nodes.index:
        table = priors.node_tables[node]
        network.add_edges_from((parent, node) for parent in table.parents)
        names = {node: list(table.states)}
        names.update({p: list(s) for p, s in zip(table.parents, table.parent_states)})
        cpds.append(
            TabularCPD(
                node,
                len(table.states),
                table.values,
                evidence=list(table.parents) or None,
                evidence_card=[len(s) for s in table.parent_states] or None,
                state_names=names,
            )
        )
    network.add_cpds(*cpds)
    network.check_model()
    return network


def likelihood_factor(node, states, likelihoods):
    """Soft (virtual) evidence on ``node`` as the single-variable table pgmpy expects.

    ``likelihoods`` are aligned to ``states`` and lie in [0, 1].

    Examples
    --------
    >>> likelihood_factor("low_back_pain", ("no", "yes"), (0.25, 1.0)).values
    array([0.25, 1.  ])
    """
    return TabularCPD(node, len(states), [[x] for x in likelihoods], state_names={node: list(states)})
