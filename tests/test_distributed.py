"""infer_batch on a Dask DataFrame (issue 12, item 4): :func:`model.distributed.infer_batch_dask`.

The reference is :func:`model.infer_batch` on the same cases as one pandas frame (itself checked against pgmpy
in tests/test_engine.py): the Dask result, computed, must equal it to 1e-12, bad and impossible rows NaN in the
same places, on Dask's thread scheduler and on a local cluster of two worker processes, for the bundled network
and an imported bnlearn one. The plan is compiled once, in the calling process; the workers never compile.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("dask.distributed")  # a guard only: the test extra installs dask

import dask  # noqa: E402
import dask.dataframe as dd  # noqa: E402
from dask.distributed import Client, LocalCluster  # noqa: E402

from model import EvidenceError, engine, load_model  # noqa: E402
from model.distributed import _is_dask, infer_batch_dask  # noqa: E402
from model.engine import infer_batch  # noqa: E402
from model.interop import network_to_tables, read_network  # noqa: E402
from model.priors import save_tables  # noqa: E402

DATA = Path(__file__).parent / "data" / "bnlearn"


def random_cases(model, n, seed, *, observe=0.3, soft=0.1, bad=0.02):
    """``n`` random cases, one column per node: states, soft evidence (dicts and lists), None, and a few bad
    cells (a state that does not exist, a list of the wrong length)."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        row = {}
        for node, states in model._states.items():
            if node in model._population or rng.random() >= observe:
                continue
            draw = rng.random()
            if draw < bad:
                row[node] = "no such state" if rng.random() < 0.5 else [1.0] * (len(states) + 1)
            elif draw < bad + soft:
                likelihoods = [float(x) for x in rng.uniform(0.05, 1.0, len(states))]
                row[node] = dict(zip(states, likelihoods)) if rng.random() < 0.5 else likelihoods
            else:
                row[node] = states[rng.integers(len(states))]
        rows.append(row)
    return pd.DataFrame(rows, columns=list(model._states), dtype=object, index=pd.RangeIndex(100, 100 + n))


def as_dask(cases, npartitions):
    """A Dask DataFrame of ``cases`` whose object columns stay object (soft evidence survives)."""
    with dask.config.set({"dataframe.convert-string": False}):
        return dd.from_pandas(cases, npartitions=npartitions)


def assert_same(lazy, expected):
    got = lazy.compute()
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=0, atol=1e-12)
    pd.testing.assert_frame_equal(got.iloc[:0], lazy._meta)  # the meta Dask was told is what comes back
    return got


@pytest.fixture(scope="module")
def client():
    """A local cluster of two single-threaded worker processes (the model has to be pickled to reach them)."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def asia(tmp_path_factory):
    """bnlearn's asia (its ``either`` is deterministic, so some evidence is impossible) as a Model."""
    folder = tmp_path_factory.mktemp("distributed") / "asia"
    save_tables(network_to_tables(read_network(DATA / "asia.bif.gz"), source="asia.bif.gz"), folder)
    return load_model(folder)


def plan_function(engine_module):
    """The engine's function that compiles a model's plan once and caches it (its name before and after the
    engine became a package)."""
    return getattr(engine_module, "compiled_plan", None) or engine_module._plan


def counting_compiles(monkeypatch):
    """Count the calls of the engine's compiler in this process (the ``_compile`` that ``_plan`` calls, in
    the module that defines ``_plan``)."""
    calls = []
    home = sys.modules[plan_function(engine).__module__]
    compile_ = home._compile

    def counting(*args, **kwargs):
        calls.append(1)
        return compile_(*args, **kwargs)

    monkeypatch.setattr(home, "_compile", counting)
    return calls


# --- Dask's thread scheduler (no client) ------------------------------------------------------------------
def test_thread_scheduler_equals_infer_batch_and_compiles_once(monkeypatch):
    model = load_model()  # a fresh Model: nothing compiled yet
    calls = counting_compiles(monkeypatch)
    cases = random_cases(model, 120, seed=1)
    lazy = infer_batch_dask(as_dask(cases, 4), priors=model)
    assert calls == [1]  # compiled when the graph is built, before anything is computed
    got = assert_same(lazy, infer_batch(cases, priors=model))
    assert calls == [1]
    assert lazy.npartitions == 4 and got.attrs == {}
    assert list(got.columns) == list(model._reported) and got.columns.name == "cause"
    assert (got.dtypes == "float64").all()
    assert got.isna().all(axis=1).sum() > 10 and not got.isna().all(axis=None)


def test_problems_and_red_flags_columns_carry_what_attrs_would(bundled_model):
    cases = random_cases(bundled_model, 60, seed=2, bad=0.05)
    cases.at[101, "saddle_anaesthesia"] = "yes"
    cases.at[102, "bladder_bowel_dysfunction"] = {"no": 0.1, "yes": 1.0}
    expected = infer_batch(cases, priors=bundled_model)
    got = infer_batch_dask(as_dask(cases, 3), priors=bundled_model, problems=True, red_flags=True).compute()
    reported = list(bundled_model._reported)
    pd.testing.assert_frame_equal(got[reported], expected, check_exact=False, rtol=0, atol=1e-12)
    assert list(got.columns[len(reported):]) == ["problems", "red_flags", "possible_red_flags"]
    texts = {}
    for p in expected.attrs["problems"]:
        texts.setdefault(p["row"], []).append(p["problem"])
    assert texts and got["problems"].to_dict() == {i: "\n".join(texts.get(i, [])) for i in cases.index}
    assert (got["problems"] != "").equals(got[reported].isna().all(axis=1))
    for name in ("red_flags", "possible_red_flags"):
        assert expected.attrs[name]
        assert got[name].to_dict() == {i: ", ".join(expected.attrs[name].get(i, [])) for i in cases.index}
    assert "saddle_anaesthesia" in got.loc[101, "red_flags"]
    assert "bladder_bowel_dysfunction" in got.loc[102, "possible_red_flags"]


def test_text_columns_as_dask_makes_them(bundled_model):
    """Dask turns object columns into its string dtype by default: hard evidence still works (pd.NA is not
    observed)."""
    cases = random_cases(bundled_model, 40, seed=3, soft=0.0)
    lazy = dd.from_pandas(cases, npartitions=3)
    assert str(lazy.dtypes.iloc[0]) != "object"
    assert_same(infer_batch_dask(lazy, priors=bundled_model), infer_batch(cases, priors=bundled_model))


@pytest.mark.slow
def test_an_interval_with_a_seed_does_not_depend_on_the_partitions(bundled_model):
    """Every partition draws the same parameters (same seed): the interval of a row is that of the whole frame;
    a partition emptied by a filter gives no rows. Slow: each partition fits the parameter distributions again
    (about 2 s on the bundled network)."""
    cases = random_cases(bundled_model, 21, seed=4)
    options = {"interval": 0.9, "draws": 30, "seed": 4}
    frames = as_dask(cases, 3)
    assert frames.divisions[1] == 107
    frames = frames.map_partitions(lambda part: part[part.index >= 107], meta=frames._meta)  # the first: empty
    lazy = infer_batch_dask(frames, priors=bundled_model, problems=True, **options)
    assert lazy._meta.columns.names == ["cause", "statistic"] and lazy._meta.columns[-1] == ("problems", "")
    got = lazy.compute()
    expected = infer_batch(cases.loc[107:], priors=bundled_model, **options)
    pd.testing.assert_frame_equal(got[expected.columns], expected, check_exact=False, rtol=0, atol=1e-12)
    pd.testing.assert_frame_equal(got.iloc[:0], lazy._meta)


def test_bad_input_raises_at_once_and_dask_frames_are_recognised(bundled_model):
    cases = pd.DataFrame({"pain_burnin": ["yes"], "sitting_effect": ["none"]})
    with pytest.raises(EvidenceError, match="unknown node 'pain_burnin'.*'pain_burning'"):
        infer_batch_dask(dd.from_pandas(cases, npartitions=1), priors=bundled_model)
    with pytest.raises(EvidenceError, match="must be a dask DataFrame"):
        infer_batch_dask(cases, priors=bundled_model)
    assert _is_dask(dd.from_pandas(cases, npartitions=1)) and not _is_dask(cases)
    assert not _is_dask(dd.from_pandas(cases, npartitions=1)["sitting_effect"])  # a Series is not a frame


# --- a local cluster of two worker processes ----------------------------------------------------------------
@pytest.mark.slow
def test_two_worker_cluster_equals_infer_batch(client, bundled_model):
    cases = random_cases(bundled_model, 300, seed=5)
    lazy = infer_batch_dask(as_dask(cases, 5), priors=bundled_model)
    got = assert_same(lazy, infer_batch(cases, priors=bundled_model))
    assert 10 < got.isna().all(axis=1).sum() < 250  # bad rows are NaN, in the same places
    assert len({w["id"] for w in client.scheduler_info()["workers"].values()}) == 2
    via_doorway = infer_batch(as_dask(cases, 5), priors=bundled_model)  # infer_batch itself takes a Dask frame
    assert isinstance(via_doorway, dd.DataFrame)
    assert_same(via_doorway, got)


@pytest.mark.slow
def test_imported_bnlearn_network_on_the_cluster_impossible_rows_nan(client, asia):
    cases = random_cases(asia, 200, seed=6, observe=0.4)
    cases.loc[[100, 150], ["tub", "either"]] = [["yes", "no"], ["yes", "no"]]  # either = tub or lung: impossible
    expected = infer_batch(cases, priors=asia)
    assert {p["row"] for p in expected.attrs["problems"] if "probability zero" in p["problem"]} >= {100, 150}
    got = assert_same(infer_batch_dask(as_dask(cases, 3), priors=asia, problems=True)
                      .drop(columns="problems"), expected)
    assert got.loc[[100, 150]].isna().all(axis=None)


@pytest.mark.slow
def test_the_plan_is_compiled_once_in_the_client_and_never_on_a_worker(client, monkeypatch):
    def count_on_worker():  # runs in each worker process: count its compilations from now on
        import sys as worker_sys

        from model import engine as worker_engine

        compiled = getattr(worker_engine, "compiled_plan", None) or worker_engine._plan
        home = worker_sys.modules[compiled.__module__]
        calls = []
        compile_ = home._compile

        def counting(*args, **kwargs):
            calls.append(1)
            return compile_(*args, **kwargs)

        home._compile, home._counted = counting, calls

    def compiled_on_worker():
        import sys as worker_sys

        from model import engine as worker_engine

        compiled = getattr(worker_engine, "compiled_plan", None) or worker_engine._plan
        home = worker_sys.modules[compiled.__module__]
        return len(home._counted), len(worker_engine._PLANS)

    client.run(count_on_worker)
    model = load_model()  # a fresh Model: nothing compiled yet
    calls = counting_compiles(monkeypatch)
    cases = random_cases(model, 120, seed=7)
    before = set(client.who_has())
    lazy = infer_batch_dask(as_dask(cases, 6), priors=model)
    assert calls == [1]
    shipped = [key for key in set(client.who_has()) - before if str(key).startswith("_Shipment")]
    assert len(shipped) == 1 and len(client.who_has()[shipped[0]]) == 2  # scattered once, to both workers
    assert_same(lazy, infer_batch(cases, priors=model))
    assert calls == [1]
    counts = client.run(compiled_on_worker)
    assert len(counts) == 2 and all(compiled == 0 for compiled, _ in counts.values()), counts
    assert sum(plans for _, plans in counts.values()) >= 1  # the shipped plan was filed and used there
