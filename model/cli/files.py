"""The command line's CSV files: reading cases (``batch``, ``validate``) and labels (``validate``), writing
results.

Each table comes back as stripped strings indexed by the line of the file
each row starts on (header = line 1; blank lines skipped but counted), so every
problem can name its line. A comma-, semicolon-, tab- or bar-separated file is
read by its header's separator; a spreadsheet workbook is refused with what to
do. Results are written atomically (a temporary file in the same folder, then
a rename), never onto an input. Problems with the arguments go through
``parser.error`` (exit 2), as in :mod:`model.cli`.
"""

from __future__ import annotations

import csv
import os
import sys
from pathlib import Path

from ..errors import close_names

#: Separators recognised in a header line, and how a message names them.
SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
#: Spreadsheet formats by their first bytes (xlsx, xlsm and ods are zip files; xls an OLE2 file).
_WORKBOOKS = {b"PK\x03\x04": "a spreadsheet workbook (.xlsx, .xlsm or .ods)",
              b"\xd0\xcf\x11\xe0": "an Excel 97-2003 workbook (.xls)"}
_WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods", ".numbers")


def separator(header):
    """The separator of a CSV header line: the candidate of :data:`SEPARATORS` that splits it into the most
    cells (quotes respected); a comma when none splits it.

    Examples
    --------
    >>> separator("case;pain_burning;avid_cyclist")
    ';'
    >>> separator("case,pain_burning")
    ','
    >>> separator("pain_burning")
    ','
    >>> separator('"a;b",c')
    ','
    """
    counts = {sep: len(next(csv.reader([header], delimiter=sep), [])) for sep in SEPARATORS}
    best = max(counts.values())
    return next(sep for sep, count in counts.items() if count == best)


def _workbook(path):
    """What kind of spreadsheet workbook ``path`` is, or None for a text file."""
    try:
        with open(path, "rb") as handle:
            start = handle.read(4)
    except OSError:
        return None  # reported when the file is read
    kind = _WORKBOOKS.get(start)
    if kind is None and Path(path).suffix.lower() in _WORKBOOK_SUFFIXES:
        kind = f"a spreadsheet file ({Path(path).suffix})"
    return kind


def read_csv(path, parser):
    """A CSV file as stripped strings (an empty cell is None), indexed by the line each row starts on
    (header = 1)."""
    import pandas as pd

    workbook = _workbook(path)
    if workbook:
        parser.error(f"{path} is {workbook}, not a CSV file: in the spreadsheet, save the sheet as "
                     "'CSV UTF-8 (comma-delimited)' and pass that file")
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            header_line = handle.readline()
            sep = separator(header_line)
            handle.seek(0)
            reader = csv.reader(handle, delimiter=sep, skipinitialspace=True)
            header = next(reader, None)
            rows, lines, start = [], [], reader.line_num + 1
            for record in reader:
                if any(cell.strip() for cell in record):
                    if len(record) > len(header):
                        parser.error(f"cannot read {path}: line {start} has {len(record)} cells but the header "
                                     f"has {len(header)} ({SEPARATORS[sep]}-separated); quote cells that hold "
                                     f"a {SEPARATORS[sep]}")
                    rows.append([cell.strip() or None for cell in record] + [None] * (len(header) - len(record)))
                    lines.append(start)
                start = reader.line_num + 1
    except UnicodeDecodeError as err:
        parser.error(f"cannot read {path}: it is not UTF-8 text ({err.reason} at byte {err.start}); save it as "
                     "'CSV UTF-8'")
    except (OSError, csv.Error) as err:
        parser.error(f"cannot read {path}: {err}")
    if not header or not any(cell.strip() for cell in header):
        parser.error(f"cannot read {path}: the file is empty (a header line naming the columns comes first)")
    columns = [str(c).strip() for c in header]
    table = pd.DataFrame(rows, columns=columns, index=pd.Index(lines, name="line", dtype="int64"), dtype=object)
    if sep != ",":
        print(f"note: {path} read as {SEPARATORS[sep]}-separated.", file=sys.stderr)
    return table


def _node_like(name, nodes, renamed):
    """Whether a header names a node, an old (renamed) node, or nearly one (case ignored)."""
    return name in nodes or name in renamed or bool(close_names(name, nodes, n=1, cutoff=0.8))


def _hint(name, nodes, renamed):
    """' (did you mean ...?)' for an unknown header: a renamed node's new name, else the closest node names."""
    if name in renamed:
        return f" (renamed to {renamed[name]!r})"
    close = close_names(name, nodes, n=3, cutoff=0.6)
    return f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""


def _renamed_nodes(nodes):
    """Old node name -> the node that replaced it, from the bundled renamed.csv (only names still present)."""
    from ..priors.files import read_renamed

    table = read_renamed()
    rows = table[(table["old_state"] == "") & table["new_node"].isin(list(nodes))]
    return dict(zip(rows["old_node"], rows["new_node"]))


def split_ids(cases, path, options, model, parser):
    """``(id column or None, the evidence columns)`` of a cases table.

    The id column is ``--id-column`` when given; else a column called ``id``
    (any case); else the first column, unless its header names a node (or
    nearly: a misspelt node is an unknown column, not an id). The columns of
    ``--ignore-columns`` are dropped; every other header must name a node: all
    the others are reported at once, each with the closest node names.
    """
    nodes = list(model.nodes.index)
    renamed = _renamed_nodes(nodes)
    columns = list(cases.columns)
    ignored = [c.strip() for c in (getattr(options, "ignore_columns", None) or "").split(",") if c.strip()]
    for name, option in ((options.id, "--id-column"), *((c, "--ignore-columns") for c in ignored)):
        if name is not None and name not in columns:
            close = close_names(name, columns, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            parser.error(f"{option} {name!r} is not a column of {path}{hint}; its columns are: "
                         f"{', '.join(map(str, columns[:12]))}{' ...' if len(columns) > 12 else ''}")
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated:
        parser.error(f"{path}: the column(s) {', '.join(map(repr, duplicated))} appear more than once in the header "
                     "(line 1); keep one column per node")
    id_column = options.id
    if id_column is None:
        named_id = [c for c in columns if c.casefold() == "id" and c not in ignored]
        if named_id:
            id_column = named_id[0]
        elif columns and columns[0] not in ignored and not _node_like(columns[0], nodes, renamed):
            id_column = columns[0]
    rest = [c for c in columns if c != id_column and c not in ignored]
    unknown = [c for c in rest if c not in nodes]
    if unknown:
        listed = ", ".join(f"{c!r}{_hint(c, nodes, renamed)}" for c in unknown[:10])
        more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        which = "the case id is " + (repr(id_column) if id_column else "the line number (no id column)")
        parser.error(f"{path}, line 1: {len(unknown)} column(s) name no node: {listed}{more}. Every column but the "
                     f"case id must be a node ({which}; 'python -m model nodes' lists the nodes); pass "
                     "--id-column NAME to name the id column, or --ignore-columns NAME,... to skip columns that "
                     "are not observations")
    return id_column, cases[rest]


def check_output(path, inputs, parser):
    """Refuse, before anything is computed, an output path that is a folder, lies in a missing folder, or is one
    of the ``inputs`` (writing there would destroy it)."""
    target = Path(path)
    if target.is_dir():
        parser.error(f"-o {path} is a folder; give a file name, such as {target / 'posteriors.csv'}")
    folder = target.parent
    if not folder.is_dir():
        parser.error(f"-o {path}: the folder {str(folder) or '.'} does not exist; create it first, or write elsewhere")
    for source in inputs:
        same = Path(source).resolve() == target.resolve()
        if not same and target.exists():
            try:
                same = os.path.samefile(source, target)
            except OSError:
                same = False
        if same:
            parser.error(f"-o {path} is the input file {source}: writing there would overwrite it; choose another "
                         f"name, such as {target.with_name(target.stem + '_posteriors.csv')}")


def write_csv(frame, path):
    """Write ``frame`` as CSV atomically: a temporary file in the target's folder, flushed to disk, then renamed
    over ``path``. On any error the temporary file is removed and an existing ``path`` is left as it was;
    the ``OSError`` is raised again, naming ``path``."""
    import tempfile

    target = Path(path)
    handle = tempfile.NamedTemporaryFile("w", encoding="utf-8", newline="", dir=target.parent or ".",
                                         prefix=f".{target.name}.", suffix=".tmp", delete=False)
    try:
        with handle:
            frame.to_csv(handle, index=False)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, target)
    except BaseException as err:
        try:
            os.unlink(handle.name)
        except OSError:
            pass
        if isinstance(err, OSError) and not err.filename:
            raise OSError(err.errno, err.strerror or str(err), str(path)) from None
        raise


def report_rows(path, problems, unit="line"):
    """Each bad row's problem on stderr; the number of bad rows."""
    for problem in problems:
        print(f"{path}, {unit} {problem['row']}: {problem['problem']}", file=sys.stderr)
    return len({problem["row"] for problem in problems})


LABELS = {"0": 0, "1": 1, "false": 0, "true": 1}


def read_labels(args, cases, id_column, model, parser, unknown=False):
    """The labels CSV as 0/1 cells, aligned to ``cases`` (by id when the cases have an id column, else by
    row order); every bad cell, by line and column, in one error. With ``unknown``, an empty cell is allowed
    (NaN: not known)."""
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
                for column in scored for line, value in labels[column].items()
                if str(value).lower() not in LABELS and not (unknown and pd.isna(value))]
    if problems:
        print(f"{parser.prog}: error: {len(problems)} bad label{'s' * (len(problems) > 1)} in {args.labels} (write 1 "
              "when the case has the cause, 0 when not):\n" + "\n".join(f"  - {p}" for p in problems),
              file=sys.stderr)
        sys.exit(2)
    for column in scored:
        labels[column] = labels[column].map(lambda value: LABELS[value.lower()] if isinstance(value, str) else value)
        labels[column] = labels[column].astype(float if unknown else int)
    if id_column:
        labels = labels.set_index(id_column).loc[cases[id_column].to_numpy()]
    labels.index = cases.index
    return labels
