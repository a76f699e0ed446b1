"""Decoding MLflow's trace payloads into store.traces values, shared by every backend.

Three span encodings exist (docs/formats.md §5.3/§5.4):
* the MLflow span dict (`spans.content`, `traces.json`, get-trace-artifact): base64 ids,
  attribute values JSON-encoded strings; older writers used hex ids (3.5.0) or the V2 shape
  (`context`, `parent_id`, `start_time`, `status_code`);
* OTLP protobuf JSON (REST GetTrace / batchGet): base64 ids, typed attribute values.
And two TraceInfo encodings: V3 protobuf JSON (REST, file-store `trace_info.yaml`) and V2
(`request_id`, `timestamp_ms`, `execution_time_ms`, `status`).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import sys
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from ..errors import InvalidValue
from . import Span, SpanEvent, Trace, TraceInfo, _json_value
from .assessments import Assessment, assessment_from_dict

INPUTS_ATTR = "mlflow.spanInputs"
OUTPUTS_ATTR = "mlflow.spanOutputs"
TYPE_ATTR = "mlflow.spanType"
_HEX = re.compile(r"[0-9a-fA-F]+")
_STATUS = {
    "STATUS_CODE_OK": "OK", "STATUS_CODE_ERROR": "ERROR", "STATUS_CODE_UNSET": "UNSET",
    "OK": "OK", "ERROR": "ERROR", "UNSET": "UNSET", 0: "UNSET", 1: "OK", 2: "ERROR",
}


# -- MLflow span dicts --------------------------------------------------------------------------


def spans_from_traces_json(data: bytes | str) -> tuple[Span, ...]:
    """Spans of a `traces.json` document (`{"spans": [...]}`). Raises InvalidValue."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidValue(f"traces.json is not valid JSON ({exc})") from None
    spans = doc.get("spans") if isinstance(doc, dict) else None
    if not isinstance(spans, list):
        raise InvalidValue("traces.json has no 'spans' list")
    return tuple(span_from_dict(s) for s in spans if isinstance(s, dict))


def spans_from_contents(contents: Iterable[str]) -> list[Span]:
    """Spans from `spans.content` columns (archival-cleared '' skipped).

    One JSON parse for all of them (the per-call overhead of 5,000 parses is most of the
    cost); if any content is damaged, each is parsed alone and the damaged ones skipped."""
    contents = [c for c in contents if c]
    try:
        dicts = json.loads("[" + ",".join(contents) + "]")
        if len(dicts) != len(contents) or not all(isinstance(d, dict) for d in dicts):
            raise ValueError("contents do not map one to one")
    except ValueError:
        dicts = []
        for content in contents:
            try:
                d = json.loads(content)
            except ValueError:
                continue
            if isinstance(d, dict):
                dicts.append(d)
    return [span_from_dict(d) for d in dicts]


def span_from_dict(d: Mapping[str, Any]) -> Span:
    """One MLflow span dict (V3, 3.5-hex or V2 shape) → Span."""
    if "context" in d:  # V2
        ctx = d.get("context") or {}
        span_id = span_id_hex(ctx.get("span_id"))
        parent = d.get("parent_id")
        start, end = d.get("start_time"), d.get("end_time")
        status = _STATUS.get(d.get("status_code"), str(d.get("status_code") or "UNSET"))
        message = d.get("status_message") or ""
        events = tuple(
            SpanEvent(str(e.get("name", "")), _int(e.get("timestamp")), dict(e.get("attributes") or {}))
            for e in d.get("events") or ()
        )
    else:
        span_id = span_id_hex(d.get("span_id"))
        parent = d.get("parent_span_id")
        start, end = d.get("start_time_unix_nano"), d.get("end_time_unix_nano")
        st = d.get("status") or {}
        status = _STATUS.get(st.get("code"), str(st.get("code") or "UNSET"))
        message = st.get("message") or ""
        events = tuple(
            SpanEvent(str(e.get("name", "")), _int(e.get("time_unix_nano")), dict(e.get("attributes") or {}))
            for e in d.get("events") or ()
        )
    attrs = dict(d.get("attributes") or {})
    return _span(span_id, span_id_hex(parent) if parent else None, d.get("name"), status,
                 message, _int(start) or 0, _int(end), attrs, events)


def _span(span_id, parent, name, status, message, start, end, attrs: dict, events, *, encoded=True) -> Span:
    return Span(
        span_id=span_id,
        parent_id=parent,
        name=str(name or ""),
        span_type=_span_type(attrs.get(TYPE_ATTR), encoded),
        status=status,
        start_ns=start,
        end_ns=end,
        status_message=str(message),
        events=events,
        encoded_attributes=attrs,
        attributes_encoded=encoded,
    )


def _span_type(value: Any, encoded: bool) -> str:
    """`"TOOL"` (JSON text) → TOOL without a full JSON parse for the common case."""
    if encoded and isinstance(value, str):
        if len(value) >= 2 and value[0] == value[-1] == '"' and "\\" not in value:
            value = value[1:-1]
        else:
            value = _json_value(value)
    return str(value) if value else "UNKNOWN"


def span_id_hex(value: Any) -> str:
    """A span id as 16 hex characters, from base64 (current), hex (3.5.0, spans table) or an
    int (V2 dicts sometimes hold `0x...` strings)."""
    if value is None:
        return ""
    if isinstance(value, int):
        return f"{value:016x}"
    text = str(value)
    if text.startswith("0x"):
        return text[2:].rjust(16, "0").lower()
    if len(text) == 16 and _HEX.fullmatch(text):
        return text.lower()
    try:
        return _strict_base64(text).hex()
    except (binascii.Error, ValueError):
        return text


def _strict_base64(text: str) -> bytes:
    """Base64 that refuses anything else; a2b_base64's strict mode is Python 3.11+."""
    if sys.version_info >= (3, 11):
        return binascii.a2b_base64(text, strict_mode=True)
    return base64.b64decode(text, validate=True)


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# -- OTLP protobuf JSON -------------------------------------------------------------------------


def span_from_otlp(d: Mapping[str, Any]) -> Span:
    """One `opentelemetry.proto.trace.v1.Span` JSON object (REST GetTrace) → Span."""
    attrs = {a.get("key", ""): any_value(a.get("value")) for a in d.get("attributes") or ()}
    # MLflow's OTLP export keeps some values as their JSON text; decode what still is.
    for key in (INPUTS_ATTR, OUTPUTS_ATTR, TYPE_ATTR, "mlflow.chat.tokenUsage", "mlflow.traceRequestId"):
        if isinstance(attrs.get(key), str):
            attrs[key] = _json_value(attrs[key])
    events = tuple(
        SpanEvent(
            str(e.get("name", "")),
            _int(e.get("time_unix_nano", e.get("timeUnixNano"))),
            {a.get("key", ""): any_value(a.get("value")) for a in e.get("attributes") or ()},
        )
        for e in d.get("events") or ()
    )
    st = d.get("status") or {}
    status = _STATUS.get(st.get("code"), "UNSET")
    parent = d.get("parent_span_id", d.get("parentSpanId"))
    return _span(
        span_id_hex(d.get("span_id", d.get("spanId"))),
        span_id_hex(parent) if parent else None,
        d.get("name"),
        status,
        st.get("message") or "",
        _int(d.get("start_time_unix_nano", d.get("startTimeUnixNano"))) or 0,
        _int(d.get("end_time_unix_nano", d.get("endTimeUnixNano"))),
        attrs,
        events,
        encoded=False,
    )


def any_value(v: Any) -> Any:
    """An OTLP AnyValue JSON object → a plain Python value."""
    if not isinstance(v, Mapping):
        return v
    for key in ("string_value", "stringValue", "bool_value", "boolValue", "double_value", "doubleValue"):
        if key in v:
            return v[key]
    for key in ("int_value", "intValue"):
        if key in v:
            return _int(v[key])
    for key in ("array_value", "arrayValue"):
        if key in v:
            return [any_value(x) for x in (v[key] or {}).get("values") or ()]
    for key in ("kvlist_value", "kvlistValue"):
        if key in v:
            return {x.get("key", ""): any_value(x.get("value")) for x in (v[key] or {}).get("values") or ()}
    for key in ("bytes_value", "bytesValue"):
        if key in v:
            return v[key]
    return None


# -- TraceInfo ----------------------------------------------------------------------------------


def trace_info_from_json(d: Mapping[str, Any], tags: Mapping[str, str] | None = None,
                         metadata: Mapping[str, str] | None = None) -> TraceInfo:
    """A V3 TraceInfo (REST JSON / file-store yaml) or V2 one (has `request_id`) → TraceInfo.

    `tags`/`metadata` override the document's own (the file store keeps them in files)."""
    if "request_id" in d and "trace_id" not in d:  # V2
        return TraceInfo(
            trace_id=str(d["request_id"]),
            experiment_id=str(d.get("experiment_id", "")),
            request_time=_int(d.get("timestamp_ms")) or 0,
            execution_duration=_int(d.get("execution_time_ms")),
            state=_v2_state(d.get("status")),
            request_preview=d.get("request_preview"),
            response_preview=d.get("response_preview"),
            tags=dict(tags if tags is not None else _kv(d.get("tags"))),
            metadata=dict(metadata if metadata is not None else _kv(d.get("request_metadata"))),
        )
    location = d.get("trace_location") or {}
    exp = (location.get("mlflow_experiment") or {}).get("experiment_id", "")
    duration = d.get("execution_duration", d.get("execution_duration_ms"))
    return TraceInfo(
        trace_id=str(d.get("trace_id", "")),
        experiment_id=str(exp),
        request_time=timestamp_ms(d.get("request_time")),
        execution_duration=duration_ms(duration),
        state=str(d.get("state") or "STATE_UNSPECIFIED"),
        request_preview=d.get("request_preview"),
        response_preview=d.get("response_preview"),
        client_request_id=d.get("client_request_id"),
        tags=dict(tags if tags is not None else _kv(d.get("tags"))),
        metadata=dict(metadata if metadata is not None else _kv(d.get("trace_metadata"))),
        assessments=_assessments(d.get("assessments"), str(d.get("trace_id", ""))),
    )


def _assessments(items: Any, trace_id: str) -> tuple[Assessment, ...]:
    """The `assessments` list of a V3 TraceInfo JSON (damaged entries left out), oldest first."""
    if not isinstance(items, list):
        return ()
    found = (assessment_from_dict(i, trace_id) for i in items if isinstance(i, Mapping))
    return tuple(sorted((a for a in found if a is not None), key=lambda a: (a.create_time, a.assessment_id)))


def _v2_state(status: Any) -> str:
    text = str(status or "")
    return {"TRACE_STATUS_UNSPECIFIED": "STATE_UNSPECIFIED", "": "STATE_UNSPECIFIED"}.get(text, text)


def _kv(value: Any) -> dict[str, str]:
    """Tags/metadata as a JSON map (V3) or a [{key, value}] list (V2)."""
    if isinstance(value, Mapping):
        return {str(k): "" if v is None else str(v) for k, v in value.items()}
    if isinstance(value, list):
        return {str(i.get("key")): str(i.get("value", "")) for i in value if isinstance(i, Mapping)}
    return {}


def timestamp_ms(value: Any) -> int:
    """Epoch ms from an int, a numeric string, or an RFC3339 string ("...:07.110Z")."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    text = str(value or "").strip()
    if not text:
        return 0
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        frac = ""
        main = text.rstrip("Zz")
        offset = "+00:00"
        m = re.match(r"^(.*?)([+-]\d\d:\d\d)$", main)
        if m and "T" in m.group(1):
            main, offset = m.group(1), m.group(2)
        if "." in main:
            main, frac = main.split(".", 1)
        dt = datetime.fromisoformat(main + offset)
        micros = int((frac + "000000")[:6]) if frac else 0
        return int(dt.timestamp()) * 1000 + micros // 1000
    except ValueError:
        return 0


def duration_ms(value: Any) -> int | None:
    """Ms from an int, or a protobuf Duration string ("0.051s", "1s")."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    text = str(value).strip()
    if text.endswith("s"):
        try:
            return round(float(text[:-1]) * 1000)
        except ValueError:
            return None
    return _int(text)


def build_trace(info: TraceInfo, spans: Iterable[Span]) -> Trace:
    """A Trace with its spans in start order (ties by span id, so the order is stable)."""
    return Trace(info, tuple(sorted(spans, key=lambda s: (s.start_ns, s.span_id))))
