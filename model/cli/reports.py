"""Text reports of the command line (:mod:`model.cli`): pure functions from results to strings.

Each takes what the public API returned and gives the text to print; nothing
here computes a probability or reads a file. Imported by the commands that
print them, so ``python -m model check`` never loads it.
"""

from __future__ import annotations

import math
import shlex

import pandas as pd

DISCLAIMER = "Research model, not medical advice."
METHODS = {
    "shapley": "exact Shapley values (each answer's log LR averaged over every order of asking)",
    "leave_one_out": "leave-one-out (each answer's log LR given all the others; the interaction row holds the rest)",
}


def shell_pair(node, state):
    """``node=state`` as typed on the command line: quoted when it holds characters the shell would read.

    Examples
    --------
    >>> shell_pair("pain_burning", "yes")
    'pain_burning=yes'
    >>> shell_pair("LowerBodyO2", "<5")
    "'LowerBodyO2=<5'"
    >>> print(shell_pair("ChestXray", "Asy Patch"))
    'ChestXray=Asy Patch'
    """
    return shlex.quote(f"{node}={state}")


def red_flag_lines(flags, evidence, possible=()):
    """The EMERGENCY RED FLAG banner (one line per flag, firm ones first, then a blank line), or no line.

    ``flags`` and ``possible`` are the ``red_flags`` and ``possible_red_flags`` of a result's ``.attrs``.

    Examples
    --------
    >>> for line in red_flag_lines(["bladder_bowel_dysfunction"], {"bladder_bowel_dysfunction": "yes",
    ...                            "saddle_anaesthesia": {"no": 0.1, "yes": 1.0}}, ["saddle_anaesthesia"]):
    ...     print(line)
    !!! EMERGENCY RED FLAG: bladder_bowel_dysfunction=yes -- possible cauda equina syndrome: same-day MRI and surgical opinion, whatever the ranking below. !!!
    !!! POSSIBLE RED FLAG: saddle_anaesthesia (uncertain answer leaning to the emergency state: no 0.1, yes 1) -- ask directly or examine now; if confirmed, possible cauda equina syndrome. !!!
    <BLANKLINE>
    """
    lines = [f"!!! EMERGENCY RED FLAG: {shell_pair(flag, evidence[flag])} -- possible cauda equina syndrome: "
             "same-day MRI and surgical opinion, whatever the ranking below. !!!" for flag in flags]
    for flag in possible:
        given = evidence.get(flag)
        shown = ", ".join(f"{state} {value:g}" for state, value in given.items()) if isinstance(given, dict) else ""
        lines.append(f"!!! POSSIBLE RED FLAG: {flag} (uncertain answer leaning to the emergency state"
                     f"{': ' + shown if shown else ''}) -- ask directly or examine now; if confirmed, possible "
                     "cauda equina syndrome. !!!")
    return lines + [""] if lines else []


def population_lines(population):
    """``Population: <description> (node=state, ...)`` above a result, or no line when there is no population.

    Examples
    --------
    >>> population_lines({"evidence": {"thigh_pain": "yes"}, "description": "Adults with thigh pain"})
    ['Population: Adults with thigh pain (thigh_pain=yes)']
    >>> population_lines({"evidence": {}, "description": ""})
    []
    """
    observed = population.get("evidence") or {}
    if not observed:
        return []
    pairs = ", ".join(shell_pair(node, state) for node, state in observed.items())
    return [f"Population: {population.get('description') or 'as defined by population.csv'} ({pairs})"]


def flatten_intervals(result):
    """An ``infer_batch(..., interval=...)`` result with flat columns, cause by cause in model order:
    ``<cause>`` (the exact posterior), ``<cause>_median``, ``<cause>_low``, ``<cause>_high``."""
    flat = result.copy()
    flat.columns = [cause if statistic == "posterior" else f"{cause}_{statistic}" for cause, statistic in flat.columns]
    flat.attrs = {}
    return flat


def _shown(value, spec=".4f"):
    """A cell of a report: "n/a" for a missing value (an impossible case has no posterior)."""
    return "n/a" if pd.isna(value) else format(value, spec)


def _table(header, rows, right):
    """Columns padded to their widest cell; columns in ``right`` right-aligned, the last one left ragged."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    out = []
    for cells in [header, *rows]:
        parts = [f"{cell:>{w}}" if i in right else f"{cell:<{w}}" for i, (cell, w) in enumerate(zip(cells, widths))]
        out.append("  ".join(parts).rstrip())
    return out


def format_explanation(frame):
    """The table of :func:`model.explain`: prior -> posterior, one row per answer, method and disclaimer."""
    a = frame.attrs
    change = a["log_odds_change"]
    odds = f"log-odds {change:+.3f}, odds x{math.exp(change):.3g}"
    lines = [f"{a['cause']}: prior {a['prior']:.4f} -> posterior {a['posterior']:.4f} ({odds})", ""]
    if len(frame):
        flips = "answers that change the top cause" + (f" ({a['top_cause']})" if a["top_cause"] else "")
        header = ("evidence", "observed", "log LR", "LR", "direction", flips)
        rows = [(node, row["observed"], f"{row['log_lr']:+.3f}", f"{math.exp(row['log_lr']):.3g}", row["direction"],
                 row["flips_top"] or "-") for node, row in frame.iterrows()]
        total = frame["log_lr"].sum()
        lines += _table(header, [*rows, ("total", "", f"{total:+.3f}", f"{math.exp(total):.3g}", "", "")], {2, 3})
    else:
        lines.append("no evidence: the posterior is the prior.")
    method = METHODS.get(a["method"], a["method"])
    lines += ["", ("log LR: natural-log likelihood ratio, the answer's share of the change of log-odds (the rows add "
                   f"up to it); LR = exp(log LR). Method: {method}."), f"priors {a['priors_digest']}. {DISCLAIMER}"]
    return "\n".join(lines)


def format_questions(ranked, nodes, top):
    """The ``top`` best questions of :func:`model.next_questions`, each as a clinician would ask it; the red-flag
    screen first, marked ``SCREEN``."""
    a = ranked.attrs
    about = f"{a['target']} alone" if a["target"] else "the causes and complications"
    given = len(a["evidence"])
    top_cause = a["top_cause"] or "none (every cause observed)"
    order = "information per unit of cost" if a.get("rank_by", "gain_per_cost") == "gain_per_cost" else "information"
    lines = [(f"next questions given {given} observation{'s' * (given != 1)}, ranked by the {order} the answer is "
              f"expected to give about {about}; top cause now: {top_cause}."), ""]
    for screen in a.get("screen", []):
        asked = "all asked" if not screen["questions"] else "asked first, marked SCREEN"
        lines += [f"RED-FLAG SCREEN for {screen['complication']}: P(at least one of its causes) = "
                  f"{screen['p_parent_cause']:.3f} >= {screen['threshold']:g}; its red-flag questions are {asked}.", ""]
    if not len(ranked):
        lines.append("no question left: every finding and risk factor is observed.")
    else:
        header = ("#", "", "node", "bits", "top_shift", "cost", "bits/cost", "question [answers]")
        rows = []
        for rank, (node, row) in enumerate(ranked.head(top).iterrows(), start=1):
            text = row["question"] or nodes.loc[node, "label"]
            cost = row["cost"]
            rows.append((rank, "SCREEN" if row.get("screen", False) else "", node, f"{row['info_gain']:.3f}",
                         f"{row['expected_change_top']:.3f}", "-" if math.isnan(cost) else f"{cost:g}",
                         "-" if math.isnan(row["gain_per_cost"]) else f"{row['gain_per_cost']:.4f}",
                         f"{text} [{'|'.join(nodes.loc[node, 'states'])}]"))
        lines += _table(header, rows, right={0, 3, 4, 5, 6})
    lines += ["", (f"bits: expected information from the answer (mutual information); top_shift: expected change "
                   f"of P({top_cause}); showing {min(top, len(ranked))} of {len(ranked)}. Answer with node=state."),
              f"priors {a['priors_digest']}. {DISCLAIMER}"]
    return "\n".join(lines)


def format_validation(report, bins, priors_digest):
    """The metrics table and top-1/top-3 of a :class:`model.ValidationReport`."""
    excluded = report.excluded["row"].nunique()
    scored = len(report.posteriors) - excluded
    ranked = len(report.true_cause_rank)
    rows = [(cause, int(row["n"]), *(_shown(row[m]) for m in ("prevalence", "auc", "brier", "log_loss", "ece")))
            for cause, row in report.metrics.iterrows()]
    lines = [*_table(("cause", "n", "prevalence", "auc", "brier", "log_loss", "ece"), rows, {1, 2, 3, 4, 5, 6}), ""]
    top = ("n/a (no case has a cause labelled 1)" if not ranked else
           f"top-1 {report.top1:.4f}, top-3 {report.top3:.4f} (share of the {ranked} cases with a cause labelled 1 "
           "whose true cause ranks first / in the top three among the labelled causes)")
    lines += [top, (f"{scored} cases scored, {excluded} excluded; auc: ties count half (n/a when every label is "
                    f"equal); log_loss: natural log; ece over {bins} equal-width bins."),
              f"priors {priors_digest}. {DISCLAIMER}"]
    return "\n".join(lines)


def format_scorecard(card):
    """:func:`model.vignette_scorecard` as a table, then how many vignettes rank their cause first."""
    header = ("#", "expected cause", "rank", "P(expected)", "top cause", "P(top)", "title")
    rows = [(number, row["expected_cause"], _shown(row["rank"], "d"), _shown(row["posterior"]),
             _shown(row["top_cause"], "s"), _shown(row["top_posterior"]), row["title"])
            for number, row in card.astype(object).iterrows()]
    lines = [*_table(header, rows, {0, 2, 3, 5}), "",
             f"expected cause ranked first in {int(card['top1'].sum())} of {len(card)} vignettes.",
             f"priors {card.attrs['priors_digest']}. {DISCLAIMER}"]
    return "\n".join(lines)
