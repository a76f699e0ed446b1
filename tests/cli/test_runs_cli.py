"""`tracktui runs` and `tracktui experiments` as scripts use them: a subprocess on the fixture
store written by the real mlflow client, its CSV/JSON output parsed and compared with what
MlflowClient returns there."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.data import ALPHA, QUOTED_TAG_VALUE
from tracktui.store import FilterSyntaxError
from tracktui.store.search import parse_run_filter

TRACKTUI = str(Path(sys.executable).with_name("tracktui"))


def tracktui(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([TRACKTUI, *args], capture_output=True, text=True, env=dict(os.environ), timeout=120)


@pytest.fixture(scope="module")
def uri(sqlite_backend) -> str:
    return sqlite_backend.uri


@pytest.fixture(scope="module")
def client(uri):
    import mlflow

    return mlflow.MlflowClient(uri)


def _number(text: str):
    return None if text == "" else float(text)


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-12)


def test_runs_csv_is_what_mlflow_returns(uri, client, sqlite_backend):
    result = tracktui("runs", ALPHA, "--uri", uri, "--format", "csv",
                      "--columns", "run_id,run_name,params.lr,metrics.loss,tags.quoted")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    theirs = client.search_runs([sqlite_backend.experiments[ALPHA]], max_results=1000)
    assert [r["run_id"] for r in rows] == [run.info.run_id for run in theirs]
    for row, run in zip(rows, theirs):
        assert row["run_name"] == run.info.run_name
        assert row["params.lr"] == run.data.params.get("lr", "")
        assert _same(_number(row["metrics.loss"]), run.data.metrics.get("loss"))
        assert row["tags.quoted"] == run.data.tags.get("quoted", "")
    assert QUOTED_TAG_VALUE in [r["tags.quoted"] for r in rows]  # newline and quotes carried exactly


def test_runs_filter_order_and_limit(uri, client, sqlite_backend):
    result = tracktui("runs", sqlite_backend.experiments[ALPHA], "--uri", uri, "--format", "json",
                      "--filter", "metrics.loss < 0.5", "--order-by", "metrics.loss DESC",
                      "--order-by", "attributes.run_name", "--limit", "4", "--columns", "run_id,metrics.loss")
    assert result.returncode == 0, result.stderr
    theirs = client.search_runs([sqlite_backend.experiments[ALPHA]], "metrics.loss < 0.5",
                                order_by=["metrics.loss DESC", "attributes.run_name"], max_results=4)
    assert json.loads(result.stdout) == [
        {"run_id": run.info.run_id, "metrics.loss": run.data.metrics["loss"]} for run in theirs
    ]


def test_grouped_json_matches_groups_from_mlflow(uri, client, sqlite_backend):
    result = tracktui("runs", ALPHA, "--uri", uri, "--format", "json", "--group-by", "params.optimizer",
                      "--agg", "mean,max,count", "--columns", "metrics.accuracy")
    assert result.returncode == 0, result.stderr
    groups: dict = {}
    for run in client.search_runs([sqlite_backend.experiments[ALPHA]], max_results=1000):
        groups.setdefault(run.data.params.get("optimizer"), []).append(run.data.metrics.get("accuracy"))
    got = {g["params.optimizer"]: g for g in json.loads(result.stdout)}
    assert set(got) == set(groups)  # None (no optimizer) is JSON null
    for value, accuracies in groups.items():
        numbers = [a for a in accuracies if a is not None and not math.isnan(a)]
        row = got[value]
        assert row["runs"] == len(accuracies)
        assert row["count(metrics.accuracy)"] == len(numbers)
        assert _same(row["max(metrics.accuracy)"], max(numbers) if numbers else None)
        assert _same(row["mean(metrics.accuracy)"], math.fsum(numbers) / len(numbers) if numbers else None)


def test_groups_ordered_by_an_aggregate(uri):
    result = tracktui("runs", ALPHA, "--uri", uri, "--format", "csv", "--group-by", "params.lr",
                      "--agg", "min", "--columns", "metrics.accuracy", "--order-by", "min(metrics.accuracy) DESC")
    assert result.returncode == 0, result.stderr
    values = [_number(r["min(metrics.accuracy)"]) for r in csv.DictReader(io.StringIO(result.stdout))]
    present = [v for v in values if v is not None]
    assert present == sorted(present, reverse=True) and len(present) > 2
    assert values[len(present):] == [None] * (len(values) - len(present))  # missing last


def test_plain_output_when_piped_is_one_line_per_run(uri, sqlite_backend):
    result = tracktui("runs", ALPHA, "--uri", uri, "--columns", "run_name,tags.quoted")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "run_name\ttags.quoted"
    assert "\x1b" not in result.stdout
    assert len(lines) == 1 + 18  # the active alpha runs; the tag's newline is shown as ␊
    assert any("␊second line" in line for line in lines)


def test_experiments_json_is_what_mlflow_returns(uri, client):
    result = tracktui("experiments", "--uri", uri, "--format", "json")
    assert result.returncode == 0, result.stderr
    theirs = client.search_experiments()
    rows = json.loads(result.stdout)
    assert [(r["experiment_id"], r["name"]) for r in rows] == [(e.experiment_id, e.name) for e in theirs]
    for row in rows:
        assert row["runs"] == len(client.search_runs([row["experiment_id"]], max_results=1000))


def test_bad_filter_exits_2_with_a_caret_under_the_position(uri):
    result = tracktui("runs", ALPHA, "--uri", uri, "--filter", "metrics.loss <> 1")
    assert result.returncode == 2
    first, text, caret = result.stderr.splitlines()[:3]
    assert first.startswith("tracktui: bad filter:")
    assert text == "  metrics.loss <> 1"
    with pytest.raises(FilterSyntaxError) as error:
        parse_run_filter("metrics.loss <> 1")
    assert caret == " " * (2 + error.value.position) + "^"  # where the store says it goes wrong
    assert result.stdout == ""


def test_bad_experiment_filter_exits_2(uri):
    result = tracktui("experiments", "--uri", uri, "--filter", "name =")
    assert result.returncode == 2 and "^" in result.stderr


@pytest.mark.parametrize("args,message", [
    (("no such experiment",), "No experiment is named"),
    ((ALPHA, "--group-by", "metrics.loss"), "Cannot group by"),
    ((ALPHA, "--group-by", "params.lr", "--agg", "median"), "unknown aggregate median"),
    ((ALPHA, "--columns", "bogus"), "unknown column"),
])
def test_mistakes_exit_2_with_one_line(uri, args, message):
    result = tracktui("runs", *args, "--uri", uri)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_bad_order_by_names_the_option_and_marks_the_position(uri):
    result = tracktui("runs", ALPHA, "--uri", uri, "--order-by", "metrics.loss SIDEWAYS")
    assert result.returncode == 2
    first, text, caret = result.stderr.splitlines()[:3]
    assert first.startswith("tracktui: bad --order-by:")
    assert text == "  metrics.loss SIDEWAYS" and caret.endswith("^")


def test_headless_commands_never_load_textual():
    code = ("import sys; from tracktui.tui.cli import build_parser, experiments, runs, table_formats; "
            "build_parser(); print('textual' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "False", result.stderr


def test_experiments_over_a_server_print_a_bounded_count_as_n_plus(tracking_server_url, monkeypatch, capsys):
    """No count endpoint there: counts stop at the bound (patched to 2 here) and a larger one
    is printed as `2+`, a string even in JSON; --exact-counts counts on."""
    import argparse
    import uuid

    import mlflow

    from tracktui.tui import run_counts
    from tracktui.tui.cli import experiments

    monkeypatch.setattr(run_counts, "COUNT_CAP", 2)
    client = mlflow.MlflowClient(tracking_server_url)
    name = f"cli-count-{uuid.uuid4().hex[:8]}"
    experiment_id = client.create_experiment(name)
    for _ in range(3):
        client.set_terminated(client.create_run(experiment_id).info.run_id)
    capsys.readouterr()  # mlflow's "View run" lines

    def runs_of(*extra: str):
        parser = argparse.ArgumentParser()
        experiments.add_arguments(parser)
        args = parser.parse_args(["--uri", tracking_server_url, "--filter", f"name = '{name}'", *extra])
        assert experiments.run(args) == 0
        return capsys.readouterr().out

    assert json.loads(runs_of("--format", "json"))[0]["runs"] == "2+"
    assert list(csv.DictReader(io.StringIO(runs_of("--format", "csv"))))[0]["runs"] == "2+"
    assert json.loads(runs_of("--format", "json", "--exact-counts"))[0]["runs"] == 3
