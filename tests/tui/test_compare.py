"""Marking runs (surviving experiment switches), opening Compare, its diff table and charts."""

from __future__ import annotations

import pytest
from pilot_helpers import open_experiment, settle

from tracktui.tui.screens.compare import (
    CHART_RUNS,
    PICKER_CHROME,
    PICKERS_WIDTH,
    CompareScreen,
    diff_rows,
    pickers_width,
)
from tracktui.tui.screens.runs import RunsScreen
from tracktui.tui.widgets.metric_plot import MetricPlot

#: Ask for histories as the plots get them: by step (a whole history comes in MLflow's order).
BY_STEP = 1_000_000

pytestmark = pytest.mark.anyio


def runs_of(app, experiment: str, limit: int = 3):
    exp = app.store.get_experiment_by_name(experiment)
    return app.store.search_runs([exp.id], "", ["attributes.start_time ASC"], max_results=limit).items


async def open_compare(pilot, experiment: str, limit: int = 3):
    """Compare the experiment's first `limit` runs; returns those runs once the screen settled."""
    runs = runs_of(pilot.app, experiment, limit)
    await pilot.app.push_screen(CompareScreen([r.id for r in runs]))
    await settle(pilot)
    return runs


async def test_marking_runs_and_mark_all_and_clear(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "mnist")
        table = app.screen.table
        first, second = table.rows[0].run, table.rows[1].run
        await pilot.press("m", "m")
        assert app.run_marks.ids == [first.id, second.id]
        assert table.cursor_row == 2
        await pilot.press("up", "m")  # unmark the second
        assert app.run_marks.ids == [first.id]
        assert "1 marked" in str(app.screen.query_one("#runs-title").render())
        await pilot.press("M")
        assert len(app.run_marks) == len(table.rows)
        await pilot.press("U")
        assert len(app.run_marks) == 0


async def test_marks_survive_switching_experiment_and_compare_opens_with_them(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "mnist")
        mnist_run = app.screen.table.rows[0].run
        await pilot.press("m")
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("ctrl+u")  # clear the experiments filter typed before
        await open_experiment(pilot, "bert")
        bert_run = app.screen.table.rows[0].run
        await pilot.press("m")
        assert app.run_marks.ids == [mnist_run.id, bert_run.id]
        await pilot.press("C")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        assert [r.id for r in screen.runs] == [mnist_run.id, bert_run.id]
        assert "from 2 experiments" in str(screen.query_one("#compare-title").render())


async def test_compare_without_marks_warns(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "mnist")
        await pilot.press("C")
        await settle(pilot)
        assert isinstance(app.screen, RunsScreen)


async def test_diff_table_highlights_and_hides_identical_rows(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        runs = await open_compare(pilot, "lr-sweep", 3)
        screen = app.screen
        loaded = [app.store.get_run(r.id) for r in runs]
        rows = diff_rows(loaded)
        differing = {k for k, values in rows if len(set(values)) > 1}
        assert screen.differing_rows == differing
        assert differing and len(differing) < len(rows)  # some params agree across the sweep
        table = screen.diff_table
        assert table.row_count == len(rows)
        await pilot.press("2", "i")
        assert table.row_count == len(differing)
        shown = {str(table.get_row_at(i)[0]) for i in range(table.row_count)}
        assert shown == differing
        await pilot.press("i")
        assert table.row_count == len(rows)


async def test_compare_charts_one_per_metric_one_line_per_run(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        runs = await open_compare(pilot, "mnist-classifier", 3)
        screen = app.screen
        plots = list(screen.query(MetricPlot))
        assert [p.title for p in plots] == screen.chosen_metrics and len(plots) == 2
        for plot in plots:
            assert [line.label for line in plot.lines] == [r.name for r in runs]
            for line, run in zip(plot.lines, runs):
                want = app.store.get_metric_history(run.id, plot.title, max_points=BY_STEP)
                assert [p.value for p in line.points] == [p.value for p in want]
        await pilot.press("x")
        assert all(p.x_axis == "wall" for p in screen.query(MetricPlot))


async def test_charts_overlay_at_most_twenty_runs_the_table_has_all(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        runs = runs_of(app, "mnist-classifier", 100)
        assert len(runs) > CHART_RUNS
        await app.push_screen(CompareScreen([r.id for r in runs]))
        await settle(pilot)
        screen = app.screen
        assert len(screen.charted_runs) == CHART_RUNS
        assert all(len(p.lines) == CHART_RUNS for p in screen.query(MetricPlot))
        legend = str(screen.query(MetricPlot).first().query_one(".metric-plot--legend").render())
        # Names cut in the middle when they do not fit: both ends stay visible.
        assert all(runs[i].name[:5] in legend and runs[i].name[-4:] in legend for i in range(CHART_RUNS))
        assert legend.count("\n") < 8  # packed side by side: fits under the chart
        assert len(screen.diff_table.columns) == len(runs) + 1


async def test_run_picker_changes_charted_runs(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        runs = await open_compare(pilot, "mnist-classifier", 3)
        await pilot.press("P", "space")  # unpick the first run
        await settle(pilot)
        screen = app.screen
        assert screen.charted_runs == [r.id for r in runs[1:]]
        assert all(len(p.lines) == 2 for p in screen.query(MetricPlot))


async def test_pickers_widen_to_show_long_metric_names_whole(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_compare(pilot, "text-sentiment-bert", 2)  # system/gpu_0_memory_usage_megabytes
        pickers = app.screen.query_one("#compare-pickers")
        longest = "system/gpu_0_memory_usage_megabytes"
        assert pickers.outer_size.width == len(longest) + PICKER_CHROME == app.screen.pickers_width
        assert longest in app.export_screenshot()  # drawn whole, not cut with an ellipsis


def test_pickers_width_between_the_minimum_and_two_fifths_of_the_screen():
    assert pickers_width(["loss", "acc"], 120) == PICKERS_WIDTH
    assert pickers_width(["x" * 30], 120) == 30 + PICKER_CHROME
    assert pickers_width(["x" * 80], 120) == 48
    assert pickers_width(["x" * 80], 60) == PICKERS_WIDTH  # a narrow screen keeps the minimum
    assert pickers_width([], 120) == PICKERS_WIDTH


def test_snapshot_three_run_compare(snap_compare, make_app):
    app = make_app()

    async def run_before(pilot):
        await open_compare(pilot, "mnist-classifier", 3)

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


async def test_metric_picker_adds_and_removes_charts_keeping_the_view(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        runs = await open_compare(pilot, "mnist-classifier", 3)
        screen = app.screen
        keys = sorted({k for r in screen.runs for k in r.metrics}, key=str.lower)
        assert len(keys) > 2 and screen.chosen_metrics == keys[:2]
        await pilot.press("x")  # wall-time axis on the two charts shown
        await pilot.press("p", "down", "down", "space")  # pick the third metric
        await settle(pilot)
        plots = list(screen.query(MetricPlot))
        assert [p.title for p in plots] == keys[:3] == screen.chosen_metrics
        assert all(p.x_axis == "wall" for p in plots)  # the new chart too
        for plot in plots:
            for line, run in zip(plot.lines, runs):
                want = app.store.get_metric_history(run.id, plot.title, max_points=BY_STEP) if plot.title in run.metrics else []
                assert [p.value for p in line.points] == [p.value for p in want]
        await pilot.press("up", "up", "space", "down", "space")  # unpick the first two
        await settle(pilot)
        plots = list(screen.query(MetricPlot))
        assert [p.title for p in plots] == [keys[2]]
        assert plots[0].has_class("-single") and plots[0].x_axis == "wall"
        assert len(plots[0].lines) == len(runs) and plots[0]._pending is None


async def test_the_mark_glyph_is_not_a_status_glyph(make_app):
    """Both were ● once: a marked run looked RUNNING."""
    from tracktui.tui.columns import STATUS_GLYPHS
    from tracktui.tui.widgets.runs_table import MARK_GLYPH

    assert MARK_GLYPH.strip() not in STATUS_GLYPHS.values()
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "mnist")
        table = app.screen.table
        await pilot.press("m")
        marked_line = "".join(segment.text for segment in table.render_line(1))
        unmarked_line = "".join(segment.text for segment in table.render_line(2))
        assert MARK_GLYPH + table.rows[0].run.name in marked_line
        assert MARK_GLYPH.strip() not in unmarked_line
