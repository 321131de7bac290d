"""Priors on disk: find, read and check a priors folder.

This is the only module that touches files. Reading turns every CSV into a
table of text cells that remembers the line each row came from; the checks in
:mod:`model.priors_checks` then turn the tables into a validated
:class:`Priors` or raise one :class:`~model.errors.PriorsError` listing every
problem with its file, line and column.
"""

from __future__ import annotations

import csv
import difflib
import io
import os
import shutil
import tempfile
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import PriorsError
from .priors_checks import RENAMED_COLUMNS, check_priors, check_renamed
from .tables import CPT_FOLDER, TABLE_FILES, TABLE_NAMES, RawTable, format_cell

__all__ = [
    "DEFAULT_POPULATION",
    "bundled_populations",
    "bundled_priors_folder",
    "check_save_target",
    "load_priors",
    "priors_folder",
    "read_priors_folder",
    "read_renamed",
    "read_vignettes",
    "save_tables",
]

#: The bundled population loaded when no priors are named.
DEFAULT_POPULATION = "primary_care"
#: The file, beside the bundled population folders, that maps old node and state names to new ones.
RENAMED_FILE = "renamed.csv"


def _bundled_root():
    """The folder holding the bundled population folders: inside the installed package first (a wheel
    carries it as ``model/priors``), then beside the package in a source checkout."""
    installed = Path(str(resources.files("model"))) / "priors"
    if installed.is_dir() and any((path / "nodes.csv").is_file() for path in installed.iterdir()):
        return installed
    return Path(__file__).resolve().parent.parent / "priors"


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
    close = difflib.get_close_matches(str(name), list(names), n=2, cutoff=0.6)
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
    if path.exists():
        return path
    names = bundled_populations()
    if isinstance(priors, str) and priors in names:
        return bundled_priors_folder(priors)
    listed = ", ".join(names) or "none found"
    raise PriorsError([f"{path}: no such folder, and not the name of a bundled population.{_closest(priors, names)} "
                       f"Pass the folder that holds nodes.csv, a bundled population ({listed}), or None for the "
                       f"default ({DEFAULT_POPULATION})."])


def _read_csv(path, name, problems):
    """Read one CSV file into a RawTable of stripped text cells, or None."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = path.read_bytes()[: err.start].count(b"\n") + 1
        problems.append(
            f"{name}, line {line}: the file is not valid UTF-8 (byte {err.start}). "
            "Save it as UTF-8 (in Excel: 'CSV UTF-8')."
        )
        return None
    except OSError as err:
        problems.append(f"{name}: cannot be read ({err.strerror}).")
        return None
    reader = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
    try:
        rows = [(reader.line_num, [c.strip() for c in cells]) for cells in reader]
    except csv.Error as err:
        problems.append(f"{name}, line {reader.line_num}: not valid CSV ({err}).")
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


def read_priors_folder(folder):
    """Read every table of a priors folder as text, without interpreting it.

    Returns ``(tables, cpt_tables, problems)``: the canonical tables by file
    name (absent files are missing from the dict; a file that is present but
    cannot be read is None), the full-CPT tables by node name (None likewise),
    and the problems met while reading.
    """
    folder = Path(folder)
    problems = []
    if not folder.is_dir():
        raise PriorsError(
            [f"{folder}: no such folder. Pass the folder that holds nodes.csv (or None for the bundled priors)."]
        )
    tables = {}
    for name in TABLE_FILES:
        path = folder / name
        if path.is_file():
            tables[name] = _read_csv(path, name, problems)
    cpt_tables = {}
    cpt_folder = folder / CPT_FOLDER
    if cpt_folder.is_dir():
        for path in sorted(cpt_folder.glob("*.csv")):
            cpt_tables[path.stem] = _read_csv(path, f"{CPT_FOLDER}/{path.name}", problems)
    return tables, cpt_tables, problems


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


def _write_csv(path, frame):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(frame.columns)
        writer.writerows([format_cell(v) for v in row] for row in frame.itertuples(index=False, name=None))


def _file_name(table):
    return TABLE_NAMES.get(table, f"{table}.csv")


def check_save_target(folder, *, overwrite=False):
    """The absolute folder a save would write to; FileExistsError if it may not be written.

    A file is never replaced; a non-empty folder only with ``overwrite``. A
    symlinked folder resolves to the folder it points to.
    """
    folder = Path(os.path.abspath(folder))  # '.' and 'x/..' have a real name and parent
    if folder.is_symlink():  # write into the folder it points to; renaming would replace the link
        folder = folder.resolve()
    if folder.exists() and not folder.is_dir():
        raise FileExistsError(f"{folder} is a file, not a folder; nothing was written. Choose a folder.")
    if folder.is_dir() and any(folder.iterdir()) and not overwrite:
        raise FileExistsError(f"{folder} already exists and is not empty; nothing was written. Choose a new "
                              "folder, or pass overwrite=True to replace its priors.")
    return folder


def save_tables(tables, folder, *, overwrite=False):
    """Write priors tables as CSV files into ``folder``, atomically.

    Everything is written into a temporary folder beside the target, which then
    replaces the target by renaming, so an interrupted save leaves the previous
    folder as it was. Files of the old folder that are not priors tables (a
    README, notes) are carried over.

    Parameters
    ----------
    tables : dict of str to DataFrame
        As from :func:`model.tables.canonical_tables` (``"links"``,
        ``"cpts/<node>"`` ...); other names are written as ``<name>.csv``.
    folder : str or os.PathLike
    overwrite : bool
        Replace an existing non-empty folder. Without it such a folder is refused.

    Raises
    ------
    FileExistsError
        When ``folder`` exists, is not empty, and ``overwrite`` is false; or
        when it is a file, not a folder.
    """
    folder = check_save_target(folder, overwrite=overwrite)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.saving-", dir=folder.parent))
    try:
        written = set()
        for name, frame in tables.items():
            relative = _file_name(name)
            _write_csv(staging / relative, frame)
            written.add(relative)
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                relative = path.relative_to(folder).as_posix()
                old_table = relative in TABLE_FILES or (relative.startswith(f"{CPT_FOLDER}/")
                                                        and relative.endswith(".csv"))
                if path.is_file() and relative not in written and not old_table:
                    (staging / relative).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, staging / relative)
            shutil.copymode(folder, staging)
        else:
            os.chmod(staging, 0o755)
        if folder.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old-", dir=folder.parent))
            os.rmdir(retired)
            folder.rename(retired)
            try:
                staging.rename(folder)
            except BaseException:
                retired.rename(folder)  # put the previous folder back
                raise
            shutil.rmtree(retired, ignore_errors=True)
        else:
            staging.rename(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder


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
    stat = path.stat()
    return _read_renamed(str(path), stat.st_size, stat.st_mtime_ns).copy()


@lru_cache(maxsize=4)
def _read_renamed(path, size, mtime):
    """The checked rows of one renamed file; cached until the file changes."""
    problems = []
    table = _read_csv(Path(path), Path(path).name, problems)
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
    path = Path(__file__).resolve().parent / "data" / "vignettes.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False).set_index("vignette")
    frame.index = frame.index.astype(int)
    frame["evidence"] = [
        {key.strip(): value.strip() for key, value in (pair.split("=", 1) for pair in text.split(";") if pair.strip())}
        for text in frame["evidence"]
    ]
    frame["emergency_flag"] = frame["emergency_flag"].str.lower().eq("yes")
    return frame
