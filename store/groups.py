"""Group-by over runs (`Store.group_runs`): what a group and each aggregate mean, once, and the
Python implementation the file store and REST use (the SQL backend computes the same with one
GROUP BY: store.sql.groups).

The sweep question ("which learning rate won?") needs every run of the filtered experiment, not
the loaded page; so grouping is the store's job. Definitions, shared by every backend:

- Group key: `params.<key>`, `tags.<key>` or `parent` (= `tags.mlflow.parentRunId`), written
  as in order_by (backticks for keys with spaces). Runs without the key form one group whose
  value is None, shown as "(none)" as MLflow's UI does.
- Metric values are each run's latest value (`latest_metrics`, what search_runs returns).
- `min`, `max`: over the group's runs that have a non-NaN value for the metric; ±inf counts,
  as the backend holds it (SQL stores clamp it to ±1.797e308, as MLflow does).
- `mean`: over the finite values only: NaN and ±inf (and the SQL stores' clamped ±1.797e308)
  are left out, so one diverged run neither hides the others nor turns the mean into an
  overflow artefact; `max`/`min` still show that it diverged.
- `count`: how many runs of the group have a non-NaN value for the metric.
- `last`: the value most recently logged in the group: the latest point with the greatest
  timestamp, then step, ties to the smallest run id; NaN kept (it is what was logged last).
- Each is None when the group has no value for it (`count` is then 0).
- Groups come ordered by value: values that read as numbers first, by number, then the others
  by text, the None group last (a sweep's `0.001, 0.01, 0.1` in order).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .errors import InvalidValue
from .model import AGGREGATES, PARENT_RUN_TAG, Keys, MetricPoint, RunGroup, ViewType

if TYPE_CHECKING:
    from .base import Store

#: Runs per search_runs page when grouping in Python.
GROUP_PAGE_SIZE = 1000
PARENT = "parent"
#: The largest float: what MLflow's SQL stores write for +inf.
FLOAT_MAX = sys.float_info.max


@dataclass(frozen=True, slots=True)
class GroupKey:
    """What runs are grouped by: a param or a tag (the parent is the `mlflow.parentRunId` tag)."""

    kind: str  # "param" or "tag"
    key: str


def parse_group_by(text: str) -> GroupKey:
    """`params.lr`, ``tags.`my tag` ``, `parent` → GroupKey. Raises FilterSyntaxError for text
    that does not parse as an identifier, InvalidValue for a metric or attribute."""
    from .search import parse_run_order_by

    if text.strip().lower() == PARENT:
        return GroupKey("tag", PARENT_RUN_TAG)
    (parsed,) = parse_run_order_by([text]) or (None,)
    if parsed is None or parsed.kind not in ("param", "tag") or not parsed.ascending:
        raise InvalidValue(
            f"Cannot group by {text!r}: expected params.<key>, tags.<key> or parent"
        )
    return GroupKey(parsed.kind, parsed.key)


def check_aggregates(aggregates: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The (metric key, aggregate) pairs, de-duplicated in order. Raises InvalidValue."""
    out: dict[tuple[str, str], None] = {}
    for metric, aggregate in aggregates:
        if aggregate not in AGGREGATES:
            raise InvalidValue(
                f"Unknown aggregate {aggregate!r}: expected one of {', '.join(AGGREGATES)}"
            )
        out[(str(metric), aggregate)] = None
    return tuple(out)


def group_order(value: str | None) -> tuple:
    """Sort key putting groups in the documented order."""
    if value is None:
        return (2, 0.0, "")
    number = _as_number(value)
    if number is not None:
        return (0, number, value)
    return (1, 0.0, value)


def _as_number(value: str) -> float | None:
    if "_" in value:  # float() accepts "1_000"; a param value with it is text
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def is_finite(value: float) -> bool:
    """False for ±inf and for the ±1.797e308 MLflow's SQL stores write in their place."""
    return -FLOAT_MAX < value < FLOAT_MAX


def group_runs_from_pages(
    store: Store,
    experiment_ids: Sequence[str],
    group_by: str,
    aggregates: Sequence[tuple[str, str]] = (),
    filter_string: str = "",
    view: ViewType = "active",
) -> list[RunGroup]:
    """`Store.group_runs` computed in Python over every search_runs page (only the group key
    and the aggregated metrics are loaded)."""
    key = parse_group_by(group_by)
    wanted = check_aggregates(aggregates)
    metrics = tuple(sorted({metric for metric, _ in wanted}))
    include = Keys(
        metrics=metrics,
        params=(key.key,) if key.kind == "param" else (),
        tags=(key.key,) if key.kind == "tag" else (),
    )
    groups: dict[str | None, _Group] = {}
    token = None
    while True:
        page = store.search_runs(
            experiment_ids, filter_string, view=view, max_results=GROUP_PAGE_SIZE,
            page_token=token, include_keys=include,
        )
        for run in page:
            values = run.params if key.kind == "param" else run.tags
            group = groups.setdefault(values.get(key.key), _Group())
            group.add(run.id, run.metrics, metrics)
        token = page.next_page_token
        if not token:
            break
    return [
        RunGroup(value, group.runs, {pair: group.result(*pair) for pair in wanted})
        for value, group in sorted(groups.items(), key=lambda item: group_order(item[0]))
    ]


@dataclass(slots=True)
class _Group:
    """Running totals of one group."""

    runs: int = 0
    numbers: dict[str, list[float]] = field(default_factory=dict)
    finite: dict[str, list[float]] = field(default_factory=dict)
    #: metric → ((timestamp, step), run id, value) of the latest point so far.
    latest: dict[str, tuple[tuple[int, int], str, float]] = field(default_factory=dict)

    def add(self, run_id: str, points: Mapping[str, MetricPoint], metrics: Sequence[str]) -> None:
        self.runs += 1
        for metric in metrics:
            point = points.get(metric)
            if point is None:
                continue
            if not math.isnan(point.value):
                self.numbers.setdefault(metric, []).append(point.value)
                if is_finite(point.value):
                    self.finite.setdefault(metric, []).append(point.value)
            when = (point.timestamp, point.step)
            best = self.latest.get(metric)
            if best is None or when > best[0] or (when == best[0] and run_id < best[1]):
                self.latest[metric] = (when, run_id, point.value)

    def result(self, metric: str, aggregate: str) -> float | int | None:
        numbers = self.numbers.get(metric, [])
        if aggregate == "count":
            return len(numbers)
        if aggregate == "last":
            latest = self.latest.get(metric)
            return None if latest is None else latest[2]
        if not numbers:
            return None
        if aggregate == "min":
            return min(numbers)
        if aggregate == "max":
            return max(numbers)
        finite = self.finite.get(metric)
        return math.fsum(finite) / len(finite) if finite else None
