"""Deleting traces and editing their tags from the TUI (tui/trace_actions.py): from the traces
list (marks included), from one trace's view and from a run's Traces tab. Each test edits its
own copy of the deterministic trace store and reads the result back with the real
MlflowClient."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from action_helpers import mlflow_client
from pilot_helpers import settle, type_text
from trace_store import AGENT_TRACE, RUN_NAME, RUN_TRACE, create_trace_store

from tracktui.store import open_store
from tracktui.tui.app import TrackApp
from tracktui.tui.commands import screen_actions
from tracktui.tui.config import Config
from tracktui.tui.screens.confirm import ConfirmScreen
from tracktui.tui.screens.copy_menu import CopyMenu
from tracktui.tui.screens.run import RunScreen
from tracktui.tui.screens.tag_editor import TagEditor
from tracktui.tui.screens.trace import TraceScreen
from tracktui.tui.screens.traces import TracesScreen, TracesView
from tracktui.tui.widgets.runs_table import MARK_GLYPH
from tracktui.tui.widgets.traces_table import TracesTable

SIZE = (120, 40)
pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def trace_store_source(tmp_path_factory) -> Path:
    uri = create_trace_store(tmp_path_factory.mktemp("trace-store-source"))
    return Path(uri.removeprefix("sqlite:///"))


@pytest.fixture
def trace_copy(trace_store_source, tmp_path) -> str:
    """A private copy of the trace database (its spans are in the database)."""
    target = tmp_path / "store" / "mlflow.db"
    target.parent.mkdir()
    shutil.copyfile(trace_store_source, target)
    return f"sqlite:///{target}"


def make_app(uri: str, tmp_path: Path, read_only: bool = False) -> TrackApp:
    store = open_store(uri, read_only=read_only)
    store.display_uri = "sqlite:///traces/mlflow.db"
    return TrackApp(store, config=Config(path=tmp_path / "tracktui.json"))


def trace_ids_in_mlflow(uri: str) -> set[str]:
    client = mlflow_client(uri)
    experiment = client.get_experiment_by_name("agents")
    return {t.info.trace_id for t in client.search_traces(locations=[experiment.experiment_id], include_spans=False)}


def mlflow_tags(uri: str, trace_id: str) -> dict[str, str]:
    return dict(mlflow_client(uri).get_trace(trace_id).info.tags)


async def open_traces(pilot) -> TracesTable:
    await settle(pilot)
    app = pilot.app
    await app.push_screen(TracesScreen(app.store.get_experiment_by_name("agents")))
    await settle(pilot)
    return app.screen.query_one(TracesTable)


async def add_tag(pilot, key: str, value: str) -> None:
    editor = pilot.app.screen
    assert isinstance(editor, TagEditor)
    await pilot.press("a")
    await type_text(pilot, key)
    await pilot.press("enter")
    await type_text(pilot, value)
    await pilot.press("enter")


def notes(app) -> list[str]:
    return [n.message for n in app._notifications]


async def test_delete_marked_traces_after_confirming(trace_copy, tmp_path):
    app = make_app(trace_copy, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        table = await open_traces(pilot)
        assert [t.trace_id for t in table.traces] == [RUN_TRACE, AGENT_TRACE]
        await pilot.press("m")  # marks the newest and moves down
        assert list(table.marked) == [RUN_TRACE] and table.cursor_row == 1
        assert str(table.get_row(RUN_TRACE)[1]).startswith(MARK_GLYPH)
        await pilot.press("d")
        await settle(pilot)
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        assert confirm.title_text == "Delete 1 trace permanently?"
        assert confirm.body_text.startswith("summarise · 2026-01-01 ")  # name and when it ran
        assert "cannot be restored" in confirm.body_text
        await pilot.press("n")  # cancelled: nothing happens
        await settle(pilot)
        assert trace_ids_in_mlflow(trace_copy) == {RUN_TRACE, AGENT_TRACE}
        await pilot.press("d", "y")
        await settle(pilot)
        assert isinstance(app.screen, TracesScreen)
        assert [t.trace_id for t in table.traces] == [AGENT_TRACE] and not table.marked
        assert "Deleted 1 trace" in notes(app)
    assert trace_ids_in_mlflow(trace_copy) == {AGENT_TRACE}


async def test_edit_tags_of_the_trace_under_the_cursor(trace_copy, tmp_path):
    app = make_app(trace_copy, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        table = await open_traces(pilot)
        await pilot.press("down", "t")
        await settle(pilot)
        editor = app.screen
        assert isinstance(editor, TagEditor)
        assert editor.original["mlflow.traceName"] == "support-agent"
        await add_tag(pilot, "reviewed", "yes")
        # a value over the trace tag limit is refused inline, as the store would
        await pilot.press("a")
        await type_text(pilot, "note")
        await pilot.press("enter")
        editor.query_one("#tag-value").value = "x" * 8001
        await pilot.press("enter")
        assert "at most 8000" in str(editor.query_one("#tags-error").render())
        table_in_editor = editor.query_one("#tags-table")
        table_in_editor.focus()
        table_in_editor.move_cursor(row=table_in_editor.get_row_index("mlflow.traceName"))
        await pilot.press("enter")
        editor.query_one("#tag-value").value = "support-agent-v2"
        await pilot.press("enter", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, TracesScreen)
        assert table.current.trace_id == AGENT_TRACE  # the reload kept the cursor
        assert "support-agent-v2" in str(table.get_row(AGENT_TRACE)[1])
    tags = mlflow_tags(trace_copy, AGENT_TRACE)
    assert tags["reviewed"] == "yes" and tags["mlflow.traceName"] == "support-agent-v2"
    assert "note" not in tags
    assert "reviewed" not in mlflow_tags(trace_copy, RUN_TRACE)


async def test_after_editing_tags_the_cursor_finds_its_trace_on_a_later_page(trace_copy, tmp_path, monkeypatch):
    import tracktui.tui.screens.traces as traces_screen

    monkeypatch.setattr(traces_screen, "PAGE_SIZE", 1)  # the second trace is on the second page
    app = make_app(trace_copy, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        table = await open_traces(pilot)
        await pilot.press("down", "t")
        await settle(pilot)
        await add_tag(pilot, "reviewed", "yes")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert [t.trace_id for t in table.traces] == [RUN_TRACE, AGENT_TRACE]
        assert table.current.trace_id == AGENT_TRACE
    assert mlflow_tags(trace_copy, AGENT_TRACE)["reviewed"] == "yes"


async def test_tags_of_marked_traces_are_set_and_deleted_on_each(trace_copy, tmp_path):
    app = make_app(trace_copy, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_traces(pilot)
        await pilot.press("m", "m", "t")
        await settle(pilot)
        editor = app.screen
        assert editor.subject == "2 marked traces"
        await add_tag(pilot, "batch", "7")
        await pilot.press("ctrl+s")
        await settle(pilot)
    assert mlflow_tags(trace_copy, AGENT_TRACE)["batch"] == "7"
    assert mlflow_tags(trace_copy, RUN_TRACE)["batch"] == "7"


async def test_trace_view_edits_tags_then_deletes_the_trace(trace_copy, tmp_path):
    app = make_app(trace_copy, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        table = await open_traces(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        view = app.screen
        assert isinstance(view, TraceScreen) and view.trace_id == AGENT_TRACE
        await pilot.press("t")
        await settle(pilot)
        await add_tag(pilot, "mlflow.traceName", "renamed-agent")
        assert "the trace's name" in str(app.screen.query_one("#tags-warning").render())
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is view
        assert "renamed-agent" in str(view.query_one("#trace-title").render())
        assert "renamed-agent" in str(table.get_row(AGENT_TRACE)[1])  # the list below reloaded
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, TracesScreen)
        assert [t.trace_id for t in table.traces] == [RUN_TRACE]
    assert trace_ids_in_mlflow(trace_copy) == {RUN_TRACE}


async def test_run_traces_tab_t_edits_the_trace_not_the_run(trace_copy, tmp_path):
    app = make_app(trace_copy, tmp_path)
    client = mlflow_client(trace_copy)
    run = client.search_runs([client.get_experiment_by_name("agents").experiment_id],
                             filter_string=f"attributes.run_name = '{RUN_NAME}'")[0]
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.push_screen(RunScreen(run.info.run_id))
        await settle(pilot)
        await pilot.press("7")  # the Traces tab
        await settle(pilot)
        app.screen.query_one(TracesView).table.focus()
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, TagEditor)
        assert app.screen.subject == "trace 'summarise'"
        await add_tag(pilot, "checked", "1")
        await pilot.press("ctrl+s")
        await settle(pilot)
    assert mlflow_tags(trace_copy, RUN_TRACE)["checked"] == "1"
    assert "checked" not in client.get_run(run.info.run_id).data.tags


async def test_copy_trace_id_from_the_list_and_the_whole_request_from_the_trace_view(trace_copy, tmp_path):
    app = make_app(trace_copy, tmp_path, read_only=True)  # copying needs no writes
    async with app.run_test(size=SIZE) as pilot:
        await open_traces(pilot)
        await pilot.press("down", "y")
        await settle(pilot)
        assert isinstance(app.screen, CopyMenu)
        await pilot.press("i")
        await settle(pilot)
        assert app.clipboard == AGENT_TRACE
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("y", "q")
        await settle(pilot)
        assert json.loads(app.clipboard) == {"question": "How do I reset my password?",
                                             "user": {"id": 42, "plan": "pro"}}
        await pilot.press("y")
        await settle(pilot)
        # the agent trace has no run: no empty entry for it
        assert [letter for letter, *_ in app.screen.choices] == ["i", "n", "q", "a"]
        await pilot.press("escape")


async def test_read_only_store_refuses_trace_writes(trace_copy, tmp_path):
    app = make_app(trace_copy, tmp_path, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await open_traces(pilot)
        for key in ("d", "t"):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, TracesScreen)
        assert sum("Writes are disabled" in n for n in notes(app)) == 2
        titles = {title for title, *_ in screen_actions(app.screen)}
        assert {"traces: Mark trace", "traces: Delete traces", "traces: Edit trace tags"} <= titles
    assert trace_ids_in_mlflow(trace_copy) == {RUN_TRACE, AGENT_TRACE}


def test_snapshot_trace_delete_confirmation(snap_compare, trace_copy, tmp_path):
    async def run_before(pilot) -> None:
        table = await open_traces(pilot)
        table.focus()
        await pilot.press("m", "m", "d")
        await settle(pilot)

    assert snap_compare(make_app(trace_copy, tmp_path), terminal_size=SIZE, run_before=run_before)
