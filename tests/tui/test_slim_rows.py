"""Rows far from the screen are slimmed (their runs dropped) and read again when they come
back into view: placeholders never show a value, the values come back as the store has them,
and marks, open, copy, compare, refresh, the tree, groups and the live refresh work on them.

SLIM_DISTANCE is patched to a few rows so the demo store's experiments are "huge"; by-id
searches (the re-reads) are held back behind a gate where a test needs to see placeholders.
"""

from __future__ import annotations

import re
import threading

import pytest
from action_helpers import app_on_copy, writable_copy
from pilot_helpers import group_by, open_experiment, settle

from tracktui.store import open_store
from tracktui.tui.columns import keys_to_fetch
from tracktui.tui.live import LIVE_LABEL
from tracktui.tui.runs_by_id import search_by_ids
from tracktui.tui.screens.compare import CompareScreen
from tracktui.tui.screens.copy_menu import CopyMenu
from tracktui.tui.screens.run import RunScreen
from tracktui.tui.widgets.runs_table import GONE_PREFIX, MARK_GLYPH, READING, GroupRow, RunRow, RunsTable

pytestmark = pytest.mark.anyio

DISTANCE = 3


@pytest.fixture(autouse=True)
def _near(monkeypatch):
    monkeypatch.setattr("tracktui.tui.widgets.runs_table.SLIM_DISTANCE", DISTANCE)


class Gate:
    """Holds the store's by-id searches (the re-reads of slimmed rows) until opened."""

    def __init__(self, store) -> None:
        self.open = threading.Event()
        self.open.set()
        self.held = 0
        real = store.search_runs

        def search_runs(experiment_ids, filter_string="", *args, **kwargs):
            if filter_string.startswith("attributes.run_id IN"):
                self.held += 1
                assert self.open.wait(30), "the gate was never opened"
            return real(experiment_ids, filter_string, *args, **kwargs)

        store.search_runs = search_runs

    def close(self) -> None:
        self.open.clear()


def table(app) -> RunsTable:
    return app.screen.query_one(RunsTable)


def table_lines(app) -> list[str]:
    """The lines the table draws now (header first), as text."""
    t = table(app)
    return [t.render_line(y).text for y in range(t.size.height)]


def whole_within_reach(t: RunsTable) -> bool:
    """Every row holding its run is within SLIM_DISTANCE of the screen or the cursor."""
    top = int(t.scroll_y)
    first = max(0, min(top, t.cursor_row) - DISTANCE)
    end = max(top + t.size.height - 1, t.cursor_row + 1) + DISTANCE
    return all(first <= i < end for i, row in enumerate(t.rows) if isinstance(row, RunRow) and row.run is not None)


def read_again(app, ids: list[str]):
    """The runs as the store has them now, with the keys the columns show."""
    return search_by_ids(app.store, ids, [app.screen.experiment.id], keys_to_fetch(table(app).columns))


def assert_placeholder(line: str, row: RunRow) -> None:
    """A slimmed row's line: its name, and nothing but `…` in every other cell."""
    assert row.display_name in line
    rest = line.replace(row.display_name, "")
    assert set(rest.split()) <= {READING}, line
    assert READING in rest


async def test_far_rows_are_slimmed_and_read_again_when_back_in_view(make_app):
    app = make_app()
    async with app.run_test(size=(120, 12)) as pilot:
        gate = Gate(app.store)
        await open_experiment(pilot, "mnist")
        t = table(app)
        first_lines = table_lines(app)
        ids = [row.id for row in t.rows]
        assert len(ids) > 4 * DISTANCE + t.size.height
        await pilot.press("G")
        await settle(pilot)
        assert t.rows[0].run is None and t.rows[-1].run is not None
        assert whole_within_reach(t)
        assert len(t.whole_rows) < len(ids)

        gate.close()
        await pilot.press("g")  # Home: back to rows that were slimmed
        for _ in range(3):
            await pilot.pause()
        slimmed = [(i, row) for i, row in enumerate(t.rows[: t.size.height - 1]) if row.run is None]
        assert slimmed, "the rows on screen are still being read"
        lines = table_lines(app)
        for i, row in slimmed:
            assert_placeholder(lines[1 + i], row)
        gate.open.set()
        await settle(pilot)
        assert gate.held >= 1
        assert table_lines(app) == first_lines  # the same values as when first read
        shown = [row for row in t.rows[: t.size.height - 1] if isinstance(row, RunRow)]
        assert all(row.run is not None for row in shown)
        fresh = read_again(app, [row.id for row in shown])
        assert all(row.run == fresh[row.id] for row in shown)
        assert [row.id for row in t.rows] == ids  # the rows kept their places
        assert whole_within_reach(t)


async def test_a_slimmed_row_can_be_marked_opened_copied_and_compared(make_app):
    app = make_app()
    async with app.run_test(size=(120, 12)) as pilot:
        gate = Gate(app.store)
        await open_experiment(pilot, "mnist")
        t = table(app)
        await pilot.press("G")
        await settle(pilot)
        gate.close()
        await pilot.press("g")
        await pilot.pause()
        first, second = t.rows[0], t.rows[1]
        assert isinstance(first, RunRow) and isinstance(second, RunRow)
        assert first.run is None and second.run is None
        await pilot.press("m", "m")  # m marks and moves down
        assert app.run_marks.ids == [first.id, second.id]
        assert [r.display_name for r in app.run_marks.runs] == [first.display_name, second.display_name]
        assert {r.experiment_id for r in app.run_marks.runs} == {app.screen.experiment.id}
        assert any(MARK_GLYPH + first.display_name in line for line in table_lines(app))

        await pilot.press("g", "enter")  # open a slimmed run
        assert isinstance(app.screen, RunScreen)
        gate.open.set()
        await settle(pilot)
        assert app.screen.run is not None and app.screen.run.id == first.id
        await pilot.press("escape")
        await settle(pilot)

        for _ in range(2):  # slimmed again: away and back, with the re-read held
            await pilot.press("G")
            await settle(pilot)
        assert t.rows[0].run is None
        gate.close()
        await pilot.press("g")
        await pilot.pause()
        assert t.current is not None and t.current.run is None
        gate.open.set()
        await pilot.press("y")  # copy: read first, its artifact URI is not kept
        await settle(pilot)
        assert isinstance(app.screen, CopyMenu)
        run = app.store.get_run(first.id)
        assert run.artifact_uri and any(text == run.artifact_uri for _, _, text in app.screen.choices)
        await pilot.press("escape")
        await settle(pilot)

        await pilot.press("C")
        await settle(pilot)
        assert isinstance(app.screen, CompareScreen)
        assert [r.id for r in app.screen.runs] == [first.id, second.id]
        assert app.screen.runs[0].metrics == app.store.get_run(first.id).metrics


async def test_refresh_keeps_the_cursor_on_its_run_with_slimmed_rows(make_app):
    app = make_app()
    async with app.run_test(size=(120, 12)) as pilot:
        gate = Gate(app.store)
        await open_experiment(pilot, "mnist")
        t = table(app)
        await pilot.press("G", "up", "up")
        await settle(pilot)
        assert t.rows[0].run is None
        anchored, row_index, line = t.current.id, t.cursor_row, t.cursor_row - int(t.scroll_y)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert (t.current.id, t.cursor_row, t.cursor_row - int(t.scroll_y)) == (anchored, row_index, line)
        assert t.rows[0].run is None and whole_within_reach(t)

        gate.close()  # the cursor on a slimmed row (still being read) when ctrl+r is pressed
        await pilot.press("g")
        await pilot.pause()
        assert t.current.run is None
        anchored = t.current.id
        gate.open.set()
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert t.current.id == anchored and t.cursor_row == 0 and t.current.run is not None


async def test_live_refresh_follows_the_running_rows_near_the_screen(make_app):
    app = make_app()
    async with app.run_test(size=(120, 12)) as pilot:
        await open_experiment(pilot, "mnist")
        t = table(app)
        running = [row.id for row in t.rows if row.status == "RUNNING"]
        assert running and t.rows[0].id in running  # the newest runs are still going
        assert LIVE_LABEL in str(app.screen.query_one("#runs-title").render())
        await pilot.press("G")
        await settle(pilot)
        assert all(row.run is None for row in t.rows if row.id in running)
        assert LIVE_LABEL not in str(app.screen.query_one("#runs-title").render())  # nothing running is near
        await pilot.press("g")
        await settle(pilot)
        assert all(row.run is not None for row in t.rows if row.id in running)
        assert LIVE_LABEL in str(app.screen.query_one("#runs-title").render())


async def test_tree_rows_keep_their_place_and_expand_while_slimmed(make_app):
    app = make_app()
    async with app.run_test(size=(120, 12)) as pilot:
        gate = Gate(app.store)
        await open_experiment(pilot, "lr-sweep")
        t = table(app)
        parents = [row.id for row in t.rows]
        await pilot.press("space")  # the first parent's children
        await settle(pilot)
        children = [row.id for row in t.rows[1:] if row.depth == 1]
        assert children
        await pilot.press("G")
        await pilot.press("space")  # the last parent's children too
        await settle(pilot)
        await pilot.press("G")
        await settle(pilot)
        assert t.rows[0].run is None and t.rows[0].expanded  # slimmed, still shown expanded
        gate.close()
        await pilot.press("g")
        await pilot.pause()
        assert "▾" in table_lines(app)[1]
        await pilot.press("space")  # collapse a slimmed parent
        assert [row.id for row in t.rows if row.depth == 0] == parents
        assert t.rows[1].id not in children
        await pilot.press("space")  # expand it again: its children are read by its id
        gate.open.set()
        await settle(pilot)
        assert [row.id for row in t.rows[1 : 1 + len(children)]] == children
        assert all(row.run is not None for row in t.rows[: t.size.height - 1])


async def test_grouped_runs_are_slimmed_and_read_again(make_app):
    app = make_app()
    async with app.run_test(size=(120, 12)) as pilot:
        await open_experiment(pilot, "mnist")
        await group_by(pilot, "params.optimizer")
        t = table(app)
        assert all(isinstance(row, GroupRow) for row in t.rows)
        for index in range(len(t.rows) - 1, -1, -1):  # expand every group, last first
            t.cursor_row = index
            await pilot.press("space")
            await settle(pilot)
        runs = [row for row in t.rows if isinstance(row, RunRow)]
        assert len(runs) > 4 * DISTANCE + t.size.height
        await pilot.press("G")
        await settle(pilot)
        assert runs[0].run is None and whole_within_reach(t)
        await pilot.press("g")
        await settle(pilot)
        shown = [row for row in t.rows[: t.size.height - 1] if isinstance(row, RunRow)]
        assert shown and all(row.run is not None for row in shown)
        fresh = read_again(app, [row.id for row in shown])
        assert all(row.run == fresh[row.id] for row in shown)


async def test_a_purged_run_shows_as_not_found_never_as_values(demo_store_uri, tmp_path):
    uri = writable_copy(demo_store_uri, tmp_path)
    app = app_on_copy(uri, tmp_path)
    async with app.run_test(size=(120, 12)) as pilot:
        await open_experiment(pilot, "mnist")
        t = table(app)
        await pilot.press("G")
        await settle(pilot)
        gone = t.rows[1]
        assert isinstance(gone, RunRow) and gone.run is None
        other = open_store(uri)
        try:
            other.delete_runs([gone.id])
            assert gone.id in other.purge_deleted_runs()
        finally:
            other.close()
        await pilot.press("g")
        await settle(pilot)
        assert gone.run is None and t.is_gone(gone)
        line = next(line for line in table_lines(app) if GONE_PREFIX + gone.display_name in line)
        rest = line.split(GONE_PREFIX + gone.display_name, 1)[1]
        assert not re.search(r"[0-9]", rest) and READING not in rest  # blank cells, no value
        assert all(row.run is not None for row in t.rows[: t.size.height - 1] if row is not gone)


async def test_sparklines_of_slimmed_rows_come_back_with_their_runs(make_app):
    app = make_app()
    key = "val/loss"
    experiment = app.store.search_experiments("name = 'mnist-classifier'").items[0]
    app.config.set_columns_for(app.store.display_uri, experiment.id,
                               ["attr:status", "attr:name", f"metrics:{key}", f"spark:{key}"])
    async with app.run_test(size=(120, 12)) as pilot:
        gate = Gate(app.store)
        await open_experiment(pilot, "mnist")
        t, cache = table(app), app.screen.sparklines
        shown = [row for row in t.visible_rows()]
        drawn = {row.id: cache.line(row.run, key) for row in shown}
        assert all(drawn.values())  # every run on screen logged the metric: a line each
        first_lines = table_lines(app)
        await pilot.press("G")
        await settle(pilot)
        assert all(row.run is None for row in shown)
        gate.close()
        await pilot.press("g")
        for _ in range(3):
            await pilot.pause()
        lines = table_lines(app)
        for i, row in enumerate(t.rows[: t.size.height - 1]):
            if row.run is None:
                assert_placeholder(lines[1 + i], row)  # no sparkline, no value: `…`
        gate.open.set()
        await settle(pilot)
        assert {row.id: cache.line(row.run, key) for row in t.visible_rows()} == drawn
        assert table_lines(app) == first_lines
