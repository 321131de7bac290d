"""Learning from the researcher's own cases: :func:`fit` refines the experts' parameters with data.

In plain terms: every parameter row of the priors keeps its meaning and its
form (a link total, a leak, a relative risk, a base rate, a CPT cell); the
expert's range ``low..high`` becomes the prior distribution of that parameter
(the same Beta or log-normal as for credible intervals), so a narrow range
moves little and a wide one follows the data. The cases are as for
:func:`model.infer_batch` (missing cells are simply not observed, soft evidence
allowed); optional labels say, per cause, whether it was present (1), absent
(0) or unknown (missing).

**Method.** The maximum a posteriori estimate, by a quasi-Newton method
(L-BFGS-B) on the exact log posterior of the free parameters: the log
probability of the cases *given the population's definition* (the cases were
selected by it, so the data cannot inform P(presenting complaint); fitting
the joint instead would inflate it), plus each parameter's log prior. Its
value and gradient come from the exact junction tree, calibrated on all the
cases together, and the expected counts of every family each case informs
(:mod:`model.learning.counts`); the gradient is Fisher's identity, the counts
times the derivative of each cell's log probability with respect to the
parameters in the canonical forms (:mod:`model.learning.maximise`). Identical
cases are computed once, with their number as weight. The search runs in units of
each prior's standard deviation from the expert's value (well conditioned). It stops when
one step changes the log posterior by less than ``tolerance`` times its size
(at least 1): converged; or after ``max_iterations`` steps: not converged,
with a :class:`FitWarning`. Each parameter's prior is normal on its logit
(log for a relative risk), centred on the expert's value, with its row's
range as the 5th-95th percentiles (see :mod:`model.learning.maximise` for why
not the credible intervals' Beta).

**What the refitted rows say.** Each fitted row gets its new value, a new
``low..high`` (its 90% Laplace interval; see :mod:`model.learning.maximise`
for why it is optimistic when many cells are hidden) and its source extended
by the data that refitted it (number of cases, a digest of them, the date).
A parameter with ``low == high`` never moves; nor does any parameter of a node
that no case says anything about (neither it nor a descendant observed).
"""

from __future__ import annotations

import datetime
import hashlib
import math
import sys
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..analysis.parameters import model_parameters, node_values
from ..engine.cases import check_columns, parse_cases
from ..engine.run import run_batch
from ..engine.reduced import ancestor_sets
from ..engine.single import TreeRows, family_tables
from ..errors import EvidenceError
from .counts import expected_counts
from .maximise import LIMIT, from_unbounded, log_prior, node_interval, normal_prior, slopes, to_unbounded
from .rows import fitted_tables, uncrossed

__all__ = ["FitReport", "FitWarning", "refit"]


class FitWarning(UserWarning):
    """A fit that did not converge, or cases that were left out (their problems listed)."""


@dataclass(frozen=True)
class FitReport:
    """How a fit went: ``converged``, ``iterations`` (evaluations of the log posterior), ``log_posterior``
    (its value at each, up to a constant; the first at the experts' values), ``cases_used``, ``problems``
    (records as ``infer_batch``'s ``attrs["problems"]``)."""

    converged: bool
    iterations: int
    log_posterior: tuple
    cases_used: int
    problems: tuple


def refit(model, cases, labels=None, *, max_iterations=100, tolerance=1e-6, report=False, progress=False):
    """A new :class:`~model.Model` whose parameters are ``model``'s refined by ``cases``: the MAP, each
    parameter's prior centred on its value with its row's ``low..high`` as spread. :func:`model.fit` and
    :meth:`model.Model.fit` call it.

    Parameters
    ----------
    model : Model
        The model to refine. It is not changed.
    cases : pandas.DataFrame
        One row per case, one column per observed node, as for :func:`model.infer_batch`; missing cells
        are not observed.
    labels : pandas.DataFrame, optional
        Columns named after causes, values 1 (present), 0 (absent) or missing (unknown), on the same row
        labels as ``cases``.
    max_iterations : int
        Steps of the search at most; a fit stopped by this limit warns (:class:`FitWarning`).
    tolerance : float
        Converged when a step changes the log posterior by less than ``tolerance * max(1, |log
        posterior|)``.
    report : bool
        Also return a :class:`FitReport`.
    progress : bool
        Print one line per evaluation of the log posterior on stderr.

    Returns
    -------
    Model, or (Model, FitReport)
        Zero usable cases return the model itself, unchanged.

    Raises
    ------
    EvidenceError
        Unknown columns, labels that are not 0/1/missing or name no cause, or labels on rows that are
        not in ``cases``. Bad or impossible rows are left out with a :class:`FitWarning` listing them.

    Examples
    --------
    >>> import pandas as pd
    >>> from model import load_model
    >>> m = load_model()
    >>> cases = pd.DataFrame({"avid_cyclist": ["yes"] * 30 + ["no"] * 70})
    >>> new = refit(m, cases)
    >>> old = m.tables["base_rates"].set_index(["node", "state"]).loc[("avid_cyclist", "yes"), "probability"]
    >>> new = new.tables["base_rates"].set_index(["node", "state"]).loc[("avid_cyclist", "yes"), "probability"]
    >>> bool(old < new < 0.3)
    True
    """
    cases = _with_labels(model, cases, labels)
    if len(cases) == 0:
        empty = FitReport(True, 0, (), 0, ())
        return (model, empty) if report else model
    checked = run_batch(model, cases, progress=False)  # the same problems as infer_batch, bad rows left out
    problems = tuple(checked.attrs["problems"])
    good = ~checked.isna().any(axis=1).to_numpy()
    if problems:
        warnings.warn(f"{len(problems)} problems; {int((~good).sum())} rows left out of the fit:\n" +
                      "\n".join(f"  - row {p['row']!r}, {p['node']}: {p['problem']}" for p in problems[:20]),
                      FitWarning, stacklevel=2)
    evidence = _evidence(model, cases.iloc[np.flatnonzero(good)])
    if not len(evidence[0]):
        empty = FitReport(True, 0, (), 0, problems)
        return (model, empty) if report else model
    used = int(evidence[1].sum())
    theta, trace, converged, posterior = _ascend(model, evidence, max_iterations, tolerance, progress)
    if not len(posterior.free):  # no case informs a parameter that may move
        return (model, FitReport(True, 0, (), used, problems)) if report else model
    if not converged:
        warnings.warn(f"the fit did not converge in {max_iterations} iterations (log posterior "
                      f"{trace[0]:.6g} at the experts' values, {trace[-1]:.6g} at the last step); raise "
                      f"max_iterations or tolerance.", FitWarning, stacklevel=2)
    theta = uncrossed(model, theta)
    changes = fitted_tables(model, theta, _intervals(posterior, theta), _stamp(cases, used))
    result = model.with_tables(changes)
    return (result, FitReport(converged, len(trace), tuple(trace), used, problems)) if report else result


def _with_labels(model, cases, labels):
    """``cases`` with the labels as cause columns ('present' / the reference state), checked."""
    check_columns(model, cases)
    if labels is None:
        return cases
    if not isinstance(labels, pd.DataFrame):
        raise EvidenceError(f"labels must be a pandas DataFrame (columns named after causes, values 0, 1 or "
                            f"missing). Got {type(labels).__name__}.")
    problems = [f"labels column {c!r} is not a cause; labels name causes: {', '.join(model.causes)}."
                for c in labels.columns if c not in model.causes]
    problems += [f"labels column {c!r} is also a column of cases; give it once." for c in labels.columns
                 if c in cases.columns]
    extra = labels.index.difference(cases.index)
    if len(extra):
        problems.append(f"labels has rows that cases has not: {', '.join(map(repr, extra[:5]))}.")
    for c in labels.columns:
        values = pd.to_numeric(labels[c], errors="coerce")
        bad = labels.index[(values.isna() & labels[c].notna()) | ~values.isin([0, 1]) & values.notna()]
        if len(bad):
            held = ", ".join(repr(labels.at[r, c]) for r in bad[:5])
            problems.append(f"labels column {c!r}: values must be 0, 1 or missing; rows "
                            f"{', '.join(map(repr, bad[:5]))} hold {held}.")
    if problems:
        raise EvidenceError(f"{len(problems)} problems with the labels:\n" + "\n".join(f"  - {p}" for p in problems))
    out = cases.copy()
    for c in labels.columns:
        states = model.states(c)
        values = pd.to_numeric(labels[c]).reindex(cases.index)
        out[c] = pd.Series(np.where(values.isna(), None, np.where(values == 1, states[1], states[0])),
                           index=cases.index, dtype=object)
    return out


def _evidence(model, cases):
    """The distinct rows as :func:`model.learning.counts.expected_counts` takes them, ``(hard, soft)`` each (the
    index of each hard state, the likelihoods of soft evidence; the population's observations included),
    and how many times each occurs."""
    n = len(cases)
    if n == 0:
        return [], np.zeros(0)
    hard, soft, _, _ = parse_cases(model, TreeRows(model), {c: cases[c] for c in cases.columns}, 0, n)
    rows = [({}, {}) for _ in range(n)]
    for node, (at, lam) in soft.items():  # a cell is hard or soft evidence, never both
        for i, vector in zip(at, lam):
            rows[i][1][node] = np.asarray(vector, dtype=float)
    for node, codes in hard.items():
        for i in np.flatnonzero(codes >= 0):
            rows[i][0][node] = int(codes[i])
    return _grouped(rows)


def _grouped(rows):
    """Identical cases once each: ``(cases, how many times each)``."""
    found = {}
    for hard, soft in rows:
        key = (tuple(sorted(hard.items())), tuple(sorted((node, v.tobytes()) for node, v in soft.items())))
        if key in found:
            found[key][1] += 1
        else:
            found[key] = [(hard, soft), 1]
    return [case for case, _ in found.values()], np.array([n for _, n in found.values()], dtype=float)


class _Posterior:
    """The log posterior of the free parameters given the cases, and its gradient, on the unbounded
    coordinates ``z`` (:mod:`model.learning.maximise`).

    log P(cases | population) + log prior = sum over the cases of log P(case and the population's
    observations) - n log P(the population's observations) + log prior: the cases were selected by the
    population's definition, which the data cannot inform. Its gradient, by Fisher's identity, is the sum
    over the cells of every free node's table of (expected counts of the cases - n times those of the
    population alone) times d log P(cell) / dz.
    """

    def __init__(self, model, evidence, progress=False):
        (self.evidence, self.weights), self.model, self.progress = evidence, model, progress
        self.parameters = parameters = model_parameters(model)
        listing = parameters.table
        self.start = listing["value"].to_numpy(dtype=float)
        self.kind = listing["kind"].to_numpy()
        ancestors = ancestor_sets(family_tables(model))
        informed = frozenset().union(*(ancestors[v] for hard, soft in self.evidence for v in (*hard, *soft)))
        moving = (listing["low"] < listing["high"]).to_numpy() & listing["node"].isin(list(informed)).to_numpy()
        self.free = np.flatnonzero(moving)  # a fixed row, or a node no case informs, never moves
        owners = listing["node"].to_numpy()[self.free]  # node -> (its free parameters, their positions in z)
        self.nodes = {node: (self.free[owners == node], np.flatnonzero(owners == node))
                      for node in dict.fromkeys(owners)}
        self.centre, self.spread = normal_prior(self.start[self.free], listing["low"].to_numpy(dtype=float)[self.free],
                                                listing["high"].to_numpy(dtype=float)[self.free], self.kind[self.free])
        self.card = {node: len(s) for node, s in model._states.items()}
        states = model._states
        population = {node: states[node].index(state) for node, state in model._population.items()}
        n = float(self.weights.sum())  # the population's observations alone count -n times (see above)
        self.signed = (self.evidence + [(population, {})], np.append(self.weights, -n)) if population else \
            (self.evidence, self.weights)
        self.trace, self.elimination, self.last_gradient = [], None, None

    def values(self, z):
        theta = self.start.copy()
        theta[self.free] = from_unbounded(z, self.kind[self.free])
        return theta

    def tables(self, z):
        """Every node's table at ``z``, as the junction tree takes them."""
        return family_tables(self.model, node_values(self.parameters, self.model, self.values(z)[None, :]))

    def __call__(self, z):
        """Minus the log posterior at ``z``, and minus its gradient."""
        theta = self.values(z)
        cases, weights = self.signed
        counts = expected_counts(self.tables(z), self.card, cases, self.model.causes, weights, self.elimination)
        self.elimination = counts.elimination
        if math.isinf(counts.log_likelihood):  # a step too far: a case became impossible (a table cell at 0)
            worst = -min(self.trace) if self.trace else 0.0  # much worse than any point seen, finite: a step back
            return 10.0 * abs(worst) + 1e6, np.zeros(len(z)) if self.last_gradient is None else self.last_gradient
        value, gradient, _ = log_prior(z, self.centre, self.spread)
        value += counts.log_likelihood
        for node, (indexes, at) in self.nodes.items():
            if counts.tables[node] is not None:
                gradient[at] += slopes(self.parameters, self.model, node, theta, indexes,
                                       self.kind[indexes]) @ np.ravel(counts.tables[node])
        self.trace.append(value)
        self.last_gradient = -gradient
        if self.progress:
            print(f"fit: evaluation {len(self.trace)}, log posterior {value:.6f} ({len(self.free)} parameters, "
                  f"{self.weights.sum():g} cases)", file=sys.stderr, flush=True)
        return -value, -gradient


def _ascend(model, evidence, max_iterations, tolerance, progress=False):
    """The MAP by L-BFGS-B on the exact log posterior: (values, log posterior per evaluation, converged,
    the search's own object)."""
    from scipy import optimize

    posterior = _Posterior(model, evidence, progress)
    if not len(posterior.free):
        return posterior.start, [], True, posterior
    centre, spread = posterior.centre, posterior.spread  # searched in prior standard deviations from the
    start = (to_unbounded(posterior.start[posterior.free], posterior.kind[posterior.free]) - centre) / spread

    def scaled(u):  # expert's value: the prior's curvature is then 1 on every axis (better conditioned)
        value, gradient = posterior(centre + spread * u)
        return value, gradient * spread

    bounds = list(zip((-LIMIT - centre) / spread, (LIMIT - centre) / spread))
    found = optimize.minimize(scaled, start, jac=True, method="L-BFGS-B", bounds=bounds,
                              options={"maxiter": max_iterations, "ftol": tolerance, "gtol": 1e-8})
    return posterior.values(centre + spread * found.x), posterior.trace, bool(found.success), posterior


def _intervals(posterior, theta):
    """index -> (low, high) of every fitted parameter, at the fitted values (from the cases' counts)."""
    z = to_unbounded(theta[posterior.free], posterior.kind[posterior.free])
    counts = expected_counts(posterior.tables(z), posterior.card, posterior.evidence, posterior.model.causes,
                             posterior.weights, posterior.elimination)
    out = {}
    for node, (indexes, at) in posterior.nodes.items():
        table = counts.tables[node]
        low, high = node_interval(posterior.parameters, posterior.model, node, theta, indexes,
                                  posterior.kind[indexes], posterior.spread[at],
                                  np.zeros((posterior.card[node], 1)) if table is None else table)
        out.update({int(i): (float(lo), float(hi)) for i, lo, hi in zip(indexes, low, high)})
    return out


def _stamp(cases, used):
    """What refitted the rows: the number of cases, a digest of them and the date."""
    digest = hashlib.sha256(pd.util.hash_pandas_object(cases.astype(str), index=True).to_numpy().tobytes())
    return f"refitted on {used} cases (sha256 {digest.hexdigest()[:12]}, {datetime.date.today().isoformat()})"

