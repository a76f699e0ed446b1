"""MLflow REST JSON → store.model values, tolerant of what older servers omit.

Protobuf JSON leaves out empty and unset fields, spells NaN/±inf as strings and may send
int64 as numbers or strings; every reader here accepts all of that.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..model import (
    NO_INPUTS,
    NO_OUTPUTS,
    PARENT_RUN_TAG,
    RUN_NAME_TAG,
    Dataset,
    DatasetInput,
    Experiment,
    Keys,
    MetricPoint,
    ModelInput,
    ModelOutput,
    Run,
    RunInputs,
    RunOutputs,
    sorted_dataset_inputs,
)

#: What the REST API calls our view types.
VIEW_TYPE = {"active": "ACTIVE_ONLY", "deleted": "DELETED_ONLY", "all": "ALL"}


def experiment_from_json(data: Mapping[str, Any]) -> Experiment:
    return Experiment(
        id=str(data.get("experiment_id", "")),
        name=data.get("name", ""),
        artifact_location=data.get("artifact_location") or None,
        lifecycle_stage=data.get("lifecycle_stage", "active"),
        creation_time=_int_or_none(data.get("creation_time")),
        last_update_time=_int_or_none(data.get("last_update_time")),
        tags=key_values(data.get("tags")),
    )


def run_from_json(data: Mapping[str, Any], include_keys: Keys | None = None) -> Run:
    """A Run from `{"info", "data"}`; `include_keys` keeps only those params/metrics/tags."""
    info = data.get("info") or {}
    body = data.get("data") or {}
    tags = key_values(body.get("tags"))
    params = key_values(body.get("params"))
    metrics = {m.get("key", ""): metric_point(m) for m in body.get("metrics") or ()}
    name = info.get("run_name") or tags.get(RUN_NAME_TAG) or ""
    parent = tags.get(PARENT_RUN_TAG)
    if include_keys is not None:
        metrics = _only(metrics, include_keys.metrics)
        params = _only(params, include_keys.params)
        tags = _only(tags, include_keys.tags)
    return Run(
        id=str(info.get("run_id") or info.get("run_uuid") or ""),
        name=name,
        experiment_id=str(info.get("experiment_id", "")),
        status=info.get("status", "RUNNING"),
        user_id=info.get("user_id") or None,
        start_time=_int_or_none(info.get("start_time")),
        end_time=_int_or_none(info.get("end_time")),
        lifecycle_stage=info.get("lifecycle_stage", "active"),
        artifact_uri=str(info.get("artifact_uri") or ""),  # as MlflowClient: protobuf's empty string
        parent_run_id=parent,
        params=params,
        metrics=metrics,
        tags=tags,
        inputs=run_inputs_from_json(data.get("inputs")),
        outputs=run_outputs_from_json(data.get("outputs")),
    )


def run_inputs_from_json(data: Any) -> RunInputs:
    """`{"dataset_inputs": [{"tags", "dataset"}], "model_inputs": [{"model_id"}]}`."""
    if not data:
        return NO_INPUTS
    datasets = []
    for item in data.get("dataset_inputs") or ():
        ds = item.get("dataset") or {}
        datasets.append(DatasetInput(
            Dataset(
                name=ds.get("name", ""), digest=ds.get("digest", ""), source_type=ds.get("source_type", ""),
                source=ds.get("source", ""), schema=ds.get("schema") or None, profile=ds.get("profile") or None,
            ),
            key_values(item.get("tags")),
        ))
    models = tuple(ModelInput(str(m.get("model_id", ""))) for m in data.get("model_inputs") or ())
    if not datasets and not models:
        return NO_INPUTS
    return RunInputs(sorted_dataset_inputs(datasets), models)


def run_outputs_from_json(data: Any) -> RunOutputs:
    """`{"model_outputs": [{"model_id", "step"}]}`."""
    found = tuple(
        ModelOutput(str(m.get("model_id", "")), int(m.get("step") or 0)) for m in (data or {}).get("model_outputs") or ()
    )
    return RunOutputs(found) if found else NO_OUTPUTS


def dataset_input_json(item: DatasetInput) -> dict[str, Any]:
    """A dataset input as `runs/log-inputs` takes it (schema/profile only when set)."""
    ds = item.dataset
    dataset: dict[str, Any] = {"name": ds.name, "digest": ds.digest, "source_type": ds.source_type, "source": ds.source}
    if ds.schema is not None:
        dataset["schema"] = ds.schema
    if ds.profile is not None:
        dataset["profile"] = ds.profile
    return {"tags": [{"key": k, "value": v} for k, v in item.tags.items()], "dataset": dataset}


def metric_point(data: Mapping[str, Any]) -> MetricPoint:
    return MetricPoint(
        value=to_float(data.get("value", 0.0)),
        step=int(data.get("step") or 0),
        timestamp=int(data.get("timestamp") or 0),
    )


def to_float(value: Any) -> float:
    """JSON number or MLflow's "NaN" / "Infinity" / "-Infinity" strings."""
    return float(value)


def key_values(items: Any) -> dict[str, str]:
    """`[{key, value}]` → dict; a missing value (protobuf omits empty strings) is ''."""
    return {item.get("key", ""): item.get("value", "") for item in items or ()}


def _only(values: dict, keys: tuple[str, ...]) -> dict:
    wanted = set(keys)
    return {k: v for k, v in values.items() if k in wanted}


def _int_or_none(value: Any) -> int | None:
    if value is None or value == "":
        return None
    return int(value)
