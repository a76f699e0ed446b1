"""`import_trace` for the SQL backend: a mixin for SqlStore (rows as mlflow 3.17 writes them).

One transaction writes the `trace_info` row, its `trace_tags` and `trace_request_metadata`
rows and one `spans` row per span (content = the MLflow span dict), tagged
`mlflow.trace.spansLocation=TRACKING_STORE`, so MLflow's own readers find the spans where its
tracing would have put them (docs/formats.md §1.4). On a schema with promoted columns (trace
name, session, token usage, cost) those four keys go into the columns, not the key/value
tables. A schema without the `spans` table gets `traces.json` under the trace's artifact
location instead (when that location is a local path).

Not written: MLflow's analytics side tables (`span_metrics`, `trace_metrics`, the daily
rollups): MLflow's UI charts rebuild from them, its trace reads do not need them.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

import sqlalchemy as sa

from ..base import not_found_experiment
from ..errors import InvalidValue
from ..traces import (
    ARTIFACT_LOCATION_TAG,
    COST_METADATA,
    SESSION_METADATA,
    SPANS_LOCATION_TAG,
    TOKEN_USAGE_METADATA,
    TRACE_NAME_TAG,
    Span,
    Trace,
)
from ..traces.writes import (
    TraceImport,
    check_importable,
    elsewhere_note,
    json_number,
    plain_attributes,
    span_dict,
    trace_artifact_location,
    traces_json,
    user_tags,
)
from .traces import COST_COLUMNS, TOKEN_COLUMNS

if TYPE_CHECKING:
    from .host import SqlHost
else:
    SqlHost = object  # the host is a type-checking contract only (see host.py)

_MODEL_TEXT_LIMIT = 500  # spans.model_name / model_provider are VARCHAR(500)


class SqlTraceWrites(SqlHost):
    """Mixin for SqlStore (what it uses of the store: host.SqlHost)."""

    def import_trace(self, trace: Trace, experiment_id: str) -> TraceImport:
        self._check_writable()
        trace_id = check_importable(trace)
        traces = self.tables.traces
        if traces is None:
            raise InvalidValue(f"{self.display_uri} has no trace tables (an MLflow schema older than 2.x tracing)")
        try:
            eid = int(experiment_id)
        except (TypeError, ValueError):
            raise not_found_experiment(experiment_id) from None
        t, spans = self.tables, traces.spans
        notes: list[str] = []

        def work(conn) -> bool:
            there = conn.execute(
                sa.select(traces.trace_info.c.experiment_id).where(traces.trace_info.c.request_id == trace_id)
            ).first()
            if there is not None:
                notes.extend(elsewhere_note(trace_id, str(there.experiment_id), str(eid)))
                return False
            exp = conn.execute(
                sa.select(t.experiments.c.artifact_location, t.experiments.c.lifecycle_stage)
                .where(t.experiments.c.experiment_id == eid)
            ).first()
            if exp is None:
                raise not_found_experiment(experiment_id)
            if exp.lifecycle_stage != "active":
                raise InvalidValue(f"Experiment '{experiment_id}' is deleted: restore it before importing traces")
            location = trace_artifact_location(exp.artifact_location or "", trace_id)
            row, tags, metadata = self._trace_rows(trace, eid, traces.trace_info)
            tags[ARTIFACT_LOCATION_TAG] = location
            if spans is not None:
                tags[SPANS_LOCATION_TAG] = "TRACKING_STORE"
            conn.execute(sa.insert(traces.trace_info).values(**row))
            if tags:
                conn.execute(sa.insert(traces.trace_tags), [
                    {"request_id": trace_id, "key": k, "value": v} for k, v in sorted(tags.items())])
            if metadata:
                conn.execute(sa.insert(traces.trace_request_metadata), [
                    {"request_id": trace_id, "key": k, "value": v} for k, v in sorted(metadata.items())])
            if spans is not None and trace.spans:
                conn.execute(sa.insert(spans), [self._span_row(trace_id, eid, s, spans) for s in trace.spans])
            elif spans is None:
                notes.extend(_write_local_traces_json(location, trace))
            skipped.extend(self._import_assessments(conn, trace_id, trace.info.assessments))
            return True

        skipped: list[str] = []
        created = self._transaction(work)
        return TraceImport(created, tuple(notes), tuple(skipped))

    def _trace_rows(self, trace: Trace, eid: int, trace_info: sa.Table) -> tuple[dict, dict, dict]:
        info, columns = trace.info, trace_info.c
        tags, metadata = user_tags(trace), dict(info.metadata)
        row = {
            "request_id": info.trace_id, "experiment_id": eid, "timestamp_ms": info.request_time,
            "execution_time_ms": info.execution_duration, "status": info.state,
            "client_request_id": info.client_request_id, "request_preview": info.request_preview,
            "response_preview": info.response_preview,
        }
        if "trace_name" in columns:  # promoted keys live in columns (75868b020152+)
            row["trace_name"] = tags.pop(TRACE_NAME_TAG, None)
            row["session_id"] = metadata.pop(SESSION_METADATA, None)
            tokens = json_number(metadata, TOKEN_USAGE_METADATA)
            costs = json_number(metadata, COST_METADATA)
            metadata.pop(TOKEN_USAGE_METADATA, None)
            metadata.pop(COST_METADATA, None)
            row.update({c: _int_or_none(tokens.get(c)) for c in TOKEN_COLUMNS if c in columns})
            row.update({c: _float_or_none(costs.get(c)) for c in COST_COLUMNS if c in columns})
        return {k: v for k, v in row.items() if k in columns}, tags, metadata

    def _span_row(self, trace_id: str, eid: int, span: Span, spans: sa.Table) -> dict:
        columns = spans.c
        attrs = plain_attributes(span)
        cost = attrs.get("mlflow.llm.cost")
        if not isinstance(cost, dict):
            cost = {}
        row = {
            "trace_id": trace_id, "experiment_id": eid, "span_id": span.span_id,
            "parent_span_id": span.parent_id, "name": span.name, "type": span.span_type,
            "status": span.status, "start_time_unix_nano": span.start_ns, "end_time_unix_nano": span.end_ns,
            "content": json.dumps(span_dict(trace_id, span), ensure_ascii=self.dialect == "mssql"),
            "input_cost": _float_or_none(cost.get("input_cost")),
            "output_cost": _float_or_none(cost.get("output_cost")),
            "total_cost": _float_or_none(cost.get("total_cost")),
            "model_name": _text_or_none(attrs.get("mlflow.llm.model")),
            "model_provider": _text_or_none(attrs.get("mlflow.llm.provider")),
        }
        return {k: v for k, v in row.items() if k in columns}


def _write_local_traces_json(location: str, trace: Trace) -> list[str]:
    """Spans as `traces.json` for schemas without a `spans` table (local locations only)."""
    from ..artifacts import artifact_scheme
    from ..artifacts.local import local_path_of

    if artifact_scheme(location) != "file":
        return [f"trace {trace.info.trace_id}: spans not written ({location} is not a local path)"]
    folder = local_path_of(location)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "traces.json"), "wb") as handle:
        handle.write(traces_json(trace))
    return []


def _int_or_none(value):
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _float_or_none(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if value == value and abs(value) != float("inf") else None


def _text_or_none(value):
    if value is None or value == "":
        return None
    return str(value)[:_MODEL_TEXT_LIMIT]
