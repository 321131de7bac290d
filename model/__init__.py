"""A research Bayesian network for the causes of burning pain in the back of the thigh.

Not medical advice. The public doorway::

    from model import infer, load_model
    infer({"pain_burning": "yes", "low_back_pain": "no", "sitting_effect": "dominant"})

Names are imported on first use, so ``import model`` stays light (no pgmpy,
no matplotlib) until inference is needed.
"""

from importlib import import_module as _import_module

__all__ = sorted(
    [
        "EvidenceError",
        "Model",
        "PriorsError",
        "ValidationReport",
        "bundled_populations",
        "bundled_priors_folder",
        "compare",
        "cross_validate",
        "explain",
        "explanations",
        "explanations_batch",
        "fit",
        "infer",
        "infer_batch",
        "load_model",
        "next_questions",
        "parameter_changes",
        "parameter_table",
        "predict",
        "predict_batch",
        "read_vignettes",
        "sensitivity",
        "sensitivity_curve",
        "simulate",
        "solve_baselines",
        "validate",
        "vignette_scorecard",
    ]
)

_HOMES = {
    "EvidenceError": "model.errors",
    "PriorsError": "model.errors",
    "Model": "model.inference",
    "compare": "model.comparison",
    "cross_validate": "model.learning",
    "fit": "model.learning",
    "infer": "model.inference",
    "infer_batch": "model.engine",
    "load_model": "model.inference",
    "read_vignettes": "model.priors",
    "bundled_populations": "model.priors",
    "bundled_priors_folder": "model.priors",
    "explain": "model.analysis.explain",
    "explanations": "model.analysis.differential",
    "explanations_batch": "model.analysis.differential",
    "predict": "model.analysis.differential",
    "predict_batch": "model.analysis.differential",
    "next_questions": "model.analysis.questions",
    "parameter_changes": "model.learning",
    "parameter_table": "model.analysis.parameters",
    "sensitivity": "model.analysis.sensitivity",
    "sensitivity_curve": "model.analysis.sensitivity",
    "simulate": "model.learning",
    "solve_baselines": "model.analysis.shares",
    "ValidationReport": "model.analysis.validation",
    "validate": "model.analysis.validation",
    "vignette_scorecard": "model.analysis.validation",
}


def __getattr__(name):
    if name in _HOMES:
        return getattr(_import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'model' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
