"""Writing a whole trace into a store, shared by the backends' `import_trace`
(store/sql_trace_writes.py, files_trace_writes.py, rest_trace_writes.py).

A trace arrives as store.traces.Trace (read from another store, or from an export directory)
and keeps its id: MLflow trace ids are `tr-<otel trace id>` and every backend stores the
id it is given. What each backend rebuilds for itself: `mlflow.artifactLocation` (under the
destination experiment) and `mlflow.trace.spansLocation` (where it put the spans).

Spans are written back as MLflow span dicts (docs/formats.md §5.3): base64 ids, attribute
values as JSON text. What store.traces.Span does not keep is not written: span links and
OTel resource attributes (MLflow's fixtures and tracing decorators leave them empty).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidValue
from . import ARTIFACT_LOCATION_TAG, SPANS_LOCATION_TAG, Span, Trace

REQUEST_ID_ATTRIBUTE = "mlflow.traceRequestId"
#: Tags the destination sets itself: copying the source's would point at the source's files.
LOCATION_TAGS = (ARTIFACT_LOCATION_TAG, SPANS_LOCATION_TAG, "mlflow.trace.archiveLocation",
                 "mlflow.trace.archivalFailure")
_STATUS_CODES = {"OK": "STATUS_CODE_OK", "ERROR": "STATUS_CODE_ERROR", "UNSET": "STATUS_CODE_UNSET"}


@dataclass(frozen=True)
class TraceImport:
    """What `Store.import_trace` did: `created` False means a trace with this id was already
    there (nothing written); `notes` name parts that could not be kept (for the summary),
    `skipped` the assessments it could not take."""

    created: bool
    notes: tuple[str, ...] = ()
    #: parts left out on purpose, each named (assessments the destination cannot take)
    skipped: tuple[str, ...] = ()


def elsewhere_note(trace_id: str, there: str, wanted: str) -> tuple[str, ...]:
    """The note for a trace id already taken by another experiment (ids are unique per store)."""
    if str(there) == str(wanted):
        return ()
    return (f"trace {trace_id} already exists at the destination in experiment {there}: not copied again",)


def check_importable(trace: Trace) -> str:
    """The trace id, checked: `tr-` and 32 hex digits (an OTel trace id) are needed to write
    span dicts with MLflow's base64 ids. Raises InvalidValue."""
    trace_id = trace.info.trace_id
    hex_part = trace_id[3:] if trace_id.startswith("tr-") else ""
    try:
        if len(hex_part) != 32:
            raise ValueError
        bytes.fromhex(hex_part)
    except ValueError:
        raise InvalidValue(f"Trace id {trace_id!r} is not an MLflow V3 trace id (tr-<32 hex>); not imported") from None
    for span in trace.spans:
        _span_bytes(span.span_id, trace_id)
    return trace_id


def otel_trace_id(trace_id: str) -> bytes:
    return bytes.fromhex(trace_id[3:])


def _span_bytes(span_id: str, trace_id: str) -> bytes:
    try:
        raw = bytes.fromhex(span_id)
    except ValueError:
        raw = b""
    if len(raw) != 8:
        raise InvalidValue(f"Span id {span_id!r} of trace {trace_id} is not 16 hex digits; not imported")
    return raw


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def user_tags(trace: Trace) -> dict[str, str]:
    """The trace's tags without the location tags the destination sets itself."""
    return {k: v for k, v in trace.info.tags.items() if k not in LOCATION_TAGS}


def encoded_attributes(span: Span) -> dict[str, str]:
    """Attribute values as JSON text, as MLflow span dicts keep them (REST sources hand plain
    values); `mlflow.traceRequestId` names the trace."""
    attrs = dict(span.encoded_attributes)
    if not span.attributes_encoded:
        attrs = {k: json.dumps(v, ensure_ascii=False) for k, v in attrs.items()}
    return attrs


def plain_attributes(span: Span) -> dict[str, Any]:
    """Attribute values decoded (what OTLP carries as typed values)."""
    if not span.attributes_encoded:
        return dict(span.encoded_attributes)
    out = {}
    for key, value in span.encoded_attributes.items():
        try:
            out[key] = json.loads(value) if isinstance(value, str) else value
        except ValueError:
            out[key] = value
    return out


def span_dict(trace_id: str, span: Span) -> dict[str, Any]:
    """The MLflow span dict (docs/formats.md §5.3) of one span."""
    attrs = encoded_attributes(span)
    attrs.setdefault(REQUEST_ID_ATTRIBUTE, json.dumps(trace_id))
    return {
        "trace_id": b64(otel_trace_id(trace_id)),
        "span_id": b64(_span_bytes(span.span_id, trace_id)),
        "parent_span_id": b64(_span_bytes(span.parent_id, trace_id)) if span.parent_id else None,
        "name": span.name,
        "start_time_unix_nano": span.start_ns,
        "end_time_unix_nano": span.end_ns,
        "events": [
            {"name": e.name, "time_unix_nano": e.time_ns, "attributes": dict(e.attributes)} for e in span.events
        ],
        "status": {"code": _STATUS_CODES.get(span.status, "STATUS_CODE_UNSET"), "message": span.status_message},
        "attributes": attrs,
        "links": [],
    }


def traces_json(trace: Trace) -> bytes:
    """The `traces.json` document (file store, artifact-stored spans)."""
    trace_id = trace.info.trace_id
    doc = {"spans": [span_dict(trace_id, s) for s in trace.spans]}
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def json_number(metadata: Mapping[str, str], key: str) -> dict[str, Any]:
    """A metadata value holding a JSON object of numbers (token usage, cost), or {}."""
    try:
        value = json.loads(metadata.get(key) or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def trace_artifact_location(experiment_location: str, trace_id: str) -> str:
    """`<experiment artifact location>/traces/<trace id>/artifacts`, joined as MLflow joins
    URIs (a `scheme:/` root keeps its single slash)."""
    tail = f"traces/{trace_id}/artifacts"
    if not experiment_location:
        return tail
    if experiment_location.endswith(":/"):
        return experiment_location + tail
    return f"{experiment_location.rstrip('/')}/{tail}"
