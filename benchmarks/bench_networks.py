#!/usr/bin/env python
"""``Model.infer`` on the bnlearn networks that ship with pgmpy, against pyAgrum, side by side.

Run from anywhere (the repository root is put on ``sys.path``)::

    python benchmarks/bench_networks.py                    # andes pigs water munin
    python benchmarks/bench_networks.py asia alarm link    # any of pgmpy's example networks

For each network: import it into a priors folder (``network_to_tables``), load it, choose the evidence
as a path of most probable states (each node in turn set to its most probable state given the earlier
ones, by pyAgrum: so the evidence is possible), then time one ``Model.infer`` (the junction tree, after
one untimed call that compiles it) and one pyAgrum ``LazyPropagation`` inference with every posterior
read, on a pyAgrum network whose tables are filled cell by cell from the model's. Prints the largest
difference of P(not the reference state) over the reported nodes (tolerance 1e-9; exit code 1 above).

With ``--batch N``, also ``infer_batch`` on N cases drawn from the network by pyAgrum's sampler, each cell
kept with probability 0.2 (reported nodes never): the first call's time (choosing the engine and
compiling it), a second call's time per case, and which engine scored the rows (the batch plan or the
junction tree one case at a time, or the cases calibrated together on it: ``model.engine.run.scorer``),
against a pyAgrum loop over the same cases (set the evidence, infer, read every posterior)::

    python benchmarks/bench_networks.py --batch 20 asia child alarm water andes

When pyAgrum fails (it runs out of memory on link), the network's line says so and times ours alone, on
cases sampled by pgmpy.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from itertools import product
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

TOLERANCE = 1e-9


def pyagrum_network(gum, m):
    bn = gum.BayesNet()
    for node, states in m._states.items():
        bn.add(gum.LabelizedVariable(node, node, list(states)))
    for node, table in m._priors.node_tables.items():
        for parent in table.parents:
            bn.addArc(parent, node)
    for node, table in m._priors.node_tables.items():
        for column, config in enumerate(product(*table.parent_states)):
            bn.cpt(node)[dict(zip(table.parents, config))] = list(table.values[:, column])
    return bn


def most_probable_path(engine, m, nodes, observed):
    """Evidence on ``observed`` random nodes (at most a third), each set in turn to its most probable state
    given the earlier ones, by pyAgrum (so the evidence is possible)."""
    evidence = {}
    for node in np.random.default_rng(0).choice(nodes, size=min(observed, len(nodes) // 3), replace=False):
        engine.setEvidence(evidence)
        engine.makeInference()
        evidence[str(node)] = m._states[str(node)][int(np.argmax(engine.posterior(str(node)).toarray()))]
    return evidence


def bench_alone(m, name, n):
    """``Model.infer`` and ``infer_batch`` without a peer (pyAgrum failed): ``n`` cases sampled by pgmpy, 20% of
    cells kept (reported nodes never); the first row is the single case."""
    from pgmpy.sampling import BayesianModelSampling

    sample = BayesianModelSampling(m.network).forward_sample(size=n, seed=1, show_progress=False)
    keep = np.random.default_rng(1).random(sample.shape) < 0.2
    cases = sample.astype(object).where(keep)[[c for c in sample.columns if c not in m._reported]]
    cases = cases.reset_index(drop=True)
    row = {k: v for k, v in cases.iloc[0].items() if isinstance(v, str)}
    start = time.perf_counter()
    m.infer(row)
    first = time.perf_counter() - start
    start = time.perf_counter()
    m.infer(row)
    one = time.perf_counter() - start
    start = time.perf_counter()
    m.infer_batch(cases)
    batch_first = time.perf_counter() - start
    start = time.perf_counter()
    m.infer_batch(cases)
    batch = (time.perf_counter() - start) / n
    print(f"{name:10s} first infer {first:6.2f} s, infer {one * 1e3:8.1f} ms ({len(row)} observed); batch of {n}: "
          f"first call {batch_first:6.2f} s, then {batch * 1e3:8.2f} ms/case", flush=True)


def bench_batch(gum, m, bn, engine, name, n):
    """``infer_batch`` on ``n`` sampled cases against a pyAgrum loop; prints one line, returns the largest
    difference."""
    import pandas as pd

    from model.engine.run import scorer, seen_shares
    from model.engine.single import TreeRows
    from model.engine.tree_batch import TreeBatch

    generator = gum.BNDatabaseGenerator(bn)
    gum.initRandom(1)
    generator.drawSamples(n)
    sample = generator.to_pandas()
    keep = np.random.default_rng(1).random(sample.shape) < 0.2
    cases = sample.astype(object).where(keep)[[c for c in sample.columns if c not in m._reported]]
    cases = cases.reset_index(drop=True)
    start = time.perf_counter()
    m.infer_batch(cases)
    first = time.perf_counter() - start
    start = time.perf_counter()
    result = m.infer_batch(cases)
    ours = (time.perf_counter() - start) / n
    chosen = scorer(m, seen_shares(m, cases))
    kind = ("tree, cases together" if isinstance(chosen, TreeBatch) else "tree" if isinstance(chosen, TreeRows)
            else "plan")
    start, worst = time.perf_counter(), 0.0
    expected = []
    for _, row in cases.iterrows():
        engine.eraseAllEvidence()
        engine.setEvidence({k: str(v) for k, v in row.items() if isinstance(v, str)})
        engine.makeInference()
        expected.append({r: 1.0 - engine.posterior(r)[{r: m._states[r][0]}] for r in m._reported})
    theirs = (time.perf_counter() - start) / n
    worst = float(np.nanmax(np.abs(result[list(m._reported)].to_numpy(float) - pd.DataFrame(expected).to_numpy())))
    print(f"{name:10s} batch of {n}: first call {first:6.2f} s, then {ours * 1e3:8.2f} ms/case on the {kind}; "
          f"pyAgrum loop {theirs * 1e3:8.2f} ms/case; ratio {ours / theirs:6.2f}x; max diff {worst:.1e}", flush=True)
    return worst


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", default=["andes", "pigs", "water", "munin"])
    parser.add_argument("--observed", type=int, default=10, help="observed nodes per case (default 10)")
    parser.add_argument("--batch", type=int, default=0, help="also infer_batch on this many sampled cases")
    parser.add_argument("--memory-gb", type=float, default=16.0,
                        help="address-space limit of this process (pyAgrum then fails with bad_alloc on link "
                             "instead of the machine killing the run); 0: none")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    if args.memory_gb > 0:
        import resource

        limit = int(args.memory_gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import pgmpy
    import pyagrum as gum

    from model import load_model
    from model.interop import network_to_tables, read_network
    from model.priors import save_tables

    base = Path(pgmpy.__file__).parent / "utils" / "example_models"
    worst_all = 0.0
    for name in args.names:
        with tempfile.TemporaryDirectory() as folder:
            start = time.perf_counter()
            network = read_network(base / f"{name}.bif.gz", max_megabytes=200, max_entries=10**9)
            save_tables(network_to_tables(network, source=f"{name}.bif.gz"), os.path.join(folder, name))
            m = load_model(os.path.join(folder, name))
            loaded = time.perf_counter() - start
        bn = pyagrum_network(gum, m)
        engine = gum.LazyPropagation(bn)
        nodes = list(m._states)
        try:
            evidence = most_probable_path(engine, m, nodes, args.observed)
        except Exception as error:  # pyAgrum out of memory (bnlearn's link): our side alone, on sampled cases
            print(f"{name:10s} {len(nodes):5d} nodes  import+load {loaded:6.1f} s  pyAgrum failed ({error}); "
                  f"ours alone:", flush=True)
            bench_alone(m, name, max(args.batch, 1))
            continue
        start = time.perf_counter()
        m.infer(evidence)  # compiles the junction tree
        compiled = time.perf_counter() - start
        start = time.perf_counter()
        result = m.infer(evidence)
        ours = time.perf_counter() - start
        start = time.perf_counter()
        engine.setEvidence(evidence)
        engine.makeInference()
        expected = {n: 1.0 - engine.posterior(n)[{n: m._states[n][0]}] for n in m._reported if n not in evidence}
        theirs = time.perf_counter() - start
        worst = max((abs(result.at[n, "posterior"] - p) for n, p in expected.items()), default=0.0)
        worst_all = max(worst_all, worst)
        print(f"{name:10s} {len(nodes):5d} nodes  import+load {loaded:6.1f} s  first infer {compiled:6.2f} s  "
              f"infer {ours * 1e3:8.1f} ms  pyAgrum {theirs * 1e3:8.1f} ms  ratio {ours / theirs:6.2f}x  "
              f"max diff {worst:.1e}", flush=True)
        if args.batch:
            worst_all = max(worst_all, bench_batch(gum, m, bn, engine, name, args.batch))
    return 0 if worst_all <= TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main())
