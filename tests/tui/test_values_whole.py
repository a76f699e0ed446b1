"""Values are never cut: the runs table draws every value it shows whole (a tiny metric keeps
its exponent, the last column is not clipped at the screen's edge), Name stays put while `[`
and `]` step through the other columns, and two long run names that differ only at the end
stay distinguishable.

The store is a real SQLite store written through tracktui's own store layer (as the demo is),
with values chosen to break the old fixed-width columns.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pilot_helpers import open_experiment, screen_lines, settle

from tracktui.store import open_store
from tracktui.store.model import MetricPoint
from tracktui.store.sql.init import initialize_sqlite_store
from tracktui.tui.app import TrackApp
from tracktui.tui.columns import Column
from tracktui.tui.config import Config
from tracktui.tui.widgets.runs_table import RunsTable

pytestmark = pytest.mark.anyio

T0 = 1_714_554_000_000
TINY = 6.1685e-09
#: Two runs of a sweep whose names differ only in their last characters.
LONG_NAMES = (
    "finetune-llama-3-8b-instruct-lora-r16-alpha32-seed-0001",
    "finetune-llama-3-8b-instruct-lora-r16-alpha32-seed-0002",
)


@pytest.fixture(scope="module")
def values_store_uri(tmp_path_factory) -> str:
    directory = tmp_path_factory.mktemp("values")
    uri = initialize_sqlite_store(directory / "mlflow.db", artifact_root=str(directory / "mlruns"))
    store = open_store(uri)
    try:
        exp = store.create_experiment("values")
        for i, name in enumerate(("short", *LONG_NAMES)):
            run = store.create_run(exp, name=name, start_time=T0 + i * 60_000, user_id="alice")
            store.log_batch(run.id, metrics=[
                ("lr", MetricPoint(TINY * (i + 1), 0, T0 + i * 60_000)),
                ("train/loss", MetricPoint(0.12345 + i, 0, T0 + i * 60_000)),
                ("val/accuracy", MetricPoint(0.78845, 0, T0 + i * 60_000)),
            ])
            store.update_run(run.id, status="FINISHED", end_time=T0 + i * 60_000 + 30_000)
    finally:
        store.close()
    return uri


@pytest.fixture
def values_app(values_store_uri, tmp_path):
    store = open_store(values_store_uri, read_only=True)
    yield TrackApp(store, config=Config(path=Path(tmp_path) / "tracktui.json"))
    store.close()


def table_text(app: TrackApp) -> str:
    table = app.screen.query_one(RunsTable)
    return "\n".join(table.render_line(y).text for y in range(table.size.height))


def visible(table: RunsTable) -> list[Column]:
    return [placed.column for placed in table.placed_columns]


def cells_cut(table: RunsTable, text: str) -> list[str]:
    """Cells other than Name that end in an ellipsis (Name is cut in the middle on purpose)."""
    lines = text.splitlines()[1:]
    return [
        line[p.x : p.x + p.width] for p in table.placed_columns if p.column.id != "attr:name"
        for line in lines if "…" in line[p.x : p.x + p.width]
    ]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_every_value_shown_is_whole_and_names_stay_distinguishable(values_app, size):
    async with values_app.run_test(size=size) as pilot:
        await open_experiment(pilot, "values")
        table = values_app.screen.query_one(RunsTable)
        shown_everything = False
        for _ in range(len(table.columns)):
            text = table_text(values_app)
            shown = visible(table)
            assert shown[:2] == table.columns[:2], "status and Name stay pinned"
            metric_keys = {c.key for c in shown if c.kind == "metrics"}
            if "lr" in metric_keys:
                assert "6.1685e-09" in text and "1.2337e-08" in text
            if "val/accuracy" in metric_keys:
                assert text.count("0.78845") == 3
            shown_everything |= metric_keys == {"lr", "train/loss", "val/accuracy"}
            assert cells_cut(table, text) == []
            assert all(p.x + p.width <= table.scrollable_content_region.width for p in table.placed_columns)
            lines = text.splitlines()
            first, second = (next(line for line in lines if tail in line) for tail in ("0001", "0002"))
            assert first != second
            await pilot.press("right_square_bracket")
            await settle(pilot)
        if size[0] >= 120:
            assert shown_everything


async def test_brackets_step_whole_columns_and_keep_name(values_app):
    async with values_app.run_test(size=(80, 24)) as pilot:
        await open_experiment(pilot, "values")
        table = values_app.screen.query_one(RunsTable)
        before = visible(table)
        await pilot.press("right_square_bracket")
        await settle(pilot)
        after = visible(table)
        assert after[:2] == before[:2] and after[2] == before[3], "one column stepped, Name kept"
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert visible(table) == before


async def test_long_names_are_cut_in_the_middle(values_app):
    async with values_app.run_test(size=(80, 24)) as pilot:
        await open_experiment(pilot, "values")
        text = table_text(values_app)
        assert "seed-0001" in text and "seed-0002" in text
        assert "finetune" in text


async def test_long_metric_keys_leave_room_for_every_value_at_80_columns(make_app):
    """The System tab's keys are long (`system/gpu_0_memory_usage_megabytes`): the key is cut
    in the middle, and the latest value, step and logged time stay whole on screen."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_experiment(pilot, "text-sentiment")
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        lines = [line for line in screen_lines(app) if "_percentage" in line or "_megabytes" in line]
        assert len(lines) == 2, lines
        for line in lines:
            assert re.search(r"\s\d+(\.\d+)?\s+\S+\s+19\s+2024-05-02 \d\d:\d\d:\d\d\s*$", line), line
