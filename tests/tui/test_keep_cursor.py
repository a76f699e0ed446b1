"""Keys act on what is highlighted: after a rename, a tag edit, a delete/undo, a restore or a
refresh the cursor stays on the same run (or experiment), or moves to its neighbour when that
one left the view. Each test writes to its own copy of the demo store (or its own experiment on
a live `mlflow server`) and checks with the real MlflowClient which run the next key acted on."""

from __future__ import annotations

import uuid

import pytest
from action_helpers import app_on_copy, mlflow_client, writable_copy
from pilot_helpers import open_experiment, settle, type_text

from tracktui.store import open_store
from tracktui.tui.app import TrackApp
from tracktui.tui.config import Config
from tracktui.tui.screens.experiments import ExperimentsTable
from tracktui.tui.screens.rename import RenameScreen
from tracktui.tui.screens.runs import RunsScreen
from tracktui.tui.screens.tag_editor import TagEditor

pytestmark = pytest.mark.anyio


@pytest.fixture
def store_copy(demo_store_uri, tmp_path) -> str:
    return writable_copy(demo_store_uri, tmp_path)


def ids(app) -> list[str]:
    return [row.run.id for row in app.screen.table.rows]


def current_id(app) -> str:
    return app.screen.table.current.run.id


async def open_flat(pilot, experiment: str):
    """The experiment's runs as a flat list (T: every run, nested ones too); its table."""
    await open_experiment(pilot, experiment)
    await pilot.press("T")
    await settle(pilot)
    return pilot.app.screen.table


async def rename_then_delete(pilot, new_name: str) -> None:
    """`r`, the new name, Enter; then `d` `y` at once, as a user would type it."""
    await pilot.press("r")
    await settle(pilot)
    assert isinstance(pilot.app.screen, RenameScreen)
    pilot.app.screen.query_one("#rename-input").value = ""
    await type_text(pilot, new_name)
    await pilot.press("enter")
    await settle(pilot)
    await pilot.press("d")
    await settle(pilot)
    await pilot.press("y")
    await settle(pilot)


async def test_rename_then_delete_acts_on_the_renamed_run(store_copy, tmp_path):
    client = mlflow_client(store_copy)
    app = app_on_copy(store_copy, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "mnist")
        await pilot.press("j", "j", "j")
        before = ids(app)
        renamed, following = before[3], before[4]
        await rename_then_delete(pilot, "renamed-run")
        assert client.get_run(renamed).info.run_name == "renamed-run"
        assert client.get_run(renamed).info.lifecycle_stage == "deleted"
        assert all(client.get_run(i).info.lifecycle_stage == "active" for i in before if i != renamed)
        # the deleted run left the view: the cursor is on the run that followed it
        assert current_id(app) == following
        assert app.screen.table.cursor_row == 3


async def test_delete_undo_restore_and_tags_keep_the_cursor(store_copy, tmp_path):
    client = mlflow_client(store_copy)
    app = app_on_copy(store_copy, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "mnist")
        await pilot.press("G")  # the last row: its neighbour is the one before it
        await settle(pilot)
        last, previous = ids(app)[-1], ids(app)[-2]
        await pilot.press("d", "y")
        await settle(pilot)
        assert client.get_run(last).info.lifecycle_stage == "deleted"
        assert current_id(app) == previous
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert client.get_run(last).info.lifecycle_stage == "active"
        assert current_id(app) == previous  # undo brings the run back, the cursor stays put
        # restore in the deleted view: the cursor stays on the restored run
        await pilot.press("j", "d", "y")
        await settle(pilot)
        assert current_id(app) == previous
        await pilot.press("D")
        await settle(pilot)
        assert current_id(app) == previous  # the view changed, the cursor did not
        table = app.screen.table
        table.cursor_row = ids(app).index(last)
        await pilot.press("u")
        await settle(pilot)
        assert client.get_run(last).info.lifecycle_stage == "active"
        assert current_id(app) == last
        # a tag edit
        await pilot.press("k")
        tagged = current_id(app)
        await pilot.press("t")
        await settle(pilot)
        editor = app.screen
        assert isinstance(editor, TagEditor)
        editor.query_one("#tag-key").value = ""
        editor.query_one("#tag-key").focus()
        await pilot.pause()
        await type_text(pilot, "reviewed")
        await pilot.press("enter")
        await type_text(pilot, "yes")
        await pilot.press("enter", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, RunsScreen)
        assert client.get_run(tagged).data.tags["reviewed"] == "yes"
        assert current_id(app) == tagged


async def test_refresh_keeps_the_cursor_line_on_screen_and_expanded_parents(store_copy, tmp_path):
    app = app_on_copy(store_copy, tmp_path)
    async with app.run_test(size=(120, 24)) as pilot:
        await open_experiment(pilot, "lr-sweep")
        table = app.screen.table
        await pilot.press("space")  # expand the first sweep
        await settle(pilot)
        await pilot.press("j", "j")
        child = current_id(app)
        assert table.current.depth == 1
        line = table.cursor_row - int(table.scroll_y)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert current_id(app) == child and table.current.depth == 1
        assert table.cursor_row - int(table.scroll_y) == line
        assert table.rows[0].expanded


async def test_deep_in_a_long_list_the_cursor_stays_at_its_line(store_copy, tmp_path):
    app = app_on_copy(store_copy, tmp_path)
    async with app.run_test(size=(120, 24)) as pilot:
        table = await open_flat(pilot, "mnist")
        await pilot.press(*["j"] * 25)
        run_id, line = current_id(app), table.cursor_row - int(table.scroll_y)
        assert table.scroll_y > 0
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert current_id(app) == run_id
        assert table.cursor_row - int(table.scroll_y) == line


async def test_a_refresh_deeper_than_one_read_keeps_the_cursor_then_delete_acts_on_it(
        store_copy, tmp_path, monkeypatch):
    """More runs loaded than a reload reads in one call (RELOAD_MAX, patched small): the reload
    reads on until it reaches the cursor's run, so the cursor stays, and the next `d` deletes
    the run it was on, not the first one."""
    monkeypatch.setattr("tracktui.tui.screens.runs.PAGE_SIZE", 5)
    monkeypatch.setattr("tracktui.tui.screens.runs.RELOAD_MAX", 4)
    client = mlflow_client(store_copy)
    app = app_on_copy(store_copy, tmp_path)
    async with app.run_test(size=(120, 24)) as pilot:
        table = await open_flat(pilot, "mnist")
        for _ in range(15):
            await pilot.press("j")
            await settle(pilot)  # each page of 5 arrives before the cursor moves on
        loaded = table.top_level_count
        run_id, row, line = current_id(app), table.cursor_row, table.cursor_row - int(table.scroll_y)
        assert row == 15 and loaded > row + 1
        following = ids(app)[row + 1]
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert (current_id(app), table.cursor_row, table.cursor_row - int(table.scroll_y)) == (run_id, row, line)
        assert table.top_level_count >= row + 1
        await pilot.press("d", "y")
        await settle(pilot)
        assert client.get_run(run_id).info.lifecycle_stage == "deleted"
        assert client.get_run(ids(app)[0]).info.lifecycle_stage == "active"
        assert current_id(app) == following


async def test_experiments_rename_and_delete_keep_the_cursor(store_copy, tmp_path):
    client = mlflow_client(store_copy)
    app = app_on_copy(store_copy, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(ExperimentsTable)
        await pilot.press("j", "j")
        order = [key.value for key in table.rows]
        chosen, following = order[2], order[3]
        await pilot.press("r")
        await settle(pilot)
        app.screen.query_one("#rename-input").value = ""
        await type_text(pilot, "renamed-experiment")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.current_id == chosen
        await pilot.press("d", "y")
        await settle(pilot)
        assert client.get_experiment(chosen).lifecycle_stage == "deleted"
        assert client.get_experiment(chosen).name == "renamed-experiment"
        assert all(client.get_experiment(i).lifecycle_stage == "active" for i in order if i != chosen)
        assert app.screen.current_id == following
        await pilot.press("D")  # the deleted ones too: restore it
        await settle(pilot)
        table.move_cursor(row=table.get_row_index(chosen))
        await pilot.press("u")
        await settle(pilot)
        assert client.get_experiment(chosen).lifecycle_stage == "active"
        assert app.screen.current_id == chosen


async def test_over_rest_rename_then_delete_acts_on_the_renamed_run(tracking_server_url, tmp_path):
    """The reported sequence, on a live `mlflow server`: rename rag-v1-eval, then `d` `y`."""
    client = mlflow_client(tracking_server_url)
    experiment_name = f"rag-{uuid.uuid4().hex[:8]}"
    experiment_id = client.create_experiment(experiment_name)
    run_ids = {}
    for name in ("rag-v1-model", "rag-v1-eval", "rag-v1-judge"):  # newest first on screen
        run = client.create_run(experiment_id, run_name=name)
        client.set_terminated(run.info.run_id)
        run_ids[name] = run.info.run_id
    store = open_store(tracking_server_url)
    app = TrackApp(store, config=Config(path=tmp_path / "tracktui.json"))
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await open_experiment(pilot, experiment_name)
            order = ids(app)
            assert order == [run_ids["rag-v1-judge"], run_ids["rag-v1-eval"], run_ids["rag-v1-model"]]
            await pilot.press("j")
            await rename_then_delete(pilot, "rag-v1-eval-renamed")
            assert client.get_run(run_ids["rag-v1-eval"]).info.lifecycle_stage == "deleted"
            assert client.get_run(run_ids["rag-v1-model"]).info.lifecycle_stage == "active"
            assert client.get_run(run_ids["rag-v1-judge"]).info.lifecycle_stage == "active"
            assert current_id(app) == run_ids["rag-v1-model"]
    finally:
        store.close()
