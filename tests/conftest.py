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
