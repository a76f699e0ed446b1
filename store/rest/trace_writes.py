"""`import_trace` over a tracking server's REST API: a mixin for RestStore.

The way MLflow 3's own tracing client writes a trace, so the server stores it as its own:
1. the spans, as one OTLP/HTTP JSON request to `POST /v1/traces` (header
   `x-mlflow-experiment-id`; hex ids, typed attribute values) — a SQL-backed server keeps
   them in its `spans` table and tags the trace `spansLocation=TRACKING_STORE`;
2. the trace info, `POST /api/3.0/mlflow/traces` (StartTraceV3) with the id, request time,
   duration, state, previews, client request id, tags and metadata; the server merges it
   into the row step 1 made and sets `mlflow.artifactLocation` itself.

What cannot be done over REST is reported in the result's notes (the transfer summary shows
them), not hidden: a server whose backend takes no OTLP spans (a file store behind the
server, or an MLflow server older than 3.4) gets the trace info without its spans.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..errors import InvalidValue, NotFound, ServerError
from ..traces import Span, Trace
from ..traces.writes import (
    TraceImport,
    check_importable,
    elsewhere_note,
    plain_attributes,
    user_tags,
)

if TYPE_CHECKING:
    from .host import RestHost
else:
    RestHost = object  # the host is a type-checking contract only (see host.py)

V3 = "/api/3.0/mlflow"
OTLP_TRACES = "/v1/traces"
EXPERIMENT_HEADER = "x-mlflow-experiment-id"
_STATUS_CODES = {"OK": "STATUS_CODE_OK", "ERROR": "STATUS_CODE_ERROR", "UNSET": "STATUS_CODE_UNSET"}
_INT64 = 2**63


class RestTraceWrites(RestHost):
    """Mixin for RestStore (what it uses of the store: host.RestHost)."""

    def import_trace(self, trace: Trace, experiment_id: str) -> TraceImport:
        self._check_writable()
        trace_id = check_importable(trace)
        try:
            there = self._trace_info_only(trace_id)
        except NotFound:
            there = None
        if there is not None:
            return TraceImport(False, elsewhere_note(trace_id, there.experiment_id, experiment_id))
        notes: list[str] = []
        if trace.spans:
            try:
                self._http.request("POST", OTLP_TRACES, json_body=otlp_request(trace),
                                   headers={EXPERIMENT_HEADER: str(experiment_id)})
            except (ServerError, InvalidValue, NotFound) as exc:
                if isinstance(exc, InvalidValue) or "no such endpoint" not in exc.message and "501" not in exc.message:
                    raise
                notes.append(
                    f"trace {trace_id}: its {len(trace.spans)} span(s) were not copied: the server takes no "
                    f"OTLP spans ({exc.message}); the trace info was"
                )
        self._http.post(f"{V3}/traces", {"trace": {"trace_info": trace_info_json(trace, str(experiment_id))}})
        return TraceImport(True, tuple(notes), self._import_assessments(trace_id, trace.info.assessments))


def trace_info_json(trace: Trace, experiment_id: str) -> dict[str, Any]:
    """TraceInfoV3 as protobuf JSON (docs/formats.md §3.6), without the location tags."""
    info = trace.info
    seconds, millis = divmod(int(info.request_time), 1000)
    body: dict[str, Any] = {
        "trace_id": info.trace_id,
        "trace_location": {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": experiment_id}},
        "request_time": _rfc3339(seconds, millis),
        "state": info.state,
        "trace_metadata": dict(info.metadata),
        "tags": user_tags(trace),
    }
    if info.execution_duration is not None:
        body["execution_duration"] = f"{info.execution_duration / 1000:.3f}s"
    for key in ("request_preview", "response_preview", "client_request_id"):
        value = getattr(info, key)
        if value is not None:
            body[key] = value
    return body


def _rfc3339(seconds: int, millis: int) -> str:
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def otlp_request(trace: Trace) -> dict[str, Any]:
    """An OTLP ExportTraceServiceRequest (JSON encoding: hex ids) holding every span."""
    hex_trace = trace.info.trace_id[3:]
    return {"resourceSpans": [{"resource": {"attributes": []},
                               "scopeSpans": [{"spans": [otlp_span(hex_trace, s) for s in trace.spans]}]}]}


def otlp_span(hex_trace: str, span: Span) -> dict[str, Any]:
    out: dict[str, Any] = {
        "traceId": hex_trace,
        "spanId": span.span_id,
        "name": span.name,
        "startTimeUnixNano": str(span.start_ns),
        "attributes": _key_values(plain_attributes(span)),
        "events": [
            {"name": e.name, "timeUnixNano": str(e.time_ns or 0), "attributes": _key_values(e.attributes)}
            for e in span.events
        ],
        "status": {"code": _STATUS_CODES.get(span.status, "STATUS_CODE_UNSET"), "message": span.status_message},
    }
    if span.parent_id:
        out["parentSpanId"] = span.parent_id
    if span.end_ns is not None:
        out["endTimeUnixNano"] = str(span.end_ns)
    return out


def _key_values(values) -> list[dict[str, Any]]:
    return [{"key": str(k), "value": any_value(v)} for k, v in values.items()]


def any_value(value: Any) -> dict[str, Any]:
    """A Python value as an OTLP AnyValue (what the server decodes back to the same value)."""
    if value is None:
        return {}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        if -_INT64 <= value < _INT64:
            return {"intValue": str(value)}
        return {"doubleValue": float(value)}
    if isinstance(value, float):
        if math.isnan(value):
            return {"doubleValue": "NaN"}
        if math.isinf(value):
            return {"doubleValue": "Infinity" if value > 0 else "-Infinity"}
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, (list, tuple)):
        return {"arrayValue": {"values": [any_value(v) for v in value]}}
    if isinstance(value, dict):
        return {"kvlistValue": {"values": _key_values(value)}}
    return {"stringValue": str(value)}

