"""MLflow 3's logged models as the store layer hands them upward (docs/logged-models.md).

A logged model is an experiment-level entity (`m-<32 hex>`), usually produced by a run
(`source_run_id`), with its own params, tags, metrics and artifacts (under
`<experiment artifact_location>/models/<model_id>/artifacts`). A metric point logged with
`model_id=` also names the run that logged it and, optionally, the dataset it was measured on.

Status is kept as MLflow's name without the REST prefix (`PENDING`, `READY`, `FAILED`,
`UNSPECIFIED`); SQL and file stores hold it as an integer (`STATUS_BY_INT`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

LOGGED_MODEL_STATUSES: tuple[str, ...] = ("UNSPECIFIED", "PENDING", "READY", "FAILED")
#: The integer MLflow's SQL and file stores keep, by status name.
STATUS_TO_INT = {"UNSPECIFIED": 0, "PENDING": 1, "READY": 2, "FAILED": 3}
STATUS_BY_INT = {v: k for k, v in STATUS_TO_INT.items()}
#: The names the REST API uses (LoggedModelStatus proto), by status name.
STATUS_TO_REST = {
    "UNSPECIFIED": "LOGGED_MODEL_STATUS_UNSPECIFIED", "PENDING": "LOGGED_MODEL_PENDING",
    "READY": "LOGGED_MODEL_READY", "FAILED": "LOGGED_MODEL_UPLOAD_FAILED",
}
STATUS_BY_REST = {v: k for k, v in STATUS_TO_REST.items()}


def status_name(value: object) -> str:
    """The status name for an integer, a REST name or a name (unknown values → UNSPECIFIED)."""
    if isinstance(value, str):
        if value in STATUS_BY_REST:
            return STATUS_BY_REST[value]
        if value in STATUS_TO_INT:
            return value
        if value.lstrip("-").isdigit():
            return STATUS_BY_INT.get(int(value), "UNSPECIFIED")
        return "UNSPECIFIED"
    if isinstance(value, int) and not isinstance(value, bool):
        return STATUS_BY_INT.get(value, "UNSPECIFIED")
    return "UNSPECIFIED"


@dataclass(frozen=True, slots=True)
class LoggedModelMetric:
    """One metric point of a logged model: which run logged it, on which dataset (if any)."""

    key: str
    value: float
    step: int
    timestamp: int
    run_id: str | None = None
    dataset_name: str | None = None
    dataset_digest: str | None = None


@dataclass(frozen=True, slots=True)
class LoggedModel:
    """A logged model with its params, tags and metric points (sorted by key, dataset, step,
    timestamp, run). `lifecycle_stage` is `active` or `deleted`."""

    model_id: str
    experiment_id: str
    name: str
    artifact_location: str | None
    creation_timestamp: int | None
    last_updated_timestamp: int | None
    status: str = "UNSPECIFIED"
    status_message: str | None = None
    model_type: str | None = None
    source_run_id: str | None = None
    lifecycle_stage: str = "active"
    params: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    metrics: tuple[LoggedModelMetric, ...] = ()

    @property
    def latest_metrics(self) -> dict[tuple[str, str | None, str | None], LoggedModelMetric]:
        """The latest point per (key, dataset name, dataset digest): highest step, then
        timestamp, then value, as MLflow's file store picks it."""
        out: dict[tuple[str, str | None, str | None], LoggedModelMetric] = {}
        for m in self.metrics:
            k = (m.key, m.dataset_name, m.dataset_digest)
            old = out.get(k)
            if old is None or _rank(m) > _rank(old):
                out[k] = m
        return out

    @property
    def metric_run_ids(self) -> tuple[str, ...]:
        """The runs that logged metrics to this model, sorted."""
        return tuple(sorted({m.run_id for m in self.metrics if m.run_id}))


#: LoggedModelMetric's slot setters in field order (see `metric_points`).
_METRIC_SETTERS = tuple(getattr(LoggedModelMetric, f.name).__set__ for f in fields(LoggedModelMetric))
assert tuple(f.name for f in fields(LoggedModelMetric)) == (
    "key", "value", "step", "timestamp", "run_id", "dataset_name", "dataset_digest")


def metric_points(rows: Iterable[Sequence[Any]]) -> list[LoggedModelMetric]:
    """Points from (key, value, step, timestamp, run_id, dataset_name, dataset_digest) rows.

    Why not the constructor: a page of 100 models holds ~1,000 points, and a frozen
    dataclass's __init__ (object.__setattr__ per field) was a third of a search's time; the
    slot setters build the same frozen values in C (bench/bench_logged_models.py)."""
    new = object.__new__
    k_, v_, s_, t_, r_, n_, d_ = _METRIC_SETTERS
    out = []
    for key, value, step, timestamp, run_id, name, digest in rows:
        m = new(LoggedModelMetric)
        k_(m, key)
        v_(m, math.nan if value is None else value)
        s_(m, step)
        t_(m, timestamp)
        r_(m, run_id)
        n_(m, name)
        d_(m, digest)
        out.append(m)
    return out


def _rank(m: LoggedModelMetric) -> tuple:
    value = -math.inf if math.isnan(m.value) else m.value
    return (m.step, m.timestamp, value)


def sorted_metrics(points: list[LoggedModelMetric]) -> tuple[LoggedModelMetric, ...]:
    """Points in the order LoggedModel.metrics promises."""
    return tuple(sorted(points, key=lambda m: (
        m.key, m.dataset_name or "", m.dataset_digest or "", m.step, m.timestamp, m.run_id or "")))


@dataclass(frozen=True, slots=True)
class LoggedModelOrder:
    """One `order_by` entry of search_logged_models, as MLflow takes it (a dict on the wire):
    an attribute (`name`, `model_id`, `model_type`, `status`, `source_run_id`,
    `creation_timestamp`, `last_updated_timestamp`) or `metrics.<key>`, optionally narrowed to
    a dataset for metrics."""

    field_name: str
    ascending: bool = True
    dataset_name: str | None = None
    dataset_digest: str | None = None


@dataclass(frozen=True, slots=True)
class DatasetFilter:
    """The `datasets` argument of search_logged_models: metric clauses (and, without any,
    the model itself) must involve a metric on one of these datasets."""

    dataset_name: str
    dataset_digest: str | None = None


@dataclass(frozen=True, slots=True)
class LoggedModelImport:
    """What `Store.import_logged_model` did: the model id here, whether it was written now
    (False: it was already here), and what could not be kept."""

    model_id: str
    created: bool
    notes: tuple[str, ...] = ()
