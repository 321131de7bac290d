#!/usr/bin/env python
"""Batch inference: ``infer_batch`` against a loop of pgmpy ``VariableElimination`` queries, side by side.

Run from anywhere (the repository root is put on ``sys.path``)::

    python benchmarks/bench_batch.py            # 4,000 cases, 300 VE cases, 200,000-case memory run
    python benchmarks/bench_batch.py --quick    # 1,000 cases, 60 VE cases, 20,000-case memory run

Cases are drawn from the bundled network itself (forward sampling, seeded, kept only when the population
node has its population state, so every case belongs to the population the model describes); then each
case observes a random 10-40% of the risk factors and findings (the others are NaN = not observed). The
population's own nodes are not columns: the model observes them in every row.

Measures

1. ``infer_batch`` on N cases (plan compiled beforehand; the compile time is shown apart):
   median (and fastest) wall time of 5 runs, per case, and CPU time per case;
2. pgmpy ``VariableElimination(m.network).query`` on a subsample (the engine built once, outside
   the timings), one query per case with the case's evidence and the population's: per-case wall
   time; then the ratio of per-case times, and the largest difference of P(present) over the
   subsample (must be <= 1e-9); for scale, ``Model.infer`` (the package's one-case path, checks and
   prior included) on a few cases;
3. in a subprocess, ``infer_batch`` on many cases (categorical columns, so the input frame
   itself stays small): wall time, tracemalloc peak of the call, and the process's peak resident
   memory (imports and input frame included), against a 1 GiB target. Memory does not grow with the
   number of cases beyond the input and output frames: the cases are evaluated chunk by chunk;
4. the hand-written floor of ``floor.py`` (one log-space matrix product over the 2^15 cause
   configurations, one exponential, one matrix product for the marginals), ``infer_batch`` and pgmpy
   VE on the floor's sub-task: the same cases keeping only the findings with causes only as parents.
   It prints infer_batch / floor (target <= 3x) and VE / floor: what exact enumeration of the
   causes' joint can reach against VE at best (the 100x target of section 2).

Not part of the pytest suite. Exit code 0, or 1 if the engines disagree by more than 1e-9.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # floor.py, beside this script
    sys.path.insert(0, str(HERE))
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

TOLERANCE = 1e-9
TARGET_RATIO = 100.0
TARGET_MEMORY = 2**30


def make_cases(m, n, seed, observe=(0.1, 0.4), dtype="str"):
    """``n`` cases sampled from the model in its population; each case observes a fraction of its risk
    factors and findings drawn uniformly from ``observe``, the other cells are missing.

    ``dtype`` "str" gives text columns (as read from a CSV file), "category" categorical ones.
    """
    from model.learning.cohort import simulate

    cohort = simulate(m, n, seed=seed)  # forward sampling within the population
    codes = {node: pd.Categorical(cohort[node], categories=m.states(node)).codes for node in cohort.columns}
    rng = np.random.default_rng(seed + 1)
    share = rng.uniform(*observe, size=n)
    data = {}
    for node in (x for x in m.nodes.index if x not in m._reported and x not in m.population):
        states = list(m.states(node))
        cells = np.where(rng.random(n) < share, codes[node], -1)
        if dtype == "category":
            data[node] = pd.Categorical.from_codes(cells, categories=states)
        else:
            data[node] = pd.Series(np.array(states + [None], dtype=object)[cells], dtype=dtype)
    return pd.DataFrame(data)


def _rss_now():
    """Current resident memory of this process, in bytes (Linux), else the peak so far."""
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS:"))
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def ve_posteriors(ve, m, frame):
    """P(present) of every cause and complication by one pgmpy query per case, and the seconds per query."""
    reported = list(m._reported)
    out, times = np.empty((len(frame), len(reported))), []
    for i, row in enumerate(frame.to_dict("records")):
        evidence = {k: v for k, v in row.items() if isinstance(v, str)}
        evidence.update(m.population)
        query = [n for n in reported if n not in evidence]
        start = time.perf_counter()
        result = ve.query(variables=query, evidence=evidence, joint=False, show_progress=False)
        times.append(time.perf_counter() - start)
        for j, node in enumerate(reported):
            factor = result[node]
            out[i, j] = 1.0 - factor.values[factor.state_names[node].index(m.states(node)[0])]
    return out, times


def infer_times(m, frame):
    """Seconds per ``Model.infer`` call (the package's one-case path), one call per case."""
    times = []
    for row in frame.to_dict("records"):
        evidence = {k: v for k, v in row.items() if isinstance(v, str)}
        start = time.perf_counter()
        m.infer(evidence)
        times.append(time.perf_counter() - start)
    return times


def memory_run(n, seed):
    """Child process: infer_batch on ``n`` cases; prints wall time, tracemalloc peak and max RSS."""
    import tracemalloc

    from model import load_model
    from model.engine import compiled_plan, infer_batch

    m = load_model()
    compiled_plan(m)
    cases = make_cases(m, n, seed, dtype="category")  # 1 byte a cell: the input frame stays small
    frame_bytes = int(cases.memory_usage(deep=True).sum())
    import gc

    gc.collect()
    rss_before = _rss_now()
    tracemalloc.start()
    start = time.perf_counter()
    result = infer_batch(cases, priors=m, progress=False)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    assert result.shape == (n, len(m._reported)) and not result.isna().any(axis=None)
    print(f"{elapsed} {peak} {rss} {rss_before} {frame_bytes}")


def floor_section(m, cases, n_ve, ve):
    """Section 4: the hand-written floor of ``floor.py`` against ``infer_batch`` and pgmpy VE on the floor's
    sub-task (the same cases, keeping only findings with causes only as parents). True when they agree."""
    from floor import Floor

    start = time.perf_counter()
    floor = Floor(m)
    built = time.perf_counter() - start
    sub = cases.copy()
    for column in sub.columns:
        if column not in floor.findings:
            sub[column] = None
    x = floor.one_hot(m, sub)
    floor.posteriors(x[:, :100])  # warm-up
    infer_batch_sub = m.infer_batch(sub.iloc[:100])  # warm-up
    walls, ours = [], []
    for _ in range(5):  # alternate, so that both share the machine's noise
        start = time.perf_counter()
        out = floor.posteriors(x)
        walls.append(time.perf_counter() - start)
        start = time.perf_counter()
        infer_batch_sub = m.infer_batch(sub)
        ours.append(time.perf_counter() - start)
    n = len(sub)
    per_floor, per_ours = statistics.median(walls) / n, statistics.median(ours) / n
    reference, ve_times = ve_posteriors(ve, m, sub.iloc[:n_ve])
    per_ve = statistics.median(ve_times)
    diff = max(float(np.abs(infer_batch_sub[floor.reported].to_numpy() - out).max()),
               float(np.abs(reference - out[:n_ve]).max()))
    print(f"\n4. The hand-written floor (floor.py), on its sub-task: the same {n:,} cases keeping only the "
          f"{len(floor.findings)} findings with causes only as parents ({x.sum(axis=0).mean():.1f} observations a "
          f"case, the population's included); tables built in {built:.1f} s")
    print(f"{'engine':<48}{'cases':>10}{'per case':>14}")
    print("-" * 72)
    print(f"{'floor (median of 5 runs)':<48}{n:>10,}{per_floor * 1e6:>11.1f} us")
    print(f"{'infer_batch (median of 5 runs)':<48}{n:>10,}{per_ours * 1e6:>11.1f} us")
    print(f"{'pgmpy VariableElimination.query, one per case':<48}{n_ve:>10,}{per_ve * 1e6:>11.0f} us  (median)")
    print(f"ratio infer_batch / floor: {per_ours / per_floor:.2f}x   target <= 3x: "
          f"{'OK' if per_ours <= 3 * per_floor else 'ABOVE TARGET'}")
    print(f"ratio VE / floor: {per_ve / per_floor:,.0f}x (what the floor itself reaches against the {TARGET_RATIO:.0f}x "
          f"target); VE / infer_batch on the sub-task: {per_ve / per_ours:,.0f}x")
    print(f"max |P(present)| difference, floor against infer_batch and VE: {diff:.3e}   (tolerance {TOLERANCE:g}: "
          f"{'OK' if diff <= TOLERANCE else 'MISMATCH'})")
    return diff <= TOLERANCE


def _mib(x):
    return f"{x / 2**20:,.0f} MiB"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: fewer cases")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--cases", type=int, help="infer_batch cases (default 4,000; quick 1,000)")
    parser.add_argument("--ve-cases", type=int, help="pgmpy VE subsample (default 300; quick 60)")
    parser.add_argument("--infer-cases", type=int, help="Model.infer subsample (default 10; quick 3)")
    parser.add_argument("--memory-cases", type=int, help="cases of the memory run (default 200,000; quick 20,000)")
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        memory_run(args.memory_child, args.seed)
        return 0
    n = args.cases or (1_000 if args.quick else 4_000)
    n_ve = min(n, args.ve_cases or (60 if args.quick else 300))
    n_infer = min(n, args.infer_cases or (3 if args.quick else 10))
    n_memory = args.memory_cases or (20_000 if args.quick else 200_000)

    import pgmpy

    from model import load_model
    from model.engine import compiled_plan, infer_batch
    from model.network import VariableElimination

    print(f"bench_batch {'(quick) ' if args.quick else ''}"
          f"{datetime.datetime.now().astimezone().isoformat(timespec='seconds')}")
    print(f"python {platform.python_version()}, pgmpy {pgmpy.__version__}, numpy {np.__version__}, "
          f"pandas {pd.__version__}; {platform.platform()}, {os.cpu_count()} CPUs; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    m = load_model()
    start = time.perf_counter()
    compiled_plan(m)
    compile_time = time.perf_counter() - start
    cases = make_cases(m, n, args.seed)
    missing = float(cases.isna().to_numpy().mean())
    print(f"\nmodel: {m!r}")
    print(f"cases: {n:,} sampled from the model in its population (seed {args.seed}), {cases.shape[1]} columns, "
          f"10-40% of each case's cells observed ({1 - missing:.1%} overall); plan compiled once in "
          f"{compile_time * 1e3:.0f} ms")

    infer_batch(cases.iloc[:100], priors=m, progress=False)  # warm-up
    walls, cpus = [], []
    for _ in range(5):
        start, cpu = time.perf_counter(), time.process_time()
        result = infer_batch(cases, priors=m, progress=False)
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    batch = statistics.median(walls) / n

    sub = cases.iloc[:n_ve]
    ve = VariableElimination(m.network)
    ve_posteriors(ve, m, sub.iloc[:5])  # warm-up
    reference, ve_times = ve_posteriors(ve, m, sub)
    per_ve = statistics.median(ve_times)
    diff = float(np.abs(result.iloc[:n_ve].to_numpy() - reference).max())
    m.infer(dict(cases.iloc[0].dropna()))  # warm-up
    per_infer = statistics.median(infer_times(m, cases.iloc[:n_infer]))

    print("\n1-2. Per-case time, bundled network")
    print(f"{'engine':<48}{'cases':>10}{'total':>12}{'per case':>14}")
    print("-" * 84)
    print(f"{'infer_batch (median of 5 runs)':<48}{n:>10,}{statistics.median(walls):>11.3f}s{batch * 1e6:>11.2f} us")
    print(f"{'  fastest of the 5 runs':<48}{n:>10,}{min(walls):>11.3f}s{min(walls) / n * 1e6:>11.2f} us")
    print(f"{'  CPU time (process_time, median)':<48}{n:>10,}{statistics.median(cpus):>11.3f}s"
          f"{statistics.median(cpus) / n * 1e6:>11.2f} us")
    print(f"{'pgmpy VariableElimination.query, one per case':<48}{n_ve:>10,}{sum(ve_times):>11.3f}s"
          f"{per_ve * 1e6:>11.0f} us  (median; mean {statistics.mean(ve_times) * 1e6:,.0f} us)")
    print(f"{'Model.infer, one per case (checks, prior)':<48}{n_infer:>10,}"
          f"{per_infer * n_infer:>11.3f}s{per_infer * 1e6:>11.0f} us  (median)")
    ratio = per_ve / batch
    print(f"ratio VE / infer_batch per case: {ratio:,.0f}x   target >= {TARGET_RATIO:.0f}x: "
          f"{'OK' if ratio >= TARGET_RATIO else 'BELOW TARGET'}")
    print(f"ratio Model.infer / infer_batch per case: {per_infer / batch:,.0f}x")
    agree = diff <= TOLERANCE
    print(f"max |P(present) infer_batch - VE| over {n_ve} cases x {len(m._reported)} nodes: {diff:.3e}   "
          f"(tolerance {TOLERANCE:g}: {'OK' if agree else 'MISMATCH'})")

    child = subprocess.run([sys.executable, __file__, "--memory-child", str(n_memory), "--seed", str(args.seed)],
                           capture_output=True, text=True, cwd=ROOT, check=False)
    if child.returncode:
        print(child.stdout, child.stderr)
        return 1
    elapsed, peak, rss, rss_before, frame_bytes = map(float, child.stdout.split()[-5:])
    print(f"\n3. Memory, {n_memory:,} cases in a subprocess (categorical columns; tracemalloc on)")
    print(f"infer_batch wall time                  : {elapsed:.1f} s ({elapsed / n_memory * 1e6:.2f} us per case)")
    print(f"tracemalloc peak during infer_batch    : {_mib(peak)}")
    print(f"input frame (memory_usage deep)        : {_mib(frame_bytes)}")
    print(f"process RSS before the call / peak RSS : {_mib(rss_before)} / {_mib(rss)}   target <= 1 GiB: "
          f"{'OK' if rss <= TARGET_MEMORY else 'ABOVE TARGET'}")
    floor_ok = floor_section(m, cases, n_ve, ve)
    return 0 if agree and floor_ok else 1


if __name__ == "__main__":
    sys.exit(main())
