"""Priors on disk: find, read and check a priors folder.

This is the only module that touches files. Reading turns every CSV into a
table of text cells that remembers the line each row came from; the checks in
:mod:`model.priors.checks` then turn the tables into a validated
:class:`Priors` or raise one :class:`~model.errors.PriorsError` listing every
problem with its file, line and column.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import tempfile
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import PriorsError, close_names
from .checks import RENAMED_COLUMNS, check_priors, check_renamed
from .save import check_save_target, recover_interrupted_save, save_tables, write_csv
from .tables import CPT_FOLDER, TABLE_FILES, RawTable, declared_parents

__all__ = [
    "DEFAULT_POPULATION",
    "bundled_populations",
    "bundled_priors_folder",
    "check_save_target",
    "load_priors",
    "priors_fingerprint",
    "priors_folder",
    "read_priors_folder",
    "read_renamed",
    "read_vignettes",
    "recover_interrupted_save",
    "save_tables",
    "upgrade_priors_folder",
]

#: The bundled population loaded when no priors are named.
DEFAULT_POPULATION = "primary_care"
#: The file, beside the bundled population folders, that maps old node and state names to new ones.
RENAMED_FILE = "renamed.csv"


def _bundled_root():
    """The folder holding the bundled population folders: inside the installed package first (a wheel
    carries it as ``model/priors``, this package's own folder), then beside the package in a source checkout."""
    installed = Path(str(resources.files("model"))) / "priors"
    if installed.is_dir() and any((path / "nodes.csv").is_file() for path in installed.iterdir()):
        return installed
    return Path(__file__).resolve().parents[2] / "priors"


def bundled_populations():
    """The names of the bundled populations: every sub-folder of the bundled priors that holds a nodes.csv.

    Examples
    --------
    >>> bundled_populations()
    ('primary_care', 'specialist')
    """
    root = _bundled_root()
    if not root.is_dir():
        return ()
    return tuple(sorted(path.name for path in root.iterdir() if (path / "nodes.csv").is_file()))


def bundled_priors_folder(population=DEFAULT_POPULATION):
    """The priors folder of one bundled population (default: primary care).

    Parameters
    ----------
    population : str
        One of :func:`bundled_populations`.

    Raises
    ------
    PriorsError
        For a name that is not a bundled population (the message lists them).

    Examples
    --------
    >>> (bundled_priors_folder() / "nodes.csv").is_file()
    True
    >>> bundled_priors_folder("specialist").name
    'specialist'
    """
    names = bundled_populations()
    if population not in names:
        raise PriorsError([f"{population!r} is not a bundled population.{_closest(population, names)} The bundled "
                           f"populations are: {', '.join(names) or 'none (the bundled priors are missing)'}."])
    return _bundled_root() / population


def _closest(name, names):
    close = close_names(name, names, n=2, cutoff=0.6)
    return f" Did you mean {' or '.join(map(repr, close))}?" if close else ""


def priors_folder(priors=None):
    """The folder that ``priors`` names: a folder, or the name of a bundled population.

    None is the default bundled population. A string that is not an existing
    path but equals a bundled population name is that population's folder;
    any other path is returned as given (reading it reports what is wrong).

    Raises
    ------
    PriorsError
        For a path that does not exist and is not a bundled population name
        (the message lists the bundled populations).

    Examples
    --------
    >>> priors_folder("specialist") == bundled_priors_folder("specialist")
    True
    """
    if priors is None:
        return bundled_priors_folder()
    path = Path(priors)
    if path.exists() or _recovered(path):
        return path
    names = bundled_populations()
    if isinstance(priors, str) and priors in names:
        return bundled_priors_folder(priors)
    listed = ", ".join(names) or "none found"
    raise PriorsError([f"{path}: no such folder, and not the name of a bundled population.{_closest(priors, names)} "
                       f"Pass the folder that holds nodes.csv, a bundled population ({listed}), or None for the "
                       f"default ({DEFAULT_POPULATION})."])


def _recovered(path):
    """True when ``path`` was missing because a save of it was killed, and has been put back."""
    try:
        return recover_interrupted_save(path)
    except OSError as err:
        raise PriorsError([f"{path}: a save of this folder was interrupted, and putting it back failed "
                           f"({err.strerror or err}). Rename the newest hidden folder .{path.name}.ready-* (or "
                           f".{path.name}.old-*) beside it to {path.name}."]) from err


def _read_csv(path, name, problems, data=None):
    """Read one CSV file (or its bytes ``data``, already read) into a RawTable of stripped text cells, or None."""
    try:
        data = path.read_bytes() if data is None else data
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        problems.append(
            f"{name}, line {line}: the file is not valid UTF-8 (byte {err.start}). "
            "Save it as UTF-8 (in Excel: 'CSV UTF-8')."
        )
        return None
    except OSError as err:
        problems.append(f"{name}: cannot be read ({err.strerror}). Check that the file may be read (its "
                        "permissions) and is not locked by another program.")
        return None
    reader = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
    rows, start = [], 1
    try:
        for cells in reader:  # a quoted cell may span lines: a row is numbered by the line it starts on
            rows.append((start, [c.strip() for c in cells]))
            start = reader.line_num + 1
    except csv.Error as err:
        problems.append(f"{name}, line {start}: not valid CSV ({err}). Check the quotes of that row.")
        return None
    rows = [(line, cells) for line, cells in rows if any(cells)]
    if not rows:
        problems.append(f"{name}, line 1: the file is empty. It needs a header line and one row per parameter.")
        return None
    (header_line, header), body = rows[0], rows[1:]
    bad = False
    if len(set(header)) != len(header) or "" in header:
        dupes = sorted({h for h in header if header.count(h) > 1 or h == ""})
        problems.append(f"{name}, line {header_line}: repeated or empty column names {dupes}. Give every column "
                        "one unique name.")
        bad = True
    for line, cells in body:
        if len(cells) != len(header):
            problems.append(
                f"{name}, line {line}: {len(cells)} cells, but the header has {len(header)} columns. "
                "Check for a missing or extra comma (quote cells that contain commas)."
            )
            bad = True
    if bad:
        return None
    cells = np.array([cells for _, cells in body], dtype=object).reshape(len(body), len(header))
    frame = pd.DataFrame(cells, index=[line for line, _ in body], columns=header, dtype=object)  # one block: fast
    return RawTable(name, frame)


def _missing_file(folder, name, present):
    """The problem of a required file that is not in ``folder``; ``present`` lists the names that are."""
    close = close_names(name, [n for n in present if n not in TABLE_FILES], n=1, cutoff=0.6)
    hint = f" There is a {close[0]!r}: rename it to {name}." if close else ""
    return (f"{name}: missing file in {folder}.{hint} Every priors folder needs all of "
            f"{', '.join(TABLE_FILES)}; a file with only its header line says 'none' (no risk factors, no "
            "population condition ...). A folder written by an earlier version, which left such files out, is "
            "brought up to date by model.priors.upgrade_priors_folder(folder).")


def read_priors_folder(folder):
    """Read every table of a priors folder as text, without interpreting it.

    Every file of :data:`~model.priors.tables.TABLE_FILES` is required: a missing
    one, or a folder in its place, is a problem, and the table is then None,
    like a file that cannot be read (a header-only file is an empty table:
    "none"). ``cpts/`` is needed only when some node has form ``cpt``.

    Returns ``(tables, cpt_tables, problems)``: the canonical tables by file
    name (None where the file is missing or cannot be read), the full-CPT
    tables by node name (None likewise), and the problems met while reading.
    """
    folder = Path(folder)
    problems = []
    if not folder.is_dir():
        raise PriorsError(
            [f"{folder}: no such folder. Pass the folder that holds nodes.csv (or None for the bundled priors)."]
        )
    present = sorted(path.name for path in folder.iterdir())
    tables = {}
    for name in TABLE_FILES:
        path = folder / name
        if path.is_file():
            tables[name] = _read_csv(path, name, problems)
        else:
            tables[name] = None
            problems.append(f"{name}: is a folder, not a file, in {folder}. Replace it with the CSV file."
                            if path.exists() else _missing_file(folder, name, present))
    cpt_tables = {}
    cpt_folder = folder / CPT_FOLDER
    if cpt_folder.exists() and not cpt_folder.is_dir():
        problems.append(f"{CPT_FOLDER}: is a file, not a folder, in {folder}. {CPT_FOLDER}/ holds one "
                        f"{CPT_FOLDER}/<node>.csv per node with form cpt; make it a folder.")
    elif cpt_folder.is_dir():
        for path in sorted(cpt_folder.glob("*.csv")):
            name = f"{CPT_FOLDER}/{path.name}"
            if path.is_dir():
                problems.append(f"{name}: is a folder, not a file. Replace it with the CSV file of node "
                                f"{path.stem!r}.")
                cpt_tables[path.stem] = None
            else:
                cpt_tables[path.stem] = _read_csv(path, name, problems)
    return tables, cpt_tables, problems


def priors_fingerprint(folder):
    """A hash of the content of every priors file in ``folder``: equal for equal bytes, whatever the file times.

    Covers the files the loader reads (``nodes.csv`` ... and ``cpts/*.csv``),
    with their names; a missing file counts as a name with no content.

    Examples
    --------
    >>> priors_fingerprint("primary_care") == priors_fingerprint(bundled_priors_folder())
    True
    """
    folder = priors_folder(folder)
    digest = hashlib.sha256()
    cpts = folder / CPT_FOLDER
    names = [*TABLE_FILES, *(f"{CPT_FOLDER}/{p.name}" for p in sorted(cpts.glob("*.csv")) if cpts.is_dir())]
    for name in names:
        path = folder / name
        data = path.read_bytes() if path.is_file() else b""
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def load_priors(folder=None):
    """Read and check a priors folder (default: the bundled one).

    Parameters
    ----------
    folder : str or os.PathLike, optional
        A folder holding ``nodes.csv`` and the other tables, or the name of a
        bundled population (:func:`bundled_populations`).

    Returns
    -------
    Priors
        The validated priors, with the expanded table of every node.

    Raises
    ------
    PriorsError
        Listing every problem, each with its file, line and column.

    Examples
    --------
    >>> priors = load_priors()
    >>> priors.nodes.loc["pfcn_neuropathy", "role"]
    'cause'
    """
    folder = priors_folder(folder)
    tables, cpt_tables, problems = read_priors_folder(folder)
    return check_priors(tables, cpt_tables, problems, origin=str(folder))


def upgrade_priors_folder(folder):
    """Bring a priors folder saved by an earlier version to today's format, in place.

    Earlier versions let a folder leave out a table it had no rows for
    (``population.csv``, ``risk_factors.csv`` ...; an imported network had
    only ``nodes.csv`` and ``cpts/``) and had no ``parents`` column in
    ``nodes.csv``. This writes a header-only file ("none") for each missing
    table and fills the ``parents`` column from the rows as they are now
    (``links.csv``, ``risk_factors.csv``, the columns of each
    ``cpts/<node>.csv``). So check first that no file and no row was lost: a
    lost one is taken as "none". Existing files other than ``nodes.csv`` are
    not touched; ``nodes.csv`` is rewritten atomically. The folder is then
    loaded to check it.

    Returns
    -------
    Priors
        The checked priors of the folder.

    Raises
    ------
    PriorsError
        When a file cannot be read, or the folder fails a check once upgraded.
    """
    folder = priors_folder(folder)
    for name, (required, _) in TABLE_FILES.items():
        if name != "nodes.csv" and not (folder / name).exists():
            write_csv(folder / name, pd.DataFrame(columns=list(required)))
    tables, cpt_tables, problems = read_priors_folder(folder)
    nodes = tables.get("nodes.csv")
    if problems or nodes is None or not {"node", "states", "form"} <= set(nodes.frame.columns):
        raise PriorsError(problems or ["nodes.csv: needs the columns node, states and form."], where=str(folder))
    if "parents" not in nodes.frame.columns:
        frame = nodes.frame
        states = {node: tuple(s.strip() for s in text.split("|")) for node, text in zip(frame["node"], frame["states"])}
        rows = {name.removesuffix(".csv"): table.frame for name, table in tables.items() if table is not None}
        rows.update({f"{CPT_FOLDER}/{node}": table.frame for node, table in cpt_tables.items() if table is not None})
        frame = frame.copy()
        frame.insert(list(frame.columns).index("form") + 1, "parents",
                     frame["node"].map(declared_parents(states, rows)))
        handle, temporary = tempfile.mkstemp(prefix=".nodes.csv.", dir=folder)
        os.close(handle)
        try:
            write_csv(Path(temporary), frame)
            os.replace(temporary, folder / "nodes.csv")
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return load_priors(folder)


def read_renamed(path=None):
    """The old node and state names and what replaced them (default: the bundled ``priors/renamed.csv``).

    One row per renamed node (``old_state`` and ``new_state`` empty) or
    state: columns ``old_node``, ``old_state``, ``new_node``, ``new_state``,
    ``note``, all text (empty cells are ''). Evidence that uses an old name
    that the model no longer has gets an error saying what replaced it. No
    file: an empty table.

    Raises
    ------
    PriorsError
        Every problem of the file, with line and column.

    Examples
    --------
    >>> list(read_renamed().columns)
    ['old_node', 'old_state', 'new_node', 'new_state', 'note']
    """
    path = _bundled_root() / RENAMED_FILE if path is None else Path(path)
    if not path.is_file():
        return pd.DataFrame(columns=list(RENAMED_COLUMNS), dtype=object)
    return _read_renamed(str(path), path.read_bytes()).copy()


@lru_cache(maxsize=4)
def _read_renamed(path, data):
    """The checked rows of one renamed file, from its bytes; cached on the content."""
    problems = []
    table = _read_csv(Path(path), Path(path).name, problems, data)
    if problems:
        raise PriorsError(problems, where=path)
    return check_renamed(table)


def read_vignettes():
    """The public clinical vignettes (clinical-evidence.md §3) as a DataFrame.

    Columns: ``title``, ``evidence`` (a dict node -> state), ``expected_first``,
    ``emergency_flag`` (bool), ``rationale``; indexed by vignette number.

    Examples
    --------
    >>> read_vignettes().loc[1, "expected_first"]
    'lumbar_disc_herniation'
    """
    path = Path(__file__).resolve().parents[1] / "data" / "vignettes.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False).set_index("vignette")
    frame.index = frame.index.astype(int)
    frame["evidence"] = [
        {key.strip(): value.strip() for key, value in (pair.split("=", 1) for pair in text.split(";") if pair.strip())}
        for text in frame["evidence"]
    ]
    frame["emergency_flag"] = frame["emergency_flag"].str.lower().eq("yes")
    return frame
