"""solve_baselines: the cause baselines give the wanted presenting-population shares.

The bundled baselines were solved in closed form over the 3,072 risk-factor configurations when
the priors were written; here the generic iteration must find the same numbers from a perturbed
start, an independent route to the same fixed point.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model import PriorsError, load_model
from model.analysis.shares import solve_baselines

SHARES = pd.read_csv(Path(__file__).parent / "data" / "presenting_shares.csv")


def test_perturbed_baselines_are_solved_back_to_the_bundled_ones():
    bundled = load_model("primary_care")
    start = bundled
    for cause, factor in (("lumbar_disc_herniation", 1.6), ("nonspecific_referred_lbp", 0.5), ("tumour", 3.0)):
        rows = bundled.tables["base_rates"]
        value = float(rows.loc[rows["node"] == cause, "probability"].iloc[0])
        start = start.with_parameter("base_rates", node=cause, probability=value * factor, high=0.9, low=0.0)
    assert abs(start.prior()["lumbar_disc_herniation"] - 0.40) > 0.05
    wanted = SHARES[SHARES["population"] == "primary_care"].set_index("cause")["share"]
    wanted = wanted.drop("bone_injury")  # a full CPT: its share comes back with the others
    solved = solve_baselines(wanted.to_dict(), priors=start, tolerance=1e-10)
    mine = solved.tables["base_rates"].set_index("node")["probability"]
    theirs = bundled.tables["base_rates"].set_index("node")["probability"]
    for cause in wanted.index:
        assert mine[cause] == pytest.approx(theirs[cause], rel=1e-6), cause
    np.testing.assert_allclose(solved.prior().to_numpy(), bundled.prior().to_numpy(), rtol=1e-6)


def test_one_changed_share_is_reached_and_nothing_else_changes():
    m = solve_baselines({"deep_gluteal_syndrome": 0.08}, priors="primary_care")
    assert m.prior()["deep_gluteal_syndrome"] == pytest.approx(0.08, rel=1e-9)
    before, after = load_model("primary_care").tables, m.tables
    for name in ("links", "leaks", "risk_factors", "nodes", "population"):
        pd.testing.assert_frame_equal(before[name], after[name])
    changed = (before["base_rates"]["probability"] != after["base_rates"]["probability"])
    assert after["base_rates"].loc[changed, "node"].tolist() == ["deep_gluteal_syndrome"]


@pytest.mark.parametrize(("shares", "message"), [
    ({"bone_injury": 0.01}, "has form 'cpt'"),
    ({"disc": 0.4}, "is not a cause"),
    ({"tumour": 1.0}, "strictly between 0 and 1"),
])
def test_bad_requests_are_refused(shares, message):
    with pytest.raises(PriorsError, match=message):
        solve_baselines(shares, priors="primary_care")
