"""Exact posteriors for many cases at once: :func:`infer_batch`.

In plain terms: give a table with one row per patient and one column per
observation, get back a table with the probability of every cause and
complication for each patient, the same numbers as :meth:`Model.infer` row by
row, many times faster. Rows that cannot be read, or whose observations
are impossible under the model, come back empty (NaN) with a plain message in
``.attrs["problems"]``; emergency findings are listed in ``.attrs["red_flags"]``.

This module reads the ``priors`` argument (a folder, a bundled population or
a loaded :class:`~model.inference.Model`) and asks the model
(:meth:`Model.infer_batch <model.inference.Model.infer_batch>`); the rows are
scored chunk by chunk in :mod:`model.engine.run`, credible intervals come
from :mod:`model.analysis.intervals`.
"""

from __future__ import annotations

from ..distributed import _is_dask, infer_batch_dask
from ..inference import as_model
from .run import CHUNK_SIZE

__all__ = ["infer_batch"]


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
    cases : pandas.DataFrame or dask.dataframe.DataFrame
        One row per case, one column per observed node (names as in
        ``nodes.csv``). A cell holds a state name (hard evidence); a dict
        ``{state: likelihood}`` or a list/tuple of likelihoods aligned to the
        node's states (soft evidence); or NaN/None (not observed). An absent
        column is not observed. ``cases`` is never modified. A Dask DataFrame
        gives a Dask DataFrame of the same numbers, partition by partition,
        without ``.attrs`` (:func:`model.distributed.infer_batch_dask`).
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
    if _is_dask(cases):  # beyond one machine: a Dask DataFrame in, one out (model.distributed)
        return infer_batch_dask(cases, priors=priors, chunk_size=chunk_size, interval=interval, draws=draws,
                                seed=seed)
    return as_model(priors).infer_batch(cases, chunk_size=chunk_size, progress=progress, interval=interval,
                                        draws=draws, seed=seed)
