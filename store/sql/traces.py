"""Traces in MLflow's SQL tables (docs/formats.md §1.4): a mixin for SqlStore.

`trace_info` holds one row per trace; since revision 75868b020152 four well-known keys live in
columns instead of `trace_tags`/`trace_request_metadata` (trace name, session, token usage,
cost) and are rebuilt here exactly as MLflow's readers rebuild them. Spans come from the
`spans` table for traces tagged `mlflow.trace.spansLocation=TRACKING_STORE`, otherwise from
`traces.json` under the trace's `mlflow.artifactLocation` (through store.artifacts). A schema
older than the trace tables answers with no traces (`supports_traces` is False).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

import sqlalchemy as sa

from ..batching import chunked
from ..errors import InvalidValue, NotFound, UnsupportedURI
from ..model import Page
from ..paging import check_max_results, decode_page_token, encode_page_token
from ..search import Comparison, OrderKey
from ..traces import (
    COST_METADATA,
    SESSION_METADATA,
    SOURCE_RUN_METADATA,
    SPANS_LOCATION_TAG,
    TOKEN_USAGE_METADATA,
    TRACE_NAME_TAG,
    Trace,
    TraceInfo,
)
from ..traces.artifact_spans import read_traces_json
from ..traces.decode import build_trace, spans_from_contents
from ..traces.filter import (
    DEFAULT_ORDER,
    LINKED_PROMPTS_TAG,
    SPAN_ATTRIBUTE_PREFIX,
    parse_trace_filter,
    parse_trace_order_by,
)
from ..traces.validation import validate_trace_tag
from .filters import compare
from .schema import TraceTables
from .transactions import CHUNK

TOKEN_COLUMNS = (
    "input_tokens", "output_tokens", "total_tokens", "cache_read_input_tokens",
    "cache_creation_input_tokens", "cache_creation_input_tokens_above_1hr",
)
COST_COLUMNS = ("input_cost", "output_cost", "total_cost")
_ATTRIBUTE_COLUMNS = {
    "request_id": "request_id", "client_request_id": "client_request_id", "status": "status",
    "timestamp_ms": "timestamp_ms", "execution_time_ms": "execution_time_ms",
    "experiment_id": "experiment_id",
}
#: trace_info columns that are never NULL (no missing-last term needed when ordering by them).
_NOT_NULL = frozenset(("timestamp_ms", "request_id", "experiment_id", "status"))
#: Tables keyed by a trace id that must go with the trace (FK cascades are off on SQLite).
_CHILD_TABLES = (
    ("span_metrics", "trace_id"), ("spans", "trace_id"), ("trace_metrics", "request_id"),
    ("assessments", "trace_id"), ("trace_tags", "request_id"),
    ("trace_request_metadata", "request_id"),
)

if TYPE_CHECKING:
    from .host import SqlHost
else:
    SqlHost = object  # the host is a type-checking contract only (see host.py)


class SqlTraces(SqlHost):
    """Mixin for SqlStore (what it uses of the store: host.SqlHost)."""

    @property
    def supports_traces(self) -> bool:
        return self.tables.traces is not None

    def _traces(self) -> TraceTables:
        """The trace tables, for code reached only once `supports_traces` was checked."""
        traces = self.tables.traces
        if traces is None:
            raise NotFound(f"{self.display_uri} has no trace tables")
        return traces

    # -- reads ----------------------------------------------------------------------------------

    def search_traces(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        max_results: int = 100,
        page_token: str | None = None,
        order_by: Sequence[str] = (),
    ) -> Page[TraceInfo]:
        comparisons = parse_trace_filter(filter_string)
        order_keys = parse_trace_order_by(order_by)
        offset = decode_page_token(page_token)
        check_max_results(max_results)
        if not self.supports_traces:
            return Page(())
        ids = [int(e) for e in experiment_ids if str(e).lstrip("-").isdigit()]
        if not ids:
            return Page(())
        ti = self._traces().trace_info
        stmt = (
            sa.select(ti)
            .where(ti.c.experiment_id.in_(ids), *self._trace_clauses(comparisons, filter_string or ""))
            .order_by(*self._trace_order(order_keys))
            .offset(offset)
            .limit(max_results)
        )
        with self._errors(), self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
            infos = self._trace_infos(conn, rows)
        # As MLflow's SQL store: a full page always has a next token (the next page may be empty).
        full = len(rows) == max_results
        return Page(tuple(infos), encode_page_token(offset + max_results) if full else None)

    def get_trace(self, trace_id: str) -> Trace:
        if not self.supports_traces:
            raise NotFound(f"Trace '{trace_id}' not found ({self.display_uri} has no trace tables)")
        traces = self._traces()
        ti = traces.trace_info
        with self._errors(), self.engine.connect() as conn:
            row = conn.execute(sa.select(ti).where(ti.c.request_id == str(trace_id))).first()
            if row is None:
                raise NotFound(f"Trace '{trace_id}' not found")
            info = self._trace_infos(conn, [row])[0]
            location = info.tags.get(SPANS_LOCATION_TAG)
            sp = traces.spans
            if location == "TRACKING_STORE" and sp is not None:
                contents = conn.execute(
                    sa.select(sp.c.content).where(sp.c.trace_id == info.trace_id)
                ).scalars().all()
                spans = spans_from_contents(contents)
                return build_trace(info, spans)
        if location == "ARCHIVE_REPO":
            raise UnsupportedURI(
                f"The spans of trace '{trace_id}' were archived to "
                f"{info.tags.get('mlflow.trace.archiveLocation', 'an archive')}; tracktui cannot read "
                "archived traces yet (open the store through its tracking server instead)"
            )
        return build_trace(info, read_traces_json(info))

    def _trace_infos(self, conn, rows) -> list[TraceInfo]:
        if not rows:
            return []
        t = self._traces()
        ids = [r.request_id for r in rows]
        tags = _key_values(conn, t.trace_tags, ids)
        metadata = _key_values(conn, t.trace_request_metadata, ids)
        assessments = self._assessments_by_trace(conn, ids)
        out = []
        for r in rows:
            m = r._mapping
            tg = tags.get(r.request_id, {})
            md = metadata.get(r.request_id, {})
            if m.get("trace_name") is not None:
                tg[TRACE_NAME_TAG] = m["trace_name"]
            if m.get("session_id") is not None:
                md[SESSION_METADATA] = m["session_id"]
            tokens = {c: m[c] for c in TOKEN_COLUMNS if m.get(c) is not None}
            if tokens:
                md[TOKEN_USAGE_METADATA] = json.dumps(tokens)
            costs = {c: m[c] for c in COST_COLUMNS if m.get(c) is not None}
            if costs:
                md[COST_METADATA] = json.dumps(costs)
            out.append(TraceInfo(
                trace_id=r.request_id,
                experiment_id=str(r.experiment_id),
                request_time=int(r.timestamp_ms or 0),
                execution_duration=m.get("execution_time_ms"),
                state=str(r.status),
                request_preview=m.get("request_preview"),
                response_preview=m.get("response_preview"),
                client_request_id=m.get("client_request_id"),
                tags=tg,
                metadata=md,
                assessments=assessments.get(r.request_id, ()),
            ))
        return out

    # -- filters and order ----------------------------------------------------------------------

    def _trace_clauses(self, comparisons: Sequence[Comparison], text: str) -> list:
        traces = self._traces()
        ti = traces.trace_info
        out = []
        span_clauses = [c for c in comparisons if c.kind == "span"]
        if span_clauses:
            out.append(self._span_exists(span_clauses))
        for c in comparisons:
            if c.kind == "span":
                continue
            if c.kind in ("feedback", "expectation"):
                out.append(self._assessment_clause(c, ti.c.request_id))
                continue
            if c.kind == "attribute":
                if c.key == "end_time_ms":
                    column = ti.c.timestamp_ms + ti.c.execution_time_ms
                else:
                    column = ti.c[_ATTRIBUTE_COLUMNS[c.key]]
                numeric = c.key in ("timestamp_ms", "execution_time_ms", "end_time_ms")
                out.append(compare(column, c.op, c.value, self.dialect, text_column=not numeric))
                continue
            if c.kind == "metadata" and c.key == SOURCE_RUN_METADATA and c.op == "=":
                out.append(self._run_clause(c))
                continue
            if c.kind == "tag" and c.key == LINKED_PROMPTS_TAG:
                out.append(self._prompt_clause(c))
                continue
            column = self._promoted_column(c.kind, c.key)
            if column is not None:
                out.append(self._column_clause(column, c))
                continue
            if c.kind == "metadata" and c.key in (TOKEN_USAGE_METADATA, COST_METADATA) and self._promoted():
                cols = TOKEN_COLUMNS if c.key == TOKEN_USAGE_METADATA else COST_COLUMNS
                present = sa.or_(*(ti.c[n].is_not(None) for n in cols if n in ti.c))
                if c.op not in ("IS NULL", "IS NOT NULL"):
                    raise InvalidValue(
                        f"tracktui compares metadata.`{c.key}` only with IS NULL / IS NOT NULL "
                        "on SQL stores"
                    )
                out.append(present if c.op == "IS NOT NULL" else ~present)
                continue
            table = traces.trace_tags if c.kind == "tag" else traces.trace_request_metadata
            out.append(_kv_exists(table, ti.c.request_id, c, self.dialect))
        return out

    def _run_clause(self, c: Comparison):
        """`run_id = X`: the trace's `mlflow.sourceRun` metadata is X, or the trace is linked to
        run X in `entity_associations` (mlflow.link_traces_to_run), as MLflow's SQL store."""
        traces = self._traces()
        ti = traces.trace_info
        by_metadata = _kv_exists(traces.trace_request_metadata, ti.c.request_id, c, self.dialect)
        links = self._entity_associations()
        if links is None:
            return by_metadata
        linked = sa.exists().where(
            links.c.source_id == ti.c.request_id, links.c.source_type == "trace",
            links.c.destination_type == "run", links.c.destination_id == c.value,
        )
        return sa.or_(by_metadata, linked)

    def _prompt_clause(self, c: Comparison):
        """`prompt = 'name/version'`: the trace is linked to that prompt version in
        `entity_associations`, as MLflow's SQL store answers it (only `=` is allowed)."""
        if c.op != "=":
            raise InvalidValue("A prompt filter allows only = with 'name/version'")
        links = self._entity_associations()
        if links is None:
            return sa.false()
        ti = self._traces().trace_info
        return sa.exists().where(
            links.c.source_id == ti.c.request_id, links.c.source_type == "trace",
            links.c.destination_type == "prompt_version", links.c.destination_id == c.value,
        )

    def _entity_associations(self):
        """The `entity_associations` table (mlflow 3.0+), or None; looked up once."""
        cached = self.__dict__.get("_entity_associations_table", False)
        if cached is False:
            with self._errors():
                present = sa.inspect(self.engine).has_table("entity_associations")
            cached = sa.table("entity_associations", *(sa.column(n) for n in (
                "source_id", "source_type", "destination_id", "destination_type"))) if present else None
            self.__dict__["_entity_associations_table"] = cached
        return cached

    def _span_exists(self, clauses: Sequence[Comparison]):
        """One span satisfying every span clause (a single EXISTS, as MLflow's SQL store)."""
        traces = self._traces()
        sp = traces.spans
        if sp is None:  # spans only in traces.json: MLflow's SQL search finds none either
            return sa.false()
        columns = {"name": sp.c.name, "type": sp.c.type, "status": sp.c.status, "content": sp.c.content}
        wheres = []
        for c in clauses:
            if c.key.startswith(SPAN_ATTRIBUTE_PREFIX):
                pattern = span_attribute_pattern(c.key[len(SPAN_ATTRIBUTE_PREFIX):], c.op, c.value)
                wheres.append(compare(sp.c.content, c.op, pattern, self.dialect))
            else:
                wheres.append(compare(columns[c.key], c.op, c.value, self.dialect))
        return sa.exists().where(sp.c.trace_id == traces.trace_info.c.request_id, *wheres)

    def _promoted(self) -> bool:
        return "trace_name" in self._traces().trace_info.c

    def _promoted_column(self, kind: str, key: str):
        ti = self._traces().trace_info
        if kind == "tag" and key == TRACE_NAME_TAG and "trace_name" in ti.c:
            return ti.c.trace_name
        if kind == "metadata" and key == SESSION_METADATA and "session_id" in ti.c:
            return ti.c.session_id
        return None

    def _column_clause(self, column, c: Comparison):
        if c.op == "IS NULL":
            return column.is_(None)
        if c.op == "IS NOT NULL":
            return column.is_not(None)
        return compare(column, c.op, c.value, self.dialect)

    def _trace_order(self, order_keys: Sequence[OrderKey]) -> list:
        traces = self._traces()
        ti = traces.trace_info
        out: list[sa.ColumnElement] = []
        seen = set()
        for k in (*order_keys, *DEFAULT_ORDER):
            if (k.kind, k.key) in seen:
                continue
            seen.add((k.kind, k.key))
            if k.kind == "attribute":
                column = (ti.c.timestamp_ms + ti.c.execution_time_ms if k.key == "end_time_ms"
                          else ti.c[_ATTRIBUTE_COLUMNS[k.key]])
            else:
                column = self._promoted_column(k.kind, k.key)
                if column is None:
                    table = traces.trace_tags if k.kind == "tag" else traces.trace_request_metadata
                    column = (
                        sa.select(table.c.value)
                        .where(table.c.request_id == ti.c.request_id, table.c.key == k.key)
                        .scalar_subquery()
                    )
            if not (k.kind == "attribute" and k.key in _NOT_NULL):  # keep index-friendly orders plain
                out.append(sa.case((column.is_(None), 1), else_=0))  # missing values last
            out.append(column.asc() if k.ascending else column.desc())
        return out

    # -- writes ---------------------------------------------------------------------------------

    def delete_traces(self, experiment_id: str, trace_ids: Sequence[str]) -> int:
        self._check_writable()
        if not self.supports_traces:
            return 0
        ids = [str(t) for t in trace_ids]
        try:
            eid = int(experiment_id)
        except (TypeError, ValueError):
            raise NotFound(f"Experiment '{experiment_id}' not found") from None
        ti = self._traces().trace_info

        def work(conn) -> int:
            present = set(conn.execute(sa.select(ti.c.request_id).where(
                ti.c.experiment_id == eid, ti.c.request_id.in_(ids))).scalars())
            if not present:
                return 0
            existing = set(sa.inspect(conn).get_table_names())
            chosen = sorted(present)
            for name, column in _CHILD_TABLES:
                if name in existing:
                    table = sa.table(name, sa.column(column))
                    conn.execute(sa.delete(table).where(table.c[column].in_(chosen)))
            conn.execute(sa.delete(ti).where(ti.c.request_id.in_(chosen)))
            return len(chosen)

        return self._transaction(work)

    def set_trace_tag(self, trace_id: str, key: str, value: str) -> None:
        self._check_writable()
        validate_trace_tag(key, value)

        def work(conn) -> None:
            self._require_trace(conn, trace_id)
            ti, tt = self._traces().trace_info, self._traces().trace_tags
            if key == TRACE_NAME_TAG and self._promoted():
                conn.execute(sa.update(ti).where(ti.c.request_id == trace_id).values(trace_name=value))
                return
            conn.execute(sa.delete(tt).where(tt.c.request_id == trace_id, tt.c.key == key))
            conn.execute(sa.insert(tt).values(request_id=trace_id, key=key, value=value))

        self._transaction(work)

    def delete_trace_tag(self, trace_id: str, key: str) -> None:
        self._check_writable()

        def work(conn) -> None:
            row = self._require_trace(conn, trace_id)
            ti, tt = self._traces().trace_info, self._traces().trace_tags
            if key == TRACE_NAME_TAG and self._promoted():
                if row._mapping.get("trace_name") is None:
                    raise NotFound(f"No tag '{key}' on trace '{trace_id}'")
                conn.execute(sa.update(ti).where(ti.c.request_id == trace_id).values(trace_name=None))
                return
            deleted = conn.execute(sa.delete(tt).where(tt.c.request_id == trace_id, tt.c.key == key))
            if deleted.rowcount == 0:
                raise NotFound(f"No tag '{key}' on trace '{trace_id}'")

        self._transaction(work)

    def _require_trace(self, conn, trace_id: str):
        if not self.supports_traces:
            raise NotFound(f"Trace '{trace_id}' not found ({self.display_uri} has no trace tables)")
        ti = self._traces().trace_info
        row = conn.execute(sa.select(ti).where(ti.c.request_id == str(trace_id))).first()
        if row is None:
            raise NotFound(f"Trace '{trace_id}' not found")
        return row


def _key_values(conn, table, ids: list[str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for chunk in chunked(ids, CHUNK):
        rows = conn.execute(
            sa.select(table.c.request_id, table.c.key, table.c.value).where(table.c.request_id.in_(chunk))
        )
        for rid, key, value in rows:
            out.setdefault(rid, {})[key] = value if value is not None else ""
    return out


def _kv_exists(table, request_id, c: Comparison, dialect: str):
    owner = table.c.request_id == request_id
    key_match = table.c.key == c.key
    if c.op in ("IS NULL", "IS NOT NULL"):
        exists = sa.exists().where(owner, key_match)
        return ~exists if c.op == "IS NULL" else exists
    return sa.exists().where(owner, key_match, compare(table.c.value, c.op, c.value, dialect))


def span_attribute_pattern(name: str, op: str, value):
    """What `span.attributes.<name> op value` compares the span's JSON `content` with, exactly
    as MLflow's SQL store builds it (it keeps no attribute columns): RLIKE looks for
    `"<name>": "\"<value>` (anchors `^`/`$` moved inside the JSON string); every other operator
    compares content with `%"<name>"<value>%`, so LIKE '%gpt%' finds a span whose content has
    the attribute name followed somewhere by gpt."""
    if isinstance(value, tuple):
        return tuple(span_attribute_pattern(name, op, v) for v in value)
    if op != "RLIKE":
        return f'%"{name}"{value}%'
    body, prefix, suffix = value, '"\\\\".*', ""
    if body.startswith("^"):
        body, prefix = body[1:], '"\\\\"'
    if body.endswith("$"):
        body, suffix = body[:-1], '\\\\"'
    return f'"{name}": {prefix}{body}{suffix}'
