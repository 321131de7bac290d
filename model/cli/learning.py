"""``python -m model fit``: refine a priors folder with the researcher's own cases, into a new folder."""

from __future__ import annotations

import sys
import warnings

__all__ = ["fit_command"]


def fit_command(args, parser):
    """Read CASES.csv (and LABELS.csv), fit, write the new priors folder; the fit's progress and every
    left-out row on stderr. Exit 0, or 1 when rows were left out or the fit did not converge."""
    from .. import load_model
    from ..learning import FitWarning
    from ..learning.estimate import refit
    from ..priors.save import check_save_target
    from .files import read_csv, read_labels, report_rows, split_ids

    check_save_target(args.output, overwrite=args.overwrite)  # before anything is read or computed
    cases = read_csv(args.cases, parser)
    model = load_model(args.priors)
    id_column, evidence = split_ids(cases, args.cases, args, model, parser)
    labels = read_labels(args, cases, id_column, model, parser, unknown=True) if args.labels else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", FitWarning)
        new, report = refit(model, evidence, labels, max_iterations=args.max_iterations, report=True, progress=True)
    bad = report_rows(args.cases, [dict(p) for p in report.problems])
    for warning in caught:
        if issubclass(warning.category, FitWarning) and "did not converge" in str(warning.message):
            print(f"{parser.prog}: warning: {warning.message}", file=sys.stderr)
    if new is model:
        print(f"{parser.prog}: nothing to fit: no usable case, or no parameter the cases inform; {args.output} "
              "not written.", file=sys.stderr)
        return 1
    new.save(args.output, overwrite=args.overwrite)
    moved = sum(int((new.tables[n]["source"] != model.tables[n]["source"]).sum())
                for n in model.tables if n != "nodes" and "source" in model.tables[n])
    print(f"wrote {args.output}: {moved} parameter rows refitted on {report.cases_used} cases "
          f"({'converged' if report.converged else 'NOT converged'} after {report.iterations} evaluations); "
          f"{bad} bad rows left out; priors {new.priors_digest}.", file=sys.stderr)
    return 1 if bad or not report.converged else 0
