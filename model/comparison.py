"""Compare variants of the priors on the same evidence."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from .errors import EvidenceError
from .inference import Model, load_model

__all__ = ["compare"]


def compare(variants, evidence):
    """Posteriors of every cause under several variants of the priors, side by side.

    Parameters
    ----------
    variants : dict of str to Model or priors folder
        The first variant is the reference for the ``difference`` column.
    evidence : dict or list of dict
        One case (node -> state or {state: likelihood}), or a list of cases.

    Returns
    -------
    pandas.DataFrame
        Tidy rows ``case``, ``variant``, ``cause``, ``posterior``, ``prior``
        and ``difference`` (posterior minus the first variant's posterior for
        the same case and cause; NaN for a cause the first variant lacks), in
        case and variant order; within a case every variant lists the causes in
        the same order, the first variant's ranking (highest posterior first).
        ``.attrs`` holds ``red_flags`` and ``possible_red_flags``: ``{case
        number: [emergency findings]}`` for the cases that raise one under
        any variant (see :meth:`Model.infer`); cases without a flag are absent.

    Examples
    --------
    >>> m = load_model()
    >>> table = compare({"bundled": m, "more cyclists": m.with_parameter(
    ...     "base_rates", node="avid_cyclist", probability=0.1)}, {"pain_burning": "yes"})
    >>> sorted(table["variant"].unique())
    ['bundled', 'more cyclists']
    >>> float(table.loc[table["variant"] == "bundled", "difference"].abs().max())
    0.0
    >>> compare({"bundled": m}, [{"pain_burning": "yes"}, {"saddle_anaesthesia": "yes"}]).attrs["red_flags"]
    {1: ['saddle_anaesthesia']}
    """
    if not isinstance(variants, Mapping) or not variants:
        raise ValueError("variants must be a non-empty dict of name -> Model or priors folder.")
    models = {name: v if isinstance(v, Model) else load_model(v) for name, v in variants.items()}
    cases = [evidence] if isinstance(evidence, Mapping) else list(evidence)
    if not all(isinstance(case, Mapping) for case in cases):
        raise EvidenceError("evidence must be a dict of node -> state, or a list of such dicts.")
    rows, flags = [], {"red_flags": {}, "possible_red_flags": {}}
    for number, case in enumerate(cases):
        results = [(name, model.infer(case)) for name, model in models.items()]
        for key, by_case in flags.items():  # a flag raised under any variant (each reads its own nodes.csv)
            raised = list(dict.fromkeys(flag for _, result in results for flag in result.attrs[key]))
            if raised:
                by_case[number] = raised
        reference = results[0][1]["posterior"]
        # One cause order for every variant of a case: the first variant's ranking, then any cause it lacks.
        order = list(dict.fromkeys(c for _, result in results for c in result.index))
        order = list(reference.index) + [c for c in order if c not in reference.index]
        for name, result in results:
            for cause in (c for c in order if c in result.index):
                posterior, prior = result.at[cause, "posterior"], result.at[cause, "prior"]
                rows.append((number, name, cause, posterior, prior, posterior - reference.get(cause, float("nan"))))
    table = pd.DataFrame(rows, columns=["case", "variant", "cause", "posterior", "prior", "difference"])
    table.attrs = flags
    return table
