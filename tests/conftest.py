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
