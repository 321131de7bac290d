"""The differential for a priors folder or a loaded Model: which combinations of causes explain the case
(:func:`explanations`, :func:`explanations_batch`) and what the findings not yet observed will probably show
(:func:`predict`, :func:`predict_batch`).

These are the doors that read the ``priors`` argument; the computations, on a loaded model, are in
:mod:`model.analysis.explanations` and :mod:`model.analysis.predict` (which :class:`~model.inference.Model`'s
``explanations`` and ``predict`` methods call directly).
"""

from __future__ import annotations

import pandas as pd

from ..inference import as_model
from .explanations import explanations_batch_for, explanations_for
from .predict import predict_batch_for, predict_for

__all__ = ["explanations", "explanations_batch", "predict", "predict_batch"]


def explanations(evidence, k=5, *, priors=None):
    """The ``k`` most probable combinations of causes given the evidence, each with its probability.

    A combination says, for every cause, whether it is present or absent;
    ``probability`` is P(exactly this combination | evidence), exact. The
    first row is the single most probable explanation (the maximum a
    posteriori state of the causes); the combination in which no modelled
    cause is present appears as the empty tuple ``()`` when it ranks among
    the first ``k``, and its probability is always in
    ``attrs["p_no_modelled_cause"]``. Complications (cauda equina syndrome)
    are not part of a combination: they are summed over.

    Parameters
    ----------
    evidence : dict or pandas.Series
        node -> state, or node -> {state: likelihood} (soft evidence), as for
        :func:`model.infer`.
    k : int
        How many combinations to list (at least 1). Combinations of
        probability zero (for example against a cause observed present) are
        never listed, so fewer rows may come back.
    priors : str, os.PathLike or Model, optional
        A priors folder, a bundled population name or a loaded ``Model``;
        default: the bundled primary-care priors.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``rank`` (1 = most probable), highest probability first
        (ties in a fixed order). Columns:

        - ``present``: the causes present in the combination, a tuple in
          ``nodes.csv`` order (``()`` = none of the modelled causes; a cause
          with more than two states is written ``cause=state``).
        - ``n_present``: how many causes are present.
        - ``probability``: P(this combination | evidence).
        - ``cumulative``: the running sum of ``probability``: how much of the
          probability the listed combinations cover.

        ``.attrs`` holds ``evidence`` (a copy of what was given),
        ``population``, ``priors_digest``, ``red_flags`` and ``possible_red_flags`` (as in
        :func:`model.infer`), ``p_no_modelled_cause`` and ``causes`` (the
        causes a combination is made of).

    Raises
    ------
    EvidenceError
        Invalid or impossible evidence (as :func:`model.infer`).
    ValueError
        ``k`` is not a whole number of at least 1, or the network is too large
        for a joint table of its causes.

    Examples
    --------
    Regression snapshot: the numbers below are those of the bundled priors; tests/test_differential.py checks
    them against pgmpy and a brute-force enumeration.

    >>> best = explanations({"pain_burning": "yes", "avid_cyclist": "yes", "sitting_effect": "dominant"}, k=3)
    >>> best.round(3)
                            present  n_present  probability  cumulative
    rank
    1     (lumbar_disc_herniation,)          1        0.241       0.241
    2            (pfcn_neuropathy,)          1        0.187       0.428
    3      (deep_gluteal_syndrome,)          1        0.102       0.530
    >>> round(best.attrs["p_no_modelled_cause"], 3)
    0.027

    With a cancer history, weight loss and night pain, a tumour is the second explanation:

    >>> red_flags = explanations({"cancer_history": "yes", "unexplained_weight_loss": "yes", "night_pain": "yes"})
    >>> red_flags["present"].tolist()[:2]
    [('lumbar_disc_herniation',), ('tumour',)]
    """
    return explanations_for(as_model(priors), evidence, k)


def explanations_batch(cases, *, priors=None):
    """The most probable combination of causes for every case of a table, with its probability.

    Parameters
    ----------
    cases : pandas.DataFrame
        One row per case, one column per observed node, as for
        :func:`model.infer_batch` (state names, soft evidence, NaN = not
        observed). ``cases`` is never modified.
    priors : str, os.PathLike or Model, optional
        A priors folder, a bundled population name or a loaded ``Model``.

    Returns
    -------
    pandas.DataFrame
        Same index as ``cases``; columns ``present`` (the causes present in
        the row's most probable combination, a tuple; ``()`` = none of the
        modelled causes), ``probability`` (P(that combination | row)) and
        ``p_no_modelled_cause``: the first row of :func:`explanations` and
        its ``attrs["p_no_modelled_cause"]``, row by row. A bad or
        impossible row has ``present`` None and NaN numbers, and is listed in
        ``attrs["problems"]`` as in :func:`model.infer_batch`; ``attrs`` also
        holds ``red_flags`` and ``possible_red_flags`` (``{row: [emergency
        findings]}``, as in :func:`model.infer_batch`), ``population`` and
        ``priors_digest``.

    Examples
    --------
    Regression snapshot: the numbers below are those of the bundled priors; tests/test_differential.py checks
    them against pgmpy and a brute-force enumeration.

    >>> cases = pd.DataFrame({"avid_cyclist": ["yes", None], "saddle_anaesthesia": [None, "yes"],
    ...                       "sitting_effect": ["dominant", None]})
    >>> best = explanations_batch(cases)
    >>> best[["present", "probability"]].round(3)
                         present  probability
    0  (lumbar_disc_herniation,)        0.235
    1  (lumbar_disc_herniation,)        0.349
    >>> best.attrs["red_flags"]
    {1: ['saddle_anaesthesia']}
    """
    return explanations_batch_for(as_model(priors), cases)


def predict(evidence, nodes=None, *, priors=None):
    """P(state | evidence) of findings, tests and risk factors that are not observed: what they will probably show.

    Parameters
    ----------
    evidence : dict or pandas.Series
        node -> state, or node -> {state: likelihood} (soft evidence), as for
        :func:`model.infer`.
    nodes : str or list of str, optional
        The nodes to predict: any node of the network (a cause or a
        mechanism too). Default: every finding and risk factor that is
        neither in the evidence nor in the population.
    priors : str, os.PathLike or Model, optional
        A priors folder, a bundled population name or a loaded ``Model``.

    Returns
    -------
    pandas.DataFrame
        One row per (``node``, ``state``), nodes in the order given (default:
        ``nodes.csv`` order), states in their order. Columns
        ``probability`` = P(node = state | evidence) (the states of a node
        sum to 1; a node observed by hard evidence is 1 for its state),
        ``role`` and ``label`` (from ``nodes.csv``). ``.attrs`` holds
        ``evidence``, ``population``, ``priors_digest``, ``red_flags`` and ``possible_red_flags`` as
        in :func:`model.infer`.

    Raises
    ------
    EvidenceError
        Invalid or impossible evidence, or an unknown node in ``nodes``.

    Examples
    --------
    Regression snapshot: the numbers below are those of the bundled priors; tests/test_differential.py checks
    them against pgmpy variable elimination.

    >>> chances = predict({"pain_burning": "yes", "slr_positive": "yes", "pain_below_knee": "yes"},
    ...                   nodes=["mri_lumbar_root_compression", "crossed_slr_positive"])
    >>> chances["probability"].round(3)
    node                         state
    mri_lumbar_root_compression  no       0.165
                                 yes      0.835
    crossed_slr_positive         no       0.723
                                 yes      0.277
    Name: probability, dtype: float64
    """
    return predict_for(as_model(priors), evidence, nodes)


def predict_batch(cases, nodes=None, *, priors=None):
    """P(state | row) of findings, tests and risk factors for every case of a table.

    Parameters
    ----------
    cases : pandas.DataFrame
        One row per case, one column per observed node, as for
        :func:`model.infer_batch`. ``cases`` is never modified.
    nodes : str or list of str, optional
        The nodes to predict (default: every finding and risk factor outside
        the population, as :func:`predict`). Each costs one engine row per
        state and case: name the few you need on large tables.
    priors : str, os.PathLike or Model, optional

    Returns
    -------
    pandas.DataFrame
        Same index as ``cases``; columns a two-level index (``node``,
        ``state``), each P(node = state | row). As in
        :func:`model.infer_batch`, every row reports every node: one that the
        row observes is 1 for its state, 0 for the others. Bad or impossible
        rows are NaN and listed in ``attrs["problems"]``; ``attrs`` also holds
        ``red_flags``, ``possible_red_flags`` (``{row: [emergency findings]}``,
        as in :func:`model.infer_batch`), ``population`` and ``priors_digest``.

    Examples
    --------
    Regression snapshot: the numbers below are those of the bundled priors; tests/test_differential.py checks
    them against pgmpy variable elimination.

    >>> cases = pd.DataFrame({"slr_positive": ["yes", "no"], "age_group": ["under_40", "60_plus"]})
    >>> predict_batch(cases, nodes="mri_lumbar_root_compression").round(3)
    node  mri_lumbar_root_compression
    state                          no    yes
    0                           0.279  0.721
    1                           0.445  0.555
    """
    return predict_batch_for(as_model(priors), cases, nodes)
