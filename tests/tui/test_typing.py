"""The typing rule on every screen: `/` opens the filter, and while a text box has focus every
printable key is text. Keys are typed the way the bug reports typed them: one `pilot.press` of
the whole word (the app catches up after each key) and a burst the app reads only after the
last key (`type_burst`), the case where bound letters used to be eaten."""

from __future__ import annotations

import pytest
from pilot_helpers import open_experiment, settle, type_burst, type_text
from textual.widgets import Input, SelectionList

from tracktui.tui.screens.confirm import ConfirmScreen
from tracktui.tui.screens.experiments import ExperimentsScreen, ExperimentsTable
from tracktui.tui.screens.run import RunScreen
from tracktui.tui.screens.runs import RunsScreen
from tracktui.tui.widgets.column_chooser import ColumnChooser
from tracktui.tui.widgets.filter_bar import FilterBar
from tracktui.tui.widgets.key_filter import FilterInput

pytestmark = pytest.mark.anyio


def experiments_filter(app) -> Input:
    return app.screen.query_one("#experiments-filter", Input)


def listed(app) -> list[str]:
    table = app.screen.query_one(ExperimentsTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


async def test_fast_typing_keeps_the_first_character(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"sales")
        assert experiments_filter(app).value == "sales"
        assert listed(app) == ["sales-forecasting"]


@pytest.mark.parametrize("typed", ["/images", "/default", "/dury"], ids=["g", "d", "bound-letters"])
async def test_a_burst_after_slash_is_all_text_on_the_experiments_screen(make_app, typed):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await type_burst(pilot, typed)
        assert isinstance(app.screen, ExperimentsScreen)  # no confirm, no rename, no copy menu
        assert experiments_filter(app).value == typed[1:]
        assert app.screen.focused is experiments_filter(app)
        assert not app._notifications  # not even "writes are disabled"


async def test_letters_on_the_list_are_keys_not_text(make_app):
    """The other half of the rule: without `/`, `j` moves and `D` toggles deleted."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("j", "D")
        await settle(pilot)
        assert experiments_filter(app).value == ""
        assert app.screen.query_one(ExperimentsTable).cursor_row == 1
        assert any("(deleted)" in name for name in listed(app))


async def test_a_burst_after_slash_is_all_text_on_the_runs_screen(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_experiment(pilot, "mnist")
        await type_burst(pilot, "/images dry")
        assert isinstance(app.screen, RunsScreen)
        bar = app.screen.query_one(FilterBar)
        assert bar.input.value == "images dry"
        assert app.screen.focused is bar.input


async def test_slash_inside_a_filter_is_text(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_experiment(pilot, "mnist")
        await type_burst(pilot, "/metrics.val/loss")
        assert app.screen.query_one(FilterBar).input.value == "metrics.val/loss"


async def test_a_burst_after_slash_is_all_text_on_the_run_screen(make_app):
    """On the Metrics tab `g` plots the highlighted metric: after `/` it must be text."""
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_experiment(pilot, "mnist")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("3")  # Metrics
        await settle(pilot)
        await type_burst(pilot, "/images")
        assert isinstance(app.screen, RunScreen)
        focused = app.screen.focused
        assert isinstance(focused, FilterInput) and focused.value == "images"
        # from a tab without a filter, `/` switches to Params and the burst still lands there
        await pilot.press("escape", "escape", "1")
        await settle(pilot)
        await type_burst(pilot, "/gdy")
        assert app.screen.active_tab == "params"
        focused = app.screen.focused
        assert isinstance(focused, FilterInput) and focused.value == "gdy"
        await pilot.press("down")  # Down leaves the box for the table
        assert not isinstance(app.screen.focused, Input)


async def test_column_chooser_down_reaches_the_list_and_space_toggles(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "mnist")
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ColumnChooser)
        await type_text(pilot, "optimizer")
        await pilot.press("down")
        chooser_list = app.screen.query_one("#chooser-list", SelectionList)
        assert app.screen.focused is chooser_list
        assert app.screen.query_one("#chooser-filter", Input).value == "optimizer"
        await pilot.press("space")
        assert "params:optimizer" in chooser_list.selected
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "params:optimizer" in [c.id for c in app.screen.table.columns]


async def test_delete_letter_without_slash_still_asks_first(make_app, demo_store_uri, tmp_path):
    """On a writable store `d` on the list is delete (with a confirmation), `/d` is text."""
    from action_helpers import app_on_copy, writable_copy

    app = app_on_copy(writable_copy(demo_store_uri, tmp_path), tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await type_burst(pilot, "/d")
        assert experiments_filter(app).value == "d"
        await pilot.press("escape", "d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)


async def test_down_leaves_the_runs_filter_and_help_states_the_rule(make_app):
    from tracktui.tui.filter_focus import TYPING_RULE

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "mnist")
        await type_burst(pilot, "/x")
        await pilot.press("down")
        assert app.screen.focused is app.screen.table
        await pilot.press("question_mark")
        await settle(pilot)
        assert TYPING_RULE in str(app.screen.query_one("#help-title").render())


async def test_leaving_the_runs_screen_and_coming_back_keeps_filter_and_sort(make_app, tmp_path):
    from tracktui.tui.config import Config

    config_path = tmp_path / "kept.json"
    app = make_app(config=Config(path=config_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "mnist")
        await pilot.press("slash")
        await type_text(pilot, "params.optimizer = 'adam'")
        await pilot.press("enter", "S")  # newest last
        await settle(pilot)
        shown = [row.run.id for row in app.screen.table.rows]
        assert shown and all(row.run.name.startswith("adam-") for row in app.screen.table.rows)
        await pilot.press("escape")
        await settle(pilot)
        experiments_filter(app).value = ""
        await open_experiment(pilot, "lr-sweep")  # another experiment: its own (empty) view
        assert app.screen.filter_text == "" and app.screen.sort_column is None
        await pilot.press("escape")
        await settle(pilot)
        experiments_filter(app).value = ""
        await open_experiment(pilot, "mnist")
        screen = app.screen
        assert isinstance(screen, RunsScreen)
        assert screen.query_one(FilterBar).input.value == "params.optimizer = 'adam'"
        assert (screen.sort_column, screen.sort_ascending) == ("attr:start", True)
        assert [row.run.id for row in screen.table.rows] == shown
    again = make_app(config=Config.load(config_path))  # and in the next session
    async with again.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "mnist")
        assert [row.run.id for row in again.screen.table.rows] == shown
