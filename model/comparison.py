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
        the same case and cause), in case, variant and cause order.

    Examples
    --------
    >>> m = load_model()
    >>> table = compare({"bundled": m, "more cyclists": m.with_parameter(
    ...     "base_rates", node="avid_cyclist", probability=0.1)}, {"pain_burning": "yes"})
    >>> sorted(table["variant"].unique())
    ['bundled', 'more cyclists']
    >>> float(table.loc[table["variant"] == "bundled", "difference"].abs().max())
    0.0
    """
    if not isinstance(variants, Mapping) or not variants:
        raise ValueError("variants must be a non-empty dict of name -> Model or priors folder.")
    models = {name: v if isinstance(v, Model) else load_model(v) for name, v in variants.items()}
    cases = [evidence] if isinstance(evidence, Mapping) else list(evidence)
    if not all(isinstance(case, Mapping) for case in cases):
        raise EvidenceError("evidence must be a dict of node -> state, or a list of such dicts.")
    rows = []
    for number, case in enumerate(cases):
        reference = None
        for name, model in models.items():
            result = model.infer(case)
            if reference is None:
                reference = result["posterior"]
            for cause, row in result.iterrows():
                rows.append((number, name, cause, row["posterior"], row["prior"],
                             row["posterior"] - reference.get(cause, float("nan"))))
    return pd.DataFrame(rows, columns=["case", "variant", "cause", "posterior", "prior", "difference"])
