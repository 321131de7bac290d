"""A junction tree of one network: every family's joint with the evidence of one case, in one calibration.

In plain terms: the network is compiled once into a tree of overlapping
groups of nodes (*cliques*) such that every node table lies within one
clique and any two cliques share exactly what lies between them. Passing one
summary inwards and one outwards along the tree (a *calibration*) gives, for
one case, P(evidence) and the joint of every clique's nodes with the
evidence, hence of every node's family. Those are what exact sensitivity
functions need (:mod:`model.analysis.sensitivity`): P(evidence) is linear in
the table of any one node, with the coefficients
:meth:`Calibration.table_gradient` returns.

The cliques come from eliminating the moral graph's nodes greedily, the one
adding the fewest new edges first (ties: the smallest clique), as pgmpy and
pyAgrum triangulate. A calibration leaves out every subtree without evidence
whose tables sum to one (the barren part of the network for this case), and
passes summaries outwards only to the cliques a question needs (*lazy*, as
pyAgrum's LazyPropagation). Every table is flat; a clique lists first the
nodes it shares with its parent, so its summary to the parent is one
reshape and sum. Pure apart from caches: takes tables, returns arrays.

Examples
--------
Rain causes wet grass; the grass is seen wet:

>>> import numpy as np
>>> tables = {"rain": (("rain",), np.array([0.8, 0.2])),
...           "wet": (("wet", "rain"), np.array([[0.9, 0.1], [0.1, 0.9]]))}
>>> tree = compile_junction_tree(tables, {"rain": 2, "wet": 2})
>>> case = tree.calibrate({"wet": np.array([0.0, 1.0])})
>>> round(float(np.exp(case.log_evidence)), 4)  # P(wet) = 0.8 * 0.1 + 0.2 * 0.9
0.26
>>> case.marginal(("rain",)).round(4)  # P(rain | wet) = 0.18 / 0.26
array([0.3077, 0.6923])
>>> case.table_gradient("wet").round(4)  # d P(wet seen) / d P(wet = w | rain = r)
array([[0. , 0. ],
       [0.8, 0.2]])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Calibration", "JunctionTree", "compile_junction_tree"]

#: Largest clique, in configurations, that a compile accepts (2^27 floats is 1 GiB).
MAX_CLIQUE = 2**27


def _aligned(array, scope, target):
    """``array`` over ``scope`` (one axis per variable) as a view broadcasting over ``target`` (a superset)."""
    order = sorted(range(len(scope)), key=lambda k: target.index(scope[k]))
    array = array.transpose(order)
    present = {scope[k] for k in order}
    shape, it = [], iter(array.shape)
    for v in target:
        shape.append(next(it) if v in present else 1)
    return array.reshape(shape)


def _index(scope, sub, card):
    """For every configuration of ``scope`` (flat, first variable slowest), the flat index of its
    sub-configuration over ``sub`` (first variable of ``sub`` slowest)."""
    index = np.zeros([card[v] for v in scope], dtype=np.intp)
    stride = 1
    for v in reversed(sub):
        shape = [card[v] if u == v else 1 for u in scope]
        index += (np.arange(card[v]) * stride).reshape(shape)
        stride *= card[v]
    return index.reshape(-1)


def _flat(array, scope, target, card):
    """``array`` over ``scope`` as a flat vector over every configuration of ``target`` (a superset)."""
    return np.broadcast_to(_aligned(array, scope, target), [card[v] for v in target]).reshape(-1)


@dataclass(frozen=True, eq=False)
class JunctionTree:
    """A compiled junction tree. Each clique lists its parent separator's variables first, so its flat
    table sums to that separator by one reshape; ``up[k]`` maps every configuration of clique k's parent to
    the configuration of their separator."""

    card: dict
    cliques: tuple  # per clique: its variables, the separator with its parent first
    parent: tuple  # per clique: its parent clique, None at a root
    children: tuple  # per clique: its child cliques
    separator: tuple  # per clique: the variables it shares with its parent
    up: tuple  # per clique: index from its parent's configurations to their separator's (None at a root)
    holds: tuple  # per clique: the nodes whose table it multiplies in
    free: tuple  # per clique: its variables outside the separator with its parent (in its order)
    holder: dict  # node -> the clique multiplying in its table
    static: tuple  # per clique: its message to its parent without evidence, largest entry 1 (None: ones)
    static_log: tuple  # per clique: log of what that message was divided by, over its whole subtree
    home: dict  # node -> (clique multiplying in its evidence, index from that clique to the node's state)
    order: tuple  # cliques children first (a post-order of every tree of the forest)
    potentials: tuple  # per clique: the product of the tables it holds, flat over its configurations
    tables: dict  # node -> (family scope (node, *parents), array over it)
    by_size: tuple  # the cliques, smallest first
    subtree: tuple  # per clique: the configurations of its subtree's cliques, all together
    indexes: dict  # (clique, nodes) -> index of the nodes' configurations (a cache, see index)

    def within(self, nodes):
        """The cliques holding every node of ``nodes``, smallest first."""
        wanted = set(nodes)
        return [k for k in self.by_size if wanted <= set(self.cliques[k])]

    def index(self, k, nodes):
        """For every configuration of clique k, the flat index of its configuration of ``nodes`` (cached)."""
        key = (k, tuple(nodes))
        if key not in self.indexes:
            self.indexes[key] = _index(self.cliques[k], tuple(nodes), self.card)
        return self.indexes[key]

    def calibrate(self, likelihoods=None):
        """Calibrate on one case: ``likelihoods`` maps nodes to a likelihood vector over their states (hard
        evidence is a 0/1 vector). Returns a :class:`Calibration`.

        A subtree without evidence is left out of both passes: it sends the prior's message computed at
        compile time (ones when its tables are exactly those of the nodes it sums out), and its beliefs are
        computed only if a marginal asks for them.
        """
        likelihoods = likelihoods or {}
        count = len(self.cliques)
        seen = [False] * count
        for node in likelihoods:
            seen[self.home[node][0]] = True
        for k in self.order:
            if seen[k] and self.parent[k] is not None:
                seen[self.parent[k]] = True
        skip = [False] * count
        for k in reversed(self.order):
            p = self.parent[k]
            skip[k] = (p is not None and skip[p]) or not seen[k]
        evidence = [[] for _ in range(count)]  # per clique: the (index, likelihood) of the evidence it holds
        observed = [[] for _ in range(count)]  # per clique: (node, likelihood)
        for node, lam in likelihoods.items():
            k, index = self.home[node]
            lam = np.asarray(lam, dtype=float)
            evidence[k].append((index, lam))
            observed[k].append((node, lam))
        live_child = [False] * count  # whether a clique has a child's message to multiply in
        for k in range(count):
            p = self.parent[k]
            if p is not None and not skip[p] and (not skip[k] or self.static[k] is not None):
                live_child[p] = True
        # a clique with no child to wait for and evidence only on what it sums out sends its message by one
        # matrix product (its table times the evidence), without a copy; its belief is made when asked for
        deferred = [not skip[k] and not live_child[k] and self.parent[k] is not None
                    and all(node in self.free[k] for node, _ in observed[k]) for k in range(count)]
        beliefs = [None if skip[k] or deferred[k] else p.copy() for k, p in enumerate(self.potentials)]
        for k in range(count):
            if beliefs[k] is not None:
                for index, lam in evidence[k]:
                    beliefs[k] *= lam[index]
        log_scale = 0.0
        messages = [None] * count
        for k in self.order:  # collect: children before parents
            p = self.parent[k]
            if p is None or (skip[k] and skip[p]):
                continue
            if skip[k]:  # no evidence below: the message of the prior, computed once at compile time
                if self.static[k] is not None:
                    beliefs[p] *= self.static[k][self.up[k]]
                    log_scale += self.static_log[k]
                continue
            size = _size(self.separator[k], self.card)
            if deferred[k]:
                free = self.free[k]
                weights = np.ones([self.card[v] for v in free])
                for node, lam in observed[k]:
                    weights = weights * lam.reshape([len(lam) if v == node else 1 for v in free])
                message = self.potentials[k].reshape(size, -1) @ weights.reshape(-1)
            else:
                message = beliefs[k].reshape(size, -1).sum(axis=1)
            top = message.max()
            if top > 0:
                message /= top
                log_scale += math.log(top)
            messages[k] = message
            beliefs[p] *= message[self.up[k]]
        roots = [k for k in self.order if self.parent[k] is None and not skip[k]]
        totals = [beliefs[k].sum() for k in roots]
        if totals and min(totals) <= 0:
            return Calibration(self, beliefs, -math.inf, evidence, messages, [False] * count, {})
        for k, total in zip(roots, totals):
            beliefs[k] /= total
        done = [False] * count  # whether beliefs[k] is calibrated; the others are computed when asked for
        for k in roots:
            done[k] = True
        log_evidence = log_scale + sum(math.log(t) for t in totals)
        return Calibration(self, beliefs, log_evidence, evidence, messages, done, {})


def _size(scope, card):
    return math.prod(card[v] for v in scope)


@dataclass(frozen=True, eq=False)
class Calibration:
    """One case's calibrated tree. ``belief(k)`` = P(clique k's variables | evidence), flat;
    ``log_evidence`` = log P(evidence) (-inf when the evidence is impossible). Cliques the calibration
    left out (no evidence below them) are calibrated when first asked for, and kept."""

    tree: JunctionTree
    beliefs: list  # None: not computed yet
    log_evidence: float
    evidence: list  # per clique: the (index, likelihood) of the evidence it multiplies in
    messages: list  # per clique: its collect message to its parent, up to a constant; None: ones
    done: list  # per clique: whether ``beliefs`` holds its calibrated belief yet
    downs: dict  # clique -> the message from its parent, when asked for (see _down)

    def belief(self, k):
        """P(clique k's variables | evidence), flat over its configurations (calibrated when first asked)."""
        if not self.done[k]:
            tree = self.tree
            if self.beliefs[k] is None:  # left out of the collect pass, or its message sent by a product
                local = tree.potentials[k].copy()
                for index, lam in self.evidence[k]:
                    local *= lam[index]
                for c in tree.children[k]:
                    message = self._message(c)
                    if message is not None:
                        local *= message[tree.up[c]]
                mine = local.reshape(_size(tree.separator[k], tree.card), -1).sum(axis=1) \
                    if tree.parent[k] is not None else None
            else:
                local, mine = self.beliefs[k], self.messages[k]
            p = tree.parent[k]
            if p is not None:
                new = np.bincount(tree.up[k], weights=self.belief(p), minlength=len(mine))
                ratio = np.divide(new, mine, out=np.zeros_like(new), where=mine > 0)
                local.reshape(len(ratio), -1)[...] *= ratio[:, None]
            total = local.sum()
            self.beliefs[k] = local / total if total > 0 else local
            self.done[k] = True
        return self.beliefs[k]

    def _message(self, c):
        """Clique c's message to its parent, up to a constant (None: ones): from the inward pass, or for a
        subtree without evidence the one computed at compile time."""
        return self.messages[c] if self.messages[c] is not None else self.tree.static[c]

    def marginal(self, nodes):
        """P(nodes | evidence) over ``nodes`` (one axis each, in the order given); the nodes must share a
        clique. Taken from the smallest clique already calibrated that holds them, else the smallest."""
        nodes = tuple(nodes)
        within = self.tree.within(nodes)
        if not within:
            raise ValueError(f"no clique of the junction tree holds all of {nodes}")
        return self._marginal_in(min(within, key=self._cost), nodes)

    def _cost(self, k):
        """Roughly the work of calibrating clique k now: its size, plus that of every clique above it not yet
        calibrated (its whole subtree for a clique left out of the collect pass)."""
        tree, cost = self.tree, len(self.tree.potentials[k])
        while k is not None and not self.done[k]:
            cost += len(tree.potentials[k]) if self.beliefs[k] is not None else tree.subtree[k]
            k = tree.parent[k]
        return cost

    def _marginal_in(self, k, nodes, vector=None):
        card = self.tree.card
        vector = self.belief(k) if vector is None else vector
        flat = np.bincount(self.tree.index(k, nodes), weights=vector, minlength=_size(nodes, card))
        return flat.reshape([card[v] for v in nodes])

    def _without(self, k, node):
        """Clique k's belief without ``node``'s table, up to a constant, by the product of its other factors
        (no division, so exact where the table is 0): its other tables, its evidence, its children's
        messages and its parent's message (:meth:`_down`)."""
        tree = self.tree
        clique = tree.cliques[k]
        rest = np.ones(_size(clique, tree.card))
        for other in tree.holds[k]:
            if other != node:
                rest *= _flat(tree.tables[other][1], tree.tables[other][0], clique, tree.card)
        for index, lam in self.evidence[k]:
            rest *= lam[index]
        for c in tree.children[k]:
            message = self._message(c)
            if message is not None:
                rest *= message[tree.up[c]]
        if tree.parent[k] is not None:
            down = self._down(k)
            rest.reshape(len(down), -1)[...] *= down[:, None]
        return rest

    def _down(self, k):
        """The message clique k receives from its parent, over their separator, up to a constant: the
        parent's tables, evidence and other messages, summed (no division)."""
        if k not in self.downs:
            tree = self.tree
            p = tree.parent[k]
            local = tree.potentials[p].copy()
            for index, lam in self.evidence[p]:
                local *= lam[index]
            for c in tree.children[p]:
                message = self._message(c) if c != k else None
                if message is not None:
                    local *= message[tree.up[c]]
            if tree.parent[p] is not None:
                down = self._down(p)
                local.reshape(len(down), -1)[...] *= down[:, None]
            message = np.bincount(tree.up[k], weights=local, minlength=_size(tree.separator[k], tree.card))
            top = message.max()
            self.downs[k] = message / top if top > 0 else message
        return self.downs[k]

    def table_gradient(self, node):
        """d P(evidence) / d P(node = x | parents = u) for every cell, over (node, *parents): P(evidence)
        is ``(gradient * table).sum()`` for any table of ``node``, every other table fixed."""
        tree = self.tree
        scope, table = tree.tables[node]
        if math.isinf(self.log_evidence):
            return np.zeros_like(table)
        k = tree.holder[node]
        evidence = math.exp(self.log_evidence)
        joint = self._marginal_in(k, scope) * evidence  # P(node, parents, evidence)
        gradient = np.divide(joint, table, out=np.zeros_like(joint), where=table > 0)
        if (table > 0).all():
            return gradient
        clique, card = tree.cliques[k], tree.card  # cells where the table is 0: the clique's other factors
        rest = self._without(k, node)
        total = (rest * _flat(table, scope, clique, card)).sum()  # the belief's total (1) times a constant
        summed = self._marginal_in(k, scope, rest) * (evidence / total)
        return np.where(table > 0, gradient, summed)


def compile_junction_tree(tables, card, max_clique=MAX_CLIQUE, root=()):
    """Compile ``tables`` (node -> (family scope (node, *parents), array over it)) into a
    :class:`JunctionTree`. ``card`` maps each node to its number of states; ``root``: nodes whose clique
    should be the root (the smallest clique holding them all, when there is one), so that their joint
    is ready after the inward pass alone."""
    nodes = list(card)
    position = {v: i for i, v in enumerate(nodes)}
    neighbours = {v: set() for v in nodes}
    for scope, _ in tables.values():
        for a in scope:
            neighbours[a].update(u for u in scope if u != a)
    # greedy min-fill elimination (ties: smallest clique, then node order)
    graph = {v: set(n) for v, n in neighbours.items()}

    def fill(v):
        near = list(graph[v])
        return sum(1 for i, a in enumerate(near) for b in near[i + 1:] if b not in graph[a])

    def weight(v):
        return math.prod(card[u] for u in graph[v]) * card[v]

    score = {v: (fill(v), weight(v), position[v]) for v in nodes}
    eliminated, cliques_of = [], {}
    while score:
        v = min(score, key=score.get)
        near = graph[v]
        clique = (v,) + tuple(sorted(near, key=position.get))
        size = math.prod(card[u] for u in clique)
        if size > max_clique:
            raise MemoryError(f"the junction tree needs a clique of {size:,} configurations "
                              f"({len(clique)} nodes), above the limit of {max_clique:,}.")
        cliques_of[v] = clique
        eliminated.append(v)
        touched = set(near)
        for a in near:
            graph[a].discard(v)
            for b in near:
                if a != b and b not in graph[a]:
                    graph[a].add(b)
        del graph[v], score[v]
        for a in near:
            touched.update(graph[a])
        for a in touched:
            if a in score:
                score[a] = (fill(a), weight(a), position[a])
    rank = {v: i for i, v in enumerate(eliminated)}
    # elimination tree: clique of v hangs under the clique of its first-eliminated later neighbour
    cliques, parent, index = [], [], {}
    for v in eliminated:
        index[v] = len(cliques)
        cliques.append(cliques_of[v])
    for v in eliminated:
        later = cliques_of[v][1:]
        parent.append(index[min(later, key=rank.get)] if later else None)
    # drop a parent clique held within its child (it adds nothing): the child takes its place
    alive = list(range(len(cliques)))
    for k in range(len(cliques)):
        p = parent[k]
        if k in alive and p is not None and set(cliques[p]) <= set(cliques[k]):
            for j in alive:
                if parent[j] == p and j != k:
                    parent[j] = k
            parent[k] = parent[p]
            alive.remove(p)
            index.update({v: k for v, i in index.items() if i == p})
    renumber = {k: i for i, k in enumerate(alive)}
    cliques = [cliques[k] for k in alive]
    parent = [renumber[parent[k]] if parent[k] is not None else None for k in alive]
    home = {v: renumber[index[v]] for v in eliminated}
    if root:  # the tree re-hung from the smallest clique holding ``root``: its belief needs no outward pass
        holding = [k for k in range(len(cliques)) if set(root) <= set(cliques[k])]
        if holding:
            path = [min(holding, key=lambda k: (_size(cliques[k], card), k))]
            while parent[path[-1]] is not None:
                path.append(parent[path[-1]])
            for child, above in zip(path, path[1:]):
                parent[above] = child
            parent[path[0]] = None
    holds = [[] for _ in cliques]
    for node, (scope, _) in tables.items():
        first = min(scope, key=rank.get)
        holds[home[first]].append(node)
    separator = tuple(tuple(v for v in cliques[k] if parent[k] is not None and v in cliques[parent[k]])
                      for k in range(len(cliques)))
    cliques = [sep + tuple(v for v in scope if v not in sep) for scope, sep in zip(cliques, separator)]
    up = tuple(_index(cliques[p], separator[k], card) if p is not None else None for k, p in enumerate(parent))
    children = [[] for _ in cliques]
    for k, p in enumerate(parent):
        if p is not None:
            children[p].append(k)
    order = []
    for root in (k for k, p in enumerate(parent) if p is None):
        stack = [(root, False)]
        while stack:
            k, done = stack.pop()
            if done:
                order.append(k)
                continue
            stack.append((k, True))
            stack.extend((c, False) for c in children[k])
    potentials = []
    for k, scope in enumerate(cliques):
        potential = np.ones([card[v] for v in scope])
        for node in holds[k]:
            s, t = tables[node]
            potential = potential * _aligned(t, s, scope)
        potentials.append(np.broadcast_to(potential, [card[v] for v in scope]).reshape(-1).copy())
    held, inside, closed = [set(h) for h in holds], [set(c) for c in cliques], [False] * len(cliques)
    for k in order:  # children first: a subtree sums to 1 when it holds the tables of exactly what it sums out
        closed[k] = held[k] == inside[k] - set(separator[k])
        p = parent[k]
        if p is not None:
            held[p] |= held[k]
            inside[p] |= inside[k]
    holder = {node: k for k, h in enumerate(holds) for node in h}
    static, static_log = [None] * len(cliques), [0.0] * len(cliques)
    for k in order:  # the inward pass without evidence: each subtree's message of the prior
        if parent[k] is None or closed[k]:
            continue
        local = potentials[k]
        for c in children[k]:
            if static[c] is not None:
                local = local * static[c][up[c]]
                static_log[k] += static_log[c]
        message = local.reshape(_size(separator[k], card), -1).sum(axis=1)
        top = message.max()
        static[k], static_log[k] = message / top, static_log[k] + math.log(top)
    subtree = [len(p) for p in potentials]
    for k in order:
        if parent[k] is not None:
            subtree[parent[k]] += subtree[k]
    home = {v: (k, _index(cliques[k], (v,), card)) for v, k in home.items()}
    return JunctionTree(dict(card), tuple(cliques), tuple(parent), tuple(tuple(c) for c in children), separator, up, tuple(tuple(h) for h in holds),
                        tuple(scope[len(sep):] for scope, sep in zip(cliques, separator)),
                        holder, tuple(static), tuple(static_log), home, tuple(order), tuple(potentials), dict(tables),
                        tuple(sorted(range(len(cliques)), key=lambda k: (len(potentials[k]), k))), tuple(subtree), {})
