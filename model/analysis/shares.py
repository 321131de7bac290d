"""Solve the cause baselines so that the presenting population has the shares the experts give.

In plain terms: the bundled priors describe people *presenting* with pain in the back of the
thigh. Each cause's row in ``base_rates.csv`` is a baseline before that selection, chosen so that
P(cause | population) equals the share of the differential in the evidence notes (disc herniation
0.40 ...). A researcher who changes a share re-solves the baselines with :func:`solve_baselines`;
every other number stays as it is. The answer is exact to the tolerance: each step computes the
population priors of the current model exactly and rescales the baseline odds by the ratio of
the wanted share to the current one, until every share agrees.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..errors import PriorsError
from ..inference import as_model

__all__ = ["solve_baselines"]


def _odds(p):
    return p / (1.0 - p)


def _probability(odds):
    return odds / (1.0 + odds)


def solve_baselines(shares, *, priors=None, tolerance=1e-9, max_steps=200):
    """A new Model whose cause baselines give the wanted presenting-population shares.

    Parameters
    ----------
    shares : dict
        cause -> wanted P(present | population) (the ``prior`` column of ``infer({})``). Causes left
        out keep their baselines (their shares then move a little through competition).
    priors : str, os.PathLike or Model, optional
        The model to start from; default: the bundled priors.
    tolerance : float
        Largest relative difference between a wanted and a reached share.
    max_steps : int
        Steps of the fixed-point iteration before giving up.

    Returns
    -------
    Model
        The same priors with the ``base_rates.csv`` rows of those causes (value, and ``low``/``high``
        scaled by the same odds ratio) re-solved; every other table unchanged.

    Raises
    ------
    PriorsError
        When a cause is not a ``relative_risk`` cause (it has no baseline row), a share is not
        strictly between 0 and 1, or the iteration does not reach the tolerance (the shares are
        not reachable with these relative risks and this population).

    Examples
    --------
    Regression snapshot: the numbers below are those of the bundled priors; tests/test_shares.py checks the
    solved shares independently.

    >>> m = solve_baselines({"lumbar_disc_herniation": 0.35}, priors="primary_care")
    >>> round(float(m.prior()["lumbar_disc_herniation"]), 6)
    0.35
    """
    model = as_model(priors)
    base = model.tables["base_rates"]
    rows = {}
    problems = []
    for cause, share in shares.items():
        if cause not in model.causes:
            problems.append(f"{cause!r} is not a cause of these priors. Causes: {', '.join(model.causes)}.")
            continue
        match = base.index[(base["node"] == cause)]
        if model.nodes.loc[cause, "form"] != "relative_risk" or len(match) != 1:
            problems.append(f"{cause!r} has form {model.nodes.loc[cause, 'form']!r}, not 'relative_risk': it has no "
                            "baseline row to solve. Edit its table by hand.")
            continue
        if not (isinstance(share, (int, float)) and 0.0 < float(share) < 1.0):
            problems.append(f"the share of {cause!r} must be a probability strictly between 0 and 1. Got {share!r}.")
            continue
        rows[cause] = match[0]
    if problems:
        raise PriorsError(problems)
    if not rows:
        return model
    causes = list(rows)
    wanted = np.array([float(shares[c]) for c in causes])
    start = base.loc[[rows[c] for c in causes], ["probability", "low", "high"]].to_numpy(dtype=float)
    baseline = start[:, 0].copy()
    reached = None
    for _ in range(max_steps):
        candidate = _with_baselines(model, base, rows, causes, baseline, start)
        reached = candidate.prior()[causes].to_numpy()
        if np.max(np.abs(reached / wanted - 1.0)) <= tolerance:
            return candidate
        baseline = _probability(_odds(baseline) * wanted / reached)
    worst = int(np.argmax(np.abs(reached / wanted - 1.0)))
    raise PriorsError([f"the baselines did not converge in {max_steps} steps: {causes[worst]} reaches "
                       f"{reached[worst]:.6g} for a wanted share of {wanted[worst]:.6g}. The shares may not be "
                       "reachable together with these relative risks; check them, or raise max_steps."])


def _with_baselines(model, base, rows, causes, baseline, start):
    """The model with these baselines; low and high move by the same odds ratio as the value."""
    table = base.copy()
    for i, cause in enumerate(causes):
        ratio = _odds(baseline[i]) / _odds(start[i, 0])
        low, high = (_probability(_odds(x) * ratio) if 0.0 < x < 1.0 else x for x in start[i, 1:])
        value = float(baseline[i])
        table.loc[rows[cause], ["probability", "low", "high"]] = [value, min(low, value), max(high, value)]
    if not all(math.isfinite(x) for x in baseline):  # pragma: no cover - guarded by the share checks
        raise PriorsError(["the baseline iteration left the probabilities; check the shares."])
    return model.with_tables({"base_rates": pd.DataFrame(table)})
