"""Canonical forms expand to the tables computed here by hand."""

import numpy as np
import pytest

from model.priors.forms import RELATIVE_RISK_CAP, logistic_table, noisy_max_table, relative_risk_table
from model.priors import load_priors

BINARY = ("absent", "present")


def test_noisy_or_two_causes_matches_hand_computation():
    # leak 0.20; totals 0.85 and 0.35 -> q = 0.8125 and 0.1875 (priors/README.md worked example)
    table = noisy_max_table([0.2], {(0, 1): [0.85], (1, 1): [0.35]}, [BINARY, BINARY])
    expected_yes = [0.2, 0.35, 0.85, 1 - 0.8 * 0.1875 * 0.8125]
    np.testing.assert_allclose(table[1], expected_yes, atol=1e-15)
    np.testing.assert_allclose(table.sum(axis=0), 1.0, atol=1e-15)


def test_noisy_max_ordered_child_matches_hand_computation():
    # P(>= aggravates), P(>= dominant): leak (0.45, 0.05); cause A (0.65, 0.10); cause B (0.97, 0.75)
    table = noisy_max_table([0.45, 0.05], {(0, 1): [0.65, 0.10], (1, 1): [0.97, 0.75]}, [BINARY, BINARY])
    np.testing.assert_allclose(table[:, 0], [0.55, 0.40, 0.05], atol=1e-15)
    np.testing.assert_allclose(table[:, 2], [0.35, 0.55, 0.10], atol=1e-15)
    np.testing.assert_allclose(table[:, 1], [0.03, 0.22, 0.75], atol=1e-15)
    at_least_1 = 1 - 0.35 * 0.03 / 0.55
    at_least_2 = 1 - 0.9 * 0.25 / 0.95
    np.testing.assert_allclose(table[:, 3], [1 - at_least_1, at_least_1 - at_least_2, at_least_2], atol=1e-15)


def test_noisy_or_parent_state_without_link_has_no_effect():
    three = ("40_59", "under_40", "60_plus")
    table = noisy_max_table([0.1], {(0, 2): [0.3]}, [three])
    np.testing.assert_allclose(table[1], [0.1, 0.1, 0.3], atol=1e-15)


def test_logistic_multiplies_odds_and_can_lower_the_child():
    # odds(leak 0.9) = 9; totals 0.25 (odds 1/3) and 0.6 (odds 1.5): both -> odds 1/3 * 1.5 / 9
    table = logistic_table([0.9], {(0, 1): [0.25], (1, 1): [0.6]}, [BINARY, BINARY])
    both_odds = (1 / 3) * 1.5 / 9
    np.testing.assert_allclose(table[1], [0.9, 0.6, 0.25, both_odds / (1 + both_odds)], atol=1e-14)


def test_logistic_ordered_child_reproduces_single_cause_rows():
    table = logistic_table([0.45, 0.05], {(0, 1): [0.85, 0.30]}, [BINARY])
    np.testing.assert_allclose(table[:, 1], [0.15, 0.55, 0.30], atol=1e-14)


def test_relative_risk_multiplies_and_caps():
    three = ("ref", "low", "high")
    table, raw = relative_risk_table(0.1, {(0, 1): 4.0, (1, 1): 0.5, (1, 2): 2.0}, [("no", "yes"), three])
    np.testing.assert_allclose(raw, [0.1, 0.05, 0.2, 0.4, 0.2, 0.8], atol=1e-15)
    np.testing.assert_allclose(table[1], raw, atol=1e-15)
    capped, raw = relative_risk_table(0.25, {(0, 1): 3.9}, [("no", "yes")])
    assert raw[1] == pytest.approx(0.975)
    assert capped[1, 1] == RELATIVE_RISK_CAP


def test_bundled_worked_example_matches_readme():
    table = load_priors().node_tables["fever"]
    index = {p: i for i, p in enumerate(table.parents)}

    def column(*present):
        config = [0] * len(table.parents)
        for cause in present:
            config[index[cause]] = 1
        position = 0
        for state, states in zip(config, table.parent_states):
            position = position * len(states) + state
        return table.values[:, position]

    # leak 0.03; totals 0.50 (spinal infection) and 0.05 (tumour): both -> 1 - 0.5 * 0.95 / 0.97
    assert table.parents == ("tumour", "spinal_infection")
    assert column()[1] == pytest.approx(0.03, abs=1e-15)
    assert column("spinal_infection")[1] == pytest.approx(0.50, abs=1e-15)
    assert column("tumour")[1] == pytest.approx(0.05, abs=1e-15)
    assert column("spinal_infection", "tumour")[1] == pytest.approx(1 - 0.5 * 0.95 / 0.97, abs=1e-15)


def test_every_bundled_node_table_is_a_distribution():
    for node, table in load_priors().node_tables.items():
        assert table.values.shape[0] == len(table.states), node
        np.testing.assert_allclose(table.values.sum(axis=0), 1.0, atol=1e-12, err_msg=node)
        assert (table.values >= 0).all(), node


def test_links_on_the_middle_state_of_a_three_state_parent():
    # parent 0 has states (ref, mid, top); only 'mid' has a link. Parent 1 is binary. First parent slowest:
    # configurations (ref,no) (ref,yes) (mid,no) (mid,yes) (top,no) (top,yes).
    three = ("ref", "mid", "top")
    table = noisy_max_table([0.1], {(0, 1): [0.3], (1, 1): [0.5]}, [three, BINARY])
    both = 1 - 0.9 * (0.7 / 0.9) * (0.5 / 0.9)  # P(no) = (1 - leak) * prod (1 - total) / (1 - leak)
    np.testing.assert_allclose(table[1], [0.1, 0.5, 0.3, both, 0.1, 0.5], atol=1e-15)
    table = logistic_table([0.2], {(0, 1): [0.6], (1, 1): [0.05]}, [three, BINARY])
    odds = 0.6 / 0.4 * (0.05 / 0.95) / (0.2 / 0.8)  # odds(leak) * OR(mid) * OR(parent 1)
    np.testing.assert_allclose(table[1], [0.2, 0.05, 0.6, odds / (1 + odds), 0.2, 0.05], atol=1e-15)
    table, raw = relative_risk_table(0.1, {(0, 1): 3.0}, [three])
    np.testing.assert_allclose(table[1], [0.1, 0.3, 0.1], atol=1e-15)
