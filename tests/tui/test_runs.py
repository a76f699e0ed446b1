"""Runs screen: lazy paging, filter (and its inline error), sort, tree, columns, deleted, open run."""

from __future__ import annotations

import pytest
from pilot_helpers import open_experiment, settle, type_text

import tracktui.tui.screens.runs as runs_module
from tracktui.store.model import PARENT_RUN_TAG
from tracktui.tui.commands import screen_actions
from tracktui.tui.screens.runs import RunsScreen
from tracktui.tui.widgets.column_chooser import ColumnChooser
from tracktui.tui.widgets.filter_bar import FilterBar
from tracktui.tui.widgets.runs_table import RunsTable

pytestmark = pytest.mark.anyio


def table(app) -> RunsTable:
    return app.screen.query_one(RunsTable)


def run_names(app) -> list[str]:
    return [row.run.name for row in table(app).rows]


async def test_opens_with_default_columns_and_root_runs_newest_first(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "mnist")
        assert isinstance(app.screen, RunsScreen)
        cols = [c.id for c in table(app).columns]
        assert cols[:5] == ["attr:status", "attr:name", "attr:start", "attr:duration", "attr:user"]
        assert cols[5:] == ["metrics:train/loss", "metrics:val/accuracy", "metrics:val/loss"]
        starts = [row.run.start_time for row in table(app).rows]
        assert starts == sorted(starts, reverse=True)
        expected = app.store.count_runs(app.screen.experiment.id)
        assert len(table(app).rows) == expected
        assert all(row.run.lifecycle_stage == "active" for row in table(app).rows)


async def test_only_chosen_columns_values_are_fetched(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "mnist")
        for row in table(app).rows:
            assert set(row.run.params) == set()
            assert set(row.run.metrics) <= {"train/loss", "val/accuracy", "val/loss"}
            assert set(row.run.tags) <= {PARENT_RUN_TAG}


async def test_pages_lazily_as_the_cursor_nears_the_end(make_app, monkeypatch):
    monkeypatch.setattr(runs_module, "PAGE_SIZE", 5)
    monkeypatch.setattr("tracktui.tui.widgets.runs_table.NEAR_END_ROWS", 2)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_experiment(pilot, "mnist")
        total = app.store.count_runs(app.screen.experiment.id)
        assert total > 20
        assert len(table(app).rows) == 5  # one page, not everything
        await pilot.press("G")  # last loaded row → the next page is fetched
        await settle(pilot)
        assert len(table(app).rows) == 10
        seen = [row.run.id for row in table(app).rows]
        assert len(set(seen)) == 10  # pages don't repeat runs
        while len(table(app).rows) < total:
            before = len(table(app).rows)
            await pilot.press("G")
            await settle(pilot)
            assert len(table(app).rows) > before
        assert len({row.run.id for row in table(app).rows}) == total
        starts = [row.run.start_time for row in table(app).rows]
        assert starts == sorted(starts, reverse=True)


async def test_filter_is_sent_to_the_store(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_experiment(pilot, "mnist")
        await pilot.press("slash")
        await type_text(pilot, "params.optimizer = 'adam'")
        await pilot.press("enter")
        await settle(pilot)
        names = run_names(app)
        assert names and all(n.startswith("adam-") for n in names)
        assert app.screen.focused is table(app)


async def test_bad_filter_shows_the_error_inline_at_its_position(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_experiment(pilot, "mnist")
        await pilot.press("slash")
        await type_text(pilot, "metrics.loss < 'x'")
        await pilot.press("enter")
        await settle(pilot)
        bar = app.screen.query_one(FilterBar)
        assert bar.has_class("-error")
        lines = str(bar.query_one("#filter-error").render()).splitlines()
        assert lines[0].strip() == "metrics.loss < 'x'"
        caret = lines[1].index("^") - lines[0].index("m")
        assert caret == 15  # the quoted string where a number was expected
        assert table(app).rows == []
        assert not [n for n in app._notifications if n.severity == "error"]  # inline, not a toast
        assert app.screen.focused is bar.input and bar.input.cursor_position == 15  # ready to fix
        # fixing it clears the error
        await pilot.press("end", "ctrl+u")
        await type_text(pilot, "metrics.`val/loss` < 0.2")
        await pilot.press("enter")
        await settle(pilot)
        assert not bar.has_class("-error")
        assert table(app).rows and all(r.run.metrics["val/loss"].value < 0.2 for r in table(app).rows)


async def test_sort_by_column_is_done_by_the_store(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "mnist")
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("down")  # Status, Name: pick Name
        await pilot.press("enter")
        await settle(pilot)
        names = run_names(app)
        assert names == sorted(names)
        assert app.screen.sort_column == "attr:name"
        await pilot.press("S")  # reverse
        await settle(pilot)
        assert run_names(app) == sorted(names, reverse=True)


async def test_nested_runs_expand_under_their_parent(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "lr-sweep")
        rows = table(app).rows
        assert rows and all(row.run.parent_run_id is None for row in rows)  # roots only
        assert all(row.has_children for row in rows)
        parent = rows[0].run
        await pilot.press("space")
        await settle(pilot)
        rows = table(app).rows
        children = [row for row in rows if row.depth == 1]
        expected = app.store.get_child_runs(parent.id, view="active")
        assert {row.run.id for row in children} == {r.id for r in expected}
        assert all(row.run.parent_run_id == parent.id for row in children)
        assert [row.run.id for row in rows[1 : 1 + len(children)]] == [row.run.id for row in children]
        await pilot.press("left")  # collapse
        await pilot.pause()
        assert all(row.depth == 0 for row in table(app).rows)


async def test_deleted_toggle_includes_deleted_runs(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_experiment(pilot, "mnist")
        active = len(table(app).rows)
        await pilot.press("D")
        await settle(pilot)
        rows = table(app).rows
        deleted = [r for r in rows if r.run.lifecycle_stage == "deleted"]
        assert deleted and len(rows) == active + len(deleted)


async def test_column_chooser_adds_a_param_column_and_remembers_it(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "mnist")
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ColumnChooser)
        await type_text(pilot, "optimizer")
        await pilot.press("enter", "space", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, RunsScreen)
        assert "params:optimizer" in [c.id for c in table(app).columns]
        for row in table(app).rows:
            assert set(row.run.params) == {"optimizer"}
            assert row.run.name.startswith(row.run.params["optimizer"] + "-")
        saved = app.config.columns_for(app.store.display_uri, app.screen.experiment.id)
        assert "params:optimizer" in saved
        assert app.config.path.exists()


async def test_open_run_and_back(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "mnist")
        first = table(app).rows[0].run.id
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "RunScreen"
        assert app.screen.run_id == first
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, RunsScreen)


async def test_help_lists_every_binding_of_the_screen(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "mnist")
        runs_screen = app.screen
        await pilot.press("question_mark")
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen"
        from tracktui.tui.screens.help import binding_rows

        described = {b.description for b in RunsScreen.BINDINGS} | {b.description for b in RunsTable.BINDINGS}
        listed = {desc for _area, _keys, desc in binding_rows(runs_screen)}
        assert described <= listed
        await pilot.press("escape")
        assert app.screen is runs_screen


async def test_every_action_is_in_the_palette(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "mnist")
        titles = {title for title, *_ in screen_actions(app.screen)}
        for expected in ("runs: Columns", "runs: Sort", "runs: Filter", "runs: Deleted", "runs: Tree/flat",
                         "runs: Open", "runs: Expand", "app: Back"):
            assert expected in titles
        await pilot.press("ctrl+p")
        await pilot.pause()
        await type_text(pilot, "runs: Columns")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ColumnChooser)


# -- snapshots ------------------------------------------------------------------------------------

def opened(name: str, *keys: str, text: str | None = None):
    async def run_before(pilot):
        await open_experiment(pilot, name)
        if keys:
            await pilot.press(*keys)
        if text is not None:
            await type_text(pilot, text)
            await pilot.press("enter")
        await settle(pilot)

    return run_before


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_snapshot_runs(snap_compare, make_app, size):
    assert snap_compare(make_app(), terminal_size=size, run_before=opened("mnist"))


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_snapshot_runs_nested_expanded(snap_compare, make_app, size):
    assert snap_compare(make_app(), terminal_size=size, run_before=opened("sweep", "space"))


def test_snapshot_runs_bad_filter(snap_compare, make_app):
    run_before = opened("mnist", "slash", text="params.lr = 0.1")
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)


def test_snapshot_help(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=opened("mnist", "question_mark"))


def test_snapshot_column_chooser(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=opened("mnist", "c"))


async def test_a_newer_query_supersedes_an_older_one(make_app):
    """Two filters submitted back to back: only the second one's runs are shown."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_experiment(pilot, "mnist")
        await pilot.press("slash")
        await type_text(pilot, "params.optimizer = 'sgd'")
        await pilot.press("enter", "slash", "end", "ctrl+u")
        await type_text(pilot, "params.optimizer = 'adamw'")
        await pilot.press("enter")
        await settle(pilot)
        names = run_names(app)
        assert names and all(n.startswith("adamw-") for n in names)
        expected = app.store.search_runs([app.screen.experiment.id], "params.optimizer = 'adamw'", max_results=1000)
        assert len(names) == len(expected.items)


def test_caret_points_into_a_long_filter_window():
    """A long filter is cut to a window around the error; the caret still lands on it."""
    from tracktui.store.errors import FilterSyntaxError
    from tracktui.tui.widgets.filter_bar import caret_text

    text = "params.a = 'x' and " * 8 + "metrics.m < oops"
    error = FilterSyntaxError("bad value", text=text, position=text.index("oops"), expected="a number")
    snippet, caret = caret_text(error).plain.splitlines()
    assert snippet.startswith(" …")
    assert snippet[caret.index("^"):].startswith("oops")
    assert caret.endswith("^ bad value (expected a number)")


async def test_escape_leaves_the_filter_then_goes_back(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_experiment(pilot, "mnist")
        runs_screen = app.screen
        await pilot.press("slash")
        assert app.screen.focused is app.screen.query_one(FilterBar).input
        await type_text(pilot, "q")  # typed, not quit
        assert app.screen.query_one(FilterBar).input.value == "q"
        await pilot.press("escape")
        assert app.screen is runs_screen and app.screen.focused is table(app)
        await pilot.press("j", "j", "k")
        assert table(app).cursor_row == 1
        await pilot.press("escape")
        await settle(pilot)
        assert type(app.screen).__name__ == "ExperimentsScreen"


async def test_deleted_experiment_opens_with_its_deleted_runs(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("D")
        await settle(pilot)
        await open_experiment(pilot, "old-baselines")
        assert isinstance(app.screen, RunsScreen)
        rows = table(app).rows
        assert len(rows) == 3 and all(r.run.lifecycle_stage == "deleted" for r in rows)


async def test_sort_by_a_metric_column(make_app):
    import math

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "mnist")
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("end", "enter")  # the last sortable column: metric val/loss
        await settle(pilot)
        assert app.screen.sort_column == "metrics:val/loss" and not app.screen.sort_ascending
        values = [r.run.metrics["val/loss"].value for r in table(app).rows if "val/loss" in r.run.metrics]
        numbers = [v for v in values if not math.isnan(v)]
        assert numbers == sorted(numbers, reverse=True)
        assert values[: len(numbers)] == numbers  # NaN after the numbers, as MLflow orders them
        header = table(app)._header_strip().text
        assert "▼val/loss" in header


async def test_pages_grow_while_the_user_keeps_going_down(make_app, monkeypatch):
    monkeypatch.setattr(runs_module, "PAGE_SIZE", 3)
    monkeypatch.setattr(runs_module, "GROW_AFTER_PAGES", 2)
    monkeypatch.setattr(runs_module, "MAX_PAGE_SIZE", 7)
    monkeypatch.setattr("tracktui.tui.widgets.runs_table.NEAR_END_ROWS", 1)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_experiment(pilot, "mnist")
        total = app.store.count_runs(app.screen.experiment.id)
        sizes = [len(table(app).rows)]
        while sizes[-1] < total:
            await pilot.press("G")
            await settle(pilot)
            sizes.append(len(table(app).rows))
        assert sizes[:4] == [3, 6, 13, 20]  # two pages of 3, then pages of 7
        assert sizes[-1] == total == len({row.id for row in table(app).rows})
        starts = [row.run.start_time for row in table(app).rows]
        assert starts == sorted(starts, reverse=True)
