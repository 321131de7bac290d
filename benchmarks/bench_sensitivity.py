#!/usr/bin/env python
"""Exact sensitivity functions against the former sweep, side by side in one run.

Run from anywhere (the repository root is put on ``sys.path``)::

    python benchmarks/bench_sensitivity.py            # 4 cases x 2 causes, 3 repeats
    python benchmarks/bench_sensitivity.py --quick    # 2 cases x 1 cause, 1 repeat

For each case and cause it times

- ``model.sensitivity(evidence, cause)``: every parameter's posterior from two
  junction-tree calibrations and the exact linear-fraction identity
  (:mod:`model.analysis.sensitivity`);
- the former sweep (kept below as :func:`former_sweep`, the code of
  ``sensitivity`` before 2026-11-30): every swept setting of every parameter
  scored as one parameter draw through the batch engine's draw axis.

Both give ``at_low``, ``at_high``, ``minimum`` and ``maximum`` for every parameter; the script checks
they agree within 1e-9 and prints the ratio former / exact (target >= 20x). Exit code 1 on a mismatch.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

TARGET = 20.0
TOLERANCE = 1e-9
CASES = [
    {"avid_cyclist": "yes", "sitting_effect": "dominant", "pain_burning": "yes"},
    {"pain_burning": "yes", "low_back_pain": "no", "sitting_effect": "dominant"},
    {"slr_positive": "yes", "low_back_pain": "yes"},
    {},
]
CAUSES = ["pfcn_neuropathy", "lumbar_disc_herniation"]


def former_sweep(model, evidence, cause, points=5):
    """The sweep ``sensitivity`` ran before the exact functions: ``points + 3`` settings per parameter, each
    one parameter draw of the batch engine. Returns ``{(table, row): (at_low, at_high, minimum, maximum)}``."""
    from model.analysis.intervals import evidence_frame
    from model.analysis.parameters import Parameters, model_parameters, node_values
    from model.engine import draw_posteriors

    parameters = model_parameters(model)
    table = parameters.table
    swept = np.flatnonzero((table["low"] < table["high"]).to_numpy())
    value, low, high = (table[c].to_numpy(dtype=float) for c in ("value", "low", "high"))
    grid = np.linspace(0.0, 1.0, points)
    step = 1e-5 * (high - low)
    settings = []
    for p in swept:
        for x in list(low[p] + grid * (high[p] - low[p])) + [value[p], max(low[p], value[p] - step[p]),
                                                               min(high[p], value[p] + step[p])]:
            settings.append((p, x))
    nodes = table["node"].to_numpy()

    def tables_of(a, b):
        chunk = settings[a:b]
        values = np.tile(value, (len(chunk), 1))
        values[np.arange(len(chunk)), [p for p, _ in chunk]] = [x for _, x in chunk]
        touched = {nodes[p] for p, _ in chunk}
        subset = Parameters(table, tuple(r for r in parameters.recipes if r[0] in touched))
        return node_values(subset, model, values)

    column = list(model._reported).index(cause)
    at = np.empty(len(settings))
    for _, _, block in draw_posteriors(model, evidence_frame(evidence), tables_of, len(settings), progress=False):
        at[:] = block[:, 0, column]
    per = points + 3
    out = {}
    for k, p in enumerate(swept):
        sweep = at[k * per:(k + 1) * per]
        out[(table["table"].iat[p], int(table["row"].iat[p]))] = (sweep[0], sweep[points - 1],
                                                                  sweep[:points + 1].min(), sweep[:points + 1].max())
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 cases, 1 cause, 1 repeat")
    parser.add_argument("--repeats", type=int, help="timed repeats per case and cause (default 3; quick 1)")
    args = parser.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 3)
    cases, causes = (CASES[:2], CAUSES[:1]) if args.quick else (CASES, CAUSES)

    from model import load_model, sensitivity

    print(f"bench_sensitivity {'(quick) ' if args.quick else ''}"
          f"{datetime.datetime.now().astimezone().isoformat(timespec='seconds')}")
    print(f"python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}; "
          f"{platform.platform()}, {os.cpu_count()} CPUs")
    m = load_model()
    sensitivity({}, causes[0], priors=m)  # warm-up: compiles the junction tree and the draw plan
    former_sweep(m, {}, causes[0])
    exact_times, former_times, worst = [], [], 0.0
    for evidence in cases:
        for cause in causes:
            for _ in range(repeats):
                start = time.perf_counter()
                table = sensitivity(evidence, cause, priors=m)
                mid = time.perf_counter()
                former = former_sweep(m, evidence, cause)
                end = time.perf_counter()
                exact_times.append(mid - start)
                former_times.append(end - mid)
            for row in table.itertuples():
                expected = former[(row.table, int(row.row))]
                got = (row.at_low, row.at_high, row.minimum, row.maximum)
                worst = max(worst, max(abs(a - b) for a, b in zip(got, expected)))
            print(f"{cause:24s} {len(evidence):2d} observations: exact {statistics.median(exact_times[-repeats:]):.3f} s, "
                  f"former sweep {statistics.median(former_times[-repeats:]):.3f} s, {len(table)} parameters")
    ratio = statistics.median(former_times) / statistics.median(exact_times)
    print(f"\nmedian exact {statistics.median(exact_times):.3f} s, former sweep {statistics.median(former_times):.3f} s")
    print(f"ratio former / exact: {ratio:.1f}x   target >= {TARGET:g}x: {'OK' if ratio >= TARGET else 'BELOW TARGET'}")
    agree = "OK" if worst <= TOLERANCE else "MISMATCH"
    print(f"max |exact - former| over at_low, at_high, minimum, maximum: {worst:.2e}   (tolerance {TOLERANCE:g}: {agree})")
    return 0 if worst <= TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main())
