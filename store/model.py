"""Immutable values the store layer hands upward: what a user sees, never a row or a response.

Times are epoch milliseconds (ints), ids are strings, metric values are floats with NaN and
±inf kept as the backend returns them (SQL stores clamp inf to ±1.7976931348623157e308, as
mlflow does).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

T = TypeVar("T")

ViewType = Literal["active", "deleted", "all"]
VIEW_TYPES: tuple[str, ...] = ("active", "deleted", "all")

RUN_STATUSES: tuple[str, ...] = ("RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED")

PARENT_RUN_TAG = "mlflow.parentRunId"
RUN_NAME_TAG = "mlflow.runName"
NOTE_TAG = "mlflow.note.content"
#: The dataset input tag saying what the run used the dataset for ("training", "eval", ...).
DATASET_CONTEXT_TAG = "mlflow.data.context"


@dataclass(frozen=True, slots=True)
class MetricPoint:
    """One logged metric value."""

    value: float
    step: int
    timestamp: int


@dataclass(frozen=True, slots=True)
class Experiment:
    id: str
    name: str
    artifact_location: str | None
    lifecycle_stage: str
    creation_time: int | None
    last_update_time: int | None
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Dataset:
    """A dataset as MLflow records it: `source`, `schema` and `profile` are JSON text, kept
    as written (a reader decodes them only to show them)."""

    name: str
    digest: str
    source_type: str
    source: str
    schema: str | None = None
    profile: str | None = None


@dataclass(frozen=True, slots=True)
class DatasetInput:
    """A dataset a run used, with the input's tags (its context among them)."""

    dataset: Dataset
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def context(self) -> str | None:
        return self.tags.get(DATASET_CONTEXT_TAG)


@dataclass(frozen=True, slots=True)
class ModelInput:
    """A logged model a run consumed."""

    model_id: str


@dataclass(frozen=True, slots=True)
class ModelOutput:
    """A logged model a run produced, at the step it was logged."""

    model_id: str
    step: int = 0


@dataclass(frozen=True, slots=True)
class RunInputs:
    """What a run consumed, as MlflowClient's `Run.inputs`: datasets sorted by (name, digest)
    so every backend lists them alike."""

    dataset_inputs: tuple[DatasetInput, ...] = ()
    model_inputs: tuple[ModelInput, ...] = ()


@dataclass(frozen=True, slots=True)
class RunOutputs:
    """What a run produced, as MlflowClient's `Run.outputs`."""

    model_outputs: tuple[ModelOutput, ...] = ()


NO_INPUTS = RunInputs()
NO_OUTPUTS = RunOutputs()


def sorted_dataset_inputs(inputs) -> tuple[DatasetInput, ...]:
    """Dataset inputs in the order every backend reports them: by name, then digest."""
    return tuple(sorted(inputs, key=lambda i: (i.dataset.name, i.dataset.digest)))


@dataclass(frozen=True, slots=True)
class Run:
    id: str
    name: str
    experiment_id: str
    status: str
    user_id: str | None
    start_time: int | None
    end_time: int | None
    lifecycle_stage: str
    artifact_uri: str | None
    parent_run_id: str | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    metrics: Mapping[str, MetricPoint] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    inputs: RunInputs = NO_INPUTS
    outputs: RunOutputs = NO_OUTPUTS

    @property
    def display_name(self) -> str:
        """What to call the run on screen: its name, else its `mlflow.runName` tag, else the
        first 8 characters of its id (as MLflow's UI does for an unnamed run)."""
        return self.name or self.tags.get(RUN_NAME_TAG) or self.id[:8]

    @property
    def duration_ms(self) -> int | None:
        if self.start_time is None or self.end_time is None:
            return None
        return self.end_time - self.start_time


@dataclass(frozen=True, slots=True)
class Keys:
    """Distinct metric, param and tag keys of some experiments, each sorted.

    Also used as `include_keys` for `search_runs`: only these keys' values are loaded.
    """

    metrics: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    next_page_token: str | None = None

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


#: What `Store.group_runs` can compute of a metric over a group's runs (see store.groups).
AGGREGATES: tuple[str, ...] = ("mean", "min", "max", "last", "count")
Aggregate = Literal["mean", "min", "max", "last", "count"]


@dataclass(frozen=True, slots=True)
class RunGroup:
    """One group of `Store.group_runs`: the runs sharing one value of the group-by key.

    `value` is the param/tag value or parent run id they share, None for the runs without
    one (MLflow's UI shows them as "(none)"). `aggregates` maps each requested
    (metric key, aggregate) to its result: a float, an int for "count", or None when no run
    of the group has a number for that metric.
    """

    value: str | None
    run_count: int
    aggregates: Mapping[tuple[str, str], float | int | None] = field(default_factory=dict)
