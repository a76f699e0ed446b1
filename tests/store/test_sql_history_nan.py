"""SQLite computes downsampled histories in the database: buckets holding NaN (stored as 0),
only NaN, ±inf or repeated extremes must still give exactly store.downsample's points."""

from __future__ import annotations

import math

import pytest

from tracktui.store import open_store
from tracktui.store.downsample import downsample_minmax
from tracktui.store.sql import history as sql_history

KEY = "reward"


def _value(step: int) -> float:
    region, i = divmod(step, 100)
    if region == 0:  # positive values: a NaN stored as 0 would be the minimum
        return math.nan if i % 7 == 3 else 1.0 + (i % 13) / 10
    if region == 1:  # negative values: a NaN stored as 0 would be the maximum
        return math.nan if i % 5 == 1 else -1.0 - (i % 11) / 10
    if region == 2:  # only NaN
        return math.nan
    if region == 3:  # NaN before real zeros, equal extremes repeated
        return [math.nan, 0.0, 2.0, 0.0, 2.0, math.nan][i % 6]
    if region == 4:  # infinities beside NaN
        return [math.inf, math.nan, -math.inf, 1.5][i % 4]
    return math.sin(step / 17.0) if step % 50 else 3.0  # repeated maxima


def _points(history) -> list[tuple]:
    return [("nan" if math.isnan(p.value) else p.value, p.step, p.timestamp) for p in history]


@pytest.fixture
def nan_history(sqlite_copy):
    import mlflow
    from mlflow.entities import Metric

    client = mlflow.MlflowClient(sqlite_copy.uri)
    run = client.create_run(sqlite_copy.experiments["alpha"] if hasattr(sqlite_copy, "experiments") else "0")
    metrics = [Metric(KEY, _value(s), 1_700_000_000_000 + s, s) for s in range(1200)]
    for i in range(0, len(metrics), 1000):
        client.log_batch(run.info.run_id, metrics=metrics[i:i + 1000])
    return sqlite_copy.uri, run.info.run_id


@pytest.mark.parametrize("max_points", [12, 50, 120, 300, 601])
@pytest.mark.parametrize("parallel", [False, True], ids=["one-reader", "parallel-readers"])
def test_buckets_with_nan_inf_and_ties_are_the_reference(nan_history, max_points, parallel, monkeypatch):
    if parallel:
        monkeypatch.setattr(sql_history, "_PARALLEL_MIN_POINTS", 0)
    uri, run_id = nan_history
    store = open_store(uri)
    full = store.get_metric_history(run_id, KEY)
    assert len(full) == 1200 and sum(math.isnan(p.value) for p in full) > 100
    sampled = store.get_metric_history(run_id, KEY, max_points=max_points)
    assert _points(sampled) == _points(downsample_minmax(full, max_points))
