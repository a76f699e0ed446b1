"""Traces as the store layer hands them upward: TraceInfo, Span, Trace (docs/formats.md §5).

Every backend decodes its own storage (SQL rows, file-store yaml, REST JSON) into these; the
TUI reads only these. Times: `request_time`/`execution_duration` in epoch ms as MLflow keeps
them, span times in epoch **nanoseconds**. Ids: trace ids `tr-<32 hex>`, span ids 16 hex.

`Trace` carries the helpers a span-tree view needs (children, roots, depth-first order with
depth, the slowest span, the first error), computed once per trace, so a 5,000-span trace is
walked in linear time.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .assessments import Assessment as Assessment
from .assessments import AssessmentError as AssessmentError

TRACE_NAME_TAG = "mlflow.traceName"
SPANS_LOCATION_TAG = "mlflow.trace.spansLocation"
ARTIFACT_LOCATION_TAG = "mlflow.artifactLocation"
TOKEN_USAGE_METADATA = "mlflow.trace.tokenUsage"
COST_METADATA = "mlflow.trace.cost"
SESSION_METADATA = "mlflow.trace.session"
SOURCE_RUN_METADATA = "mlflow.sourceRun"
INPUTS_ATTRIBUTE = "mlflow.spanInputs"
OUTPUTS_ATTRIBUTE = "mlflow.spanOutputs"
#: Trace states MLflow writes (V2-era rows may say TRACE_STATUS_UNSPECIFIED).
TRACE_STATES: tuple[str, ...] = ("OK", "ERROR", "IN_PROGRESS", "STATE_UNSPECIFIED")


@dataclass(frozen=True, slots=True)
class TraceInfo:
    """One trace's summary: what a list of traces shows. `state` is OK/ERROR/IN_PROGRESS/..."""

    trace_id: str
    experiment_id: str
    request_time: int  # epoch ms
    execution_duration: int | None  # ms; None while in progress
    state: str
    request_preview: str | None = None
    response_preview: str | None = None
    client_request_id: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    metadata: Mapping[str, str] = field(default_factory=dict)
    #: Feedback, expectations and issues on the trace (filled by `get_trace`; a search
    #: result may leave it empty), oldest first.
    assessments: tuple[Assessment, ...] = ()

    @property
    def status(self) -> str:
        """Alias of `state` (MLflow's V2 name, and what filters call it)."""
        return self.state

    @property
    def name(self) -> str | None:
        return self.tags.get(TRACE_NAME_TAG)

    @property
    def end_time(self) -> int | None:
        if self.execution_duration is None:
            return None
        return self.request_time + self.execution_duration

    @property
    def run_id(self) -> str | None:
        """The run the trace was logged under (metadata `mlflow.sourceRun`), if any."""
        return self.metadata.get(SOURCE_RUN_METADATA)

    @property
    def token_usage(self) -> dict[str, int]:
        """`mlflow.trace.tokenUsage` parsed ({} when absent or unreadable)."""
        return _int_dict(self.metadata.get(TOKEN_USAGE_METADATA))

    @property
    def cost(self) -> dict[str, float]:
        """`mlflow.trace.cost` parsed (input_cost, output_cost, total_cost; {} when absent)."""
        raw = self.metadata.get(COST_METADATA)
        try:
            value = json.loads(raw) if raw else {}
        except ValueError:
            return {}
        if not isinstance(value, dict):
            return {}
        return {k: float(v) for k, v in value.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}

    @property
    def session_id(self) -> str | None:
        return self.metadata.get(SESSION_METADATA)

    @property
    def input_tokens(self) -> int | None:
        return self.token_usage.get("input_tokens")

    @property
    def output_tokens(self) -> int | None:
        return self.token_usage.get("output_tokens")

    @property
    def total_tokens(self) -> int | None:
        return self.token_usage.get("total_tokens")


@dataclass(frozen=True, slots=True)
class SpanEvent:
    """A span event, e.g. `exception` with `exception.message` / `exception.stacktrace`."""

    name: str
    time_ns: int | None
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Span:
    """One span. `status` is OK, ERROR or UNSET; times in epoch ns.

    `inputs`, `outputs` and `attributes` (without the inputs/outputs ones) are decoded JSON
    values, decoded on first use: a 5,000-span tree needs only names, types and times, and
    the detail of one span at a time. `encoded_attributes` holds them as stored (MLflow span
    dicts keep every attribute value as JSON text; `attributes_encoded` False means the
    values are plain already, as OTLP JSON gives them)."""

    span_id: str
    parent_id: str | None
    name: str
    span_type: str
    status: str
    start_ns: int
    end_ns: int | None
    status_message: str = ""
    events: tuple[SpanEvent, ...] = ()
    encoded_attributes: Mapping[str, Any] = field(default_factory=dict, repr=False)
    attributes_encoded: bool = field(default=True, repr=False)

    @cached_property
    def _decoded(self) -> dict[str, Any]:
        if not self.attributes_encoded:
            return dict(self.encoded_attributes)
        return {k: _json_value(v) for k, v in self.encoded_attributes.items()}

    @property
    def inputs(self) -> Any:
        return self._decoded.get(INPUTS_ATTRIBUTE)

    @property
    def outputs(self) -> Any:
        return self._decoded.get(OUTPUTS_ATTRIBUTE)

    @cached_property
    def attributes(self) -> dict[str, Any]:
        return {k: v for k, v in self._decoded.items() if k not in (INPUTS_ATTRIBUTE, OUTPUTS_ATTRIBUTE)}

    @property
    def duration_ns(self) -> int | None:
        if self.end_ns is None:
            return None
        return self.end_ns - self.start_ns

    @property
    def is_error(self) -> bool:
        return self.status == "ERROR"

    @property
    def token_usage(self) -> dict[str, int]:
        return _int_dict(self.attributes.get("mlflow.chat.tokenUsage"))

    @property
    def exceptions(self) -> tuple[SpanEvent, ...]:
        return tuple(e for e in self.events if e.name == "exception")


@dataclass(frozen=True)
class Trace:
    """A trace's info and all its spans (in start order), with span-tree helpers."""

    info: TraceInfo
    spans: tuple[Span, ...] = ()

    @cached_property
    def by_id(self) -> dict[str, Span]:
        return {s.span_id: s for s in self.spans}

    @cached_property
    def children(self) -> dict[str | None, list[Span]]:
        """Parent span id → children in start order; key None holds the roots (spans whose
        parent is absent or not in this trace)."""
        out: dict[str | None, list[Span]] = {}
        ids = self.by_id
        for span in self.spans:
            parent = span.parent_id if span.parent_id in ids else None
            out.setdefault(parent, []).append(span)
        for kids in out.values():
            kids.sort(key=_start_key)
        return out

    @property
    def roots(self) -> list[Span]:
        return self.children.get(None, [])

    @property
    def root(self) -> Span | None:
        roots = self.roots
        return roots[0] if roots else None

    @cached_property
    def tree(self) -> tuple[tuple[Span, int], ...]:
        """Every span once, depth-first in start order, with its depth (roots at 0)."""
        out: list[tuple[Span, int]] = []
        children = self.children
        stack = [(s, 0) for s in reversed(self.roots)]
        seen: set[str] = set()
        while stack:
            span, depth = stack.pop()
            if span.span_id in seen:  # a cycle in broken data must not loop forever
                continue
            seen.add(span.span_id)
            out.append((span, depth))
            stack.extend((c, depth + 1) for c in reversed(children.get(span.span_id, ())))
        if len(out) < len(self.spans):  # spans only reachable through a cycle
            out.extend((s, 0) for s in self.spans if s.span_id not in seen)
        return tuple(out)

    @property
    def start_ns(self) -> int | None:
        return min((s.start_ns for s in self.spans), default=None)

    @property
    def end_ns(self) -> int | None:
        ends = [s.end_ns for s in self.spans if s.end_ns is not None]
        return max(ends, default=None)

    def bounds(self, span: Span) -> tuple[float, float]:
        """Where `span` sits on the trace's timeline, as fractions (start, end) in [0, 1]: what
        a waterfall bar needs. A span still in progress runs to the end of the trace."""
        start, end = self.start_ns, self.end_ns
        if start is None or end is None or end <= start:
            return (0.0, 1.0)
        total = end - start
        span_end = span.end_ns if span.end_ns is not None else end
        return (max(0.0, (span.start_ns - start) / total), min(1.0, (span_end - start) / total))

    def self_time_ns(self, span: Span) -> int | None:
        """The span's duration minus the time covered by its children (overlaps merged)."""
        span_end = span.end_ns
        if span_end is None:  # still running: no duration
            return None
        covered, cursor = 0, span.start_ns
        for child in sorted(self.children.get(span.span_id, ()), key=_start_key):
            child_end = min(child.end_ns if child.end_ns is not None else span_end, span_end)
            child_start = max(child.start_ns, cursor)
            if child_end > child_start:
                covered += child_end - child_start
                cursor = child_end
        return span_end - span.start_ns - covered

    def slowest_span(self) -> Span | None:
        """The longest span below the roots (the roots span everything); a root if alone."""
        candidates = [s for s, depth in self.tree if depth > 0 and s.duration_ns is not None]
        if not candidates:
            candidates = [s for s in self.spans if s.duration_ns is not None]
        return max(candidates, key=lambda s: s.duration_ns or 0, default=None)

    def first_error_span(self) -> Span | None:
        """Where the first error began: the first ERROR span in tree order, followed down
        through its first ERROR child while there is one. An exception that propagated marks
        every span it left with ERROR, so the top one is rarely the cause."""
        span = next((s for s, _ in self.tree if s.is_error), None)
        seen: set[str] = set()
        while span is not None and span.span_id not in seen:
            seen.add(span.span_id)
            child = next((c for c in self.children.get(span.span_id, ()) if c.is_error), None)
            if child is None:
                break
            span = child
        return span


def _start_key(span: Span) -> tuple[int, str]:
    return (span.start_ns, span.span_id)


def _int_dict(value: Any) -> dict[str, int]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    if not isinstance(value, dict):
        return {}
    return {k: int(v) for k, v in value.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def _json_value(value: Any) -> Any:
    """Attribute values in span dicts are JSON text; anything else (or bad JSON) stays as is."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value
