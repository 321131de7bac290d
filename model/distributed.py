"""Exact posteriors of a Dask DataFrame of cases: :func:`infer_batch_dask` (issue 12, item 4).

In plain terms: when the cases do not fit on one machine, or should be spread
over several cores or machines, give :func:`infer_batch_dask` a
``dask.dataframe.DataFrame`` and get back one, lazily, with the numbers that
:func:`model.engine.infer_batch` gives for a pandas DataFrame. Each partition
is a pandas DataFrame scored by :func:`~model.engine.infer_batch` on a worker.

The model is loaded and its network compiled once, in the calling process,
and sent to the workers with the compiled plan: a worker never compiles. Dask
is an optional extra (``pip install "thighpain-bayesnet[dask]"``); importing
this module does not import Dask.
"""

from __future__ import annotations

import sys

import pandas as pd

from .engine.compiled import _PLANS, compiled_plan
from .errors import EvidenceError
from .inference import as_model

__all__ = ["infer_batch_dask"]


def _is_dask(cases):
    """Whether ``cases`` is a Dask DataFrame, without importing Dask (if it is one, Dask is imported already)."""
    dd = sys.modules.get("dask.dataframe")
    return dd is not None and isinstance(cases, dd.DataFrame)


class _Shipment:
    """A model and its compiled plans, sent to the workers together.

    On a worker, the model arrives as a new object (unpickled), which
    :data:`model.engine.compiled._PLANS` does not know; :meth:`open` files the plans
    that travelled with it under that object, so :func:`model.engine.compiled_plan`
    finds them instead of compiling again. In the calling process (threads,
    or in-process workers) the plans are filed already and nothing changes.
    """

    def __init__(self, model, plans):
        self.model, self.plans = model, dict(plans)

    def open(self):
        cached = _PLANS.setdefault(self.model, {})
        for name, plan in self.plans.items():
            cached.setdefault(name, plan)
        return self.model


def _score(part, shipment, options, problems, red_flags):
    """One partition: :func:`model.engine.infer_batch`, with its attrs turned into text columns when asked."""
    model = shipment.open()
    if len(part) == 0:  # a partition emptied by a filter (infer_batch computes no interval for no rows)
        return _meta(part, model, options, problems, red_flags)
    result = model.infer_batch(part, progress=False, **options)
    extra = {}
    if problems:
        texts = {}
        for p in result.attrs["problems"]:
            texts.setdefault(p["row"], []).append(p["problem"])
        extra["problems"] = ["\n".join(texts.get(label, ())) for label in result.index]
    if red_flags:
        for name in ("red_flags", "possible_red_flags"):
            flags = result.attrs[name]
            extra[name] = [", ".join(flags.get(label, ())) for label in result.index]
    result.attrs = {}
    return _with_text(result, extra)


def _with_text(result, extra):
    """``result`` with the text columns ``extra`` ({name: values}) added after its own."""
    for name, values in extra.items():
        key = (name,) + ("",) * (result.columns.nlevels - 1) if result.columns.nlevels > 1 else name
        result[key] = pd.Series(values, index=result.index, dtype=object)
    return result


def _meta(empty, model, options, problems, red_flags):
    """The empty result Dask needs to know the columns: :func:`model.engine.infer_batch` of the empty frame (which
    checks its columns), with the (cause, statistic) columns of an interval (``infer_batch`` cannot compute an
    interval for no rows)."""
    result = model.infer_batch(empty, progress=False,
                               **{k: v for k, v in options.items() if k not in ("interval", "draws", "seed")})
    if options.get("interval") is not None:
        columns = pd.MultiIndex.from_product([list(model._reported), ["posterior", "median", "low", "high"]],
                                             names=["cause", "statistic"])
        result = pd.DataFrame(index=empty.index, columns=columns, dtype="float64")
    names = ["problems"] * problems + ["red_flags", "possible_red_flags"] * red_flags
    result.attrs = {}
    return _with_text(result, {name: [] for name in names})


def infer_batch_dask(cases, *, priors=None, problems=False, red_flags=False, **options):
    """Exact posteriors of every cause and complication for a Dask DataFrame of cases.

    The same numbers as :func:`model.infer_batch` on the computed pandas
    frame, partition by partition (``dask.dataframe.DataFrame.map_partitions``):
    nothing is computed until ``.compute()`` (or ``.to_parquet()``...).

    How the model travels: it is loaded once, and its plan compiled once
    (the engine caches it per model), here in the calling process. With a
    ``dask.distributed`` client active (``Client(...)``, at the time of this
    call), the model and its compiled plan are scattered to every worker once
    (``client.scatter(..., broadcast=True)``) and each partition's task refers
    to that copy; a worker never compiles. Without a client (Dask's default
    thread scheduler), they are one argument of ``map_partitions`` shared by
    the threads. A ``Model`` does not pickle with the standard ``pickle`` (its
    tables are read-only mappings), but it does with ``cloudpickle``, which
    Dask falls back on; the workers need this package installed. Dask's
    ``"processes"`` scheduler (no client) would pickle the model and plan for
    every partition: use a ``LocalCluster`` instead. The compiled plan of the
    bundled network is about 35 MB, sent once per worker.

    Parameters
    ----------
    cases : dask.dataframe.DataFrame
        One row per case, one column per observed node, cells as in
        :func:`model.infer_batch`. Soft evidence (a dict or list in a cell)
        needs ``object`` columns: Dask turns ``object`` columns into text by
        default, and a dict turned into text is a bad cell (NaN row, with a
        problem); build the frame under ``dask.config.set({"dataframe.convert-string":
        False})`` to keep them. Row labels must be unique within each
        partition (checked there; labels repeated across partitions are not
        checked).
    priors : str, os.PathLike or Model, optional
        A priors folder, a bundled population's name or a loaded ``Model``;
        default: the bundled primary-care priors.
    problems : bool
        Add a text column ``problems``: the row's problems of
        ``infer_batch(...).attrs["problems"]`` (bad cells, impossible
        evidence), one per line; ``""`` when the row is fine.
    red_flags : bool
        Add text columns ``red_flags`` and ``possible_red_flags``: the row's
        emergency findings (``attrs["red_flags"]`` and
        ``attrs["possible_red_flags"]``), comma-separated; ``""`` when none.
    **options
        ``chunk_size``, ``interval``, ``draws``, ``seed`` of
        :func:`model.infer_batch`, applied to every partition. With
        ``interval``, what the draws need beyond the plan is built on each
        worker, once per worker, and every partition fits the parameter
        distributions again (about 2 s on the bundled network): use few,
        large partitions. With a ``seed``, a row's interval does not depend
        on the partitions.
        ``progress`` is ignored: no bar is drawn on the workers (use
        ``dask.diagnostics.ProgressBar`` or the distributed dashboard).

    Returns
    -------
    dask.dataframe.DataFrame
        Same index and partitions as ``cases``; one float64 column per cause
        then complication (columns named ``cause``), as :func:`model.infer_batch`,
        then the text columns asked for. Bad and impossible rows are NaN.
        **No attrs**: ``.attrs`` cannot travel through a Dask DataFrame, so the
        result carries none (no ``problems``, ``red_flags``,
        ``must_not_miss``, ``population``, ``priors_digest``); ask for the
        ``problems`` and ``red_flags`` columns, or run :func:`model.infer_batch`
        on one partition (``cases.partitions[i].compute()``) to see all of them.

    Raises
    ------
    EvidenceError
        At once, before anything is computed: ``cases`` is not a Dask
        DataFrame, or columns are unknown node names or duplicated. A
        partition with repeated row labels raises when it is computed.
    ImportError
        Dask is not installed.

    Examples
    --------
    Regression snapshot (the bundled priors; tests/test_distributed.py checks every row against
    :func:`model.infer_batch`), on Dask's thread scheduler:

    >>> import dask.dataframe as dd
    >>> import pandas as pd
    >>> cases = pd.DataFrame({"pain_burning": ["yes", "no", "maybe", None],
    ...                       "avid_cyclist": ["yes", "no", "no", None],
    ...                       "saddle_anaesthesia": [None, "yes", None, None]})
    >>> lazy = infer_batch_dask(dd.from_pandas(cases, npartitions=2), problems=True, red_flags=True)
    >>> result = lazy.compute()
    >>> result[["pfcn_neuropathy", "cauda_equina_syndrome"]].round(3)
    cause  pfcn_neuropathy  cauda_equina_syndrome
    0                0.077                  0.006
    1                0.003                  0.069
    2                  NaN                    NaN
    3                0.010                  0.005
    >>> print(result.loc[2, "problems"])
    'pain_burning' has no state 'maybe'. Did you mean 'yes'? Its states are no, yes.
    >>> result["red_flags"].tolist()
    ['', 'saddle_anaesthesia', '', '']
    """
    import dask.dataframe as dd  # the optional extra: pip install "thighpain-bayesnet[dask]"

    if not isinstance(cases, dd.DataFrame):
        raise EvidenceError(f"cases must be a dask DataFrame (for a pandas DataFrame use model.infer_batch). "
                            f"Got {type(cases).__name__}.")
    options.pop("progress", None)
    model = as_model(priors)
    compiled_plan(model)  # compiled once, here
    meta = _meta(cases._meta, model, options, problems, red_flags)  # checks the columns too
    shipment = _Shipment(model, _PLANS[model])
    client = _client()
    if client is not None:
        shipment = client.scatter(shipment, broadcast=True, hash=False)
    return cases.map_partitions(_score, shipment, options, problems, red_flags, meta=meta, enforce_metadata=False)


def _client():
    """The active ``dask.distributed`` client, or None (none active, or distributed not installed)."""
    try:
        from distributed import default_client
    except ImportError:
        return None
    try:
        return default_client()
    except ValueError:
        return None
