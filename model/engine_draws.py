"""Posteriors of many cases under many parameter draws at once: the engine behind credible intervals.

In plain terms: to see how much an answer depends on the experts' uncertain
numbers, every case is scored under many joint settings of the parameters
(*draws*). This module groups the draws, compiles each group once into a plan
whose numbers carry a draw axis (:mod:`model.engine_plan`), and scores every
case of a block under every draw of the group with the same matrix products
(:mod:`model.engine_chunk`). The draws themselves come from
:mod:`model.analysis.intervals` (or a sensitivity sweep); this module only
needs a function giving the node tables of draws ``a`` to ``b - 1``.
"""

from __future__ import annotations

import sys

import numpy as np

from .engine import (
    _SAFE,
    MAX_FINAL,
    MAX_ROOT_BLOCK,
    MAX_TABLE,
    _check_columns,
    _parse,
    _plan,
)
from .engine_chunk import _evaluate, _patterns
from .engine_plan import _compile, _Limits

#: Largest number of floats in the numbers of one multi-draw plan; sets the draws compiled together.
MAX_DRAW_NUMBERS = 2**22
#: Largest number of floats of per-draw results kept at once; sets the cases per block.
MAX_DRAW_RESULTS = 2**24
#: With many draws, evidence-pattern tables pay off only with this many cases per pattern (measured).
CASES_PER_PATTERN = 6


def _numbers_per_draw(plan, patterns):
    """Floats one draw adds to a plan tabulating ``patterns`` evidence patterns (all when None)."""
    size = sum(group.logw.size for group in plan.groups) + sum(a[0].size for a in plan.constants.values())
    for steps, _, made, _ in plan.programs:
        size += sum(spec[2][0].size for spec in steps if spec[0] == "matmul") + sum(a[0].size for a in made.values())
    if plan.root_tables is not None:
        size += plan.root_tables[0].size * (len(plan.pattern_rows) if patterns is None else len(patterns))
    return size


def _rows(hard, soft, lo, hi):
    """Rows ``lo:hi`` of parsed evidence."""
    part = {}
    for node, (at, lam) in soft.items():
        keep = (at >= lo) & (at < hi)
        if keep.any():
            part[node] = (at[keep] - lo, lam[keep])
    return {node: codes[lo:hi] for node, codes in hard.items()}, part


def _draw_posteriors(model, cases, tables_of, draws, *, progress=None):
    """Posteriors of every case under each of ``draws`` parameter sets, block of cases by block.

    ``tables_of(a, b)`` gives the node tables of draws ``a`` to ``b - 1``:
    ``{node: (b - a, states, configurations)}`` (nodes left out keep the
    model's values). Yields ``(start, stop, posteriors)``, ``posteriors`` of
    shape (draws, stop - start, reported); NaN for bad rows (unreadable cells)
    and impossible ones. Each group of draws is compiled once per block into a
    plan with a draw axis (:mod:`model.engine_plan`), so memory stays bounded.
    Evidence-pattern tables (one root-block table per pattern and draw) are
    made only for the patterns the block needs, and only when the block has at
    least :data:`CASES_PER_PATTERN` cases per pattern; otherwise the plan
    without them costs less.
    """
    columns = _check_columns(model, cases)
    plan = _plan(model)
    n, reported = len(cases), len(model._reported)
    block = max(1, MAX_DRAW_RESULTS // max(1, draws * reported))
    limits = _Limits(MAX_TABLE, MAX_FINAL, MAX_ROOT_BLOCK, _SAFE)
    series = {c: cases[c] for c in columns}
    show = n * draws > 1e6 and (sys.stderr.isatty() if progress is None else bool(progress))
    bar = None
    if show:
        from tqdm.auto import tqdm

        bar = tqdm(total=n * draws, unit="case-draw", desc="intervals")
    try:
        for start in range(0, n, block):
            stop = min(n, start + block)
            hard, soft, bad, _ = _parse(model, plan, {c: s.iloc[start:stop] for c, s in series.items()}, start,
                                        stop - start)
            patterns = None
            if plan.root_tables is not None and not any(f in soft for f in plan.tabulated):
                patterns = np.unique(_patterns(plan, stop - start, hard)).tolist()
            tabulate = patterns is not None and stop - start >= CASES_PER_PATTERN * len(patterns)
            if not tabulate:
                patterns = None
            numbers = _numbers_per_draw(_plan(model, tabulate), patterns)
            together = max(1, min(draws, MAX_DRAW_NUMBERS // max(1, numbers)))
            out = np.empty((draws, stop - start, reported))
            for a in range(0, draws, together):
                b = min(draws, a + together)
                dplan = _compile(model, limits, tables_of(a, b), plan.index, patterns, tabulate)
                for lo in range(0, stop - start, dplan.rows_per_chunk):
                    hi = min(stop - start, lo + dplan.rows_per_chunk)
                    out[a:b, lo:hi], _ = _evaluate(dplan, hi - lo, *_rows(hard, soft, lo, hi), draws=True)
                if bar is not None:
                    bar.update((b - a) * (stop - start))
            out[:, bad] = np.nan
            yield start, stop, out
    finally:
        if bar is not None:
            bar.close()
