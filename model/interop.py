"""Other tools' formats: import BIF / XMLBIF / NET networks, export BIF / XMLBIF.

Reading and writing go through pgmpy's readers and writers. An imported
network becomes priors tables of full-CPT files (one ``cpts/<node>.csv`` per
node). Names our format cannot hold are mapped to valid ones, never dropped:
the original names stay in ``nodes.csv`` (``label``) and in the table
``import_names`` (saved as ``import_names.csv``).
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pandas as pd

from .errors import PriorsError
from .tables import CPT_FOLDER

__all__ = ["IMPORT_SUFFIXES", "EXPORT_SUFFIXES", "network_to_tables", "read_network", "write_network"]

IMPORT_SUFFIXES = {".bif": "BIF", ".xmlbif": "XMLBIF", ".xml": "XMLBIF", ".net": "NET"}
EXPORT_SUFFIXES = {".bif": "BIF", ".xmlbif": "XMLBIF", ".xml": "XMLBIF"}
_RESERVED = {"probability", "low", "high", "source", "grade", "state"}


def _format(path, suffixes, verb):
    path = Path(path)
    suffix = "".join(path.suffixes[-2:-1]) if path.suffix == ".gz" else path.suffix
    kind = suffixes.get(suffix.lower())
    if kind is None:
        raise PriorsError([f"{path.name}: cannot {verb} this kind of file ({suffix or 'no extension'!r}). "
                           f"Use one of {', '.join(sorted(suffixes))}."], where=str(path))
    return kind


def read_network(path):
    """Read a BIF, XMLBIF or NET file (optionally gzipped) with pgmpy's readers.

    Raises
    ------
    PriorsError
        When the extension is unknown or pgmpy cannot read the file; the
        message carries pgmpy's own explanation.
    """
    import gzip

    path = Path(path)
    kind = _format(path, IMPORT_SUFFIXES, "import")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgmpy.readwrite import BIFReader, NETReader, XMLBIFReader

        try:
            text = (gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz"
                    else open(path, encoding="utf-8")).read()
        except (OSError, UnicodeDecodeError) as err:
            raise PriorsError([f"{path.name}: cannot be read ({err})."], where=str(path)) from None
        try:
            if kind == "BIF":
                network = BIFReader(string=text).get_model()
            elif kind == "XMLBIF":
                network = XMLBIFReader(string=text).get_model()
            else:
                network = NETReader(string=text).get_model()
        except Exception as err:  # pgmpy raises many kinds; all mean "not a network we can read"
            raise PriorsError([f"{path.name}: pgmpy cannot read it as {kind} ({type(err).__name__}: {err}). "
                               "Check that it is a discrete Bayesian network in that format."],
                              where=str(path)) from None
    return network


_SYMBOLS = (("<=", "le"), (">=", "ge"), ("<", "lt"), (">", "gt"), ("=", "eq"), ("%", "pct"))
#: State names read as "nothing there": put first, so they become the reference state.
_INACTIVE = ("no", "false", "absent", "normal", "none", "negative", "off", "0")


def _valid(name, pattern, prefix, taken):
    text = str(name).strip()
    for symbol, word in _SYMBOLS:
        text = text.replace(symbol, word)
    text = re.sub(r"[^A-Za-z0-9_.+\-]", "_", text)
    if pattern == "node":
        text = text.replace(".", "_").replace("+", "_").replace("-", "_")
        if not re.match(r"[A-Za-z]", text) or text in _RESERVED:
            text = prefix + text
    elif not re.match(r"[A-Za-z0-9]", text):
        text = prefix + text
    candidate, n = text, 2
    while candidate in taken:
        candidate, n = f"{text}_{n}", n + 1
    taken.add(candidate)
    return candidate


def network_to_tables(network, *, source):
    """Priors tables (nodes, one full CPT per node, the name map) for a pgmpy network.

    Root nodes become ``cause`` nodes (``infer`` reports P(not the reference
    state) for them), the others ``finding`` nodes. A state named like "no",
    "false", "absent" or "normal" is moved first, to be the reference state;
    otherwise the file's order is kept. Edit ``nodes.csv`` to change either.
    """
    node_names, rows, renamed, cpts = {}, [], [], {}
    taken = set()
    for node in network.nodes():
        node_names[node] = _valid(node, "node", "n_", taken)
    state_names = {}
    for node in network.nodes():
        cpd = network.get_cpds(node)
        seen = set()
        state_names[node] = {s: _valid(s, "state", "s_", seen) for s in cpd.state_names[node]}
    for node in network.nodes():
        cpd = network.get_cpds(node)
        name = node_names[node]
        states = [state_names[node][s] for s in cpd.state_names[node]]
        inactive = [s for s in states if s.lower() in _INACTIVE]
        if inactive:
            states = [inactive[0]] + [s for s in states if s != inactive[0]]
        parents = list(cpd.variables[1:])
        rows.append({"node": name, "role": "finding" if parents else "cause", "states": "|".join(states),
                     "form": "cpt", "label": str(node), "question": "", "cost": "", "emergency_state": ""})
        for original, new in state_names[node].items():
            renamed.append({"node": name, "original_node": str(node), "state": new, "original_state": str(original)})
        values = cpd.get_values()  # (child states, parent configurations), first parent slowest
        records = []
        configs = pd.MultiIndex.from_product([cpd.state_names[p] for p in parents]) if parents else [()]
        for j, config in enumerate(configs):
            config = config if isinstance(config, tuple) else (config,)
            for i, state in enumerate(cpd.state_names[node]):
                record = {node_names[p]: state_names[p][s] for p, s in zip(parents, config)}
                value = float(values[i, j])
                record.update({name: state_names[node][state], "probability": value, "low": value,
                               "high": value, "source": f"imported from {source}", "grade": "E"})
                records.append(record)
        cpts[f"{CPT_FOLDER}/{name}"] = pd.DataFrame.from_records(records)
    tables = {"nodes": pd.DataFrame(rows), **cpts, "import_names": pd.DataFrame(renamed)}
    return tables


def write_network(network, path):
    """Write a pgmpy network as BIF or XMLBIF, chosen by the file's extension."""
    kind = _format(path, EXPORT_SUFFIXES, "export")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgmpy.readwrite import BIFWriter, XMLBIFWriter

        if kind == "BIF":
            BIFWriter(network).write_bif(str(path))
        else:
            XMLBIFWriter(network).write_xmlbif(str(path))
