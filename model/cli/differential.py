"""The differential on the command line: ``explanations``, ``predict``, ``--json``, the must-not-miss lines.

Pure text from results (:func:`model.infer`, :func:`model.explanations`,
:func:`model.predict`) plus the two command functions that :mod:`model.cli`
dispatches to. ``--json`` prints one JSON object: the result's ``attrs``
(evidence, population, digest, flags ...) and its rows under ``rows``; NaN
becomes ``null``.
"""

from __future__ import annotations

import json
import math

from .reports import DISCLAIMER

__all__ = ["as_json", "explanations_command", "format_explanations", "format_predictions", "must_not_miss_lines",
           "predict_command"]

#: What ``()`` (no cause present) is called in printed text.
NO_CAUSE_TEXT = "(none of the modelled causes)"


def _plain(value):
    """A JSON-ready copy of ``value``: NaN -> None, numpy numbers -> Python numbers, tuples -> lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def as_json(frame, index_names=None):
    """One JSON object of a result: its ``attrs`` and one record per row under ``rows``.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"posterior": [0.5, float("nan")]}, index=pd.Index(["a", "b"], name="cause"))
    >>> frame.attrs = {"priors_digest": "abc"}
    >>> print(as_json(frame))
    {"priors_digest": "abc", "rows": [{"cause": "a", "posterior": 0.5}, {"cause": "b", "posterior": null}]}
    """
    rows = frame.reset_index()
    records = [dict(zip(rows.columns, values)) for values in rows.itertuples(index=False, name=None)]
    return json.dumps(_plain({**frame.attrs, "rows": records}), allow_nan=False, ensure_ascii=False)


def must_not_miss_lines(result, thresholds):
    """The MUST NOT MISS banner of an :func:`model.infer` result (one line per node, then a blank line), or none.

    Examples
    --------
    >>> import pandas as pd
    >>> result = pd.DataFrame({"posterior": [0.31]}, index=["bone_injury"])
    >>> result.attrs = {"must_not_miss": ["bone_injury"]}
    >>> must_not_miss_lines(result, {"bone_injury": 0.05})[0]
    '*** MUST NOT MISS: bone_injury 0.3100 (at or above its action threshold 0.05): rule it out, whatever the ranking below. ***'
    """
    lines = [f"*** MUST NOT MISS: {node} {result.loc[node, 'posterior']:.4f} (at or above its action threshold "
             f"{thresholds.get(node, float('nan')):g}): rule it out, whatever the ranking below. ***"
             for node in result.attrs.get("must_not_miss", ())]
    return lines + [""] if lines else []


def format_explanations(frame):
    """The text of ``python -m model explanations``: one line per combination of causes.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"present": [("a",), ()], "n_present": [1, 0], "probability": [0.6, 0.3],
    ...                       "cumulative": [0.6, 0.9]}, index=pd.RangeIndex(1, 3, name="rank"))
    >>> frame.attrs = {"p_no_modelled_cause": 0.3, "priors_digest": "abc"}
    >>> print(format_explanations(frame))
    rank  probability  cumulative  causes present
       1       0.6000      0.6000  a
       2       0.3000      0.9000  (none of the modelled causes)
    <BLANKLINE>
    P(none of the modelled causes | evidence) = 0.3000
    priors abc; probability = P(exactly these causes present, every other absent | evidence). Research model, not medical advice.
    """
    lines = ["rank  probability  cumulative  causes present"]
    for rank, row in frame.iterrows():
        present = " + ".join(row["present"]) or NO_CAUSE_TEXT
        lines.append(f"{rank:>4}  {row['probability']:>11.4f}  {row['cumulative']:>10.4f}  {present}")
    lines += ["", f"P(none of the modelled causes | evidence) = {frame.attrs['p_no_modelled_cause']:.4f}",
              f"priors {frame.attrs['priors_digest']}; probability = P(exactly these causes present, every other "
              f"absent | evidence). {DISCLAIMER}"]
    return "\n".join(lines)


def format_predictions(frame):
    """The text of ``python -m model predict``: one line per node and state.

    Examples
    --------
    >>> import pandas as pd
    >>> index = pd.MultiIndex.from_tuples([("mri", "no"), ("mri", "yes")], names=["node", "state"])
    >>> frame = pd.DataFrame({"probability": [0.25, 0.75], "role": "finding", "label": "Lumbar MRI"}, index=index)
    >>> frame.attrs = {"priors_digest": "abc"}
    >>> print(format_predictions(frame))
    node  state  probability  label
    mri   no          0.2500  Lumbar MRI
          yes         0.7500
    <BLANKLINE>
    priors abc; probability = P(state | evidence). Research model, not medical advice.
    """
    nodes = frame.index.get_level_values("node")
    states = frame.index.get_level_values("state")
    wide = max(len("node"), *(len(n) for n in nodes)) if len(frame) else len("node")
    width = max(len("state"), *(len(s) for s in states)) if len(frame) else len("state")
    lines = [f"{'node':<{wide}}  {'state':<{width}}  probability  label"]
    previous = None
    for (node, state), row in frame.iterrows():
        first = node != previous
        label = row["label"] if first else ""
        line = f"{node if first else '':<{wide}}  {state:<{width}}  {row['probability']:>11.4f}  {label}"
        lines.append(line.rstrip())
        previous = node
    lines += ["", f"priors {frame.attrs['priors_digest']}; probability = P(state | evidence). {DISCLAIMER}"]
    return "\n".join(lines)


def _flags(frame, model, evidence):
    from .reports import red_flag_lines

    return red_flag_lines(frame.attrs["red_flags"], {**model.population, **evidence},
                          frame.attrs.get("possible_red_flags", ()))


def explanations_command(args, evidence):
    """``python -m model explanations node=state ... [--top K] [--json]``; returns the exit code."""
    from .. import explanations, load_model

    model = load_model(args.priors)
    frame = explanations(evidence, k=args.top, priors=model)
    print(as_json(frame) if args.json else "\n".join(_flags(frame, model, evidence) + [format_explanations(frame)]))
    return 0


def predict_command(args, evidence, parser):
    """``python -m model predict node=state ... [--nodes NODE,...] [--json]``; returns the exit code."""
    from .. import load_model, predict

    model = load_model(args.priors)
    nodes = [n.strip() for n in args.nodes.split(",") if n.strip()] if args.nodes else None
    if args.nodes is not None and not nodes:
        parser.error("--nodes needs node names separated by commas, e.g. --nodes mri_lumbar_root_compression,fever")
    frame = predict(evidence, nodes, priors=model)
    print(as_json(frame) if args.json else "\n".join(_flags(frame, model, evidence) + [format_predictions(frame)]))
    return 0
