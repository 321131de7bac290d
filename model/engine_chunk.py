"""Scoring one chunk of cases with a compiled plan: the posteriors of every reported node.

In plain terms: given the recipe built by :mod:`model.engine_plan` and the
observations of a block of patients (already read into state numbers and
likelihoods by :mod:`model.engine`), this module computes, for every patient
at once, the probability of each cause and complication, and whether that
patient's observations are possible at all under the model (probability above
zero). It fills the recipe's per-case tables (root block, leaf groups) from the
evidence, runs the elimination steps, and reads off the marginals. Pure:
takes arrays, returns arrays.
"""

from __future__ import annotations

import numpy as np

from .engine_plan import _DEAD, _run_step


def _evaluate(plan, n, hard, soft, draws=False, joint=False):
    """Posteriors P(not reference | evidence), shape (n, reported), and whether each row is possible.

    With ``draws=True`` the shapes are (draws, n, reported) and (draws, n): one
    result per parameter draw of the plan (see :mod:`model.engine_plan`).
    With ``joint=True`` (plans with a joint table, ``plan.joint_scope``), the
    first result is instead ``(joint, log_evidence)``: the posterior joint of
    the reported nodes, (n, configurations) over ``plan.joint_scope`` (first
    node slowest), and log P(evidence) of each row (-inf when impossible; soft
    evidence counts with its likelihoods as given, scaled so the largest is 1).

    When the root block tabulates leaf patterns (and no row has soft evidence
    on those leaves), rows are first sorted by pattern, so each pattern's rows
    are one contiguous matrix product.
    """
    if joint and plan.joint_scope is None:
        raise ValueError("internal: this plan has no joint table of the reported nodes")
    if plan.root_tables is None or len(plan.pattern_rows) == 1 or any(f in soft for f in plan.tabulated):
        return _drawn(_compute(plan, n, hard, soft, None, joint), draws)
    pattern = plan.pattern_rows[_patterns(plan, n, hard)]
    if (pattern < 0).any():
        raise ValueError("internal: a case's evidence pattern has no table in this plan")
    perm = np.argsort(pattern, kind="stable")
    counts = np.bincount(pattern, minlength=len(plan.root_tables))
    inverse = np.empty(n, dtype=np.intp)
    inverse[perm] = np.arange(n)
    hard = {node: codes[perm] for node, codes in hard.items()}
    soft = {node: (inverse[at], lam) for node, (at, lam) in soft.items()}
    result, possible = _compute(plan, n, hard, soft, counts, joint)
    result = tuple(r[:, inverse] for r in result) if joint else result[:, inverse]
    return _drawn((result, possible[:, inverse]), draws)


def _drawn(computed, draws):
    """``_compute``'s result, without its draw axis unless ``draws``."""
    if draws:
        return computed
    result, possible = computed
    return (tuple(r[0] for r in result) if isinstance(result, tuple) else result[0]), possible[0]


def _patterns(plan, n, hard):
    """The evidence pattern number of each case: which tabulated leaves are observed, and in which state."""
    pattern = np.zeros(n, dtype=np.intp)
    for f in plan.tabulated:
        codes = hard.get(f)
        pattern = pattern * (len(plan.states[f]) + 1) + (0 if codes is None else codes + 1)
    return pattern


def _compute(plan, n, hard, soft, counts, joint=False):
    env = dict(plan.constants)
    log_scale = np.zeros((plan.draws, n))  # log of what the rescaling took out, for P(evidence)
    if plan.roots:
        env[0] = _root_factor(plan, n, hard, soft, counts)
    first = 1 if plan.roots else 0
    possible = np.ones((plan.draws, n), dtype=bool)
    for g, group in enumerate(plan.groups):
        observed = [(row, hard[node]) for node, row in group.rows.items() if node in hard]
        x = np.zeros((n, len(group.logw)))  # one-hot state indicators; missing cells hit the last, zero row
        if observed:
            codes = np.stack([c for _, c in observed], axis=1)
            columns = np.where(codes >= 0, codes + np.array([r for r, _ in observed]), len(group.logw) - 1)
            x[np.arange(n)[:, None], columns] = 1.0
        logs = _by_draw(x @ group.logw, plan.draws)  # (draws, n, configurations)
        shift = not group.safe
        for node in group.rows:
            if node in soft:
                at, lam = soft[node]
                with np.errstate(divide="ignore"):
                    extra = np.log(np.matmul(lam, plan.cpts[node])) if node in group.leaves else np.log(lam)[None]
                logs[:, at] += extra[..., group.maps[node]]
                shift = True
        if shift:  # log-sum-exp: each row's largest entry becomes exp(0) = 1
            top = logs.max(axis=2)
            dead = top < _DEAD
            possible &= ~dead
            top = np.where(dead, 0.0, top)
            logs -= top[:, :, None]
            log_scale += top
        env[first + g] = np.exp(logs, out=logs)
    ref, other = [], []
    for k, (steps, final, made, constant_scale) in enumerate(plan.programs):
        local, scale = {**env, **made}, log_scale + constant_scale[:, None]
        for spec in steps:
            local[spec[3]], taken = _run_step(local, spec, n)
            if taken is not None:
                scale = scale + taken
        table = np.broadcast_to(local[final], (plan.draws,) + local[final].shape[1:]).reshape(plan.draws, n, -1)
        if joint:
            total = table.sum(axis=2)
            possible &= total > 0
            with np.errstate(invalid="ignore", divide="ignore"):
                return (table / total[:, :, None], np.where(possible, np.log(total) + scale, -np.inf)), possible
        if plan.marginals is not None:
            sums = table @ plan.marginals
            k = sums.shape[2] // 2
            ref, other = sums[..., :k], sums[..., k:]
        else:
            ref.append(table[..., 0])
            other.append(table[..., 1:].sum(axis=2))
    if plan.marginals is None:
        ref, other = np.stack(ref, axis=2), np.stack(other, axis=2)
    total = ref + other
    if total.shape[2]:
        possible &= total[..., 0] > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        posterior = other / total
    posterior[~possible] = np.nan
    return posterior, possible


def _root_factor(plan, n, hard, soft, counts):
    """Sum out the block's roots: Khatri-Rao products of their likelihoods times the constant tables,
    one table per evidence pattern of the tabulated leaves (``counts``: rows sorted by pattern)."""
    kr = np.ones((n, 1))
    for root in plan.roots[::-1]:  # the first root slowest; the long axis innermost
        lam = _likelihoods(plan, root, n, hard, soft)
        kr = (lam[:, :, None] * kr[:, None, :]).reshape(n, -1)
    tables = plan.root_tables  # (patterns, root configurations, draws x rest)
    if len(plan.pattern_rows) == 1:
        return _by_draw(kr @ tables[0], plan.draws)
    if counts is not None:
        out, start = np.empty((n, tables.shape[2])), 0
        for p, count in enumerate(counts):
            if count:
                np.matmul(kr[start:start + count], tables[p], out=out[start:start + count])
                start += count
        return _by_draw(out, plan.draws)
    weights = np.ones((n, 1))  # soft evidence mixes patterns: weight of each pattern per row
    for f in plan.tabulated:
        w = np.zeros((n, len(plan.states[f]) + 1))
        codes = hard.get(f)
        if codes is None:
            w[:, 0] = 1.0
        else:
            at = np.flatnonzero(codes >= 0)
            w[at, 1 + codes[at]] = 1.0
            w[codes < 0, 0] = 1.0
        if f in soft:
            at, lam = soft[f]
            w[at, 0], w[at, 1:] = 0.0, lam
        weights = (weights[:, :, None] * w[:, None, :]).reshape(n, -1)
    out = np.zeros((n, tables.shape[2]))
    for p, t in enumerate(plan.pattern_rows):
        rows = np.flatnonzero(weights[:, p])
        if len(rows):
            if t < 0:
                raise ValueError("internal: a case's evidence pattern has no table in this plan")
            out[rows] += weights[rows, p, None] * (kr[rows] @ tables[t])
    return _by_draw(out, plan.draws)


def _by_draw(wide, draws):
    """(cases, draws x k) as (draws, cases, k): the draw axis first, contiguous."""
    n = len(wide)
    if draws == 1:
        return wide.reshape(1, n, -1)
    return np.ascontiguousarray(wide.reshape(n, draws, -1).transpose(1, 0, 2))


def _likelihoods(plan, node, n, hard, soft):
    lam = np.ones((n, len(plan.states[node])))
    codes = hard.get(node)
    if codes is not None:
        at = np.flatnonzero(codes >= 0)
        lam[at] = 0.0
        lam[at, codes[at]] = 1.0
    if node in soft:
        at, values = soft[node]
        lam[at] = values
    return lam
