"""Grouped runs table (b, a, s/S, space, m inside groups, filter, refresh): groups and their
aggregates checked against the same numbers computed from MlflowClient's runs."""

from __future__ import annotations

import math
import statistics

import pytest
from action_helpers import mlflow_client
from pilot_helpers import group_by, open_experiment, screen_lines, settle, type_text

import tracktui.tui.screens.runs as runs_module
from tracktui.tui.config import Config, GroupingView
from tracktui.tui.run_groups import Grouping
from tracktui.tui.widgets.group_picker import AggregatePicker
from tracktui.tui.widgets.runs_table import GroupRow, RunRow, RunsTable

pytestmark = pytest.mark.anyio
EXPERIMENT = "mnist-classifier"
METRIC = "val/loss"


def table(app) -> RunsTable:
    return app.screen.query_one(RunsTable)


def mlflow_runs(uri: str, filter_string: str = ""):
    client = mlflow_client(uri)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    return client.search_runs([experiment.experiment_id], filter_string, max_results=1000)


def by_value(runs, param: str) -> dict[str | None, list]:
    groups: dict[str | None, list] = {}
    for run in runs:
        groups.setdefault(run.data.params.get(param), []).append(run)
    return groups


def aggregate(runs, metric: str, how: str) -> float:
    """store/groups.py's definitions on MlflowClient's runs: mean over the finite values,
    max over the non-NaN ones."""
    values = [r.data.metrics[metric] for r in runs if metric in r.data.metrics]
    if how == "mean":
        return statistics.fmean(v for v in values if math.isfinite(v))
    return max(v for v in values if not math.isnan(v))


async def open_grouped(pilot, by: str = "params.lr") -> None:
    await open_experiment(pilot, EXPERIMENT)
    await group_by(pilot, by)


def cursor_to(app, predicate) -> None:
    rows = table(app).rows
    table(app).cursor_row = next(i for i, row in enumerate(rows) if predicate(row))


async def test_groups_are_the_whole_experiment_with_mlflow_aggregates(make_app, demo_store_uri, monkeypatch):
    monkeypatch.setattr(runs_module, "PAGE_SIZE", 3)  # grouping never depends on the loaded page
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_grouped(pilot)
        expected = by_value(mlflow_runs(demo_store_uri), "lr")
        groups = table(app).groups
        assert {g.group.value: g.group.run_count for g in groups} == {k: len(v) for k, v in expected.items()}
        for row in groups:
            want = aggregate(expected[row.group.value], METRIC, "mean")
            assert row.group.aggregates[(METRIC, "mean")] == pytest.approx(want, rel=1e-12)
        text = "\n".join(screen_lines(app))
        assert "mean val/loss" in text
        first = groups[0]
        assert f"{first.group.value} · {first.group.run_count} runs" in text
        assert "groups by params.lr" in text


async def test_expand_mark_inside_collapse_and_ungroup(make_app, demo_store_uri):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_grouped(pilot)
        cursor_to(app, lambda row: isinstance(row, GroupRow) and row.group.value == "0.01")
        await pilot.press("space")
        await settle(pilot)
        inside = [row for row in table(app).rows if isinstance(row, RunRow)]
        wanted = {r.info.run_id for r in mlflow_runs(demo_store_uri, "params.lr = '0.01'")}
        assert {row.run.id for row in inside} == wanted
        assert all(row.depth == 1 and row.group.group.value == "0.01" for row in inside)
        await pilot.press("down", "m")
        await settle(pilot)
        assert inside[0].run.id in app.run_marks
        await pilot.press("left")  # to the group row
        assert isinstance(table(app).current_row, GroupRow)
        await pilot.press("enter")  # collapses
        assert not any(isinstance(row, RunRow) for row in table(app).rows)
        assert inside[0].run.id in app.run_marks
        await group_by(pilot, "")
        assert app.screen.grouping is None
        assert all(isinstance(row, RunRow) for row in table(app).rows) and table(app).rows


async def test_filter_and_refresh_keep_the_group_and_its_runs(make_app, demo_store_uri):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_grouped(pilot, "params.optimizer")
        cursor_to(app, lambda row: isinstance(row, GroupRow) and row.group.value == "sgd")
        await pilot.press("space")
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "params.model = 'mlp'")
        await pilot.press("enter")
        await settle(pilot)
        expected = by_value(mlflow_runs(demo_store_uri, "params.model = 'mlp'"), "optimizer")
        groups = table(app).groups
        assert {g.group.value: g.group.run_count for g in groups} == {k: len(v) for k, v in expected.items()}
        current = table(app).current_row
        assert isinstance(current, GroupRow) and current.group.value == "sgd" and current.expanded
        inside = {row.run.id for row in table(app).run_rows}
        assert inside == {r.info.run_id for r in expected["sgd"]}
        await pilot.press("down")
        run_id = table(app).current.run.id
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert table(app).current.run.id == run_id


async def test_sort_groups_by_the_aggregate_shown_and_reverse(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_grouped(pilot)
        app.screen._sort_by(f"metrics:{METRIC}")
        await settle(pilot)
        means = [g.group.aggregates[(METRIC, "mean")] for g in table(app).groups]
        assert means == sorted(means, reverse=True) and len(means) > 2
        await pilot.press("S")
        await settle(pilot)
        assert [g.group.aggregates[(METRIC, "mean")] for g in table(app).groups] == sorted(means)


async def test_aggregate_picker_steps_one_column(make_app, demo_store_uri):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_grouped(pilot)
        await pilot.press("a")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, AggregatePicker)
        metrics = picker._metrics
        picker.query_one("OptionList").highlighted = metrics.index(METRIC)
        await pilot.press("enter", "enter", "escape")  # mean → min → max
        await settle(pilot)
        assert app.screen.grouping.aggregates[METRIC] == "max"
        assert app.screen.grouping.aggregate_of("train/loss") == "mean"
        expected = by_value(mlflow_runs(demo_store_uri), "lr")
        for row in table(app).groups:
            assert row.group.aggregates[(METRIC, "max")] == aggregate(expected[row.group.value], METRIC, "max")
        assert "max val/loss" in "\n".join(screen_lines(app))


async def test_the_grouping_is_kept_for_the_experiment_across_screens_and_sessions(make_app, tmp_path):
    """b, a and the group sort are saved with the experiment's filter and sort (tui/config.py):
    leaving the experiment, or quitting, and opening it again shows the same groups."""
    config_path = tmp_path / "kept.json"
    app = make_app(config=Config(path=config_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await open_grouped(pilot)
        app.screen.action_choose_aggregates()
        await settle(pilot)
        app.screen.query_one("OptionList").highlighted = app.screen._metrics.index(METRIC)
        await pilot.press("enter", "escape")  # mean → min
        await settle(pilot)
        app.screen._sort_by(f"metrics:{METRIC}")
        await settle(pilot)
        shown = [g.group.value for g in table(app).groups]
        await pilot.press("escape")  # back to the experiments
        await settle(pilot)
        await open_experiment(pilot, EXPERIMENT)
        kept = app.screen.grouping
        assert (kept.by, kept.aggregate_of(METRIC), kept.sort_column, kept.sort_ascending) == (
            "params.lr", "min", f"metrics:{METRIC}", False)
        assert [g.group.value for g in table(app).groups] == shown
    again = make_app(config=Config.load(config_path))
    async with again.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, EXPERIMENT)
        assert again.screen.grouping == kept
        assert [g.group.value for g in table(again).groups] == shown
        assert f"min {METRIC}" in "\n".join(screen_lines(again))
        await group_by(pilot, "")  # ungrouped is kept too
    last = make_app(config=Config.load(config_path))
    async with last.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, EXPERIMENT)
        assert last.screen.grouping is None and all(isinstance(row, RunRow) for row in table(last).rows)


def test_a_saved_grouping_whose_key_no_longer_parses_is_dropped():
    assert Grouping.saved(GroupingView("metrics.loss")) is None
    assert Grouping.saved(GroupingView("params.`unclosed")) is None
    assert Grouping.saved(GroupingView("parent", (("m", "median"), ("n", "max")))) == Grouping("parent", {"n": "max"})


async def test_a_large_group_pages_its_runs(make_app, monkeypatch, demo_store_uri):
    monkeypatch.setattr(runs_module, "PAGE_SIZE", 2)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_grouped(pilot, "params.optimizer")
        cursor_to(app, lambda row: isinstance(row, GroupRow) and row.group.value == "adam")
        await pilot.press("space")
        await settle(pilot)
        assert len(table(app).run_rows) == 2
        for _ in range(12):
            await pilot.press("down")
            await settle(pilot)
        wanted = {r.info.run_id for r in mlflow_runs(demo_store_uri, "params.optimizer = 'adam'")}
        assert len(wanted) > 4
        assert {row.run.id for row in table(app).run_rows} == wanted


async def test_the_group_of_runs_without_the_key_and_parent_grouping(make_app, demo_store_uri):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "lr-sweep")
        await group_by(pilot, "params.trials")
        none = next(g for g in table(app).groups if g.group.value is None)
        assert "(none) · " in "\n".join(screen_lines(app))
        cursor_to(app, lambda row: row is none)
        await pilot.press("space")
        await settle(pilot)
        assert all("trials" not in row.run.params for row in table(app).run_rows)
        assert len(table(app).run_rows) == none.group.run_count
        await group_by(pilot, "parent")
        parents = [g for g in table(app).groups if g.group.value is not None]
        assert parents and all(g.group.run_count > 1 for g in parents)
        client = mlflow_client(demo_store_uri)
        text = "\n".join(screen_lines(app))
        for row in parents:
            name = client.get_run(row.group.value).info.run_name
            assert f"{name} ({row.group.value[:8]}) · {row.group.run_count} runs" in text


def test_run_filter_joins_the_user_filter_with_the_group_value():
    grouping = Grouping("params.`batch size`")
    assert grouping.run_filter("", "32") == "params.`batch size` = '32'"
    assert grouping.run_filter("metrics.acc > 1", None) == "metrics.acc > 1 and params.`batch size` IS NULL"
    assert Grouping("parent").run_filter("", "abc") == "tags.`mlflow.parentRunId` = 'abc'"


def test_groups_without_a_number_sort_last_either_way():
    from tracktui.store.model import RunGroup
    from tracktui.tui.columns import column

    groups = [RunGroup("a", 1, {("m", "mean"): 2.0}), RunGroup("b", 1, {("m", "mean"): None}),
              RunGroup("c", 1, {("m", "mean"): math.nan}), RunGroup("d", 1, {("m", "mean"): 5.0})]
    grouping = Grouping("params.p", sort_column="metrics:m", sort_ascending=True)
    cols = [column("metrics:m")]
    assert [g.value for g in grouping.sorted_groups(groups, cols)] == ["a", "d", "b", "c"]
    grouping.sort_ascending = False
    assert [g.value for g in grouping.sorted_groups(groups, cols)] == ["d", "a", "b", "c"]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_snapshot_grouped_table(snap_compare, make_app, size):
    async def run_before(pilot):
        await open_grouped(pilot)
        cursor_to(pilot.app, lambda row: isinstance(row, GroupRow) and row.group.value == "0.01")
        await pilot.press("space")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=size, run_before=run_before)
