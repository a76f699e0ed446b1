"""`import_trace` for the file store: a mixin for FileStore, laid out as mlflow's FileStore
writes a trace (docs/formats.md §2.4):

    <experiment>/traces/<trace id>/trace_info.yaml      V3 TraceInfo without tags/metadata
    <experiment>/traces/<trace id>/tags/<key>           one file per tag
    <experiment>/traces/<trace id>/request_metadata/<key>
    <experiment>/traces/<trace id>/artifacts/traces.json   {"spans": [<MLflow span dict>...]}

The folder is built under a hidden temp name and renamed into place, so a reader sees the
whole trace or none of it.
"""

from __future__ import annotations

import os
import shutil
import time
from typing import TYPE_CHECKING, Any

from ..atomic import write_atomic
from ..base import not_found_experiment
from ..errors import InvalidValue, NotFound
from ..traces import ARTIFACT_LOCATION_TAG, Trace
from ..traces.writes import (
    TraceImport,
    check_importable,
    elsewhere_note,
    trace_artifact_location,
    traces_json,
    user_tags,
)
from .layout import TEMP_PREFIX
from .meta import dump_meta
from .traces import TRACE_INFO, TRACE_METADATA, TRACE_TAGS, TRACES
from .writes import write_value

if TYPE_CHECKING:
    from .host import FileHost
else:
    FileHost = object  # the host is a type-checking contract only (see host.py)


class FileTraceWrites(FileHost):
    """Mixin for FileStore (what it uses of the store: host.FileHost)."""

    def import_trace(self, trace: Trace, experiment_id: str) -> TraceImport:
        self._check_writable()
        trace_id = check_importable(trace)
        try:
            there = self._find_trace(trace_id)
            there_exp = os.path.basename(os.path.dirname(os.path.dirname(there)))  # <exp>/traces/<id>
            return TraceImport(False, elsewhere_note(trace_id, there_exp, str(experiment_id)))
        except NotFound:
            pass
        exp = self.get_experiment(str(experiment_id))
        exp_path = self._experiment_path(str(experiment_id))
        if exp_path is None:
            raise not_found_experiment(experiment_id)
        if exp.lifecycle_stage != "active":
            raise InvalidValue(f"Experiment '{experiment_id}' is deleted: restore it before importing traces")
        location = trace_artifact_location(exp.artifact_location or "", trace_id)
        tags = {**user_tags(trace), ARTIFACT_LOCATION_TAG: location}
        folder = os.path.join(exp_path, TRACES)
        os.makedirs(folder, exist_ok=True)
        staging = os.path.join(folder, f"{TEMP_PREFIX}{trace_id}-{os.getpid()}-{time.monotonic_ns()}")
        notes: list[str] = []
        try:
            os.makedirs(os.path.join(staging, "artifacts"))
            write_atomic(os.path.join(staging, TRACE_INFO), dump_meta(_info_yaml(trace, str(experiment_id))))
            for key, value in tags.items():
                write_value(os.path.join(staging, TRACE_TAGS), key, value)
            for key, value in trace.info.metadata.items():
                write_value(os.path.join(staging, TRACE_METADATA), key, value)
            skipped = self._import_assessments(staging, trace_id, trace.info.assessments)
            target = os.path.join(folder, trace_id)
            elsewhere = _local_folder(location)
            if elsewhere is None:
                notes.append(f"trace {trace_id}: spans not written ({location} is not a local path)")
            elif os.path.realpath(elsewhere) == os.path.realpath(os.path.join(target, "artifacts")):
                write_atomic(os.path.join(staging, "artifacts", "traces.json"), traces_json(trace))
            else:  # the experiment keeps its artifacts in another local folder
                os.makedirs(elsewhere, exist_ok=True)
                write_atomic(os.path.join(elsewhere, "traces.json"), traces_json(trace))
            try:
                os.rename(staging, target)
            except OSError:
                if os.path.isdir(target):  # another writer won the race: theirs stands
                    return TraceImport(False)
                raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return TraceImport(True, tuple(notes), skipped)


def _info_yaml(trace: Trace, experiment_id: str) -> dict:
    """trace_info.yaml as mlflow's TraceInfo.to_dict writes it (RFC3339 request time)."""
    info = trace.info
    doc: dict[str, Any] = {
        "trace_id": info.trace_id,
        "trace_location": {"mlflow_experiment": {"experiment_id": experiment_id}, "type": "MLFLOW_EXPERIMENT"},
        "request_time": rfc3339_ms(info.request_time),
        "state": info.state,
    }
    optional = {
        "execution_duration_ms": info.execution_duration, "request_preview": info.request_preview,
        "response_preview": info.response_preview, "client_request_id": info.client_request_id,
    }
    doc.update({k: v for k, v in optional.items() if v is not None})
    return doc


def rfc3339_ms(epoch_ms: int) -> str:
    """`2026-11-24T23:27:56.808Z`: exact to the millisecond."""
    seconds, millis = divmod(int(epoch_ms), 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def _local_folder(location: str) -> str | None:
    from ..artifacts import artifact_scheme
    from ..artifacts.local import local_path_of

    return str(local_path_of(location)) if artifact_scheme(location) == "file" else None
