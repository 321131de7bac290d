"""Red flags: emergency findings in the evidence, firm or uncertain.

In plain terms: ``nodes.csv`` marks some findings with an ``emergency_state``
(saddle anaesthesia, bladder or bowel dysfunction, progressive weakness: the
cauda equina screen). When a case says one of them is in that state, the case
carries a **red flag**, whatever the posteriors say. When the answer is
uncertain (soft evidence, for example "probably yes": likelihoods 1 for yes,
0.1 for no) and its likelihood favours the emergency state over every other
state, the case carries a **possible red flag**: ask directly, or examine.

Every output that describes a case carries both lists in its ``.attrs``
(``red_flags`` and ``possible_red_flags``), through :func:`case_flags`.
Pure functions: no model is read here, only its emergency states.
"""

from __future__ import annotations

import numpy as np

__all__ = ["batch_flags", "case_flags", "possible_flag_rows"]


def case_flags(emergency, states, hard, soft):
    """The red flags of one case: ``{"red_flags": [...], "possible_red_flags": [...]}``.

    Parameters
    ----------
    emergency : dict
        node -> emergency state (``Model._emergency``: only nodes that have one).
    states : dict
        node -> list of its states.
    hard : dict
        node -> observed state.
    soft : dict
        node -> likelihoods aligned to the node's states (soft evidence).

    Returns
    -------
    dict
        ``red_flags``: nodes observed (hard evidence) in their emergency state,
        in the order of ``hard``. ``possible_red_flags``: nodes with soft
        evidence whose likelihood of the emergency state is larger than that
        of every other state, in the order of ``soft``.

    Examples
    --------
    >>> emergency = {"saddle_anaesthesia": "yes", "bladder_bowel_dysfunction": "yes"}
    >>> states = {"saddle_anaesthesia": ["no", "yes"], "bladder_bowel_dysfunction": ["no", "yes"]}
    >>> case_flags(emergency, states, {"bladder_bowel_dysfunction": "yes"}, {"saddle_anaesthesia": (0.1, 1.0)})
    {'red_flags': ['bladder_bowel_dysfunction'], 'possible_red_flags': ['saddle_anaesthesia']}

    An uncertain answer that leans away from the emergency, or not at all, raises nothing:

    >>> case_flags(emergency, states, {}, {"saddle_anaesthesia": (1.0, 1.0), "bladder_bowel_dysfunction": (1.0, 0.2)})
    {'red_flags': [], 'possible_red_flags': []}
    """
    firm = [node for node, state in hard.items() if emergency.get(node) == state]
    possible = [node for node, likelihood in soft.items()
                if node in emergency and _leans(np.asarray(likelihood, dtype=float)[None, :],
                                                 states[node].index(emergency[node]))[0]]
    return {"red_flags": firm, "possible_red_flags": possible}


def batch_flags(emergency, states, hard, soft, labels):
    """The red flags of a block of rows read by the batch engine: ``({label: [...]}, {label: [...]})``, firm then
    possible, for the rows that have one (nodes in ``emergency`` order).

    ``hard`` maps node -> state index per row (-1: not observed); ``soft`` maps node -> (rows, likelihoods);
    ``labels`` are the rows' labels.

    Examples
    --------
    >>> import numpy as np
    >>> firm, possible = batch_flags({"saddle": "yes"}, {"saddle": ("no", "yes")}, {"saddle": np.array([1, -1, 0])},
    ...                              {"saddle": (np.array([1]), np.array([[0.1, 1.0]]))}, ["a", "b", "c"])
    >>> firm, possible
    ({'a': ['saddle']}, {'b': ['saddle']})
    """
    firm, possible = {}, {}
    for node, state in emergency.items():
        k = states[node].index(state)
        if node in hard:
            for i in np.flatnonzero(hard[node] == k):
                firm.setdefault(int(i), []).append(node)
        if node in soft:
            at, likelihoods = soft[node]
            for i in at[possible_flag_rows(likelihoods, k)]:
                possible.setdefault(int(i), []).append(node)
    return ({labels[i]: firm[i] for i in sorted(firm)}, {labels[i]: possible[i] for i in sorted(possible)})


def possible_flag_rows(likelihoods, emergency_index):
    """Which rows of a table of likelihoods (rows x states) favour the state ``emergency_index``.

    Examples
    --------
    >>> possible_flag_rows([[0.1, 1.0], [1.0, 1.0], [1.0, 0.5]], 1).tolist()
    [True, False, False]
    """
    return _leans(np.asarray(likelihoods, dtype=float), emergency_index)


def _leans(likelihoods, k):
    """Rows whose likelihood of state ``k`` is strictly above that of every other state."""
    others = np.delete(likelihoods, k, axis=1)
    return likelihoods[:, k] > (others.max(axis=1) if others.shape[1] else -np.inf)
