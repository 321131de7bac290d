#!/usr/bin/env python
"""Credible intervals: ``infer_batch(..., interval=0.9, draws=1000)`` against the naive loop, side by side.

Run from anywhere (the repository root is put on ``sys.path``)::

    python benchmarks/bench_intervals.py            # 100 cases x 1,000 draws; naive loop on 5 draws x 20 cases
    python benchmarks/bench_intervals.py --quick    # 100 cases x 200 draws; naive loop on 2 draws x 10 cases
    python benchmarks/bench_intervals.py --one-case # only the one-case section (1,000 draws; pyAgrum on 5)

Cases are sampled from the bundled network (as in ``bench_batch.py``) with about half of the cells
blanked. Measures

1. ``infer_batch(cases, interval=0.9, draws=D, seed=...)``: wall time of the whole call (drawing
   the parameters, expanding the tables, compiling each group of draws, scoring every case under
   every draw, the percentiles), median of 3 runs;
2. the naive loop on a subsample: for each of a few of the same draws, rebuild the model from the
   drawn parameters (expand every node's table, build the pgmpy network: ``Model``) and run one
   pgmpy ``VariableElimination`` query per case. Its time per draw (rebuild + per-case queries
   scaled to all cases) times D is what the naive loop would take for the whole job; the ratio of
   the two totals is reported (target >= 50x);
3. agreement: on the subsample, each draw's posteriors from the engine equal the naive loop's
   within 1e-9.

One case (``--one-case``, also part of the default run): ``m.infer(case, interval=0.9, draws=1000,
seed=...)`` for one case of three findings, median of 3 runs, against the naive pyAgrum loop: the
pyAgrum network is built once (``bench_networks.pyagrum_network``), then for each of a few draws every
node's table of that draw is computed (``node_values``, the whole model), every CPT is refilled, a new
``LazyPropagation`` gets the case's evidence plus ``m.population``, ``makeInference`` runs and the
reported nodes' posteriors are read; its time per draw times 1,000 is the naive total (target ratio
>= 50x). Each of those draws' posteriors from the engine (``draw_posteriors`` on the pruned model, as
``infer`` scores them) must equal pyAgrum's within 1e-9.

Not part of the pytest suite. Exit code 0, or 1 if the engines disagree by more than 1e-9.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import numpy as np
import pandas as pd
from bench_batch import make_cases, ve_posteriors

TOLERANCE = 1e-9
TARGET_RATIO = 50.0


def naive_draw(m, parameters, values, frame):
    """One draw the naive way: rebuild the model from the drawn values, one VE query per case.

    Returns (posteriors, seconds to rebuild, seconds per query).
    """
    from model import Model
    from model.analysis.parameters import node_values
    from model.priors.forms import NodeTable
    from model.network import VariableElimination

    start = time.perf_counter()
    tables = node_values(parameters, m, values[None, :])
    node_tables = {}
    for node, t in m._priors.node_tables.items():
        node_tables[node] = NodeTable(node, t.states, t.parents, t.parent_states, np.array(tables[node][0]))
    variant = Model(dataclasses.replace(m._priors, node_tables=node_tables))
    ve = VariableElimination(variant.network)
    rebuild = time.perf_counter() - start
    posteriors, times = ve_posteriors(ve, variant, frame)
    return posteriors, rebuild, statistics.mean(times)


ONE_CASE = {"pain_burning": "yes", "low_back_pain": "no", "sitting_effect": "dominant"}


def refill(bn, m, tables, d):
    """Every CPT of the pyAgrum network ``bn`` filled with draw ``d`` of ``tables`` ({node: (draws, states,
    configurations)}); pyAgrum's array of a CPT has the axes of its variables (node, then parents) reversed."""
    for node, t in m._priors.node_tables.items():
        cube = np.asarray(tables[node][d]).reshape((len(t.states),) + tuple(len(s) for s in t.parent_states))
        bn.cpt(node).fillWith(np.transpose(cube, list(range(len(t.parents), 0, -1)) + [0]).ravel().tolist())


def pyagrum_draw(gum, bn, m, parameters, values, evidence):
    """One draw the naive pyAgrum way: the draw's node tables, every CPT refilled, a new LazyPropagation with
    the evidence, makeInference, the reported nodes' posteriors read.

    Returns (P(not the reference state) per reported node, seconds for the tables, the refill, the inference).
    """
    from model.analysis.parameters import node_values

    start = time.perf_counter()
    tables = node_values(parameters, m, values[None, :])
    made = time.perf_counter()
    refill(bn, m, tables, 0)
    filled = time.perf_counter()
    engine = gum.LazyPropagation(bn)  # a new engine: one kept across refills would not see the new tables
    engine.setEvidence(evidence)
    engine.makeInference()
    posteriors = np.array([1.0 - engine.posterior(n)[{n: m._states[n][0]}] for n in m._reported])
    done = time.perf_counter()
    return posteriors, made - start, filled - made, done - filled


def one_case(m, draws, naive_draws, seed):
    """The one-case section: ``m.infer(ONE_CASE, interval=0.9, draws=draws)`` against the naive pyAgrum loop.
    Returns the largest difference between the engine's and pyAgrum's posteriors over the naive draws."""
    import pyagrum as gum
    from bench_networks import pyagrum_network

    from model.analysis.intervals import draw_parameters, evidence_frame
    from model.analysis.parameters import model_parameters, node_values
    from model.engine.draws import draw_posteriors
    from model.engine.pruning import observed_columns, pruned_model, relevant_nodes

    frame = evidence_frame(ONE_CASE)
    small = pruned_model(m, relevant_nodes(m, observed_columns(frame)))
    start = time.perf_counter()
    m.infer(ONE_CASE, interval=0.9, draws=draws, seed=seed + 1)  # the first call also prunes and compiles
    first = time.perf_counter() - start
    walls = []
    for _ in range(3):
        start = time.perf_counter()
        result = m.infer(ONE_CASE, interval=0.9, draws=draws, seed=seed)
        walls.append(time.perf_counter() - start)
    ours = statistics.median(walls)
    assert result[["median", "low", "high"]].notna().all().all()

    start = time.perf_counter()
    bn = pyagrum_network(gum, m)
    built = time.perf_counter() - start
    parameters = model_parameters(m)
    before = {n: bn.cpt(n).toarray().copy() for n in m._states}
    refill(bn, m, {n: t.values[None] for n, t in m._priors.node_tables.items()}, 0)  # the fill order is right
    assert all(np.array_equal(bn.cpt(n).toarray(), before[n]) for n in m._states)
    values = draw_parameters(m, draws, seed)  # the draws infer used (same seed)
    evidence = {**ONE_CASE, **m.population}
    pyagrum_draw(gum, bn, m, parameters, values[0], evidence)  # warm-up
    parts, worst = [], 0.0
    for d in range(naive_draws):
        theirs, *seconds = pyagrum_draw(gum, bn, m, parameters, values[d], evidence)
        parts.append(seconds)
        (_, _, engine), = draw_posteriors(small, frame[list(ONE_CASE)],
                                          lambda a, b, d=d: node_values(parameters, m, values[d:d + 1]), 1)
        worst = max(worst, float(np.abs(engine[0, 0] - theirs).max()))
    tables, refills, inference = (statistics.mean(p) for p in zip(*parts))
    per_draw = tables + refills + inference
    print(f"\n4. one case, {len(ONE_CASE)} findings ({', '.join(f'{k}={v}' for k, v in ONE_CASE.items())}): "
          f"m.infer(case, interval=0.9, draws={draws:,})")
    print(f"   nodes scored: {len(small._states)} of {len(m._states)} (barren nodes pruned)")
    print(f"   wall time {ours:.2f} s, median of 3 (runs: {', '.join(f'{w:.2f}' for w in walls)}); "
          f"first call {first:.2f} s; {ours / draws * 1e3:.2f} ms per draw")
    print(f"\n5. naive pyAgrum loop, measured on {naive_draws} draws (network built once, "
          f"cell by cell: {built:.1f} s, not counted)")
    print(f"   node tables of the draw (node_values): {tables * 1e3:8.1f} ms (mean)")
    print(f"   refill every CPT (fillWith)         : {refills * 1e3:8.1f} ms (mean)")
    print(f"   LazyPropagation + read posteriors   : {inference * 1e3:8.1f} ms (mean)")
    print(f"   per draw                            : {per_draw * 1e3:8.1f} ms")
    naive_total = draws * per_draw
    ratio = naive_total / ours
    print(f"   whole job ({draws:,} draws)            : {naive_total:8.1f} s (estimated from the per-draw time)")
    print(f"   ratio naive / infer                 : {ratio:,.0f}x   target >= {TARGET_RATIO:.0f}x: "
          f"{'OK' if ratio >= TARGET_RATIO else 'BELOW TARGET'}")
    print(f"\n6. max |P(present) engine - pyAgrum| over {naive_draws} draws x {len(m._reported)} nodes: {worst:.3e}"
          f"   (tolerance {TOLERANCE:g}: {'OK' if worst <= TOLERANCE else 'FAIL'})")
    return worst


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 200 draws, a smaller naive subsample")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--draws", type=int, help="parameter draws (default 1,000; quick 200)")
    parser.add_argument("--naive-draws", type=int, help="draws of the naive loop (default 5; quick 2)")
    parser.add_argument("--naive-cases", type=int, help="cases of the naive loop (default 20; quick 10)")
    parser.add_argument("--one-case", action="store_true", help="only the one-case section (4-6)")
    args = parser.parse_args(argv)
    n, draws = args.cases, args.draws or (200 if args.quick else 1000)
    naive_draws = args.naive_draws or (2 if args.quick else 5)
    naive_cases = min(n, args.naive_cases or (10 if args.quick else 20))

    import pgmpy

    from model import load_model
    from model.analysis.intervals import draw_parameters
    from model.analysis.parameters import model_parameters, node_values
    from model.engine import infer_batch
    from model.engine.draws import draw_posteriors

    print(f"bench_intervals {'(quick) ' if args.quick else ''}"
          f"{datetime.datetime.now().astimezone().isoformat(timespec='seconds')}")
    print(f"python {platform.python_version()}, pgmpy {pgmpy.__version__}, numpy {np.__version__}, "
          f"pandas {pd.__version__}; {platform.platform()}, {os.cpu_count()} CPUs; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    m = load_model()
    print(f"\nmodel: {m!r}")
    if args.one_case:
        worst = one_case(m, args.draws or 1000, args.naive_draws or 5, args.seed)
        return 0 if worst <= TOLERANCE else 1
    cases = make_cases(m, n, args.seed)
    print(f"cases: {n:,} sampled from the model (seed {args.seed}), {cases.shape[1]} columns, "
          f"{float(cases.isna().to_numpy().mean()):.1%} of cells missing; {draws:,} parameter draws")

    infer_batch(cases.iloc[:5], priors=m, interval=0.9, draws=20, seed=1, progress=False)  # warm-up
    walls = []
    for _ in range(3):
        start = time.perf_counter()
        result = infer_batch(cases, priors=m, interval=0.9, draws=draws, seed=args.seed, progress=False)
        walls.append(time.perf_counter() - start)
    ours = statistics.median(walls)
    assert not result.isna().any(axis=None)

    parameters = model_parameters(m)
    values = draw_parameters(m, draws, args.seed)  # the draws infer_batch used (same seed)
    frame = cases.iloc[:naive_cases]
    rebuilds, queries, worst = [], [], 0.0
    naive_draw(m, parameters, values[0], frame.iloc[:2])  # warm-up
    for d in range(naive_draws):
        naive, rebuild, query = naive_draw(m, parameters, values[d], frame)
        rebuilds.append(rebuild)
        queries.append(query)
        (_, _, engine), = draw_posteriors(m, frame, lambda a, b, d=d: node_values(parameters, m, values[d:d + 1]),
                                           1)
        worst = max(worst, float(np.abs(engine[0] - naive).max()))
    per_draw = statistics.mean(rebuilds) + n * statistics.mean(queries)
    naive_total = draws * per_draw

    print(f"\n1. infer_batch(interval=0.9, draws={draws:,}) on {n} cases (median of 3 runs)")
    print(f"   wall time {ours:.2f} s (runs: {', '.join(f'{w:.2f}' for w in walls)}); "
          f"{ours / (n * draws) * 1e6:.1f} us per case and draw")
    print(f"\n2. naive loop, measured on {naive_draws} draws x {naive_cases} cases")
    print(f"   rebuild the model per draw       : {statistics.mean(rebuilds) * 1e3:8.1f} ms (mean)")
    print(f"   one VE query per case            : {statistics.mean(queries) * 1e3:8.2f} ms (mean)")
    print(f"   per draw for {n} cases          : {per_draw:8.3f} s = rebuild + {n} x query")
    print(f"   whole job ({draws:,} draws)        : {naive_total:8.1f} s (estimated from the per-draw time)")
    ratio = naive_total / ours
    print(f"   ratio naive / infer_batch        : {ratio:,.0f}x   target >= {TARGET_RATIO:.0f}x: "
          f"{'OK' if ratio >= TARGET_RATIO else 'BELOW TARGET'}")
    print(f"\n3. max |P(present) engine - naive| over {naive_draws} draws x {naive_cases} cases x "
          f"{len(m._reported)} nodes: {worst:.3e}   (tolerance {TOLERANCE:g}: {'OK' if worst <= TOLERANCE else 'FAIL'})")
    worst = max(worst, one_case(m, args.draws or 1000, args.naive_draws or (2 if args.quick else 5), args.seed))
    return 0 if worst <= TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main())
