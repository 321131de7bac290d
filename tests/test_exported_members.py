"""The public doorway: ``model.__all__`` is sorted and complete, and ``import model`` stays light."""

import inspect
import subprocess
import sys

import model


def test_all_is_sorted_and_every_name_resolves():
    assert model.__all__ == sorted(model.__all__)
    for name in model.__all__:
        assert hasattr(model, name), name


def test_the_differential_is_exported():
    """Issue 10: combinations of causes and predicted findings, single case and batch."""
    assert {"explanations", "explanations_batch", "predict", "predict_batch"} <= set(model.__all__)
    assert model.Model.explanations.__doc__ and model.Model.predict.__doc__


def test_public_names_are_exactly_all():
    public = {name for name in dir(model) if not name.startswith("_") and not inspect.ismodule(getattr(model, name))}
    assert public == set(model.__all__)


def test_import_model_imports_neither_matplotlib_nor_pgmpy():
    code = "import sys, model; print(sorted(m for m in ('matplotlib', 'pgmpy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
