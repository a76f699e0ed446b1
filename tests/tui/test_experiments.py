"""Experiments screen: listing with run counts, type-to-filter, deleted toggle, opening runs."""

from __future__ import annotations

import socket

import pytest
from pilot_helpers import settle, type_text

from tracktui.store import open_store
from tracktui.tui.app import TrackApp
from tracktui.tui.config import Config
from tracktui.tui.screens.experiments import ExperimentsScreen, ExperimentsTable
from tracktui.tui.screens.runs import RunsScreen

pytestmark = pytest.mark.anyio


def names(app) -> list[str]:
    table = app.screen.query_one(ExperimentsTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


def cell(app, exp_name: str, column: str) -> str:
    table = app.screen.query_one(ExperimentsTable)
    for row_key in table.rows:
        if str(table.get_cell(row_key, "name")) == exp_name:
            return str(table.get_cell(row_key, column))
    raise AssertionError(f"{exp_name} not listed")


async def test_lists_active_experiments_with_run_counts(make_app, demo_store_uri):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ExperimentsScreen)
        listed = names(app)
        assert set(listed) == {"Default", "mnist-classifier", "lr-sweep", "text-sentiment-bert", "sales-forecasting", "scratch"}
        # counts come from the store's grouped count, same as counting run by run
        store = app.store
        for exp in store.search_experiments().items:
            assert cell(app, exp.name, "runs") == f"{store.count_runs(exp.id):,}"
        assert cell(app, "scratch", "runs") == "0"
        assert "team=vision" in cell(app, "mnist-classifier", "tags")


async def test_slash_filters_then_enter_opens_runs(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "sweep")
        assert names(app) == ["lr-sweep"]
        await pilot.press("enter")  # leaves the filter for the list
        assert app.screen.focused is app.screen.query_one(ExperimentsTable)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RunsScreen)
        assert app.screen.experiment.name == "lr-sweep"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ExperimentsScreen)
        assert names(app) == ["lr-sweep"]  # the filter survives going back


async def test_escape_in_filter_clears_it(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "zzz")
        assert names(app) == []
        await pilot.press("escape")
        assert len(names(app)) == 6


async def test_toggle_deleted_shows_deleted_experiments(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert not any("old-baselines" in n for n in names(app))
        await pilot.press("D")
        await settle(pilot)
        assert "old-baselines (deleted)" in names(app)
        await pilot.press("D")
        await settle(pilot)
        assert not any("old-baselines" in n for n in names(app))


async def test_j_k_move_and_q_quits(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(ExperimentsTable)
        await pilot.press("j", "j")
        assert table.cursor_row == 2
        await pilot.press("k")
        assert table.cursor_row == 1
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_dead_server_becomes_a_notification_not_a_freeze(make_app, monkeypatch):
    """A tracking server that refuses connections: the store's message, the UI keeps working."""
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    app = make_app("http://127.0.0.1:9")  # discard port: nothing listens
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        errors = [n for n in app._notifications if n.severity == "error"]
        assert errors, "no error notification"
        assert errors[0].title == "Server unreachable"
        assert "Traceback" not in errors[0].message
        await pilot.press("question_mark")
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen"


# -- snapshots ------------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_snapshot_experiments(snap_compare, make_app, size):
    assert snap_compare(make_app(), terminal_size=size, run_before=settle)


def test_snapshot_experiments_filtered_with_deleted(snap_compare, make_app):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("D")
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "e")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)


async def test_theme_is_remembered_in_the_config_dir(make_app, tmp_path, monkeypatch):
    import json

    from tracktui.tui.config import Config, config_dir

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config_dir() == tmp_path / "xdg" / "tracktui"
    app = make_app(config=Config.load())  # the real default location, inside XDG_CONFIG_HOME
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.theme = "nord"
        await settle(pilot)
    saved = json.loads((tmp_path / "xdg" / "tracktui" / "config.json").read_text())
    assert saved["theme"] == "nord"
    again = make_app(config=Config.load())
    async with again.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert again.theme == "nord"


async def test_status_bar_masks_credentials_and_shows_read_only(make_app, monkeypatch):
    from tracktui.tui.widgets.status_bar import StatusBar

    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    app = make_app("http://alice:s3cret@127.0.0.1:9")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = str(app.screen.query_one(StatusBar).render())
        assert "s3cret" not in text
        assert "alice:***@127.0.0.1:9" in text
        assert "read-only" in text


async def test_unreachable_server_says_so_in_the_title_and_the_notification(tmp_path, monkeypatch):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    app = TrackApp(open_store(f"http://127.0.0.1:{port}"), config=Config(path=tmp_path / "c.json"))
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(pilot)
        assert "could not load (ctrl+r retries)" in str(app.screen.query_one("#experiments-title").render())
        assert any("Cannot reach the MLflow server" in n.message for n in app._notifications)
    app.store.close()


async def test_runs_column_widens_for_a_count_that_arrives_later(make_app):
    """Counts arrive after the list paints (column sized for "…"): 100,000 used to show `100,`."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        exp_id = next(e.id for e in screen.experiments if e.name == "lr-sweep")
        screen._counted({**screen.counts, exp_id: 100_000})
        await pilot.pause()
        table = screen.query_one(ExperimentsTable)
        assert cell(app, "lr-sweep", "runs") == "100,000"
        assert table.columns["runs"].content_width >= len("100,000")
        line = next(
            table.render_line(y).text for y in range(table.size.height) if "lr-sweep" in table.render_line(y).text
        )
        assert "100,000" in line
