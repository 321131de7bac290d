"""The priors format: the files (:mod:`model.priors.files`, the only file I/O: locate, read, save),
their tables (:mod:`model.priors.tables`), every check (:mod:`model.priors.checks`), expansion of the
canonical forms to full tables (:mod:`model.priors.expand`, :mod:`model.priors.forms`) and pure edits
(:mod:`model.priors.editing`).

In an installed wheel the bundled population folders (``primary_care/``, ``specialist/``) and
``renamed.csv`` sit in this folder too, beside the code; in a source checkout they are the top-level
``priors/`` folder (:func:`bundled_priors_folder` finds either).
"""

from .files import (  # __all__: the doorway exports what model.priors.files does
    DEFAULT_POPULATION,
    __all__,
    bundled_populations,
    bundled_priors_folder,
    check_save_target,
    load_priors,
    priors_fingerprint,
    priors_folder,
    read_priors_folder,
    read_renamed,
    read_vignettes,
    recover_interrupted_save,
    save_tables,
    upgrade_priors_folder,
)
