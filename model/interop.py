"""Other tools' formats: import BIF / XMLBIF / NET networks, export BIF / XMLBIF.

Reading and writing go through pgmpy's readers and writers. An imported
network becomes priors tables of full-CPT files (one ``cpts/<node>.csv`` per
node). Names our format cannot hold are mapped to valid ones, never dropped:
the original names stay in ``nodes.csv`` (``label``) and in the table
``import_names`` (saved as ``import_names.csv``).
"""

from __future__ import annotations

import contextlib
import gzip
import itertools
import os
import re
import tempfile
import warnings
import zlib
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import PriorsError
from .priors.expand import TOLERANCE
from .priors.tables import CPT_FOLDER, NODE_NAME, RESERVED, ROLES, STATE_NAME

__all__ = ["EXPORT_SUFFIXES", "IMPORT_SUFFIXES", "MAX_ENTRIES", "MAX_MEGABYTES", "MAX_STATES", "network_to_tables",
           "read_network", "rescaled_columns", "write_network"]

#: A CPT column whose sum is further than this from 1 (but within the loader's tolerance) is rescaled on import;
#: closer, it is kept as written (floating-point rounding of a column that sums to 1).
ROUNDING = 1e-12
#: ``.bifxml`` is the name pyAgrum gives XMLBIF; ``.xml`` and ``.xmlbif`` are pgmpy's, GeNIe's and SamIam's.
IMPORT_SUFFIXES = {".bif": "BIF", ".xmlbif": "XMLBIF", ".bifxml": "XMLBIF", ".xml": "XMLBIF", ".net": "NET"}
EXPORT_SUFFIXES = {".bif": "BIF", ".xmlbif": "XMLBIF", ".bifxml": "XMLBIF", ".xml": "XMLBIF"}
#: Largest network file read, in megabytes of text after gunzipping (the bnlearn files of the tests: under 25 kB).
MAX_MEGABYTES = 32
#: Most numbers in all probability tables together (each becomes one CSV row of the priors).
MAX_ENTRIES = 1_000_000
#: Most states of one variable.
MAX_STATES = 1_000
#: The variable property (BIF ``property role = cause ;``, XMLBIF ``<PROPERTY>role = cause</PROPERTY>``) that
#: carries a node's role through an export and an import.
ROLE_PROPERTY = "role"


def _gzipped(path):
    return path.suffix.lower() == ".gz"


def _format(path, suffixes, verb):
    path = Path(path)
    suffix = "".join(path.suffixes[-2:-1]) if _gzipped(path) else path.suffix
    kind = suffixes.get(suffix.lower())
    if kind is None:
        raise PriorsError([f"{path.name}: cannot {verb} this kind of file ({suffix or 'no extension'!r}). "
                           f"Use one of {', '.join(sorted(suffixes))} (optionally followed by .gz)."],
                          where=str(path))
    return kind


_XML_DECLARATION = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"'][^>]*\?>")


def _number(value):
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,}"


def _too_large(path, what, option):
    """The refusal of a network above one of the limits: ``what`` it holds against the limit, how to raise it."""
    return PriorsError([f"{path.name}: {what}. If the file is what you meant to import, raise the limit: "
                        f"'import --{option} N' on the command line, read_network(path, {option.replace('-', '_')}=N) "
                        "in Python."], where=str(path))


def _read_text(path, kind, max_megabytes=MAX_MEGABYTES):
    """The file's text: gunzipped if ``.gz``; UTF-8, or for XML the encoding its declaration names. At most
    ``max_megabytes`` are read (a gzip bomb stops there)."""
    limit = int(max_megabytes * 1_000_000)
    try:
        with (gzip.open(path, "rb") if _gzipped(path) else open(path, "rb")) as handle:
            data = handle.read(limit + 1)
    except (OSError, EOFError, zlib.error) as err:
        raise PriorsError([f"{path.name}: cannot be read ({err})."], where=str(path)) from None
    if len(data) > limit:
        size = "unpacks to" if _gzipped(path) else "holds"
        raise _too_large(path, f"the file {size} more than the limit of {_number(max_megabytes)} MB of text",
                         "max-megabytes")
    encoding = "utf-8-sig"
    if kind == "XMLBIF":
        declared = _XML_DECLARATION.match(data)
        if declared:  # pgmpy re-encodes the text as UTF-8, so the declaration must go
            encoding, data = declared.group(1).decode("ascii"), data[declared.end():]
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as err:
        shown = "UTF-8" if encoding == "utf-8-sig" else encoding
        raise PriorsError([f"{path.name}: cannot be read as {shown} text ({err}). Save it as UTF-8."],
                          where=str(path)) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise PriorsError([f"{path.name}: the file is empty."], where=str(path))
    return text


def read_network(path, *, max_megabytes=MAX_MEGABYTES, max_entries=MAX_ENTRIES, max_states=MAX_STATES):
    """Read a BIF, XMLBIF or NET file (optionally gzipped) with pgmpy's readers.

    Parameters
    ----------
    path : str or os.PathLike
    max_megabytes, max_entries, max_states : float, int, int
        Limits that refuse a hostile or mistaken file before it exhausts
        memory or time: the file's text (after gunzipping), the numbers in
        all probability tables together, the states of one variable.

    Raises
    ------
    PriorsError
        When the extension is unknown, the file is above a limit (the message
        says which and how to raise it), or pgmpy cannot read the file (or
        reads it as no network, or as an inconsistent one); the message
        carries pgmpy's own explanation.
    """
    path = Path(path)
    kind = _format(path, IMPORT_SUFFIXES, "import")
    text = _read_text(path, kind, max_megabytes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgmpy.readwrite import BIFReader, NETReader, XMLBIFReader

        try:
            if kind == "BIF":
                # pgmpy finds blocks by "}\n": without a final newline it silently loses the last block
                network = _read_bif(BIFReader, text + "\n")
            elif kind == "XMLBIF":
                network = XMLBIFReader(string=text).get_model()
            else:
                network = NETReader(string=text + "\n").get_model()
            if not len(network.nodes()):
                raise ValueError("no variables found")
            _check_size(path, network, max_entries, max_states)
            network.check_model()  # every node has a table, sums ~1, parents' states agree
        except PriorsError:
            raise
        except Exception as err:  # pgmpy raises many kinds; all mean "not a network we can read"
            raise PriorsError([f"{path.name}: pgmpy cannot read it as {kind} ({type(err).__name__}: {err}). "
                               "Check that it is a discrete Bayesian network in that format."],
                              where=str(path)) from None
    return network


def _read_bif(reader, text):
    """A BIF network with its variables' properties (a ``role``), or without them when pgmpy cannot parse them
    (it reads only ``name = value`` properties)."""
    try:
        return reader(string=text, include_properties=True).get_model()
    except ValueError:
        return reader(string=text).get_model()


def _check_size(path, network, max_entries, max_states):
    """Refuse a network with a variable of more than ``max_states`` states or more than ``max_entries`` table
    numbers in all, before anything is converted."""
    cpds = network.get_cpds()
    widest = max(((c.variable, int(c.cardinality[0])) for c in cpds), key=lambda item: item[1], default=(None, 0))
    if widest[1] > max_states:
        raise _too_large(path, f"the variable {widest[0]!r} has {widest[1]:,} states, more than the limit of "
                         f"{_number(max_states)}", "max-states")
    entries = sum(int(np.prod(c.cardinality, dtype=float)) for c in cpds)
    if entries > max_entries:
        largest = max(cpds, key=lambda c: np.prod(c.cardinality, dtype=float))
        raise _too_large(path, f"its probability tables hold {entries:,} numbers ({largest.variable!r} alone "
                         f"{int(np.prod(largest.cardinality, dtype=float)):,}), more than the limit of "
                         f"{_number(max_entries)}", "max-entries")


_SYMBOLS = (("<=", "le"), (">=", "ge"), ("<", "lt"), (">", "gt"), ("=", "eq"), ("%", "pct"))
#: State names read as "nothing there": put first, so they become the reference state.
_INACTIVE = ("no", "false", "absent", "normal", "none", "negative", "off", "0")


def _is_valid(text, kind):
    if kind == "node":
        return bool(NODE_NAME.match(text)) and text not in RESERVED
    return bool(STATE_NAME.match(text))


def _mapped(text, kind):
    """A valid name for ``text`` (not yet made unique). A state keeps every character a CSV cell can hold
    (``<5``, ``>=7.5``, ``Asy/Patch`` stay as they are): only spaces at either end go, and ``|`` (the separator of
    ``states``) and control characters become ``_``. A node name spells symbols out (``>=7.5`` -> ``ge7_5``) and
    turns every other character but letters, digits and ``_`` into ``_``."""
    text = text.strip()
    if kind == "state":
        return re.sub(r"[|\x00-\x1f\x7f-\x9f]", "_", text).strip() or "s_"
    for symbol, word in _SYMBOLS:
        text = text.replace(symbol, word)
    text = re.sub(r"[^A-Za-z0-9_]", "_", text)
    if not re.match(r"[A-Za-z]", text) or text in RESERVED:
        text = "n_" + text
    return text


def _name_map(names, kind):
    """Original name -> valid name, one to one. Valid names are kept as they are; the others are mapped
    and, if the mapped name is taken, numbered (``a_b``, ``a_b_2``). Node names are unique whatever the
    case, so that ``cpts/<node>.csv`` files stay distinct on case-insensitive file systems."""
    key = (lambda s: s.casefold()) if kind == "node" else (lambda s: s)
    texts = {name: str(name) for name in names}
    result, taken = {}, set()
    for name, text in texts.items():
        if _is_valid(text, kind) and key(text) not in taken:
            result[name] = text
            taken.add(key(text))
    for name, text in texts.items():
        if name in result:
            continue
        base = _mapped(text, kind)
        candidate, n = base, 2
        while key(candidate) in taken:
            candidate, n = f"{base}_{n}", n + 1
        if not _is_valid(candidate, kind):  # cannot happen with the rules above; never write a bad name
            raise PriorsError([f"{kind} name {text!r} cannot be mapped to a valid name (got {candidate!r})."])
        result[name] = candidate
        taken.add(key(candidate))
    return result


def network_to_tables(network, *, source):
    """Priors tables (nodes, one full CPT per node, the name map) for a pgmpy network.

    A node keeps the role its file gives it (the variable property ``role =
    cause``, written by :func:`write_network` with ``roles``) and its states
    the file's order (the reference state first, as written). Without that
    property, root nodes become ``cause`` nodes (``infer`` reports P(not the
    reference state) for them), the others ``finding`` nodes, and a state
    named like "no", "false", "absent" or "normal" is moved first, to be the
    reference state (otherwise the file's order is kept). Edit ``nodes.csv``
    to change either.

    Every name can be mapped; the numbers are checked as the loader checks
    them, so a network our format cannot hold raises here, before anything is
    written. A CPT column that sums to 1 only within the tolerance (bnlearn's
    files are rounded: up to 1e-7 off) is rescaled to sum to 1, so every
    engine gives the same posteriors however it skips what the evidence makes
    irrelevant; :func:`rescaled_columns` lists them for the import report.

    Raises
    ------
    PriorsError
        A node without a table or with the same state twice, a number that is
        not a probability, or a CPT column that does not sum to 1 within 1e-6
        (pgmpy accepts 0.01).
    """
    nodes = list(network.nodes())
    node_names = _name_map(nodes, "node")
    problems, originals = [], {}
    for node in nodes:
        cpd = network.get_cpds(node)
        if cpd is None:
            problems.append(f"node {node!r} has no probability table.")
            continue
        originals[node] = list(cpd.state_names[node])
        repeated = sorted(str(s) for s, count in Counter(originals[node]).items() if count > 1)  # linear
        if repeated:
            problems.append(f"node {node!r} lists the state(s) {', '.join(map(repr, repeated))} more than once.")
    if problems:
        raise PriorsError(problems, where=source)
    _check_numbers(network, node_names, source)
    state_names = {node: _name_map(originals[node], "state") for node in nodes}
    rows, renamed, cpts = [], [], {}
    for node in nodes:
        cpd = network.get_cpds(node)
        name = node_names[node]
        states = [state_names[node][s] for s in originals[node]]
        parents = list(cpd.variables[1:])
        role = str(network.nodes[node].get(ROLE_PROPERTY, "")).strip()
        if role not in ROLES:  # no role carried by the file: roots are causes, the others findings
            role = "finding" if parents else "cause"
            inactive = [s for s in states if s.lower() in _INACTIVE]
            if inactive:
                states = [inactive[0]] + [s for s in states if s != inactive[0]]
        # else: written by write_network, whose states come reference first: the file's order is kept
        rows.append({"node": name, "role": role, "states": "|".join(states),
                     "form": "cpt", "label": str(node), "question": "", "cost": "", "emergency_state": ""})
        for original in originals[node]:
            renamed.append({"node": name, "original_node": str(node), "state": state_names[node][original],
                            "original_state": str(original)})
        values = np.asarray(cpd.get_values(), dtype=float)  # (child states, parent configurations)
        totals = values.sum(axis=0)
        values = np.where(np.abs(totals - 1.0) > ROUNDING, values / totals, values)  # see rescaled_columns
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
    tables = {"nodes": pd.DataFrame(rows), **cpts}
    tables["import_names"] = pd.DataFrame(renamed, columns=["node", "original_node", "state", "original_state"])
    return tables


def rescaled_columns(network):
    """The CPT columns :func:`network_to_tables` rescales to sum to 1: ``{node: (columns, largest |sum -
    1|)}`` for every node with a column whose sum is further than :data:`ROUNDING` from 1.

    Examples
    --------
    >>> from pgmpy.factors.discrete import TabularCPD
    >>> from pgmpy.models import DiscreteBayesianNetwork
    >>> net = DiscreteBayesianNetwork()
    >>> net.add_node("a")
    >>> net.add_cpds(TabularCPD("a", 2, [[0.3], [0.7000001]]))
    >>> {node: (count, round(off, 9)) for node, (count, off) in rescaled_columns(net).items()}
    {'a': (1, 1e-07)}
    """
    out = {}
    for node in network.nodes():
        totals = np.asarray(network.get_cpds(node).get_values(), dtype=float).sum(axis=0)
        off = np.abs(totals - 1.0)
        if (off > ROUNDING).any():
            out[node] = (int((off > ROUNDING).sum()), float(off.max()))
    return out


def _check_numbers(network, node_names, source):
    """Every CPT number a probability and every column summing to 1 as the loader requires (pgmpy
    itself allows 0.01), so such a network is refused before anything is written. The names need
    no check: the mapping only makes valid ones."""
    problems = []
    for node in network.nodes():
        cpd = network.get_cpds(node)
        values = np.asarray(cpd.get_values(), dtype=float)  # (states, parent configurations)
        file = f"{CPT_FOLDER}/{node_names[node]}.csv"
        parents = list(cpd.variables[1:])
        configs = list(itertools.product(*(cpd.state_names[p] for p in parents)))
        bad = ~np.isfinite(values) | (values < 0.0) | (values > 1.0)
        if bad.any():
            i, j = map(int, np.argwhere(bad)[0])
            problems.append(f"{file} (node {node!r}): P({node}={cpd.state_names[node][i]} | "
                            f"{_given(parents, configs[j])}) is {float(values[i, j])!r}, not a probability "
                            "between 0 and 1.")
            continue
        totals = values.sum(axis=0)
        off = np.flatnonzero(np.abs(totals - 1.0) > TOLERANCE)
        if len(off):
            j = int(off[0])
            more = f" (and {len(off) - 1} more parent configurations)" if len(off) > 1 else ""
            given = f" given {_given(parents, configs[j])}" if parents else ""
            problems.append(f"{file} (node {node!r}): the probabilities{given} sum to "
                            f"{totals[j]:.10g}, not 1 (tolerance {TOLERANCE:g}){more}. Priors tables must add up "
                            "to 1; correct the network and import it again.")
    if problems:
        raise PriorsError(problems, where=f"the network imported from {source}")


def _given(parents, config):
    return ", ".join(f"{p}={s}" for p, s in zip(parents, config)) or "no parents"


def write_network(network, path, *, roles=None):
    """Write a pgmpy network as BIF or XMLBIF, chosen by the file's extension (``.gz``: gzipped).

    The file is written atomically (a temporary file in the same folder, then
    renamed): an existing file is replaced whole or left as it was.

    Parameters
    ----------
    network : pgmpy.models.DiscreteBayesianNetwork
    path : str or os.PathLike
    roles : dict of str to str, optional
        Each node's role (``risk_factor``, ``cause``, ...), written as the
        variable property ``role = <role>`` that :func:`network_to_tables`
        reads back. ``network`` itself is not changed.

    Raises
    ------
    PriorsError
        When the extension is unknown or the file cannot be written.
    """
    path = Path(path)
    kind = _format(path, EXPORT_SUFFIXES, "export")
    if kind == "BIF":
        _check_bif_states(network, path)
    if roles:
        network = network.copy()
        for node in network.nodes():
            if node in roles:
                network.nodes[node][ROLE_PROPERTY] = roles[node]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        text = str(_bif_writer(network) if kind == "BIF" else _xmlbif_writer(network))
    data = text.encode("utf-8")
    if _gzipped(path):
        data = gzip.compress(data, mtime=0)
    temporary = None
    try:
        with tempfile.NamedTemporaryFile("wb", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp",
                                         delete=False) as handle:
            temporary = handle.name
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as err:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        raise PriorsError([f"{path.name}: cannot be written ({err.strerror or err}); nothing was changed."],
                          where=str(path)) from None


#: What BIF cannot hold in a state name: characters its lists and tables are split on, quotes (pgmpy's reader
#: drops them) and ``//`` (read as a comment); XMLBIF holds any.
_NOT_IN_BIF = re.compile(r'[,;{}()"]|//')


def _check_bif_states(network, path):
    """Refuse state names that a BIF file would split or cut (pgmpy's reader stops a state at ``,``, ``;`` or
    ``}``; rows of a table are ``(state, state)``; it drops quotes and reads ``//`` as a comment), naming XMLBIF,
    which keeps them."""
    bad = [f"{node}={state}" for node in network.nodes() for state in network.get_cpds(node).state_names[node]
           if _NOT_IN_BIF.search(str(state))]
    if bad:
        raise PriorsError([f"{path.name}: BIF cannot hold the state name(s) {', '.join(map(repr, bad[:5]))}"
                           f"{' ...' if len(bad) > 5 else ''} (a BIF state cannot contain , ; {{ }} ( ) \" or //). "
                           "Export as XMLBIF instead (.xmlbif or .bifxml), which keeps every name."], where=str(path))


def _bif_writer(network):
    from pgmpy.readwrite import BIFWriter

    return BIFWriter(network)


def _xmlbif_writer(network):
    """pgmpy's XMLBIF writer, keeping the state names as they are.

    pgmpy turns every character but letters, digits and ``_`` into ``_`` (``5-12`` -> ``5_12``,
    ``<7.5`` -> ``_7_5``) with only a log message, and two states can then share a name. Our
    names are plain text in XML (which needs no such rule), so they are written unchanged.
    """
    from pgmpy.readwrite import XMLBIFWriter

    class Writer(XMLBIFWriter):
        def _make_valid_state_name(self, state_name):
            return str(state_name)

    writer = Writer(network)
    for element in writer.xml.iter("VARIABLE"):  # whatever a later pgmpy does, the names must be ours
        node = element.findtext("NAME")
        outcomes = element.findall("OUTCOME")
        states = [str(s) for s in network.get_cpds(node).state_names[node]]
        if [o.text for o in outcomes] != states:
            for outcome, state in zip(outcomes, states):
                outcome.text = state
    return writer
