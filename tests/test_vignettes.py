"""The ten public vignettes of clinical-evidence.md §3 rank the expected cause first."""

import pytest

from model import load_model, read_vignettes

VIGNETTES = read_vignettes()


@pytest.fixture(scope="module")
def bundled():
    return load_model()


def test_there_are_ten_vignettes_naming_known_nodes(bundled):
    assert list(VIGNETTES.index) == list(range(1, 11))
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
