"""Reading the command line's CSV files: cases (``batch``, ``validate``) and labels (``validate``).

Each table comes back as stripped strings indexed by the file's line numbers
(header = line 1), so every problem can name its line. Problems with the
arguments go through ``parser.error`` (exit 2), as in :mod:`model.cli`.
"""

from __future__ import annotations

import sys


def read_csv(path, parser):
    """A CSV file as stripped strings (an empty cell is None), indexed by its line numbers (header = 1)."""
    import pandas as pd

    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as err:
        parser.error(f"cannot read {path}: {err}")
    table.columns = [str(c).strip() for c in table.columns]
    table = table.apply(lambda column: column.str.strip()).replace("", None)
    table.index = pd.RangeIndex(2, len(table) + 2, name="line")
    return table


def split_ids(cases, path, id_option, model, parser):
    """``(id column or None, the evidence columns)`` of a cases table: the id column is ``--id``, else the first
    column unless it names a node."""
    first = cases.columns[0] if len(cases.columns) else None
    id_column = id_option or (first if first is not None and first not in model.nodes.index else None)
    if id_column is not None and id_column not in cases.columns:
        parser.error(f"--id {id_column!r} is not a column of {path}")
    return id_column, cases.drop(columns=[id_column]) if id_column else cases


def report_rows(path, problems, unit="line"):
    """Each bad row's problem on stderr; the number of bad rows."""
    for problem in problems:
        print(f"{path}, {unit} {problem['row']}: {problem['problem']}", file=sys.stderr)
    return len({problem["row"] for problem in problems})



LABELS = {"0": 0, "1": 1, "false": 0, "true": 1}


def read_labels(args, cases, id_column, model, parser):
    """The labels CSV as 0/1 cells, aligned to ``cases`` (by id when the cases have an id column, else by
    row order); every bad cell, by line and column, in one error."""
    import pandas as pd

    labels = read_csv(args.labels, parser)
    if id_column:
        if id_column not in labels.columns:
            parser.error(f"{args.labels} has no column {id_column!r}, the case ids of {args.cases}: add it, so each "
                         "row of labels is matched to its case by id")
        for path, ids in ((args.cases, cases[id_column]), (args.labels, labels[id_column])):
            twice = ids[ids.duplicated(keep=False) | ids.isna()]
            if len(twice):
                parser.error(f"{path}: every case id ({id_column!r}) must be given once; line {twice.index[0]} "
                             f"has {'an empty id' if pd.isna(twice.iat[0]) else repr(twice.iat[0])}")
        missing = sorted(set(cases[id_column]) - set(labels[id_column]))
        extra = sorted(set(labels[id_column]) - set(cases[id_column]))
        if missing or extra:
            parser.error(f"the ids of {args.labels} must be those of {args.cases} (any order): cases without labels: "
                         f"{missing[:5] or 'none'}; labels without a case: {extra[:5] or 'none'}")
    elif len(labels) != len(cases):
        parser.error(f"{args.labels} has {len(labels)} rows but {args.cases} has {len(cases)}: without an id column "
                     "the rows are matched in order, so give one label row per case (or an id column in both)")
    scored = [column for column in labels.columns if column in model.causes + model.complications]
    problems = [f"line {line}, column {column!r}: a label must be 0 or 1, got "
                f"{'an empty cell' if pd.isna(value) else repr(value)}"
                for column in scored for line, value in labels[column].items() if str(value).lower() not in LABELS]
    if problems:
        print(f"{parser.prog}: error: {len(problems)} bad label{'s' * (len(problems) > 1)} in {args.labels} (write 1 "
              "when the case has the cause, 0 when not):\n" + "\n".join(f"  - {p}" for p in problems),
              file=sys.stderr)
        sys.exit(2)
    for column in scored:
        labels[column] = labels[column].map(lambda value: LABELS[value.lower()]).astype(int)
    if id_column:
        labels = labels.set_index(id_column).loc[cases[id_column].to_numpy()]
    labels.index = cases.index
    return labels
