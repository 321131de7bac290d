#!/usr/bin/env python
"""Next question: ``next_questions`` against the naive loop of pgmpy ``VariableElimination`` queries.

Run from anywhere (the repository root is put on ``sys.path``)::

    python benchmarks/bench_questions.py            # 20 runs of next_questions, 3 of the loop, per case
    python benchmarks/bench_questions.py --quick    # 5 and 1

For a few realistic evidence sets (hard and soft evidence, with and without a target cause) both
rank every candidate question (every finding and risk factor not in the evidence) on the bundled
network, side by side in one run:

1. ``next_questions(evidence, priors=m)``: median wall time of the runs (the model loaded
   beforehand; nothing is cached between calls);
2. the naive loop: for each candidate, one pgmpy joint query of the free causes and complications
   and the candidate given the evidence (``VariableElimination`` built once outside the timings;
   rebuilt per query when there is soft evidence, as ``Model.infer`` does, because pgmpy rewires
   it for virtual evidence), then the mutual information and the expected change of the top cause
   computed from that joint table by their definitions.

Prints the per-case times and their ratio (target >= 20x) and the largest difference of
``info_gain`` and ``expected_change_top`` between the two (must be <= 1e-9). Not part of the pytest
suite. Exit code 0, or 1 if they disagree by more than 1e-9.
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

import numpy as np
import pandas as pd

TOLERANCE = 1e-9
TARGET_RATIO = 20.0
CASES = [  # (name, evidence, target)
    ("nothing observed yet", {}, None),
    ("the article's question", {"pain_burning": "yes", "low_back_pain": "no", "sitting_effect": "dominant"}, None),
    ("PFCN in a cyclist", {"pain_burning": "yes", "low_back_pain": "no", "sitting_effect": "dominant",
                           "groin_perineal_radiation": "yes", "avid_cyclist": "yes"}, None),
    ("sciatica, soft back pain", {"pain_below_knee": "yes", "slr_positive": "yes", "age_group": "40_59",
                                  "low_back_pain": {"no": 0.3, "yes": 1.0}, "paraesthesia_numbness": "yes"}, None),
    ("red flags, older patient", {"saddle_anaesthesia": "yes", "cancer_history": "yes", "age_group": "60_plus",
                                  "constant_progressive_pain": "yes"}, None),
    ("target: deep gluteal", {"buttock_pain": "yes", "low_back_pain": "no", "sitting_effect": "aggravates",
                              "hamstring_injury_history": "yes"}, "deep_gluteal_syndrome"),
]


def naive_ranking(m, evidence, target):
    """info_gain and expected_change_top of every candidate, one pgmpy joint query per candidate."""
    from model.network import VariableElimination, likelihood_factor

    hard, soft = m.check_evidence(evidence)
    free = [c for c in [*m.causes, *m.complications] if c not in hard]  # as next_questions: causes and complications
    about = free if target is None else [target]
    candidates = [n for n in m.nodes.index if m.nodes.at[n, "role"] in ("finding", "risk_factor")
                  and n not in hard and n not in soft]
    network = m.network
    shared = VariableElimination(network)
    virtual = [likelihood_factor(n, m.states(n), soft[n]) for n in soft]
    info, change, top = {}, {}, None
    for node in candidates:
        query = free + [node] if target is None else sorted({*free, target}, key=free.index) + [node]
        if soft:
            factor = VariableElimination(network).query(query, evidence=hard, virtual_evidence=virtual, joint=True,
                                                        show_progress=False)
        else:
            factor = shared.query(query, evidence=hard, joint=True, show_progress=False)
        table = factor.values.transpose([factor.variables.index(v) for v in query])
        table = table / table.sum()
        p_causes = table.sum(axis=-1)
        present = {c: 1.0 - p_causes.take(0, axis=i).sum() for i, c in enumerate(free)}
        top = target if target is not None else max((c for c in free if c in m.causes), key=present.get)
        pair = table.sum(axis=tuple(i for i, c in enumerate(free) if c not in about)).reshape(-1, table.shape[-1])
        outer = pair.sum(axis=1, keepdims=True) * pair.sum(axis=0, keepdims=True)
        nonzero = pair > 0
        info[node] = float(np.sum(pair[nonzero] * np.log2(pair[nonzero] / outer[nonzero])))
        axis = free.index(top)
        with_top = np.moveaxis(table, axis, 0)[1:].reshape(-1, table.shape[-1]).sum(axis=0)
        p_answer = table.reshape(-1, table.shape[-1]).sum(axis=0)
        change[node] = float(np.abs(with_top - p_answer * present[top]).sum())
    return pd.DataFrame({"info_gain": info, "expected_change_top": change}), top


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs")
    args = parser.parse_args(argv)
    runs, naive_runs = (5, 1) if args.quick else (20, 3)

    import pgmpy

    from model import load_model
    from model.analysis.questions import next_questions

    print(f"bench_questions {'(quick) ' if args.quick else ''}"
          f"{datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}")
    print(f"python {platform.python_version()}, pgmpy {pgmpy.__version__}, numpy {np.__version__}, "
          f"pandas {pd.__version__}; {platform.platform()}, {os.cpu_count()} CPUs; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    m = load_model()
    print(f"\nmodel: {m!r}")
    next_questions({}, priors=m)  # warm-up: imports, first numpy calls
    naive_ranking(m, {}, None)
    print(f"\n{'evidence':<28}{'questions':>10}{'next_questions':>16}{'naive VE loop':>16}{'ratio':>9}"
          f"{'max |diff|':>12}  top")
    fast_total = slow_total = worst = 0.0
    ratios = []
    for name, evidence, target in CASES:
        walls = []
        for _ in range(runs):
            start = time.perf_counter()
            ranked = next_questions(evidence, target=target, priors=m)
            walls.append(time.perf_counter() - start)
        slow = []
        for _ in range(naive_runs):
            start = time.perf_counter()
            reference, top = naive_ranking(m, evidence, target)
            slow.append(time.perf_counter() - start)
        fast, naive = statistics.median(walls), statistics.median(slow)
        diff = float(np.abs(ranked[reference.columns].loc[reference.index] - reference).to_numpy().max())
        worst = max(worst, diff, 0.0 if ranked.attrs["top_cause"] == top else np.inf)
        fast_total, slow_total = fast_total + fast, slow_total + naive
        ratios.append(naive / fast)
        print(f"{name:<28}{len(ranked):>10}{fast * 1e3:>13.2f} ms{naive * 1e3:>13.1f} ms{naive / fast:>8.0f}x"
              f"{diff:>12.1e}  {top}")
    ratio = min(ratios)
    print(f"\nall cases: next_questions {fast_total * 1e3:.1f} ms, naive loop {slow_total * 1e3:.1f} ms")
    print(f"ratio naive / next_questions: {slow_total / fast_total:.0f}x over all cases (sum of medians), "
          f"{ratio:.0f}x in the slowest case   target >= {TARGET_RATIO:.0f}x in every case: "
          f"{'OK' if ratio >= TARGET_RATIO else 'MISSED'}")
    print(f"max |info_gain or expected_change_top difference|: {worst:.3e}   (tolerance {TOLERANCE:g}: "
          f"{'OK' if worst <= TOLERANCE else 'FAILED'})")
    return 0 if worst <= TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main())
