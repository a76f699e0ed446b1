"""Logged models in MLflow's SQL tables (docs/logged-models.md): a mixin for SqlStore.

`logged_models` holds one row per model (status as an integer, `lifecycle_stage`), with
`logged_model_params`, `logged_model_tags` and `logged_model_metrics` (every point, with the
run that logged it and the dataset name/digest) keyed by `model_id`. A search is one query for
the page (filters as EXISTS subqueries, metric order through a latest-point subquery, as
MLflow's SQL store) plus one query per child table for the page's ids — never one per model.
A schema older than these tables answers with no models (`supports_logged_models` False).
"""

from __future__ import annotations

import fnmatch
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import validation as v
from ..errors import NotFound
from ..logged_models import (
    STATUS_BY_INT,
    STATUS_TO_INT,
    DatasetFilter,
    LoggedModel,
    LoggedModelImport,
    LoggedModelMetric,
    LoggedModelOrder,
    metric_points,
)
from ..model import Page
from ..paging import check_max_results, decode_page_token, encode_page_token
from ..search import Comparison
from ..search.logged_models import (
    full_order,
    metric_key,
    parse_datasets,
    parse_logged_model_filter,
    parse_logged_model_order_by,
)
from .filters import compare

if TYPE_CHECKING:
    from .host import SqlHost
else:
    SqlHost = object  # the host is a type-checking contract only (see host.py)

_COLUMNS = {
    "name": "name", "model_id": "model_id", "model_type": "model_type", "status": "status",
    "source_run_id": "source_run_id", "creation_timestamp": "creation_timestamp_ms",
    "last_updated_timestamp": "last_updated_timestamp_ms",
}
_NUMERIC = ("creation_timestamp", "last_updated_timestamp")


class SqlLoggedModels(SqlHost):
    """Mixin for SqlStore (what it uses of the store: host.SqlHost)."""

    can_restore_logged_models = True

    @property
    def supports_logged_models(self) -> bool:
        t = self.tables
        return None not in (t.logged_models, t.logged_model_params, t.logged_model_tags, t.logged_model_metrics)

    # -- reads ----------------------------------------------------------------------------------

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
        offset = decode_page_token(page_token)
        check_max_results(max_results, limit=None)  # (MLflow sets no page limit for models)
        ids = [int(e) for e in experiment_ids if str(e).lstrip("-").isdigit()]
        if not self.supports_logged_models or not ids:
            return Page(())
        lm = self._lm("logged_models")
        stmt = sa.select(lm).where(
            lm.c.lifecycle_stage != "deleted", lm.c.experiment_id.in_(ids),
            *self._model_clauses(comparisons, wanted),
        )
        stmt, ordering = self._model_order(stmt, orders)
        stmt = stmt.order_by(*ordering).offset(offset).limit(max_results + 1)
        with self._errors(), self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
            more = len(rows) > max_results
            models = self._build_models(conn, rows[:max_results])
        return Page(tuple(models), encode_page_token(offset + max_results) if more else None)

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        if not self.supports_logged_models:
            raise NotFound(f"Logged model '{model_id}' not found ({self.display_uri} has no logged model tables)")
        lm = self._lm("logged_models")
        with self._errors(), self.engine.connect() as conn:
            row = conn.execute(sa.select(lm).where(lm.c.model_id == str(model_id))).first()
            if row is None or (row.lifecycle_stage == "deleted" and not allow_deleted):
                raise NotFound(f"Logged model '{model_id}' not found")
            return self._build_models(conn, [row])[0]

    # -- writes ---------------------------------------------------------------------------------

    def delete_logged_model(self, model_id: str) -> None:
        self._set_model_stage(model_id, "deleted")

    def restore_logged_model(self, model_id: str) -> None:
        self._set_model_stage(model_id, "active")

    def set_logged_model_tag(self, model_id: str, key: str, value: str) -> None:
        self._check_writable()
        v.validate_run_tag(key, value)
        tags = self._lm("logged_model_tags")

        def work(conn: Connection) -> None:
            row = self._require_model(conn, model_id)
            conn.execute(sa.delete(tags).where(tags.c.model_id == row.model_id, tags.c.tag_key == key))
            conn.execute(sa.insert(tags).values(
                model_id=row.model_id, experiment_id=row.experiment_id, tag_key=key, tag_value=value))

        self._transaction(work)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        self._check_writable()
        tags = self._lm("logged_model_tags")

        def work(conn: Connection) -> None:
            row = self._require_model(conn, model_id)
            gone = conn.execute(sa.delete(tags).where(tags.c.model_id == row.model_id, tags.c.tag_key == key))
            if not gone.rowcount:
                raise NotFound(f"No tag with key {key!r} found for model with ID {model_id!r}.")

        self._transaction(work)

    def import_logged_model(
        self, model: LoggedModel, experiment_id: str, run_ids: Mapping[str, str] | None = None
    ) -> LoggedModelImport:
        self._check_writable()
        if not self.supports_logged_models:
            raise self._unsupported("Logged models (this schema predates them)")
        run_ids = run_ids or {}
        eid = int(experiment_id)
        lm = self._lm("logged_models")
        runs = self.tables.runs

        def work(conn: Connection) -> LoggedModelImport:
            if conn.execute(sa.select(lm.c.model_id).where(lm.c.model_id == model.model_id)).first():
                return LoggedModelImport(model.model_id, False)
            exp = self.tables.experiments
            location = conn.execute(sa.select(exp.c.artifact_location).where(exp.c.experiment_id == eid)).scalar()
            if location is None and not conn.execute(sa.select(exp.c.experiment_id).where(exp.c.experiment_id == eid)).first():
                raise NotFound(f"Experiment '{experiment_id}' not found")
            conn.execute(sa.insert(lm).values(
                model_id=model.model_id, experiment_id=eid, name=model.name,
                artifact_location=model_artifact_location(location or "", model.model_id),
                creation_timestamp_ms=model.creation_timestamp, last_updated_timestamp_ms=model.last_updated_timestamp,
                status=STATUS_TO_INT.get(model.status, 0), lifecycle_stage=model.lifecycle_stage,
                model_type=model.model_type, status_message=model.status_message,
                source_run_id=run_ids.get(model.source_run_id or "", model.source_run_id),
            ))
            if model.params:
                conn.execute(sa.insert(self._lm("logged_model_params")), [
                    {"model_id": model.model_id, "experiment_id": eid, "param_key": k, "param_value": val}
                    for k, val in model.params.items()])
            if model.tags:
                conn.execute(sa.insert(self._lm("logged_model_tags")), [
                    {"model_id": model.model_id, "experiment_id": eid, "tag_key": k, "tag_value": val}
                    for k, val in model.tags.items()])
            wanted = {run_ids.get(m.run_id or "", m.run_id) for m in model.metrics}
            known = set(conn.execute(sa.select(runs.c.run_uuid).where(runs.c.run_uuid.in_(
                [r for r in wanted if r]))).scalars()) if wanted else set()
            rows, dropped = [], 0
            for m in model.metrics:
                rid = run_ids.get(m.run_id or "", m.run_id)
                if rid not in known:
                    dropped += 1
                    continue
                rows.append({
                    "model_id": model.model_id, "metric_name": m.key, "metric_timestamp_ms": m.timestamp,
                    "metric_step": m.step, "metric_value": m.value, "experiment_id": eid, "run_id": rid,
                    "dataset_uuid": None, "dataset_name": m.dataset_name, "dataset_digest": m.dataset_digest,
                })
            if rows:
                conn.execute(sa.insert(self._lm("logged_model_metrics")), rows)
            notes = (f"{dropped} metric point(s) of model '{model.name}' skipped: their run is not here",) if dropped else ()
            return LoggedModelImport(model.model_id, True, notes)

        return self._transaction(work)

    # -- helpers --------------------------------------------------------------------------------

    def _lm(self, name: str) -> sa.Table:
        table = getattr(self.tables, name)
        if table is None:
            raise NotFound(f"{self.display_uri} has no {name} table")
        return table

    def _require_model(self, conn: Connection, model_id: str):
        if not self.supports_logged_models:
            raise NotFound(f"Logged model '{model_id}' not found")
        lm = self._lm("logged_models")
        row = conn.execute(sa.select(lm).where(lm.c.model_id == str(model_id))).first()
        if row is None:
            raise NotFound(f"Logged model '{model_id}' not found")
        return row

    def _set_model_stage(self, model_id: str, stage: str) -> None:
        self._check_writable()
        lm = self._lm("logged_models") if self.supports_logged_models else None

        def work(conn: Connection) -> None:
            self._require_model(conn, model_id)
            assert lm is not None
            conn.execute(sa.update(lm).where(lm.c.model_id == str(model_id)).values(
                lifecycle_stage=stage, last_updated_timestamp_ms=int(time.time() * 1000)))

        self._transaction(work)

    def _model_clauses(self, comparisons: Sequence[Comparison], datasets: Sequence[DatasetFilter]) -> list:
        lm = self._lm("logged_models")
        metrics = self._lm("logged_model_metrics")
        on_datasets = [
            sa.and_(metrics.c.dataset_name == d.dataset_name,
                    *([metrics.c.dataset_digest == d.dataset_digest] if d.dataset_digest is not None else []))
            for d in datasets
        ]
        out = []
        for c in comparisons:
            if c.kind == "attribute":
                out.append(self._attribute_clause(lm, c))
            elif c.kind == "metric":
                out.append(sa.exists().where(
                    metrics.c.model_id == lm.c.model_id, metrics.c.metric_name == c.key,
                    compare(metrics.c.metric_value, c.op, c.value, self.dialect, text_column=False),
                    *([sa.or_(*on_datasets)] if on_datasets else []),
                ))
            else:
                table = self._lm("logged_model_params" if c.kind == "param" else "logged_model_tags")
                prefix = "param" if c.kind == "param" else "tag"
                out.append(sa.exists().where(
                    table.c.model_id == lm.c.model_id, table.c[f"{prefix}_key"] == c.key,
                    compare(table.c[f"{prefix}_value"], c.op, c.value, self.dialect),
                ))
        if on_datasets and not any(c.kind == "metric" for c in comparisons):
            out.append(sa.exists().where(metrics.c.model_id == lm.c.model_id, sa.or_(*on_datasets)))
        return out

    def _attribute_clause(self, lm: sa.Table, c: Comparison):
        column = lm.c[_COLUMNS[c.key]]
        if c.key in _NUMERIC:
            return compare(column, c.op, c.value, self.dialect, text_column=False)
        if c.key != "status":
            return compare(column, c.op, c.value, self.dialect)
        # The column holds integers; the filter names statuses: match the names here.
        names = c.value if isinstance(c.value, tuple) else (c.value,)
        if c.op in ("LIKE", "ILIKE"):
            pattern = str(c.value).replace("%", "*").replace("_", "?")
            hits = [n for n in STATUS_TO_INT if (fnmatch.fnmatchcase(n, pattern) if c.op == "LIKE"
                                                 else fnmatch.fnmatchcase(n.lower(), pattern.lower()))]
            return column.in_([STATUS_TO_INT[n] for n in hits])
        codes = [STATUS_TO_INT.get(str(n), -1) for n in names]
        if c.op in ("=", "IN"):
            return column.in_(codes)
        return column.not_in(codes)

    def _model_order(self, stmt, orders: Sequence[LoggedModelOrder]):
        lm = self._lm("logged_models")
        metrics = self._lm("logged_model_metrics")
        clauses: list = []
        for n, order in enumerate(full_order(orders)):
            key = metric_key(order)
            col: sa.ColumnElement[Any]
            if key is None:
                col = lm.c[_COLUMNS[order.field_name]]
            else:
                ranked = sa.select(
                    metrics.c.model_id, metrics.c.metric_value,
                    sa.func.row_number().over(
                        partition_by=metrics.c.model_id,
                        order_by=(metrics.c.metric_timestamp_ms.desc(), metrics.c.metric_step.desc(),
                                  metrics.c.run_id.asc()),
                    ).label("row_num"),
                ).where(
                    metrics.c.metric_name == key,
                    *([metrics.c.dataset_name == order.dataset_name] if order.dataset_name else []),
                    *([metrics.c.dataset_digest == order.dataset_digest] if order.dataset_digest else []),
                ).subquery(f"ranked_{n}")
                latest = sa.select(ranked.c.model_id, ranked.c.metric_value).where(
                    ranked.c.row_num == 1).subquery(f"latest_{n}")
                stmt = stmt.outerjoin(latest, latest.c.model_id == lm.c.model_id)
                col = latest.c.metric_value
            clauses.append(sa.case((col.is_(None), 1), else_=0).asc())
            clauses.append(col.asc() if order.ascending else col.desc())
        return stmt, clauses

    def _child_statements(self) -> tuple[sa.Select, sa.Select, sa.Select]:
        """The params, tags and metrics of the models in `:ids`, built once per store (building
        them per search was a fifth of a first page's time)."""
        cached = self.__dict__.get("_logged_model_child_statements")
        if cached is None:
            p, t, m = self._lm("logged_model_params"), self._lm("logged_model_tags"), self._lm("logged_model_metrics")
            ids: sa.BindParameter[Any] = sa.bindparam("ids", expanding=True)
            cached = (
                sa.select(p.c.model_id, p.c.param_key, p.c.param_value).where(p.c.model_id.in_(ids)),
                sa.select(t.c.model_id, t.c.tag_key, t.c.tag_value).where(t.c.model_id.in_(ids)),
                sa.select(m.c.model_id, m.c.metric_name, m.c.metric_value, m.c.metric_step, m.c.metric_timestamp_ms,
                          m.c.run_id, m.c.dataset_name, m.c.dataset_digest).where(m.c.model_id.in_(ids)),
            )
            self.__dict__["_logged_model_child_statements"] = cached
        return cached

    def _build_models(self, conn: Connection, rows: Sequence[Any]) -> list[LoggedModel]:
        ids = [r.model_id for r in rows]
        if not ids:
            return []
        params: dict[str, dict[str, str]] = defaultdict(dict)
        tags: dict[str, dict[str, str]] = defaultdict(dict)
        of_params, of_tags, of_metrics = self._child_statements()
        for mid, key, value in conn.execute(of_params, {"ids": ids}).all():
            params[mid][key] = value
        for mid, key, value in conn.execute(of_tags, {"ids": ids}).all():
            tags[mid][key] = value
        raw = list(conn.execute(of_metrics, {"ids": ids}).all())
        # One sort in LoggedModel.metrics' order (model first), then one pass per model.
        raw.sort(key=lambda r: (r[0], r[1], r[6] or "", r[7] or "", r[3], r[4], r[5] or ""))
        points: dict[str, tuple[LoggedModelMetric, ...]] = {}
        start = 0
        for end in range(1, len(raw) + 1):
            if end == len(raw) or raw[end][0] != raw[start][0]:
                points[raw[start][0]] = tuple(metric_points(r[1:] for r in raw[start:end]))
                start = end
        return [
            LoggedModel(
                model_id=r.model_id, experiment_id=str(r.experiment_id), name=r.name,
                artifact_location=r.artifact_location,
                creation_timestamp=_int(r.creation_timestamp_ms), last_updated_timestamp=_int(r.last_updated_timestamp_ms),
                status=STATUS_BY_INT.get(r.status, "UNSPECIFIED"), status_message=r.status_message,
                model_type=r.model_type, source_run_id=r.source_run_id, lifecycle_stage=r.lifecycle_stage or "active",
                params=params.get(r.model_id, {}), tags=tags.get(r.model_id, {}),
                metrics=points.get(r.model_id, ()),
            )
            for r in rows
        ]


def model_artifact_location(experiment_location: str, model_id: str) -> str:
    """`<experiment artifact_location>/models/<model_id>/artifacts`, as MLflow builds it."""
    return f"{experiment_location.rstrip('/')}/models/{model_id}/artifacts"



def _int(value: Any) -> int | None:
    return None if value is None else int(value)
