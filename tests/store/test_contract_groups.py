"""`group_runs` on every backend, against the same groups computed from MlflowClient's runs.

The expected side is written here from the definitions in store.groups, over the runs the
real MlflowClient returns (each run's latest metric values), independently of tracktui's code.
"""

from __future__ import annotations

import math
import sys

import pytest

from fixtures.data import ALPHA, BETA
from tracktui.store import FilterSyntaxError, InvalidValue

MLFLOW_VIEW = {"active": 1, "deleted": 2, "all": 3}
METRICS = ("loss", "accuracy", "val/loss", "eval.f1")
AGGREGATES = tuple((metric, agg) for metric in METRICS for agg in ("mean", "min", "max", "last", "count"))

CASES = [
    # (group_by, the mlflow tag/param it reads, filter, view, experiments)
    ("params.lr", ("param", "lr"), "", "active", (ALPHA, BETA)),
    ("params.optimizer", ("param", "optimizer"), "", "active", (ALPHA,)),
    ("params.`batch size`", ("param", "batch size"), "", "active", (ALPHA,)),
    ("tags.stage", ("tag", "stage"), "", "active", (ALPHA, BETA)),
    ("parent", ("tag", "mlflow.parentRunId"), "", "active", (ALPHA,)),
    ("params.lr", ("param", "lr"), "metrics.loss < 1", "active", (ALPHA, BETA)),
    ("params.optimizer", ("param", "optimizer"), "attributes.status = 'FINISHED'", "all", (ALPHA,)),
]


def _order(value):
    """The documented group order, restated: numbers, then text, then the (none) group."""
    if value is None:
        return (2, 0.0, "")
    try:
        number = float(value)
    except ValueError:
        return (1, 0.0, value)
    if "_" in value or not math.isfinite(number):
        return (1, 0.0, value)
    return (0, number, value)


def expected_groups(client, experiment_ids, source, filter_string, view):
    kind, key = source
    runs = client.search_runs(
        experiment_ids, filter_string, run_view_type=MLFLOW_VIEW[view], max_results=1000
    )
    members: dict = {}
    for run in runs:
        values = run.data.params if kind == "param" else run.data.tags
        members.setdefault(values.get(key), []).append(run)
    out = []
    for value in sorted(members, key=_order):
        group = members[value]
        results = {}
        for metric, agg in AGGREGATES:
            points = [(r.info.run_id, m) for r in group for m in r.data._metric_objs if m.key == metric]
            numbers = [m.value for _, m in points if not math.isnan(m.value)]
            if agg == "count":
                results[(metric, agg)] = len(numbers)
            elif agg == "last":
                latest = sorted(points, key=lambda p: (-p[1].timestamp, -p[1].step, p[0]))
                results[(metric, agg)] = latest[0][1].value if latest else None
            elif not numbers:
                results[(metric, agg)] = None
            elif agg in ("min", "max"):
                results[(metric, agg)] = min(numbers) if agg == "min" else max(numbers)
            else:  # SQL stores hold ±inf as ±FLOAT_MAX; the mean leaves both out
                finite = [v for v in numbers if math.isfinite(v) and abs(v) != sys.float_info.max]
                results[(metric, agg)] = math.fsum(finite) / len(finite) if finite else None
        out.append((value, len(group), results))
    return out


def _same(ours, theirs) -> bool:
    if ours is None or theirs is None:
        return ours is theirs
    if isinstance(theirs, int) and not isinstance(theirs, bool) and isinstance(ours, int):
        return ours == theirs
    if math.isnan(theirs):
        return math.isnan(ours)
    return math.isclose(ours, theirs, rel_tol=1e-12) or ours == theirs


@pytest.mark.parametrize("group_by,source,filter_string,view,experiments", CASES)
def test_group_runs_matches_groups_from_mlflow(store, mlflow_client, info, group_by, source,
                                               filter_string, view, experiments):
    ids = [info.experiments[name] for name in experiments]
    expected = expected_groups(mlflow_client, ids, source, filter_string, view)
    groups = store.group_runs(ids, group_by, AGGREGATES, filter_string, view)
    assert [(g.value, g.run_count) for g in groups] == [(v, n) for v, n, _ in expected]
    assert len(expected) > 1  # the case really splits runs
    for group, (value, _, results) in zip(groups, expected):
        assert set(group.aggregates) == set(AGGREGATES)
        wrong = {pair: (group.aggregates[pair], want) for pair, want in results.items()
                 if not _same(group.aggregates[pair], want)}
        assert not wrong, f"group {value!r}: (ours, from mlflow) differ: {wrong}"


def test_group_runs_keeps_case_distinct_values_apart(store, info):
    """`adam` and `Adam` are two optimizers (MySQL's collation would merge them)."""
    groups = store.group_runs([info.experiments[ALPHA]], "params.optimizer", [("loss", "count")])
    values = [g.value for g in groups]
    assert "adam" in values and "Adam" in values


def test_group_runs_without_aggregates_counts_runs(store, mlflow_client, info):
    ids = [info.experiments[ALPHA]]
    groups = store.group_runs(ids, "params.lr")
    assert sum(g.run_count for g in groups) == len(mlflow_client.search_runs(ids, max_results=1000))
    assert all(g.aggregates == {} for g in groups)


@pytest.mark.parametrize("group_by", ["metrics.loss", "attributes.status", "params.lr DESC"])
def test_group_runs_refuses_other_keys(store, info, group_by):
    with pytest.raises(InvalidValue):
        store.group_runs([info.experiments[ALPHA]], group_by)


def test_group_runs_refuses_unknown_aggregate(store, info):
    with pytest.raises(InvalidValue, match="median"):
        store.group_runs([info.experiments[ALPHA]], "params.lr", [("loss", "median")])


def test_group_runs_bad_filter_raises_filter_syntax_error(store, info):
    with pytest.raises(FilterSyntaxError):
        store.group_runs([info.experiments[ALPHA]], "params.lr", [("loss", "mean")], "metrics.loss <")
