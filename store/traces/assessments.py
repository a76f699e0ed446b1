"""Assessments on traces (feedback, expectations, issues) as the store hands them upward.

MLflow keeps them in three shapes, decoded here into one `Assessment`: SQL rows (the
`assessments` table, docs/formats.md §1.4a: value/error/metadata as JSON text), and the
protobuf-JSON dict MLflow's file store writes to `assessments/<id>.yaml` and its REST API
sends (`assessment_name`, `source`, `feedback`/`expectation`/`issue`, RFC3339 times).

Also here, because every backend needs them the same way: the Python evaluation of
`feedback.<name>` / `expectation.<name>` filters with the semantics of MLflow's SQL store
(only valid assessments count; `=`/`!=`/LIKE/ILIKE/RLIKE compare the value's JSON text,
`=` also matching a bare string; `<`/`<=`/`>`/`>=` compare finite non-boolean numbers), and
what MLflow stores as a value's numeric aggregate.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: The three kinds MLflow stores (`assessments.assessment_type`).
ASSESSMENT_KINDS = ("feedback", "expectation", "issue")
#: Who made an assessment (`AssessmentSourceType`).
SOURCE_TYPES = ("HUMAN", "LLM_JUDGE", "CODE")
#: The metadata key MLflow reads an assessment's run from when it has no run column.
SOURCE_RUN_METADATA = "mlflow.assessment.sourceRunId"
NUMERIC_OPS = ("<", "<=", ">", ">=")


@dataclass(frozen=True, slots=True)
class AssessmentError:
    """Why a judge could not produce a feedback (rate limit, parse failure...)."""

    code: str
    message: str | None = None
    stack_trace: str | None = None


@dataclass(frozen=True, slots=True)
class Assessment:
    """One feedback, expectation or issue reference on a trace (or one of its spans).

    `value` is the decoded JSON value (an issue's is `{"issue_name": ...}`). `valid` is False
    once another assessment `overrides` this one. Times in epoch ms."""

    assessment_id: str
    trace_id: str
    name: str
    kind: str  # feedback | expectation | issue
    value: Any
    source_type: str
    source_id: str | None = None
    create_time: int = 0
    last_update_time: int = 0
    rationale: str | None = None
    span_id: str | None = None
    run_id: str | None = None
    error: AssessmentError | None = None
    overrides: str | None = None
    valid: bool = True
    metadata: Mapping[str, str] = field(default_factory=dict)

    @property
    def value_text(self) -> str:
        """The value as one line of text (strings bare, everything else as JSON)."""
        if isinstance(self.value, str):
            return self.value
        return json.dumps(self.value)


def new_assessment_id() -> str:
    """An id as MLflow makes them: `a-` and 32 hex digits."""
    return "a-" + uuid.uuid4().hex


def now_ms() -> int:
    return int(time.time() * 1000)


def numeric_aggregate(value: Any) -> tuple[float | None, bool]:
    """(aggregate_value, is_numeric_value) as MLflow's SQL store computes them on write:
    numbers count as numeric when finite, booleans and yes/no as 1/0 but not numeric."""
    if isinstance(value, bool):
        return (1.0 if value else 0.0), False
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:
            return None, False
        return (number, True) if math.isfinite(number) else (None, False)
    if isinstance(value, str) and value.strip().lower() in ("yes", "no"):
        return (1.0 if value.strip().lower() == "yes" else 0.0), False
    return None, False


# -- decoding -----------------------------------------------------------------------------------


def assessment_from_row(row: Mapping[str, Any]) -> Assessment:
    """A row of the `assessments` table (a mapping of its columns) → Assessment."""
    metadata = _json_dict(row.get("assessment_metadata"))
    error = _json_dict(row.get("error"))
    run_id = row.get("run_id") or metadata.get(SOURCE_RUN_METADATA)
    return Assessment(
        assessment_id=str(row["assessment_id"]),
        trace_id=str(row["trace_id"]),
        name=str(row["name"]),
        kind=str(row["assessment_type"]),
        value=_json_value(row.get("value")),
        source_type=str(row.get("source_type") or "SOURCE_TYPE_UNSPECIFIED"),
        source_id=row.get("source_id"),
        create_time=int(row.get("created_timestamp") or 0),
        last_update_time=int(row.get("last_updated_timestamp") or 0),
        rationale=row.get("rationale"),
        span_id=row.get("span_id"),
        run_id=run_id,
        error=_error(error) if error else None,
        overrides=row.get("overrides"),
        valid=bool(row.get("valid", True)) if row.get("valid") is not None else True,
        metadata={str(k): str(v) for k, v in metadata.items()},
    )


def assessment_from_dict(d: Mapping[str, Any], trace_id: str | None = None) -> Assessment | None:
    """MLflow's protobuf-JSON dict (file-store yaml, REST JSON) → Assessment; None when it
    holds none of feedback/expectation/issue (a damaged or future document)."""
    from .decode import timestamp_ms

    kind = next((k for k in ASSESSMENT_KINDS if isinstance(d.get(k), Mapping)), None)
    if kind is None:
        return None
    body = d[kind]
    error = None
    if kind == "feedback":
        value = body.get("value")
        if isinstance(body.get("error"), Mapping) and body["error"]:
            error = _error(body["error"])
    elif kind == "expectation":
        serialized = body.get("serialized_value")
        value = _json_value(serialized.get("value")) if isinstance(serialized, Mapping) else body.get("value")
    else:
        value = dict(body)
    source: Mapping[str, Any] = d["source"] if isinstance(d.get("source"), Mapping) else {}
    metadata: Mapping[str, Any] = d["metadata"] if isinstance(d.get("metadata"), Mapping) else {}
    return Assessment(
        assessment_id=str(d.get("assessment_id") or ""),
        trace_id=str(d.get("trace_id") or trace_id or ""),
        name=str(d.get("assessment_name") or ""),
        kind=kind,
        value=value,
        source_type=str(source.get("source_type") or "SOURCE_TYPE_UNSPECIFIED"),
        source_id=source.get("source_id") or None,
        create_time=timestamp_ms(d.get("create_time")),
        last_update_time=timestamp_ms(d.get("last_update_time")),
        rationale=d.get("rationale") or None,
        span_id=d.get("span_id") or None,
        run_id=metadata.get(SOURCE_RUN_METADATA),
        error=error,
        overrides=d.get("overrides") or None,
        valid=bool(d.get("valid", True)),
        metadata={str(k): str(v) for k, v in metadata.items()},
    )


def assessment_to_dict(a: Assessment) -> dict[str, Any]:
    """Assessment → MLflow's protobuf-JSON dict (what its file store and REST API read)."""
    out: dict[str, Any] = {
        "assessment_name": a.name,
        "trace_id": a.trace_id,
        "source": {"source_type": a.source_type, **({"source_id": a.source_id} if a.source_id else {})},
        "create_time": rfc3339(a.create_time),
        "last_update_time": rfc3339(a.last_update_time),
    }
    if a.assessment_id:
        out["assessment_id"] = a.assessment_id
    if a.kind == "feedback":
        feedback: dict[str, Any] = {"value": a.value}
        if a.error is not None:
            feedback["error"] = {k: v for k, v in (
                ("error_code", a.error.code), ("error_message", a.error.message),
                ("stack_trace", a.error.stack_trace)) if v}
        out["feedback"] = feedback
    elif a.kind == "expectation":
        if a.value is None or isinstance(a.value, (bool, int, float, str)):
            out["expectation"] = {"value": a.value}
        else:  # lists and objects travel as JSON text, as MLflow's ExpectationValue sends them
            out["expectation"] = {"serialized_value": {
                "serialization_format": "JSON_FORMAT", "value": json.dumps(a.value)}}
    else:
        out["issue"] = dict(a.value) if isinstance(a.value, Mapping) else {}
    for key in ("rationale", "span_id", "overrides"):
        if getattr(a, key):
            out[key] = getattr(a, key)
    metadata = dict(a.metadata)
    if a.run_id and SOURCE_RUN_METADATA not in metadata:
        metadata[SOURCE_RUN_METADATA] = a.run_id
    if metadata:
        out["metadata"] = metadata
    out["valid"] = a.valid
    return out


def skipped_names(trace_id: str, assessments: Iterable[Assessment], why: str) -> tuple[str, ...]:
    """One line per assessment a destination could not take, naming it (for a copy's summary)."""
    return tuple(f"trace {trace_id}: {a.kind} {a.name!r} ({a.assessment_id}) not copied: {why}" for a in assessments)


def rfc3339(ms: int) -> str:
    """Epoch ms → `2026-11-24T23:27:56.808Z` (protobuf Timestamp JSON)."""
    seconds, millis = divmod(int(ms), 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


# -- filters ------------------------------------------------------------------------------------


def assessments_match(assessments: Iterable[Assessment], kind: str, name: str, op: str, value: Any) -> bool:
    """Whether a trace with these assessments passes `<kind>.<name> <op> <value>`, as MLflow's
    SQL store decides it (session-scoped assessments aside)."""
    from ..search.evaluate import compare_number, compare_string

    candidates = [a for a in assessments if a.kind == kind and a.name == name and a.valid]
    if op == "IS NULL":
        return not candidates
    if op == "IS NOT NULL":
        return bool(candidates)
    for a in candidates:
        if op in NUMERIC_OPS:
            number, numeric = numeric_aggregate(a.value)
            if numeric and number is not None and compare_number(number, op, value):
                return True
            continue
        stored = json.dumps(a.value)
        if op in ("=", "!="):
            same = stored == value or stored == json.dumps(value)
            if same == (op == "="):
                return True
        elif compare_string(stored, op, value):
            return True
    return False


def _json_value(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _json_dict(text: Any) -> dict[str, Any]:
    value = _json_value(text)
    return value if isinstance(value, dict) else {}


def _error(d: Mapping[str, Any]) -> AssessmentError:
    return AssessmentError(
        code=str(d.get("error_code") or ""),
        message=d.get("error_message") or None,
        stack_trace=d.get("stack_trace") or None,
    )
