"""The tracktui export directory format, version 1 (documented in docs/export-format.md).

    DIR/manifest.json                              format name, format_version, source, time
    DIR/experiments/<exp id>/experiment.json       the experiment (name, tags, lifecycle, times)
    DIR/experiments/<exp id>/runs/<run id>/run.json       info, params, tags (written LAST)
    DIR/experiments/<exp id>/runs/<run id>/metrics.csv    key,step,timestamp,value (every point)
    DIR/experiments/<exp id>/runs/<run id>/artifacts/...  the run's artifact files
    DIR/experiments/<exp id>/traces/<trace id>.json       a trace: info and spans
    DIR/experiments/<exp id>/models/<model id>/model.json a logged model (store.transfer.models)
    DIR/experiments/<exp id>/models/<model id>/artifacts/ its artifact files

A run directory without run.json is incomplete (an interrupted export) and is redone on the
next export. Metric values are written with Python's repr of a float, which round-trips
exactly, and `nan`, `inf`, `-inf` for the special values.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..atomic import write_atomic
from ..errors import InvalidValue, NotFound
from ..model import (
    NO_INPUTS,
    NO_OUTPUTS,
    Dataset,
    DatasetInput,
    Experiment,
    MetricPoint,
    ModelInput,
    ModelOutput,
    Run,
    RunInputs,
    RunOutputs,
    sorted_dataset_inputs,
)

FORMAT_NAME = "tracktui-export"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
EXPERIMENT_JSON = "experiment.json"
RUN_JSON = "run.json"
METRICS_CSV = "metrics.csv"
ARTIFACTS_DIR = "artifacts"
METRICS_HEADER = ("key", "step", "timestamp", "value")


# -- values ------------------------------------------------------------------------------------


def encode_value(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(float(value))


def decode_value(text: str) -> float:
    return float(text)  # float() reads repr output, "nan", "inf" and "-inf" exactly


def write_metrics_csv(path: Path, histories: dict[str, list[MetricPoint]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(METRICS_HEADER)
    for key in sorted(histories):
        for p in histories[key]:
            writer.writerow((key, p.step, p.timestamp, encode_value(p.value)))
    _write_text(path, buffer.getvalue())


def read_metrics_csv(path: Path) -> dict[str, list[MetricPoint]]:
    out: dict[str, list[MetricPoint]] = {}
    if not path.exists():
        return out
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if tuple(header or ()) != METRICS_HEADER:
            raise InvalidValue(f"{path} is not a tracktui metrics file (header {header!r})")
        for row in reader:
            key, step, timestamp, value = row
            out.setdefault(key, []).append(MetricPoint(decode_value(value), int(step), int(timestamp)))
    return out


# -- metadata ----------------------------------------------------------------------------------


def experiment_to_json(exp: Experiment) -> dict:
    return {
        "id": exp.id,
        "name": exp.name,
        "artifact_location": exp.artifact_location,
        "lifecycle_stage": exp.lifecycle_stage,
        "creation_time": exp.creation_time,
        "last_update_time": exp.last_update_time,
        "tags": dict(exp.tags),
    }


def experiment_from_json(data: dict) -> Experiment:
    return Experiment(
        id=str(data["id"]),
        name=data["name"],
        artifact_location=data.get("artifact_location"),
        lifecycle_stage=data.get("lifecycle_stage", "active"),
        creation_time=data.get("creation_time"),
        last_update_time=data.get("last_update_time"),
        tags=dict(data.get("tags") or {}),
    )


def run_to_json(run: Run, fingerprint: str, artifact_files: Iterable[str] = ()) -> dict:
    return {
        "id": run.id,
        "name": run.name,
        "experiment_id": run.experiment_id,
        "status": run.status,
        "user_id": run.user_id,
        "start_time": run.start_time,
        "end_time": run.end_time,
        "lifecycle_stage": run.lifecycle_stage,
        "artifact_uri": run.artifact_uri,
        "parent_run_id": run.parent_run_id,
        "params": dict(run.params),
        "tags": dict(run.tags),
        "latest_metrics": {
            k: [encode_value(p.value), p.step, p.timestamp] for k, p in sorted(run.metrics.items())
        },
        "artifact_files": sorted(artifact_files),
        "fingerprint": fingerprint,
        **inputs_to_json(run),
    }


def inputs_to_json(run: Run) -> dict:
    """`inputs` and `outputs` of run.json (absent when the run has none, as in older exports)."""
    out: dict = {}
    if run.inputs.dataset_inputs or run.inputs.model_inputs:
        out["inputs"] = {
            "dataset_inputs": [
                {"dataset": {"name": i.dataset.name, "digest": i.dataset.digest, "source_type": i.dataset.source_type,
                             "source": i.dataset.source, "schema": i.dataset.schema, "profile": i.dataset.profile},
                 "tags": dict(i.tags)}
                for i in run.inputs.dataset_inputs
            ],
            "model_inputs": [m.model_id for m in run.inputs.model_inputs],
        }
    if run.outputs.model_outputs:
        out["outputs"] = {"model_outputs": [[m.model_id, m.step] for m in run.outputs.model_outputs]}
    return out


def inputs_from_json(data: dict) -> tuple[RunInputs, RunOutputs]:
    inputs, outputs = data.get("inputs") or {}, data.get("outputs") or {}
    datasets = tuple(
        DatasetInput(
            Dataset(
                name=str(d["dataset"]["name"]), digest=str(d["dataset"]["digest"]),
                source_type=str(d["dataset"].get("source_type", "")), source=str(d["dataset"].get("source", "")),
                schema=d["dataset"].get("schema"), profile=d["dataset"].get("profile"),
            ),
            {str(k): str(v) for k, v in (d.get("tags") or {}).items()},
        )
        for d in inputs.get("dataset_inputs") or ()
    )
    models = tuple(ModelInput(str(m)) for m in inputs.get("model_inputs") or ())
    produced = tuple(ModelOutput(str(m), int(step)) for m, step in outputs.get("model_outputs") or ())
    return (
        RunInputs(sorted_dataset_inputs(datasets), models) if datasets or models else NO_INPUTS,
        RunOutputs(produced) if produced else NO_OUTPUTS,
    )


def run_from_json(data: dict) -> Run:
    inputs, outputs = inputs_from_json(data)
    return Run(
        id=data["id"],
        name=data.get("name") or "",
        experiment_id=str(data["experiment_id"]),
        status=data.get("status", "FINISHED"),
        user_id=data.get("user_id"),
        start_time=data.get("start_time"),
        end_time=data.get("end_time"),
        lifecycle_stage=data.get("lifecycle_stage", "active"),
        artifact_uri=data.get("artifact_uri"),
        parent_run_id=data.get("parent_run_id"),
        params=dict(data.get("params") or {}),
        metrics={
            k: MetricPoint(decode_value(v), int(s), int(t))
            for k, (v, s, t) in (data.get("latest_metrics") or {}).items()
        },
        tags=dict(data.get("tags") or {}),
        inputs=inputs,
        outputs=outputs,
    )


def trace_to_json(trace) -> dict:
    """A trace (store.traces.Trace) as stored: info (with its assessments as MLflow's JSON),
    and spans with their attributes undecoded."""
    from ..traces.assessments import assessment_to_dict

    info = trace.info
    return {
        "info": {
            "trace_id": info.trace_id,
            "experiment_id": info.experiment_id,
            "request_time": info.request_time,
            "execution_duration": info.execution_duration,
            "state": info.state,
            "request_preview": info.request_preview,
            "response_preview": info.response_preview,
            "client_request_id": info.client_request_id,
            "tags": dict(info.tags),
            "metadata": dict(info.metadata),
            "assessments": [assessment_to_dict(a) for a in info.assessments],
        },
        "spans": [
            {
                "span_id": s.span_id,
                "parent_id": s.parent_id,
                "name": s.name,
                "span_type": s.span_type,
                "status": s.status,
                "status_message": s.status_message,
                "start_ns": s.start_ns,
                "end_ns": s.end_ns,
                "events": [{"name": e.name, "time_ns": e.time_ns, "attributes": dict(e.attributes)} for e in s.events],
                "attributes": dict(s.encoded_attributes),
                "attributes_encoded": s.attributes_encoded,
            }
            for s in trace.spans
        ],
    }


def trace_from_json(data: dict):
    """The inverse of trace_to_json: a store.traces.Trace ready for `Store.import_trace`."""
    from ..traces import Span, SpanEvent, Trace, TraceInfo
    from ..traces.assessments import assessment_from_dict

    info = data.get("info") or {}
    if not isinstance(info, dict) or not info.get("trace_id"):
        raise InvalidValue("trace file without info.trace_id")
    spans = []
    for s in data.get("spans") or ():
        spans.append(Span(
            span_id=str(s["span_id"]),
            parent_id=s.get("parent_id") or None,
            name=str(s.get("name") or ""),
            span_type=str(s.get("span_type") or "UNKNOWN"),
            status=str(s.get("status") or "UNSET"),
            start_ns=int(s.get("start_ns") or 0),
            end_ns=None if s.get("end_ns") is None else int(s["end_ns"]),
            status_message=str(s.get("status_message") or ""),
            events=tuple(
                SpanEvent(str(e.get("name") or ""), e.get("time_ns"), dict(e.get("attributes") or {}))
                for e in s.get("events") or ()
            ),
            encoded_attributes=dict(s.get("attributes") or {}),
            attributes_encoded=bool(s.get("attributes_encoded", True)),
        ))
    return Trace(
        TraceInfo(
            trace_id=str(info["trace_id"]),
            experiment_id=str(info.get("experiment_id") or ""),
            request_time=int(info.get("request_time") or 0),
            execution_duration=info.get("execution_duration"),
            state=str(info.get("state") or "STATE_UNSPECIFIED"),
            request_preview=info.get("request_preview"),
            response_preview=info.get("response_preview"),
            client_request_id=info.get("client_request_id"),
            tags=dict(info.get("tags") or {}),
            metadata=dict(info.get("metadata") or {}),
            assessments=tuple(a for a in (assessment_from_dict(d, str(info["trace_id"]))
                                          for d in info.get("assessments") or () if isinstance(d, dict)) if a),
        ),
        tuple(spans),
    )


def manifest_json(source_uri: str, exported_at: int) -> dict:
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "source_uri": source_uri,
        "exported_at": exported_at,
    }


# -- layout ------------------------------------------------------------------------------------


class ExportDir:
    """Paths of one export directory, and checked reading of its manifest."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def experiment_dir(self, experiment_id: str) -> Path:
        return self.root / "experiments" / _safe_name(experiment_id)

    def run_dir(self, experiment_id: str, run_id: str) -> Path:
        return self.experiment_dir(experiment_id) / "runs" / _safe_name(run_id)

    def trace_file(self, experiment_id: str, trace_id: str) -> Path:
        return self.experiment_dir(experiment_id) / "traces" / f"{_safe_name(trace_id)}.json"

    def check_manifest(self) -> dict:
        path = self.root / MANIFEST
        if not path.exists():
            raise NotFound(f"{self.root} is not a tracktui export: it has no {MANIFEST}")
        data = read_json(path)
        if data.get("format") != FORMAT_NAME:
            raise InvalidValue(f"{path} is not a tracktui export manifest")
        version = data.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise InvalidValue(
                f"{self.root} uses export format version {version!r}; this tracktui reads up to "
                f"{FORMAT_VERSION}: upgrade tracktui"
            )
        return data

    def experiment_ids(self) -> list[str]:
        folder = self.root / "experiments"
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir() if (p / EXPERIMENT_JSON).is_file())

    def run_ids(self, experiment_id: str) -> Iterator[str]:
        folder = self.experiment_dir(experiment_id) / "runs"
        if folder.is_dir():
            for p in sorted(folder.iterdir()):
                if (p / RUN_JSON).is_file():  # complete runs only
                    yield p.name


def _safe_name(name: str) -> str:
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise InvalidValue(f"Unsafe id {name!r} for a directory name")
    return name


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidValue(f"Cannot read {path}: {exc}") from None


def write_json(path: Path, data: dict) -> None:
    _write_text(path, json.dumps(data, indent=1, ensure_ascii=False, allow_nan=False) + "\n")


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text.encode("utf-8"))
