"""The description editor (`e` on a run or an experiment): Markdown typed in a TextArea with its
preview, saved to `mlflow.note.content` and read back by the real MlflowClient byte for byte;
refused with the reason on a read-only store. Snapshots at 80x24 and 120x40."""

from __future__ import annotations

import pytest
from action_helpers import app_on_copy, mlflow_client, writable_copy
from pilot_helpers import open_experiment, settle, type_text

from tracktui.store.model import NOTE_TAG
from tracktui.tui.screens.description_editor import DescriptionEditor
from tracktui.tui.screens.experiments import ExperimentsScreen
from tracktui.tui.screens.run import RunScreen
from tracktui.tui.widgets.run_overview import RunOverview

pytestmark = pytest.mark.anyio

#: Multi-line Markdown, unicode beyond the BMP, a tab, and the trailing newline MLflow keeps.
DESCRIPTION = "# Sweep ✓\n\n* lr: 1e-4\n* ünïcode — 日本語 😀\n\tindented\n"


@pytest.fixture
def store_copy(demo_store_uri, tmp_path) -> str:
    return writable_copy(demo_store_uri, tmp_path)


async def open_editor(pilot, key: str = "e") -> DescriptionEditor:
    await pilot.press(key)
    await settle(pilot)
    editor = pilot.app.screen
    assert isinstance(editor, DescriptionEditor)
    editor.query_one("TextArea").cursor_blink = False
    return editor


async def test_a_run_description_is_saved_byte_for_byte(store_copy, tmp_path):
    app = app_on_copy(store_copy, tmp_path)
    client = mlflow_client(store_copy)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "mnist")
        await pilot.press("enter")
        await settle(pilot)
        run_screen = app.screen
        assert isinstance(run_screen, RunScreen)
        editor = await open_editor(pilot)
        area = editor.query_one("TextArea")
        area.text = ""
        await type_text(pilot, "draft")
        await pilot.press("enter")  # a new line, not a submit
        assert editor.text == "draft\n"
        area.text = DESCRIPTION  # what typing cannot send through the pilot (tab, astral plane)
        await settle(pilot)
        preview = editor.query_one("#description-markdown")
        assert preview.display and "Sweep ✓" in str(preview.query("MarkdownH1").first().render())  # rendered beside
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is run_screen
        assert client.get_run(run_screen.run_id).data.tags[NOTE_TAG].encode() == DESCRIPTION.encode()
        overview = run_screen.query_one(RunOverview)
        assert overview.query_one("#overview-description").display  # reloaded: shown on the Overview


async def test_an_experiment_description_is_saved_byte_for_byte(store_copy, tmp_path):
    app = app_on_copy(store_copy, tmp_path)
    client = mlflow_client(store_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ExperimentsScreen)
        experiment = screen.current_experiment
        editor = await open_editor(pilot)
        assert not editor.query_one("#description-preview").display  # narrow: the editor alone
        await pilot.press("ctrl+t")
        assert editor.query_one("#description-preview").display and not editor.query_one("TextArea").display
        await pilot.press("ctrl+t")
        editor.query_one("TextArea").text = DESCRIPTION
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
    assert client.get_experiment(experiment.id).tags[NOTE_TAG].encode() == DESCRIPTION.encode()


async def test_cancel_asks_once_when_changed_and_unchanged_saves_write_nothing(store_copy, tmp_path):
    app = app_on_copy(store_copy, tmp_path)
    client = mlflow_client(store_copy)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "mnist")
        await pilot.press("enter")
        await settle(pilot)
        run_id = app.screen.run_id
        before = client.get_run(run_id).data.tags.get(NOTE_TAG)
        editor = await open_editor(pilot)
        await pilot.press("ctrl+s")  # unchanged
        await settle(pilot)
        assert not isinstance(app.screen, DescriptionEditor)
        editor = await open_editor(pilot)
        await type_text(pilot, "x")
        await pilot.press("escape")
        assert app.screen is editor and "esc again discards" in str(editor.query_one("#description-error").render())
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, DescriptionEditor)
    assert client.get_run(run_id).data.tags.get(NOTE_TAG) == before


async def test_a_too_long_description_stays_in_the_editor_with_the_reason(store_copy, tmp_path):
    app = app_on_copy(store_copy, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "mnist")
        await pilot.press("enter")
        await settle(pilot)
        editor = await open_editor(pilot)
        editor.query_one("TextArea").text = "x" * 8001
        await pilot.press("ctrl+s")
        assert app.screen is editor
        assert "8000" in str(editor.query_one("#description-error").render())


async def test_read_only_store_refuses_with_the_reason(make_app):
    def refused() -> list[str]:
        """The read-only warnings shown since the last call (each shows for 6 s only)."""
        shown = [n.message for n in app._notifications if n.title == "Read-only store"]
        app.clear_notifications()
        return shown

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("e")  # on the experiments screen
        await settle(pilot)
        assert isinstance(app.screen, ExperimentsScreen)
        assert refused() == ["Writes are disabled: the store was opened read-only"]
        await open_experiment(pilot, "mnist")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("e")  # on a run
        await settle(pilot)
        assert isinstance(app.screen, RunScreen)
        assert refused() == ["Writes are disabled: the store was opened read-only"]


SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])


@SIZES
def test_editor_snapshot(snap_compare, make_app, size):
    async def run_before(pilot) -> None:
        await settle(pilot)
        editor = DescriptionEditor("run 'bert-sweep'", DESCRIPTION.replace("😀", "ok"), lambda key, value: None)
        await pilot.app.push_screen(editor)
        await settle(pilot)
        editor.query_one("TextArea").cursor_blink = False
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=size, run_before=run_before)


async def test_the_tag_editor_edits_multi_line_values_in_the_multi_line_editor(make_app):
    from tracktui.tui.screens.tag_editor import TagEditor

    config = "layers:\n  - 64\n  - 32\n"
    async with make_app().run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        tags = TagEditor("run 'x'", [{"a": "b", "config": config, NOTE_TAG: DESCRIPTION}])
        await pilot.app.push_screen(tags)
        await settle(pilot)
        await pilot.press("down", "enter")  # config: its lines stay lines
        await settle(pilot)
        lines = pilot.app.screen
        assert isinstance(lines, DescriptionEditor) and lines.text == config
        assert "Tag config of run 'x'" in str(lines.query_one(".description-title").render())
        lines.query_one("TextArea").text = config + "  - 16\n"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert pilot.app.screen is tags and tags.changes.set == {"config": config + "  - 16\n"}
        await pilot.press("down", "enter")  # the description
        await settle(pilot)
        assert isinstance(pilot.app.screen, DescriptionEditor) and pilot.app.screen.text == DESCRIPTION
        await pilot.press("escape")
        await settle(pilot)
        assert pilot.app.screen is tags and NOTE_TAG not in tags.changes.set
