"""Many cases on the junction tree together: the posteriors of :func:`model.infer_batch` by one calibration of
the whole tree per chunk of cases, each table carrying one column per case.

In plain terms: where the network's cliques are small (bnlearn's insurance: 49,597 configurations in all,
a tenth of what its batch plan computes) stepping through the tree once per case costs more in Python than
in arithmetic. Calibrating the tree for a chunk of cases at once (:func:`model.engine.families.calibrate_chunk`,
the calibration learning uses) keeps numpy on long arrays; each reported node's posterior is then read from
the belief of the smallest calibrated clique holding it. Exact, like the other two scorers
(:func:`model.engine.run.scorer` chooses by estimated cost). Pure apart from the model's cached tree.
"""

from __future__ import annotations

import numpy as np

from .chunk import _likelihoods
from .families import CHUNK_FLOATS, calibrate_chunk, prepared
from .single import TreeRows, junction_tree

__all__ = ["TreeBatch"]


class TreeBatch(TreeRows):
    """The reported nodes' posteriors of many cases, calibrated together on the model's junction tree;
    :func:`model.engine.chunk.evaluate` takes it in place of a plan (posteriors and whether each row is
    possible; no joint, no draws).

    Examples
    --------
    >>> import numpy as np
    >>> from model import load_model
    >>> m = load_model()
    >>> rows = TreeBatch(m)
    >>> hard = {n: np.full(2, -1) for n in m._states}
    >>> hard["posterior_thigh_pain"][:] = 1; hard["low_back_pain"][:] = [1, 0]
    >>> values, possible = rows.evaluate_rows(2, hard, {})
    >>> expected = m.infer({"low_back_pain": "yes"})["posterior"][list(m._reported)].to_numpy()
    >>> bool(possible.all()) and float(abs(values[0] - expected).max()) < 1e-9
    True
    """

    def __init__(self, model):
        super().__init__(model)
        self.states = model._states  # what chunk._likelihoods reads
        self.tree = junction_tree(model)
        total = sum(len(p) for p in self.tree.potentials)
        self.rows_per_chunk = max(1, CHUNK_FLOATS // max(total, 1))

    def evaluate_rows(self, n, hard, soft):
        """``(values, possible)``: P(not reference | evidence) of every reported node per row (a node observed
        hard is 0 or 1; NaN in impossible rows) and whether each row's evidence is possible. ``hard``: node ->
        state codes per row (-1: unobserved); ``soft``: node -> (rows, their likelihoods)."""
        tree, reported = self.tree, self.model._reported
        likelihoods = {node: lam for node in {*hard, *soft}
                       if (lam := _likelihoods(self, node, n, hard, soft)) is not None}
        leaves, logs, _, potentials, absorbed = prepared(tree, likelihoods, reported)
        home = {node: next(k for k in tree.within((node,)) if k not in absorbed) for node in reported}
        beliefs, log_scale, _ = calibrate_chunk(tree, n, likelihoods, leaves, logs, absorbed, potentials,
                                                wanted=set(home.values()))
        possible = np.isfinite(log_scale)
        values = np.full((n, len(reported)), np.nan)
        for i, node in enumerate(reported):
            k = home[node]
            scope = tree.cliques[k]
            belief = beliefs[k].reshape(*(tree.card[v] for v in scope), n)
            axis = scope.index(node)
            reference = belief.sum(axis=tuple(a for a in range(len(scope)) if a != axis))[0]
            values[:, i] = 1.0 - reference
            if node in hard:
                seen = hard[node] >= 0
                values[seen, i] = (hard[node][seen] != 0).astype(float)
        values[~possible] = np.nan
        return np.clip(values, 0.0, 1.0), possible
