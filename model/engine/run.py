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

import math
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
from .tree_batch import TreeBatch

__all__ = ["CHUNK_SIZE", "impossible_problems", "run_batch", "scorer", "seen_shares"]

#: Rows evaluated together (fewer when the network's tables are large).
CHUNK_SIZE = 4096
#: Rows whose cells are read together (pandas lookups per column are slow on small slices).
PARSE_ROWS = 65536
#: Impossible rows whose first impossible observation is looked for.
MAX_EXPLAINED = 10_000
#: Costs per case, in nanoseconds, measured on bnlearn's water, mildew and andes (2 cores, numpy + OpenBLAS): a
#: batch plan's, per table entry it computes; one case on the junction tree with hard evidence cut out, per float
#: of its cut-down cliques (15-19 ns on water and mildew) and per clique; and the plan's estimated cost below which
#: the plan is taken without comparing.
PLAN_NS, TREE_FLOAT_NS, TREE_CLIQUE_NS, SURE_PLAN_NS = 0.55, 20.0, 20_000.0, 10_000_000.0
#: Cases calibrated together on the whole junction tree (:class:`~model.engine.tree_batch.TreeBatch`): nanoseconds
#: per configuration of its cliques and case (10-18 on bnlearn's insurance, alarm, hepar2, hailfinder, win95pts,
#: water and child, 2026-12-02); taken over the plan when estimated at most ``PLAN_OPTIMISM`` times the plan's
#: estimate, which undercounts on small tables (measured 2-6x the estimate on insurance, hailfinder, win95pts).
TREE_BATCH_NS, PLAN_OPTIMISM = 12.0, 3.0


def scorer(model, seen=None):
    """What scores ``model``'s rows: its batch plan, or :class:`TreeRows` (one case at a time on the junction
    tree, hard evidence cut out) when the plan is refused (:class:`PlanTooLarge`) or is estimated to cost over
    twice as much per case as the tree, by the costs above; :class:`TreeBatch` (the cases calibrated together on
    the whole tree) in place of either when its estimate is the lower (alarm, insurance, hailfinder, win95pts).
    ``seen`` maps nodes to the share of rows where they are observed: each clique's expected size after the cut
    is the product over its nodes of ``share + (1 - share) * states``. All three are exact: the choice changes
    only the time. The bundled network takes the plan; bnlearn's water, with a fifth of its cells seen, takes
    the tree (18 ms a case against the plan's 40 ms, measured), as does andes whatever is seen (117 ms a case
    against 979 ms), and then the plan's tables are never compiled. A rough estimate of the plan's cost (two
    eliminations) above the tree's settles it first: the plan's whole structure search took 311 s on pigs and
    312 s on diabetes."""
    cache = _PLANS.setdefault(model, {})
    full = junction_tree(model)
    tree = _tree_cost(full, seen or {})
    together = TREE_BATCH_NS * sum(len(p) for p in full.potentials)
    on_tree = TreeBatch if together <= tree else TreeRows
    if "rough plan cost" not in cache:
        cache["rough plan cost"] = _rough_work(model, _limits()) * PLAN_NS
    if cache["rough plan cost"] > tree:
        return on_tree(model)
    if "plan cost" not in cache:
        cache["plan cost"] = _plan_cost(model)
    plan = cache["plan cost"]
    if plan is None or (plan >= SURE_PLAN_NS and plan > 2 * tree):
        return on_tree(model)
    if on_tree is TreeBatch and together <= PLAN_OPTIMISM * plan:
        return TreeBatch(model)
    return compiled_plan(model)


def seen_shares(model, cases, columns=None):
    """node -> the share of the rows of ``cases`` where it is observed (1 for the population's nodes): what
    :func:`scorer` weighs."""
    columns = check_columns(model, cases) if columns is None else columns
    shares = {c: float(cases[c].notna().mean()) for c in columns} if len(cases) else {}
    return {**shares, **{node: 1.0 for node in model._population}}


def _tree_cost(tree, seen):
    """Estimated nanoseconds a case on the junction tree, nodes seen in the given shares of the rows."""
    floats = sum(math.prod(seen.get(v, 0.0) + (1.0 - seen.get(v, 0.0)) * tree.card[v] for v in clique)
                 for clique in tree.cliques)
    return TREE_FLOAT_NS * floats + TREE_CLIQUE_NS * len(tree.cliques)


def _plan_cost(model):
    """The batch plan's estimated nanoseconds a case, from its whole structure search; None when it is
    refused."""
    try:
        return plan_structure(model).work * PLAN_NS
    except PlanTooLarge:
        return None


def run_batch(model, cases, *, chunk_size=CHUNK_SIZE, progress=None):
    """:func:`model.infer_batch` on a loaded ``model``, without intervals: the posterior of every reported node
    per row (NaN for bad and impossible rows), and the attrs ``problems``, ``red_flags``,
    ``possible_red_flags``, ``population``, ``priors_digest`` and ``must_not_miss``."""
    columns = check_columns(model, cases)
    plan = scorer(model, seen_shares(model, cases, columns))
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

