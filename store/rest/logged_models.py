"""Logged models over a tracking server's REST API (docs/logged-models.md): a mixin for RestStore.

`/api/2.0/mlflow/logged-models`: `search` (POST, order_by as objects), `<id>` (GET, DELETE,
PATCH to finalize), `<id>/tags` (PATCH) and `<id>/tags/<key>` (DELETE), `<id>/params`. Filters
are parsed locally first (store.search.logged_models) so a syntax error shows before a round
trip; the server gets the canonical text of what was parsed, except `status` clauses, which
are checked here (servers compare the integer column with the text and match nothing), and
`datasets` without a digest (the server matches nothing for them). The server picks model ids, has
no restore and cannot show deleted models: `can_restore_logged_models` is False and an import
makes a new id, carrying the source id in the tag `tracktui.source_model_id`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .. import validation as v
from ..errors import InvalidValue, NotFound
from ..logged_models import (
    STATUS_TO_REST,
    DatasetFilter,
    LoggedModel,
    LoggedModelImport,
    LoggedModelMetric,
    LoggedModelOrder,
    sorted_metrics,
    status_name,
)
from ..model import Page
from ..paging import check_max_results
from ..search.logged_models import (
    format_logged_model_filter,
    logged_model_matches,
    order_to_json,
    parse_datasets,
    parse_logged_model_filter,
    parse_logged_model_order_by,
)
from .decode import key_values, to_float

if TYPE_CHECKING:
    from .host import RestHost
else:
    RestHost = object  # the host is a type-checking contract only (see host.py)

API = "/api/2.0/mlflow/logged-models"
SOURCE_MODEL_TAG = "tracktui.source_model_id"
#: Points per log-batch request (MLflow's limit is 1000 metrics).
_BATCH = 1000


class RestLoggedModels(RestHost):
    """Mixin for RestStore (what it uses of the store: host.RestHost)."""

    supports_logged_models = True

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        order_by: Sequence[LoggedModelOrder | Mapping[str, Any] | str] | None = None,
        max_results: int = 100,
        page_token: str | None = None,
        datasets: Sequence[DatasetFilter | Mapping[str, Any]] | None = None,
    ) -> Page[LoggedModel]:
        comparisons = parse_logged_model_filter(filter_string)
        orders = parse_logged_model_order_by(order_by)
        wanted = parse_datasets(datasets)
        check_max_results(max_results, limit=None)  # (MLflow sets no page limit for models)
        ids = [str(e) for e in experiment_ids]
        if not ids:
            return Page(())
        # Servers compare `status` (an integer column) with the text and match nothing: those
        # clauses are checked here, so a page may hold fewer than max_results models.
        # MLflow 3.17's server turns a dataset without a digest into `digest = NULL` and matches
        # nothing: such dataset filters, with the metric clauses they narrow, are checked here too.
        local = [c for c in comparisons if c.kind == "attribute" and c.key == "status"]
        local_datasets = any(d.dataset_digest is None for d in wanted)
        if local_datasets:
            local += [c for c in comparisons if c.kind == "metric"]
        sent = [c for c in comparisons if c not in local]
        body: dict[str, Any] = {"experiment_ids": ids, "max_results": max_results}
        if sent:
            body["filter"] = format_logged_model_filter(sent)
        if orders:
            body["order_by"] = [order_to_json(o) for o in orders]
        if wanted and not local_datasets:
            body["datasets"] = [
                {"dataset_name": d.dataset_name, **({"dataset_digest": d.dataset_digest} if d.dataset_digest else {})}
                for d in wanted
            ]
        if page_token:
            body["page_token"] = page_token
        data = self._http.post(f"{API}/search", body)
        models = tuple(m for m in (logged_model_from_json(d) for d in data.get("models") or ())
                       if logged_model_matches(m, local, wanted if local_datasets else ()))
        return Page(models, data.get("next_page_token") or None)

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        try:
            data = self._http.get(f"{API}/{_segment(model_id)}")
        except InvalidValue:  # some servers answer 400 for an id they cannot parse
            raise NotFound(f"Logged model '{model_id}' not found") from None
        return logged_model_from_json(data.get("model") or {})

    def delete_logged_model(self, model_id: str) -> None:
        self._check_writable()
        self.get_logged_model(model_id)  # NotFound before a write
        self._http.request("DELETE", f"{API}/{_segment(model_id)}")

    def set_logged_model_tag(self, model_id: str, key: str, value: str) -> None:
        self._check_writable()
        v.validate_run_tag(key, value)
        self.get_logged_model(model_id)
        self._http.request("PATCH", f"{API}/{_segment(model_id)}/tags",
                           json_body={"tags": [{"key": key, "value": value}]})

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        self._check_writable()
        model = self.get_logged_model(model_id)
        if key not in model.tags:  # say so here rather than trust every server version to
            raise NotFound(f"No tag with key {key!r} found for model with ID {model_id!r}.")
        self._http.request("DELETE", f"{API}/{_segment(model_id)}/tags/{_segment(key)}")

    def import_logged_model(
        self, model: LoggedModel, experiment_id: str, run_ids: Mapping[str, str] | None = None
    ) -> LoggedModelImport:
        self._check_writable()
        run_ids = run_ids or {}
        existing = self._copied_model(experiment_id, model.model_id)
        if existing is not None:
            return LoggedModelImport(existing, False)
        source_run = run_ids.get(model.source_run_id or "", model.source_run_id)
        body: dict[str, Any] = {
            "experiment_id": str(experiment_id), "name": model.name,
            "tags": [{"key": k, "value": val} for k, val in {**model.tags, SOURCE_MODEL_TAG: model.model_id}.items()],
            "params": [{"key": k, "value": val} for k, val in model.params.items()],
        }
        if model.model_type:
            body["model_type"] = model.model_type
        if source_run:
            body["source_run_id"] = source_run
        created = logged_model_from_json((self._http.post(API, body)).get("model") or {})
        notes: list[str] = []
        by_run: dict[str, list[dict]] = {}
        for m in model.metrics:
            rid = run_ids.get(m.run_id or "", m.run_id)
            if not rid:
                continue
            point: dict[str, Any] = {"key": m.key, "value": _json_number(m.value), "timestamp": m.timestamp,
                                     "step": m.step, "model_id": created.model_id}
            if m.dataset_name is not None:
                point["dataset_name"] = m.dataset_name
            if m.dataset_digest is not None:
                point["dataset_digest"] = m.dataset_digest
            by_run.setdefault(rid, []).append(point)
        for rid, points in by_run.items():
            for start in range(0, len(points), _BATCH):
                self._http.post("/api/2.0/mlflow/runs/log-batch", {"run_id": rid, "metrics": points[start:start + _BATCH]})
        if model.status != "PENDING":
            self._http.request("PATCH", f"{API}/{_segment(created.model_id)}", json_body={
                "model_id": created.model_id, "status": STATUS_TO_REST.get(model.status, STATUS_TO_REST["UNSPECIFIED"])})
        if model.lifecycle_stage == "deleted":
            self._http.request("DELETE", f"{API}/{_segment(created.model_id)}")
            notes.append(f"model '{model.name}' was deleted at the source: copied, then deleted")
        return LoggedModelImport(created.model_id, True, tuple(notes))

    def _copied_model(self, experiment_id: str, source_model_id: str) -> str | None:
        """The id of the model an earlier import made from `source_model_id`, if any."""
        page = self.search_logged_models(
            [experiment_id], f"tags.`{SOURCE_MODEL_TAG}` = '{source_model_id}'", max_results=5)
        return page.items[0].model_id if page.items else None


def logged_model_from_json(data: Mapping[str, Any]) -> LoggedModel:
    """A LoggedModel from the API's `{"info": {...}, "data": {...}}`."""
    info = data.get("info") or {}
    body = data.get("data") or {}
    points = [
        LoggedModelMetric(
            key=m.get("key", ""), value=to_float(m.get("value", 0.0)), step=int(m.get("step") or 0),
            timestamp=int(m.get("timestamp") or 0), run_id=m.get("run_id") or None,
            dataset_name=m.get("dataset_name") or None, dataset_digest=m.get("dataset_digest") or None,
        )
        for m in body.get("metrics") or ()
    ]
    return LoggedModel(
        model_id=str(info.get("model_id", "")), experiment_id=str(info.get("experiment_id", "")),
        name=info.get("name", ""), artifact_location=info.get("artifact_uri"),
        creation_timestamp=_int(info.get("creation_timestamp_ms")),
        last_updated_timestamp=_int(info.get("last_updated_timestamp_ms")),
        status=status_name(info.get("status", "LOGGED_MODEL_STATUS_UNSPECIFIED")),
        status_message=info.get("status_message") or None, model_type=info.get("model_type") or None,
        source_run_id=info.get("source_run_id") or None, lifecycle_stage="active",
        params=key_values(body.get("params")), tags=key_values(info.get("tags")),
        metrics=sorted_metrics(points),
    )


def _segment(text: str) -> str:
    return quote(str(text), safe="")


def _int(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)


def _json_number(value: float) -> float | str:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return value
