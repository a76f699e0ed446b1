"""Live data stays live: while a run on screen is RUNNING, the runs list, the run screen and the
compare screen read it again by themselves, in place. Each test opens the app on its own copy
of the demo store, then writes to that SQLite file with the real MlflowClient (a new metric
step, the run finished) while the app is open, and waits for the screen to show it."""

from __future__ import annotations

import time

import pytest
from action_helpers import app_on_copy, mlflow_client, writable_copy
from pilot_helpers import open_experiment, settle

from tracktui.tui import live
from tracktui.tui.screens.compare import CompareScreen
from tracktui.tui.screens.run import RunScreen
from tracktui.tui.widgets.metric_plot import MetricPlot
from tracktui.tui.widgets.run_format import format_metric_value

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def fast_live_refresh(monkeypatch):
    monkeypatch.setattr(live, "LIVE_REFRESH_S", 0.2)


@pytest.fixture
def store_copy(demo_store_uri, tmp_path) -> str:
    return writable_copy(demo_store_uri, tmp_path)


async def wait_until(pilot, condition, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "the screen did not refresh by itself"
        await pilot.pause(0.1)


def title(screen, selector: str) -> str:
    return str(screen.query_one(selector).render())


def running_run(client, experiment: str):
    exp = client.get_experiment_by_name(experiment)
    return client.search_runs([exp.experiment_id], "attributes.status = 'RUNNING'")[0]


async def test_runs_list_follows_a_running_run_keeping_cursor_and_marks(store_copy, tmp_path):
    client = mlflow_client(store_copy)
    app = app_on_copy(store_copy, tmp_path)
    async with app.run_test(size=(160, 40)) as pilot:
        await open_experiment(pilot, "mnist")
        await pilot.press("T")  # flat: the running run is a row whatever its parent
        await settle(pilot)
        screen, table = app.screen, app.screen.table
        running = next(r.run for r in table.rows if r.run.status == "RUNNING")
        metric = next(c for c in table.columns if c.kind == "metrics")
        assert live.LIVE_LABEL in title(screen, "#runs-title")
        await pilot.press("m", "j", "j")  # a mark and a cursor away from the top
        marked, cursor = app.run_marks.ids, table.cursor_row
        client.log_metric(running.id, metric.key, 123.25, step=10_000)
        others = [r.run.id for r in table.rows if r.run.status == "RUNNING" and r.run.id != running.id]
        for run_id in [running.id, *others]:
            client.set_terminated(run_id)
        await wait_until(pilot, lambda: all(r.run.status != "RUNNING" for r in table.rows))
        row = next(r for r in table.rows if r.run.id == running.id)
        assert row.run.status == "FINISHED"
        assert row.run.metrics[metric.key].step == 10_000
        assert metric.text(row.run) == metric.text(app.store.get_run(running.id))
        assert table.cursor_row == cursor and app.run_marks.ids == marked
        assert live.LIVE_LABEL not in title(screen, "#runs-title")  # stops when nothing runs
        assert not screen._live.on


async def test_run_screen_follows_metrics_and_status(store_copy, tmp_path):
    client = mlflow_client(store_copy)
    run = running_run(client, "mnist-classifier")
    key = sorted(k for k in run.data.metrics if not k.startswith("system/"))[0]
    app = app_on_copy(store_copy, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await app.push_screen(RunScreen(run.info.run_id))
        await settle(pilot)
        screen = app.screen
        assert live.LIVE_LABEL in title(screen, "#run-title")
        await pilot.press("3")  # Metrics
        await settle(pilot)
        table = screen.query_one("#run-metrics")
        table.move_cursor(row=table.metric_keys.index(key))
        step = max(p.step for p in client.get_metric_history(run.info.run_id, key)) + 437
        client.log_metric(run.info.run_id, key, 0.5, step=step)

        def step_shown() -> bool:
            history = table._histories.get(key) or []
            return str(table.get_cell(key, "step")) == str(step) and bool(history) and history[-1].step == step

        await wait_until(pilot, step_shown)  # the latest value and its sparkline
        assert table.highlighted_key == key
        client.set_terminated(run.info.run_id)
        await wait_until(pilot, lambda: "FINISHED" in str(screen.query_one("#field-status").render()))
        assert live.LIVE_LABEL not in title(screen, "#run-title")
        assert not screen._live.on
        assert table.highlighted_key == key


async def test_compare_follows_a_running_run(store_copy, tmp_path):
    client = mlflow_client(store_copy)
    running = running_run(client, "mnist-classifier")
    exp_id = running.info.experiment_id
    other = client.search_runs([exp_id], "attributes.status = 'FINISHED'", max_results=1)[0]
    key = sorted(set(running.data.metrics) & set(other.data.metrics))[0]
    app = app_on_copy(store_copy, tmp_path)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await app.push_screen(CompareScreen([running.info.run_id, other.info.run_id], [exp_id]))
        await settle(pilot)
        screen = app.screen
        assert live.LIVE_LABEL in title(screen, "#compare-title")
        screen.query_one("#compare-metric-picker").deselect_all()
        screen.query_one("#compare-metric-picker").select(key)
        await settle(pilot)
        step = 50_000
        client.log_metric(running.info.run_id, key, 9.75, step=step)
        client.set_terminated(running.info.run_id)

        def charted() -> bool:
            plots = list(screen.query(MetricPlot))
            return any(series.x and series.x[-1] == step for plot in plots for series in plot.series)

        await wait_until(pilot, charted)
        await wait_until(pilot, lambda: live.LIVE_LABEL not in title(screen, "#compare-title"))
        diff = dict(screen._rows)
        assert diff[f"metrics.{key}"][0] == format_metric_value(9.75)


async def test_a_run_that_vanishes_stops_the_live_view_with_one_notification(store_copy, tmp_path):
    import sqlite3

    client = mlflow_client(store_copy)
    run_id = running_run(client, "mnist-classifier").info.run_id
    app = app_on_copy(store_copy, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await app.push_screen(RunScreen(run_id))
        await settle(pilot)
        screen = app.screen
        assert screen._live.on
        with sqlite3.connect(store_copy.removeprefix("sqlite:///")) as db:  # purged behind our back
            db.execute("DELETE FROM runs WHERE run_uuid = ?", (run_id,))
        await wait_until(pilot, lambda: not screen._live.on)
        await pilot.pause(1.0)  # several ticks' worth: no more reads, no more notifications
        errors = [n for n in app._notifications if n.severity == "error"]
        assert len(errors) == 1
        assert live.LIVE_LABEL not in title(screen, "#run-title")
