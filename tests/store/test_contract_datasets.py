"""Datasets and run inputs, on every backend, against the real MlflowClient on the same store.

Reading: `get_run` and `search_runs` give each run the dataset inputs (dataset fields and input
tags), model inputs and model outputs MlflowClient gives it; `dataset.*` filters select the
runs MLflow selects, in MLflow's order. Writing: `log_inputs` writes what MLflow reads back as
its own, reuses a dataset the experiment has, never doubles an input, and refuses a deleted run
or an oversized dataset before writing anything.
"""

from __future__ import annotations

import pytest
from test_contract_write import fresh_experiment, fresh_runs, requires

from fixtures.data import ALPHA, BETA, EVAL_DATASET, RUN_DATASETS, TRAIN_DATASET, UNICODE_EXP
from tracktui.store import InvalidValue, NotFound
from tracktui.store.model import Dataset, DatasetInput

BIG = 1000


def theirs_inputs(run) -> dict:
    """MlflowClient's Run.inputs/outputs in one comparable shape (datasets sorted)."""
    datasets = sorted(
        (d.dataset.name, d.dataset.digest, d.dataset.source_type, d.dataset.source, d.dataset.schema or None,
         d.dataset.profile or None, tuple(sorted((t.key, t.value) for t in d.tags)))
        for d in run.inputs.dataset_inputs
    )
    models = sorted(m.model_id for m in (run.inputs.model_inputs or []))
    outputs = sorted((m.model_id, m.step) for m in (run.outputs.model_outputs if run.outputs else []))
    return {"datasets": datasets, "model_inputs": models, "model_outputs": outputs}


def ours_inputs(run) -> dict:
    datasets = sorted(
        (d.dataset.name, d.dataset.digest, d.dataset.source_type, d.dataset.source, d.dataset.schema,
         d.dataset.profile, tuple(sorted(d.tags.items())))
        for d in run.inputs.dataset_inputs
    )
    return {
        "datasets": datasets,
        "model_inputs": sorted(m.model_id for m in run.inputs.model_inputs),
        "model_outputs": sorted((m.model_id, m.step) for m in run.outputs.model_outputs),
    }


# -- reading -----------------------------------------------------------------------------------


def test_get_run_inputs_match_mlflow(store, mlflow_client, info):
    for name, run_id in info.runs.items():
        assert ours_inputs(store.get_run(run_id)) == theirs_inputs(mlflow_client.get_run(run_id)), name


def test_fixture_datasets_are_there(store, info):
    """Not vacuous: two contexts on one run, the same dataset on two runs, schema and profile."""
    baseline = store.get_run(info.runs["baseline"]).inputs.dataset_inputs
    assert [(d.dataset.name, d.context) for d in baseline] == [("eval-set", "eval"), ("train-set", "training")]
    train = baseline[1].dataset
    assert train == Dataset(*TRAIN_DATASET)
    assert baseline[0].dataset == Dataset(*EVAL_DATASET)
    tuned = store.get_run(info.runs["tuned lr"]).inputs.dataset_inputs
    assert [d.dataset for d in tuned] == [train]
    assert store.get_run(info.runs["no-data"]).inputs.dataset_inputs == ()


def test_search_runs_carry_the_same_dataset_inputs(store, mlflow_client, info):
    exps = [info.experiments[ALPHA], info.experiments[BETA], info.experiments[UNICODE_EXP]]
    ours = {r.id: ours_inputs(r)["datasets"] for r in store.search_runs(exps, max_results=BIG, view="all")}
    theirs = {r.info.run_id: theirs_inputs(r)["datasets"] for r in mlflow_client.search_runs(exps, max_results=BIG, run_view_type=3)}
    assert ours == theirs
    assert sum(1 for found in ours.values() if found) == len(RUN_DATASETS)


DATASET_FILTERS = [
    "dataset.name = 'train-set'",
    "datasets.name = 'eval-set'",
    "dataset.name != 'train-set'",
    "dataset.name LIKE 'train%'",
    "dataset.name ILIKE 'TRAIN%'",
    "dataset.name LIKE '%ünï'",
    "dataset.name IN ('eval-set', 'corpus ünï')",
    "dataset.name NOT IN ('train-set')",
    "dataset.digest = 'a1b2c3d4'",
    "dataset.digest LIKE 'e5%'",
    "dataset.digest IN ('a1b2c3d4', '0011ffee')",
    "dataset.context = 'training'",
    "dataset.context = 'eval'",
    "dataset.context != 'eval'",
    "dataset.context IN ('eval')",
    "dataset.context NOT IN ('training')",
    "dataset.context ILIKE 'TRAIN%'",
    "dataset.name = 'train-set' AND dataset.context = 'eval'",
    "dataset.name = 'eval-set' AND dataset.context = 'eval'",
    "dataset.name = 'train-set' AND metrics.loss < 0.4",
    "dataset.name = 'nothing'",
]


@pytest.mark.parametrize("filter_string", DATASET_FILTERS)
def test_dataset_filters_match_mlflow(store, mlflow_client, info, filter_string):
    exps = [info.experiments[ALPHA], info.experiments[BETA]]
    ours = [r.id for r in store.search_runs(exps, filter_string, max_results=BIG)]
    theirs = [r.info.run_id for r in mlflow_client.search_runs(exps, filter_string, max_results=BIG)]
    assert ours == theirs


def test_dataset_filters_are_not_vacuous(mlflow_client, info):
    exps = [info.experiments[ALPHA], info.experiments[BETA]]
    total = len(mlflow_client.search_runs(exps, max_results=BIG))
    counts = {f: len(mlflow_client.search_runs(exps, f, max_results=BIG)) for f in DATASET_FILTERS}
    assert counts["dataset.name = 'train-set'"] == 2
    # MLflow checks each dataset clause on its own: baseline has train-set, and eval-set as eval.
    assert counts["dataset.name = 'train-set' AND dataset.context = 'eval'"] == 1
    assert counts["dataset.name = 'eval-set' AND dataset.context = 'eval'"] == 1
    assert any(0 < n < total for n in counts.values())


# -- writing -----------------------------------------------------------------------------------


def _input(name: str, digest: str, context: str, schema: str | None = None, profile: str | None = None) -> DatasetInput:
    return DatasetInput(
        Dataset(name, digest, "local", f'{{"uri": "/d/{name}"}}', schema, profile), {"mlflow.data.context": context}
    )


def test_log_inputs_reads_back_in_mlflow(w):  # noqa: F811 (the imported fixture)
    requires(w.store, "log_inputs")
    eid = fresh_experiment(w)
    first, second = fresh_runs(w, eid, 2)
    train = _input("train", "d1", "training", '{"mlflow_colspec": []}', '{"num_rows": 3}')
    test = _input("test", "d2", "eval")
    w.store.log_inputs(first, [train, test, _input("train", "d1", "ignored: first of a name+digest wins")])
    w.store.log_inputs(second, [train])
    w.store.log_inputs(first, [_input("train", "d1", "again")])  # already an input: left as it is
    theirs = theirs_inputs(w.client.get_run(first))
    assert theirs == ours_inputs(w.store.get_run(first))
    assert [(d[0], d[6]) for d in theirs["datasets"]] == [
        ("test", (("mlflow.data.context", "eval"),)),
        ("train", (("mlflow.data.context", "training"),)),
    ]
    assert theirs["datasets"][1][4:6] == ('{"mlflow_colspec": []}', '{"num_rows": 3}')
    assert theirs_inputs(w.client.get_run(second))["datasets"] == [theirs["datasets"][1]]
    found = [r.info.run_id for r in w.client.search_runs([eid], "dataset.name = 'train'", max_results=10)]
    assert sorted(found) == sorted([first, second])
    if w.kind in ("sqlite", "postgres", "mysql"):
        import sqlalchemy as sa

        with w.store.engine.connect() as conn:  # one dataset row reused by both runs
            count = conn.execute(
                sa.text("SELECT COUNT(*) FROM datasets WHERE experiment_id = :e AND name = 'train'"), {"e": int(eid)}
            ).scalar()
        assert count == 1


def test_log_inputs_refuses_a_deleted_run_and_a_bad_dataset(w):  # noqa: F811 (the imported fixture)
    requires(w.store, "log_inputs")
    eid = fresh_experiment(w)
    live, gone = fresh_runs(w, eid, 2)
    w.client.delete_run(gone)
    with pytest.raises(InvalidValue, match="deleted"):
        w.store.log_inputs(gone, [_input("x", "d", "training")])
    with pytest.raises(InvalidValue, match="digest"):
        w.store.log_inputs(live, [_input("ok", "d", "training"), _input("x", "d" * 37, "training")])
    with pytest.raises(NotFound):
        w.store.log_inputs("0" * 32, [_input("x", "d", "training")])
    assert theirs_inputs(w.client.get_run(live))["datasets"] == []
    w.client.restore_run(gone)
    assert theirs_inputs(w.client.get_run(gone))["datasets"] == []
