"""Traces in the TUI: the experiment's traces list, a run's Traces tab, the span tree with its
waterfall, jumps to the slowest span and the first error, and span detail.

Pilot tests and snapshots use the deterministic trace store (tests/tui/trace_store.py: real
mlflow SQL store, fixed ids and times); one test opens traces logged by `@mlflow.trace`
(tests/fixtures/traces.py) to show real tracing output renders too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pilot_helpers import settle, type_text
from trace_store import (
    AGENT_TRACE,
    RUN_NAME,
    RUN_TRACE,
    SEARCH_ERROR,
    create_trace_store,
)

from tracktui.store import open_store
from tracktui.tui.app import TrackApp
from tracktui.tui.config import Config
from tracktui.tui.screens.run import RunScreen
from tracktui.tui.screens.runs import RunsScreen
from tracktui.tui.screens.span import SpanScreen
from tracktui.tui.screens.trace import TraceScreen
from tracktui.tui.screens.traces import TracesScreen, TracesView
from tracktui.tui.widgets.span_detail import SpanDetail
from tracktui.tui.widgets.span_waterfall import SpanTree, waterfall_bar
from tracktui.tui.widgets.traces_table import TracesTable

SIZE = (120, 40)
pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def trace_store_uri(tmp_path_factory) -> str:
    return create_trace_store(tmp_path_factory.mktemp("trace-store"))


def make_trace_app(uri: str, tmp_path: Path) -> TrackApp:
    store = open_store(uri, read_only=True)
    store.display_uri = "sqlite:///traces/mlflow.db"  # the temp path differs per run
    return TrackApp(store, config=Config(path=tmp_path / "tracktui.json"))


def tree_names(tree: SpanTree) -> list[str]:
    """Names of the visible rows, in order."""
    return [tree.get_node_at_line(i).data.name for i in range(tree.last_line + 1)]


async def open_trace(pilot, trace_id: str = AGENT_TRACE) -> SpanTree:
    await settle(pilot)
    await pilot.app.push_screen(TraceScreen(trace_id))
    await settle(pilot)
    return pilot.app.screen.query_one(SpanTree)


# -- traces list ------------------------------------------------------------------------------


async def test_runs_screen_opens_experiment_traces_newest_first(trace_store_uri, tmp_path):
    app = make_trace_app(trace_store_uri, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.push_screen(RunsScreen(app.store.get_experiment_by_name("agents")))
        await settle(pilot)
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert isinstance(app.screen, TracesScreen)
        table = app.screen.query_one(TracesTable)
        assert [t.trace_id for t in table.traces] == [RUN_TRACE, AGENT_TRACE]
        agent_row = table.get_row(AGENT_TRACE)
        assert "support-agent" in str(agent_row[1])
        assert str(agent_row[3]) == "2.4 s"
        assert str(agent_row[4]) == "120/48"
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, TraceScreen) and app.screen.trace_id == AGENT_TRACE
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, TracesScreen)
    app.store.close()


async def test_traces_load_page_by_page(trace_store_uri, tmp_path, monkeypatch):
    """Pages of one trace: the next page is fetched with the store's page token until none is left."""
    import tracktui.tui.screens.traces as traces_screen

    monkeypatch.setattr(traces_screen, "PAGE_SIZE", 1)
    app = make_trace_app(trace_store_uri, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.push_screen(TracesScreen(app.store.get_experiment_by_name("agents")))
        await settle(pilot)
        view = app.screen.query_one(TracesView)
        assert [t.trace_id for t in view.table.traces] == [RUN_TRACE, AGENT_TRACE]
        assert view._next_token is None
    app.store.close()


async def test_traces_filter_and_inline_syntax_error(trace_store_uri, tmp_path):
    app = make_trace_app(trace_store_uri, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.push_screen(TracesScreen(app.store.get_experiment_by_name("agents")))
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "name = 'support-agent'")
        await pilot.press("enter")
        await settle(pilot)
        assert [t.trace_id for t in app.screen.query_one(TracesTable).traces] == [AGENT_TRACE]
        await pilot.press("slash", "ctrl+u")
        await type_text(pilot, "name = ")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.query_one("#traces-filter").has_class("-error")
    app.store.close()


async def test_run_traces_tab_lists_only_the_runs_traces(trace_store_uri, tmp_path):
    app = make_trace_app(trace_store_uri, tmp_path)
    experiment = app.store.get_experiment_by_name("agents")
    run = app.store.search_runs([experiment.id], f"attributes.run_name = '{RUN_NAME}'").items[0]
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.push_screen(RunScreen(run.id))
        await settle(pilot)
        await pilot.press("7")
        await settle(pilot)
        view = app.screen.query_one(TracesView)
        assert [t.trace_id for t in view.table.traces] == [RUN_TRACE]
        # / filters within the run's traces (the run_id condition stays).
        await pilot.press("slash")
        await type_text(pilot, "name = 'support-agent'")
        await pilot.press("enter")
        await settle(pilot)
        assert view.table.traces == []
        await pilot.press("slash", "ctrl+u", "enter")
        await settle(pilot)
        assert [t.trace_id for t in view.table.traces] == [RUN_TRACE]
        view.table.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TraceScreen) and app.screen.trace_id == RUN_TRACE
    app.store.close()


# -- trace view -------------------------------------------------------------------------------


async def test_span_tree_expand_collapse_and_jumps(trace_store_uri, tmp_path):
    app = make_trace_app(trace_store_uri, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        tree = await open_trace(pilot)
        assert tree_names(tree) == ["support-agent", "retrieve", "plan", "search", "chat_model"]

        await pilot.press("e")  # first error
        await settle(pilot)
        assert tree.current_span.name == "search" and tree.current_span.is_error

        await pilot.press("s")  # slowest span below the root
        await settle(pilot)
        assert tree.current_span.name == "plan"

        await pilot.press("left")  # collapse plan: its children leave the view
        await settle(pilot)
        assert tree_names(tree) == ["support-agent", "retrieve", "plan"]
        await pilot.press("e")  # jumping to the error opens the way to it
        await settle(pilot)
        assert tree_names(tree)[3] == "search" and tree.current_span.name == "search"

        await pilot.press("left")  # on a leaf: to its parent
        await settle(pilot)
        assert tree.current_span.name == "plan"
        await pilot.press("z")
        await settle(pilot)
        assert tree_names(tree) == ["support-agent"]
        await pilot.press("E")
        await settle(pilot)
        assert len(tree_names(tree)) == 5
    app.store.close()


async def test_enter_opens_span_detail_and_esc_returns(trace_store_uri, tmp_path):
    app = make_trace_app(trace_store_uri, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        tree = await open_trace(pilot)
        await pilot.press("e")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, SpanScreen) and app.screen.span.name == "search"
        facts = str(app.screen.query_one("#span-facts").render())
        assert "TimeoutError: " + SEARCH_ERROR in facts
        assert app.screen.query_one("#span-facts").has_class("-error")
        detail = app.screen.query_one(SpanDetail)
        sections = [str(n.data.key) for n in detail.root.children]
        assert sections == ["Inputs", "Outputs", "Attributes", "Exceptions", "Events"]
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, TraceScreen) and tree.current_span.name == "search"
    app.store.close()


async def test_span_detail_folds_json_and_copies_values(trace_store_uri, tmp_path):
    app = make_trace_app(trace_store_uri, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        tree = await open_trace(pilot)
        tree.select_span(tree.trace.by_id["a000000000000005"])  # chat_model
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        detail = app.screen.query_one(SpanDetail)
        # Cursor on "Inputs": y copies the whole inputs as JSON.
        await pilot.press("y")
        assert json.loads(app.clipboard) == detail.span.inputs
        await pilot.press("down", "down")  # Inputs > messages > [0]
        node = detail.cursor_node
        assert node.data.key == "0" and node.is_expanded is False and not node.children
        await pilot.press("right")  # expands: children added on first expand
        await settle(pilot)
        assert [c.data.key for c in node.children] == ["role", "content"]
        await pilot.press("down", "down", "y")  # content
        assert app.clipboard == "You are a support agent."
        await pilot.press("left", "left")  # to [0], then fold it
        await settle(pilot)
        assert detail.cursor_node is node and not node.is_expanded
    app.store.close()


async def test_real_mlflow_traces_open(tmp_path):
    """Traces logged by `@mlflow.trace` (random ids, real timings) list, open and show details."""
    import mlflow

    from fixtures.traces import ERROR_MESSAGE, populate_traces

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    experiment_id = mlflow.MlflowClient(uri).create_experiment("alpha")
    fixture = populate_traces(uri, experiment_id)
    app = make_trace_app(uri, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.push_screen(TracesScreen(app.store.get_experiment(experiment_id)))
        await settle(pilot)
        assert len(app.screen.query_one(TracesTable).traces) == 5
        await open_trace(pilot, fixture["error"])
        await pilot.press("e", "enter")
        await settle(pilot)
        assert isinstance(app.screen, SpanScreen)
        assert ERROR_MESSAGE in str(app.screen.query_one("#span-facts").render())
        await pilot.press("escape")
        await open_trace(pilot, fixture["large"])
        await pilot.press("enter")
        await settle(pilot)
        detail = app.screen.query_one(SpanDetail)
        assert len(detail.span.inputs["blob"]) == 100_000
    app.store.close()


def test_waterfall_bar_cells():
    assert waterfall_bar(0.0, 1.0, 10) == ("", "█" * 10, "")
    assert waterfall_bar(0.5, 0.5, 10) == (" " * 5, "█", " " * 4)  # an instant still shows
    assert waterfall_bar(0.95, 1.0, 10) == (" " * 9, "█", "")
    assert waterfall_bar(0.2, 0.46, 10) == ("  ", "███", " " * 5)


# -- snapshots (120x40) -------------------------------------------------------------------------


def test_trace_view_snapshot(snap_compare, trace_store_uri, tmp_path):
    """The agent trace: indented tree, types, the failed search span in the error colour, bars;
    the cursor on the first error."""
    app = make_trace_app(trace_store_uri, tmp_path)

    async def run_before(pilot) -> None:
        await open_trace(pilot)
        await pilot.press("e")
        await settle(pilot)

    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
    finally:
        app.store.close()


def test_span_detail_snapshot(snap_compare, trace_store_uri, tmp_path):
    """The LLM span: inputs/outputs folded two levels deep, attributes, an event."""
    app = make_trace_app(trace_store_uri, tmp_path)

    async def run_before(pilot) -> None:
        tree = await open_trace(pilot)
        tree.select_span(tree.trace.by_id["a000000000000005"])
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)

    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
    finally:
        app.store.close()


def test_traces_list_snapshot(snap_compare, trace_store_uri, tmp_path):
    app = make_trace_app(trace_store_uri, tmp_path)

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.app.push_screen(TracesScreen(pilot.app.store.get_experiment_by_name("agents")))
        await settle(pilot)
        pilot.app.screen.query_one(TracesTable).focus()  # focus settles the cursor's style
        await settle(pilot)

    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
    finally:
        app.store.close()


def test_span_tree_bounds_match_trace_bounds(trace_store_uri):
    """SpanTree caches the timeline; its bars must sit where Trace.bounds says."""
    with open_store(trace_store_uri, read_only=True) as store:
        trace = store.get_trace(AGENT_TRACE)
    tree = SpanTree(trace)
    assert [tree._bounds(s) for s in trace.spans] == [trace.bounds(s) for s in trace.spans]
