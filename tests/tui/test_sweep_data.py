"""Sweep charts' data (tui/sweep) checked against the values MLflow itself reads back.

The runs are the contract suite's fixture (tests/fixtures/data.py, written with MlflowClient):
experiment `alpha` is a small, awkward sweep — `lr` from 0.001 to 10 (four decades), NaN and
±inf losses, runs without `lr` or without `loss`, a categorical `optimizer` where `adam` and
`Adam` differ. They are loaded the way the sweep screen loads them (tui/sweep/loading.py, with
only the chosen keys) on every backend, and every number drawn is compared with MlflowClient's.
"""

from __future__ import annotations

import math

import pytest

from fixtures.backends import BACKENDS, require_backend_module
from fixtures.data import ALPHA
from tracktui.store.model import Keys
from tracktui.tui.plotting import is_plottable
from tracktui.tui.sweep.axes import Scale, build_axis, whole_value
from tracktui.tui.sweep.colors import color_groups
from tracktui.tui.sweep.loading import covers, keys_of, load_filtered
from tracktui.tui.sweep.parallel import guess_direction, parallel_data
from tracktui.tui.sweep.scatter import scatter_data, step_cursor

SWEEP_KEYS = ["metrics:loss", "metrics:val/loss", "params:lr", "params:optimizer", "metrics:accuracy"]


@pytest.fixture(params=BACKENDS)
def kind(request) -> str:
    return request.param


@pytest.fixture
def alpha(kind, request):
    """(tracktui runs of alpha loaded with only SWEEP_KEYS, MlflowClient's runs of alpha by id)."""
    import mlflow

    require_backend_module(kind)
    info = request.getfixturevalue(f"{kind}_backend")
    store = request.getfixturevalue(f"{kind}_store")
    if kind == "file":
        request.getfixturevalue("monkeypatch").setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    client = mlflow.MlflowClient(info.uri)
    eid = info.experiments[ALPHA]
    loaded = load_filtered(store, eid, "", "active", keys_of(SWEEP_KEYS))
    theirs = {r.info.run_id: r for r in client.search_runs([eid], max_results=1000)}
    return loaded, theirs


def mlflow_number(run, key: str) -> float | None:
    kind, _, name = key.partition(":")
    if kind == "metrics":
        return run.data.metrics.get(name)
    text = run.data.params.get(name)
    return None if text is None else float(text)


def test_loading_reads_every_matching_run_with_only_the_chosen_keys(alpha):
    loaded, theirs = alpha
    assert not loaded.capped
    assert {r.id for r in loaded.runs} == set(theirs)  # children and the RUNNING run included
    for run in loaded.runs:
        assert set(run.params) <= {"lr", "optimizer"} and set(run.metrics) <= {"loss", "val/loss", "accuracy"}
        assert dict(run.params) == {k: v for k, v in theirs[run.id].data.params.items() if k in ("lr", "optimizer")}


def test_scatter_points_are_mlflows_values_and_the_left_out_runs_are_counted(alpha):
    loaded, theirs = alpha
    data = scatter_data(loaded.runs, "params:lr", "metrics:val/loss")
    drawable = {rid for rid, r in theirs.items()
                if "lr" in r.data.params and is_plottable(r.data.metrics.get("val/loss", math.nan))}
    assert {p.run.id for p in data.points} == drawable
    # lr spans 0.001 … 10: a log x axis; val/loss spans less than three decades: linear y.
    assert (data.x_scale.log, data.y_scale.log) == (True, False)
    for point in data.points:
        mlflow_run = theirs[point.run.id]
        assert point.x == pytest.approx(math.log10(mlflow_number(mlflow_run, "params:lr")), abs=1e-12)
        assert point.y == mlflow_run.data.metrics["val/loss"]
    # Each run left out is counted once, under its first reason: x, then y.
    without_lr = sum("lr" not in r.data.params for r in theirs.values())
    with_lr = [r.data.metrics for r in theirs.values() if "lr" in r.data.params]
    without_loss = sum("val/loss" not in metrics for metrics in with_lr)
    nonfinite = sum("val/loss" in metrics and not is_plottable(metrics["val/loss"]) for metrics in with_lr)
    assert data.left_out == {"without params.lr": without_lr, "without metrics.val/loss": without_loss,
                             "NaN/inf metrics.val/loss": nonfinite}
    assert without_lr and without_loss and nonfinite  # the fixture has each case
    assert len(data.points) + sum(data.left_out.values()) == len(theirs)
    assert data.summary().startswith(f"{len(drawable)} of {len(theirs)} runs")


def test_log_axis_toggled_off_shows_the_numbers_themselves(alpha):
    loaded, theirs = alpha
    data = scatter_data(loaded.runs, "params:lr", "metrics:loss", log_x=False)
    assert not data.x_scale.log
    assert sorted(p.x for p in data.points) == sorted(
        float(theirs[p.run.id].data.params["lr"]) for p in data.points)


def test_a_categorical_param_is_evenly_spaced_and_colours_group_by_it(alpha):
    loaded, theirs = alpha
    optimizer = build_axis(loaded.runs, "params:optimizer")
    values = {r.data.params["optimizer"] for r in theirs.values() if "optimizer" in r.data.params}
    assert optimizer.categories == tuple(sorted(values, key=str.lower)) and "Adam" in values and "adam" in values
    assert not optimizer.spans_decades
    for rid, position in optimizer.values.items():
        assert optimizer.categories[int(position)] == theirs[rid].data.params["optimizer"]
    groups = color_groups(loaded.runs, "params:optimizer")
    assert groups.labels == ("(none)", *optimizer.categories)
    for rid, group in groups.group_of.items():
        assert groups.labels[group] == theirs[rid].data.params.get("optimizer", "(none)")


def test_a_numeric_colour_key_with_many_values_is_binned_evenly(alpha):
    loaded, theirs = alpha
    groups = color_groups(loaded.runs, "metrics:accuracy")
    values = sorted({r.data.metrics["accuracy"] for r in theirs.values() if "accuracy" in r.data.metrics})
    assert len(values) > 5  # binned
    assert len(groups.labels) == 1 + 5
    lo, hi = values[0], values[-1]
    for rid, group in groups.group_of.items():
        accuracy = theirs[rid].data.metrics.get("accuracy")
        if accuracy is None:
            assert group == 0
        else:
            assert group == 1 + min(4, math.floor((accuracy - lo) / (hi - lo) * 5))


def test_parallel_lines_best_runs_and_direction(alpha):
    loaded, theirs = alpha
    data = parallel_data(loaded.runs, ["params:lr", "params:optimizer"], "metrics:loss", best=3)
    assert data.direction == "min"  # guessed from "loss"
    complete = {rid: r for rid, r in theirs.items() if "lr" in r.data.params and "optimizer" in r.data.params
                and is_plottable(r.data.metrics.get("loss", math.nan))}
    assert {line.run.id for line in data.lines} == set(complete)
    ranked = sorted(complete.values(), key=lambda r: (r.data.metrics["loss"], r.info.run_name, r.info.run_id))
    assert [line.run.id for line in data.best] == [r.info.run_id for r in ranked[:3]]
    assert [line.metric for line in data.lines] == [r.data.metrics["loss"] for r in ranked]
    lr_scale = data.scales[0]
    assert lr_scale.log  # 0.001 … 1.0 among the complete runs: three decades
    for line in data.lines:
        assert all(0.0 <= y <= 1.0 for y in line.ys)
        assert line.ys[0] == pytest.approx(lr_scale.position(float(theirs[line.run.id].data.params["lr"])))
    flipped = parallel_data(loaded.runs, ["params:lr", "params:optimizer"], "metrics:loss", best=3, direction="max")
    assert [line.run.id for line in flipped.best] == [r.info.run_id for r in sorted(
        complete.values(), key=lambda r: (-r.data.metrics["loss"], r.info.run_name, r.info.run_id))[:3]]


@pytest.mark.parametrize("kind", ["sqlite"])
def test_the_cap_stops_paging_and_says_so(kind, sqlite_backend, sqlite_store):
    eid = sqlite_backend.experiments[ALPHA]
    capped = load_filtered(sqlite_store, eid, "", "active", Keys(), cap=3)
    assert len(capped.runs) == 3 and capped.capped
    newest = sqlite_store.search_runs([eid], max_results=3).items
    assert [r.id for r in capped.runs] == [r.id for r in newest]


@pytest.mark.parametrize(("name", "direction"), [
    ("loss", "min"), ("val/loss", "min"), ("train_loss_epoch", "min"), ("error_rate", "min"), ("rmse", "min"),
    ("eval/wer", "min"), ("accuracy", "max"), ("val/f1", "max"), ("bleu", "max"), ("answer", "max"),
    ("mean_reward", "max"),
])
def test_direction_guessed_from_the_metric_name(name, direction):
    assert guess_direction(f"metrics:{name}") == direction


def test_keys_of_and_covers():
    keys = keys_of(["metrics:a", "params:b", "tags:c", "params:b"])
    assert keys == Keys(metrics=("a",), params=("b",), tags=("c",))
    assert covers(keys, keys_of(["params:b"])) and not covers(keys, keys_of(["params:z"]))


def test_log_scale_positions_and_whole_values():
    scale = Scale(-3.0, 1.0, log=True)
    assert scale.position(0.001) == 0.0 and scale.position(10.0) == 1.0 and scale.position(0.0) is None
    assert scale.value_at(0.5) == pytest.approx(0.1)
    assert whole_value(6.1685e-09) == "6.1685e-09" and whole_value(0.1 + 0.2) == "0.30000000000000004"
    assert whole_value(math.nan) == "NaN" and whole_value("1e-4") == "1e-4" and whole_value(None) == "—"


def test_cursor_moves_to_the_nearest_point_in_the_arrows_direction(alpha):
    loaded, _ = alpha
    data = scatter_data(loaded.runs, "params:lr", "metrics:loss")
    points = data.points
    start = 0  # the leftmost point (smallest lr)
    right = step_cursor(points, start, "right")
    assert points[right].nx >= points[start].nx and right != start
    assert step_cursor(points, start, "left") == start  # nothing further left
    top = max(range(len(points)), key=lambda i: (points[i].ny, i))
    assert step_cursor(points, top, "up") == top


def test_more_categories_than_colours_share_the_last_colour():
    from tracktui.store.model import Run

    runs = [Run(f"{i:032x}", f"r{i}", "1", "FINISHED", None, i, None, "active", None,
                params={"model": f"m{i % 9}"} if i < 18 else {}) for i in range(20)]
    groups = color_groups(runs, "params:model")
    assert groups.labels == ("(none)", "m0", "m1", "m2", "m3", "m4", "m5", "3 more values")
    assert groups.counts() == [2, 2, 2, 2, 2, 2, 2, 6]
    assert max(groups.group_of.values()) == 7  # seven colours and the grey of "(none)"
