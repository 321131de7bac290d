"""Many cases through one compiled plan, chunk by chunk: :func:`run_batch`, the engine of :func:`model.infer_batch`.

Each chunk's evidence is read by :mod:`model.engine.cases` (bad cells,
the population), scored by :mod:`model.engine.chunk` with the model's
:func:`~model.engine.compiled.compiled_plan`; impossible rows are named by
their first impossible observation and red flags are collected
(:mod:`model.red_flags`). Chunks bound the memory whatever the number of rows.
Takes a loaded model: :func:`model.infer_batch` (:mod:`model.engine.batch`)
reads the priors argument and adds credible intervals.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

from ..red_flags import batch_flags
from .cases import _explain, check_columns, parse_cases
from .chunk import _rows, evaluate
from .compiled import _PLANS, PlanTooLarge, _limits, compiled_plan, plan_structure
from .ops import Pool
from .plan import _rough_work
from .single import TreeRows, junction_tree

__all__ = ["CHUNK_SIZE", "impossible_problems", "run_batch", "scorer"]

#: Rows evaluated together (fewer when the network's tables are large).
CHUNK_SIZE = 4096
#: Rows whose cells are read together (pandas lookups per column are slow on small slices).
PARSE_ROWS = 65536
#: Impossible rows whose first impossible observation is looked for.
MAX_EXPLAINED = 10_000
#: Costs per case, in nanoseconds, measured on bnlearn's water and andes (2 cores, numpy + OpenBLAS): a batch
#: plan's, per table entry it computes; one case on the junction tree with every clique in play, per float of its
#: cliques and per clique; and the plan's estimated cost below which the plan is taken without comparing.
PLAN_NS, TREE_FLOAT_NS, TREE_CLIQUE_NS, SURE_PLAN_NS = 0.55, 70.0, 20_000.0, 10_000_000.0


def scorer(model):
    """What scores ``model``'s rows: its batch plan, or :class:`TreeRows` (one case at a time on the junction
    tree) when the plan is refused (:class:`PlanTooLarge`) or is estimated to cost over twice as much per case as
    the tree's worst case (every clique in play), by the costs above. Both are exact: the choice changes only the
    time. The bundled network and bnlearn's water take the plan; andes takes the tree (117 ms a case against the
    plan's 979 ms, measured), and its plan's tables are never compiled. A rough estimate of the plan's cost (two
    eliminations) above the tree's worst case settles it first: the plan's whole structure search took 311 s on
    pigs and 312 s on diabetes."""
    cache = _PLANS.setdefault(model, {})
    if "tree rows" not in cache:
        cache["tree rows"] = _tree_is_faster(model)
    return TreeRows(model) if cache["tree rows"] else compiled_plan(model)


def _tree_is_faster(model):
    tree = junction_tree(model)
    tree = TREE_FLOAT_NS * sum(map(len, tree.potentials)) + TREE_CLIQUE_NS * len(tree.cliques)
    if _rough_work(model, _limits()) * PLAN_NS > tree:  # over the tree's worst case: decided before the plan's
        return True  # whole structure search (minutes on pigs and diabetes)
    try:
        plan = plan_structure(model).work * PLAN_NS
    except PlanTooLarge:
        return True
    return plan >= SURE_PLAN_NS and plan > 2 * tree


def run_batch(model, cases, *, chunk_size=CHUNK_SIZE, progress=None):
    """:func:`model.infer_batch` on a loaded ``model``, without intervals: the posterior of every reported node
    per row (NaN for bad and impossible rows), and the attrs ``problems``, ``red_flags``,
    ``possible_red_flags``, ``population``, ``priors_digest`` and ``must_not_miss``."""
    columns = check_columns(model, cases)
    plan = scorer(model)
    n, reported = len(cases), list(model._reported)
    step = max(1, min(int(chunk_size), plan.rows_per_chunk))
    posterior = np.empty((n, len(reported)))
    problems, impossible = [], []
    flags, possible_flags = {}, {}  # row label -> emergency findings, firm and possible
    series = {c: cases[c] for c in columns}
    given = [*model._population, *(c for c in columns if c not in model._population)]  # the population first
    show = n > step and (sys.stderr.isatty() if progress is None else bool(progress))
    bar, pool = None, Pool()
    if show:
        from tqdm.auto import tqdm

        bar = tqdm(total=n, unit="case", desc="infer_batch")
    try:
        block = max(step, PARSE_ROWS // step * step)  # cells are read a block at a time, scored a chunk at a time
        for first in range(0, n, block):
            last = min(n, first + block)
            cells = {c: s.iloc[first:last] for c, s in series.items()}
            hard_block, soft_block, bad_block, found = parse_cases(model, plan, cells, first, last - first)
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
                    pool = Pool()
                values, possible = evaluate(plan, hi - lo, hard, soft, pool=pool)
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
    problems += impossible_problems(plan, model, given, series, cases.index, impossible)
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


def impossible_problems(plan, model, columns, series, labels, impossible):
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

