"""Posteriors of many cases under many parameter draws at once: the engine behind credible intervals.

In plain terms: to see how much an answer depends on the experts' uncertain
numbers, every case is scored under many joint settings of the parameters
(*draws*). This module groups the draws, fills the model's draw structure
(:mod:`model.engine.plan`, compiled once, without log groups so each draw adds
few numbers) with each group's numbers (:mod:`model.engine.numbers`: every
number then carries a draw axis), and scores every case of a block under every
draw of the group with the same array operations (:mod:`model.engine.chunk`). The draws themselves come from
:mod:`model.analysis.intervals` (or a sensitivity sweep); this module only
needs a function giving the node tables of draws ``a`` to ``b - 1``.
"""

from __future__ import annotations

import sys
import weakref

import numpy as np

from .cases import check_columns, parse_cases
from .chunk import _rows, evaluate
from .compiled import _draw_structure, _limits, compiled_plan
from .numbers import _compile

#: Largest number of floats in the numbers of one multi-draw plan; sets the draws compiled together.
MAX_DRAW_NUMBERS = 2**22
#: Largest number of floats of per-draw results kept at once; sets the cases per block.
MAX_DRAW_RESULTS = 2**24
#: Kept for compatibility: the engine no longer tabulates evidence patterns, so this no longer matters.
CASES_PER_PATTERN = 6
_PER_DRAW = weakref.WeakKeyDictionary()  # model -> floats one draw adds to its draw plans


def _numbers_per_draw(plan):
    """Floats one draw adds to a plan: leaf tables, log groups, constants and matrices of its steps."""
    size = sum(t.size for t in plan.leaves.values()) + sum(g[2].size for g in plan.groups)
    for made in plan.numbers:
        for value in made.values():
            if value is not None:
                size += value.size if isinstance(value, np.ndarray) else value[1].size
    return size // plan.draws


def draw_posteriors(model, cases, tables_of, draws, *, progress=None):
    """Posteriors of every case under each of ``draws`` parameter sets, block of cases by block.

    ``tables_of(a, b)`` gives the node tables of draws ``a`` to ``b - 1``:
    ``{node: (b - a, states, configurations)}`` (nodes left out keep the
    model's values). Yields ``(start, stop, posteriors)``, ``posteriors`` of
    shape (draws, stop - start, reported); NaN for bad rows (unreadable cells)
    and impossible ones. Each group of draws is compiled once per block into a
    plan with a draw axis (:mod:`model.engine.plan`), so memory stays bounded.
    The draw plans have no log groups (every leaf linear: few numbers per
    draw); their structure is compiled once per model, only the numbers per
    group of draws.
    """
    columns = check_columns(model, cases)
    plan, structure = compiled_plan(model), _draw_structure(model)
    n, reported = len(cases), len(model._reported)
    block = max(1, MAX_DRAW_RESULTS // max(1, draws * reported))
    limits = _limits(groups=False)
    if model not in _PER_DRAW:
        _PER_DRAW[model] = _numbers_per_draw(_compile(model, limits, index=plan.index, structure=structure))
    together = max(1, min(draws, MAX_DRAW_NUMBERS // max(1, _PER_DRAW[model])))
    series = {c: cases[c] for c in columns}
    show = sys.stderr.isatty() if progress is None else bool(progress)
    bar = None
    if show:
        from tqdm.auto import tqdm

        # shown once the run has taken a second (at once when asked for): quick runs stay quiet
        bar = tqdm(total=n * draws, unit="case-draw", desc="intervals", delay=1.0 if progress is None else 0.0)
    try:
        for start in range(0, n, block):
            stop = min(n, start + block)
            hard, soft, bad, _ = parse_cases(model, plan, {c: s.iloc[start:stop] for c, s in series.items()}, start,
                                        stop - start)
            out = np.empty((draws, stop - start, reported))
            for a in range(0, draws, together):
                b = min(draws, a + together)
                dplan = _compile(model, limits, tables_of(a, b), plan.index, structure)
                for lo in range(0, stop - start, dplan.rows_per_chunk):
                    hi = min(stop - start, lo + dplan.rows_per_chunk)
                    out[a:b, lo:hi], _ = evaluate(dplan, hi - lo, *_rows(hard, soft, lo, hi), draws=True)
                if bar is not None:
                    bar.update((b - a) * (stop - start))
            out[:, bad] = np.nan
            yield start, stop, out
    finally:
        if bar is not None:
            bar.close()
