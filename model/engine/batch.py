"""Exact posteriors for many cases at once: :func:`infer_batch`.

In plain terms: give a table with one row per patient and one column per
observation, get back a table with the probability of every cause and
complication for each patient, the same numbers as :meth:`Model.infer` row by
row, many times faster. Rows that cannot be read, or whose observations
are impossible under the model, come back empty (NaN) with a plain message in
``.attrs["problems"]``; emergency findings are listed in ``.attrs["red_flags"]``.

This module runs the cases chunk by chunk (each chunk's evidence read by
:mod:`model.engine.cases`; bad cells, impossible rows, red flags) and caches
one compiled plan per :class:`~model.inference.Model`. In which order a
network's tables are multiplied and summed is decided in
:mod:`model.engine.plan`, the numbers of that recipe are filled in by
:mod:`model.engine.numbers`; how a chunk of cases is scored with a plan is in
:mod:`model.engine.chunk` (its array operations in :mod:`model.engine.ops`);
many parameter draws at once (for credible intervals and sensitivity) in
:mod:`model.engine.draws`. Chunks bound the memory whatever the number of rows.
"""

from __future__ import annotations

import sys
import weakref

import numpy as np
import pandas as pd

from .cases import _check_columns, _explain, _model, _parse
from .chunk import _evaluate, _rows
from .numbers import _compile
from .ops import _Pool
from .plan import _Limits, _structure
from ..red_flags import batch_flags

__all__ = ["infer_batch"]

#: Rows evaluated together (fewer when the network's tables are large).
CHUNK_SIZE = 4096
#: Rows whose cells are read together (pandas lookups per column are slow on small slices).
PARSE_ROWS = 65536
#: Largest number of floats in one per-chunk table; sets the rows per chunk.
MAX_TABLE = 2**23
#: Largest joint table of the reported nodes; above it, one table per reported node.
MAX_FINAL = 2**16
#: Largest log group of leaves (configurations x rows); above it, its leaves stay linear.
MAX_GROUP = 2**23
#: Impossible rows whose first impossible observation is looked for.
MAX_EXPLAINED = 10_000
_SAFE = -300.0  # a group whose least likely evidence is above e^-300 is exponentiated without a shift
_PLANS = weakref.WeakKeyDictionary()


def _limits(groups=True):
    """This module's limits; ``groups=False``: no log groups (for many draws, see :mod:`model.engine.draws`)."""
    return _Limits(MAX_TABLE, MAX_FINAL, MAX_GROUP if groups else 0, _SAFE)


def _plan(model):
    """The compiled plan of ``model``: compiled once under this module's limits, then cached."""
    plans = _PLANS.setdefault(model, {})
    if "plan" not in plans:
        limits = _limits()
        plans["plan"] = _compile(model, limits, structure=_structure(model, limits))
    return plans["plan"]


def _draw_structure(model):
    """The structure of ``model``'s plans for many draws (no log groups: few numbers per draw), cached."""
    plans = _PLANS.setdefault(model, {})
    if "draws" not in plans:
        plans["draws"] = _structure(model, _limits(groups=False))
    return plans["draws"]


def infer_batch(cases, *, priors=None, chunk_size=CHUNK_SIZE, progress=None, interval=None, draws=1000, seed=None):
    """Exact posteriors of every cause and complication for many cases at once.

    Gives the numbers of :meth:`Model.infer` row by row (to rounding, far below
    1e-9), on the bundled network (15 causes, 11 risk factors) about 2-3 ms a
    case, some 15 times less than one :meth:`Model.infer` or one bare pgmpy
    ``VariableElimination`` query per case (``benchmarks/bench_batch.py``);
    on small networks such as bnlearn's asia, child or alarm, over a hundred
    times less. The network is compiled once per model; rows are evaluated in
    chunks, so a million rows run in bounded memory.

    Parameters
    ----------
    cases : pandas.DataFrame
        One row per case, one column per observed node (names as in
        ``nodes.csv``). A cell holds a state name (hard evidence); a dict
        ``{state: likelihood}`` or a list/tuple of likelihoods aligned to the
        node's states (soft evidence); or NaN/None (not observed). An absent
        column is not observed. ``cases`` is never modified.
    priors : str, os.PathLike or Model, optional
        A priors folder, the name of a bundled population (``"specialist"``)
        or a loaded ``Model``; default: the bundled primary-care priors.
    chunk_size : int
        Rows evaluated together (capped lower for networks with large tables).
    progress : bool, optional
        Show a tqdm progress bar when there is more than one chunk. Default:
        only when standard error is a terminal.
    interval : float, optional
        Also report each posterior's median and central credible interval of
        this probability (0.9: 5th to 95th percentile) over ``draws`` joint
        draws of the parameters within the experts' ranges, exactly as
        :meth:`Model.infer` does for one case (the same ``seed`` gives the
        same numbers for the same evidence); see :mod:`model.analysis.intervals`.
    draws : int
        Parameter draws for the interval.
    seed : int, optional
        Seed of the draws.

    Returns
    -------
    pandas.DataFrame
        Same index as ``cases``; one column per cause then complication, each
        P(present | evidence) = 1 - P(reference state | evidence): the
        ``posterior`` column of :meth:`Model.infer`. ``.attrs`` holds:

        - ``problems``: a list of records ``{"row", "node", "value",
          "problem"}`` (``row`` is the index label), one per bad cell (unknown
          state, malformed likelihoods, a value that is neither) and one per
          impossible row (evidence of probability zero, naming its first
          impossible observation in column order); ``pd.DataFrame(problems)``
          tabulates them. **Bad rows are NaN**; every other row is computed.
          Empty when all rows are fine.
        - ``red_flags``: ``{row label: [emergency findings]}`` for the rows
          that observe an emergency finding in its emergency state (hard
          evidence, as :meth:`Model.infer`); rows without a flag are absent.
        - ``possible_red_flags``: the same for soft evidence whose likelihood
          favours the emergency state (:mod:`model.red_flags`).
        - ``must_not_miss``: ``{row label: [serious causes and complications
          at or above their action_threshold]}``, each list in decreasing
          posterior, as ``Model.infer(...).attrs["must_not_miss"]``; rows
          without one are absent.
        - ``population``: ``{"evidence": node -> state, "description":
          text}``, the population every row is conditioned on (its
          observations are added to every row; a cell that contradicts
          them makes its row bad). Empty when the priors have none.
        - ``priors_digest``: the digest of the priors used.
        - ``interval``: level, draws and seed, when an interval was asked for.

        With ``interval``, the columns are a two-level index (cause,
        statistic), statistics ``posterior``, ``median``, ``low``, ``high``;
        ``result.xs("low", axis=1, level="statistic")`` gives the lower bounds.

        The attrs are plain lists and dicts, so results of several batches
        can be joined with ``pd.concat``.

    Raises
    ------
    EvidenceError
        Only for what concerns every row: ``cases`` is not a DataFrame, or
        columns are unknown node names (all listed at once, each with the
        closest valid names) or duplicated. Nothing is computed then.

    Examples
    --------
    Regression snapshot: the numbers below are those of the bundled priors; tests/test_engine.py checks them
    against pgmpy variable elimination.

    >>> import pandas as pd
    >>> cases = pd.DataFrame({
    ...     "pain_burning": ["yes", None, "maybe"],
    ...     "avid_cyclist": ["yes", "no", "no"],
    ...     "sitting_effect": ["dominant", [0.1, 1.0, 1.0], None],
    ...     "saddle_anaesthesia": [None, "yes", None]})
    >>> result = infer_batch(cases)
    >>> result.round(3).loc[:, ["pfcn_neuropathy", "cauda_equina_syndrome"]]
    cause  pfcn_neuropathy  cauda_equina_syndrome
    0                0.262                  0.005
    1                0.012                  0.086
    2                  NaN                    NaN
    >>> print(result.attrs["problems"][0]["problem"])
    'pain_burning' has no state 'maybe'. Did you mean 'yes'? Its states are no, yes.
    >>> result.attrs["red_flags"]
    {1: ['saddle_anaesthesia']}
    """
    model = _model(priors)
    columns = _check_columns(model, cases)
    plan = _plan(model)
    n, reported = len(cases), list(model._reported)
    step = max(1, min(int(chunk_size), plan.rows_per_chunk))
    posterior = np.empty((n, len(reported)))
    problems, impossible = [], []
    flags, possible_flags = {}, {}  # row label -> emergency findings, firm and possible
    series = {c: cases[c] for c in columns}
    given = [*model._population, *(c for c in columns if c not in model._population)]  # the population first
    show = n > step and (sys.stderr.isatty() if progress is None else bool(progress))
    bar, pool = None, _Pool()
    if show:
        from tqdm.auto import tqdm

        bar = tqdm(total=n, unit="case", desc="infer_batch")
    try:
        block = max(step, PARSE_ROWS // step * step)  # cells are read a block at a time, scored a chunk at a time
        for first in range(0, n, block):
            last = min(n, first + block)
            cells = {c: s.iloc[first:last] for c, s in series.items()}
            hard_block, soft_block, bad_block, found = _parse(model, plan, cells, first, last - first)
            problems += found
            firm, possible = batch_flags(model._emergency, model._states, hard_block, soft_block,
                                         cases.index[first:last])
            flags.update(firm)
            possible_flags.update(possible)
            for lo in range(0, last - first, step):
                hi = min(last - first, lo + step)
                start, stop = first + lo, first + hi
                hard, soft = _rows(hard_block, soft_block, lo, hi)
                bad = bad_block[lo:hi]
                if hi - lo < step:  # a last, shorter chunk: tables of other sizes
                    pool = _Pool()
                values, possible = _evaluate(plan, hi - lo, hard, soft, pool=pool)
                values[bad] = np.nan
                posterior[start:stop] = values
                for i in np.flatnonzero(~possible & ~bad):
                    observed = {c: int(hard[c][i]) for c in given if hard[c][i] >= 0}
                    for c, (at, lam) in soft.items():
                        hit = np.flatnonzero(at == i)
                        if len(hit):
                            observed[c] = tuple(lam[hit[0]])
                    impossible.append((start + i, observed))
                if bar is not None:
                    bar.update(hi - lo)
    finally:
        if bar is not None:
            bar.close()
    problems += _impossible_problems(plan, model, given, series, cases.index, impossible)
    problems.sort(key=lambda p: (p[0], p[1]))
    result = pd.DataFrame(posterior, index=cases.index, columns=pd.Index(reported, name="cause"))
    attrs = {
        "problems": [dict(zip(("row", "node", "value", "problem"), p[2:])) for p in problems],
        "red_flags": flags,
        "possible_red_flags": possible_flags,
        "population": model._population_attrs(),
        "priors_digest": model.priors_digest,
    }
    attrs["must_not_miss"] = _must_not_miss(model, result)
    if interval is not None:
        from ..analysis.intervals import (
            posterior_intervals,  # analysis imports this module
        )

        ranges = posterior_intervals(model, cases, interval=interval, draws=draws, seed=seed, progress=progress)
        ranges["posterior"] = posterior
        names = ("posterior", "median", "low", "high")
        columns = pd.MultiIndex.from_product([reported, names], names=["cause", "statistic"])
        result = pd.DataFrame(np.stack([ranges[s] for s in names], axis=2).reshape(n, -1), index=cases.index,
                              columns=columns)
        attrs["interval"] = {"level": float(interval), "draws": int(draws), "seed": seed}
    result.attrs = attrs
    return result


def _must_not_miss(model, result):
    """``{row label: [serious nodes at or above their action_threshold]}`` (:meth:`Model._must_not_miss_rows`),
    looked at only for the rows where some node reaches its threshold."""
    if "action_threshold" not in model.nodes:
        return {}
    thresholds = model.nodes["action_threshold"].reindex(result.columns).to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        reached = (result.to_numpy() >= thresholds).any(axis=1)  # NaN (no threshold, bad row): never
    return model._must_not_miss_rows(result.iloc[np.flatnonzero(reached)])


def _impossible_problems(plan, model, columns, series, labels, impossible):
    """One problem line per impossible row, naming its first impossible observation (``columns`` order: the
    population first, then the columns of the cases)."""
    culprits = _explain(plan, model, columns, impossible[:MAX_EXPLAINED])
    problems = []

    def cell(node, i):
        return series[node].iat[i] if node in series else model._population[node]

    for r, (i, _) in enumerate(impossible):
        names = culprits.get(r)
        if names is None:
            problems.append((i, len(columns), labels[i], "", None,
                             "the evidence of this row has probability zero under the model."))
            continue
        node, earlier = names[-1], names[:-1]
        value = cell(node, i)
        given = ", ".join(f"{c}={cell(c, i)!r}" for c in earlier) or "nothing else"
        text = (f"the evidence has probability zero under the model: {node}={value!r} is impossible given "
                f"{given}. Check these observations or the priors that forbid them.")
        problems.append((i, columns.index(node), labels[i], node, value, text))
    return problems

