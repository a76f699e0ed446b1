"""The run's charts grid (`G` on the run screen): a page of small charts that fits the
terminal, histories read for the page on screen only, Enter opening the full plot."""

from __future__ import annotations

import time

import pytest
from action_helpers import app_on_copy, mlflow_client, writable_copy
from pilot_helpers import screen_lines, settle

from tracktui.tui.screens.charts import RunChartsScreen
from tracktui.tui.screens.plot import PlotScreen
from tracktui.tui.screens.run import RunScreen
from tracktui.tui.widgets.charts_grid import ChartsGrid, grid_shape, tile_title
from tracktui.tui.widgets.run_format import format_metric_value

pytestmark = pytest.mark.anyio


def finished_run_with_most_metrics(store):
    """A FINISHED run of the demo store with system metrics (more charts than one page)."""
    best = None
    for exp in store.search_experiments().items:
        for run in store.search_runs([exp.id], "attributes.status = 'FINISHED'").items:
            if best is None or len(run.metrics) > len(best.metrics):
                best = run
    return best


async def wait_for_charts(pilot) -> ChartsGrid:
    grid = pilot.app.screen.query_one(ChartsGrid)
    deadline = time.monotonic() + 15
    while not (grid.tiles and all(t.points is not None for t in grid.tiles)):
        assert time.monotonic() < deadline, "the charts never loaded"
        await pilot.pause(0.1)
    await settle(pilot)
    return grid


async def open_charts(pilot, run_id: str) -> ChartsGrid:
    await settle(pilot)
    await pilot.app.push_screen(RunScreen(run_id))
    await settle(pilot)
    await pilot.press("G")
    return await wait_for_charts(pilot)


def test_the_grid_grows_with_the_terminal():
    assert grid_shape(80, 19) == (2, 2)
    assert grid_shape(120, 35) == (3, 3)
    assert grid_shape(200, 60) == (5, 6)


def test_a_title_keeps_the_value_whole():
    from tracktui.store.model import MetricPoint

    title = tile_title("a/very/long/metric/name/that/does/not/fit", MetricPoint(0.123456789, 1, 0), 24)
    assert title.endswith("  0.123457") and len(title) <= 24 and "…" in title


@pytest.fixture
def many_metrics_app(demo_store_uri, tmp_path):
    """An app on a copy of the demo store whose busiest finished run got 14 more metrics
    (logged by the real MlflowClient)."""
    from mlflow.entities import Metric

    uri = writable_copy(demo_store_uri, tmp_path)
    app = app_on_copy(uri, tmp_path)
    run = finished_run_with_most_metrics(app.store)
    metrics = [Metric(f"extra/m{i:02d}", (i + 1) * step ** 0.5, 1714617000000 + step, step)
               for i in range(14) for step in range(30)]
    mlflow_client(uri).log_batch(run.id, metrics=metrics)
    yield app, run.id
    app.store.close()


@pytest.mark.parametrize("size, per_page", [((80, 24), 4), ((120, 40), 12)], ids=["80x24", "120x40"])
async def test_the_charts_of_the_page_on_screen_are_read(many_metrics_app, size, per_page):
    app, run_id = many_metrics_app
    run = app.store.get_run(run_id)
    assert len(run.metrics) > per_page
    asked: list[str] = []
    real = app.store.get_metric_history

    def counted(run_id, key, max_points=None):
        asked.append(key)
        return real(run_id, key, max_points=max_points)

    app.store.get_metric_history = counted
    async with app.run_test(size=size) as pilot:
        grid = await open_charts(pilot, run.id)
        assert isinstance(app.screen, RunChartsScreen)
        assert len(grid.tiles) == per_page
        assert set(asked) == set(grid.page_keys)  # only the charts in view were read
        first = grid.tiles[0]
        assert first.points == real(run.id, first.key, max_points=len(first.points) if len(first.points) > 64 else 64)
        assert any(format_metric_value(run.metrics[first.key].value) in line for line in screen_lines(app))
        page_one = list(grid.page_keys)
        await pilot.press("pagedown")
        grid = await wait_for_charts(pilot)
        assert grid.page == 1 and not set(grid.page_keys) & set(page_one)
        assert set(asked) == set(page_one) | set(grid.page_keys)
        before = len(asked)
        await pilot.press("pageup")
        await wait_for_charts(pilot)
        assert len(asked) == before  # paging back costs no store call


async def test_enter_opens_the_plot_of_the_chart_under_the_cursor(make_app):
    app = make_app()
    run = finished_run_with_most_metrics(app.store)
    async with app.run_test(size=(80, 24)) as pilot:
        grid = await open_charts(pilot, run.id)
        await pilot.press("right", "down")
        key = grid.page_keys[3]
        assert grid.cursor_key == key
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PlotScreen) and app.screen.keys == (key,)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, RunChartsScreen) and grid.cursor_key == key


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_snapshot_charts_grid(snap_compare, make_app, size):
    app = make_app()
    run = finished_run_with_most_metrics(app.store)

    async def run_before(pilot):
        await open_charts(pilot, run.id)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


async def test_a_running_runs_charts_follow_new_points(demo_store_uri, tmp_path, monkeypatch):
    from tracktui.tui import live

    monkeypatch.setattr(live, "LIVE_REFRESH_S", 0.2)
    uri = writable_copy(demo_store_uri, tmp_path)
    client = mlflow_client(uri)
    app = app_on_copy(uri, tmp_path)
    exp = client.get_experiment_by_name("mnist-classifier")
    running = client.search_runs([exp.experiment_id], "attributes.status = 'RUNNING'")[0]
    async with app.run_test(size=(80, 24)) as pilot:
        # no settle(): the live refresh keeps workers coming (and superseding each other)
        await app.push_screen(RunChartsScreen(running.info.run_id))
        grid = app.screen.query_one(ChartsGrid)
        deadline = time.monotonic() + 15
        while not (grid.tiles and grid.tiles[0].points):
            assert time.monotonic() < deadline, "the charts never loaded"
            await pilot.pause(0.1)
        key = grid.page_keys[0]
        tile = grid.tiles[0]
        step = max(p.step for p in tile.points) + 1
        client.log_metric(running.info.run_id, key, 42.5, step=step)
        deadline = time.monotonic() + 15
        while not (tile.points and tile.points[-1].step == step):
            assert time.monotonic() < deadline, "the chart never got the new point"
            await pilot.pause(0.1)
        assert grid.tiles[0] is tile  # updated in place
        assert "42.5" in str(tile.query_one("Label").render())
