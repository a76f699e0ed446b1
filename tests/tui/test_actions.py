"""Write actions from the TUI (tui/actions.py): delete/undo/restore runs and experiments, tags,
rename, copy, read-only refusal. Each test edits its own copy of the demo store and checks the
result with the real MlflowClient."""

from __future__ import annotations

import pytest
from action_helpers import app_on_copy, mlflow_client, writable_copy
from pilot_helpers import open_experiment, settle, type_text

from tracktui.tui.screens.confirm import ConfirmScreen
from tracktui.tui.screens.copy_menu import CopyMenu
from tracktui.tui.screens.experiments import ExperimentsScreen
from tracktui.tui.screens.rename import RenameScreen
from tracktui.tui.screens.runs import RunsScreen
from tracktui.tui.screens.tag_editor import TagEditor

pytestmark = pytest.mark.anyio


@pytest.fixture
def store_copy(demo_store_uri, tmp_path) -> str:
    return writable_copy(demo_store_uri, tmp_path)


@pytest.fixture
def client(store_copy):
    return mlflow_client(store_copy)


def rows(app):
    return app.screen.table.rows


def stage(client, run_id: str) -> str:
    return client.get_run(run_id).info.lifecycle_stage


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector).render())


def notes(app) -> list[str]:
    return [n.message for n in app._notifications]


async def test_delete_selected_run_confirms_then_undo_restores_it(store_copy, client, tmp_path):
    app = app_on_copy(store_copy, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "mnist")
        run = app.screen.table.current.run
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.title_text == "Delete 1 run from experiment 'mnist-classifier'?"
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, RunsScreen)
        assert run.id not in {r.run.id for r in rows(app)}
        assert stage(client, run.id) == "deleted"
        assert any("ctrl+z to undo" in n for n in notes(app))
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert stage(client, run.id) == "active"
        assert run.id in {r.run.id for r in rows(app)}
        assert not any("ctrl+z to undo" in n for n in notes(app)), "no stale undo offer once undone"
        assert any(n.startswith("Undone") for n in notes(app))


async def test_undo_from_another_screen_restores_without_errors(store_copy, client, tmp_path):
    app = app_on_copy(store_copy, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "mnist")
        run = app.screen.table.current.run
        await pilot.press("d", "y")
        await settle(pilot)
        assert stage(client, run.id) == "deleted"
        await pilot.press("escape")  # back to the experiments screen, then undo there
        await settle(pilot)
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert stage(client, run.id) == "active"
        assert not [n for n in app._notifications if n.severity == "error"]


async def test_cancelled_delete_changes_nothing(store_copy, client, tmp_path):
    app = app_on_copy(store_copy, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "mnist")
        run = app.screen.table.current.run
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("enter")  # focus starts on Cancel: Enter alone never deletes
        await settle(pilot)
        assert isinstance(app.screen, RunsScreen)
        assert stage(client, run.id) == "active"


async def test_delete_marked_runs_then_restore_them_in_the_deleted_view(store_copy, client, tmp_path):
    app = app_on_copy(store_copy, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "mnist")
        first, second = rows(app)[0].run, rows(app)[1].run
        await pilot.press("m", "m", "d")
        await settle(pilot)
        assert app.screen.title_text == "Delete 2 runs from experiment 'mnist-classifier'?"
        await pilot.press("y")
        await settle(pilot)
        assert stage(client, first.id) == stage(client, second.id) == "deleted"
        assert len(app.run_marks) == 0  # deleted runs are unmarked
        await pilot.press("D")  # the deleted view
        await settle(pilot)
        table = app.screen.table
        ids = [r.run.id for r in table.rows]
        for run_id in (first.id, second.id):
            table.cursor_row = ids.index(run_id)
            await pilot.press("m")
        await pilot.press("u")
        await settle(pilot)
        assert stage(client, first.id) == stage(client, second.id) == "active"


async def test_tag_editor_adds_changes_and_deletes_tags_with_inline_errors(store_copy, client, tmp_path):
    app = app_on_copy(store_copy, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "mnist")
        run = app.screen.table.current.run
        await pilot.press("t")
        await settle(pilot)
        editor = app.screen
        assert isinstance(editor, TagEditor)
        assert editor.original["dataset"] == "mnist"
        # a key the store refuses: the error shows inline, nothing is staged
        await pilot.press("a")
        editor.query_one("#tag-key").value = "bad key!"
        await pilot.press("enter", "x", "enter")
        assert "Invalid tag key 'bad key!'" in text_of(editor, "#tags-error")
        assert not editor.changes
        # add a tag
        key_input = editor.query_one("#tag-key")
        key_input.value = ""
        key_input.focus()
        await type_text(pilot, "team")
        await pilot.press("enter")
        await type_text(pilot, "vision")
        await pilot.press("enter")
        assert editor.changes.set == {"team": "vision"}
        # change one: Enter on its row fills the inputs
        table = editor.query_one("#tags-table")
        table.move_cursor(row=table.get_row_index("dataset"))
        await pilot.press("enter")
        editor.query_one("#tag-value").value = "mnist-v2"
        await pilot.press("enter")
        # delete one; a reserved key gets a warning naming what it does
        table.move_cursor(row=table.get_row_index("mlflow.user"))
        await pilot.press("x")
        assert "reserved MLflow tag" in text_of(editor, "#tags-warning")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, RunsScreen)
    tags = client.get_run(run.id).data.tags
    assert tags["team"] == "vision"
    assert tags["dataset"] == "mnist-v2"
    assert "mlflow.user" not in tags


async def test_tag_editor_on_marked_runs_sets_the_tag_on_each(store_copy, client, tmp_path):
    app = app_on_copy(store_copy, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "mnist")
        ids = [rows(app)[i].run.id for i in range(3)]
        await pilot.press("m", "m", "m", "t")
        await settle(pilot)
        editor = app.screen
        assert "3 marked runs" in text_of(editor, ".tags-title")
        await pilot.press("a")
        await type_text(pilot, "reviewed")
        await pilot.press("enter")
        await type_text(pilot, "yes")
        await pilot.press("enter", "ctrl+s")
        await settle(pilot)
    for run_id in ids:
        assert client.get_run(run_id).data.tags["reviewed"] == "yes"


async def test_rename_run_checks_the_name_and_renames(store_copy, client, tmp_path):
    app = app_on_copy(store_copy, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "mnist")
        run = app.screen.table.current.run
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, RenameScreen)
        app.screen.query_one("#rename-input").value = "   "
        await pilot.press("enter")
        assert "Run name must be a non-empty string" in text_of(app.screen, "#rename-error")
        app.screen.query_one("#rename-input").value = ""
        await type_text(pilot, "best-model")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RunsScreen)
    assert client.get_run(run.id).info.run_name == "best-model"


async def test_experiment_delete_undo_restore_and_rename(store_copy, client, tmp_path):
    app = app_on_copy(store_copy, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ExperimentsScreen)
        table = screen.query_one("#experiments-table")
        table.move_cursor(row=table.get_row_index("5"))  # scratch
        await pilot.press("d")
        await settle(pilot)
        assert app.screen.title_text.startswith("Delete experiment 'scratch'")
        await pilot.press("y")
        await settle(pilot)
        assert client.get_experiment("5").lifecycle_stage == "deleted"
        assert "5" not in [e.id for e in screen.experiments]
        await pilot.press("ctrl+z")  # undo
        await settle(pilot)
        assert client.get_experiment("5").lifecycle_stage == "active"
        # delete again, then restore from the deleted view with u
        table.move_cursor(row=table.get_row_index("5"))
        await pilot.press("d", "y")
        await settle(pilot)
        await pilot.press("D")
        await settle(pilot)
        table.move_cursor(row=table.get_row_index("5"))
        await pilot.press("u")
        await settle(pilot)
        assert client.get_experiment("5").lifecycle_stage == "active"
        table.move_cursor(row=table.get_row_index("5"))
        await pilot.press("r")
        await settle(pilot)
        app.screen.query_one("#rename-input").value = ""
        await type_text(pilot, "scratch-2")
        await pilot.press("enter")
        await settle(pilot)
    assert client.get_experiment("5").name == "scratch-2"


async def test_experiment_tags_are_edited_with_the_experiment_limits(store_copy, client, tmp_path):
    app = app_on_copy(store_copy, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#experiments-table")
        table.move_cursor(row=table.get_row_index("5"))  # scratch
        await pilot.press("t")
        await settle(pilot)
        editor = app.screen
        assert isinstance(editor, TagEditor)
        assert "experiment 'scratch'" in text_of(editor, ".tags-title")
        assert editor.original == {"mlflow.note.content": "Nothing here yet.", "team": "forecasting"}
        # experiment tag values may be longer than run tag values (20,000 chars, not 8,000)
        await pilot.press("a")
        editor.query_one("#tag-key").value = "long"
        editor.query_one("#tag-value").value = "v" * 20_001
        editor.query_one("#tag-value").focus()
        await pilot.press("enter")
        assert "experiment tag 'long'" in text_of(editor, "#tags-error")
        assert not editor.changes
        editor.query_one("#tag-value").value = "v" * 10_000
        await pilot.press("enter")
        table_of_tags = editor.query_one("#tags-table")
        table_of_tags.move_cursor(row=table_of_tags.get_row_index("team"))
        await pilot.press("x", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ExperimentsScreen)
        assert any("Set 1 tag and deleted 1 tag on experiment 'scratch'" in n for n in notes(app))
    tags = client.get_experiment("5").tags
    assert tags["long"] == "v" * 10_000
    assert "team" not in tags and tags["mlflow.note.content"] == "Nothing here yet."


async def test_copy_menu_copies_run_uri_and_says_how(store_copy, tmp_path):
    app = app_on_copy(store_copy, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "mnist")
        run = app.screen.table.current.run
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, CopyMenu)
        await pilot.press("u")
        await settle(pilot)
        assert app.clipboard == f"runs:/{run.id}"
        assert any(f"runs:/{run.id}" in n and "OSC 52" in n for n in notes(app))
        await pilot.press("y", "a")
        assert app.clipboard == run.artifact_uri


async def test_run_screen_renames_edits_tags_and_copies_the_highlighted_value(store_copy, client, tmp_path):
    from tracktui.tui.screens.run import RunScreen

    app = app_on_copy(store_copy, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "mnist")
        run_id = app.screen.table.current.run.id
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RunScreen)
        await pilot.press("r")
        await settle(pilot)
        app.screen.query_one("#rename-input").value = ""
        await type_text(pilot, "from-run-screen")
        await pilot.press("enter")
        for _ in range(50):  # the reload after the write is a worker: wait for it, not a fixed time
            await settle(pilot)
            if "from-run-screen" in text_of(screen, "#run-title"):
                break
            await pilot.pause(0.1)
        assert "from-run-screen" in text_of(screen, "#run-title")  # reloaded
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("a")
        await type_text(pilot, "stage")
        await pilot.press("enter")
        await type_text(pilot, "prod")
        await pilot.press("enter", "ctrl+s")
        await settle(pilot)
        await pilot.press("2")  # Params: y offers the highlighted value
        await settle(pilot)
        key, value = screen.query_one("#run-params").highlighted_item
        await pilot.press("y", "v")
        assert app.clipboard == value
    run = client.get_run(run_id)
    assert run.info.run_name == "from-run-screen"
    assert run.data.tags["stage"] == "prod"
    assert run.data.params[key] == value


async def test_read_only_store_refuses_writes_with_the_reason(make_app):
    app = make_app()  # the demo store opened read-only
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "mnist")
        before = [r.run.id for r in rows(app)]
        for key in ("d", "t", "r"):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, RunsScreen), key
        warnings = [n for n in app._notifications if n.title == "Read-only store"]
        assert len(warnings) == 3
        assert "opened read-only" in warnings[0].message
        assert [r.run.id for r in rows(app)] == before
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ExperimentsScreen)


async def test_a_permission_denied_write_makes_the_store_read_only(store_copy, client, tmp_path):
    """What the REST backend raises for HTTP 403 on a write: later writes are refused up front."""
    from tracktui.store.errors import AuthFailed, PermissionDenied
    from tracktui.tui.actions import write_failed

    app = app_on_copy(store_copy, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "mnist")
        run = app.screen.table.current.run
        # the error's class decides, not its wording: a wrong password is not a refused write
        assert write_failed(app)(AuthFailed("Permission denied? check the credentials")) is False
        assert not app.store.read_only_reason
        denied = PermissionDenied("The user may not perform this operation")
        assert write_failed(app)(denied) is False  # the failure itself is still notified
        assert app.store.read_only_reason.startswith("the server refused a write")
        assert "read-only" in str(app.screen.query_one("StatusBar").render())
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, RunsScreen)
        assert any(n.title == "Read-only store" for n in app._notifications)
    assert stage(client, run.id) == "active"


async def test_an_unexpected_error_is_logged_with_its_traceback(store_copy, tmp_path, caplog):
    """A bug in a store call: the user gets one line, the log gets the traceback."""

    def broken_store_call():
        raise ZeroDivisionError("a bug, not a StoreError")

    app = app_on_copy(store_copy, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        with caplog.at_level("ERROR", logger="tracktui"):
            app.run_store_call(app.screen, broken_store_call, lambda _: None, group="test")
            await settle(pilot)
        assert any(n.title == "Unexpected error" for n in app._notifications)
    [record] = [r for r in caplog.records if r.exc_info]
    assert isinstance(record.exc_info[1], ZeroDivisionError)
    assert "broken_store_call" in caplog.text  # the traceback itself, not just the message


async def test_actions_are_in_the_palette_and_help(store_copy, tmp_path):
    from tracktui.tui.commands import screen_actions
    from tracktui.tui.screens.help import binding_rows

    app = app_on_copy(store_copy, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "mnist")
        titles = {title for title, *_ in screen_actions(app.screen)}
        for title in ("runs: Delete runs", "runs: Restore deleted runs", "runs: Edit tags", "runs: Rename run",
                      "runs: Copy…", "runs: Undo delete", "runs: Deleted", "runs: Clear marks"):
            assert title in titles
        help_keys = {description: keys for _area, keys, description in binding_rows(app.screen)}
        assert help_keys["Delete runs"] == "d" and help_keys["Undo delete"] == "^z"
        assert help_keys["Deleted"] == "D" and help_keys["Clear marks"] == "U"
        await pilot.press("escape")
        await settle(pilot)
        titles = {title for title, *_ in screen_actions(app.screen)}
        assert {"experiments: Delete experiment", "experiments: Restore experiment",
                "experiments: Rename experiment", "experiments: Edit tags", "experiments: Copy…"} <= titles


# -- snapshots ------------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_snapshot_delete_confirmation(snap_compare, store_copy, tmp_path, size):
    async def run_before(pilot):
        await open_experiment(pilot, "mnist")
        await pilot.press("m", "m", "d")
        await settle(pilot)

    assert snap_compare(app_on_copy(store_copy, tmp_path), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_snapshot_tag_editor(snap_compare, store_copy, tmp_path, size):
    async def run_before(pilot):
        await open_experiment(pilot, "mnist")
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("a")
        pilot.app.screen.query_one("#tag-key").value = "bad key!"
        await pilot.press("enter", "x", "enter")
        await settle(pilot)

    assert snap_compare(app_on_copy(store_copy, tmp_path), terminal_size=size, run_before=run_before)


def test_snapshot_experiment_tag_editor(snap_compare, store_copy, tmp_path):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("j", "t")  # mnist-classifier: a description and a team tag
        await settle(pilot)

    assert snap_compare(app_on_copy(store_copy, tmp_path), terminal_size=(80, 24), run_before=run_before)


async def test_undo_of_an_experiment_delete_returns_exactly_the_prior_state(store_copy, client, tmp_path):
    """A run deleted before its experiment stays deleted after the undo, with its own
    deletion time (the delete used to overwrite it and the undo to bring the run back)."""
    import sqlite3

    exp = client.get_experiment_by_name("mnist-classifier")
    runs = client.search_runs([exp.experiment_id])
    gone, kept = runs[0].info.run_id, [r.info.run_id for r in runs[1:]]
    client.delete_run(gone)
    db = store_copy.removeprefix("sqlite:///")

    def deleted_time(run_id: str):
        with sqlite3.connect(db) as conn:
            return conn.execute("SELECT deleted_time FROM runs WHERE run_uuid = ?", (run_id,)).fetchone()[0]

    gone_at = deleted_time(gone)
    assert gone_at is not None
    app = app_on_copy(store_copy, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#experiments-table")
        table.move_cursor(row=table.get_row_index(exp.experiment_id))
        await pilot.press("d", "y")
        await settle(pilot)
        assert client.get_experiment(exp.experiment_id).lifecycle_stage == "deleted"
        await pilot.press("ctrl+z")
        await settle(pilot)
    assert client.get_experiment(exp.experiment_id).lifecycle_stage == "active"
    assert stage(client, gone) == "deleted" and deleted_time(gone) == gone_at
    assert all(stage(client, run_id) == "active" and deleted_time(run_id) is None for run_id in kept)


# -- marks never act unseen (issue 16) -----------------------------------------------------------

async def _mark_in(pilot, experiment: str, count: int) -> list:
    """Open `experiment` from the experiments screen and mark its first `count` runs."""
    await open_experiment(pilot, experiment)
    runs = [row.run for row in rows(pilot.app)[:count]]
    await pilot.press(*["m"] * count)
    return runs


async def _back_to_experiments(pilot) -> None:
    await pilot.press("escape")
    await settle(pilot)
    await pilot.press("ctrl+u")  # clear the experiments filter typed before


def status_bar(app) -> str:
    return text_of(app.screen, "StatusBar")


async def test_d_with_marks_in_another_experiment_deletes_only_the_highlighted_run(store_copy, client, tmp_path):
    app = app_on_copy(store_copy, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        marked = await _mark_in(pilot, "mnist", 3)
        await _back_to_experiments(pilot)
        await open_experiment(pilot, "bert")
        highlighted = app.screen.table.current.run
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.title_text == "Delete 1 run from experiment 'text-sentiment-bert'?"
        assert f"({highlighted.id[:8]})" in app.screen.body_text
        assert not any(run.id[:8] in app.screen.body_text for run in marked)
        assert any("acting on the highlighted run" in n for n in notes(app))
        await pilot.press("y")
        await settle(pilot)
        assert stage(client, highlighted.id) == "deleted"
        assert [stage(client, run.id) for run in marked] == ["active"] * 3
        assert app.run_marks.ids == [run.id for run in marked]  # the marks stay, for compare


async def test_d_acts_on_the_marks_in_view_and_names_every_run(store_copy, client, tmp_path):
    app = app_on_copy(store_copy, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        elsewhere = await _mark_in(pilot, "mnist", 2)
        await _back_to_experiments(pilot)
        here = await _mark_in(pilot, "bert", 7)  # more than the five the body used to list
        await pilot.press("d")
        await settle(pilot)
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        assert confirm.title_text == "Delete 7 runs from experiment 'text-sentiment-bert'?"
        for run in here:
            assert f"({run.id[:8]})" in confirm.body_text
        assert not any(run.id[:8] in confirm.body_text for run in elsewhere)
        assert "Not touched: 2 other marked runs, outside this list." in confirm.body_text
        await pilot.press("y")
        await settle(pilot)
        assert [stage(client, run.id) for run in here] == ["deleted"] * 7
        assert [stage(client, run.id) for run in elsewhere] == ["active"] * 2
        assert app.run_marks.ids == [run.id for run in elsewhere]


async def test_t_with_marks_elsewhere_edits_the_highlighted_run(store_copy, client, tmp_path):
    app = app_on_copy(store_copy, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _mark_in(pilot, "mnist", 2)
        await _back_to_experiments(pilot)
        await open_experiment(pilot, "bert")
        highlighted = app.screen.table.current.run
        await pilot.press("t")
        await settle(pilot)
        editor = app.screen
        assert isinstance(editor, TagEditor)
        assert editor.subject == f"run '{highlighted.name}'"


async def test_status_bar_says_how_many_runs_are_marked_and_where(store_copy, tmp_path):
    app = app_on_copy(store_copy, tmp_path)
    async with app.run_test(size=(160, 40)) as pilot:
        await _mark_in(pilot, "mnist", 2)
        assert "2 marked: 2 in 'mnist-classifier'" in status_bar(app)
        await _back_to_experiments(pilot)
        assert "2 marked: 2 in 'mnist-classifier'" in status_bar(app)  # every screen's bar
        await _mark_in(pilot, "bert", 1)
        assert "3 marked: 2 in 'mnist-classifier', 1 in 'text-sentiment-bert'" in status_bar(app)
        await pilot.press("U")  # clear marks
        assert "marked" not in status_bar(app)
