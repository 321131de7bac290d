"""Exact posteriors of every cause: :class:`Model`, :func:`load_model`, :func:`infer`.

Inference is the package's compiled exact engine (:mod:`model.engine`: one
row for one case, many rows for :func:`~model.engine.infer_batch`). The pgmpy
network (:attr:`Model.network`) is built only when asked for, so a query does
not import pgmpy; pgmpy's ``VariableElimination`` remains the independent
reference of the tests.
Evidence is checked first, so mistakes come back as
:class:`~model.errors.EvidenceError` in the user's own names.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd

from .analysis.explanations import explanations_for
from .analysis.intervals import evidence_frame, posterior_intervals, with_intervals
from .analysis.predict import predict_for
from .engine.run import CHUNK_SIZE, run_batch
from .engine.single import case_posteriors, log_evidence
from .errors import EvidenceError
from .evidence import as_evidence, check_evidence, check_node, renamed_hint
from .priors.checks import NODE_EXTRA_COLUMNS
from .priors.editing import replace_parameter, replace_tables
from .priors.files import load_priors, priors_fingerprint, priors_folder, read_renamed, save_tables
from .priors.tables import canonical_tables
from .red_flags import case_flags

__all__ = ["Model", "as_model", "infer", "load_model"]

#: Roles whose posterior is reported, in this order before sorting (mechanisms are hidden: never reported).
REPORTED_ROLES = ("cause", "complication")


def _renamed_rows():
    """The rows of the bundled ``priors/renamed.csv`` as ``(old_node, old_state, new_node, new_state, note)``
    records; asked for only when a name in the evidence is unknown."""
    return tuple(read_renamed().itertuples(index=False, name=None))


class Model:
    """A checked network with exact inference. Build it with :func:`load_model`.

    A ``Model`` never changes after it is built: queries have no side effects,
    so notebook cells can be re-run in any order.

    Examples
    --------
    Regression snapshot: the numbers below are those of the bundled priors; tests/test_exactness.py checks
    them against pgmpy, pyAgrum and brute force.

    >>> m = load_model()
    >>> "pfcn_neuropathy" in m.causes
    True
    >>> m.states("sitting_effect")
    ('none', 'aggravates', 'dominant')
    >>> round(float(m.infer({"avid_cyclist": "yes"}).loc["pfcn_neuropathy", "posterior"]), 3)
    0.033
    """

    def __init__(self, priors):
        self._priors = priors
        self._pgmpy = None  # the pgmpy network, built on first use
        nodes = priors.nodes
        self._reported = tuple(n for role in REPORTED_ROLES for n in nodes.index[nodes["role"] == role])
        self._states = {node: tuple(states) for node, states in nodes["states"].items()}
        emergency = nodes["emergency_state"]
        self._emergency = {node: state for node, state in emergency.items() if state}
        self._prior = None
        self._order = {node: i for i, node in enumerate(nodes.index)}
        self._population = priors.population
        self._population_text = priors.population_description
        self._frame_axes = (pd.Index(self._reported, name="cause", dtype=object),  # object: taken in microseconds
                            pd.Index(["posterior", "prior", "lift"]))
        self._action_thresholds = dict(nodes["action_threshold"].dropna()) if "action_threshold" in nodes else {}
        self._roles = {role: tuple(nodes.index[nodes["role"] == role]) for role in nodes["role"].unique()}

    @property
    def _network(self):
        """The pgmpy network of the priors, built on first use (importing pgmpy takes about a second)."""
        if self._pgmpy is None:
            from .network import build_network

            self._pgmpy = build_network(self._priors)
        return self._pgmpy

    def __repr__(self):
        return (f"<Model {len(self._states)} nodes, {len(self.causes)} causes, priors {self.priors_digest} "
                f"from {self._priors.origin}>")

    # --- discovery ---------------------------------------------------------
    def _role(self, role):
        return self._roles.get(role, ())

    @property
    def causes(self):
        """Names of the cause nodes, in ``nodes.csv`` order."""
        return self._role("cause")

    @property
    def mechanisms(self):
        """Names of the mechanism nodes: hidden intermediate nodes between causes and findings.

        Never reported by :meth:`infer`; they may be observed as evidence, like causes.
        """
        return self._role("mechanism")

    @property
    def complications(self):
        """Names of the complication nodes (cauda equina syndrome)."""
        return self._role("complication")

    @property
    def findings(self):
        """Names of the finding nodes: symptoms, signs, tests and the presentation."""
        return self._role("finding")

    @property
    def symptoms(self):
        """Names of the findings whose ``finding_type`` in ``nodes.csv`` is ``symptom``."""
        nodes = self._priors.nodes
        return tuple(nodes.index[(nodes["role"] == "finding") & (nodes["finding_type"] == "symptom")])

    @property
    def risk_factors(self):
        """Names of the risk-factor nodes."""
        return self._role("risk_factor")

    @property
    def nodes(self):
        """A copy of the node definitions (role, states, form, label, question, cost, emergency_state,
        finding_type; text cells are "" when empty)."""
        return self._priors.nodes.copy()

    @property
    def population(self):
        """The observations that define the population these priors describe (``population.csv``).

        A new dict node -> state; empty when there is no population condition.
        Every query is conditioned on it: it is added to the evidence of
        :meth:`infer`, :meth:`prior`, :func:`model.infer_batch` and every
        analysis, and evidence cannot contradict it.
        """
        return dict(self._population)

    def _population_attrs(self):
        """``{"evidence": ..., "description": ...}`` of the population, for the attrs of results."""
        return {"evidence": dict(self._population), "description": self._population_text}

    def states(self, node):
        """The states of ``node``, reference state first."""
        self._check_node(node)
        return self._states[node]

    @property
    def priors_digest(self):
        """A short hash of the priors' content: equal numbers give an equal digest."""
        return self._priors.digest

    @property
    def network(self):
        """A copy of the pgmpy ``DiscreteBayesianNetwork``, for power users."""
        return self._network.copy()

    # --- tweak, save -------------------------------------------------------
    @property
    def tables(self):
        """The priors as DataFrames shaped like the CSV files (fresh copies each time).

        Keys ``nodes``, ``base_rates``, ``risk_factors``, ``links``, ``leaks``,
        ``population`` (those present) and ``cpts/<node>``; edit a copy and
        pass it to :meth:`with_tables`.
        """
        tables = canonical_tables(self._priors)
        for column in NODE_EXTRA_COLUMNS:  # optional nodes.csv columns the canonical tables leave out
            if column in self._priors.nodes:
                tables["nodes"][column] = self._priors.nodes[column].to_numpy()
        return tables

    def with_tables(self, changes):
        """A new, validated Model with whole tables replaced; this one is unchanged.

        Parameters
        ----------
        changes : dict of str to DataFrame
            Table name (as in :attr:`tables`) to its new content; ``None``
            removes a table.

        Raises
        ------
        PriorsError
            Every problem, naming the table and row label, as when loading.

        Examples
        --------
        >>> m = load_model()
        >>> links = m.tables["links"]
        >>> row = (links["parent"] == "pfcn_neuropathy") & (links["child"] == "pain_burning")
        >>> links.loc[row, ["probability", "high"]] = 0.9
        >>> m.with_tables({"links": links}).priors_digest != m.priors_digest
        True
        """
        kept = any(c in self._priors.nodes for c in NODE_EXTRA_COLUMNS)
        if kept and not any(str(k).removesuffix(".csv") == "nodes" for k in changes):
            changes = {"nodes": self.tables["nodes"], **changes}  # keep the must-not-miss and screen thresholds
        return Model(replace_tables(self._priors, changes))

    def with_parameter(self, table, replacement=None, **columns):
        """A new, validated Model with one parameter (or one whole CPT) changed.

        Key columns choose the row, value columns (``probability``,
        ``relative_risk``, ``low``, ``high``, ``source``, ``grade``) set it. A
        ``cpts/<node>`` table is replaced whole by ``replacement``.

        Examples
        --------
        >>> m = load_model()
        >>> m2 = m.with_parameter("base_rates", node="avid_cyclist", probability=0.1)
        >>> float(m2.tables["base_rates"].set_index("node").loc["avid_cyclist", "probability"])
        0.1
        >>> float(m.tables["base_rates"].set_index("node").loc["avid_cyclist", "probability"])
        0.05
        """
        priors = replace_parameter(self._priors, table, replacement, **columns)
        extra = [c for c in NODE_EXTRA_COLUMNS if c in self._priors.nodes]
        if extra:  # the canonical tables leave these nodes.csv columns out
            nodes = priors.nodes.assign(**{c: self._priors.nodes[c] for c in extra})
            priors = dataclasses.replace(priors, nodes=nodes)  # the same nodes, checked already
        return Model(priors)

    def save(self, folder, *, overwrite=False):
        """Write the priors as CSV files into ``folder`` (atomic, stable, diff-friendly).

        Rows come in a fixed order and numbers in their shortest exact form, so
        load -> save -> load -> save is byte-identical and changing one number
        changes one line. Every file of the format is written (a table
        without rows as its header line) and flushed to the disk; a save
        killed midway is finished or undone by the next save or load. Refuses
        a non-empty existing folder unless ``overwrite=True`` (other files
        there, such as a README, are kept).

        Raises
        ------
        FileExistsError
            When ``folder`` is not empty and ``overwrite`` is false.
        """
        return save_tables(self.tables, folder, overwrite=overwrite)

    # --- evidence ----------------------------------------------------------
    def _renamed_hint(self, node, state=None):
        """What replaced an old node (or an old state of ``node``), from ``priors/renamed.csv``; "" if nothing."""
        return renamed_hint(self._states, _renamed_rows(), node, state)

    def _check_node(self, node):
        if not isinstance(node, str) or node not in self._states:
            check_node(self._states, node, _renamed_rows())  # raises, saying what replaced an old name

    def check_evidence(self, evidence, *, population=True):
        """Validate evidence; return ``(hard, soft)`` dicts in the model's names.

        ``hard`` maps node -> state; ``soft`` maps node -> likelihoods aligned to
        the node's states, scaled so the largest is 1. Every problem is listed;
        an old name (``priors/renamed.csv``) is answered with what replaced it.
        With ``population`` (the default) the population's observations are
        added, first (see :attr:`population`); evidence that contradicts them
        is an :class:`~model.errors.EvidenceError`.
        """
        population = self._population if population else None
        try:
            return check_evidence(self._states, evidence, population=population)
        except EvidenceError:
            pass  # the renames are read only when something is wrong: again, naming what replaced old names
        return check_evidence(self._states, evidence, _renamed_rows(), population)

    def _flags(self, hard, soft):
        """The red flags of one checked case (``hard``, ``soft`` from :meth:`check_evidence`):
        ``{"red_flags": [...], "possible_red_flags": [...]}``; see :mod:`model.red_flags`."""
        return case_flags(self._emergency, self._states, hard, soft)

    # --- inference ---------------------------------------------------------
    def _first_impossible(self, hard, soft, given_order):
        """The first observation, in the order given, that has probability zero given the earlier ones.

        Chain rule: P(e) = prod_i P(e_i | e_1..e_{i-1}); returns None when every factor is positive. Each
        P(e_1..e_i) comes from one calibration of the junction tree.
        """
        seen_hard, seen_soft = {}, {}
        for node in given_order:
            (seen_hard if node in hard else seen_soft)[node] = hard[node] if node in hard else soft[node]
            if log_evidence(self, seen_hard, seen_soft) == -math.inf:
                earlier = {k: v for k, v in {**seen_hard, **seen_soft}.items() if k != node}
                given = ", ".join(f"{k}={v}" for k, v in earlier.items()) or "nothing else"
                shown = hard[node] if node in hard else f"soft evidence {soft[node]}"
                return (f"the evidence has probability zero under the model: {node}={shown} is impossible "
                        f"given {given}. Check these observations or the priors that forbid them.")
        return None

    def infer_batch(self, cases, *, chunk_size=CHUNK_SIZE, progress=None, interval=None, draws=1000, seed=None):
        """Exact posteriors of many cases at once: see :func:`model.infer_batch`.

        Examples
        --------
        >>> import pandas as pd
        >>> m = load_model()
        >>> batch = m.infer_batch(pd.DataFrame({"crossed_slr_positive": ["yes", None]}))
        >>> one = m.infer({"crossed_slr_positive": "yes"}).loc["lumbar_disc_herniation", "posterior"]
        >>> bool(abs(batch.loc[0, "lumbar_disc_herniation"] - one) < 1e-9)
        True
        """
        result = run_batch(self, cases, chunk_size=chunk_size, progress=progress)
        if interval is not None:
            result = with_intervals(self, cases, result, interval=interval, draws=draws, seed=seed, progress=progress)
        return result

    def prior(self):
        """P(present) of every cause and complication with no evidence (but the population), as a Series.

        A new Series each time: writing to it does not change the model.
        """
        if self._prior is None:  # the same computation as infer({}), so its posterior equals this exactly
            self._prior = case_posteriors(self, *self.check_evidence({}))[0]
        return pd.Series(self._prior.copy(), index=pd.Index(self._reported, name="cause"), name="prior")

    def infer(self, evidence, *, interval=None, draws=1000, seed=None):
        """Exact posterior probability of every cause given the evidence.

        Parameters
        ----------
        evidence : dict or pandas.Series
            node -> state (hard evidence), or node -> {state: likelihood} (soft,
            virtual evidence). Any node may be observed: findings, risk
            factors, even causes. A Series (one row of a table of cases) is
            read as a dict of its observed cells (missing ones are skipped).
        interval : float, optional
            Also report a credible interval of this central probability (0.9:
            5th to 95th percentile) from ``draws`` joint draws of the
            parameters within the experts' ranges; see
            :mod:`model.analysis.intervals` for the distributions.
        draws : int
            Parameter draws for the interval.
        seed : int, optional
            Seed of the draws (same seed, same interval).

        Returns
        -------
        pandas.DataFrame
            Indexed by cause (causes, then complications), columns
            ``posterior`` = P(present | evidence), ``prior`` = P(present) and
            ``lift`` = posterior / prior (how many times the evidence
            multiplied the probability: an explanation, never the rank),
            sorted by posterior, highest first; with ``interval``, also
            ``median``, ``low`` and ``high`` of the posterior over the draws.
            ``.attrs`` holds ``evidence`` (a deep copy of what was given, a
            Series as a dict), ``population``
            (``{"evidence": node -> state, "description": text}`` of the
            population every query is conditioned on; empty when none),
            ``priors_digest``, ``red_flags`` (emergency findings present
            in the evidence; empty when none), ``possible_red_flags``
            (emergency findings whose soft evidence favours the emergency
            state: ask directly; see :mod:`model.red_flags`),
            ``p_no_modelled_cause`` (P(every cause absent | evidence), exact:
            the evidence may be explained by none of the modelled causes),
            ``must_not_miss`` (the serious causes and complications whose
            posterior is at or above their ``action_threshold`` in
            ``nodes.csv``, in ranking order, whatever their rank; empty when
            none or when the priors set no threshold), and
            ``interval`` (level, draws, seed) when one was asked for.

        Raises
        ------
        EvidenceError
            Unknown node or state (closest names suggested, or what replaced
            an old name), malformed likelihoods, evidence that contradicts
            the population, or evidence that has probability zero.

        Examples
        --------
        Regression snapshot: the numbers below are those of the bundled priors; tests/test_exactness.py
        checks them against pgmpy, pyAgrum and brute force.

        >>> m = load_model()
        >>> result = m.infer({"saddle_anaesthesia": "yes", "pain_below_knee": "yes"})
        >>> result.attrs["red_flags"]
        ['saddle_anaesthesia']
        >>> result.index[0]
        'lumbar_disc_herniation'
        >>> ranged = m.infer({"avid_cyclist": "yes"}, interval=0.9, draws=200, seed=1)
        >>> list(ranged.columns)
        ['posterior', 'prior', 'lift', 'median', 'low', 'high']
        >>> fall = m.infer({"trauma_or_fall": "high_energy"})
        >>> fall.attrs["must_not_miss"], round(fall.attrs["p_no_modelled_cause"], 3)
        (['bone_injury'], 0.102)
        """
        evidence = as_evidence(evidence)
        hard, soft = self.check_evidence(evidence)
        with np.errstate(invalid="ignore", divide="ignore"):
            posterior, none = case_posteriors(self, hard, soft)
            if not np.all(np.isfinite(posterior)):  # P(evidence) = 0, exactly: name the first impossible answer
                given = [*self._population, *(n for n in evidence if n not in self._population)]
                problem = self._first_impossible(hard, soft, [n for n in given if n in hard or n in soft])
                if problem:
                    raise EvidenceError(problem)
        if self._prior is None:
            self.prior()
        prior = self._prior
        with np.errstate(invalid="ignore", divide="ignore"):
            lift = posterior / prior
        rank = np.argsort(-posterior, kind="stable")  # highest posterior first; ties in the priors' order
        index, columns = self._frame_axes
        frame = pd.DataFrame(np.column_stack([posterior, prior, lift])[rank], index=index.take(rank), columns=columns,
                             copy=False)
        attrs = {
            "evidence": copy.deepcopy(dict(evidence)),
            "population": self._population_attrs(),
            "priors_digest": self.priors_digest,
            **self._flags(hard, soft),
            "p_no_modelled_cause": none,
        }
        if interval is not None:
            ranges = posterior_intervals(self, evidence_frame(evidence), interval=interval, draws=draws, seed=seed)
            for name in ("median", "low", "high"):
                frame[name] = ranges[name][0][rank]
            attrs["interval"] = {"level": float(interval), "draws": int(draws), "seed": seed}
        attrs["must_not_miss"] = self._must_not_miss(zip(frame.index, posterior[rank]))
        frame.attrs = attrs
        return frame

    def _must_not_miss(self, posteriors):
        """The nodes of ``posteriors`` ((node, posterior) pairs) at or above their ``action_threshold``, in order."""
        threshold = self._action_thresholds
        return [n for n, p in posteriors if threshold.get(n, np.nan) <= p]

    def _must_not_miss_rows(self, posteriors):
        """``{row label: [nodes at or above their action_threshold]}`` of an :func:`model.infer_batch` result
        (rows without one are absent; each list in decreasing posterior), the batch form of ``must_not_miss``.

        Examples
        --------
        >>> import pandas as pd
        >>> m = load_model()
        >>> m._must_not_miss_rows(m.infer_batch(pd.DataFrame({"trauma_or_fall": ["no", "high_energy"]})))
        {1: ['bone_injury']}
        """
        if isinstance(posteriors.columns, pd.MultiIndex):  # with an interval: the exact posterior columns
            posteriors = posteriors.xs("posterior", axis=1, level="statistic")
        rows = {}
        for label, row in posteriors.iterrows():
            listed = self._must_not_miss(row.dropna().sort_values(ascending=False, kind="mergesort").items())
            if listed:
                rows[label] = listed
        return rows

    def explanations(self, evidence, k=5):
        """The ``k`` most probable combinations of causes: see :func:`model.explanations`.

        Examples
        --------
        >>> load_model().explanations({"crossed_slr_positive": "yes"}, k=2)["present"].tolist()
        [('lumbar_disc_herniation',), ()]
        """
        return explanations_for(self, evidence, k)

    def fit(self, cases, labels=None, *, max_iterations=100, tolerance=1e-6, report=False, progress=False):
        """A new Model with this one's parameters refined by ``cases``: see :func:`model.fit`.

        Examples
        --------
        >>> import pandas as pd
        >>> m = load_model()
        >>> new = m.fit(pd.DataFrame({"sex": ["female"] * 90 + ["male"] * 10}))
        >>> new.priors_digest != m.priors_digest
        True
        """
        from .learning.estimate import refit

        return refit(self, cases, labels, max_iterations=max_iterations, tolerance=tolerance, report=report,
                     progress=progress)

    def predict(self, evidence, nodes=None):
        """P(state | evidence) of unobserved findings, tests and risk factors: see :func:`model.predict`.

        Examples
        --------
        Regression snapshot: the numbers below are those of the bundled priors; tests/test_exactness.py
        checks them against pgmpy, pyAgrum and brute force.

        >>> chance = load_model().predict({"crossed_slr_positive": "yes"}, "mri_lumbar_root_compression")
        >>> round(float(chance.loc[("mri_lumbar_root_compression", "yes"), "probability"]), 3)
        0.762
        """
        return predict_for(self, evidence, nodes)


def load_model(priors=None):
    """Load and check a priors folder and build its :class:`Model`.

    Parameters
    ----------
    priors : str or os.PathLike, optional
        The priors folder, or the name of a bundled population
        (:func:`model.bundled_populations`: ``"primary_care"``, the default,
        or ``"specialist"``).

    Raises
    ------
    PriorsError
        Listing every problem in the folder, with file, line and column.

    Examples
    --------
    >>> load_model()
    <Model ... nodes, ... causes, priors ... from ...primary_care>
    >>> load_model("specialist")
    <Model ... nodes, ... causes, priors ... from ...specialist>
    """
    return Model(load_priors(priors))


#: Models loaded by :func:`infer` from a folder, keyed on (folder, content hash); the newest last.
_LOADED = {}
#: How many such models are kept.
LOADED_MAX = 8


def _cached_model(priors):
    """The Model of a priors folder, loaded again only when the content of its files changes.

    Keyed on a hash of the bytes (:func:`model.priors.priors_fingerprint`),
    not on file sizes and times: an edit that keeps both is still seen. A
    folder edited while it is being loaded is not cached.
    """
    folder = Path(priors_folder(priors)).resolve()
    key = (str(folder), priors_fingerprint(folder))
    model = _LOADED.pop(key, None)
    if model is None:
        model = load_model(folder)
        if priors_fingerprint(folder) != key[1]:
            return model  # changed while loading: use it once, keep nothing
    _LOADED[key] = model
    while len(_LOADED) > LOADED_MAX:
        del _LOADED[next(iter(_LOADED))]
    return model


def as_model(priors=None):
    """The :class:`Model` that a ``priors`` argument names: a ``Model`` itself; a priors folder or the name
    of a bundled population, loaded once and cached on the content of its files (:func:`_cached_model`);
    None, the bundled primary-care priors. What every function with a ``priors`` argument reads it with.

    Examples
    --------
    >>> m = load_model()
    >>> as_model(m) is m, as_model("specialist") is as_model("specialist")
    (True, True)
    """
    if isinstance(priors, Model):
        return priors
    if priors is None or isinstance(priors, (str, os.PathLike)):
        return _cached_model(priors_folder(priors))
    raise TypeError(f"priors must be None, a priors folder, a bundled population name or a Model. Got "
                    f"{type(priors).__name__}.")

def infer(evidence, *, priors=None, interval=None, draws=1000, seed=None):
    """Posterior probability of every cause: the one-call doorway.

    Parameters
    ----------
    evidence : dict
        node -> state, or node -> {state: likelihood}; see :meth:`Model.infer`.
    priors : str, os.PathLike or Model, optional
        A priors folder (re-read only when its files change), the name of a
        bundled population (``"specialist"``) or a loaded ``Model``; default:
        the bundled primary-care priors.
    interval, draws, seed
        A credible interval from the experts' ranges; see :meth:`Model.infer`.

    Returns
    -------
    pandas.DataFrame
        As :meth:`Model.infer`.

    Examples
    --------
    >>> result = infer({"pain_burning": "yes", "avid_cyclist": "yes", "sitting_effect": "dominant",
    ...                 "groin_perineal_radiation": "yes", "low_back_pain": "no"})
    >>> result.index[0]
    'pfcn_neuropathy'
    """
    model = priors if isinstance(priors, Model) else _cached_model(priors)
    return model.infer(evidence, interval=interval, draws=draws, seed=seed)
