"""The compiled exact engine: one case, many cases, many parameter draws.

:func:`infer_batch` (in :mod:`model.engine.batch`) is the entry point for many cases.
"""

from .batch import (
    _PLANS,
    MAX_FINAL,
    _check_columns,
    _draw_structure,
    _impossible_problems,
    _model,
    _parse,
    _plan,
    infer_batch,
)

__all__ = ["infer_batch"]
