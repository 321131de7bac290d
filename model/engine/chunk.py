"""Scoring one chunk of cases with a compiled plan: the posteriors of every reported node.

In plain terms: given the recipe built by :mod:`model.engine.plan` and the
observations of a block of patients (already read into state numbers and
likelihoods by :mod:`model.engine`), this module computes, for every patient
at once, the probability of each cause and complication, and whether that
patient's observations are possible at all under the model (probability above
zero). It makes the per-case factors from the evidence (likelihood vectors,
leaf tables, log groups), runs the elimination steps, and reads off the
marginals. A factor nobody observed in the chunk is left out (it is 1). Every
table has the layout ``(*cards, draws, cases)`` of :mod:`model.engine.plan`.
Pure: takes arrays, returns arrays.
"""

from __future__ import annotations

import numpy as np

from .numbers import _rescale
from .ops import _gemm, _matmul, Pool, _product, _run, _sum
from .plan import _DEAD, _expand


_TINY = 1e-200  # a row whose probability of the evidence is below this is recomputed, rescaling every step


def evaluate(plan, n, hard, soft, draws=False, joint=False, pool=None):
    """Posteriors P(not reference | evidence), shape (n, reported), and whether each row is possible.

    With ``draws=True`` the shapes are (draws, n, reported) and (draws, n): one
    result per parameter draw of the plan (see :mod:`model.engine.plan`).
    With ``joint=True`` (plans with a joint table, ``plan.joint_scope``), the
    first result is instead ``(joint, log_evidence)``: the posterior joint of
    the reported nodes, (n, configurations) over ``plan.joint_scope`` (first
    node slowest), and log P(evidence) of each row (-inf when impossible; soft
    evidence counts with its likelihoods as given, scaled so the largest is 1).

    The steps run without rescaling; rows whose probability of the evidence
    comes out below ``_TINY`` (long chains of small numbers, or impossible
    evidence) are run again dividing every step's table by its largest entry,
    so nothing underflows. ``pool`` (a :class:`model.engine.ops.Pool`) lends
    memory freed by earlier chunks.
    """
    if hasattr(plan, "evaluate_rows"):  # model.engine.single.TreeRows: one case at a time on the junction tree
        if draws or joint:
            raise ValueError("internal: the junction-tree rows give posteriors only (no draws, no joint)")
        return plan.evaluate_rows(n, hard, soft)
    if joint and plan.joint_scope is None:
        raise ValueError("internal: this plan has no joint table of the reported nodes")
    pool = Pool() if pool is None else pool
    result, possible, small = _compute(plan, n, hard, soft, joint, False, pool)
    again = np.flatnonzero(small)
    if len(again):
        part, soft_part = _subset(hard, soft, again)
        redo, redo_possible, _ = _compute(plan, len(again), part, soft_part, joint, True, pool)
        for r, new in zip(result if joint else (result,), redo if joint else (redo,)):
            r[:, again] = new
        possible[:, again] = redo_possible
    if draws:
        return result, possible
    return (tuple(r[0] for r in result) if joint else result[0]), possible[0]


def _subset(hard, soft, rows):
    """The parsed evidence of ``rows`` only."""
    where = np.full(max([len(c) for c in hard.values()] + [int(rows.max()) + 1]), -1)
    where[rows] = np.arange(len(rows))
    part = {}
    for node, (at, lam) in soft.items():
        keep = where[at] >= 0
        if keep.any():
            part[node] = (where[at[keep]], lam[keep])
    return {node: codes[rows] for node, codes in hard.items()}, part


def _rows(hard, soft, lo, hi):
    """Rows ``lo:hi`` of parsed evidence."""
    part = {}
    for node, (at, lam) in soft.items():
        keep = (at >= lo) & (at < hi)
        if keep.any():
            part[node] = (at[keep] - lo, lam[keep])
    return {node: codes[lo:hi] for node, codes in hard.items()}, part


def _compute(plan, n, hard, soft, joint, rescale, pool):
    s, d = plan.structure, plan.draws
    env, log_scale, possible = _sources(plan, n, hard, soft, pool)
    shared = len(s.programs) > 1  # sources are used by every program: never changed in place
    other, least = [], np.full((d, n), np.inf)
    for (steps, finals, split), made, constant_scale in zip(s.programs, plan.numbers, plan.log_scale):
        local, scale, owned = dict(env), log_scale + constant_scale, set() if shared else set(env)
        for position, step in enumerate(steps):
            if not step.inputs:
                local[step.out] = made[step.out]
                continue
            if step.matmul:
                given, mine = _run([local.get(i) for i in step.inputs], [i in owned for i in step.inputs],
                                   step.schedule, s, pool)
                scope, array = step.scope, _matmul(made[position], given, step, s, pool)
                if mine:
                    pool.give(given[1])
            else:
                items = ([made[position]] if step.consts else []) + [local.get(i) for i in step.inputs]
                mine = ([False] if step.consts else []) + [i in owned for i in step.inputs]
                (scope, array), _ = _run(items, mine, step.schedule, s, pool)
            if step.gone and rescale:
                array, taken = _rescale(array, scope)
                scale = scale + taken
            local[step.out] = (scope, array)
            owned.add(step.out)
        parts = [local[i] for i in finals]
        if split is not None and not joint:
            total, others = _split_marginals(plan, parts, finals[0] in owned, split, d, n, pool)
        else:
            keep = plan.joint_scope if split is not None else steps[-1].scope
            if len(parts) == 2:
                parts = [_product(parts[0], False, parts[1], False, s, pool)]
            scope, array = parts[0]
            table = np.broadcast_to(_expand(array, scope, keep, s.card),
                                    tuple(s.card[v] for v in keep) + (d, n)).reshape(-1, d, n)
            if joint:
                total = table.sum(axis=0)
                possible &= total > 0
                with np.errstate(invalid="ignore", divide="ignore"):
                    return ((table / total).transpose(1, 2, 0),
                            np.where(possible, np.log(total) + scale, -np.inf)), possible, (total < _TINY).any(axis=0)
            if plan.marginals is not None:
                sums = _gemm(plan.marginals, table.reshape(len(table), -1)).reshape(-1, d, n)
                total, others = sums[0], sums[1:]
            else:
                total = table.sum(axis=0)
                others = [total - table[0]]
        least = np.minimum(least, total)  # each program has its own scale: divide by its own total
        with np.errstate(invalid="ignore", divide="ignore"):
            other.extend(o / total for o in others)
    possible &= least > 0
    posterior = np.asarray(other).reshape(-1, d, n).transpose(1, 2, 0)
    posterior[~possible] = np.nan
    return posterior, possible, (least < _TINY).any(axis=0)


def _split_marginals(plan, parts, own, split, d, n, pool):
    """P(evidence) and P(evidence, node not in its reference state) of every reported node, in reported order,
    from the product of the factors without the split node (``parts[0]``) and with it (``parts[1]``)."""
    s = plan.structure
    (sr, r), (sq, q) = parts
    at = sq.index(split)
    q_other = np.take(q, range(1, s.card[split]), axis=at).sum(axis=at)
    q_all, sa = _sum(q, sq, (split,), pool)
    r_small, ss = _sum(r, sr, tuple(v for v in sr if v not in sq), pool)  # before r changes in place
    scope, array = _product((ss, r_small), False, (sa, q_other), False, s, pool, sa)
    split_other = np.broadcast_to(array, (d, n))
    scope, array = _product((sr, r), own, (sa, q_all), False, s, pool)
    rest = tuple(v for v in plan.joint_scope if v != split)
    table = np.broadcast_to(_expand(array, scope, rest, s.card), tuple(s.card[v] for v in rest) + (d, n))
    sums = _gemm(plan.marginals, table.reshape(-1, d * n)).reshape(-1, d, n)
    others, k = [], 1
    for node in s.reported:  # the rows of plan.marginals: the reported nodes but the split one, in order
        if node == split:
            others.append(split_other)
        else:
            others.append(sums[k])
            k += 1
    return sums[0], others


def _likelihoods(plan, node, n, hard, soft, leaf=False):
    """(n, states) likelihoods of ``node``'s evidence, or None when no row observes it. For a ``leaf``, one more
    column marks the rows that do not observe it (see :func:`model.engine.plan._leaf`)."""
    codes = hard.get(node)
    seen = codes is not None and (codes >= 0).any()
    if not seen and node not in soft:
        return None
    k = len(plan.states[node])
    lam = np.zeros((n, k + 1)) if leaf else np.ones((n, k))
    if leaf:
        lam[:, k] = 1.0
    if seen:
        at = np.flatnonzero(codes >= 0)
        lam[at] = 0.0
        lam[at, codes[at]] = 1.0
    if node in soft:
        at, values = soft[node]
        lam[at] = 0.0
        lam[at, :k] = values
    return lam


def _sources(plan, n, hard, soft, pool):
    """The per-case factors: ``({id: (scope, table)}, log scale (draws, n), possible (draws, n))``."""
    s, d = plan.structure, plan.draws
    env, log_scale, possible = {}, np.zeros((d, n)), np.ones((d, n), dtype=bool)
    for (kind, node), scope in s.scopes.items():
        if kind == "g":
            continue
        lam = _likelihoods(plan, node, n, hard, soft, kind == "l")
        if lam is None:
            continue
        if kind == "e":
            env[kind, node] = (scope, lam.T.reshape(-1, 1, n))
        else:
            table = plan.leaves[node]
            array = _gemm(table, lam.T, pool.empty((len(table), n)))
            env[kind, node] = (scope, array.reshape(tuple(s.card[v] for v in scope) + (d, n)))
    for k, ((scope, members), (rows, maps, logw, safe)) in enumerate(zip(s.groups, plan.groups)):
        if not any(f in soft or (f in hard and (hard[f] >= 0).any()) for f in members):
            continue
        x = np.zeros((logw.shape[1], n))
        for f in members:
            codes = hard.get(f)
            if codes is not None:
                at = np.flatnonzero(codes >= 0)
                x[rows[f] + codes[at], at] = 1.0
        # every row observing the group alike (the hypothetical answers of the next question): one column
        alike = n > 1 and not any(f in soft for f in members) and bool((x == x[:, :1]).all())
        width = 1 if alike else n
        logs = _gemm(logw, x[:, :width], pool.empty((len(logw), width))).reshape(-1, d, width)
        shift = not safe
        for f in members:
            if f in soft:
                at, lam = soft[f]
                with np.errstate(divide="ignore"):
                    extra = np.log(np.matmul(lam, plan.cpts[f]))[..., maps[f]]  # (draws, rows, configurations)
                logs[:, :, at] += extra.transpose(2, 0, 1)
                shift = True
        if shift:  # log-sum-exp: each row's largest entry becomes exp(0) = 1
            top = logs.max(axis=0)
            dead = top < _DEAD
            possible &= ~dead
            top = np.where(dead, 0.0, top)
            logs -= top
            log_scale += top
        np.exp(logs, out=logs)
        if alike:  # the one column for every row
            wide = pool.empty(logs.shape[:2] + (n,))
            wide[...] = logs
            logs = wide
        env["g", k] = (scope, logs.reshape(tuple(s.card[v] for v in scope) + (d, n)))
    return env, log_scale, possible
