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
    except EvidenceError as err:
        print(f"{parser.prog}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
