"""Analyses built on exact inference: intervals, sensitivity, explanation, next question, validation,
combinations of causes (explanations) and predicted findings.

Imports flow one way (tests/test_import_graph.py). The modules that compute on a loaded model and that
:class:`~model.inference.Model` calls (``parameters``, ``intervals``, ``explanations``, ``predict``) import the
engine's modules and never :mod:`model.inference`; the others, and ``differential`` (the public
``explanations`` and ``predict`` functions), read their ``priors`` argument with
:func:`model.inference.as_model` and talk to the engine through :mod:`model.engine`'s public names. The public
names are re-exported by :mod:`model`.
"""
