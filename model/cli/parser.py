"""The command line's arguments: every command, option and help text of ``python -m model``.

:func:`build_parser` only; :mod:`model.cli` runs the commands. Imports nothing
but :mod:`argparse`, so building the parser costs nothing.
"""

from __future__ import annotations

import argparse

__all__ = ["DRAWS", "MAX_DRAWS", "build_parser"]

#: Parameter draws of ``batch --interval`` when ``--draws`` is not given.
DRAWS = 1000
#: Most draws (``model.analysis.intervals.MAX_DRAWS``, not imported here: the command line starts fast).
MAX_DRAWS = 20_000

EPILOG = """examples:
  python -m model infer pain_burning=yes low_back_pain=no sitting_effect=dominant avid_cyclist=yes
  python -m model infer --priors my_priors/ crossed_slr_positive=yes
  python -m model infer --priors specialist crossed_slr_positive=yes    # a bundled population, by name
  python -m model explanations cancer_history=yes night_pain=yes --top 3   # the likeliest combinations of causes
  python -m model predict slr_positive=yes --nodes mri_lumbar_root_compression  # what a test will probably show
  python -m model infer avid_cyclist=yes sitting_effect=dominant --interval 0.9 --seed 7  # + credible intervals
  python -m model check specialist             # a folder, or a bundled population by name
  python -m model nodes            # every node, its states and how to ask for it
  python -m model compare primary_care my_priors/ --given avid_cyclist=yes sitting_effect=dominant
  python -m model batch cases.csv -o posteriors.csv  # many cases: one row each, empty cell = not observed
  python -m model batch cases.csv -o out.csv --interval 0.9 --draws 1000 --seed 7  # with 90% credible intervals
  python -m model explain pfcn_neuropathy avid_cyclist=yes pain_burning=yes sitting_effect=dominant
  python -m model next pain_burning=yes avid_cyclist=yes --top 5      # the questions worth asking next
  python -m model next pain_burning=yes --target tumour               # ... about one cause alone
  python -m model validate cases.csv labels.csv     # AUC, Brier, log loss, calibration, top-1/top-3
  python -m model fit cases.csv --labels labels.csv -o refitted_priors/   # refine the priors with your cases
  python -m model validate --vignettes              # rank of the expected cause in each published vignette
  python -m model export primary_care thigh.xmlbif  # BIF or XMLBIF, by extension; the roles go with it
  python -m model import alarm.bif alarm_priors/    # BIF, XMLBIF or NET into a priors folder

Research model, not medical advice."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _fraction(text):
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be a number between 0 and 1 (0.9 for a 90% interval), got {text!r}")
    return value


def _positive(text):
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def _whole(minimum, maximum=None, beyond=""):
    def whole(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"must be a whole number >= {minimum}, got {text!r}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"must be at most {maximum}, got {text!r}{beyond}")
        return value

    return whole


def _case_columns(command, where=""):
    """The options naming the columns of a cases file that are not observations."""
    command.add_argument("--id-column", "--id", dest="id", metavar="COLUMN", help=f"the case-id column{where} "
                         "(default: a column called id, else the first column unless it names a node)")
    command.add_argument("--ignore-columns", metavar="NAME,...", help="columns that are not observations (notes, "
                         "comments), left out; every other column but the id must name a node")


def build_parser():
    """The parser of ``python -m model`` (bad arguments: a one-line error, exit 2)."""
    parser = _Parser(prog="python -m model", description="Causes of burning pain in the back of the thigh: "
                     "exact Bayesian-network posteriors from the priors in CSV files.", epilog=EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    priors = _Parser(add_help=False)
    priors.add_argument("--priors", metavar="DIR", help="priors folder, or the name of a bundled population "
                        "(primary_care, the default, or specialist)")
    ranges = _Parser(add_help=False)
    ranges.add_argument("--interval", metavar="P", type=_fraction, help="also a central credible interval of "
                        "probability P (0.9: 5th to 95th percentile) and the median, over draws of the parameters "
                        "within the experts' ranges")
    beyond = (" (the draws are held in memory; 10000 already place a 5th percentile within +-0.2 percentile points; "
              "the Python API allows more once model.analysis.intervals.MAX_DRAWS is raised)")
    ranges.add_argument("--draws", metavar="N", type=_whole(1, MAX_DRAWS, beyond), help=f"parameter draws (with "
                        f"--interval; default {DRAWS}, at most {MAX_DRAWS})")
    ranges.add_argument("--seed", metavar="S", type=_whole(0), help="seed of the draws, for the same numbers again "
                        "(with --interval; default: a random seed, printed)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    run = commands.add_parser("infer", parents=[priors, ranges], help="rank the causes given observations",
                              description="Print every cause's posterior given node=state observations (with "
                              "--interval, also its median and credible interval over the experts' ranges).",
                              epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("evidence", nargs="*", metavar="node=state", help="an observation (none: the priors)")
    run.add_argument("--json", action="store_true", help="print one JSON object (attrs and one record per cause)")
    best = commands.add_parser("explanations", parents=[priors], help="the most probable combinations of causes",
                               description="List the most probable joint states of the causes (which are present, "
                               "which absent), each with its exact probability given the observations, and "
                               "P(none of the modelled causes).", epilog=EPILOG,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
    best.add_argument("evidence", nargs="*", metavar="node=state", help="an observation (none: from the priors)")
    best.add_argument("--top", metavar="K", type=_whole(1), default=5, help="how many combinations (default 5)")
    best.add_argument("--json", action="store_true", help="print one JSON object (attrs and one record per row)")
    guess = commands.add_parser("predict", parents=[priors], help="what unobserved findings and tests will show",
                                description="P(state | observations) of every unobserved finding, test and risk "
                                "factor (or of --nodes), exact.", epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    guess.add_argument("evidence", nargs="*", metavar="node=state", help="an observation (none: from the priors)")
    guess.add_argument("--nodes", metavar="NODE,...", help="only these nodes (any node; default: every unobserved "
                       "finding and risk factor)")
    guess.add_argument("--json", action="store_true", help="print one JSON object (attrs and one record per row)")
    check = commands.add_parser("check", parents=[priors], help="check a priors folder, list every problem",
                                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    check.add_argument("folder", nargs="?", metavar="DIR", help="folder to check (default: --priors or bundled)")
    upgrade = commands.add_parser("upgrade", help="bring a priors folder saved by an earlier version to today's "
                                  "format, in place", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    upgrade.add_argument("folder", metavar="DIR", help="the priors folder to upgrade (its parents column is filled "
                         "from its rows: check first that no row was lost)")
    commands.add_parser("nodes", parents=[priors], help="list the nodes, their states and questions",
                        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    versus = commands.add_parser("compare", parents=[priors], help="posteriors under several priors folders, "
                                 "side by side", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    versus.add_argument("folders", nargs="*", metavar="DIR", help="priors folders or bundled population names "
                        "(primary_care, specialist); the first (or --priors) is the reference")
    versus.add_argument("--given", nargs="*", default=[], metavar="node=state", help="the observations")
    batch = commands.add_parser("batch", parents=[priors, ranges], help="posteriors of many cases from a CSV file",
                                description="Read cases (one row each; a column per observed node; an empty "
                                "cell = not observed; an optional id column, see --id-column), write each "
                                "case's posteriors beside its id. Bad rows are reported by line number on "
                                "stderr and left empty in the output; the good rows are kept (exit 1 if any "
                                "row was bad). Output columns: the id (or line), then per cause and complication, "
                                "in nodes.csv order, <cause> = the exact posterior; with --interval each is "
                                "followed by <cause>_median, <cause>_low and <cause>_high over the parameter draws.",
                                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    batch.add_argument("cases", metavar="CASES.csv")
    batch.add_argument("-o", "--output", metavar="OUT.csv", required=True, help="where to write the posteriors")
    _case_columns(batch)
    why = commands.add_parser("explain", parents=[priors], help="how each observation moved one cause",
                              description="Split the change of one cause's log-odds, prior to posterior, into one "
                              "log likelihood ratio per observation (they add up exactly), and list the answers "
                              "that would change the top-ranked cause.", epilog=EPILOG,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    why.add_argument("cause", metavar="CAUSE", help="a cause or complication (see: nodes)")
    why.add_argument("evidence", nargs="*", metavar="node=state", help="an observation")
    why.add_argument("--json", action="store_true", help="print one JSON object (attrs and one record per "
                     "observation)")
    ask = commands.add_parser("next", parents=[priors], help="which questions to ask next",
                              description="Rank the unobserved findings and risk factors by the information their "
                              "answer is expected to give about the causes and complications (bits, exact), per "
                              "unit of cost; while an emergency complication is plausible, its unasked red-flag "
                              "questions come first, marked SCREEN.", epilog=EPILOG,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    ask.add_argument("evidence", nargs="*", metavar="node=state", help="an observation (none: from the priors)")
    ask.add_argument("--target", metavar="CAUSE", help="rank by the information about this cause or "
                     "complication alone")
    ask.add_argument("--rank-by", choices=("gain_per_cost", "info_gain"), default="gain_per_cost",
                     help="after the red-flag screen: information per unit of cost (default) or information alone")
    ask.add_argument("--top", metavar="K", type=_whole(1), default=10, help="how many to show (default 10; "
                     "--json lists every candidate)")
    ask.add_argument("--json", action="store_true", help="print one JSON object (attrs, the screen included, "
                     "and one record per candidate question)")
    score = commands.add_parser("validate", parents=[priors], help="metrics of the posteriors on labelled cases",
                                description="Score the posteriors of CASES.csv (as for batch) against LABELS.csv: "
                                "one 0/1 column per cause or complication scored, and the id column of CASES.csv "
                                "(rows matched by id, any order); when CASES.csv has no id column, LABELS.csv has "
                                "only cause columns and one row per case, in the same order. Prints per cause n, "
                                "prevalence, auc, brier, log_loss, ece, then top-1 and top-3. Rows that cannot be "
                                "computed are left out and reported by line number on stderr (exit 1).",
                                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    score.add_argument("cases", nargs="?", metavar="CASES.csv")
    score.add_argument("labels", nargs="?", metavar="LABELS.csv")
    _case_columns(score, " of both files")
    score.add_argument("--bins", metavar="N", type=_whole(1), help="calibration bins for ece (default 10)")
    score.add_argument("--vignettes", action="store_true", help="instead of CSV files: the rank of the expected "
                       "cause in each published vignette")
    learn = commands.add_parser("fit", parents=[priors], help="refine the priors with your own cases into a new "
                                "priors folder", description="Refit every parameter row the cases inform (MAP: "
                                "each row's range is its prior's spread, centred on its value) on CASES.csv (as for "
                                "batch) and optional LABELS.csv (0/1 per cause, an empty cell = unknown; matched "
                                "as for validate); write the new priors folder. Refitted rows get their new value, "
                                "their 90%% interval as low..high and the data in their source. Progress on stderr; "
                                "bad rows are reported by line and left out (exit 1, as when the fit does not "
                                "converge).", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    learn.add_argument("cases", metavar="CASES.csv")
    learn.add_argument("--labels", metavar="LABELS.csv", help="0/1 per cause (an empty cell: unknown)")
    learn.add_argument("-o", "--output", metavar="NEW_PRIORS_DIR", required=True, help="the new priors folder")
    learn.add_argument("--overwrite", action="store_true", help="replace NEW_PRIORS_DIR if it is not empty")
    learn.add_argument("--max-iterations", metavar="N", type=_whole(1), default=100,
                       help="steps of the search at most (default 100)")
    _case_columns(learn)
    export = commands.add_parser("export", parents=[priors], help="write a priors folder as BIF or XMLBIF (by "
                                 "extension)", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    export.add_argument("folder", nargs="?", metavar="PRIORS_DIR", help="priors folder or bundled population "
                        "name (default: --priors, or the bundled primary_care)")
    export.add_argument("file", metavar="FILE", help="FILE.bif or FILE.xmlbif (each node's role goes with it)")
    load = commands.add_parser("import", help="read BIF, XMLBIF or NET into a priors folder of full CPTs",
                               epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    load.add_argument("file", metavar="FILE", help="FILE.bif, .xmlbif, .xml or .net (optionally .gz)")
    load.add_argument("folder", metavar="DIR", help="new priors folder")
    load.add_argument("--overwrite", action="store_true", help="replace DIR if it is not empty")
    load.add_argument("--max-megabytes", metavar="MB", type=_positive, help="refuse a larger file (text after "
                      "gunzipping; default 32)")
    load.add_argument("--max-entries", metavar="N", type=_whole(1), help="refuse a network whose tables hold "
                      "more numbers in all (default 1000000)")
    load.add_argument("--max-states", metavar="N", type=_whole(2), help="refuse a variable with more states "
                      "(default 1000)")
    return parser
