"""Traces over a tracking server's REST API (docs/formats.md §3.6): a mixin for RestStore.

MLflow 3 servers answer the V3 endpoints (`/api/3.0/mlflow/traces/...`); 2.x servers only the
V2 ones (`/api/2.0/mlflow/traces...`) plus `get-trace-artifact` for the spans. Each call tries
V3 first and falls back when the server does not know the route. Filters are parsed locally
first (store.traces_filter) so a syntax error shows before a round trip; the server gets the
canonical spelling of what was parsed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..errors import InvalidValue, NotFound, ServerError, StoreError
from ..model import Page
from ..paging import check_max_results
from ..traces import Trace, TraceInfo
from ..traces.decode import (
    build_trace,
    span_from_otlp,
    spans_from_traces_json,
    trace_info_from_json,
)
from ..traces.filter import (
    format_trace_filter,
    format_trace_order_by,
    parse_trace_filter,
    parse_trace_order_by,
)
from ..traces.validation import validate_trace_tag

if TYPE_CHECKING:
    from .host import RestHost
else:
    RestHost = object  # the host is a type-checking contract only (see host.py)

V3 = "/api/3.0/mlflow"
V2 = "/api/2.0/mlflow"
#: The server refuses trace searches asking for more (SEARCH_TRACES_MAX_RESULTS).
SERVER_MAX_TRACES = 500


class RestTraces(RestHost):
    """Mixin for RestStore (what it uses of the store: host.RestHost)."""

    supports_traces = True

    def search_traces(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        max_results: int = 100,
        page_token: str | None = None,
        order_by: Sequence[str] = (),
    ) -> Page[TraceInfo]:
        comparisons = parse_trace_filter(filter_string)
        order = format_trace_order_by(parse_trace_order_by(order_by))
        check_max_results(max_results)
        ids = [str(e) for e in experiment_ids]
        if not ids:
            return Page(())
        body: dict[str, Any] = {
            "locations": [{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": e}} for e in ids],
            "max_results": min(max_results, SERVER_MAX_TRACES),
        }
        text = format_trace_filter(comparisons) if comparisons else ""
        if text:
            body["filter"] = text
        if order:
            body["order_by"] = order
        if page_token:
            body["page_token"] = page_token
        try:
            data = self._http.post(f"{V3}/traces/search", body)
            infos = data.get("traces") or ()
        except (NotFound, ServerError) as exc:
            if not _missing_route(exc):
                raise
            params: dict[str, Any] = {
                "experiment_ids": ids, "max_results": body["max_results"], "filter": text or None,
                "order_by": order or None, "page_token": page_token,
            }
            data = self._http.get(f"{V2}/traces", params)
            infos = data.get("traces") or ()
        return Page(tuple(trace_info_from_json(i) for i in infos), data.get("next_page_token") or None)

    def get_trace(self, trace_id: str) -> Trace:
        trace_id = str(trace_id)
        try:
            data = self._http.get(f"{V3}/traces/get", {"trace_id": trace_id, "allow_partial": "true"})
        except (NotFound, ServerError) as exc:
            if not _missing_route(exc):
                raise
            return self._trace_from_info_and_artifact(trace_id)
        except InvalidValue:  # some servers answer 400 for an unknown id
            raise NotFound(f"Trace '{trace_id}' not found") from None
        trace = data.get("trace") or {}
        info = trace_info_from_json(trace.get("trace_info") or {})
        return build_trace(info, (span_from_otlp(s) for s in trace.get("spans") or ()))

    def _trace_from_info_and_artifact(self, trace_id: str) -> Trace:
        """Older servers: the info from V3 `traces/<id>` or V2 `traces/<id>/info`, the spans
        from `get-trace-artifact` (the traces.json format)."""
        info = None
        for path, key in ((f"{V3}/traces/{trace_id}", "trace"), (f"{V2}/traces/{trace_id}/info", "trace_info")):
            try:
                data = self._http.get(path)
            except (NotFound, InvalidValue, ServerError) as exc:
                if isinstance(exc, ServerError) and not _missing_route(exc):
                    raise
                continue
            payload = data.get(key) or {}
            info = trace_info_from_json(payload.get("trace_info", payload))
            break
        if info is None or not info.trace_id:
            raise NotFound(f"Trace '{trace_id}' not found")
        with self._http.stream("/ajax-api/2.0/mlflow/get-trace-artifact", {"request_id": trace_id}) as response:
            raw = b"".join(response.iter_bytes())
        return build_trace(info, spans_from_traces_json(raw))

    def delete_traces(self, experiment_id: str, trace_ids: Sequence[str]) -> int:
        self._check_writable()
        ids = [str(t) for t in trace_ids]
        if not ids:
            return 0
        body = {"experiment_id": str(experiment_id), "request_ids": ids}
        try:
            data = self._http.post(f"{V3}/traces/delete-traces", body)
        except (NotFound, ServerError) as exc:
            if not _missing_route(exc):
                raise
            data = self._http.post(f"{V2}/traces/delete-traces", body)
        return int(data.get("traces_deleted") or 0)

    def set_trace_tag(self, trace_id: str, key: str, value: str) -> None:
        self._check_writable()
        validate_trace_tag(key, value)
        self._trace_tag_request("PATCH", trace_id, {"key": key, "value": value})

    def delete_trace_tag(self, trace_id: str, key: str) -> None:
        self._check_writable()
        trace = self._trace_info_only(trace_id)
        if key not in trace.tags:  # the server may delete nothing silently; say so here
            raise NotFound(f"No tag '{key}' on trace '{trace_id}'")
        self._trace_tag_request("DELETE", trace_id, {"key": key})

    def _trace_info_only(self, trace_id: str) -> TraceInfo:
        for path, key in ((f"{V3}/traces/{trace_id}", "trace"), (f"{V2}/traces/{trace_id}/info", "trace_info")):
            try:
                data = self._http.get(path)
            except (NotFound, InvalidValue, ServerError) as exc:
                if isinstance(exc, ServerError) and not _missing_route(exc):
                    raise
                continue
            payload = data.get(key) or {}
            return trace_info_from_json(payload.get("trace_info", payload))
        raise NotFound(f"Trace '{trace_id}' not found")

    def _trace_tag_request(self, method: str, trace_id: str, body: dict) -> None:
        try:
            self._http.request(method, f"{V3}/traces/{trace_id}/tags", json_body=body)
        except (NotFound, InvalidValue, ServerError) as exc:
            # An unknown trace shows as a refused foreign key (400): say NotFound instead.
            self._trace_info_only(trace_id)
            if not _missing_route(exc):
                raise
            self._http.request(method, f"{V2}/traces/{trace_id}/tags", json_body=body)


def _missing_route(exc: StoreError) -> bool:
    """True when the server lacks the endpoint (an older server), not the trace."""
    if isinstance(exc, NotFound):
        return "ENDPOINT_NOT_FOUND" in exc.message or "no such endpoint" in exc.message
    return isinstance(exc, ServerError) and "no such endpoint" in exc.message

