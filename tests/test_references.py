"""Every citation key in the bundled priors and vignettes resolves to a full reference.

``priors/references.csv`` is the bibliography (key, reference). A source cell cites a key in
square brackets, ``[Windt2010]``, several separated by ``;`` or ``,``, optionally followed by a
colon and a comment (``[Vroomen2002: cough predicts root compression]``) or by a note such as
``, not re-checked``; the two project evidence dossiers are cited by name and section
(``clinical-evidence-v2 §3.2``). Each cited key must have a row in the bibliography, and no row
may be left without a reference text.
"""

import re
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
PRIORS = ROOT / "priors"
BIBLIOGRAPHY = PRIORS / "references.csv"
KEY = re.compile(r"^[A-Za-z][\w./-]*(?: abstract)?$")
DOSSIER = re.compile(r"\bclinical-evidence(?:-v2)?\b")
AUTHOR_YEAR = re.compile(r"(?<![\w-])[A-Z][A-Za-z]*(?:-[A-Za-z]+)?(?:19|20)\d\d[a-z]?(?:-[A-Za-z]+)?(?![\w-])")


def _read(path):
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def cited_keys(text):
    """Keys cited in one text cell: bracketed keys, author-year keys and the evidence dossiers.

    >>> sorted(cited_keys("v1 value [Windt2010; Capra2011, not re-checked]; clinical-evidence-v2 §3.1"))
    ['Capra2011', 'Windt2010', 'clinical-evidence-v2']
    >>> sorted(cited_keys("[Vroomen2002: cough/strain predicts root compression]"))
    ['Vroomen2002']
    """
    keys = set(DOSSIER.findall(text)) | set(AUTHOR_YEAR.findall(text))
    for inside in re.findall(r"\[([^\[\]]+)\]", text):
        for piece in re.split(r"[;,]", inside):
            piece = piece.split(":")[0].strip()
            piece = re.sub(r"\s+via\s.*$", "", piece)
            first = piece.split(" §")[0]
            if KEY.match(first):
                keys.add(first)
    return keys


def _text_cells():
    """(file, line, column, text) of every text cell that can cite a source."""
    files = sorted(PRIORS.rglob("*.csv")) + [ROOT / "model" / "data" / "vignettes.csv"]
    for path in files:
        if path == BIBLIOGRAPHY:
            continue
        frame = _read(path)
        for column in ("source", "note", "rationale"):
            if column in frame:
                for row, text in enumerate(frame[column], start=2):
                    yield path.relative_to(ROOT), row, column, text


def test_bibliography_has_unique_keys_and_full_references():
    bibliography = _read(BIBLIOGRAPHY)
    assert list(bibliography.columns) == ["key", "reference"]
    assert bibliography["key"].is_unique
    short = bibliography[bibliography["reference"].str.len() < 30]
    assert short.empty, f"references too short to be checked: {short.to_dict('records')}"


def test_every_cited_key_resolves():
    known = set(_read(BIBLIOGRAPHY)["key"])
    missing = [
        f"{path}:{line} ({column}): [{key}]"
        for path, line, column, text in _text_cells()
        for key in sorted(cited_keys(text) - known)
    ]
    assert not missing, "citation keys without a row in priors/references.csv:\n" + "\n".join(missing)


def test_the_key_reader_finds_the_keys_it_should():
    # Checked by hand against the convention in the module docstring.
    cases = {
        "[DeyoDiehl1988 via JarvikDeyo2002, from memory, not re-checked]": {"DeyoDiehl1988", "JarvikDeyo2002"},
        "[CES-referral abstract]": {"CES-referral abstract"},
        "expert judgement; range not given": set(),
        "clinical-evidence §2.3 residual": {"clinical-evidence"},
        "Hopayian2010, HopayianDanielyan2018: buttock pain": {"Hopayian2010", "HopayianDanielyan2018"},
        "elBarzouhi2014 (derived)": set(),  # lower-case keys are read only inside brackets
    }
    for text, expected in cases.items():
        assert cited_keys(text) == expected, text


@pytest.mark.parametrize("population", ["primary_care", "specialist"])
def test_rows_without_a_citation_are_graded_expert_judgement(population):
    # Guards the test above against reading nothing: a row that cites no key must say it is
    # expert judgement (grade E); most rows cite one.
    frame = _read(PRIORS / population / "links.csv")
    uncited = frame[[not cited_keys(text) for text in frame["source"]]]
    assert len(uncited) < 0.4 * len(frame)
    assert set(uncited["grade"]) <= {"E"}, uncited[uncited["grade"] != "E"][["child", "source"]]
