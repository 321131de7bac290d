"""Shared fixtures: the bundled model, loaded once per test session."""

import pytest

from model import load_model


@pytest.fixture(scope="session")
def bundled_model():
    """The :class:`model.Model` of the bundled priors (immutable, so safe to share)."""
    return load_model()


@pytest.fixture(scope="session")
def reported_nodes(bundled_model):
    """The nodes whose posterior ``infer`` reports: every cause, then every complication."""
    return tuple(bundled_model.causes) + tuple(bundled_model.complications)


@pytest.fixture
def no_show(monkeypatch):
    """Fail on any ``plt.show()``; start with no figure open (doctests may leave some) and close every
    figure the test made."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def forbidden(*args, **kwargs):
        raise AssertionError("plotting functions must not call plt.show()")

    monkeypatch.setattr(plt, "show", forbidden)
    plt.close("all")
    yield
    plt.close("all")


# --- hypothesis: one fixed profile (issue 11, item 19) -------------------------------------------------------------
# Derandomised, so every run tries the same examples (a failure reproduces); no deadline (2 shared cores);
# 100 examples unless a test asks for another number in its own @settings.
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile("project", max_examples=100, deadline=None, derandomize=True, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("project")
