"""The run screen: pilot tests drive the keys on the mlflow-written SQLite fixture store (real
data, real SQL); snapshot tests show Overview and Metrics at 80x24 and 120x40 on the
deterministic demo store, built in a fixed directory so paths in the picture never change.
"""

from __future__ import annotations

import fcntl
import math
import shutil
import tempfile
from pathlib import Path
from unittest import mock

import pytest
from pilot_helpers import settle

from fixtures.data import LONG_PARAM_VALUE
from tracktui.store import open_store
from tracktui.store.base import Store
from tracktui.tui.app import TrackApp
from tracktui.tui.config import Config
from tracktui.tui.demo import BASE_TIME_MS, create_demo_store
from tracktui.tui.screens.run import RunScreen
from tracktui.tui.widgets.metrics_table import MetricsTable
from tracktui.tui.widgets.params_table import KeyValueTable
from tracktui.tui.widgets.run_overview import RunOverview

pytestmark = pytest.mark.anyio


async def open_run(pilot, run_id: str) -> RunScreen:
    screen = RunScreen(run_id)
    await pilot.app.push_screen(screen)
    await settle(pilot)
    assert pilot.app.screen is screen
    return screen


def field(screen: RunScreen, name: str) -> str:
    return str(screen.query_one(f"#field-{name}").render())


def app_on(store: Store, tmp_path) -> TrackApp:
    """The app on an already-open store (the session's mlflow-written fixture)."""
    return TrackApp(store, config=Config(path=tmp_path / "tracktui.json"))


@pytest.mark.parametrize("kind", ["sqlite", "file"])
async def test_overview_shows_the_run(kind, request, tmp_path):
    """The same screen over two backends: only the store protocol is used."""
    store = request.getfixturevalue(f"{kind}_store")
    info = request.getfixturevalue(f"{kind}_backend")
    run_id = info.runs["child-1"]
    async with app_on(store, tmp_path).run_test(size=(80, 24)) as pilot:
        screen = await open_run(pilot, run_id)
        assert field(screen, "name") == "child-1"
        assert field(screen, "run-id") == run_id
        assert field(screen, "status") == "FAILED"
        assert field(screen, "start") == "2023-11-14 22:24:20"  # T0 + 11 minutes, UTC
        assert field(screen, "duration") == "4m 00s"
        assert field(screen, "user") == "alice"
        assert field(screen, "experiment") == f"alpha ({info.experiments['alpha']})"
        assert run_id in field(screen, "artifacts")
        assert screen.query_one("#field-status").has_class("status-failed")
        overview = screen.query_one(RunOverview)
        assert overview.related_run_ids == (info.parent_run,)
        await pilot.press("3")
        await settle(pilot)
        table = screen.query_one("#run-metrics", MetricsTable)
        assert table.metric_keys == ("loss",)
        assert str(table.get_cell("loss", "value")) == "0.22"
        assert len(str(table.get_cell("loss", "trend"))) == 3  # its 3-step history


async def test_deleted_and_running_runs_say_so(sqlite_store, sqlite_backend, tmp_path):
    async with app_on(sqlite_store, tmp_path).run_test(size=(80, 24)) as pilot:
        screen = await open_run(pilot, sqlite_backend.deleted_run)
        assert field(screen, "status") == "FINISHED (deleted)"
        screen = await open_run(pilot, sqlite_backend.runs["neg-inf"])
        assert field(screen, "status") == "RUNNING"
        assert field(screen, "end") == "still running"
        assert field(screen, "duration").endswith("h so far")  # elapsed since its start
        assert screen.query_one("#field-status").has_class("status-running")


async def test_description_comes_from_the_note_tag(sqlite_store, sqlite_backend, tmp_path):
    async with app_on(sqlite_store, tmp_path).run_test(size=(120, 40)) as pilot:
        screen = await open_run(pilot, sqlite_backend.runs["baseline"])
        description = screen.query_one("#overview-description")
        assert description.display
        assert description.source == "Baseline **run** description"


async def test_keys_reach_the_description_below_the_related_runs(sqlite_copy, tmp_path):
    """At 80x24 a run with a parent and a long note: j past the list's end scrolls the overview."""
    import mlflow

    child_1 = sqlite_copy.runs["child-1"]
    note = "## Why it failed\n\n" + "\n\n".join(f"- reason {i}" for i in range(12))
    mlflow.MlflowClient(sqlite_copy.uri).set_tag(child_1, "mlflow.note.content", note)
    store = open_store(sqlite_copy.uri, read_only=True)
    try:
        async with app_on(store, tmp_path).run_test(size=(80, 24)) as pilot:
            screen = await open_run(pilot, child_1)
            overview = screen.query_one(RunOverview)
            related = overview.query_one("#overview-relatives")
            assert pilot.app.focused is related and overview.scroll_y == 0
            await pilot.press(*"jjjjj")
            assert pilot.app.focused is related and overview.scroll_y > 0
            await pilot.press(*"kkkkkkkkkk")
            assert overview.scroll_y == 0
            await pilot.press("enter")
            await settle(pilot)
            assert pilot.app.screen.run_id == sqlite_copy.parent_run
    finally:
        store.close()


async def test_number_keys_and_brackets_switch_tabs(sqlite_store, sqlite_backend, tmp_path):
    async with app_on(sqlite_store, tmp_path).run_test(size=(80, 24)) as pilot:
        screen = await open_run(pilot, sqlite_backend.runs["baseline"])
        assert screen.active_tab == "overview"
        seen = []
        for key in "23456781":
            await pilot.press(key)
            seen.append(screen.active_tab)
        # the baseline run logged images with log_image(key, step): it has the Images tab
        assert seen == ["params", "metrics", "system", "tags", "artifacts", "traces", "images", "overview"]
        await pilot.press("left_square_bracket")
        assert screen.active_tab == "images"
        await pilot.press("right_square_bracket", "right_square_bracket")
        assert screen.active_tab == "params"
        assert isinstance(pilot.app.focused.parent, KeyValueTable)  # keys act on the tab's table


async def test_search_params(sqlite_store, sqlite_backend, tmp_path):
    async with app_on(sqlite_store, tmp_path).run_test(size=(80, 24)) as pilot:
        screen = await open_run(pilot, sqlite_backend.runs["baseline"])
        params = screen.query_one("#run-params", KeyValueTable)
        assert params.shown_keys == ("batch size", "data.version", "drop-out", "lr", "model/arch", "optimizer")
        await pilot.press("slash")
        await pilot.pause()
        assert screen.active_tab == "params"
        await pilot.press(*"ADAM")  # matches the value 'adam', case-insensitively
        assert params.shown_keys == ("optimizer",)
        await pilot.press("escape")  # clears the filter
        assert params.shown_keys[0] == "batch size" and len(params.shown_keys) == 6
        await pilot.press(*"resnet")
        assert params.shown_keys == ("model/arch",)
        await pilot.press("enter")  # back to the table, filter kept
        assert not isinstance(pilot.app.focused, type(screen.query_one("Input")))
        assert params.shown_keys == ("model/arch",)
        await pilot.press("escape")  # from the table: leave the run screen
        assert not isinstance(pilot.app.screen, RunScreen)


async def test_filter_box_swallows_screen_keys(sqlite_store, sqlite_backend, tmp_path):
    """Typing 'y', digits or 'j' into the filter must not copy, switch tabs or move."""
    async with app_on(sqlite_store, tmp_path).run_test(size=(80, 24)) as pilot:
        screen = await open_run(pilot, sqlite_backend.runs["baseline"])
        await pilot.press("slash", "y", "3", "j")
        assert screen.active_tab == "params"
        assert screen.query_one("#run-params", KeyValueTable).filter_text == "y3j"
        assert pilot.app.clipboard == ""


async def test_long_values_are_cut_and_copied_whole(sqlite_store, sqlite_backend, tmp_path):
    async with app_on(sqlite_store, tmp_path).run_test(size=(80, 24)) as pilot:
        screen = await open_run(pilot, sqlite_backend.runs["long-param"])
        await pilot.press("2")
        params = screen.query_one("#run-params", KeyValueTable)
        assert params.shown_keys == ("empty", "long_value", "lr")
        await pilot.press("j")
        assert params.highlighted_item == ("long_value", LONG_PARAM_VALUE)
        table = params.query_one("DataTable")
        shown = str(table.get_cell("long_value", "value"))
        assert len(shown) < 300 and shown.endswith("…")
        # cut where the screen ends, so the "…" is on screen (not clipped at the edge)
        assert table.virtual_size.width <= table.scrollable_content_region.width
        await pilot.press("c")
        assert pilot.app.clipboard == LONG_PARAM_VALUE


async def test_metrics_tab_latest_values_and_sparklines(sqlite_store, sqlite_backend, tmp_path):
    async with app_on(sqlite_store, tmp_path).run_test(size=(80, 24)) as pilot:
        screen = await open_run(pilot, sqlite_backend.runs["many-steps"])
        await pilot.press("3")
        await settle(pilot)
        table = screen.query_one("#run-metrics", MetricsTable)
        assert table.metric_keys == ("accuracy", "loss")
        assert str(table.get_cell("loss", "step")) == "999"
        trend = str(table.get_cell("loss", "trend"))
        # The 1000-step history has a spike (10.0 at step 500) and a dip (-5.0 at step 777)
        # planted in it: both survive downsampling to the sparkline.
        assert trend.count("█") == 1 and trend.count("▁") == 1, trend
        assert trend.index("█") < trend.index("▁")
        # system/* metrics (MLflow's system-metrics monitor) live on their own tab
        await pilot.press("4")
        await settle(pilot)
        system = screen.query_one("#run-system", MetricsTable)
        assert system.metric_keys == (
            "system/cpu_utilization_percentage",
            "system/gpu_0_memory_usage_megabytes",
        )
        assert str(system.get_cell("system/gpu_0_memory_usage_megabytes", "value")) == "1073"
        gpu_trend = str(system.get_cell("system/gpu_0_memory_usage_megabytes", "trend"))
        assert gpu_trend[0] == "▁" and gpu_trend[-1] == "█"  # a steady climb


async def test_non_finite_metrics(sqlite_store, sqlite_backend, tmp_path):
    async with app_on(sqlite_store, tmp_path).run_test(size=(80, 24)) as pilot:
        screen = await open_run(pilot, sqlite_backend.runs["nan-loss"])
        await pilot.press("3")
        await settle(pilot)
        table = screen.query_one("#run-metrics", MetricsTable)
        assert str(table.get_cell("loss", "value")) == "NaN"
        assert str(table.get_cell("accuracy", "value")) == "0.1"
        screen = await open_run(pilot, sqlite_backend.runs["inf-loss"])
        table = screen.query_one("#run-metrics", MetricsTable)
        value = str(table.get_cell("loss", "value"))
        # SQL stores clamp inf to the largest double, as mlflow does
        assert value in ("inf", format(1.7976931348623157e308, ".6g")), value
        assert not math.isnan(sqlite_store.get_run(screen.run_id).metrics["loss"].value)


async def test_jump_to_parent_and_child_and_back(sqlite_store, sqlite_backend, tmp_path):
    child_1 = sqlite_backend.runs["child-1"]
    parent = sqlite_backend.parent_run
    async with app_on(sqlite_store, tmp_path).run_test(size=(80, 24)) as pilot:
        first = await open_run(pilot, child_1)
        await pilot.press("enter")  # the parent is the highlighted related run
        await settle(pilot)
        parent_screen = pilot.app.screen
        assert isinstance(parent_screen, RunScreen) and parent_screen.run_id == parent
        children = parent_screen.query_one(RunOverview).related_run_ids
        assert set(children) == set(sqlite_backend.child_runs) and len(children) == 3
        # children in the store's default order: newest start first
        assert children[0] == sqlite_backend.runs["child-2"]
        await pilot.press("j", "enter")
        await settle(pilot)
        assert pilot.app.screen.run_id == children[1]
        await pilot.press("escape")
        assert pilot.app.screen is parent_screen
        await pilot.press("escape")
        assert pilot.app.screen is first
        await pilot.press("p")  # the parent, by key
        await settle(pilot)
        assert pilot.app.screen.run_id == parent


async def test_copy_run_id(sqlite_store, sqlite_backend, tmp_path):
    run_id = sqlite_backend.runs["baseline"]
    async with app_on(sqlite_store, tmp_path).run_test(size=(80, 24)) as pilot:
        await open_run(pilot, run_id)
        await pilot.press("3", "y", "y")  # y opens the copy menu; y again copies the run ID
        assert pilot.app.clipboard == run_id
        await pilot.press("Y")
        assert pilot.app.clipboard == sqlite_store.get_run(run_id).artifact_uri


async def test_tags_toggle_hides_mlflow_tags(sqlite_store, sqlite_backend, tmp_path):
    async with app_on(sqlite_store, tmp_path).run_test(size=(80, 24)) as pilot:
        screen = await open_run(pilot, sqlite_backend.runs["child-0"])
        await pilot.press("5")
        tags = screen.query_one("#run-tags", KeyValueTable)
        assert {"mlflow.parentRunId", "mlflow.user", "mlflow.runName"} <= set(tags.shown_keys)
        await pilot.press("h")
        assert tags.shown_keys == ("stage",)
        await pilot.press("h")
        assert "mlflow.parentRunId" in tags.shown_keys


async def test_unknown_run_is_a_notification_not_a_crash(sqlite_store, tmp_path):
    async with app_on(sqlite_store, tmp_path).run_test(size=(80, 24)) as pilot:
        screen = await open_run(pilot, "0" * 32)
        messages = [n.message for n in pilot.app._notifications]
        assert any("0" * 32 in m and "not found" in m.lower() for m in messages), messages
        assert "not found" in str(screen.query_one("#run-title").render()).lower()
        assert not screen.query_one(RunOverview).loading
        await pilot.press("escape")
        assert not isinstance(pilot.app.screen, RunScreen)


async def test_wide_run_sparklines_for_visible_rows_only_and_capped_rows(sqlite_copy, tmp_path):
    """A run with 600 metrics: histories are fetched for the rows on screen (the rest on
    scroll), at most 500 rows are listed, and typing narrows them."""
    import mlflow
    from mlflow.entities import Metric

    client = mlflow.MlflowClient(sqlite_copy.uri)
    run_id = client.create_run(sqlite_copy.experiments["alpha"], run_name="wide").info.run_id
    keys = [f"m{i:03d}" for i in range(600)]
    points = [Metric(k, float(s * (i + 1)), 1_700_000_000_000 + s, s) for i, k in enumerate(keys) for s in range(5)]
    for i in range(0, len(points), 1000):
        client.log_batch(run_id, metrics=points[i : i + 1000])
    store = open_store(sqlite_copy.uri, read_only=True)
    try:
        async with app_on(store, tmp_path).run_test(size=(80, 24)) as pilot:
            screen = await open_run(pilot, run_id)
            await pilot.press("3")
            await settle(pilot)
            table = screen.query_one("#run-metrics", MetricsTable)
            count = screen.query_one("#run-metrics-panel .kv-count")
            assert str(count.render()) == "500 of 600 metrics, type to narrow"
            assert table.metric_keys == tuple(keys[:500])

            def loaded() -> list[str]:
                return [k for k in table.metric_keys if str(table.get_cell(k, "trend")) != "…"]

            visible = table.visible_keys()
            assert 10 <= len(visible) < 30 and visible[0] == "m000"
            assert loaded() == visible
            assert str(table.get_cell("m000", "trend")) == "▁▃▅▆█"  # 0,1,2,3,4: a straight climb
            await pilot.press("ctrl+end")
            await settle(pilot)
            assert table.visible_keys()[-1] == "m499"
            assert set(table.visible_keys()) <= set(loaded())
            assert len(loaded()) < 100  # the middle was scrolled past, never fetched

            await pilot.press("slash", *"m59")
            await settle(pilot)
            # matches beyond the 500 first rows: the filter searches every metric
            assert table.metric_keys == tuple(f"m59{d}" for d in range(10))
            assert str(count.render()) == "10 of 600 metrics"
            assert set(loaded()) == set(table.metric_keys)
            await pilot.press("escape")
            assert len(table.metric_keys) == 500
    finally:
        store.close()


async def test_run_actions_are_in_the_palette_and_help(sqlite_store, sqlite_backend, tmp_path):
    from tracktui.tui.commands import screen_actions

    async with app_on(sqlite_store, tmp_path).run_test(size=(80, 24)) as pilot:
        screen = await open_run(pilot, sqlite_backend.runs["child-0"])
        titles = {title for title, *_ in screen_actions(screen)}
        assert {"run: Copy…", "run: Edit tags", "run: Rename run", "run: Search", "run: Metrics tab", "run: Next tab", "run: Open parent run"} <= titles
        assert "run: Hide/show mlflow.* tags" not in titles  # only on the Tags tab
        assert "run: Download" not in titles  # only on the Artifacts tab
        await pilot.press("5")
        assert "run: Hide/show mlflow.* tags" in {title for title, *_ in screen_actions(screen)}
        await pilot.press("6")
        assert "run: Download" in {title for title, *_ in screen_actions(screen)}


async def test_dead_server_is_a_notification_and_the_screen_still_answers(make_app, monkeypatch):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    app = make_app("http://127.0.0.1:9")  # discard port: nothing listens
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_run(pilot, "a" * 32)
        errors = [n for n in app._notifications if n.title == "Server unreachable"]
        assert errors and "Traceback" not in errors[-1].message
        assert not screen.query_one(RunOverview).loading
        await pilot.press("3", "y", "y")  # y opens the copy menu; y again copies the run ID
        assert screen.active_tab == "metrics" and app.clipboard == "a" * 32


# -- snapshots ----------------------------------------------------------------------------------

#: Fixed, so the artifact URIs and the store URI in the status bar are the same on every run.
SNAPSHOT_DEMO_DIR = Path(tempfile.gettempdir()) / "tracktui-run-screen-snapshots"
SNAPSHOT_SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])


@pytest.fixture(scope="module")
def snapshot_demo_uri():
    """The demo store (seed 7, 60 runs), built with a frozen clock as tests/tui/conftest.py does.

    The directory is fixed, so concurrent test sessions take turns (a lock file) instead of
    rebuilding it under each other."""
    with open(f"{SNAPSHOT_DEMO_DIR}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        shutil.rmtree(SNAPSHOT_DEMO_DIR, ignore_errors=True)
        with mock.patch("time.time", return_value=(BASE_TIME_MS + 3 * 86_400_000) / 1000):
            uri = create_demo_store(SNAPSHOT_DEMO_DIR, runs=60, seed=7)
        yield uri
        shutil.rmtree(SNAPSHOT_DEMO_DIR, ignore_errors=True)


def first_run(store: Store, experiment: str, run_filter: str = "") -> str:
    """Id of the earliest run of the experiment matching the filter."""
    exp = store.get_experiment_by_name(experiment)
    page = store.search_runs([exp.id], run_filter, order_by=["attributes.start_time ASC"], max_results=1)
    return page.items[0].id


def snapshot_app(uri: str, tmp_path, experiment: str, run_filter: str = "", tab: str = "1"):
    store = open_store(uri, read_only=True)
    app = TrackApp(store, config=Config(path=tmp_path / "tracktui.json"))
    run_id = first_run(store, experiment, run_filter)

    async def run_before(pilot) -> None:
        await pilot.app.push_screen(RunScreen(run_id))
        await settle(pilot)
        await pilot.press(tab)
        await settle(pilot)

    return app, run_before


@SNAPSHOT_SIZES
def test_overview_snapshot(snap_compare, snapshot_demo_uri, tmp_path, size):
    """A sweep parent: source and git commit, its children listed under it."""
    app, run_before = snapshot_app(snapshot_demo_uri, tmp_path, "lr-sweep", "tags.sweep = 'lr'")
    try:
        assert snap_compare(app, terminal_size=size, run_before=run_before)
    finally:
        app.store.close()


@SNAPSHOT_SIZES
def test_metrics_snapshot(snap_compare, snapshot_demo_uri, tmp_path, size):
    """A BERT fine-tuning run: curves as sparklines; its system/* metrics are not on this tab."""
    app, run_before = snapshot_app(snapshot_demo_uri, tmp_path, "text-sentiment-bert", tab="3")
    try:
        assert snap_compare(app, terminal_size=size, run_before=run_before)
    finally:
        app.store.close()
