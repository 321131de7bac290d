"""Many cases calibrated together on one junction tree: P(evidence) of each, and weighted sums of family beliefs.

In plain terms: the junction tree of :mod:`model.engine.junction` is
calibrated for a whole chunk of cases at once, every table carrying one row
per case, so that numpy works on long arrays instead of Python stepping
through one case's small ones. Evidence is a likelihood vector per node and
case (ones where the case says nothing). After the inward and outward passes
every clique holds, per case, the joint of its nodes given that case; what
learning needs is, for each node, the sum over the cases of the joint of the
node's family, each case with a weight of its own (zero where the case does
not inform the node). Those sums are one matrix product per clique, its
nodes' distinct weightings side by side.

A leaf clique holding one finding over part of its parent's nodes (most
findings of a diagnostic network: a finding and its causes) is not
calibrated on its own: for the cases that observe the finding in one state,
or not at all, the log of its table is added into its parent by one matrix
product over all such findings and cases (as the batch engine scores leaves,
:mod:`model.engine.numbers`), and its sums come from the parent's belief by
one more. Cases with soft evidence on it go the long way. A clique left as
one table over what it shares with its parent (its own nodes cut out), with
no evidence, is multiplied into the parent's table once for all cases.
Pure: takes a tree and arrays, returns arrays.

Examples
--------
Rain causes wet grass; two cases, one seeing the grass wet, one dry:

>>> from model.engine.junction import compile_junction_tree
>>> tables = {"rain": (("rain",), np.array([0.8, 0.2])),
...           "wet": (("wet", "rain"), np.array([[0.9, 0.1], [0.1, 0.9]]))}
>>> tree = compile_junction_tree(tables, {"rain": 2, "wet": 2})
>>> seen = {"wet": np.array([[0.0, 1.0], [1.0, 0.0]])}
>>> log_evidence, sums = family_sums(tree, seen, {"wet": np.array([1.0, 0.0])})
>>> np.exp(log_evidence).round(4)  # P(wet) = 0.26, P(dry) = 0.74
array([0.26, 0.74])
>>> sums["wet"].reshape(2, 2).round(4)  # P(wet, rain | first case), over (wet, rain)
array([[0.    , 0.    ],
       [0.3077, 0.6923]])
"""

from __future__ import annotations

import math

import numpy as np

from .plan import _DEAD, _LOG0

__all__ = ["calibrate_chunk", "family_sums", "prepared"]

#: Configurations of all the cliques times cases held at once (2^25 floats: 256 MiB).
CHUNK_FLOATS = 2**25
#: Observed leaves a clique needs for their evidence to go in by a matrix product in log space (one pass of
#: exponentials over the clique; each leaf taken the long way costs a pass of products).
ABSORBED = 8


def family_sums(tree, likelihoods, weights):
    """Calibrate ``tree`` on many cases at once.

    Parameters
    ----------
    tree : JunctionTree
        A compiled tree (:func:`model.engine.junction.compile_junction_tree`), possibly with nodes cut out
        (:func:`model.engine.sliced.given`): every case then shares those observations.
    likelihoods : dict
        node -> array (cases, states): each case's likelihood of the node's states (a 0/1 row for a hard
        observation, ones where the case says nothing). Nodes left out are unobserved in every case.
    weights : dict
        node -> array (cases,): the weight of each case in the node's sum (zero leaves the case out). Arrays
        that are the same object are summed together.

    Returns
    -------
    log_evidence : numpy.ndarray
        log P(evidence) per case (-inf for an impossible case).
    sums : dict
        node -> flat array over the free part of its family (the node and its parents not cut out, in the
        family's order, first slowest): the sum over the cases of weight times P(family | case). Impossible
        cases contribute nothing.
    """
    rows = len(next(iter(likelihoods.values()))) if likelihoods else \
        len(next(iter(weights.values()))) if weights else 1
    leaves, logs, folded, potentials, absorbed = prepared(tree, likelihoods)
    holding = [list(h) for h in tree.holds]  # per clique: the nodes whose sums its belief gives
    for k, p in folded.items():
        holding[p] += tree.holds[k]
    step = max(1, CHUNK_FLOATS // max(sum(len(p) for p in tree.potentials), 1))
    log_evidence = np.empty(rows)
    totals = {}  # (clique, groups of nodes) -> (its configurations, one column per group) summed for those nodes;
    for start in range(0, rows, step):  # ("leaves", parent, leaf cliques) -> the leaves' sums over the parent
        part = slice(start, min(rows, start + step))
        log_evidence[part] = _chunk(tree, part.stop - part.start, {n: lam[part] for n, lam in likelihoods.items()},
                                    _sliced(weights, part), totals, leaves, logs, absorbed, holding, potentials)
    for key in [key for key in totals if key[0] == "leaves"]:  # leaves' sums over their parent's configurations
        summed, start = totals.pop(key), 0
        for k in key[2]:
            node = tree.holds[k][0]
            columns = summed[:, start:start + tree.card[node]].T
            start += tree.card[node]
            flat = np.concatenate([tree.sum_to(key[1], tree.separator[k], c) for c in columns])
            _add(totals, (k, ((node,),)), flat[:, None])
    sums = {}
    for (k, groups), summed in totals.items():  # each clique's sums reduced to the families it holds
        for column, nodes in zip(summed.T, groups):
            for node in nodes:
                scope = tuple(v for v in tree.tables[node][0] if v in tree.cliques[k])
                found = tree.sum_to(k, scope, np.ascontiguousarray(column))
                sums[node] = found if node not in sums else sums[node] + found
    return log_evidence, sums


def prepared(tree, likelihoods, wanted=()):
    """``(leaves, logs, folded, potentials, absorbed)`` for :func:`calibrate_chunk`: the observed leaves whose
    evidence goes into their parent by a matrix product in log space, and those log tables (:func:`_leaves`,
    :func:`_log_matrix`); the cliques folded into their parent and every clique's table with them folded in
    (:func:`_folded`); the set of cliques not calibrated on their own. A leaf holding a node of ``wanted``
    stays calibrated, so that its belief gives that node's marginal."""
    leaves, skipped = _leaves(tree, likelihoods)
    if wanted:
        wanted = set(wanted)
        leaves = {p: kept for p, m in leaves.items()
                  if len(kept := [(k, node) for k, node in m if node not in wanted]) >= ABSORBED}
        skipped = {k for k in skipped if tree.holds[k][0] not in wanted}
    logs = {p: _log_matrix(tree, members) for p, members in leaves.items()}
    folded, potentials = _folded(tree, likelihoods)
    absorbed = {k for members in leaves.values() for k, _ in members} | skipped | set(folded)  # not calibrated
    return leaves, logs, folded, potentials, absorbed


def _sliced(weights, part):
    """``weights`` with each array cut to the rows of ``part``; nodes sharing one array share one cut."""
    cuts = {}
    return {node: cuts.setdefault(id(w), w[part]) for node, w in weights.items()}


def _leaves(tree, likelihoods):
    """The leaf cliques holding one table, of the one node they do not share with their parent: (parent clique
    -> [(leaf clique, its node)] for the observed ones whose evidence goes into their parent by a matrix
    product, ``ABSORBED`` or more per parent; the set of those whose node no case observes and whose table
    sums to one, left out altogether: their message is ones, and a leaf's node unobserved informs nothing)."""
    found, closed = {}, {}
    for k, p in enumerate(tree.parent):
        holds = tree.holds[k]
        if p is None or tree.children[k] or len(holds) != 1 or tree.free[k] != holds:
            continue
        if holds[0] in likelihoods:
            found.setdefault(p, []).append((k, holds[0]))
        elif tree.static[k] is None:
            closed.setdefault(p, []).append(k)
    return {p: m for p, m in found.items() if len(m) >= ABSORBED}, {k for ks in closed.values() for k in ks}


def _folded(tree, likelihoods):
    """The cliques that are one table over their separator with their parent (their other nodes cut out), no
    evidence and no children: each is multiplied into its parent's table once for all cases, and its nodes'
    sums come from the parent's belief. Returns (clique -> parent, every clique's table with those folded in)."""
    observed = {tree.home[node][0] for node in likelihoods}
    folded = {k: p for k, p in enumerate(tree.parent) if p is not None and not tree.free[k] and not tree.children[k]
              and k not in observed}
    potentials = list(tree.potentials)
    for k, p in folded.items():
        potentials[p] = potentials[p] * tree.potentials[k][tree.index(p, tree.separator[k])]
    return folded, potentials


def _log_matrix(tree, members):
    """The log tables of a parent's leaves at each of the parent's configurations: (configurations, states of
    every leaf one after the other); log 0 stands as a large negative number."""
    blocks = []
    for k, node in members:
        with np.errstate(divide="ignore"):
            logs = np.log(tree.potentials[k].reshape(tree.card[node], -1))
        blocks.append(np.where(logs > -np.inf, logs, _LOG0)[:, tree.index(tree.parent[k], tree.separator[k])].T)
    return np.concatenate(blocks, axis=1)


def _kinds(lam):
    """Per case, from a node's likelihood rows: (hard (one state at 1, the others 0), soft (neither that nor
    all ones))."""
    binary = ((lam == 0) | (lam == 1)).all(axis=1)
    hard = binary & (lam.sum(axis=1) == 1)
    return hard, ~hard & ~(lam == 1).all(axis=1)


def _chunk(tree, rows, likelihoods, weights, totals, leaves, logs, absorbed, holding, potentials):
    """One chunk of ``rows`` cases: their log P(evidence); each clique's weighted sums are added into
    ``totals``. The cliques of ``absorbed`` are not calibrated on their own; ``holding`` names, per clique, the
    nodes whose sums its belief gives."""
    local, log_scale, soft = calibrate_chunk(tree, rows, likelihoods, leaves, logs, absorbed, potentials)
    possible = np.isfinite(log_scale)
    for k in range(len(tree.cliques)):
        if k in absorbed:
            continue
        alike = {}  # the nodes of clique k whose weights are one array
        for node in holding[k]:
            if node in weights:
                alike.setdefault(id(weights[node]), []).append(node)
        if alike:  # one matrix product for every weighting of the clique's nodes
            nodes = tuple(tuple(n) for n in alike.values())
            stacked = np.stack([np.where(possible, weights[n[0]], 0.0) for n in nodes], axis=1)
            _add(totals, (k, nodes), local[k] @ stacked)
        if leaves.get(k):
            _leaf_sums(tree, k, leaves[k], local[k], likelihoods, weights, soft, possible, totals)
    return log_scale


def calibrate_chunk(tree, rows, likelihoods, leaves, logs, absorbed, potentials, wanted=None):
    """``(beliefs, log_scale, soft)``: one chunk of ``rows`` cases calibrated together. ``beliefs[k]`` is clique
    k's joint given each case, laid out (its configurations, cases): the case axis last, so that numpy's inner
    loops run along it whatever the clique's shape (None for the cliques of ``absorbed``, not calibrated on their
    own); ``log_scale`` is log P(evidence) per case (-inf when impossible); ``soft`` marks, per absorbed leaf
    clique, the cases with soft evidence on it. ``leaves``, ``logs``, ``potentials``: as :func:`prepared`
    gives them. With ``wanted`` (a set of cliques), only those cliques' beliefs are made (None elsewhere): a
    subtree with no evidence in any case, no wanted clique and a message of ones is left out, and the outward
    pass goes only towards the wanted cliques, as in the one-case calibration."""
    card, count = tree.card, len(tree.cliques)
    skip, towards = [False] * count, None
    if wanted is not None:
        seen = tree.below([*(tree.home[node][0] for node in likelihoods), *tree.marked, *wanted])
        for k in reversed(tree.order):  # parents first: a clique without evidence below whose message is ones
            p = tree.parent[k]
            skip[k] = not seen[k] and (p is None or skip[p] or tree.static[k] is None)
        towards = tree.below(wanted)  # cliques on a path from a root to a wanted clique
    indicators, soft = {}, {}  # per parent: (its leaves' hard evidence, one row per state); per leaf: soft rows
    for p, members in leaves.items():
        blocks = []
        for k, node in members:
            hard, soft[k] = _kinds(likelihoods[node])
            blocks.append((likelihoods[node] * hard[:, None]).T)
        indicators[p] = np.concatenate(blocks, axis=0)
    evidence = [[] for _ in range(count)]
    for node, lam in likelihoods.items():
        k, shape = tree.home[node]
        if k not in absorbed:
            evidence[k].append((shape, np.ascontiguousarray(lam.T)))
    local, sent = [None] * count, [None] * count  # per clique: its table times what came in; its sum to its separator
    log_scale = np.zeros(rows)
    for k in tree.order:  # inward: children before parents
        if k in absorbed or skip[k]:
            continue
        table = np.empty((len(potentials[k]), rows))
        if k in logs:  # the leaves' evidence, by one matrix product in log space
            np.matmul(logs[k], indicators[k], out=table)
            top = table.max(axis=0)
            dead = top < _DEAD
            top[dead] = 0.0
            table -= top
            np.exp(table, out=table)
            table[:, dead] = 0.0
            log_scale += top
            table *= potentials[k][:, None]
            for c, node in leaves[k]:
                if soft[c].any():
                    _soft_into(tree, table, c, likelihoods[node][soft[c]], soft[c])
        else:
            table[...] = potentials[k][:, None]
        for c in tree.children[k]:
            if c in absorbed:
                continue
            shape, message_shape, _ = tree.up[c]
            if skip[c]:  # no evidence below and a message of ones
                continue
            top = sent[c].max(axis=0)
            log_scale += np.log(top, out=np.full(rows, -np.inf), where=top > 0)
            message = sent[c] / np.where(top > 0, top, 1.0)
            table.reshape(*shape, rows)[...] *= message.reshape(*message_shape, rows)
        for (before, states, after), lam in evidence[k]:
            table.reshape(before, states, after, rows)[...] *= lam[None, :, None, :]
        local[k] = table
        if tree.parent[k] is not None:
            size = math.prod(card[v] for v in tree.separator[k])
            sent[k] = table.reshape(-1, size, rows).sum(axis=0)
    marginals = {}
    for k in reversed(tree.order):  # outward: parents before children; ``local`` becomes each clique's belief
        if k in absorbed or skip[k]:
            continue
        p = tree.parent[k]
        if p is not None and towards is not None and not towards[k]:
            local[k] = None
            continue
        if p is None:
            mass = local[k].sum(axis=0)
            log_scale += np.log(mass, out=np.full(rows, -np.inf), where=mass > 0)
            local[k] /= np.where(mass > 0, mass, 1.0)
            continue
        shape, _, out = tree.up[k]
        key = (p, tree.separator[k])  # children over one separator share its marginal
        if key not in marginals:
            marginals[key] = local[p].reshape(*shape, rows).sum(axis=out).reshape(-1, rows) if out else local[p]
        marginal = marginals[key]
        down = marginal / (sent[k] + (sent[k] == 0))  # the marginal is 0 where the child's message is
        local[k].reshape(-1, *down.shape)[...] *= down
    return local, log_scale, soft


def _add(totals, key, value):
    """``totals[key] += value``, starting from ``value``."""
    if key in totals:
        totals[key] += value
    else:
        totals[key] = value


def _soft_into(tree, table, leaf, lam, rows):
    """Multiply the message of a leaf with soft evidence ``lam`` (those rows' likelihoods) into its parent's
    ``table``, for those ``rows``."""
    node, p = tree.holds[leaf][0], tree.parent[leaf]
    message = lam @ tree.potentials[leaf].reshape(tree.card[node], -1)  # (rows, separator)
    expanded = message[:, tree.index(p, tree.separator[leaf])].T
    table[:, rows] *= expanded


def _leaf_sums(tree, p, members, belief, likelihoods, weights, soft, possible, totals):
    """The weighted family sums of the leaves absorbed into clique ``p``, from its ``belief`` (configurations,
    cases), added into ``totals``: a case observing the leaf's node in state x adds its weight times
    P(parent's configuration | case) at x (one matrix product for all leaves, under ("leaves", p, the leaf
    cliques), reduced to each separator once the chunks are done); a case
    with soft evidence adds the leaf's own belief, computed for it alone."""
    columns, at = [], []
    for k, node in members:
        weight = weights.get(node)
        if weight is not None:
            columns.append(likelihoods[node] * np.where(possible & ~soft[k], weight, 0.0)[:, None])
            at.append((k, node, weight))
    if not columns:
        return
    _add(totals, ("leaves", p, tuple(k for k, _, _ in at)), belief @ np.concatenate(columns, axis=1))
    for k, node, weight in at:
        states = tree.card[node]
        chosen = soft[k] & possible & (weight != 0)
        if chosen.any():
            table = tree.potentials[k].reshape(states, -1)
            flat = np.zeros(table.size)
            for i in np.flatnonzero(chosen):
                marginal = tree.sum_to(p, tree.separator[k], np.ascontiguousarray(belief[:, i]))
                lam = likelihoods[node][i]
                sent = lam @ table
                joint = table * lam[:, None] * np.divide(marginal, sent, out=np.zeros_like(marginal), where=sent > 0)
                flat += weight[i] * joint.reshape(-1)
            _add(totals, (k, ((node,),)), flat[:, None])
