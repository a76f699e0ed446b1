"""The Models view: an experiment's logged models (L from the runs screen), a filter in
MLflow's logged-model grammar, and one model's facts, metrics per dataset, params, tags and
linked runs. Data: tests/tui/model_store.py (real mlflow SQL store, fixed ids and times).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from model_store import EVAL_RUN, MODEL_IDS, TRAIN_RUN, create_model_store
from pilot_helpers import settle, type_text

from tracktui.store import open_store
from tracktui.tui.app import TrackApp
from tracktui.tui.config import Config
from tracktui.tui.screens.logged_model import LoggedModelScreen
from tracktui.tui.screens.models import ModelsScreen
from tracktui.tui.screens.run import RunScreen
from tracktui.tui.screens.runs import RunsScreen
from tracktui.tui.widgets.models_table import ModelsTable

pytestmark = pytest.mark.anyio
SIZES = [(80, 24), (120, 40)]


@pytest.fixture(scope="module")
def model_store_uri(tmp_path_factory) -> str:
    return create_model_store(tmp_path_factory.mktemp("model-store"))


def make_model_app(uri: str, tmp_path: Path) -> TrackApp:
    store = open_store(uri, read_only=True)
    store.display_uri = "sqlite:///models/mlflow.db"  # the temp path differs per run
    return TrackApp(store, config=Config(path=tmp_path / "tracktui.json"))


async def until_loaded(pilot, done, tries: int = 50) -> None:
    """Settle until `done()` (a loaded page), so a slow machine cannot snapshot "Loading…"."""
    for _ in range(tries):
        await settle(pilot)
        if done():
            break
        await pilot.pause(0.1)
    await settle(pilot)


async def open_models(pilot) -> ModelsTable:
    await settle(pilot)
    experiment = pilot.app.store.get_experiment_by_name("models")
    await pilot.app.push_screen(RunsScreen(experiment))
    await settle(pilot)
    await pilot.press("L")
    await settle(pilot)
    assert isinstance(pilot.app.screen, ModelsScreen)
    table = pilot.app.screen.query_one(ModelsTable)
    table.focus()
    await settle(pilot)
    return table


async def test_l_lists_the_experiments_models_newest_first(model_store_uri, tmp_path):
    app = make_model_app(model_store_uri, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await open_models(pilot)
        assert [m.name for m in table.models] == ["draft", "tree", "bert-large", "bert-small"]
        # the (metric, dataset) pairs most models have: acc on eval and train (2 each), then by name
        assert table.metric_columns == [("acc", "eval"), ("acc", "train"), ("acc", None)]
        assert [str(c) for c in table.get_row(MODEL_IDS["bert-large"])[4:7]] == ["0.89", "0.95", ""]
        row = table.get_row(MODEL_IDS["bert-small"])
        assert [str(c) for c in row[:4]] == ["bert-small", "READY", "transformer", "train-bert"]
        assert str(row[-1]) == "stage=prod"
    app.store.close()


async def test_filter_narrows_and_a_bad_filter_shows_its_error(model_store_uri, tmp_path):
    app = make_model_app(model_store_uri, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await open_models(pilot)
        await pilot.press("slash")
        await type_text(pilot, "metrics.acc > 0.9")
        await pilot.press("enter")
        await settle(pilot)
        assert [m.name for m in table.models] == ["bert-large", "bert-small"]
        await pilot.press("slash", "ctrl+u")
        await type_text(pilot, "params.lr > 1")
        await pilot.press("enter")
        await settle(pilot)
        assert pilot.app.screen.query_one("#list-filter").has_class("-error")
    app.store.close()


async def test_enter_opens_a_model_and_its_linked_runs(model_store_uri, tmp_path):
    app = make_model_app(model_store_uri, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await open_models(pilot)
        table.move_cursor(row=[m.name for m in table.models].index("bert-small"))
        await pilot.press("enter")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, LoggedModelScreen) and screen.model.name == "bert-small"
        runs = screen.query_one("#model-runs")
        assert [str(runs.get_row_at(i)[2]) for i in range(runs.row_count)] == [TRAIN_RUN, EVAL_RUN]
        assert str(runs.get_row_at(1)[0]) == "logged metrics"
        metrics = screen.query_one("#model-metrics")
        assert [(str(r[0]), str(r[1])) for r in (metrics.get_row_at(i) for i in range(metrics.row_count))] == [
            ("acc", "eval (d-eval)"), ("acc", "train (d-train)"), ("loss", "train (d-train)")]
        runs.focus()
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, RunScreen) and pilot.app.screen.run_id == EVAL_RUN
    app.store.close()


async def test_tag_text_is_shown_not_interpreted_as_markup(model_store_uri, tmp_path):
    app = make_model_app(model_store_uri, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.app.push_screen(LoggedModelScreen(MODEL_IDS["tree"]))
        await settle(pilot)
        tags = pilot.app.screen.query_one("#model-tags")
        assert str(tags.get_row_at(0)[1]) == "[b]not markup[/b]"
        assert "upload interrupted" in str(pilot.app.screen.query_one("#model-facts").render())
    app.store.close()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_models_list(snap_compare, model_store_uri, tmp_path, size):
    app = make_model_app(model_store_uri, tmp_path)

    async def run_before(pilot) -> None:
        # Straight to the screen (test_l_lists_… covers the key): nothing else loads meanwhile.
        await settle(pilot)
        await pilot.app.push_screen(ModelsScreen(pilot.app.store.get_experiment_by_name("models")))
        await until_loaded(pilot, lambda: len(pilot.app.screen.query_one(ModelsTable).models) == 4)
        pilot.app.screen.query_one(ModelsTable).focus()  # focus settles the cursor's style
        await settle(pilot)

    try:
        assert snap_compare(app, terminal_size=size, run_before=run_before)
    finally:
        app.store.close()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_model_detail(snap_compare, model_store_uri, tmp_path, size):
    app = make_model_app(model_store_uri, tmp_path)

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.app.push_screen(LoggedModelScreen(MODEL_IDS["bert-small"]))
        await until_loaded(pilot, lambda: pilot.app.screen.model is not None)

    try:
        assert snap_compare(app, terminal_size=size, run_before=run_before)
    finally:
        app.store.close()


async def test_a_model_link_on_the_run_overview_opens_the_model(model_store_uri, tmp_path):
    """Enter on a logged model in a run's Datasets and models list opens that model."""
    from tracktui.tui.widgets.run_inputs import RunInputsList

    app = make_model_app(model_store_uri, tmp_path)
    model_id = MODEL_IDS["bert-small"]
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.app.push_screen(RunScreen(TRAIN_RUN))
        await settle(pilot)
        pilot.app.screen.post_message(RunInputsList.OpenModel(model_id, True, 0))
        await until_loaded(pilot, lambda: getattr(pilot.app.screen, "model", None) is not None)
        screen = pilot.app.screen
        assert isinstance(screen, LoggedModelScreen) and screen.model is not None
        assert screen.model.model_id == model_id
    app.store.close()
