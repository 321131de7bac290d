"""The compiled exact engine: one case, many cases, many parameter draws.

Its public interface, for the analyses (:mod:`model.analysis`) and the model
(:mod:`model.inference`):

- :func:`compiled_plan` (``model`` -> its plan, compiled once and cached; :mod:`model.engine.compiled`),
  and :data:`MAX_FINAL`, the largest joint table of the reported nodes a plan builds; :func:`joint_plan`, a
  plan that always builds that joint (up to :data:`MAX_JOINT` configurations), for explanations;
- :func:`answer_tables` (every hypothetical answer of the next question, on a junction tree whose root is
  the joint of the causes and complications; :mod:`model.engine.answers`);
- :func:`check_columns` and :func:`parse_cases` (a DataFrame of cases -> hard codes, soft likelihoods,
  bad rows and their problems; :mod:`model.engine.cases`);
- :func:`evaluate` (a plan and parsed rows -> posteriors, or the joint table and log P(evidence) of every
  row; :mod:`model.engine.chunk`), with a :class:`Pool` of reusable arrays and :func:`sum_axes` (a table
  summed over several axes, fast; :mod:`model.engine.ops`);
- :func:`impossible_problems` (a message per impossible row) and :func:`run_batch` (many cases on a loaded
  model, on the plan or one case at a time on the junction tree, whichever :func:`model.engine.run.scorer`
  estimates cheaper; :mod:`model.engine.run`);
- :func:`draw_posteriors` (the posteriors of many cases under many parameter draws; :mod:`model.engine.draws`),
  on a model without the cases' barren nodes (:mod:`model.engine.pruning`);
- one case on the junction tree (:mod:`model.engine.junction`, its array moves in :mod:`model.engine.flat`;
  :mod:`model.engine.single`): ``Model.infer``, ``Model.prior``, predictions (every node's marginal), the
  first impossible observation of a case and the exact gradients of sensitivity; the population is cut out
  of the tables at compile time and hard evidence per case (:mod:`model.engine.sliced`), or, on a network
  whose causes share no clique, a tree is compiled for the case alone (:mod:`model.engine.reduced`);
- many cases calibrated together on the junction tree (:mod:`model.engine.tree_batch`, with
  :mod:`model.engine.families`), which :func:`model.engine.run.scorer` takes over the plan where every clique is
  small;
- :func:`infer_batch` (:mod:`model.engine.batch`), the public entry point, which reads its ``priors``
  argument into a :class:`~model.inference.Model`.

How the plan is built is private to the package (:mod:`model.engine.plan`, :mod:`model.engine.numbers`).

Imports flow one way: the engine's modules import neither :mod:`model.inference` nor the analyses, and
:mod:`model.inference` imports them. Only :mod:`model.engine.batch` (reading ``priors``) sits above the
model, so this doorway imports it on first use of ``infer_batch``; modules that
:mod:`model.inference` imports take the engine's names from its modules
(``from ..engine.chunk import evaluate``), not from this doorway (tests/test_import_graph.py).
"""

from importlib import import_module as _import_module

from .answers import answer_tables
from .cases import check_columns, parse_cases
from .chunk import evaluate
from .compiled import _PLANS, MAX_FINAL, MAX_JOINT, _draw_structure, compiled_plan, joint_plan
from .draws import draw_posteriors
from .ops import Pool, sum_axes
from .run import CHUNK_SIZE, impossible_problems, run_batch

__all__ = [
    "CHUNK_SIZE",
    "answer_tables",
    "MAX_FINAL",
    "MAX_JOINT",
    "Pool",
    "check_columns",
    "compiled_plan",
    "draw_posteriors",
    "evaluate",
    "impossible_problems",
    "joint_plan",
    "infer_batch",
    "parse_cases",
    "run_batch",
    "sum_axes",
]

#: Names imported on first use: their modules import model.inference, which imports the engine's modules.
_HOMES = {"infer_batch": "model.engine.batch", "_model": "model.inference"}
_NAMES = {"_model": "as_model"}  # kept for callers of the former model.engine._model
_plan = compiled_plan  # the former name


def __getattr__(name):
    if name in _HOMES:
        return getattr(_import_module(_HOMES[name]), _NAMES.get(name, name))
    raise AttributeError(f"module 'model.engine' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_HOMES))
