#!/usr/bin/env python
"""Learning from incomplete data: ``model.fit`` against pgmpy's ``ExpectationMaximization`` and pyAgrum's
``BNLearner`` with EM, side by side in one run.

Run from anywhere (the repository root is put on ``sys.path``)::

    python benchmarks/bench_learning.py            # 5,000 training cases, 2,000 held out
    python benchmarks/bench_learning.py --quick    # 1,000 and 500

The network is bnlearn's asia (8 nodes, full CPTs, so every tool fits the same parameters), with a
plausible range given to every cell strictly between 0 and 1 (a third of the way to 0 and to 1:
``widened_asia`` of ``tests/test_learning.py``, whose ``perturbed`` and ``sample`` make the truth and
the cases). A "true" network draws every such cell within its range (columns
renormalised); training and held-out cases are forward-sampled from it (seeded), and 40% of their
cells are hidden at random. Each tool starts from the experts' network (its CPTs), learns from the
training cases, and is scored by the exact log-likelihood of the held-out cases (their recorded cells;
computed by this package's junction tree, which tests/test_learning.py checks against enumeration).

- ``model.fit``: the MAP with each cell's prior centred on the expert's value, its range as spread.
- pyAgrum ``BNLearner(..., template).useEM(1e-8)`` with the expert's CPTs as the EM start (missing
  cells read as ``?``), with and without a Dirichlet prior of weight 1 (``useSmoothingPrior``).
- pgmpy ``ExpectationMaximization``: it treats wholly unobserved columns as latent variables; cells
  missing at random are not in its model (given them, it reads each column's states from the observed
  cells and returns tables over those alone), so it runs on the complete rows only (listwise deletion),
  with its K2 smoothing (one pseudo-count per cell) so that unseen cells are not 0.
- the experts' network itself, unfitted.

None of the peers can learn the bundled network's canonical forms (noisy-OR links and leaks, relative
risks, logistic totals) from data: they fit full CPTs. Not part of the pytest suite.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for path in (ROOT, ROOT / "tests"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

def with_cpts(model, cpts, folder):
    """``model`` with its full CPTs replaced by ``cpts`` (node -> (states, parent configurations) array)."""
    changes = {}
    for name, frame in model.tables.items():
        if not name.startswith("cpts/"):
            continue
        node = name.split("/", 1)[1]
        table = model._priors.node_tables[node]
        frame = frame.copy()
        for row, r in frame.iterrows():
            column = 0
            for parent, states in zip(table.parents, table.parent_states):
                column = column * len(states) + states.index(r[parent])
            frame.at[row, "probability"] = float(cpts[node][table.states.index(r[node]), column])
        frame["low"] = np.minimum(frame["low"], frame["probability"])
        frame["high"] = np.maximum(frame["high"], frame["probability"])
        changes[name] = frame
    return model.with_tables(changes)


def pyagrum_fit(model, train, smoothing):
    """pyAgrum's BNLearner with EM from the experts' CPTs: the fitted CPTs, node -> (states, configurations)."""
    import pyagrum as gum

    bn = gum.BayesNet("asia")
    for node in model.nodes.index:
        bn.add(gum.LabelizedVariable(node, node, list(model.states(node))))
    tables = model._priors.node_tables
    for node, table in tables.items():
        for parent in table.parents:
            bn.addArc(parent, node)
    for node, table in tables.items():
        _fill(bn.cpt(node), node, table.parents, table.values)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "train.csv"
        train.fillna("?").to_csv(path, index=False)
        learner = gum.BNLearner(str(path), bn, ["?"])
        learner.useEM(1e-8)
        if smoothing:
            learner.useSmoothingPrior(1.0)
        fitted = learner.learnParameters(bn.dag())
    return {node: _read(fitted.cpt(node), node, table.parents, table.values.shape) for node, table in tables.items()}


def _fill(potential, node, parents, values):
    """Write ``values`` (states, configurations; first parent slowest) into a pyAgrum CPT."""
    names = [node, *parents]
    cube = values.reshape((values.shape[0],) + tuple(potential.variable(potential.pos(potential.variable(p)))
                                                     .domainSize() for p in parents) if parents else values.shape)
    order = [potential.variable(i).name() for i in range(potential.nbrDim())]
    potential.fillWith(np.transpose(cube.reshape([potential.variable(potential.pos(potential.variable(n)))
                                                  .domainSize() for n in names]),
                                    [names.index(n) for n in reversed(order)]).reshape(-1).tolist())


def _read(potential, node, parents, shape):
    names = [node, *parents]
    order = [potential.variable(i).name() for i in range(potential.nbrDim())]
    array = np.array(potential.toarray())  # axes: the potential's variables, last first
    return np.transpose(array, [list(reversed(order)).index(n) for n in names]).reshape(shape)


def pgmpy_fit(model, train):
    """pgmpy's ExpectationMaximization from the experts' CPTs on the complete rows of ``train``."""
    from pgmpy.estimators import ExpectationMaximization

    network = model.network
    complete = train.dropna()
    cpds = ExpectationMaximization(network, complete).get_parameters(
        init_cpds={c.variable: c for c in network.get_cpds()}, show_progress=False, apply_smoothing=True,
        prior_type="K2")
    tables = model._priors.node_tables
    out = {}
    for cpd in cpds:
        table = tables[cpd.variable]
        cpd = cpd.copy()
        order = [cpd.variable, *table.parents]
        cpd_values = cpd.values.transpose([cpd.variables.index(v) for v in order])
        index = [[cpd.state_names[v].index(s) for s in (table.states if v == cpd.variable else
                                                          table.parent_states[table.parents.index(v)])]
                 for v in order]
        out[cpd.variable] = cpd_values[np.ix_(*index)].reshape(table.values.shape)
    return out, len(complete)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    n_train, n_test = (1_000, 500) if args.quick else (5_000, 2_000)
    warnings.simplefilter("ignore")
    import pgmpy
    import pyagrum as gum

    from model import fit
    from model.learning.crossval import held_out_log_likelihood
    from test_learning import perturbed, sample, widened_asia

    print(f"bench_learning {'(quick) ' if args.quick else ''}{datetime.datetime.now().astimezone().isoformat(timespec='seconds')}")
    print(f"python {platform.python_version()}, pgmpy {pgmpy.__version__}, pyAgrum {gum.__version__}, numpy {np.__version__}; "
          f"{platform.platform()}, {os.cpu_count()} CPUs; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as folder:
        experts = widened_asia(Path(folder) / "experts")
        truth = perturbed(experts, args.seed)
        rng = np.random.default_rng(args.seed + 1)
        data = sample(truth, n_train + n_test, seed=args.seed + 2)
        data = data.mask(rng.random(data.shape) < 0.4)
        train, test = data.iloc[:n_train], data.iloc[n_train:]
        print(f"\nasia: {n_train:,} training and {n_test:,} held-out cases from a true network drawn within the experts' "
              f"ranges (seed {args.seed}), 40% of cells hidden ({train.notna().all(axis=1).sum():,} training rows complete)")
        rows, reference = [], held_out_log_likelihood(truth, test)[0]
        start = time.perf_counter()
        ours = fit(train, priors=experts)
        rows.append(("model.fit (MAP, canonical rows, priors from the ranges)", time.perf_counter() - start, ours))
        for smoothing in (False, True):
            start = time.perf_counter()
            cpts = pyagrum_fit(experts, train, smoothing)
            rows.append((f"pyAgrum BNLearner EM{' + smoothing prior 1' if smoothing else ''} (missing cells as '?')",
                         time.perf_counter() - start, with_cpts(experts, cpts, folder)))
        start = time.perf_counter()
        cpts, complete = pgmpy_fit(experts, train)
        rows.append((f"pgmpy ExpectationMaximization + K2 (complete rows only: {complete:,})", time.perf_counter() - start,
                     with_cpts(experts, cpts, folder)))
        rows.append(("the experts' network, unfitted", 0.0, experts))
        print(f"\n{'method':<70}{'time':>10}{'held-out log-lik / case':>26}")
        print("-" * 106)
        for name, seconds, fitted in rows:
            score = held_out_log_likelihood(fitted, test)[0] / n_test
            print(f"{name:<70}{seconds:>9.2f}s{score:>26.5f}")
        print(f"{'(the true network)':<70}{'':>10}{reference / n_test:>26.5f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
