"""Export what you see (e): the runs table, the grouped table and the compare diff table,
written to a file and read back against MlflowClient's values, or sent to the clipboard."""

from __future__ import annotations

import csv
import json
import math

import pytest
from action_helpers import mlflow_client
from pilot_helpers import open_experiment, settle, type_text
from test_groups import EXPERIMENT, METRIC, aggregate, by_value, group_by, mlflow_runs

from tracktui.tui.export.dialog import ExportDialog, default_file_stem
from tracktui.tui.export.tables import diff_table
from tracktui.tui.screens.compare import CompareScreen
from tracktui.tui.screens.confirm import ConfirmScreen

pytestmark = pytest.mark.anyio


async def export(pilot, path, fmt_index: int = 0, clipboard: bool = False) -> None:
    """e, the format (0 CSV, 1 Markdown, 2 JSON) and destination by keys, the path, enter."""
    await pilot.press("e")
    await settle(pilot)
    assert isinstance(pilot.app.screen, ExportDialog)
    for _ in range(fmt_index):
        await pilot.press("right")
    await pilot.press("enter", "tab")  # pick the format, on to the destination
    if clipboard:
        await pilot.press("right", "enter")
        await pilot.press("tab", "enter")  # the path box is disabled: on to Export
    else:
        await pilot.press("tab", "ctrl+a", "ctrl+k")
        await type_text(pilot, str(path))
        await pilot.press("enter")
    await settle(pilot)


def number(text: str) -> float | None:
    return None if text == "" else float(text)


async def test_csv_has_every_matching_run_not_the_loaded_page(make_app, demo_store_uri, tmp_path, monkeypatch):
    monkeypatch.setattr("tracktui.tui.screens.runs.PAGE_SIZE", 5)
    monkeypatch.setattr("tracktui.tui.export.tables.EXPORT_PAGE_SIZE", 7)  # several pages
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, EXPERIMENT)
        await export(pilot, tmp_path / "runs.csv")
        assert not isinstance(app.screen, ExportDialog)
    with open(tmp_path / "runs.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    expected = mlflow_runs(demo_store_uri)  # MLflow's default order: newest first
    assert [r["run_name"] for r in rows] == [r.info.run_name for r in expected]
    assert list(rows[0]) == ["status", "run_name", "start_time", "duration_ms", "user_id",
                             "metrics.train/loss", "metrics.val/accuracy", "metrics.val/loss"]
    for row, run in zip(rows, expected):
        assert row["status"] == run.info.status
        assert int(row["start_time"]) == run.info.start_time
        for key in ("train/loss", "val/accuracy", "val/loss"):
            got, want = number(row[f"metrics.{key}"]), run.data.metrics.get(key)
            assert got == want or (got is not None and math.isnan(got) and math.isnan(want))


async def test_json_of_a_filtered_sorted_table_is_exact(make_app, demo_store_uri, tmp_path):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, EXPERIMENT)
        await pilot.press("slash")
        await type_text(pilot, "params.optimizer = 'adam'")
        await pilot.press("enter")
        await settle(pilot)
        app.screen._sort_by("metrics:val/accuracy")  # descending first
        await settle(pilot)
        await export(pilot, tmp_path / "adam.json", fmt_index=2)
    records = json.loads((tmp_path / "adam.json").read_text(encoding="utf-8"))
    client = mlflow_client(demo_store_uri)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    expected = client.search_runs([experiment.experiment_id], "params.optimizer = 'adam'",
                                  order_by=["metrics.`val/accuracy` DESC"])
    assert [r["run_name"] for r in records] == [r.info.run_name for r in expected]
    assert [r["metrics.val/accuracy"] for r in records] == [r.data.metrics.get("val/accuracy") for r in expected]


async def test_export_while_grouped_writes_the_groups_and_their_aggregates(make_app, demo_store_uri, tmp_path):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, EXPERIMENT)
        await group_by(pilot, "params.lr")
        await export(pilot, tmp_path / "groups.json", fmt_index=2)
    records = json.loads((tmp_path / "groups.json").read_text(encoding="utf-8"))
    expected = by_value(mlflow_runs(demo_store_uri), "lr")
    assert [r["params.lr"] for r in records] == ["0.001", "0.003", "0.01", "0.03", "0.1"]
    for record in records:
        runs = expected[record["params.lr"]]
        assert record["runs"] == len(runs)
        assert record[f"mean(metrics.{METRIC})"] == pytest.approx(aggregate(runs, METRIC, "mean"), rel=1e-12)


async def test_an_existing_file_is_replaced_only_after_yes(make_app, tmp_path):
    target = tmp_path / "runs.csv"
    target.write_text("keep me", encoding="utf-8")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, EXPERIMENT)
        await export(pilot, target)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, ExportDialog)
        assert target.read_text(encoding="utf-8") == "keep me"
        await pilot.press("enter")  # the path box still has focus: asks again
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert not isinstance(app.screen, ExportDialog)
    assert target.read_text(encoding="utf-8").startswith("status,run_name,")


async def test_markdown_to_the_clipboard_writes_numbers_whole(make_app, demo_store_uri):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, EXPERIMENT)
        await export(pilot, None, fmt_index=1, clipboard=True)
        text = app.clipboard
    lines = text.splitlines()
    assert lines[0].startswith("| status | run_name |")
    assert len(lines) == 2 + len(mlflow_runs(demo_store_uri))
    values = [r.data.metrics["val/loss"] for r in mlflow_runs(demo_store_uri) if "val/loss" in r.data.metrics]
    assert all(f"| {v!r} |" in text or f"| {v!r}\n" in text for v in values if math.isfinite(v))


def test_every_format_writes_numbers_whole():
    from tracktui.tui.cli.table_formats import Column
    from tracktui.tui.export.dialog import render

    table = ([Column("x", "number")], [[0.12345678901234568], [1e-300], [None]])
    assert "| 0.12345678901234568 |" in render(table, "markdown")
    assert render(table, "csv") == "x\n0.12345678901234568\n1e-300\n\"\"\n"  # a lone empty field is quoted
    assert [r["x"] for r in json.loads(render(table, "json"))] == [0.12345678901234568, 1e-300, None]


async def test_compare_diff_table_exports_exact_values(make_app, demo_store_uri, tmp_path):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        experiment = app.store.get_experiment_by_name(EXPERIMENT)
        runs = app.store.search_runs([experiment.id], "", ["attributes.start_time ASC"], max_results=3).items
        await app.push_screen(CompareScreen([r.id for r in runs]))
        await settle(pilot)
        await export(pilot, tmp_path / "diff.csv")
    with open(tmp_path / "diff.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    client = mlflow_client(demo_store_uri)
    mlflow = [client.get_run(r.id) for r in runs]
    assert rows[0] == ["key", *(r.info.run_name for r in mlflow)]
    by_key = {row[0]: row[1:] for row in rows[1:]}
    for key, value in mlflow[0].data.metrics.items():
        assert number(by_key[f"metrics.{key}"][0]) == value or math.isnan(value)
    for key, value in mlflow[1].data.params.items():
        assert by_key[f"params.{key}"][1] == value


def test_diff_headers_tell_runs_of_the_same_name_apart():
    from tracktui.store.model import Run

    runs = [Run(run_id, "same", "1", "FINISHED", None, None, None, "active", None) for run_id in ("a1", "b2")]
    columns, _ = diff_table(runs, [])
    assert [c.name for c in columns] == ["key", "same (a1)", "same (b2)"]


def test_default_file_stem_is_one_safe_name():
    assert default_file_stem("runs", "mnist-classifier") == "runs-mnist-classifier"
    assert default_file_stem("runs", "../a b/c") == "runs-a-b-c"
    assert default_file_stem("runs", "///") == "runs-export"


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_snapshot_export_dialog(snap_compare, make_app, size):
    async def run_before(pilot):
        await open_experiment(pilot, EXPERIMENT)
        await pilot.press("e")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=size, run_before=run_before)


async def test_esc_during_an_export_writes_nothing(make_app, tmp_path, monkeypatch):
    import threading
    import time

    from tracktui.tui import abandonable
    from tracktui.tui.export import tables

    release = threading.Event()
    every_run = tables.every_run

    def slow_every_run(*args):
        release.wait(10)
        return every_run(*args)

    monkeypatch.setattr(tables, "every_run", slow_every_run)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, EXPERIMENT)
        await pilot.press("e", "tab", "tab", "ctrl+a", "ctrl+k")
        await type_text(pilot, str(tmp_path / "never.csv"))
        await pilot.press("enter")
        await pilot.pause()
        assert "Exporting" in str(app.screen.query_one("#export-status").render())
        await pilot.press("escape")
        release.set()
        for _ in range(100):
            if not abandonable._running:
                break
            time.sleep(0.05)
        await settle(pilot)
        assert not isinstance(app.screen, ExportDialog)
    assert not (tmp_path / "never.csv").exists()
