"""Assessments in the TUI: the trace's panel of feedback and expectations, `f`/`x` to add one
from the keyboard (refused with the reason on a read-only store), and the traces list
filtered by `feedback.<name>`. Data: experiment `reviews` of the deterministic trace store
(tests/tui/trace_store.py), whose trace carries an overridden judge feedback, a code score,
an expectation, a feedback on a span, a judge's error and a rationale that looks like markup."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pilot_helpers import settle, type_text
from trace_store import REVIEW_TRACE, create_trace_store

from tracktui.store import open_store
from tracktui.tui.app import TrackApp
from tracktui.tui.config import Config
from tracktui.tui.screens.assessment_dialog import AssessmentDialog, parse_value
from tracktui.tui.screens.trace import TraceScreen
from tracktui.tui.screens.traces import TracesScreen
from tracktui.tui.widgets.assessment_panel import AssessmentPanel
from tracktui.tui.widgets.traces_table import TracesTable

SIZES = [(80, 24), (120, 40)]
pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def trace_store_uri(tmp_path_factory) -> str:
    return create_trace_store(tmp_path_factory.mktemp("assessed-store"))


def make_app(uri: str, tmp_path: Path, *, writable: bool = False) -> TrackApp:
    if writable:  # a private copy: the module's store stays as made
        copy = tmp_path / "mlflow.db"
        shutil.copyfile(uri.removeprefix("sqlite:///"), copy)
        uri = f"sqlite:///{copy}"
    store = open_store(uri, read_only=not writable)
    store.display_uri = "sqlite:///traces/mlflow.db"
    return TrackApp(store, config=Config(path=tmp_path / "tracktui.json"))


async def open_review(pilot, trace_id: str = REVIEW_TRACE) -> TraceScreen:
    await settle(pilot)
    await pilot.app.push_screen(TraceScreen(trace_id))
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, TraceScreen)
    return screen


def panel_text(screen) -> str:
    return str(screen.query_one(AssessmentPanel).render())


# -- the panel --------------------------------------------------------------------------------


async def test_panel_shows_value_source_span_rationale_and_overrides(trace_store_uri, tmp_path):
    app = make_app(trace_store_uri, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_review(pilot)
        panel = screen.query_one(AssessmentPanel)
        assert panel.display and not panel.has_class("-empty")
        lines = panel_text(screen).splitlines()
        assert lines[0].startswith("◆ toxicity error RATE_LIMIT_EXCEEDED")  # newest first
        assert "◆ quality = yes · HUMAN ada · Short, but it is right." in lines
        assert "◆ search_ok = false · LLM_JUDGE gpt-judge · span search · The search timed out." in lines
        assert '◇ answer = {"steps": ["Settings", "Security"]} · HUMAN ada' in lines
        # the overridden judge stays listed, last, marked; its markup-like rationale is text
        assert lines[-1] == "◆ quality = no · LLM_JUDGE gpt-judge · [bold]too short[/bold] (overridden)"
    app.store.close()


async def test_panel_is_hidden_for_a_trace_without_assessments(trace_store_uri, tmp_path):
    from trace_store import AGENT_TRACE

    app = make_app(trace_store_uri, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_review(pilot, AGENT_TRACE)
        assert screen.query_one(AssessmentPanel).has_class("-empty")
        assert not screen.query_one(AssessmentPanel).display
    app.store.close()


# -- adding from the keyboard -----------------------------------------------------------------


async def test_f_adds_a_feedback_with_rationale(trace_store_uri, tmp_path):
    app = make_app(trace_store_uri, tmp_path, writable=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_review(pilot)
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, AssessmentDialog)
        await type_text(pilot, "clarity")
        await pilot.press("enter")
        await type_text(pilot, "0.5")
        await pilot.press("enter")
        await type_text(pilot, "half clear")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        added = [a for a in app.store.get_trace(REVIEW_TRACE).info.assessments if a.name == "clarity"]
        assert [(a.kind, a.value, a.rationale, a.source_type) for a in added] == [("feedback", 0.5, "half clear", "HUMAN")]
        assert "◆ clarity = 0.5 · HUMAN" in panel_text(screen)
        found = app.store.search_traces([screen.trace.info.experiment_id], "feedback.clarity > 0.4")
        assert [i.trace_id for i in found] == [REVIEW_TRACE]
    app.store.close()


async def test_x_adds_an_expectation_without_rationale(trace_store_uri, tmp_path):
    app = make_app(trace_store_uri, tmp_path, writable=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_review(pilot)
        await pilot.press("x")
        await settle(pilot)
        assert not app.screen.query("#assessment-rationale")
        await type_text(pilot, "tone")
        await pilot.press("enter")
        await type_text(pilot, "polite")
        await pilot.press("enter")
        await settle(pilot)
        added = [a for a in app.store.get_trace(REVIEW_TRACE).info.assessments if a.name == "tone"]
        assert [(a.kind, a.value) for a in added] == [("expectation", "polite")]
        assert "◇ tone = polite · HUMAN" in panel_text(screen)
    app.store.close()


async def test_dialog_needs_name_and_value_and_esc_cancels(trace_store_uri, tmp_path):
    app = make_app(trace_store_uri, tmp_path, writable=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_review(pilot)
        before = len(screen.trace.info.assessments)
        await pilot.press("f")
        await settle(pilot)
        await pilot.press("enter", "enter", "enter")  # nothing typed: refused at the last field
        await settle(pilot)
        assert isinstance(app.screen, AssessmentDialog)
        assert "A name is needed" in str(app.screen.query_one("#assessment-error").render())
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        assert len(app.store.get_trace(REVIEW_TRACE).info.assessments) == before
    app.store.close()


async def test_f_on_a_read_only_store_says_why(trace_store_uri, tmp_path):
    app = make_app(trace_store_uri, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_review(pilot)
        await pilot.press("f")
        await settle(pilot)
        assert app.screen is screen
        assert [n for n in app._notifications if n.title == "Read-only store"]
    app.store.close()


def test_typed_values_are_json_when_they_are_json():
    assert parse_value("0.8") == 0.8
    assert parse_value("true") is True
    assert parse_value(' ["a", 1] ') == ["a", 1]
    assert parse_value("yes") == "yes"
    assert parse_value("[not json") == "[not json"


# -- filtering the list -----------------------------------------------------------------------


async def test_traces_list_filters_by_feedback(trace_store_uri, tmp_path):
    app = make_app(trace_store_uri, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await app.push_screen(TracesScreen(app.store.get_experiment_by_name("reviews")))
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "feedback.quality = 'yes'")
        await pilot.press("enter")
        await settle(pilot)
        assert [t.trace_id for t in app.screen.query_one(TracesTable).traces] == [REVIEW_TRACE]
        await pilot.press("slash", "ctrl+u")
        await type_text(pilot, "feedback.quality = 'no'")  # overridden: no longer counts
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.query_one(TracesTable).traces == []
    app.store.close()


# -- snapshots --------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_trace_with_assessments_snapshot(snap_compare, trace_store_uri, tmp_path, size):
    app = make_app(trace_store_uri, tmp_path)

    async def run_before(pilot) -> None:
        await open_review(pilot)

    try:
        assert snap_compare(app, terminal_size=size, run_before=run_before)
    finally:
        app.store.close()


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_feedback_dialog_snapshot(snap_compare, trace_store_uri, tmp_path, size):
    app = make_app(trace_store_uri, tmp_path, writable=True)

    async def run_before(pilot) -> None:
        await open_review(pilot)
        await pilot.press("f")
        await settle(pilot)
        await type_text(pilot, "clarity")
        await pilot.press("enter")
        await settle(pilot)

    try:
        assert snap_compare(app, terminal_size=size, run_before=run_before)
    finally:
        app.store.close()
