"""Sweep charts (`v` on the runs screen): which runs they draw (the filter's, or the marked
ones), the keys that pick axes and move the cursor, Enter opening a run, and snapshots of both
charts. Data: the deterministic demo store (tests/tui/conftest.py); the chart data itself is
checked against MlflowClient's values in test_sweep_data.py.
"""

from __future__ import annotations

import pytest
from pilot_helpers import open_experiment, settle, type_text

from tracktui.tui.screens.run import RunScreen
from tracktui.tui.screens.runs import RunsScreen
from tracktui.tui.screens.sweep import SweepScreen
from tracktui.tui.sweep.axes import raw_value
from tracktui.tui.sweep.parallel import parallel_data
from tracktui.tui.sweep.scatter import scatter_data
from tracktui.tui.widgets.key_picker import KeyPicker

pytestmark = pytest.mark.anyio
SIZES = [(80, 24), (120, 40)]


def all_runs(app, experiment: str, filter_string: str = ""):
    exp = app.store.get_experiment_by_name(experiment)
    return list(app.store.search_runs([exp.id], filter_string, max_results=1000).items)


async def open_sweep(pilot, experiment: str) -> SweepScreen:
    await open_experiment(pilot, experiment)
    await pilot.press("v")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, SweepScreen)
    return screen


async def pick(pilot, key: str, text: str) -> None:
    """Open a KeyPicker with `key`, narrow it with `text`, take the first match."""
    await pilot.press(key)
    await settle(pilot)
    assert isinstance(pilot.app.screen, KeyPicker)
    await type_text(pilot, text)
    await pilot.press("enter")
    await settle(pilot)


async def test_v_draws_every_run_matching_the_filter_children_included(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_sweep(pilot, "lr-sweep")
        expected = all_runs(app, "lr-sweep")
        assert {r.id for r in screen.sweep.runs} == {r.id for r in expected}  # the tree view shows 2 parents
        assert screen.metric == "metrics:val/accuracy" and screen.x_key == "params:lr"
        for run in screen.sweep.runs:  # only the chosen keys were read
            assert set(run.params) <= {"lr", "weight_decay", "trials"} and set(run.metrics) <= {"val/accuracy"}
        data = screen.scatter
        want = scatter_data(expected, "params:lr", "metrics:val/accuracy")
        assert [(p.run.id, p.x, p.y) for p in data.points] == [(p.run.id, p.x, p.y) for p in want.points]
        assert data.left_out == {"without params.lr": 2}  # the two parents
        assert "14 of 16 runs · 2 without params.lr" in str(screen.query_one("#sweep-scatter-left-out").render())


async def test_the_runs_screens_filter_narrows_the_sweep(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "lr-sweep")
        await pilot.press("slash")
        await type_text(pilot, "params.weight_decay = '0.0'")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        screen = app.screen
        expected = all_runs(app, "lr-sweep", "params.weight_decay = '0.0'")
        assert 0 < len(expected) < 16
        assert {r.id for r in screen.sweep.runs} == {r.id for r in expected}
        assert "filter params.weight_decay = '0.0'" in str(screen.query_one("#sweep-title").render())


async def test_a_filter_matching_more_than_the_cap_draws_the_newest_and_says_so(make_app, monkeypatch):
    monkeypatch.setattr("tracktui.tui.screens.sweep.SWEEP_CAP", 5)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_sweep(pilot, "lr-sweep")
        newest = app.store.search_runs([screen.experiment.id], max_results=5).items
        assert screen.sweep.capped and [r.id for r in screen.sweep.runs] == [r.id for r in newest]
        assert "the 5 newest runs (cap 5): narrow the filter for the rest" in str(
            screen.query_one("#sweep-title").render())


async def test_marked_runs_only_when_runs_are_marked(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "mnist-classifier")
        await pilot.press("m", "m", "m")
        marked = app.run_marks.ids
        await pilot.press("v")
        await settle(pilot)
        screen = app.screen
        assert [r.id for r in screen.sweep.runs] == marked
        assert "3 marked runs" in str(screen.query_one("#sweep-title").render())


async def test_pickers_change_the_axes_and_colour_and_l_toggles_log(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_sweep(pilot, "mnist-classifier")
        expected = all_runs(app, "mnist-classifier")
        await pick(pilot, "y", "train/loss")
        assert screen.metric == "metrics:train/loss"
        await pick(pilot, "x", "batch")
        assert screen.x_key == "params:batch_size"
        await pick(pilot, "c", "optim")
        assert screen.color_key == "params:optimizer"
        data = screen.scatter
        assert (data.x.label, data.y.label, data.color.label) == ("params.batch_size", "metrics.train/loss",
                                                                    "params.optimizer")
        for point in data.points:
            run = next(r for r in expected if r.id == point.run.id)
            assert point.x == float(run.params["batch_size"]) and point.y == run.metrics["train/loss"].value
            assert data.color.labels[point.group] == run.params["optimizer"]
        legend = str(screen.query_one("#sweep-legend").render())
        assert "adam" in legend and "sgd" in legend
        assert not data.y_scale.log
        await pilot.press("l")
        assert screen.scatter.y_scale.log and "y metrics.train/loss (log)" in str(
            screen.query_one("#sweep-options").render())
        await pilot.press("l")
        assert not screen.scatter.y_scale.log
        await pilot.press("c", "down", "home", "enter")  # the first entry: none
        await settle(pilot)
        assert screen.color_key is None and screen.scatter.color is None


async def test_arrows_move_the_cursor_and_enter_opens_its_run(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_sweep(pilot, "lr-sweep")
        chart = screen.scatter_chart
        assert chart.cursor == 0 and chart.has_focus
        first = chart.current
        await pilot.press("right")
        moved = chart.current
        assert moved.run.id != first.run.id and moved.nx >= first.nx
        panel = str(screen.query_one("#sweep-scatter-run").render())
        assert moved.run.display_name in panel
        assert raw_value(moved.run, "params:lr") in panel
        assert repr(moved.run.metrics["val/accuracy"].value) in panel  # whole, not rounded
        await pilot.press("left")
        assert chart.current.run.id == first.run.id
        await pilot.press("right", "enter")
        await settle(pilot)
        assert isinstance(app.screen, RunScreen) and app.screen.run_id == moved.run.id
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and chart.current.run.id == moved.run.id


async def test_parallel_best_runs_direction_and_enter(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_sweep(pilot, "lr-sweep")
        await pilot.press("2")
        await settle(pilot)
        assert screen.best_list.has_focus
        assert screen.axes == ["params:lr", "params:weight_decay"]  # `trials`: the parents' only
        runs = all_runs(app, "lr-sweep")
        want = parallel_data(runs, screen.axes, "metrics:val/accuracy")
        assert want.direction == "max"
        assert [line.run.id for line in screen.parallel.best] == [line.run.id for line in want.best]
        assert screen.best_list.option_count == 5
        await pilot.press("d")
        assert screen.parallel.direction == "min"
        lowest = sorted((r for r in runs if "lr" in r.params), key=lambda r: r.metrics["val/accuracy"].value)
        assert screen.parallel.best[0].run.id == lowest[0].id
        await pilot.press("plus", "plus")
        assert screen.best_list.option_count == 7
        await pilot.press("minus")
        assert screen.best_list.option_count == 6
        await pilot.press("down")
        second = screen.parallel.best[1].run
        assert screen.parallel_chart.selected == second.id
        assert second.display_name in str(screen.query_one("#sweep-parallel-run").render())
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RunScreen) and app.screen.run_id == second.id


async def test_axes_chooser_sets_the_parallel_axes(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_sweep(pilot, "mnist-classifier")
        await pilot.press("2")
        await settle(pilot)
        assert screen.axes == ["params:lr", "params:batch_size", "params:epochs", "params:model"]
        await pilot.press("a")
        await settle(pilot)
        await type_text(pilot, "optim")
        await pilot.press("down", "space", "ctrl+s")
        await settle(pilot)
        assert screen.axes[-1] == "params:optimizer"
        assert [axis.key for axis in screen.parallel.axes] == [*screen.axes, "metrics:val/accuracy"]
        assert screen.parallel.axes[-2].categories == ("adam", "adamw", "sgd")


async def test_chart_keys_only_on_their_own_tab(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_sweep(pilot, "lr-sweep")
        assert screen.check_action("pick_x", ()) and not screen.check_action("flip_direction", ())
        await pilot.press("d")  # a parallel key on the scatter tab: nothing
        assert screen.parallel.direction == "max"
        await pilot.press("2")
        await settle(pilot)
        assert not screen.check_action("pick_x", ()) and screen.check_action("flip_direction", ())


def test_runs_screen_binds_v_to_sweep_charts():
    assert any(b.key == "v" and b.action == "sweep_charts" for b in RunsScreen.BINDINGS)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_sweep_scatter(snap_compare, make_app, size):
    app = make_app()

    async def run_before(pilot):
        await open_sweep(pilot, "mnist-classifier")
        await pick(pilot, "c", "optim")
        await pilot.press("L", "right", "up")  # lr spans two decades: log x on request

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_sweep_parallel(snap_compare, make_app, size):
    app = make_app()

    async def run_before(pilot):
        await open_sweep(pilot, "lr-sweep")
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("down")

    assert snap_compare(app, terminal_size=size, run_before=run_before)


async def test_parallel_chart_draws_a_bounded_sample_of_the_other_runs():
    from textual.app import App, ComposeResult

    from tracktui.store.model import MetricPoint, Run
    from tracktui.tui.widgets.parallel_chart import MAX_DIM_LINES, ParallelChart

    runs = [Run(f"{i:032x}", f"trial-{i}", "1", "FINISHED", None, i, i + 1, "active", None,
                params={"lr": str(10 ** (-4 + 4 * i / 2500)), "opt": ("adam", "sgd", "lamb")[i % 3]},
                metrics={"loss": MetricPoint(1.0 + (i * 7919) % 2500 / 2500, 0, 0)}) for i in range(2500)]
    data = parallel_data(runs, ["params:lr", "params:opt"], "metrics:loss", best=3)

    class Host(App):
        def compose(self) -> ComposeResult:
            yield ParallelChart()

    async with Host().run_test(size=(60, 20)) as pilot:
        chart = pilot.app.query_one(ParallelChart)
        chart.show(data, data.best[0].run.id)
        await pilot.pause()
        assert 0 < chart.dim_drawn <= MAX_DIM_LINES < len(data.lines) - 3
        lines = chart.render().plain.splitlines()
        assert "lr (log)" in lines[0] and "opt" in lines[0] and "loss" in lines[0]
        assert "sgd" in lines[1] and "adam" in lines[-1]  # categories: last on top, first below
        assert "lamb" in "".join(lines[2:-1])  # the middle one beside its axis
        top_loss = max(line.metric for line in data.lines)
        assert repr(top_loss) in lines[1]  # 1.9996: rounded to fit, never cut
        assert any("\u2800" < ch <= "\u28ff" for ch in "".join(lines[2:-1]))
