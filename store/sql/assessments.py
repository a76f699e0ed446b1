"""Assessments in MLflow's `assessments` table (docs/formats.md §1.4a): a mixin for SqlStore.

Reads attach every assessment of a page of traces in one query. Filters compile
`feedback.<name>` / `expectation.<name>` to an EXISTS over valid assessments, as MLflow's SQL
store does: `=`/`!=` match the stored JSON text or the JSON of the string, LIKE/ILIKE/RLIKE
the JSON text, `<`..`>=` the `aggregate_value` of numeric values. (MLflow also lets an
assessment logged on a session cover the session's other traces; tracktui does not.)

Writes follow `create_assessment`/`delete_assessment`: one transaction, the overridden
assessment marked invalid (valid again when its override is deleted), the analytics columns
(experiment id, trace time, numeric aggregate) filled where the schema has them. MLflow's
rollup queue is not fed: its charts rebuild from the rows, its reads do not need it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import sqlalchemy as sa

from ..errors import InvalidValue, NotFound
from ..search import Comparison
from ..traces.assessments import (
    NUMERIC_OPS,
    Assessment,
    assessment_from_row,
    new_assessment_id,
    now_ms,
    numeric_aggregate,
    skipped_names,
)
from .filters import compare

if TYPE_CHECKING:
    from .host import SqlHost
else:
    SqlHost = object  # the host is a type-checking contract only (see host.py)


class SqlAssessments(SqlHost):
    """Mixin for SqlStore (what it uses of the store: host.SqlHost)."""

    def _assessments_by_trace(self, conn, trace_ids: Iterable[str]) -> dict[str, tuple[Assessment, ...]]:
        """Trace id → its assessments, oldest first (none on schemas without the table)."""
        table = self.tables.assessments
        ids = list(trace_ids)
        out: dict[str, list[Assessment]] = {}
        if table is None:
            return {}
        for start in range(0, len(ids), 500):
            rows = conn.execute(
                sa.select(table).where(table.c.trace_id.in_(ids[start : start + 500]))
                .order_by(table.c.created_timestamp, table.c.assessment_id)
            ).mappings()
            for row in rows:
                out.setdefault(row["trace_id"], []).append(assessment_from_row(row))
        return {k: tuple(v) for k, v in out.items()}

    def _assessment_clause(self, c: Comparison, request_id):
        """`feedback.<name> op value` (or expectation.) as a clause on trace_info."""
        table = self.tables.assessments
        if table is None:
            return sa.true() if c.op == "IS NULL" else sa.false()
        owned = (
            table.c.trace_id == request_id, table.c.assessment_type == c.kind,
            table.c.name == c.key, table.c.valid == sa.true(),
        )
        if c.op in ("IS NULL", "IS NOT NULL"):
            exists = sa.exists().where(*owned)
            return ~exists if c.op == "IS NULL" else exists
        if c.op in NUMERIC_OPS:
            if "aggregate_value" not in table.c:
                raise InvalidValue(f"{self.display_uri} keeps no numeric assessment values (an older MLflow schema)")
            value_clause = sa.and_(
                table.c.is_numeric_value == sa.true(),
                compare(table.c.aggregate_value, c.op, c.value, self.dialect, text_column=False),
            )
        elif c.op in ("=", "!="):
            text = str(c.value)
            same = sa.or_(compare(table.c.value, "=", text, self.dialect),
                          compare(table.c.value, "=", json.dumps(text), self.dialect))
            value_clause = same if c.op == "=" else sa.not_(same)
        else:
            value_clause = compare(table.c.value, c.op, c.value, self.dialect)
        return sa.exists().where(*owned, value_clause)

    # -- writes -----------------------------------------------------------------------------

    def log_assessment(self, assessment: Assessment) -> Assessment:
        self._check_writable()
        table = self._assessment_table()
        traces = self.tables.traces
        assert traces is not None  # _assessment_table checked it
        ti = traces.trace_info
        if assessment.kind not in ("feedback", "expectation"):
            raise InvalidValue("Only feedback and expectations can be logged")
        now = now_ms()
        stored = dataclasses.replace(
            assessment, assessment_id=assessment.assessment_id or new_assessment_id(),
            create_time=now, last_update_time=now, valid=True,
        )

        def work(conn) -> Assessment:
            trace = conn.execute(sa.select(ti.c.experiment_id, ti.c.timestamp_ms)
                                 .where(ti.c.request_id == stored.trace_id)).first()
            if trace is None:
                raise NotFound(f"Trace '{stored.trace_id}' not found")
            if stored.overrides:
                hit = conn.execute(sa.update(table).where(
                    table.c.trace_id == stored.trace_id, table.c.assessment_id == stored.overrides,
                ).values(valid=False))
                if hit.rowcount == 0:
                    raise NotFound(f"Assessment with ID '{stored.overrides}' not found for trace '{stored.trace_id}'")
            row = _row(stored)
            aggregate, numeric = numeric_aggregate(stored.value)
            row.update(experiment_id=trace.experiment_id, trace_timestamp_ms=trace.timestamp_ms,
                       aggregate_value=aggregate, is_numeric_value=numeric)
            conn.execute(sa.insert(table).values({k: v for k, v in row.items() if k in table.c}))
            return stored

        return self._transaction(work)

    def delete_assessment(self, trace_id: str, assessment_id: str) -> None:
        self._check_writable()
        table = self._assessment_table()
        traces = self.tables.traces
        assert traces is not None
        ti = traces.trace_info

        def work(conn) -> None:
            if conn.execute(sa.select(ti.c.request_id).where(ti.c.request_id == trace_id)).first() is None:
                raise NotFound(f"Trace '{trace_id}' not found")
            mine = (table.c.trace_id == trace_id, table.c.assessment_id == assessment_id)
            overrides = conn.execute(sa.select(table.c.overrides).where(*mine)).first()
            if overrides is None:
                return
            if overrides.overrides:
                conn.execute(sa.update(table).where(
                    table.c.trace_id == trace_id, table.c.assessment_id == overrides.overrides,
                ).values(valid=True))
            conn.execute(sa.delete(table).where(*mine))

        self._transaction(work)

    def _import_assessments(self, conn, trace_id: str, assessments: Sequence[Assessment]) -> tuple[str, ...]:
        """Write a copied trace's assessments as they were (ids, times, validity, overrides),
        inside the caller's transaction. Returns what could not be taken, by name."""
        table = self.tables.assessments
        if not assessments:
            return ()
        if table is None:
            return skipped_names(trace_id, assessments, "the destination has no assessments table")
        traces = self.tables.traces
        assert traces is not None
        ti = traces.trace_info
        trace = conn.execute(sa.select(ti.c.experiment_id, ti.c.timestamp_ms).where(ti.c.request_id == trace_id)).first()
        rows = []
        for a in assessments:
            row = _row(dataclasses.replace(a, trace_id=trace_id))
            aggregate, numeric = numeric_aggregate(a.value)
            row.update(experiment_id=trace.experiment_id if trace else None,
                       trace_timestamp_ms=trace.timestamp_ms if trace else None,
                       aggregate_value=aggregate, is_numeric_value=numeric)
            rows.append({k: v for k, v in row.items() if k in table.c})
        conn.execute(sa.insert(table), rows)
        return ()

    def _assessment_table(self) -> sa.Table:
        table = self.tables.assessments
        if table is None or self.tables.traces is None:
            raise InvalidValue(f"{self.display_uri} has no assessments table (an MLflow schema older than 3.2)")
        return table


def _row(a: Assessment) -> dict:
    """The `assessments` row MLflow's SqlAssessments.from_mlflow_entity would write."""
    error = None
    if a.error is not None:
        error = json.dumps({k: v for k, v in (
            ("error_code", a.error.code), ("error_message", a.error.message),
            ("stack_trace", a.error.stack_trace)) if v})
    return {
        "assessment_id": a.assessment_id, "trace_id": a.trace_id, "name": a.name,
        "assessment_type": a.kind, "value": json.dumps(a.value), "error": error,
        "created_timestamp": a.create_time, "last_updated_timestamp": a.last_update_time,
        "source_type": a.source_type, "source_id": a.source_id, "run_id": a.run_id,
        "span_id": a.span_id, "rationale": a.rationale, "overrides": a.overrides, "valid": a.valid,
        "assessment_metadata": json.dumps(dict(a.metadata)) if a.metadata else None,
    }
