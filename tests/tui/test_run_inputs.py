"""Datasets and logged models on the run screen and in the runs table, on the mlflow-written
fixture stores (real datasets logged with MlflowClient.log_inputs), plus snapshots of a run
with dataset inputs at 80x24 and 120x40 on the demo store."""

from __future__ import annotations

import fcntl
import shutil
import tempfile
from pathlib import Path
from unittest import mock

import pytest
from pilot_helpers import settle
from test_run_screen import SNAPSHOT_SIZES, app_on, open_run, snapshot_app

from tracktui.store import open_store
from tracktui.store.model import Dataset, DatasetInput
from tracktui.tui.columns import column
from tracktui.tui.demo import BASE_TIME_MS, create_demo_store
from tracktui.tui.screens.dataset import DatasetScreen
from tracktui.tui.widgets.run_inputs import RunInputsList

pytestmark = pytest.mark.anyio


def lines(widget: RunInputsList) -> list[str]:
    return [str(widget.get_option_at_index(i).prompt) for i in range(widget.option_count)]


@pytest.mark.parametrize("kind", ["sqlite", "file"])
async def test_overview_lists_dataset_inputs_and_enter_opens_one(kind, request, tmp_path):
    store = request.getfixturevalue(f"{kind}_store")
    info = request.getfixturevalue(f"{kind}_backend")
    async with app_on(store, tmp_path).run_test(size=(120, 40)) as pilot:
        screen = await open_run(pilot, info.runs["baseline"])
        inputs = screen.query_one("#overview-inputs", RunInputsList)
        assert inputs.display and pilot.app.focused is inputs  # no relatives: the list takes the keys
        assert lines(inputs) == [
            "eval-set   e5f6a7b8  eval      http: https://example.org/eval.csv",
            "train-set  a1b2c3d4  training  local: /data/train.csv",
        ]
        assert str(screen.query_one("#overview-inputs-heading").render()) == "2 datasets (Enter opens)"
        await pilot.press("j", "enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, DatasetScreen)
        details = str(pilot.app.screen.query_one("#dataset-details").render())
        assert "train-set" in details and "training" in details
        assert '"num_rows": 1000' in details and '"name": "x"' in details  # profile and schema, indented
        await pilot.press("escape")
        await settle(pilot)
        assert pilot.app.screen is screen


async def test_a_run_without_inputs_says_so(sqlite_store, sqlite_backend, tmp_path):
    async with app_on(sqlite_store, tmp_path).run_test(size=(80, 24)) as pilot:
        screen = await open_run(pilot, sqlite_backend.runs["no-data"])
        assert not screen.query_one("#overview-inputs").display
        assert screen.query_one("#overview-no-inputs").display


async def test_dataset_text_is_shown_literally(sqlite_copy, tmp_path):
    """A dataset name that looks like markup, with an escape in it, is data: shown as written."""
    hostile = "[/INST] [bold]x[@click=app.quit]\x1b[2J"
    writer = open_store(sqlite_copy.uri)
    try:
        writer.log_inputs(sqlite_copy.runs["no-data"], [
            DatasetInput(Dataset(hostile, "d1", "local", "[red]not json"), {"mlflow.data.context": "[b]eval"})
        ])
    finally:
        writer.close()
    store = open_store(sqlite_copy.uri, read_only=True)
    try:
        async with app_on(store, tmp_path).run_test(size=(120, 40)) as pilot:
            screen = await open_run(pilot, sqlite_copy.runs["no-data"])
            (line,) = lines(screen.query_one("#overview-inputs", RunInputsList))
            assert line == "[/INST] [bold]x[@click=app.quit]␛[2J  d1  [b]eval  local: [red]not json"
            await pilot.press("enter")
            await settle(pilot)
            assert "[/INST] [bold]x[@click=app.quit]␛[2J" in str(pilot.app.screen.query_one("#dataset-details").render())
    finally:
        store.close()


def test_datasets_column_names_each_input_with_its_context(sqlite_store, sqlite_backend):
    datasets = column("attr:datasets")
    assert datasets.order_by is None  # MLflow cannot order by datasets
    run = sqlite_store.get_run(sqlite_backend.runs["baseline"])
    assert datasets.text(run) == "eval-set (eval), train-set (training)"
    page = sqlite_store.search_runs([sqlite_backend.experiments["alpha"]], "dataset.name = 'train-set'")
    assert sorted(datasets.text(r) for r in page) == ["eval-set (eval), train-set (training)", "train-set (training)"]
    assert datasets.text(sqlite_store.get_run(sqlite_backend.runs["no-data"])) == "—"


#: This module's own fixed demo directory (the run-screen module removes its own when done).
SNAPSHOT_DEMO_DIR = Path(tempfile.gettempdir()) / "tracktui-run-inputs-snapshots"


@pytest.fixture(scope="module")
def inputs_demo_uri():
    """The demo store (seed 7, 60 runs) with a frozen clock, in a fixed directory (locked)."""
    with open(f"{SNAPSHOT_DEMO_DIR}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        shutil.rmtree(SNAPSHOT_DEMO_DIR, ignore_errors=True)
        with mock.patch("time.time", return_value=(BASE_TIME_MS + 3 * 86_400_000) / 1000):
            uri = create_demo_store(SNAPSHOT_DEMO_DIR, runs=60, seed=7)
        yield uri
        shutil.rmtree(SNAPSHOT_DEMO_DIR, ignore_errors=True)


@SNAPSHOT_SIZES
def test_overview_with_datasets_snapshot(snap_compare, inputs_demo_uri, tmp_path, size):
    """An MNIST run: its training and eval datasets under the run facts."""
    app, run_before = snapshot_app(inputs_demo_uri, tmp_path, "mnist-classifier")
    try:
        assert snap_compare(app, terminal_size=size, run_before=run_before)
    finally:
        app.store.close()


# -- the runs screen: filter completion and the Datasets column (demo store) -------------------


async def test_filter_completes_dataset_fields_and_filters_by_them(make_app):
    from pilot_helpers import open_experiment, type_text

    from tracktui.tui.widgets.filter_bar import FilterBar
    from tracktui.tui.widgets.runs_table import RunsTable

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "mnist")
        await pilot.press("slash")
        await type_text(pilot, "dataset.c")
        await settle(pilot)
        bar = app.screen.query_one(FilterBar)
        await pilot.press("right")  # accepts the suggestion
        assert bar.input.value == "dataset.context"
        await type_text(pilot, " = 'eval' and dataset.n")
        await settle(pilot)
        await pilot.press("right")
        assert bar.input.value == "dataset.context = 'eval' and dataset.name"
        await type_text(pilot, " = 'mnist-test'")
        await pilot.press("enter")
        await settle(pilot)
        rows = app.screen.query_one(RunsTable).rows
        assert rows and all("mnist-test" in column("attr:datasets").text(r.run) for r in rows)


async def test_column_chooser_offers_the_datasets_column(make_app):
    from pilot_helpers import open_experiment, type_text

    from tracktui.tui.widgets.column_chooser import ColumnChooser
    from tracktui.tui.widgets.runs_table import RunsTable

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "mnist")
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ColumnChooser)
        await type_text(pilot, "datasets")
        await pilot.press("enter", "space", "ctrl+s")
        await settle(pilot)
        screen = app.screen
        assert "attr:datasets" in screen.column_ids
        runs = screen.query_one(RunsTable).rows
        datasets = column("attr:datasets")
        assert datasets.text(runs[0].run) == "mnist-test (eval), mnist-train (training)"


async def test_suggestions_stay_out_of_quoted_values():
    from tracktui.tui.widgets.filter_suggester import FilterWordSuggester

    suggest = FilterWordSuggester()
    assert await suggest.get_suggestion("me") == "metrics."
    assert await suggest.get_suggestion("params.x = 'a' AND attributes.st") == "params.x = 'a' AND attributes.status"
    assert await suggest.get_suggestion("tags.x = 'da") is None
    assert await suggest.get_suggestion("d") is None  # one letter is too little to guess from
    assert await suggest.get_suggestion("x AND Attr") == "x AND Attributes.run_name"  # typed case kept
