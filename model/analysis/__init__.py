"""Analyses built on exact inference: intervals, sensitivity, explanation, next question, validation,
combinations of causes (explanations) and predicted findings.

Each module here imports :mod:`model.inference` and :mod:`model.engine`, never
the reverse. The public names are re-exported by :mod:`model`.
"""
