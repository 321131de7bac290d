"""Scoring one chunk of cases with a compiled plan: the posteriors of every reported node.

In plain terms: given the recipe built by :mod:`model.engine_plan` and the
observations of a block of patients (already read into state numbers and
likelihoods by :mod:`model.engine`), this module computes, for every patient
at once, the probability of each cause and complication, and whether that
patient's observations are possible at all under the model (probability above
zero). It makes the per-case factors from the evidence (likelihood vectors,
leaf tables, log groups), runs the elimination steps, and reads off the
marginals. A factor nobody observed in the chunk is left out (it is 1). Every
table has the layout ``(*cards, draws, cases)`` of :mod:`model.engine_plan`.
Pure: takes arrays, returns arrays.
"""

from __future__ import annotations

import numpy as np

from .engine_plan import _DEAD, _expand, _rescale, _sum, _times

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


_TINY = 1e-200  # a row whose probability of the evidence is below this is recomputed, rescaling every step


def _evaluate(plan, n, hard, soft, draws=False, joint=False):
    """Posteriors P(not reference | evidence), shape (n, reported), and whether each row is possible.

    With ``draws=True`` the shapes are (draws, n, reported) and (draws, n): one
    result per parameter draw of the plan (see :mod:`model.engine_plan`).
    With ``joint=True`` (plans with a joint table, ``plan.joint_scope``), the
    first result is instead ``(joint, log_evidence)``: the posterior joint of
    the reported nodes, (n, configurations) over ``plan.joint_scope`` (first
    node slowest), and log P(evidence) of each row (-inf when impossible; soft
    evidence counts with its likelihoods as given, scaled so the largest is 1).

    The steps run without rescaling; rows whose probability of the evidence
    comes out below ``_TINY`` (long chains of small numbers, or impossible
    evidence) are run again dividing every step's table by its largest entry,
    so nothing underflows.
    """
    if joint and plan.joint_scope is None:
        raise ValueError("internal: this plan has no joint table of the reported nodes")
    result, possible, small = _compute(plan, n, hard, soft, joint, False)
    again = np.flatnonzero(small)
    if len(again):
        part, soft_part = _subset(hard, soft, again)
        redo, redo_possible, _ = _compute(plan, len(again), part, soft_part, joint, True)
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


def _compute(plan, n, hard, soft, joint, rescale):
    s, d = plan.structure, plan.draws
    env, log_scale, possible = _sources(plan, n, hard, soft)
    shared = len(s.programs) > 1  # sources are used by every program: never changed in place
    ref, other, least = [], [], np.full((d, n), np.inf)
    for (steps, final), made, constant_scale in zip(s.programs, plan.numbers, plan.log_scale):
        local, scale, owned = dict(env), log_scale + constant_scale, set() if shared else set(env)
        for position, step in enumerate(steps):
            if not step.inputs:
                local[step.out] = made[step.out]
                continue
            if step.matmul:
                scope, array = step.scope, _matmul(made[position], local.get(step.inputs[0]), step, s.card)
            else:
                items = ([made[position]] if step.consts else []) + [local.get(i) for i in step.inputs]
                mine = ([False] if step.consts else []) + [i in owned for i in step.inputs]
                scope, array = _run(items, mine, step.schedule, s)
            if step.gone and rescale:
                array, taken = _rescale(array, scope)
                scale = scale + taken
            local[step.out] = (scope, array)
            owned.add(step.out)
        scope, array = local[final]
        keep = steps[-1].scope
        table = np.broadcast_to(_expand(array, scope, keep, s.card),
                                tuple(s.card[v] for v in keep) + (d, n)).reshape(-1, d, n)
        if joint:
            total = table.sum(axis=0)
            possible &= total > 0
            with np.errstate(invalid="ignore", divide="ignore"):
                return ((table / total).transpose(1, 2, 0), np.where(possible, np.log(total) + scale, -np.inf)), \
                    possible, (total < _TINY).any(axis=0)
        if plan.marginals is not None:
            sums = (plan.marginals @ table.reshape(len(table), -1)).reshape(-1, d, n)
            total, other = sums[0], sums[1:]
            least = np.minimum(least, total)
        else:
            total = table.sum(axis=0)
            least = np.minimum(least, total)
            other.append(total - table[0])
    other = np.asarray(other).reshape(-1, d, n)
    if plan.marginals is None:
        total = least
    possible &= least > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        posterior = (other / total).transpose(1, 2, 0)
    posterior[~possible] = np.nan
    return posterior, possible, (least < _TINY).any(axis=0)


def _run(items, owned, schedule, s):
    """The pairwise products of a step's factors (None: left out, it is 1), each followed by its sums.

    ``owned`` says which items may be overwritten (temporaries, messages used once).
    """
    items, owned = list(items), list(owned)
    for i, j, drop in schedule:
        a, b = items[i], items[j] if j is not None else None
        if a is None or b is None:
            out, mine = (a, owned[i]) if b is None else (b, owned[j])
            if out is None:
                out, mine = ((), np.ones((1, 1))), False
            if drop:
                here = tuple(v for v in drop if v in out[0])
                array, scope = _sum(out[1], out[0], here)
                absent = int(np.prod([s.card[v] for v in drop if v not in here]))
                out, mine = (scope, array * absent if absent > 1 else array), True
        else:
            out = _product(a, owned[i], b, owned[j], s, drop)
            mine = True
        items.append(out)
        owned.append(mine)
    return items[-1]


def _product(a, own_a, b, own_b, s, drop=()):
    """``a * b`` summed over ``drop``: in place in an owned factor holding every variable of the other,
    else by one ``einsum``."""
    (sa, x), (sb, y) = a, b
    for (s1, x1, own), (s2, x2) in (((sa, x, own_a), (sb, y)), ((sb, y, own_b), (sa, x))):
        if own and set(s2) <= set(s1) and np.broadcast_shapes(x1.shape[-2:], x2.shape[-2:]) == x1.shape[-2:]:
            array, scope = _sum(np.multiply(x1, _expand(x2, s2, s1, s.card), out=x1), s1, drop)
            return scope, array
    if drop and len(set(sa) | set(sb)) <= len(_LETTERS):
        return _contract(a, b, drop, s)
    array, scope = _times(x, sa, y, sb, s.order)
    array, scope = _sum(array, scope, drop)
    return scope, array


def _contract(a, b, drop, s):
    """``a * b`` summed over ``drop`` (variables of the product), by one ``einsum``."""
    (sa, x), (sb, y) = a, b
    union = tuple(sorted(set(sa) | set(sb), key=s.order.get))
    letters = dict(zip(union, _LETTERS))
    out = tuple(v for v in union if v not in drop)
    spec = "".join(letters[v] for v in sa) + "...," + "".join(letters[v] for v in sb) + "...->" + \
        "".join(letters[v] for v in out) + "..."
    return out, np.einsum(spec, x, y)


def _matmul(matrix, given, step, card):
    """A step with one per-case factor: ``matrix @ factor`` (the constant result when it is left out)."""
    b, o, d = step.scopes[0], step.scope, matrix.shape[0]
    cards = tuple(card[v] for v in o)
    if given is None:
        return np.ascontiguousarray(matrix.sum(axis=2).T).reshape(cards + (d, 1))
    scope, array = given
    if scope != b:
        array = np.broadcast_to(_expand(array, scope, b, card), tuple(card[v] for v in b) + array.shape[-2:])
    k, da, n = matrix.shape[2], array.shape[-2], array.shape[-1]
    array = array.reshape(k, da, n)
    if d == 1:
        return (matrix[0] @ array.reshape(k, n)).reshape(cards + (1, n))
    if da == 1:
        out = (matrix.reshape(-1, k) @ array.reshape(k, n)).reshape(d, -1, n)
    else:
        out = np.matmul(matrix, array.transpose(1, 0, 2))
    return np.ascontiguousarray(out.transpose(1, 0, 2)).reshape(cards + (d, n))


def _likelihoods(plan, node, n, hard, soft):
    """(n, states) likelihoods of ``node``'s evidence, or None when no row observes it."""
    codes = hard.get(node)
    seen = codes is not None and (codes >= 0).any()
    if not seen and node not in soft:
        return None
    lam = np.ones((n, len(plan.states[node])))
    if seen:
        at = np.flatnonzero(codes >= 0)
        lam[at] = 0.0
        lam[at, codes[at]] = 1.0
    if node in soft:
        at, values = soft[node]
        lam[at] = values
    return lam


def _sources(plan, n, hard, soft):
    """The per-case factors: ``({id: (scope, table)}, log scale (draws, n), possible (draws, n))``."""
    s, d = plan.structure, plan.draws
    env, log_scale, possible = {}, np.zeros((d, n)), np.ones((d, n), dtype=bool)
    for (kind, node), scope in s.scopes.items():
        if kind == "g":
            continue
        lam = _likelihoods(plan, node, n, hard, soft)
        if lam is None:
            continue
        if kind == "e":
            env[kind, node] = (scope, lam.T.reshape(-1, 1, n))
        else:
            table = plan.leaves[node]
            env[kind, node] = (scope, (table @ lam.T).reshape(tuple(s.card[v] for v in scope) + (d, n)))
    for k, ((scope, members), (rows, maps, logw, safe)) in enumerate(zip(s.groups, plan.groups)):
        if not any(f in soft or (f in hard and (hard[f] >= 0).any()) for f in members):
            continue
        x = np.zeros((logw.shape[1], n))
        for f in members:
            codes = hard.get(f)
            if codes is not None:
                at = np.flatnonzero(codes >= 0)
                x[rows[f] + codes[at], at] = 1.0
        logs = (logw @ x).reshape(-1, d, n)
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
        env["g", k] = (scope, np.exp(logs, out=logs).reshape(tuple(s.card[v] for v in scope) + (d, n)))
    return env, log_scale, possible
