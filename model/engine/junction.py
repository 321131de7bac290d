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
pyAgrum's LazyPropagation). Every table is flat; a clique lists last the
nodes it shares with its parent, in the parent's order, so its summary to
the parent is one matrix product and multiplies into the parent by
broadcasting; messages over one separator are multiplied together before
they go into the clique. Pure apart from caches: takes tables, returns
arrays.

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

from .flat import into, onto, runs, times, to_separator

__all__ = ["Calibration", "JunctionTree", "compile_junction_tree"]

#: Largest clique, in configurations, that a compile accepts (2^27 floats is 1 GiB).
MAX_CLIQUE = 2**27
#: Most configurations of all cliques together that a compile accepts (2^28 floats is 2 GiB; a calibration's
#: arrays take as much again).
MAX_TREE = 2**28
#: Messages over small separators are multiplied together while their product has at most this many
#: configurations, before they go into a large table.
MERGED = 4096
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
    """A compiled junction tree. Each clique lists its parent separator's variables last, so its flat
    table sums to that separator by one matrix product, and lists that separator in its parent's order, so a message
    multiplies into the parent, and the parent's belief sums to the separator, by broadcasting: ``up[k]`` is
    the parent's shape in runs of consecutive variables in or out of the separator, the message's shape over
    the same runs (1 where out) and the axes of the runs out."""

    card: dict
    cliques: tuple  # per clique: its variables, the separator with its parent last
    parent: tuple  # per clique: its parent clique, None at a root
    children: tuple  # per clique: its child cliques
    separator: tuple  # per clique: the variables it shares with its parent
    up: tuple  # per clique: (parent's run shape, message's run shape, runs out) (None at a root); see _into
    nested: tuple  # per clique: whether its separator lies within its parent's own separator (see _merge)
    holds: tuple  # per clique: the nodes whose table it multiplies in
    free: tuple  # per clique: its variables outside the separator with its parent (in its order)
    holder: dict  # node -> the clique multiplying in its table
    static: tuple  # per clique: its message to its parent without evidence, largest entry 1 (None: ones)
    static_log: tuple  # per clique: log of what that message was divided by, over its whole subtree
    home: dict  # node -> (clique multiplying in its evidence, its shape around the node: see _times)
    order: tuple  # cliques children first (a post-order of every tree of the forest)
    potentials: tuple  # per clique: the product of the tables it holds, flat over its configurations
    tables: dict  # node -> (family scope (node, *parents), array over it)
    by_size: tuple  # the cliques, smallest first
    subtree: tuple  # per clique: the configurations of its subtree's cliques, all together
    indexes: dict  # (clique, nodes) -> index of the nodes' configurations (a cache, see index)
    marked: tuple = ()  # cliques calibrated as if they held evidence (hard evidence cut out: model.engine.sliced)
    elimination: tuple = ()  # the order the nodes were eliminated in

    def within(self, nodes):
        """The cliques holding every node of ``nodes``, smallest first (cached)."""
        key = ("within", frozenset(nodes))
        if key not in self.indexes:
            self.indexes[key] = [k for k in self.by_size if key[1] <= set(self.cliques[k])]
        return self.indexes[key]

    def index(self, k, nodes):
        """For every configuration of clique k, the flat index of its configuration of ``nodes`` (cached)."""
        key = (k, tuple(nodes))
        if key not in self.indexes:
            self.indexes[key] = _index(self.cliques[k], tuple(nodes), self.card)
        return self.indexes[key]

    def sum_to(self, k, nodes, belief):
        """Clique k's flat ``belief`` summed to ``nodes``, flat in their order: summed in the clique's order (by
        reshaping), then the small result's axes put in the order asked for."""
        nodes, scope = tuple(nodes), self.cliques[k]
        ordered = tuple(sorted(nodes, key=scope.index))
        summed = onto(belief, self._runs_of(k, scope, ordered))
        if ordered == nodes:
            return summed
        summed = summed.reshape([self.card[v] for v in ordered]).transpose([ordered.index(v) for v in nodes])
        return summed.reshape(-1)

    def _runs_of(self, where, scope, nodes):
        """:func:`runs` of ``nodes`` (in ``scope``'s order) within ``scope``, cached under ``where``."""
        key = ("runs", where, tuple(nodes))
        if key not in self.indexes:
            self.indexes[key] = runs(scope, nodes, self.card)
        return self.indexes[key]

    def below(self, cliques):
        """Per clique: whether it, or a clique of its subtree, is one of ``cliques``."""
        found = [False] * len(self.cliques)
        for k in cliques:
            found[k] = True
        for k in self.order:
            if found[k] and self.parent[k] is not None:
                found[self.parent[k]] = True
        return found

    def calibrate(self, likelihoods=None, scratch=None):
        """Calibrate on one case: ``likelihoods`` maps nodes to a likelihood vector over their states (hard
        evidence is a 0/1 vector). Returns a :class:`Calibration`. ``scratch``, a dict, lends the calibration
        arrays it keeps for the next call (fresh large arrays cost page faults): the result is then valid only
        until the next calibration with the same ``scratch``.

        A subtree without evidence is left out of both passes: it sends the prior's message computed at
        compile time (ones when its tables are exactly those of the nodes it sums out), and its beliefs are
        computed only if a marginal asks for them.
        """
        likelihoods = likelihoods or {}
        count = len(self.cliques)
        seen = self.below([*(self.home[node][0] for node in likelihoods), *self.marked])
        skip = [False] * count
        for k in reversed(self.order):
            p = self.parent[k]
            skip[k] = (p is not None and skip[p]) or not seen[k]
        evidence = [[] for _ in range(count)]  # per clique: the (shape, likelihood) of the evidence it holds
        observed = [[] for _ in range(count)]  # per clique: (node, likelihood)
        for node, lam in likelihoods.items():
            k, shape = self.home[node]
            lam = np.asarray(lam, dtype=float)
            evidence[k].append((shape, lam))
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
        beliefs, messages = [None] * count, [None] * count
        tops = [1.0] * count  # per clique: what its collect message was divided by (see Calibration.belief)
        pending = [{} for _ in range(count)]  # per clique: separator -> [product of children's messages, runs]
        log_scale = 0.0
        for k in self.order:  # collect: children before parents
            p = self.parent[k]
            if skip[k]:  # no evidence below: the message of the prior, computed once at compile time
                if p is None or skip[p] or self.static[k] is None:
                    continue
                message = self.static[k]
                log_scale += self.static_log[k]
            else:
                if deferred[k]:
                    free = self.free[k]
                    weights = np.ones([self.card[v] for v in free])
                    for node, lam in observed[k]:
                        weights = weights * lam.reshape([len(lam) if v == node else 1 for v in free])
                    table = self.potentials[k]
                    # nothing left to sum (its free nodes observed and cut out): the table is the message
                    message = table if weights.size == 1 and not observed[k] else \
                        weights.reshape(-1) @ table.reshape(weights.size, -1)
                else:
                    beliefs[k] = self._local(k, evidence[k], self._groups(k, pending[k]), scratch)
                    if p is None:
                        continue
                    message = to_separator(beliefs[k], _size(self.separator[k], self.card))
                top = message.max()
                if top > 0:
                    if message is self.potentials[k]:  # read only: divided into a new array
                        message = message / top
                    else:
                        message /= top
                    log_scale += math.log(top)
                    tops[k] = top
                messages[k] = message
            if self.nested[k]:  # over part of the parent's own separator: gathered over that first
                _merge(pending[p].setdefault(None, []), self.separator[k], message, self.separator[p], self.card)
                continue
            group = pending[p].get(self.separator[k])
            if group is None:  # messages over one separator are multiplied together first, then into the parent
                pending[p][self.separator[k]] = [message, self.up[k]]
            else:
                group[0] = group[0] * message
        roots = [k for k in self.order if self.parent[k] is None and not skip[k]]
        totals = [beliefs[k].sum() for k in roots]
        if totals and min(totals) <= 0:
            return Calibration(self, beliefs, -math.inf, evidence, messages, tops, [False] * count, {})
        for k, total in zip(roots, totals):
            beliefs[k] /= total
        done = [False] * count  # whether beliefs[k] is calibrated; the others are computed when asked for
        for k in roots:
            done[k] = True
        log_evidence = log_scale + sum(math.log(t) for t in totals)
        return Calibration(self, beliefs, log_evidence, evidence, messages, tops, done, {})

    def _groups(self, k, pending):
        """Clique k's groups of messages, ``(product over a separator, runs)`` pairs: the small factors
        gathered over k's own separator (see :func:`_merge`) become one array over it."""
        groups = [group for key, group in pending.items() if key is not None]
        if None in pending:
            separator = self.separator[k]
            size = _size(separator, self.card)
            product = np.ones(size)
            for scope, factor in pending[None]:
                into(product, factor, self._runs_of(("nested", k), separator, scope))
            groups.append((product, ((len(self.potentials[k]) // size, size), (1, size), (0,))))
        return groups

    def _local(self, k, evidence, groups, scratch=None):
        """Clique k's table times its ``evidence`` ((shape, likelihood) pairs) and ``groups`` of messages
        ((product over a separator, runs) pairs): a new flat array, or ``scratch[k]`` overwritten."""
        potential = self.potentials[k]
        if scratch is None:
            local = np.empty(len(potential))
        else:  # a clique's tables differ in size with the nodes cut out of them (model.engine.sliced)
            local = scratch.get(k)
            if local is None or len(local) < len(potential):
                local = scratch[k] = np.empty(len(potential))
            local = local[:len(potential)]
        source = potential  # the first message multiplies the table into ``local``, without a copy first
        for product, up in groups:
            into(local, product, up, source)
            source = None
        if source is not None:
            np.copyto(local, source)
        for shape, lam in evidence:
            times(local, shape, lam)
        return local


def _size(scope, card):
    return math.prod(card[v] for v in scope)


def _merge(factors, scope, message, order, card):
    """Add ``message`` (flat over ``scope``) to ``factors``, a list of (scope, flat array) over variables
    of ``order`` (each scope in its order): multiplied into the first factor whose union with it has at most
    ``MERGED`` configurations, else appended. Small products are cheap; each factor left costs one pass over
    the large array it goes into."""
    for i, (other, factor) in enumerate(factors):
        union = set(other) | set(scope)
        if _size(union, card) <= MERGED:
            target = tuple(v for v in order if v in union)
            product = _aligned(factor.reshape([card[v] for v in other]), other, target) * \
                _aligned(message.reshape([card[v] for v in scope]), scope, target)
            factors[i] = (target, product.reshape(-1))
            return
    factors.append((tuple(scope), message))


@dataclass(frozen=True, eq=False)
class Calibration:
    """One case's calibrated tree. ``belief(k)`` = P(clique k's variables | evidence), flat;
    ``log_evidence`` = log P(evidence) (-inf when the evidence is impossible). Cliques the calibration
    left out (no evidence below them) are calibrated when first asked for, and kept."""

    tree: JunctionTree
    beliefs: list  # None: not computed yet
    log_evidence: float
    evidence: list  # per clique: the (shape, likelihood) of the evidence it multiplies in (see _times)
    messages: list  # per clique: its collect message to its parent, up to a constant; None: ones
    tops: list  # per clique: what its collect message was divided by (1 when it has none)
    done: list  # per clique: whether ``beliefs`` holds its calibrated belief yet
    downs: dict  # clique -> the message from its parent, when asked for (see _down)

    def belief(self, k):
        """P(clique k's variables | evidence), flat over its configurations (calibrated when first asked)."""
        if not self.done[k]:
            tree = self.tree
            if self.beliefs[k] is None:  # left out of the collect pass, or its message sent by a product
                messages = [(self._message(c), tree.up[c]) for c in tree.children[k]]
                local = tree._local(k, self.evidence[k], [(m, up) for m, up in messages if m is not None])
                mine = to_separator(local, _size(tree.separator[k], tree.card)) \
                    if tree.parent[k] is not None else None
            else:  # its collect message: its belief summed to the separator, divided by tops[k] (None at a root)
                local = self.beliefs[k]
                mine = self.messages[k] * self.tops[k] if self.messages[k] is not None else None
            p = tree.parent[k]
            if p is None:
                total = local.sum()
                self.beliefs[k] = local / total if total > 0 else local
            else:  # times P(separator) / its sum to the separator: it then sums to 1, with no pass to divide
                new = self._separator_belief(k)
                ratio = np.divide(new, mine, out=np.zeros_like(new), where=mine > 0)
                local.reshape(-1, len(ratio))[...] *= ratio
                self.beliefs[k] = local
            self.done[k] = True
        return self.beliefs[k]

    def _separator_belief(self, k):
        """P(separator of clique k with its parent | evidence), flat in the separator's order: from the parent's
        belief, or, when the parent is not calibrated yet, from the smallest calibrated clique holding the
        separator (every clique with the root, say), which spares calibrating the path in between."""
        tree = self.tree
        p = tree.parent[k]
        if not self.done[p]:
            for j in tree.within(tree.separator[k]):
                if self.done[j]:
                    return self._marginal_in(j, tree.separator[k]).reshape(-1)
        return onto(self.belief(p), tree.up[k])

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
        """Roughly the work of a marginal from clique k now: its size, plus that of every clique above it not yet
        calibrated (its whole subtree for a clique left out of the collect pass), plus the calibrated clique
        above them, whose belief is summed to their separator."""
        tree, cost, start = self.tree, len(self.tree.potentials[k]), k
        while k is not None and not self.done[k]:
            cost += len(tree.potentials[k]) if self.beliefs[k] is not None else tree.subtree[k]
            k = tree.parent[k]
        if k is not None and k != start:
            cost += len(tree.potentials[k])
        return cost

    def _marginal_in(self, k, nodes, vector=None):
        vector = self.belief(k) if vector is None else vector
        return self.tree.sum_to(k, nodes, vector).reshape([self.tree.card[v] for v in nodes])

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
        for shape, lam in self.evidence[k]:
            times(rest, shape, lam)
        for c in tree.children[k]:
            message = self._message(c)
            if message is not None:
                into(rest, message, tree.up[c])
        if tree.parent[k] is not None:
            down = self._down(k)
            rest.reshape(-1, len(down))[...] *= down
        return rest

    def _down(self, k):
        """The message clique k receives from its parent, over their separator, up to a constant: the
        parent's tables, evidence and other messages, summed (no division)."""
        if k not in self.downs:
            tree = self.tree
            p = tree.parent[k]
            local = tree.potentials[p].copy()
            for shape, lam in self.evidence[p]:
                times(local, shape, lam)
            for c in tree.children[p]:
                message = self._message(c) if c != k else None
                if message is not None:
                    into(local, message, tree.up[c])
            if tree.parent[p] is not None:
                down = self._down(p)
                local.reshape(-1, len(down))[...] *= down
            message = onto(local, tree.up[k])
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


def _lift(cliques, parent, card):
    """Hang every clique, in place, under its smallest ancestor holding all it shares with its parent (its
    separator stays the same, by the running intersection property): its messages then go into a smaller
    table, and a large clique in between may be left out of a calibration. Parents are lifted first."""
    children = [[] for _ in cliques]
    for k, p in enumerate(parent):
        if p is not None:
            children[p].append(k)
    queue = [k for k, p in enumerate(parent) if p is None]
    for k in queue:  # breadth first: a clique's ancestors are settled before it is
        queue.extend(children[k])
        p = parent[k]
        if p is None:
            continue
        shared, best, above = set(cliques[k]) & set(cliques[p]), p, parent[p]
        while above is not None:
            if shared <= set(cliques[above]) and _size(cliques[above], card) < _size(cliques[best], card):
                best = above
            above = parent[above]
        parent[k] = best


def _forest(eliminated, cliques_of):
    """``(cliques, parent, home, rank)`` of an elimination: its cliques, the clique of each node hung under the
    clique of its first-eliminated later neighbour (a clique held within its child dropped: the child takes its
    place), the clique each node was eliminated in, and each node's position in the elimination."""
    rank = {v: i for i, v in enumerate(eliminated)}
    cliques, parent, index = [], [], {}
    for v in eliminated:
        index[v] = len(cliques)
        cliques.append(cliques_of[v])
    for v in eliminated:
        later = cliques_of[v][1:]
        parent.append(index[min(later, key=rank.get)] if later else None)
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
    return cliques, parent, {v: renumber[index[v]] for v in eliminated}, rank


def _total(cliques, card):
    return sum(_size(clique, card) for clique in cliques)


def _eliminate(neighbours, card, position, elimination=None, last=frozenset()):
    """``(eliminated, cliques_of)``: the nodes of the moral graph ``neighbours`` (node -> set of neighbours) in
    the order they are eliminated, and each one's clique (itself, then its neighbours at that moment in
    ``position`` order). The order is ``elimination`` (nodes not in the graph skipped) or, when None, greedy
    min-fill: the node adding the fewest new edges first (ties: the smallest clique, then ``position``), the
    nodes of ``last`` only when no other is left (so that one clique holds them all)."""
    graph = {v: set(n) for v, n in neighbours.items()}

    def fill(v):
        near = list(graph[v])
        return sum(1 for i, a in enumerate(near) for b in near[i + 1:] if b not in graph[a])

    def weight(v):
        return math.prod(card[u] for u in graph[v]) * card[v]

    given_order = None if elimination is None else [v for v in elimination if v in graph]
    score = {v: (fill(v), weight(v), position[v]) for v in graph} if given_order is None else {}
    eliminated, cliques_of = [], {}
    for step in range(len(graph)):
        if given_order is not None:
            v = given_order[step]
        elif not last:
            v = min(score, key=score.get)
        else:
            v = min((u for u in score if u not in last), key=score.get, default=None)
            v = min(score, key=score.get) if v is None else v
        near = graph[v]
        cliques_of[v] = (v,) + tuple(sorted(near, key=position.get))
        eliminated.append(v)
        touched = set(near)
        for a in near:
            graph[a].discard(v)
            for b in near:
                if a != b and b not in graph[a]:
                    graph[a].add(b)
        del graph[v]
        if given_order is not None:
            continue
        del score[v]
        for a in near:
            touched.update(graph[a])
        for a in touched:
            if a in score:
                score[a] = (fill(a), weight(a), position[a])
    return eliminated, cliques_of


def compile_junction_tree(tables, card, max_clique=MAX_CLIQUE, root=(), elimination=None, prior_messages=True,
                          max_tree=MAX_TREE, search_above=None, exact_root=False):
    """Compile ``tables`` (node -> (family scope (node, *parents), array over it)) into a
    :class:`JunctionTree`. ``card`` maps each node to its number of states; ``root``: nodes whose clique
    should be the root (the smallest clique holding them all, when there is one), so that their joint
    is ready after the inward pass alone; with ``exact_root``, a clique of exactly those nodes is added above
    it as the root, holding every table over them alone (cliques whose separator lies within it hang from it:
    their messages go into the smaller table), and when no clique of the min-fill order holds them all, they are
    joined in the moral graph and eliminated last. A clique over ``max_clique`` configurations, or cliques over
    ``max_tree`` in all, raise a :class:`MemoryError` before anything large is allocated. ``elimination``: an
    order to eliminate the nodes in (nodes not in ``card`` skipped) instead of the greedy min-fill one; with
    ``search_above``, the greedy order is searched as well when the given one's cliques hold more than that many
    configurations in all, and the order with fewer is kept. ``prior_messages=False`` skips the messages of
    subtrees without evidence: every clique is then calibrated (for a tree compiled for one case, whose
    evidence is already in its tables: :mod:`model.engine.reduced`)."""
    nodes = list(card)
    position = {v: i for i, v in enumerate(nodes)}
    neighbours = {v: set() for v in nodes}
    for scope, _ in tables.values():
        for a in scope:
            neighbours[a].update(u for u in scope if u != a)
    forest = _forest(*_eliminate(neighbours, card, position, elimination))
    if exact_root and elimination is None and not any(set(root) <= set(c) for c in forest[0]):
        # no clique holds every root node: min-fill again with them joined, eliminated last
        joined = {v: near | (set(root) - {v}) if v in root else near for v, near in neighbours.items()}
        forest = _forest(*_eliminate(joined, card, position, None, frozenset(root)))
    if elimination is not None and search_above is not None and _total(forest[0], card) > search_above:
        searched = _forest(*_eliminate(neighbours, card, position, None))  # the given order makes large cliques
        if _total(searched[0], card) < _total(forest[0], card):
            forest = searched
    cliques, parent, home, rank = forest
    for clique in cliques:
        size = _size(clique, card)
        if size > max_clique:
            raise MemoryError(f"the junction tree needs a clique of {size:,} configurations "
                              f"({len(clique)} nodes), above the limit of {max_clique:,}.")
    if root:  # the tree re-hung from the smallest clique holding ``root``: its belief needs no outward pass
        holding = [k for k in range(len(cliques)) if set(root) <= set(cliques[k])]
        if holding:
            path = [min(holding, key=lambda k: (_size(cliques[k], card), k))]
            while parent[path[-1]] is not None:
                path.append(parent[path[-1]])
            for child, above in zip(path, path[1:]):
                parent[above] = child
            parent[path[0]] = None
            if exact_root and set(cliques[path[0]]) != set(root):  # a root of exactly ``root``, above it
                parent[path[0]] = len(cliques)
                cliques.append(tuple(v for v in cliques[path[0]] if v in set(root)))
                parent.append(None)
    _lift(cliques, parent, card)
    holds = [[] for _ in cliques]
    top = len(cliques) - 1 if exact_root and root and parent[-1] is None and set(cliques[-1]) == set(root) else None
    for node, (scope, _) in tables.items():
        first = min(scope, key=rank.get)
        holds[top if top is not None and set(scope) <= set(root) else home[first]].append(node)
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
    # every clique lists last its separator with its parent, in the parent's order (parents laid out first)
    separator = [()] * len(cliques)
    for k in reversed(order):
        p = parent[k]
        if p is not None:
            shared = set(cliques[p]) & set(cliques[k])
            separator[k] = tuple(v for v in cliques[p] if v in shared)
            cliques[k] = tuple(v for v in cliques[k] if v not in shared) + separator[k]
    separator = tuple(separator)
    layout = _layout(cliques, separator, parent, order, home, card)
    up = layout["up"]
    total = sum(_size(c, card) for c in cliques)
    if total > max_tree:
        raise MemoryError(f"the junction tree needs {total:,} configurations in its {len(cliques)} cliques "
                          f"({total * 8 / 2**30:.1f} GiB), above the limit of {max_tree:,}.")
    potentials = []
    for k, scope in enumerate(cliques):  # the product of a clique's tables, written once into a new array
        factors = [_aligned(tables[node][1], tables[node][0], scope) for node in holds[k]]
        shape = tuple(card[v] for v in scope)
        if len(factors) == 1 and factors[0].shape == shape and factors[0].flags.c_contiguous:
            potential = factors[0].reshape(-1)  # one table, already in the clique's layout: no copy (read only)
            potential.flags.writeable = False
            potentials.append(potential)
            continue
        potential = np.empty(shape)
        if len(factors) > 1:
            np.multiply(factors[0], factors[1], out=potential)
            for factor in factors[2:]:
                potential *= factor
        else:
            potential[...] = factors[0] if factors else 1.0
        potentials.append(potential.reshape(-1))
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
        if parent[k] is None or closed[k] or not prior_messages:
            continue
        local = potentials[k]
        for c in children[k]:
            if static[c] is not None:
                local = local.copy() if local is potentials[k] else local
                into(local, static[c], up[c])
                static_log[k] += static_log[c]
        message = to_separator(local, _size(separator[k], card))
        top = message.max()
        static[k], static_log[k] = message / top, static_log[k] + math.log(top)
    return JunctionTree(card=dict(card), cliques=tuple(cliques), parent=tuple(parent),
                        children=tuple(tuple(c) for c in children), separator=separator,
                        holds=tuple(tuple(h) for h in holds), holder=holder, static=tuple(static),
                        static_log=tuple(static_log), order=tuple(order), potentials=tuple(potentials),
                        tables=dict(tables), indexes={}, marked=() if prior_messages else tuple(range(len(cliques))),
                        elimination=tuple(sorted(rank, key=rank.get)), **layout)


def _layout(cliques, separator, parent, order, home, card):
    """What a junction tree derives from its cliques, each listing its ``separator`` with its ``parent`` last:
    the fields ``up``, ``nested``, ``free``, ``home`` (``home`` maps each node to the clique its evidence goes
    into; the result adds the clique's shape around it, see :func:`times`), ``by_size`` and ``subtree``. Shared
    by :func:`compile_junction_tree` and the cut-down trees of :mod:`model.engine.sliced`."""
    sizes = [_size(c, card) for c in cliques]
    subtree = list(sizes)
    for k in order:
        if parent[k] is not None:
            subtree[parent[k]] += subtree[k]
    shapes = {}
    for v, k in home.items():
        at = cliques[k].index(v)
        shapes[v] = (k, (_size(cliques[k][:at], card), card[v], _size(cliques[k][at + 1:], card)))
    return {"up": tuple(runs(cliques[p], separator[k], card) if p is not None else None
                        for k, p in enumerate(parent)),
            "nested": tuple(p is not None and parent[p] is not None and set(separator[k]) <= set(separator[p])
                            for k, p in enumerate(parent)),
            "free": tuple(c[:len(c) - len(s)] for c, s in zip(cliques, separator)),
            "home": shapes,
            "by_size": tuple(sorted(range(len(cliques)), key=lambda k: (sizes[k], k))),
            "subtree": tuple(subtree)}
