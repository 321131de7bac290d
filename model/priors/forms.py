"""Canonical forms: expand compact parameter rows into full conditional tables.

Pure numpy, no I/O and no pgmpy. Every function returns the table of one node
as an array of shape ``(number of child states, number of parent
configurations)``; the columns enumerate parent configurations with the first
parent varying slowest (pgmpy's ``TabularCPD`` order). Parameters may carry
leading axes (one per draw of the parameters, for credible intervals): the
tables then carry the same leading axes.

The link probabilities are *totals* (Henrion's parameterisation): the
probability of the child being at or above a state when only that parent is
active, background included. See ``priors/README.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import numpy as np

__all__ = [
    "RELATIVE_RISK_CAP",
    "NodeTable",
    "configurations",
    "logistic_table",
    "noisy_max_table",
    "relative_risk_table",
]

#: Largest probability a cause may reach through relative risks (clinical-evidence.md §2.2).
RELATIVE_RISK_CAP = 0.95


@dataclass(frozen=True)
class NodeTable:
    """The full conditional table of one node, in names.

    ``values[i, j]`` is P(node = ``states[i]`` | parent configuration ``j``),
    configurations enumerated by :func:`configurations`.
    """

    node: str
    states: tuple[str, ...]
    parents: tuple[str, ...]
    parent_states: tuple[tuple[str, ...], ...]
    values: np.ndarray

    def __post_init__(self):
        self.values.setflags(write=False)


def configurations(parent_states):
    """All parent configurations, first parent slowest, as tuples of state indices.

    Examples
    --------
    >>> configurations([("no", "yes"), ("a", "b", "c")])[:4]
    [(0, 0), (0, 1), (0, 2), (1, 0)]
    """
    return list(product(*(range(len(s)) for s in parent_states)))


def _outer(start, factors, combine):
    """``start`` (..., m, 1) combined (``np.multiply`` or ``np.add``) with one factor per parent, each
    (..., m, parent's states) or (parent's states,), over every configuration: (..., m, configurations), the
    first parent slowest (as :func:`configurations`). One pass per parent over a growing table, instead of
    one pass per parent over the whole table."""
    result = start
    for factor in factors:  # the first parent first, as the former loop over configurations: the same products
        factor = np.asarray(factor)
        result = combine(result[..., :, :, None], factor[None, :] if factor.ndim == 1 else factor[..., :, None, :])
        result = result.reshape(result.shape[:-3] + (result.shape[-3], -1))
    shape = np.broadcast_shapes(result.shape, start.shape[:-1] + (result.shape[-1],))
    return result if result.shape == shape and result is not start else np.broadcast_to(result, shape).copy()


def _cumulative_to_table(at_least):
    """Turn P(child >= state t), t = 1..k-1, per configuration (last axis) into P(child = state)."""
    k = at_least.shape[-2]
    table = np.empty(at_least.shape[:-2] + (k + 1, at_least.shape[-1]))
    np.subtract(1.0, at_least[..., 0, :], out=table[..., 0, :])
    np.subtract(at_least[..., :-1, :], at_least[..., 1:, :], out=table[..., 1:k, :])
    table[..., k, :] = at_least[..., k - 1, :]
    return table


def noisy_max_table(leak, links, parent_states):
    """Leaky noisy-MAX (noisy-OR for a binary child), Henrion's parameterisation.

    Parameters
    ----------
    leak : sequence of float
        P(child >= state t | every parent in its reference state), for the
        non-reference child states t = 1..k-1 (last axis; leading axes, such
        as draws, carry through).
    links : dict
        ``{(parent index, parent state index): [total_1, ..., total_{k-1}]}``:
        P(child >= state t | only this parent, in this state, is active).
        Parent states without a link have no effect.
    parent_states : sequence of tuple of str
        The states of each parent; index 0 is the reference state.

    Returns
    -------
    numpy.ndarray
        Shape ``(..., k, number of configurations)``.

    Examples
    --------
    One cause with total 0.9 over a leak of 0.15 (the worked example of
    ``priors/README.md``):

    >>> noisy_max_table([0.15], {(0, 1): [0.9]}, [("absent", "present")]).round(5)
    array([[0.85, 0.1 ],
           [0.15, 0.9 ]])
    """
    leak = np.asarray(leak, dtype=float)[..., :, None]
    factors = [np.ones(len(states)) for states in parent_states]  # per parent: P(not caused) factor by state
    for (parent, state), totals in links.items():
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.where(leak < 1.0, 1.0 - (1.0 - np.asarray(totals, dtype=float)[..., :, None]) / (1.0 - leak), 0.0)
        factors[parent] = factors[parent] * np.where(np.arange(len(parent_states[parent])) == state, 1.0 - q, 1.0)
    return _cumulative_to_table(1.0 - _outer(1.0 - leak, factors, np.multiply))


def _logit(p):
    return np.log(p) - np.log1p(-p)


def logistic_table(leak, links, parent_states):
    """Additive log-odds form: causes may raise or lower the child.

    ``logit P(child >= t | parents) = logit(leak_t) + sum over active parents of
    (logit(total_t) - logit(leak_t))``. Arguments as in :func:`noisy_max_table`;
    all probabilities strictly between 0 and 1.

    Examples
    --------
    A cause with total 0.25 under a leak of 0.9 lowers the finding:

    >>> logistic_table([0.9], {(0, 1): [0.25]}, [("absent", "present")]).round(3)
    array([[0.1 , 0.75],
           [0.9 , 0.25]])
    """
    base = _logit(np.asarray(leak, dtype=float))[..., :, None]
    shifts = [np.zeros(len(states)) for states in parent_states]  # per parent: log-odds shift by state
    for (parent, state), totals in links.items():
        shift = _logit(np.asarray(totals, dtype=float))[..., :, None] - base
        shifts[parent] = shifts[parent] + np.where(np.arange(len(parent_states[parent])) == state, shift, 0.0)
    return _cumulative_to_table(1.0 / (1.0 + np.exp(-_outer(base, shifts, np.add))))


def relative_risk_table(baseline, relative_risks, parent_states, *, cap=RELATIVE_RISK_CAP):
    """A two-state cause whose probability is a baseline times relative risks.

    Parameters
    ----------
    baseline : float or numpy.ndarray
        P(present | every risk factor in its reference state); an array
        (with relative risks of the same shape) gives one table per entry.
    relative_risks : dict
        ``{(parent index, parent state index): relative risk}``.
    parent_states : sequence of tuple of str
    cap : float
        Products above ``cap`` (but below 1) are set to ``cap``.

    Returns
    -------
    table : numpy.ndarray
        Shape ``(..., 2, number of configurations)``.
    uncapped : numpy.ndarray
        The raw products, so callers can reject those that reach 1.

    Examples
    --------
    >>> table, raw = relative_risk_table(0.1, {(0, 1): 4.0}, [("no", "yes")])
    >>> table.round(3)
    array([[0.9, 0.6],
           [0.1, 0.4]])
    """
    baseline = np.asarray(baseline, dtype=float)[..., None, None]
    factors = [np.ones(len(states)) for states in parent_states]  # per parent: relative risk by state
    for (parent, state), rr in relative_risks.items():
        factors[parent] = factors[parent] * np.where(np.arange(len(parent_states[parent])) == state,
                                                     np.asarray(rr, dtype=float)[..., None, None], 1.0)
    raw = _outer(baseline, factors, np.multiply)[..., 0, :]
    present = np.minimum(raw, cap)
    return np.stack([1.0 - present, present], axis=-2), raw
