"""Command line: ``python -m model`` (or ``thighpain``).

Uses the public API only. Bad arguments give a one-line error and exit 2;
invalid priors print every problem and exit 1.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["main"]

EPILOG = """examples:
  python -m model infer pain_burning=yes low_back_pain=no sitting_effect=dominant avid_cyclist=yes
  python -m model infer --priors my_priors/ crossed_slr_positive=yes
  python -m model check priors/
  python -m model nodes            # every node, its states and how to ask for it
  python -m model compare priors/ my_priors/ --given avid_cyclist=yes sitting_effect=dominant
  python -m model batch cases.csv -o posteriors.csv  # many cases: one row each, empty cell = not observed
  python -m model export priors/ thigh.bif          # BIF or XMLBIF, by extension
  python -m model import alarm.bif alarm_priors/    # BIF, XMLBIF or NET into a priors folder

Research model, not medical advice."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _parse_evidence(pairs, parser):
    evidence = {}
    for pair in pairs:
        node, sep, state = pair.partition("=")
        if not sep or not node or not state:
            parser.error(f"evidence must be node=state, got {pair!r}")
        if node in evidence:
            parser.error(f"{node!r} is given twice")
        evidence[node] = state
    return evidence


def _format_result(result):
    lines = []
    for flag in result.attrs["red_flags"]:
        lines.append(f"!!! EMERGENCY RED FLAG: {flag}={result.attrs['evidence'][flag]} -- possible cauda equina "
                     "syndrome: same-day MRI and surgical opinion, whatever the ranking below. !!!")
    if lines:
        lines.append("")
    width = max(len("cause"), *(len(c) for c in result.index))
    lines.append(f"{'cause':<{width}}  {'posterior':>9}  {'prior':>7}")
    for cause, row in result.iterrows():
        lines.append(f"{cause:<{width}}  {row['posterior']:>9.4f}  {row['prior']:>7.4f}")
    lines.append("")
    lines.append(f"priors {result.attrs['priors_digest']}; posterior = P(present | evidence). "
                 "Research model, not medical advice.")
    return "\n".join(lines)


def _convert(args):
    from pathlib import Path

    from . import load_model
    from .interop import network_to_tables, read_network, write_network
    from .priors import check_save_target, save_tables
    from .priors_checks import check_priors
    from .tables import raw_tables

    if args.command == "export":
        model = load_model(args.folder)
        write_network(model.network, args.file)
        print(f"wrote {args.file}: {len(model.nodes)} nodes from {args.folder} (priors {model.priors_digest}).")
        return 0
    check_save_target(args.folder, overwrite=args.overwrite)  # refuse before the (slow) read
    tables = network_to_tables(read_network(args.file), source=Path(args.file).name)
    names = tables["import_names"]
    changed = names[(names["node"] != names["original_node"]) | (names["state"] != names["original_state"])]
    priors = check_priors(*raw_tables({k: v for k, v in tables.items() if k != "import_names"}), origin=args.file)
    save_tables(tables, args.folder, overwrite=args.overwrite)  # only priors that passed every check
    print(f"imported {args.file} into {args.folder}: {len(priors.nodes)} nodes, priors {priors.digest}.")
    for _, row in changed.iterrows():
        print(f"  renamed {row['original_node']}={row['original_state']} -> {row['node']}={row['state']}")
    if len(changed):
        print(f"  ({len(changed)} names mapped; the full map is in import_names.csv)")
    return 0


def _batch(args, parser):
    import pandas as pd

    from . import load_model

    try:
        cases = pd.read_csv(args.cases, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as err:
        parser.error(f"cannot read {args.cases}: {err}")
    cases.columns = [str(c).strip() for c in cases.columns]
    cases = cases.apply(lambda column: column.str.strip()).replace("", None)
    model = load_model(args.priors)
    id_column = args.id or (cases.columns[0] if len(cases.columns) and cases.columns[0] not in model.nodes.index
                            else None)
    if id_column is not None and id_column not in cases.columns:
        parser.error(f"--id {id_column!r} is not a column of {args.cases}")
    cases.index = pd.RangeIndex(2, len(cases) + 2, name="line")  # line numbers of the file (header = 1)
    evidence = cases.drop(columns=[id_column]) if id_column else cases
    result = model.infer_batch(evidence, progress=sys.stderr.isatty())
    for problem in result.attrs["problems"]:
        print(f"{args.cases}, line {problem['row']}: {problem['problem']}", file=sys.stderr)
    out = result.copy()
    out.insert(0, id_column or "line", cases[id_column] if id_column else cases.index)
    out.attrs = {}
    out.to_csv(args.output, index=False)  # full precision: the numbers are exact
    bad = len({p["row"] for p in result.attrs["problems"]})
    print(f"wrote {args.output}: {len(out)} cases, {len(out) - bad} computed, {bad} bad (left empty); "
          f"priors {model.priors_digest}.", file=sys.stderr)
    return 1 if bad else 0


def _compare(args, parser):
    from . import compare

    evidence = _parse_evidence(args.given, parser)
    variants = {}
    for folder in args.folders:
        name = folder.rstrip("/") or folder
        if name in variants:
            parser.error(f"{folder!r} is given twice")
        variants[name] = folder
    table = compare(variants, evidence)
    wide = table.pivot_table(index="cause", columns="variant", values="posterior", sort=False)[list(variants)]
    first = list(variants)[0]
    for name in list(variants)[1:]:
        wide[f"{name} - {first}"] = wide[name] - wide[first]
    print(wide.sort_values(first, ascending=False).to_string(float_format=lambda x: f"{x:.4f}"))
    return 0


def _build_parser():
    parser = _Parser(prog="python -m model", description="Causes of burning pain in the back of the thigh: "
                     "exact Bayesian-network posteriors from the priors in CSV files.", epilog=EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    priors = _Parser(add_help=False)
    priors.add_argument("--priors", metavar="DIR", help="priors folder (default: the bundled priors)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    run = commands.add_parser("infer", parents=[priors], help="rank the causes given observations",
                              description="Print every cause's posterior given node=state observations.",
                              epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("evidence", nargs="*", metavar="node=state", help="an observation (none: the priors)")
    check = commands.add_parser("check", parents=[priors], help="check a priors folder, list every problem",
                                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    check.add_argument("folder", nargs="?", metavar="DIR", help="folder to check (default: --priors or bundled)")
    commands.add_parser("nodes", parents=[priors], help="list the nodes, their states and questions",
                        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    versus = commands.add_parser("compare", help="posteriors under several priors folders, side by side",
                                 epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    versus.add_argument("folders", nargs="+", metavar="DIR", help="priors folders; the first is the reference")
    versus.add_argument("--given", nargs="*", default=[], metavar="node=state", help="the observations")
    batch = commands.add_parser("batch", parents=[priors], help="posteriors of many cases from a CSV file",
                                description="Read cases (one row each; a column per observed node; an empty "
                                "cell = not observed; an optional first column with the case id), write each "
                                "case's posteriors beside its id. Bad rows are reported by line number on "
                                "stderr and left empty in the output; the good rows are kept (exit 1 if any "
                                "row was bad).", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    batch.add_argument("cases", metavar="CASES.csv")
    batch.add_argument("-o", "--output", metavar="OUT.csv", required=True, help="where to write the posteriors")
    batch.add_argument("--id", metavar="COLUMN", help="the case-id column (default: the first column, unless "
                       "it names a node)")
    export = commands.add_parser("export", help="write a priors folder as BIF or XMLBIF (by extension)",
                                 epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    export.add_argument("folder", metavar="PRIORS_DIR")
    export.add_argument("file", metavar="FILE", help="FILE.bif or FILE.xmlbif")
    load = commands.add_parser("import", help="read BIF, XMLBIF or NET into a priors folder of full CPTs",
                               epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    load.add_argument("file", metavar="FILE", help="FILE.bif, .xmlbif, .xml or .net (optionally .gz)")
    load.add_argument("folder", metavar="DIR", help="new priors folder")
    load.add_argument("--overwrite", action="store_true", help="replace DIR if it is not empty")
    return parser


def main(argv=None):
    """Run the command line; return the exit code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    from .errors import EvidenceError, PriorsError

    try:
        if args.command == "check":
            from .priors import load_priors

            folder = args.folder or args.priors
            priors = load_priors(folder)
            counts = priors.nodes["role"].value_counts()
            print(f"OK: {priors.origin}: {len(priors.nodes)} nodes ({counts.get('cause', 0)} causes, "
                  f"{counts.get('finding', 0)} findings, {counts.get('risk_factor', 0)} risk factors), "
                  f"{sum(len(t) for t in priors.tables.values())} parameter rows, digest {priors.digest}.")
            return 0
        if args.command in ("export", "import"):
            return _convert(args)
        if args.command == "compare":
            return _compare(args, parser)
        if args.command == "batch":
            return _batch(args, parser)
        evidence = _parse_evidence(args.evidence, parser) if args.command == "infer" else {}
        from . import load_model

        model = load_model(args.priors)
        if args.command == "nodes":
            nodes = model.nodes
            for node, row in nodes.iterrows():
                print(f"{node} [{row['role']}] {'|'.join(row['states'])}: {row['question'] or row['label']}")
            return 0
        print(_format_result(model.infer(evidence)))
        return 0
    except PriorsError as err:
        print(err, file=sys.stderr)
        return 1
    except FileExistsError as err:
        print(str(err).replace("pass overwrite=True", "pass --overwrite"), file=sys.stderr)
        return 1
    except EvidenceError as err:
        print(f"{parser.prog}: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and cut short: not an error
        sys.stderr.close()
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
