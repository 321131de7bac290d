"""Saving priors: atomic, durable, recoverable writes of a priors folder.

Part of the priors' file room (:mod:`model.priors` reads). A save writes every
file into a hidden folder beside the target, flushes it to the disk, and swaps
it in by renaming; a save killed between its renames is finished, or undone,
by the next save or load (:func:`recover_interrupted_save`), and the hidden
folders of saves that died are removed.
"""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from .tables import CPT_FOLDER, TABLE_FILES, TABLE_NAMES, declared_parents, format_cell

__all__ = ["SAVE_STAGES", "check_save_target", "recover_interrupted_save", "save_tables", "write_csv"]


def write_csv(path, frame):
    """Write one table and flush it to the disk (fsync), so a crash cannot leave a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(frame.columns)
        writer.writerows([format_cell(v) for v in row] for row in frame.itertuples(index=False, name=None))
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_folder(path):
    """Flush a folder's entries (new names, renames) to the disk; a no-op where folders cannot be opened."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:  # Windows
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _file_name(table):
    return TABLE_NAMES.get(table, f"{table}.csv")


def check_save_target(folder, *, overwrite=False):
    """The absolute folder a save would write to; FileExistsError if it may not be written.

    A file is never replaced; a non-empty folder only with ``overwrite``. A
    symlinked folder resolves to the folder it points to. A save of this
    folder that was interrupted is finished (or undone) first; see
    :func:`recover_interrupted_save`.
    """
    folder = Path(os.path.abspath(folder))  # '.' and 'x/..' have a real name and parent
    if folder.is_symlink():  # write into the folder it points to; renaming would replace the link
        folder = folder.resolve()
    recover_interrupted_save(folder)
    if folder.exists() and not folder.is_dir():
        raise FileExistsError(f"{folder} is a file, not a folder; nothing was written. Choose a folder.")
    if folder.is_dir() and any(folder.iterdir()) and not overwrite:
        raise FileExistsError(f"{folder} already exists and is not empty; nothing was written. Choose a new "
                              "folder, or pass overwrite=True to replace its priors.")
    return folder


#: The hidden folders a save makes beside its target NAME: ``.NAME.<stage>-<process id>-<random>``.
#: ``saving``: being written; ``ready``: written completely, waiting to replace NAME; ``old``: the
#: previous NAME, removed once the new one is in place.
SAVE_STAGES = ("saving", "ready", "old")


def _leftovers(folder):
    """The hidden folders of saves of ``folder`` whose process no longer runs, by stage (newest first)."""
    prefix = f".{folder.name}."
    found = {stage: [] for stage in SAVE_STAGES}
    if not folder.parent.is_dir():
        return found
    for path in folder.parent.iterdir():
        stage, _, rest = path.name[len(prefix):].partition("-") if path.name.startswith(prefix) else ("", "", "")
        if stage in found and path.is_dir() and not _running(rest.split("-", 1)[0]):
            found[stage].append(path)
    for paths in found.values():
        paths.sort(key=lambda p: p.stat().st_mtime_ns, reverse=True)
    return found


def _running(pid):
    """True when ``pid`` (text) names another process that is still running (its save may be under way)."""
    if not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, OverflowError):
        return True
    return True


def recover_interrupted_save(folder):
    """Finish or undo a save of ``folder`` that was killed, and remove the hidden folders it left.

    A save writes ``.NAME.saving-*``, renames it ``.NAME.ready-*`` once
    complete, moves the previous folder to ``.NAME.old-*``, renames the ready
    one to NAME and removes the old one. Killed between those renames, NAME
    is missing: the complete new folder takes its place (or, if the new one
    was not complete, the previous one comes back). Hidden folders of saves
    whose process still runs are left alone. Called by every save and when a
    priors folder that does not exist is loaded.

    Returns
    -------
    bool
        True when NAME was missing and has been put back.
    """
    folder = Path(os.path.abspath(folder))
    found = _leftovers(folder)
    restored = False
    if not folder.exists() and (found["ready"] or found["old"]):
        (found["ready"] or found["old"]).pop(0).rename(folder)
        _fsync_folder(folder.parent)
        restored = True
    for paths in found.values():
        for path in paths:
            shutil.rmtree(path, ignore_errors=True)
    return restored


def _hidden(folder, stage):
    """A new, unused name for a hidden folder of this save (see :data:`SAVE_STAGES`)."""
    path = Path(tempfile.mkdtemp(prefix=f".{folder.name}.{stage}-{os.getpid()}-", dir=folder.parent))
    os.rmdir(path)
    return path


def _complete(tables):
    """The tables to write: every file of the format (a header-only file for a table that is not given)
    and the ``parents`` column of nodes, filled from the rows when a table built in code lacks it."""
    tables = dict(tables)
    for name, (required, _) in TABLE_FILES.items():
        key = name.removesuffix(".csv")
        if key not in tables:
            tables[key] = pd.DataFrame(columns=list(required))
    nodes = tables["nodes"]
    if "parents" not in nodes.columns and {"node", "states", "form"} <= set(nodes.columns):
        states = {node: tuple(s.strip() for s in format_cell(text).split("|"))
                  for node, text in zip(nodes["node"], nodes["states"])}
        nodes = nodes.copy()
        nodes.insert(list(nodes.columns).index("form") + 1, "parents",
                     nodes["node"].map(declared_parents(states, tables)))
        tables["nodes"] = nodes
    return tables


def save_tables(tables, folder, *, overwrite=False):
    """Write priors tables as CSV files into ``folder``, atomically and durably.

    Everything is written (and flushed to the disk) into a hidden folder
    beside the target, which then replaces the target by renaming, so an
    interrupted save leaves the previous folder as it was; a save killed
    between the renames is completed by the next save or load
    (:func:`recover_interrupted_save`). Files of the old folder that are not
    priors tables (a README, notes) are carried over. Every file of the
    format is written: a table that is not given gets a header-only file.

    Parameters
    ----------
    tables : dict of str to DataFrame
        As from :func:`model.priors.tables.canonical_tables` (``"links"``,
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
    folder = Path(os.path.abspath(folder))
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder = check_save_target(folder, overwrite=overwrite)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.saving-{os.getpid()}-", dir=folder.parent))
    ready = None
    try:
        written = set()
        for name, frame in _complete(tables).items():
            relative = _file_name(name)
            write_csv(staging / relative, frame)
            written.add(relative)
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                relative = path.relative_to(folder).as_posix()
                old_table = relative in TABLE_FILES or (relative.startswith(f"{CPT_FOLDER}/")
                                                        and relative.endswith(".csv"))
                if path.is_file() and relative not in written and not old_table:
                    (staging / relative).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, staging / relative)
                    with open(staging / relative, "rb+") as handle:
                        os.fsync(handle.fileno())
            shutil.copymode(folder, staging)
        else:
            os.chmod(staging, 0o755)
        for path in [*(p for p in staging.rglob("*") if p.is_dir()), staging]:
            _fsync_folder(path)
        ready = _hidden(folder, "ready")
        staging.rename(ready)  # complete: from here on, recovery finishes this save
        _fsync_folder(folder.parent)
        if folder.exists():
            retired = _hidden(folder, "old")
            folder.rename(retired)
            try:
                ready.rename(folder)
            except BaseException:
                retired.rename(folder)  # put the previous folder back
                raise
            _fsync_folder(folder.parent)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            ready.rename(folder)
            _fsync_folder(folder.parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if ready is not None:
            shutil.rmtree(ready, ignore_errors=True)
        raise
    return folder
