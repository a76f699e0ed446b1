"""The latest point of a metric file, on every path that finds it: the whole-run read of a
listing (files_rundata), the general per-file read (LatestCache) and `max_point`, with the
step-column memo of files_metrics hit and missed.

Metrics are logged through real mlflow into a real file store, and each answer is compared
with what mlflow's own FileStore returns for the same run (the latest value, NaN-aware), as
well as with the expected point written out here.
"""

from __future__ import annotations

import math
import shutil

import pytest

from fixtures.data import allow_file_store
from tracktui.store.files import metrics as files_metrics
from tracktui.store.files.metrics import LatestCache, latest_point, max_point
from tracktui.store.files.store import FileStore
from tracktui.store.model import Keys, MetricPoint

T0 = 1_700_000_000_000

#: metric name -> (points logged in this order as (value, step, timestamp), the latest point)
CASES = {
    # the greatest step is in the middle of the file, not on the last line
    "max_not_last": ([(0.1, 0, T0), (0.9, 7, T0 + 1), (0.2, 3, T0 + 2), (0.3, 5, T0 + 3)], (0.9, 7, T0 + 1)),
    # equal greatest steps: the greatest timestamp wins, wherever it is in the file
    "equal_steps": ([(0.1, 4, T0 + 5), (0.2, 4, T0 + 9), (0.3, 4, T0 + 7), (0.4, 2, T0 + 20)], (0.2, 4, T0 + 9)),
    # equal step and timestamp: the greater value; NaN never wins such a tie
    "equal_step_and_time": ([(0.5, 6, T0), (math.nan, 6, T0), (0.7, 6, T0), (0.6, 6, T0)], (0.7, 6, T0)),
    "nan_first_then_tie": ([(math.nan, 2, T0), (0.5, 2, T0)], (math.nan, 2, T0)),
    "nan_latest": ([(0.1, 0, T0), (math.nan, 1, T0 + 1)], (math.nan, 1, T0 + 1)),
    "inf_latest": ([(0.1, 0, T0), (math.inf, 1, T0 + 1)], (math.inf, 1, T0 + 1)),
    "minus_inf_latest": ([(0.1, 0, T0), (-math.inf, 3, T0 + 1), (0.2, 1, T0 + 2)], (-math.inf, 3, T0 + 1)),
    # steps logged in order, the usual file
    "in_order": ([(s / 10, s, T0 + s) for s in range(20)], (1.9, 19, T0 + 19)),
    # the same step column as "in_order" (a memo hit), other values
    "in_order_again": ([(-s / 10, s, T0 + 100 + s) for s in range(20)], (-1.9, 19, T0 + 119)),
    # the same step column as "max_not_last" (a memo hit with the max inside the file)
    "max_not_last_again": ([(1.1, 0, T0), (1.9, 7, T0 + 5), (1.2, 3, T0 + 6), (1.3, 5, T0 + 7)], (1.9, 7, T0 + 5)),
    "negative_steps": ([(0.1, -5, T0), (0.2, -1, T0 + 1), (0.3, -3, T0 + 2)], (0.2, -1, T0 + 1)),
}


def _same(point: MetricPoint, expected: tuple[float, int, int]) -> bool:
    value, step, timestamp = expected
    same_value = math.isnan(value) if math.isnan(point.value) else point.value == value
    return same_value and (point.step, point.timestamp) == (step, timestamp)


@pytest.fixture(scope="module")
def logged(tmp_path_factory) -> dict:
    """One run holding every case of CASES, logged point by point through real mlflow."""
    root = tmp_path_factory.mktemp("latest") / "mlruns"
    with allow_file_store():
        import mlflow
        from mlflow.entities import Metric

        client = mlflow.MlflowClient(root.as_uri())
        exp = client.create_experiment("latest")
        run_id = client.create_run(exp, run_name="cases").info.run_id
        for key, (points, _) in CASES.items():
            for value, step, timestamp in points:  # one call each: one line each, in this order
                client.log_batch(run_id, metrics=[Metric(key, value, timestamp, step)])
        theirs = client.get_run(run_id).data.metrics
    run_dir = root / exp / run_id
    return {"root": root, "exp": exp, "run": run_id, "metrics": run_dir / "metrics", "theirs": theirs}


def test_mlflow_agrees_with_the_expected_latest_values(logged):
    for key, (_, expected) in CASES.items():
        theirs = logged["theirs"][key]
        assert math.isnan(theirs) if math.isnan(expected[0]) else theirs == expected[0], key


@pytest.mark.parametrize("memo", ["empty", "warm"])
def test_listing_finds_the_latest_point_of_every_case(logged, memo, monkeypatch):
    """The whole-run read of a listing (files_rundata → max_three_field), memo cold and warm."""
    if memo == "empty":
        monkeypatch.setattr(files_metrics, "_STEP_COLUMNS", {})
    store = FileStore(str(logged["root"]))
    (run,) = store.search_runs([logged["exp"]]).items
    for key, (_, expected) in CASES.items():
        assert _same(run.metrics[key], expected), (key, run.metrics[key])
    assert store.warnings == ()


def test_general_path_finds_the_same_latest_points(logged):
    """Asking for some keys reads them per file (LatestCache), not through the whole-run read."""
    store = FileStore(str(logged["root"]))
    (run,) = store.search_runs([logged["exp"]], include_keys=Keys(metrics=tuple(CASES))).items
    for key, (_, expected) in CASES.items():
        assert _same(run.metrics[key], expected), key
    for key, (_, expected) in CASES.items():
        point, problems = latest_point(str(logged["metrics"] / key))
        assert _same(point, expected) and problems == [], key


def test_memo_overflow_keeps_answers_exact(logged, monkeypatch):
    """Dropping the step-column memo when it is full changes nothing but the speed."""
    monkeypatch.setattr(files_metrics, "_STEP_COLUMNS", {})
    monkeypatch.setattr(files_metrics, "MAX_STEP_COLUMNS", 2)
    for _ in range(2):
        for key, (_, expected) in CASES.items():
            point = max_point((logged["metrics"] / key).read_bytes())[0]
            assert _same(point, expected), key
    assert len(files_metrics._STEP_COLUMNS) <= 2


def _write(path, lines: list[bytes]) -> None:
    path.write_bytes(b"".join(lines))


@pytest.mark.parametrize(
    "lines, expected, warns",
    [
        # a trailing blank line is skipped, as before the fast path: same point, no warning
        ([b"100 0.5 1\n", b"200 0.7 2\n", b"\n"], (0.7, 2, 200), False),
        ([b"100 0.5 1\n", b"\n", b"200 0.7 2\n"], (0.7, 2, 200), False),
        # a 5-field line (logged with a dataset) keeps its step, beside 3-field lines
        ([b"100 0.5 1\n", b"200 0.7 9 ds digest\n", b"300 0.6 3\n"], (0.7, 9, 200), False),
        # 2-field lines (mlflow < 1.0) are step 0
        ([b"100 0.5\n", b"200 0.7\n"], (0.7, 0, 200), False),
        # damaged lines are skipped and warned about, the others still count
        ([b"100 0.5 1\n", b"200 zzz 8\n", b"300 0.6 2\n"], (0.6, 2, 300), True),
        ([b"100 0.5 1\n", b"200 0.7 x\n", b"300 0.6 2\n"], (0.6, 2, 300), True),
        ([b"100 0.5 1\n", b"200  0.7 9\n", b"300 0.6 2\n"], (0.6, 2, 300), True),
        ([b"100 0.5 1\t\n", b"200 0.7 2\n"], (0.7, 2, 200), False),
        # a 2-field line beside a 4-field one: as many tokens as two 3-field lines, but the
        # 4-field line is damaged (warned about) and the 2-field one is step 0
        ([b"100 0.5\n", b"200 0.7 9 8\n"], (0.5, 0, 100), True),
        # a line being written right now is ignored (and warned about until it is complete)
        ([b"100 0.5 1\n", b"200 0.9 5"], (0.5, 1, 100), True),
    ],
    ids=["trailing-blank", "inner-blank", "five-field", "two-field", "bad-value", "bad-step",
         "double-space", "tab", "two-and-four-fields", "unterminated"],
)
def test_odd_files_read_as_the_general_parser_reads_them(logged, tmp_path, lines, expected, warns):
    """Files the fast path declines: same answer and same warnings on every path."""
    root = tmp_path / "mlruns"
    shutil.copytree(logged["root"], root)
    metric = root / logged["exp"] / logged["run"] / "metrics" / "odd"
    _write(metric, lines)
    point, problems = max_point(metric.read_bytes())[:2]
    assert _same(point, expected) and bool(problems) == warns
    cache_point, cache_problems = LatestCache().latest(str(metric))
    assert _same(cache_point, expected) and cache_problems == problems
    store = FileStore(str(root))
    (run,) = store.search_runs([logged["exp"]]).items
    assert _same(run.metrics["odd"], expected)
    assert any(str(metric) in w for w in store.warnings) == warns
    for key, (_, case_expected) in CASES.items():  # the other files of the run are unaffected
        assert _same(run.metrics[key], case_expected), key
