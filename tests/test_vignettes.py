"""The clinical vignettes (model/data/vignettes.csv) rank the expected cause first.

Vignettes 1-10 are the public vignettes of clinical-evidence.md §3; 11 onward are
written from the literature cited in clinical-evidence-v2.md. Every modelled cause
is the expected first cause of at least one vignette.
"""

import pytest

from model import load_model, read_vignettes

VIGNETTES = read_vignettes()


@pytest.fixture(scope="module")
def bundled():
    return load_model()


def test_there_are_at_least_25_vignettes_naming_known_nodes(bundled):
    assert len(VIGNETTES) >= 25
    assert list(VIGNETTES.index) == list(range(1, len(VIGNETTES) + 1))
    for evidence in VIGNETTES["evidence"]:
        bundled.check_evidence(evidence)  # raises on an unknown node or state
    assert set(VIGNETTES["expected_first"]) <= set(bundled.causes)


@pytest.mark.parametrize("number", VIGNETTES.index, ids=[f"vignette{n}" for n in VIGNETTES.index])
def test_vignette_ranks_expected_cause_first(bundled, number):
    vignette = VIGNETTES.loc[number]
    result = bundled.infer(vignette["evidence"])
    causes_only = result[result.index.isin(bundled.causes)]
    assert causes_only.index[0] == vignette["expected_first"], causes_only.head(3)
    assert bool(result.attrs["red_flags"]) == vignette["emergency_flag"]
