"""PlotScreen: opened from the Metrics tab, view keys, live refresh, snapshots on the demo store."""

from __future__ import annotations

import pytest
from pilot_helpers import settle

from tracktui.tui.screens.plot import PlotScreen
from tracktui.tui.screens.run import RunScreen

#: Ask for histories as the plots get them: by step (a whole history comes in MLflow's order).
BY_STEP = 1_000_000

pytestmark = pytest.mark.anyio


def demo_run(app, experiment: str, status: str | None = None) -> str:
    exp = app.store.get_experiment_by_name(experiment)
    flt = f"attributes.status = '{status}'" if status else ""
    return app.store.search_runs([exp.id], flt, ["attributes.start_time ASC"], max_results=1).items[0].id


async def open_plot(pilot, run_id: str, keys) -> PlotScreen:
    screen = PlotScreen(run_id, keys)
    await pilot.app.push_screen(screen)
    await settle(pilot)
    return screen


async def test_metrics_tab_g_plots_highlighted_and_space_marks_several(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        run_id = demo_run(app, "mnist-classifier", "FINISHED")
        await pilot.app.push_screen(RunScreen(run_id))
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        assert isinstance(app.screen, PlotScreen)
        assert app.screen.keys == ("train/loss",)
        expected = app.store.get_metric_history(run_id, "train/loss", max_points=BY_STEP)
        assert app.screen.plot.series[0].y == tuple(p.value for p in expected)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("space", "space", "enter")  # mark train/loss and val/accuracy
        await settle(pilot)
        assert isinstance(app.screen, PlotScreen)
        assert app.screen.keys == ("train/loss", "val/accuracy")
        assert len(app.screen.plot.series) == 2


async def test_x_axis_cycles_step_wall_relative(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        run_id = demo_run(app, "mnist-classifier", "FINISHED")
        screen = await open_plot(pilot, run_id, ["val/loss"])
        history = app.store.get_metric_history(run_id, "val/loss", max_points=BY_STEP)
        run = app.store.get_run(run_id)
        assert screen.plot.series[0].x == tuple(float(p.step) for p in history)
        await pilot.press("x")
        assert screen.plot.x_axis == "wall"
        assert screen.plot.series[0].x == tuple(sorted(p.timestamp / 1000 for p in history))
        await pilot.press("x")
        assert screen.plot.x_axis == "relative"
        assert screen.plot.series[0].x[0] == (min(p.timestamp for p in history) - run.start_time) / 1000
        await pilot.press("x")
        assert screen.plot.x_axis == "step"
        assert "x: step" in str(screen.query_one("#plot-options").render())


async def test_log_smoothing_and_raw_keys(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_plot(pilot, demo_run(app, "mnist-classifier", "FINISHED"), ["train/loss"])
        plot = screen.plot
        await pilot.press("l", "plus", "plus")
        assert plot.log_y and plot.smoothing == 0.6
        await pilot.press("minus", "w")
        assert plot.smoothing == 0.3 and not plot.show_raw
        assert "y: log" in str(screen.query_one("#plot-options").render())


async def test_running_run_refreshes_on_an_interval(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        run_id = demo_run(app, "mnist-classifier", "RUNNING")
        screen = PlotScreen(run_id, ["train/loss"], refresh_s=0.2)
        loads = []
        original = screen._loaded
        screen._loaded = lambda result: (loads.append(result), original(result))
        await app.push_screen(screen)
        for _ in range(300):  # no timing asserted: wait until a second load arrived
            await pilot.pause(0.05)
            if len(loads) >= 2:
                break
        assert len(loads) >= 2, "a running run's plot reloads on its interval"
        assert screen._timer is not None
        assert "live" in str(screen.query_one("#plot-title").render())
        assert screen.plot.series[0].y  # the chart was redrawn in place, not emptied


async def test_finished_run_does_not_poll(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_plot(pilot, demo_run(app, "mnist-classifier", "FINISHED"), ["train/loss"])
        assert screen._timer is None


def test_snapshot_single_metric_plot(snap_compare, make_app):
    app = make_app()

    async def run_before(pilot):
        await open_plot(pilot, demo_run(app, "mnist-classifier", "FINISHED"), ["val/loss"])

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_snapshot_smoothed_log_scale_plot(snap_compare, make_app):
    app = make_app()

    async def run_before(pilot):
        await open_plot(pilot, demo_run(app, "text-sentiment-bert"), ["train/loss"])
        await pilot.press("l", "plus", "plus", "plus")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)
