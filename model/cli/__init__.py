"""The command line, ``python -m model`` or ``thighpain``: :func:`main` (in :mod:`model.cli.main`)."""

from .main import DRAWS, MAX_DRAWS, main

__all__ = ["main"]
