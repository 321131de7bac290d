"""Command line: ``python -m model`` (or ``thighpain``).

Commands: ``infer`` (rank the causes), ``explain`` (how each answer moved one
cause), ``next`` (which question to ask next), ``batch`` (a CSV of cases, with
optional credible intervals), ``validate`` (metrics on labelled cases, or the
published vignettes), ``compare``, ``check``, ``nodes``, ``export``, ``import``.

Uses the public API only; the arguments are defined in
:mod:`model.cli.parser`, the new commands' text comes from
:mod:`model.cli.reports`, the reading and writing of CSV files from
:mod:`model.cli.files`. Imports happen inside the commands, so ``check``
stays fast. Bad arguments, unreadable input files and failed writes (a
full or read-only disk) give a one-line error and exit 2, and never leave a
half-written file; invalid priors print every problem and exit 1; ``batch`` and ``validate`` exit 1 when some
rows could not be computed (each reported by line number on stderr).
"""

from __future__ import annotations

import sys

from .learning import fit_command
from .parser import DRAWS, MAX_DRAWS, build_parser

__all__ = ["MAX_DRAWS", "main"]


def _parse_evidence(pairs, parser):
    """``node=state`` pairs as a dict; ``node={"state": likelihood, ...}`` (a JSON object) is soft evidence."""
    import json

    evidence = {}
    for pair in pairs:
        node, sep, state = pair.partition("=")
        if not sep or not node or not state:
            parser.error(f"evidence must be node=state, got {pair!r}")
        if node in evidence:
            parser.error(f"{node!r} is given twice")
        if state.startswith("{"):
            try:
                state = json.loads(state)
            except ValueError as err:
                parser.error(f"soft evidence for {node!r} must be a JSON object of state: likelihood, e.g. "
                             f"'{node}={{\"no\": 0.1, \"yes\": 1}}'; got {state!r} ({err})")
        evidence[node] = state
    return evidence


def _flag_lines(attrs, population, evidence):
    """The red-flag banner of a result's ``attrs`` (firm and possible flags)."""
    from .reports import red_flag_lines

    return red_flag_lines(attrs["red_flags"], {**population, **evidence}, attrs.get("possible_red_flags", ()))


def _format_result(result, ranges="", thresholds=None):
    from .differential import must_not_miss_lines
    from .reports import population_lines

    population = result.attrs.get("population", {})
    lines = _flag_lines(result.attrs, population.get("evidence", {}), result.attrs["evidence"])
    lines += must_not_miss_lines(result, thresholds or {})
    lines += population_lines(population)
    width = max(len("cause"), *(len(c) for c in result.index))
    columns = [c for c in ("posterior", "prior", "lift", "median", "low", "high") if c in result.columns]
    lines.append(f"{'cause':<{width}}" + "".join(f"  {c:>9}" for c in columns))
    for cause, row in result.iterrows():
        lines.append(f"{cause:<{width}}" + "".join(f"  {row[c]:>9.4f}" for c in columns))
    lines.append("")
    if "p_no_modelled_cause" in result.attrs:
        lines.append(f"P(none of the modelled causes | evidence) = {result.attrs['p_no_modelled_cause']:.4f}")
    lines.append(f"{ranges}priors {result.attrs['priors_digest']}; posterior = P(present | evidence); "
                 "lift = posterior / prior. Research model, not medical advice.")
    return "\n".join(lines)


def _convert(args):
    from pathlib import Path

    from .. import load_model
    from .reports import shell_pair
    from ..errors import PriorsError
    from ..interop import network_to_tables, read_network, rescaled_columns, write_network
    from ..priors.files import check_save_target, save_tables
    from ..priors.checks import check_priors
    from ..priors.tables import raw_tables

    if args.command == "export":
        if args.folder and args.priors:
            print(f"python -m model: error: give the priors once: as PRIORS_DIR ({args.folder}) or as --priors "
                  f"({args.priors}), not both", file=sys.stderr)
            return 2
        folder = args.folder or args.priors
        model = load_model(folder)
        try:
            write_network(model.network, args.file, roles=model.nodes["role"].to_dict())
        except PriorsError as err:  # a file that cannot be written: one line, exit 2
            print(f"python -m model: error: {' '.join(err.problems)}", file=sys.stderr)
            return 2
        print(f"wrote {args.file}: {len(model.nodes)} nodes from {folder or 'the bundled priors'} "
              f"(priors {model.priors_digest}).")
        return 0
    check_save_target(args.folder, overwrite=args.overwrite)  # refuse before the (slow) read
    try:
        limits = {k: v for k, v in (("max_megabytes", args.max_megabytes), ("max_entries", args.max_entries),
                                    ("max_states", args.max_states)) if v is not None}
        network = read_network(args.file, **limits)
    except PriorsError as err:  # a file that cannot be read is a bad argument: one line, exit 2
        print(f"python -m model: error: {' '.join(err.problems)}", file=sys.stderr)
        return 2
    tables = network_to_tables(network, source=Path(args.file).name)
    names = tables["import_names"]
    changed = names[(names["node"] != names["original_node"]) | (names["state"] != names["original_state"])]
    priors = check_priors(*raw_tables({k: v for k, v in tables.items() if k != "import_names"}), origin=args.file)
    save_tables(tables, args.folder, overwrite=args.overwrite)  # only priors that passed every check
    print(f"imported {args.file} into {args.folder}: {len(priors.nodes)} nodes, priors {priors.digest}.")
    for _, row in changed.iterrows():
        print(f"  renamed {shell_pair(row['original_node'], row['original_state'])} -> "
              f"{shell_pair(row['node'], row['state'])}")
    if len(changed):
        print(f"  ({len(changed)} names mapped; the full map is in import_names.csv)")
    rescaled = rescaled_columns(network)
    if rescaled:
        columns, off = sum(c for c, _ in rescaled.values()), max(o for _, o in rescaled.values())
        print(f"  rescaled {columns} probability column(s) of {len(rescaled)} node(s) to sum to exactly 1 (they did "
              f"within {off:.2g})")
    return 0


def _interval_options(args, parser):
    """``(options for infer / infer_batch, words for the footer)`` from --interval, --draws and --seed."""
    if args.interval is None and (args.draws is not None or args.seed is not None):
        parser.error("--draws and --seed only apply with --interval (e.g. --interval 0.9)")
    if args.interval is None:
        return {}, ""
    import secrets

    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)  # printed: the run can be repeated
    options = {"interval": args.interval, "draws": args.draws or DRAWS, "seed": seed}
    return options, f"{args.interval * 100:g}% credible intervals from {options['draws']} draws, seed {seed}; "


def _batch(args, parser):
    options, ranges = _interval_options(args, parser)
    from .. import load_model
    from .files import check_output, read_csv, report_rows, split_ids, write_csv
    from .reports import flatten_intervals

    check_output(args.output, [args.cases], parser)  # before anything is read or computed
    cases = read_csv(args.cases, parser)  # a bad file is reported before the (slower) priors are read
    model = load_model(args.priors)
    id_column, evidence = split_ids(cases, args.cases, args, model, parser)
    result = model.infer_batch(evidence, progress=None, **options)  # a bar on a terminal, once a run is slow
    bad = report_rows(args.cases, result.attrs["problems"])
    out = flatten_intervals(result) if options else result.copy()
    out.insert(0, id_column or "line", cases[id_column] if id_column else cases.index)
    for key in ("red_flags", "possible_red_flags"):  # emergency findings per row, "|"-separated; empty: none
        out[key] = [("|".join(result.attrs[key].get(label, ()))) for label in result.index]
    must = result.attrs["must_not_miss"]  # serious causes at or above their action threshold, per row
    out["must_not_miss"] = ["|".join(must.get(label, ())) for label in result.index]
    out.attrs = {}
    write_csv(out, args.output)  # full precision (the numbers are exact); atomic: an old file stays whole
    print(f"wrote {args.output}: {len(out)} cases, {len(out) - bad} computed, {bad} bad (left empty); "
          f"{ranges}priors {model.priors_digest}.", file=sys.stderr)
    return 1 if bad else 0


def _explain(args, parser):
    if "=" in args.cause:
        parser.error(f"the first argument is the cause to explain, got {args.cause!r} "
                     f"(e.g. explain pfcn_neuropathy {args.cause})")
    from .. import explain, load_model
    from .reports import format_explanation

    evidence = _parse_evidence(args.evidence, parser)
    model = load_model(args.priors)
    frame = explain(evidence, args.cause, priors=model)
    if args.json:
        from .differential import as_json

        print(as_json(frame))
        return 0
    print("\n".join(_flag_lines(frame.attrs, model.population, evidence) + [format_explanation(frame)]))
    return 0


def _next(args, parser):
    from .. import load_model, next_questions
    from .reports import format_questions

    evidence = _parse_evidence(args.evidence, parser)
    model = load_model(args.priors)
    try:
        ranked = next_questions(evidence, target=args.target, rank_by=args.rank_by, priors=model)
    except ValueError as err:  # a plain ValueError: a network too dense to rank (EvidenceError goes on to main)
        if type(err) is not ValueError:
            raise
        print(f"{parser.prog}: error: {err}", file=sys.stderr)
        return 1
    if args.json:
        from .differential import as_json

        print(as_json(ranked))
        return 0
    print("\n".join(_flag_lines(ranked.attrs, model.population, evidence) +
                    [format_questions(ranked, model.nodes, args.top)]))
    return 0


def _validate(args, parser):
    from .. import load_model, validate, vignette_scorecard
    from .files import read_csv, read_labels, report_rows, split_ids
    from .reports import format_scorecard, format_validation

    if args.vignettes:
        if args.cases or args.id or args.ignore_columns or args.bins is not None:
            parser.error("--vignettes scores the bundled vignettes: give no CSV file, --id-column, --ignore-columns "
                         "or --bins with it")
        card = vignette_scorecard(priors=load_model(args.priors))
        print(format_scorecard(card))
        return 1 if report_rows("model/data/vignettes.csv", card.attrs["problems"], unit="vignette") else 0
    if not args.labels:
        parser.error("validate needs CASES.csv and LABELS.csv (or --vignettes)")
    cases = read_csv(args.cases, parser)
    model = load_model(args.priors)
    id_column, evidence = split_ids(cases, args.cases, args, model, parser)
    labels = read_labels(args, cases, id_column, model, parser)
    report = validate(evidence, labels, priors=model, bins=args.bins or 10)
    excluded = report_rows(args.cases, report.excluded.to_dict("records"))
    print(format_validation(report, args.bins or 10, model.priors_digest))
    return 1 if excluded else 0


def _compare(args, parser):
    from .. import compare

    evidence = _parse_evidence(args.given, parser)
    folders = ([args.priors] if args.priors else []) + args.folders
    if not folders:
        parser.error("compare needs priors folders or bundled population names, e.g. compare primary_care "
                     "my_priors/")
    variants = {}
    for folder in folders:
        name = folder.rstrip("/") or folder
        if name in variants:
            parser.error(f"{folder!r} is given twice")
        variants[name] = folder
    table = compare(variants, evidence)
    wide = table.pivot_table(index="cause", columns="variant", values="posterior", sort=False)[list(variants)]
    first = next(iter(variants))
    for name in list(variants)[1:]:
        wide[f"{name} - {first}"] = wide[name] - wide[first]
    flags = {key: table.attrs[key].get(0, []) for key in ("red_flags", "possible_red_flags")}
    print("\n".join(_flag_lines(flags, {}, evidence) +
                    [wide.sort_values(first, ascending=False).to_string(float_format=lambda x: f"{x:.4f}")]))
    return 0


_COMMANDS = {"batch": _batch, "compare": _compare, "explain": _explain, "fit": fit_command, "next": _next,
             "validate": _validate}


def main(argv=None):
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    from ..errors import EvidenceError, PriorsError

    try:
        if args.command == "check":
            from ..priors.files import load_priors

            folder = args.folder or args.priors
            priors = load_priors(folder)
            counts = priors.nodes["role"].value_counts()
            print(f"OK: {priors.origin}: {len(priors.nodes)} nodes ({counts.get('cause', 0)} causes, "
                  f"{counts.get('finding', 0)} findings, {counts.get('risk_factor', 0)} risk factors), "
                  f"{sum(len(t) for n, t in priors.tables.items() if n != 'population')} parameter rows, "
                  f"digest {priors.digest}.")
            return 0
        if args.command == "upgrade":
            from ..priors.files import upgrade_priors_folder

            priors = upgrade_priors_folder(args.folder)
            print(f"OK: {priors.origin} upgraded; digest {priors.digest}.")
            return 0
        if args.command in ("export", "import"):
            return _convert(args)
        if args.command in _COMMANDS:
            return _COMMANDS[args.command](args, parser)
        if args.command in ("explanations", "predict"):
            from .differential import explanations_command, predict_command

            evidence = _parse_evidence(args.evidence, parser)
            if args.command == "explanations":
                return explanations_command(args, evidence)
            return predict_command(args, evidence, parser)
        evidence = _parse_evidence(args.evidence, parser) if args.command == "infer" else {}
        options, ranges = _interval_options(args, parser) if args.command == "infer" else ({}, "")
        from .. import load_model

        model = load_model(args.priors)
        if args.command == "nodes":
            nodes = model.nodes
            for node, row in nodes.iterrows():
                print(f"{node} [{row['role']}] {'|'.join(row['states'])}: {row['question'] or row['label']}")
            return 0
        result = model.infer(evidence, **options)
        if args.json:
            from .differential import as_json

            print(as_json(result))
            return 0
        thresholds = model.nodes.get("action_threshold")
        print(_format_result(result, ranges, {} if thresholds is None else thresholds.dropna().to_dict()))
        return 0
    except PriorsError as err:
        print(_for_the_command_line(str(err)), file=sys.stderr)
        return 1
    except FileExistsError as err:
        print(_for_the_command_line(str(err)), file=sys.stderr)
        return 1
    except EvidenceError as err:
        print(f"{parser.prog}: error: {_for_the_command_line(str(err))}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and cut short: not an error
        sys.stderr.close()
        return 0
    except OSError as err:  # a full disk, a read-only folder ...: one line, nothing half-written (writes are atomic)
        where = f"{err.filename}: " if err.filename else ""
        print(f"{parser.prog}: error: {where}{err.strerror or err}", file=sys.stderr)
        return 2
    except MemoryError as err:  # a plan refused before it is built says why; a real one gets the general advice
        print(f"{parser.prog}: error: {err or 'out of memory; try fewer cases or draws at a time'}", file=sys.stderr)
        return 2


#: Phrases of the Python API's messages and what a command-line user types instead.
_CLI_WORDS = (("pass overwrite=True", "pass --overwrite"),
              ("or None for the default", "or leave out --priors for the default"),
              ("or None for the bundled priors", "or leave out --priors for the bundled priors"),
              ("model.priors.upgrade_priors_folder(folder)", "python -m model upgrade DIR"))


def _for_the_command_line(message):
    """An API message in command-line words (``--overwrite``, not ``overwrite=True``)."""
    for python, words in _CLI_WORDS:
        message = message.replace(python, words)
    return message


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
