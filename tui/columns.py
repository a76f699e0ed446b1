"""Runs-table columns: which value a column shows, how wide it is, and how the store sorts it.

A column is named by a stable id a user's config can keep: `attr:<name>` for the built-in
run attributes, `metrics:<key>`, `params:<key>` and `tags:<key>` for logged values, and
`spark:<key>` for a metric's history drawn as a sparkline (the table draws it from the
histories the runs screen fetches for the rows on screen; see tui/sparkline_cache.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tracktui.store.model import Keys, Run

from .widgets.run_format import MISSING, format_duration, format_metric_value

#: The built-in attribute columns, in display order: id → (label, width, store sort key).
ATTRIBUTES: dict[str, tuple[str, int, str | None]] = {
    "status": ("", 1, "attributes.status"),
    "name": ("Name", 26, "attributes.run_name"),
    "start": ("Start", 16, "attributes.start_time"),
    "duration": ("Duration", 8, None),  # MLflow cannot order by duration
    "user": ("User", 10, "attributes.user_id"),
    "end": ("End", 16, "attributes.end_time"),
    "run_id": ("Run ID", 32, "attributes.run_id"),
    "datasets": ("Datasets", 24, None),  # MLflow cannot order by datasets (filter: dataset.*)
}

#: Cells of a sparkline column; the store downsamples each history to this many points.
SPARKLINE_CELLS = 16

DEFAULT_ATTRIBUTES = ("attr:status", "attr:name", "attr:start", "attr:duration", "attr:user")
#: How many metrics the default column set shows ("key metrics"), besides system/ metrics.
DEFAULT_METRIC_COUNT = 3

STATUS_GLYPHS = {
    "FINISHED": "✓",
    "FAILED": "✗",
    "RUNNING": "●",
    "SCHEDULED": "◷",
    "KILLED": "⊘",
}


@dataclass(frozen=True, slots=True)
class Column:
    id: str
    kind: str  # "attr", "metrics", "params", "tags" or "spark"
    key: str
    label: str
    width: int

    @property
    def order_by(self) -> str | None:
        """The store's order_by identifier for this column, or None when it cannot be sorted."""
        if self.kind == "attr":
            return ATTRIBUTES[self.key][2]
        if self.kind == "spark":
            return None  # a history has no order; its latest value (metrics:<key>) has
        return f"{self.kind}.{quote_key(self.key)}"

    def text(self, run: Run) -> str:
        """The cell text for a run (untruncated); a sparkline's text is drawn by the table."""
        if self.kind == "spark":
            return ""
        if self.kind == "metrics":
            point = run.metrics.get(self.key)
            return MISSING if point is None else format_metric_value(point.value)
        if self.kind == "params":
            return run.params.get(self.key, MISSING)
        if self.kind == "tags":
            return run.tags.get(self.key, MISSING)
        return _attribute_text(self.key, run)


def column(column_id: str) -> Column:
    """The column for an id. Raises ValueError for an id that names nothing."""
    kind, _, key = column_id.partition(":")
    if kind == "attr":
        if key not in ATTRIBUTES:
            raise ValueError(f"unknown run attribute column {key!r}")
        label, width, _ = ATTRIBUTES[key]
        return Column(column_id, kind, key, label, width)
    if kind not in ("metrics", "params", "tags", "spark") or not key:
        raise ValueError(f"bad column id {column_id!r}")
    if kind == "spark":
        return Column(column_id, kind, key, f"{key} ∿", SPARKLINE_CELLS)
    label = key
    width = max(8, min(len(label) + 1, 18))  # +1: room for the sort arrow
    return Column(column_id, kind, key, label, width)


def default_column_ids(keys: Keys) -> list[str]:
    """Status, name, start, duration, user and the first few non-system metrics."""
    metrics = [k for k in keys.metrics if not k.startswith("system/")][:DEFAULT_METRIC_COUNT]
    return [*DEFAULT_ATTRIBUTES, *(f"metrics:{k}" for k in metrics)]


def with_sparklines_beside_values(column_ids: list[str]) -> list[str]:
    """The ids with each `spark:<key>` right after its `metrics:<key>` (added when missing):
    a sparkline is read beside the latest value it ends at."""
    sparks = [c for c in column_ids if c.startswith("spark:")]
    out: list[str] = []
    for cid in column_ids:
        if cid in sparks:
            continue
        out.append(cid)
        if cid.startswith("metrics:") and f"spark:{cid[8:]}" in sparks:
            out.append(f"spark:{cid[8:]}")
    for spark in sparks:
        if spark not in out:
            out += [f"metrics:{spark[6:]}", spark]
    return out


def keys_to_fetch(columns: list[Column]) -> Keys:
    """Only what the chosen columns show: `search_runs(include_keys=...)` loads nothing else.

    `mlflow.parentRunId` is always fetched so the table knows which rows are children; a
    sparkline's latest value is fetched too (its step says when the sparkline is stale).
    """
    metrics = tuple(dict.fromkeys(c.key for c in columns if c.kind in ("metrics", "spark")))
    params = tuple(c.key for c in columns if c.kind == "params")
    tags = tuple(dict.fromkeys([*(c.key for c in columns if c.kind == "tags"), "mlflow.parentRunId"]))
    return Keys(metrics=metrics, params=params, tags=tags)


def quote_key(key: str) -> str:
    """A key as MLflow's grammar accepts it: bare when simple, else in backticks or quotes."""
    if key.replace("_", "").isalnum():
        return key
    if "`" not in key:
        return f"`{key}`"
    return f'"{key}"'


def format_start(epoch_ms: int | None) -> str:
    if epoch_ms is None:
        return MISSING
    return datetime.fromtimestamp(epoch_ms / 1000).strftime("%Y-%m-%d %H:%M")


def _attribute_text(key: str, run: Run) -> str:
    if key == "status":
        return STATUS_GLYPHS.get(run.status, "?")
    if key == "name":
        return run.display_name
    if key == "start":
        return format_start(run.start_time)
    if key == "end":
        return format_start(run.end_time)
    if key == "duration":
        if run.status in ("RUNNING", "SCHEDULED") and run.end_time is None:
            return "running"
        return format_duration(run.duration_ms)
    if key == "user":
        return run.user_id or MISSING
    if key == "run_id":
        return run.id
    if key == "datasets":
        return dataset_summary(run)
    return MISSING


def dataset_summary(run: Run) -> str:
    """The run's dataset inputs in one cell: `name (context)`, comma-separated."""
    inputs = run.inputs.dataset_inputs
    if not inputs:
        return MISSING
    return ", ".join(f"{i.dataset.name} ({i.context})" if i.context else i.dataset.name for i in inputs)
