"""Sparkline columns in the runs table: chosen in the column chooser beside the metric's
latest value, read for the rows on screen only (again when scrolled, never twice for the same
run and step), saved with the column layout, and followed while a run is RUNNING."""

from __future__ import annotations

import time

import pytest
from action_helpers import app_on_copy, mlflow_client, writable_copy
from pilot_helpers import open_experiment, screen_lines, settle, type_text

from tracktui.tui import live
from tracktui.tui.columns import SPARKLINE_CELLS, with_sparklines_beside_values
from tracktui.tui.watch.sparkline import BLOCKS, sparkline

pytestmark = pytest.mark.anyio


async def wait_until(pilot, condition, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        await pilot.pause(0.1)
    await settle(pilot)


async def add_sparkline(pilot, key: str) -> None:
    """In the column chooser: the filter narrowed to the key, the sparkline entry toggled."""
    await pilot.press("c")
    await settle(pilot)
    await type_text(pilot, key)
    await pilot.press("enter")  # to the list
    chooser = pilot.app.screen
    options = chooser.query_one("#chooser-list")
    index = next(i for i in range(options.option_count) if options.get_option_at_index(i).value == f"spark:{key}")
    for _ in range(index):
        await pilot.press("down")
    await pilot.press("space", "ctrl+s")
    await settle(pilot)


def counting_histories(store) -> list[tuple[tuple[str, ...], str]]:
    """Record every get_metric_histories call (run ids, key) made through `store`."""
    calls: list[tuple[tuple[str, ...], str]] = []
    real = store.get_metric_histories

    def counted(run_ids, key, max_points):
        calls.append((tuple(run_ids), key))
        return real(run_ids, key, max_points)

    store.get_metric_histories = counted
    return calls


def visible_lines_read(screen, key: str) -> bool:
    rows = screen.table.visible_rows()
    return bool(rows) and all(screen.sparklines.line(r.run, key) is not None for r in rows)


def test_sparklines_go_right_after_their_latest_value():
    assert with_sparklines_beside_values(["attr:name", "metrics:loss", "params:lr", "spark:loss"]) == [
        "attr:name", "metrics:loss", "spark:loss", "params:lr"]
    assert with_sparklines_beside_values(["attr:name", "spark:acc"]) == ["attr:name", "metrics:acc", "spark:acc"]


async def test_a_sparkline_column_shows_each_visible_runs_history(make_app):
    app = make_app()
    calls = counting_histories(app.store)
    async with app.run_test(size=(160, 24)) as pilot:
        await open_experiment(pilot, "mnist")
        screen = app.screen
        key = next(c.key for c in screen.columns if c.kind == "metrics")
        await add_sparkline(pilot, key)
        ids = screen.column_ids
        assert ids[ids.index(f"metrics:{key}") + 1] == f"spark:{key}"
        assert app.config.columns_for(app.store.display_uri, screen.experiment.id) == ids  # saved
        await wait_until(pilot, lambda: visible_lines_read(screen, key))
        visible = [r.run for r in screen.table.visible_rows()]
        assert len(visible) < len(screen.table.rows)  # only the rows on screen were read
        assert {run_id for ids_, _k in calls for run_id in ids_} == {r.id for r in visible}
        first = visible[0]
        history = app.store.get_metric_history(first.id, key, max_points=SPARKLINE_CELLS)
        line = sparkline([p.value for p in history], SPARKLINE_CELLS)
        assert len(line) > 1 and set(line) <= set(BLOCKS)
        assert screen.sparklines.line(first, key) == line
        assert any(line in text for text in screen_lines(app))  # drawn in the first row


async def test_scrolling_reads_the_new_rows_once(make_app):
    app = make_app()
    calls = counting_histories(app.store)
    async with app.run_test(size=(160, 24)) as pilot:
        await open_experiment(pilot, "mnist")
        screen = app.screen
        key = next(c.key for c in screen.columns if c.kind == "metrics")
        await add_sparkline(pilot, key)
        await wait_until(pilot, lambda: visible_lines_read(screen, key))
        top = {r.run.id for r in screen.table.visible_rows()}
        await pilot.press("pagedown", "pagedown")
        await wait_until(pilot, lambda: visible_lines_read(screen, key))
        below = {r.run.id for r in screen.table.visible_rows()}
        assert below - top
        asked = [run_id for ids, _k in calls for run_id in ids]
        assert len(asked) == len(set(asked))  # no run read twice
        before = len(calls)
        await pilot.press("home")
        await pilot.pause(0.4)
        await settle(pilot)
        assert visible_lines_read(screen, key)
        assert len(calls) == before  # scrolling back costs no store call


async def test_a_running_runs_sparkline_gains_the_new_point(demo_store_uri, tmp_path, monkeypatch):
    monkeypatch.setattr(live, "LIVE_REFRESH_S", 0.2)
    uri = writable_copy(demo_store_uri, tmp_path)
    client = mlflow_client(uri)
    app = app_on_copy(uri, tmp_path)
    async with app.run_test(size=(160, 40)) as pilot:
        await open_experiment(pilot, "mnist")
        await pilot.press("T")  # flat: the running run is a row whatever its parent
        await settle(pilot)
        screen = app.screen
        running = next(r.run for r in screen.table.rows if r.run.status == "RUNNING")
        key = next(k for k in sorted(running.metrics) if not k.startswith("system/"))
        await add_sparkline(pilot, key)
        index = next(i for i, r in enumerate(screen.table.rows) if r.run.id == running.id)
        screen.table.cursor_row = index  # on screen
        await wait_until(pilot, lambda: visible_lines_read(screen, key))
        before = screen.sparklines.line(running, key)
        values = [p.value for p in client.get_metric_history(running.id, key)]
        peak = max(values) + 10 * (max(values) - min(values) + 1)
        client.log_metric(running.id, key, peak, step=running.metrics[key].step + 1)

        def updated():
            row = next(r for r in screen.table.rows if r.run.id == running.id)
            line = screen.sparklines.line(row.run, key)
            return row.run.metrics[key].value == peak and line is not None

        await wait_until(pilot, updated)
        row = next(r for r in screen.table.rows if r.run.id == running.id)
        after = screen.sparklines.line(row.run, key)
        assert after != before and after.endswith(BLOCKS[-1])  # the new point tops the line


def with_sparkline(experiment: str, key: str, column_steps: int):
    async def run_before(pilot):
        await open_experiment(pilot, experiment)
        await add_sparkline(pilot, key)
        await pilot.press(*["right_square_bracket"] * column_steps)
        screen = pilot.app.screen
        await wait_until(pilot, lambda: visible_lines_read(screen, key))

    return run_before


@pytest.mark.parametrize("size, steps", [((80, 24), 4), ((120, 40), 0)], ids=["80x24", "120x40"])
def test_snapshot_sparkline_column(snap_compare, make_app, size, steps):
    assert snap_compare(make_app(), terminal_size=size, run_before=with_sparkline("mnist", "val/loss", steps))
