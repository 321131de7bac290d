"""How the evidence moved one cause from its prior to its posterior: :func:`explain`.

Every contribution is a natural-log likelihood ratio on the cause's log-odds,
so the rows of an explanation add up exactly to
``logit(posterior) - logit(prior)``. All the probabilities needed (one per
subset of the evidence, and one per "what if this answer had been the other
one") are scored in one call each to the exact batch engine
:func:`model.engine.infer_batch`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..engine import infer_batch
from ..errors import EvidenceError, close_names
from ..inference import as_model

__all__ = ["explain"]

#: Most evidence items explained with exact Shapley values by default (2**k subsets are scored).
MAX_SHAPLEY_ITEMS = 14
#: Most items for which Shapley values may be forced with ``method="shapley"``.
SHAPLEY_LIMIT = 20
#: A contribution of at most this size (in log-odds) has direction "none".
DIRECTION_TOLERANCE = 1e-9
METHODS = ("shapley", "leave_one_out")
#: Row label of the leave-one-out remainder.
INTERACTION = "interaction"


def explain(evidence, cause, *, priors=None, method=None):
    """How each piece of evidence moved ``cause`` from its prior to its posterior.

    Each contribution is a natural-log likelihood ratio (``log_lr``) on the
    cause's log-odds, ``v(S) = logit P(cause present | evidence in S)``, and
    the rows add up exactly to ``v(all) - v(none) = logit(posterior) -
    logit(prior)``. Findings, tests, risk factors and soft evidence are items
    alike. The result never depends on the order the evidence is given in.
    The population's observations (``Model.population``) are in every subset,
    so they are never an item: the prior is P(cause | population).

    Two decompositions:

    ``"shapley"`` (default up to ``MAX_SHAPLEY_ITEMS`` items)
        Exact Shapley values of the game ``v``::

            log_lr(i) = sum over S in E without i of
                        |S|! (k - |S| - 1)! / k! * (v(S + i) - v(S))

        i.e. the log likelihood ratio of item ``i`` given the items seen
        before it, averaged over every order in which the ``k`` items could
        have been gathered. They add up to ``v(E) - v({})`` exactly; an item
        that never changes the cause's probability gets 0. All ``2**k``
        subsets are scored in one batch.
    ``"leave_one_out"`` (default above ``MAX_SHAPLEY_ITEMS`` items)
        Each item's log likelihood ratio given all the rest of the evidence,
        ``log_lr(i) = v(E) - v(E without i)``, plus a row ``interaction``
        holding ``v(E) - v({}) - sum_i log_lr(i)``, so the rows still add up
        exactly (the interaction is 0 when the items are conditionally
        independent given the cause). Needs ``k + 2`` subsets.

    Parameters
    ----------
    evidence : dict
        node -> state, or node -> {state: likelihood} (soft evidence), as for
        :func:`model.infer`. May not include ``cause`` itself.
    cause : str
        The cause (or complication) to explain, a name from ``Model.causes``
        or ``Model.complications``.
    priors : str, os.PathLike or Model, optional
        A priors folder or a loaded ``Model``; default: the bundled priors.
    method : {"shapley", "leave_one_out"}, optional
        Force a decomposition; default: Shapley up to ``MAX_SHAPLEY_ITEMS``
        items, leave-one-out above (at most ``SHAPLEY_LIMIT`` for Shapley).

    Returns
    -------
    pandas.DataFrame
        Indexed by evidence node (index name ``evidence``), sorted by
        ``|log_lr|``, largest first (the ``interaction`` row last). Columns:
        ``observed`` (the state, or ``soft: state=likelihood, ...``),
        ``log_lr``, ``direction`` ("raises", "lowers" or "none"), ``role``
        and ``flips_top``: for each other answer to this item (every state
        for soft evidence) that would change the top-ranked cause of the
        whole result (role ``cause`` only), ``"state -> new top cause"``
        (several joined by ``"; "``); empty when none does. Impossible
        answers are skipped. ``.attrs`` holds ``cause``, ``prior``,
        ``posterior``, ``log_odds_change``, ``method``, ``top_cause``,
        ``evidence`` (the items, in node order), ``population`` (as in
        :func:`model.infer`) and ``priors_digest``.

    Raises
    ------
    EvidenceError
        Unknown cause (closest names suggested), evidence on the cause
        itself, invalid or impossible evidence, or a prior or posterior of
        exactly 0 or 1 (infinite log-odds cannot be split).

    Examples
    --------
    Regression snapshot: the numbers below are those of the bundled priors; tests/test_explain.py derives
    them independently (brute-force Shapley values over pgmpy posteriors).

    >>> result = explain({"avid_cyclist": "yes", "pain_burning": "yes", "sitting_effect": "dominant"},
    ...                  "pfcn_neuropathy")
    >>> result.round(2)[["observed", "log_lr", "direction", "role"]]
                    observed  log_lr direction         role
    evidence
    sitting_effect  dominant    1.57    raises      finding
    avid_cyclist         yes    1.16    raises  risk_factor
    pain_burning         yes    0.84    raises      finding
    >>> round(result.attrs["prior"], 3), round(result.attrs["posterior"], 3)
    (0.01, 0.262)
    >>> bool(abs(result["log_lr"].sum() - result.attrs["log_odds_change"]) < 1e-12)
    True
    >>> result.attrs["method"], result.attrs["top_cause"]
    ('shapley', 'lumbar_disc_herniation')
    """
    model = as_model(priors)
    _check_cause(model, cause)
    hard, soft = model.check_evidence(evidence)
    if cause in hard or cause in soft:
        raise EvidenceError(f"the evidence observes {cause!r}, the cause being explained, so its posterior is "
                            f"fixed by that observation. Remove {cause!r} from the evidence.")
    node_order = {node: i for i, node in enumerate(model.nodes.index)}
    items = sorted([n for n in [*hard, *soft] if n not in model._population],  # the population: in every subset
                   key=node_order.get)  # node order: results never depend on the given order
    cells = {node: hard[node] if node in hard else list(soft[node]) for node in items}
    method = _choose_method(method, len(items))
    k = len(items)
    if method == "shapley":
        shown = ((np.arange(2**k)[:, None] >> np.arange(k)) & 1).astype(bool)  # row r = subset with bits of r
    else:
        shown = np.vstack([np.zeros((1, k), bool), ~np.eye(k, dtype=bool), np.ones((1, k), bool)])
    scored = _score(model, cells, shown)
    _check_possible(scored)
    with np.errstate(divide="ignore"):
        p = scored[cause].to_numpy()
        v = np.log(p) - np.log1p(-p)
    _check_finite(cause, p, v, method)
    change = v[-1] - v[0]
    if method == "shapley":
        size = shown.sum(axis=1)
        weight = np.array([1.0 / (k * math.comb(k - 1, s)) for s in range(k)])
        log_lr = np.empty(k)
        for j in range(k):
            without = np.flatnonzero(~shown[:, j])
            log_lr[j] = np.dot(weight[size[without]], v[without + (1 << j)] - v[without])
    else:
        log_lr = v[-1] - v[1:-1]
    top = _top(model, scored.iloc[-1])
    roles = model.nodes["role"]
    frame = pd.DataFrame({
        "observed": [_describe(model, node, value) for node, value in cells.items()],
        "log_lr": log_lr,
        "role": [roles[node] for node in items],
        "flips_top": _flips(model, cells, top),
    }, index=pd.Index(items, name="evidence"))
    frame = frame.iloc[np.argsort(-np.abs(log_lr), kind="stable")]
    if method == "leave_one_out":
        interaction = pd.DataFrame({"observed": [""], "log_lr": [change - log_lr.sum()], "role": [""],
                                    "flips_top": [""]}, index=pd.Index([INTERACTION], name="evidence"))
        frame = pd.concat([frame, interaction])
    frame.insert(2, "direction", np.where(frame["log_lr"] > DIRECTION_TOLERANCE, "raises",
                                          np.where(frame["log_lr"] < -DIRECTION_TOLERANCE, "lowers", "none")))
    frame.attrs = {
        "cause": cause, "prior": float(p[0]), "posterior": float(p[-1]), "log_odds_change": float(change),
        "method": method, "top_cause": top,
        "evidence": {node: hard[node] if node in hard else
                     {s: float(evidence[node][s]) for s in model.states(node)} for node in items},
        "population": model._population_attrs(),
        "priors_digest": model.priors_digest,
        **model._flags(hard, soft),
    }
    return frame


def _check_cause(model, cause):
    reported = list(model.causes) + list(model.complications)
    if not (isinstance(cause, str) and cause in reported):
        close = close_names(cause, reported)
        hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
        raise EvidenceError(f"unknown cause {cause!r}.{hint} The causes and complications are: "
                            f"{', '.join(reported)}.")


def _choose_method(method, k):
    if method is None:
        return "shapley" if k <= MAX_SHAPLEY_ITEMS else "leave_one_out"
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))} or None. Got {method!r}.")
    if method == "shapley" and k > SHAPLEY_LIMIT:
        raise ValueError(f"method='shapley' scores 2**k subsets of the evidence; k = {k} is above the limit of "
                         f"{SHAPLEY_LIMIT}. Use method='leave_one_out' (or None).")
    return method


def _score(model, cells, shown):
    """infer_batch of one case per row of ``shown`` (True = that evidence item is observed)."""
    columns = {}
    for j, (node, value) in enumerate(cells.items()):
        column = np.full(len(shown), None, dtype=object)
        for r in np.flatnonzero(shown[:, j]):
            column[r] = value  # one by one: a soft-evidence list must stay one cell
        columns[node] = column
    return infer_batch(pd.DataFrame(columns, index=range(len(shown))), priors=model, progress=False)


def _check_possible(scored):
    """The full evidence (last row) must be possible; then every subset of it is too."""
    last = scored.index[-1]
    if scored.loc[last].isna().any():
        problems = [p["problem"] for p in scored.attrs["problems"] if p["row"] == last]
        raise EvidenceError(problems[0] if problems else "the evidence has probability zero under the model.")


def _check_finite(cause, p, v, method):
    for name, value, fix in (("prior", p[0], "check the priors that fix it"),
                             ("posterior", p[-1], "remove the observation that settles it")):
        if not 0.0 < value < 1.0:
            raise EvidenceError(f"the {name} of {cause!r} is exactly {value:g}, so its log-odds are infinite and "
                                f"cannot be split into contributions: {fix}, or explain another cause.")
    if not np.all(np.isfinite(v)):
        fix = " Use method='leave_one_out', which scores fewer subsets." if method == "shapley" else ""
        raise EvidenceError(f"part of the evidence makes {cause!r} certain to double precision (probability 0 or "
                            f"1), so its log-odds are infinite and cannot be split into contributions.{fix}")


def _top(model, posteriors):
    """The cause (role ``cause``) with the highest posterior; ties go to the first in node order."""
    causes = list(model.causes)
    if not causes or posteriors[causes].isna().any():
        return None
    return causes[int(np.argmax(posteriors[causes].to_numpy()))]


def _flips(model, cells, top):
    """Per item: each other answer (every hard state for soft evidence) that changes the top cause."""
    alternatives = [(node, state) for node, value in cells.items() for state in model.states(node)
                    if state != value]
    found = {node: [] for node in cells}
    if not alternatives or top is None:
        return [""] * len(cells)
    cases = pd.DataFrame([{**cells, node: state} for node, state in alternatives], columns=list(cells))
    scored = infer_batch(cases, priors=model, progress=False)
    for (node, state), (_, row) in zip(alternatives, scored.iterrows()):
        new_top = _top(model, row)  # None when this answer is impossible
        if new_top is not None and new_top != top:
            found[node].append(f"{state} -> {new_top}")
    return ["; ".join(found[node]) for node in cells]


def _describe(model, node, value):
    if isinstance(value, str):
        return value
    return "soft: " + ", ".join(f"{s}={x:.3g}" for s, x in zip(model.states(node), value))
