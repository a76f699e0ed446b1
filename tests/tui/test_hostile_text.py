"""Store text is data: every screen shows hostile values literally and inertly (issue 17).

The store (hostile_store.py) holds terminal escapes, BEL, CR/LF, C1 controls, bidi overrides and
Textual markup in every field. Each test opens screens on it and checks, on what the screen
really draws (the compositor's strips), that no raw control character reaches the terminal and
that the markup shows as the literal text it is.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from action_helpers import mlflow_client, writable_copy
from hostile_store import (
    ARTIFACT_PATH,
    CSV_FILE,
    ESCAPED_FILE,
    EXPERIMENT,
    HOSTILE,
    RAW_CONTROLS,
    RUN_NAME,
    SECOND_EXPERIMENT,
    create_hostile_store,
)
from pilot_helpers import settle, type_text

from tracktui.store import open_store
from tracktui.store.errors import StoreError
from tracktui.tui.app import TrackApp
from tracktui.tui.cli import run_app
from tracktui.tui.config import Config
from tracktui.tui.safe_text import inert
from tracktui.tui.screens.confirm import ConfirmScreen
from tracktui.tui.screens.copy_menu import CopyMenu
from tracktui.tui.screens.experiments import ExperimentsScreen
from tracktui.tui.screens.help import HelpScreen
from tracktui.tui.screens.rename import RenameScreen
from tracktui.tui.screens.run import RunScreen
from tracktui.tui.screens.runs import RunsScreen
from tracktui.tui.screens.span import SpanScreen
from tracktui.tui.screens.sweep import SweepScreen
from tracktui.tui.screens.tag_editor import TagEditor
from tracktui.tui.screens.trace import TraceScreen
from tracktui.tui.screens.traces import TracesScreen
from tracktui.tui.widgets.artifact_browser import ArtifactBrowser
from tracktui.tui.widgets.column_chooser import ColumnChooser
from tracktui.tui.widgets.key_picker import KeyPicker
from tracktui.tui.widgets.sort_picker import SortPicker

pytestmark = pytest.mark.anyio
SIZE = (160, 50)


@pytest.fixture(scope="session")
def hostile(tmp_path_factory) -> tuple[str, dict[str, str]]:
    return create_hostile_store(tmp_path_factory.mktemp("hostile"))


def app_on(uri: str, tmp_path: Path, read_only: bool = True) -> TrackApp:
    return TrackApp(open_store(uri, read_only=read_only), config=Config(path=tmp_path / "tracktui.json"))


def screen_lines(app) -> list[str]:
    """The top screen as drawn: its strips' text, one per row (notifications included)."""
    return ["".join(segment.text for segment in strip) for strip in app.screen._compositor.render_strips()]


def assert_inert(app, *visible: str) -> str:
    """No raw control character on screen, and each of `visible` shown literally."""
    lines = screen_lines(app)
    raw = sorted({f"U+{ord(c):04X}" for line in lines for c in line if c in RAW_CONTROLS})
    assert not raw, f"raw control characters reach the terminal: {raw}"
    text = "\n".join(lines)
    for literal in visible:
        assert literal in text, f"{literal!r} not on screen:\n{text}"
    return text


async def open_hostile_experiment(pilot, experiment_id: str) -> None:
    await settle(pilot)
    table = pilot.app.screen.query_one("#experiments-table")
    table.move_cursor(row=table.get_row_index(experiment_id))
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(pilot.app.screen, RunsScreen)


def test_inert_shows_every_control_character_and_keeps_markup_literal():
    assert inert(HOSTILE) == (
        "[/INST] [/] [@click=app.quit]x[/] [bold]b ␛]52;c;UFdORUQ=␇␛]2;pwned␇␛[2J␇ c␍r␊l \\x9b1m "
        "\\u202eevil\\u202c \\u2066iso\\u2069"
    )
    assert inert("a\r\nb\tc\x1b", multiline=True) == "a\nb\tc␛"
    assert inert(None) == "" and inert("\x00\x7f") == "␀␡"


async def test_start_up_shows_hostile_experiment_names_and_tags_even_read_only(hostile, tmp_path):
    uri, ids = hostile
    app = app_on(uri, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ExperimentsScreen)
        assert_inert(app, inert(EXPERIMENT), SECOND_EXPERIMENT, "[/INST]tag=[/INST] [/]")
        assert "\x1b" not in app.export_screenshot()


async def test_runs_table_column_chooser_sort_picker_and_copy_menu(hostile, tmp_path):
    uri, ids = hostile
    app = app_on(uri, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_hostile_experiment(pilot, ids["experiment"])
        # Name gets the free width: the run's name is shown whole, its controls made visible
        # header labels are cut in the middle (metric keys often differ at the end)
        assert_inert(app, inert(EXPERIMENT), inert(RUN_NAME), "[/INST]m␛…FdORUQ=␇", "[/]user␛]")
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ColumnChooser)
        assert_inert(app, "[/INST]p␛[2J", "[bold]t␇", "[/INST]m␛]52;c;UFdORUQ=␇")
        await pilot.press("escape", "s")
        await settle(pilot)
        assert isinstance(app.screen, SortPicker)
        assert_inert(app, "metric [/INST]m␛]52;c;UFdORUQ=␇")
        await pilot.press("escape", "y")
        await settle(pilot)
        assert isinstance(app.screen, CopyMenu)
        assert_inert(app, f"n  run name: {inert(RUN_NAME)}")
        # Where `[@click=app.quit]x` parsed as markup would draw a quit button "x": a click
        # there copies the name.
        row = next(y for y, line in enumerate(screen_lines(app)) if "n  run name:" in line)
        column = screen_lines(app)[row].index("n  run name:") + len("n  run name: ")
        await pilot.click(offset=(column, row))
        await settle(pilot)
        assert app.is_running and app.clipboard == RUN_NAME
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert_inert(app, "Copy…")


async def test_sweep_charts_pickers_and_panels(hostile, tmp_path):
    uri, ids = hostile
    app = app_on(uri, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_hostile_experiment(pilot, ids["experiment"])
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, SweepScreen)
        # the hostile `lr` is a category: named on the x axis and, whole, in the run's panel
        assert_inert(app, inert(EXPERIMENT), "[@click=app.quit]x[/] run", "␛]2;pwned␇", inert(HOSTILE)[:60])
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, KeyPicker)
        assert_inert(app, "metric    [/INST]m␛]52;c;UFdORUQ=␇")
        await pilot.press("escape", "c")
        await settle(pilot)
        await type_text(pilot, "bold")
        await pilot.press("enter")  # colour by the hostile tag key
        await settle(pilot)
        assert_inert(app, "tags.[bold]t␇: ")
        await pilot.press("2")
        await settle(pilot)
        assert_inert(app, "[@click=app.quit]x[/] run", "[/INST] [/]")


async def test_every_run_tab_artifact_preview_and_csv(hostile, tmp_path):
    uri, ids = hostile
    app = app_on(uri, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_hostile_experiment(pilot, ids["experiment"])
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RunScreen)
        expected = {
            "1": [inert(RUN_NAME), "[/]user␛]2;pwned␇", "[/INST] [/] [@click=app.quit]x[/] [bold]b"],
            "2": ["[/INST]p␛[2J", "[/INST] [/] [@click=app.quit]x[/]"],
            "3": ["[/INST]m␛]52;c;UFdORUQ=␇"],
            "4": [],
            "5": ["[bold]t␇", "[/INST] [/] [@click=app.quit]x[/] [bold]b ␛]52;c;UFdORUQ=␇"],
            "6": ["notes[/", CSV_FILE, inert(ESCAPED_FILE)],
            "7": ["[/INST] trace ␛"],
        }
        for tab, visible in expected.items():
            await pilot.press(tab)
            await settle(pilot)
            assert_inert(app, *visible)
        await pilot.press("6")
        await settle(pilot)
        browser = app.screen.query_one(ArtifactBrowser)
        folder = browser._tree_nodes["notes["]
        folder.expand()
        await settle(pilot)
        browser.artifact_tree.move_cursor(browser._tree_nodes[ARTIFACT_PATH])
        await settle(pilot)
        assert_inert(app, inert(ARTIFACT_PATH), "line one [/INST] [/] [@click=app.quit]x[/]", "line two")
        browser.artifact_tree.move_cursor(browser._tree_nodes[CSV_FILE])
        await settle(pilot)
        await pilot.pause(0.2)  # the table, shown instead of the text, lays out on a later frame
        assert_inert(app, "[/INST]␛[2J", "␛]52;c;UFdORUQ=␇", "[@click=app.quit]x[/]")
        browser.artifact_tree.move_cursor(browser._tree_nodes[ESCAPED_FILE])
        await settle(pilot)
        assert_inert(app, "Cannot preview: Refusing artifact path")


async def test_traces_list_trace_and_span_detail(hostile, tmp_path):
    uri, ids = hostile
    app = app_on(uri, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_hostile_experiment(pilot, ids["experiment"])
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert isinstance(app.screen, TracesScreen)
        assert_inert(app, f"Traces · {inert(EXPERIMENT)}", "[/INST] trace ␛…", '{"q": "[/INST] [/] [@…')
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TraceScreen)
        assert_inert(app, "Trace [/INST] trace ␛]2;pwned␇", "[/] span ␛[2J")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, SpanScreen)
        assert_inert(app, "Span [/] span ␛[2J", "status: [/INST] [/] [@click=app.quit]x[/]",
                     "[/INST]: [/INST] [/] [@click=app.quit]x[/]")


async def test_notifications_and_error_toasts_show_markup_and_escapes_as_text(hostile, tmp_path):
    uri, _ids = hostile
    app = app_on(uri, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        app.screen.notify(f"plain {HOSTILE}", title=f"[/] {HOSTILE}")
        app.report_error(StoreError(f"server said {HOSTILE}"))
        await settle(pilot)
        assert_inert(app, "plain [/INST] [/] [@click=app.quit]x[/]", "server said [/INST] [/]")


async def test_delete_confirm_tag_editor_and_rename_dialogs(hostile, tmp_path):
    uri, ids = hostile
    app = app_on(writable_copy(uri, tmp_path), tmp_path, read_only=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_hostile_experiment(pilot, ids["experiment"])
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.title_text == f"Delete 1 run from experiment '{EXPERIMENT}'?"
        assert_inert(app, "Delete 1 run from experiment '[/INST] exp", "␛]52;c;UFdORUQ=␇'?", inert(RUN_NAME))
        await pilot.press("n", "t")
        await settle(pilot)
        assert isinstance(app.screen, TagEditor)
        assert_inert(app, f"Tags of run '{inert(RUN_NAME)}'", "[bold]t␇", "[/INST] [/] [@click=app.quit]x[/]")
        await pilot.press("escape", "r")
        await settle(pilot)
        assert isinstance(app.screen, RenameScreen)
        assert_inert(app, inert(RUN_NAME))
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, RunsScreen)


async def test_delete_an_experiment_named_with_closing_markup_then_undo(hostile, tmp_path):
    uri, ids = hostile
    copy = writable_copy(uri, tmp_path)
    client = mlflow_client(copy)
    app = app_on(copy, tmp_path, read_only=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#experiments-table")
        table.move_cursor(row=table.get_row_index(ids["second"]))
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.title_text == f"Delete experiment '{SECOND_EXPERIMENT}'?"
        await pilot.press("y")
        await settle(pilot)
        assert client.get_experiment(ids["second"]).lifecycle_stage == "deleted"
        assert_inert(app, f"Deleted experiment '{SECOND_EXPERIMENT}'. Press ctrl+z to undo.")
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert app.is_running
    assert client.get_experiment(ids["second"]).lifecycle_stage == "active"


def test_a_crash_exits_non_zero_and_says_which_delete_was_pending(hostile, tmp_path, capsys):
    uri, ids = hostile
    copy = writable_copy(uri, tmp_path)
    app = app_on(copy, tmp_path, read_only=False)

    def crash() -> None:
        raise RuntimeError("a bug somewhere")

    async def delete_then_crash(pilot) -> None:
        await settle(pilot)
        table = app.screen.query_one("#experiments-table")
        table.move_cursor(row=table.get_row_index(ids["second"]))
        await pilot.press("d", "y")
        await settle(pilot)
        app.call_later(crash)
        await pilot.pause()

    try:
        status = run_app(app, headless=True, size=SIZE, auto_pilot=delete_then_crash)
    finally:
        app.store.close()
    assert status == 1
    stderr = capsys.readouterr().err
    assert f"Deleted experiment '{SECOND_EXPERIMENT}'; not undone" in stderr
    assert f"Experiment id: {ids['second']}" in stderr and "press u" in stderr
    assert mlflow_client(copy).get_experiment(ids["second"]).lifecycle_stage == "deleted"
