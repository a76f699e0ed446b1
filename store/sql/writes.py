"""Write operations of the SQL backend, as a mixin on SqlStore (see store/sql.py).

Every write is one short transaction that either happens completely or not at all, written
exactly as mlflow 3.17's SqlAlchemyStore writes it (same columns, same tags, same lifecycle
rules), so real mlflow reads it back as its own. `alembic_version` is never touched.
Every public write checks `_check_writable()` first, then validates (store.validation), then
opens its transaction (store.sql_transactions); purging lives in store.sql_purge.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import urlsplit

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.engine import Connection

from .. import validation as v
from ..base import not_found_experiment, not_found_run
from ..batching import chunked
from ..errors import InvalidValue, NotFound
from ..model import PARENT_RUN_TAG, RUN_NAME_TAG, RUN_STATUSES, MetricPoint, Run
from ..new_run import prepare_new_run
from .purge import SqlPurge
from .transactions import CHUNK

_MAX_DOUBLE = 1.7976931348623157e308
_ASSESSMENT_SOURCE_RUN = '"mlflow.assessment.sourceRunId": "{}"'


class SqlWrites(SqlPurge):
    """Writes on MLflow's tables, exactly as mlflow would write them."""

    # -- experiments -------------------------------------------------------------------------

    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: Mapping[str, str] | None = None
    ) -> str:
        self._check_writable()
        v.validate_experiment_name(name)
        if artifact_location is not None:
            v.validate_artifact_location(artifact_location)
            artifact_location = _absolute_if_local(artifact_location)
        tags = dict(tags or {})
        for key, value in tags.items():
            v.validate_experiment_tag(key, value)
        exp = self.tables.experiments

        def work(conn: Connection) -> str:
            self._refuse_taken_experiment_name(conn, name)
            now = _now_ms()
            row = {
                "name": name,
                "artifact_location": artifact_location,
                "lifecycle_stage": "active",
                "creation_time": now,
                "last_update_time": now,
            }
            row["workspace"] = "default"
            result = conn.execute(insert(exp).values(**_cols(exp, **row)))
            key = result.inserted_primary_key
            experiment_id = key[0] if key is not None else None
            if experiment_id is None:  # drivers without lastrowid support
                experiment_id = conn.execute(select(exp.c.experiment_id).where(exp.c.name == name)).scalar_one()
            if artifact_location is None:
                location = _append_path(self._default_artifact_root(conn), str(experiment_id))
                conn.execute(
                    update(exp).where(exp.c.experiment_id == experiment_id).values(artifact_location=location)
                )
            if tags:
                conn.execute(
                    insert(self.tables.experiment_tags),
                    [{"experiment_id": experiment_id, "key": k, "value": val} for k, val in tags.items()],
                )
            return str(experiment_id)

        return self._transaction(work)

    def delete_experiment(self, experiment_id: str) -> list[str]:
        self._check_writable()
        eid = _experiment_int(experiment_id)

        def work(conn: Connection) -> list[str]:
            self._experiment_stage(conn, eid, require="active")
            now = _now_ms()
            exp, runs = self.tables.experiments, self.tables.runs
            conn.execute(
                update(exp).where(exp.c.experiment_id == eid).values(**_cols(exp, lifecycle_stage="deleted", last_update_time=now))
            )
            # Active runs only: one deleted before keeps its deletion time (mlflow's SQL store
            # rewrites it; its file store does not), so an undo can bring back exactly these.
            run_ids = list(conn.execute(
                select(runs.c.run_uuid).where(runs.c.experiment_id == eid, runs.c.lifecycle_stage == "active")
            ).scalars().all())
            self._mark_runs_deleted(conn, run_ids, now)
            return run_ids

        return self._transaction(work)

    def restore_experiment(self, experiment_id: str, run_ids: Sequence[str] | None = None) -> None:
        self._check_writable()
        eid = _experiment_int(experiment_id)
        only = None if run_ids is None else _unique(list(run_ids))

        def work(conn: Connection) -> None:
            self._experiment_stage(conn, eid, require="deleted")
            exp, runs = self.tables.experiments, self.tables.runs
            conn.execute(
                update(exp)
                .where(exp.c.experiment_id == eid)
                .values(**_cols(exp, lifecycle_stage="active", last_update_time=_now_ms()))
            )
            if only is None:  # as mlflow: every run comes back, even those deleted on their own before
                conn.execute(
                    update(runs).where(runs.c.experiment_id == eid).values(**self._stage_values("active", None))
                )
                return
            for chunk in chunked(only, CHUNK):
                conn.execute(
                    update(runs)
                    .where(runs.c.experiment_id == eid, runs.c.run_uuid.in_(chunk))
                    .values(**self._stage_values("active", None))
                )

        self._transaction(work)

    def rename_experiment(self, experiment_id: str, name: str) -> None:
        self._check_writable()
        eid = _experiment_int(experiment_id)
        v.validate_experiment_name(name)

        def work(conn: Connection) -> None:
            self._experiment_stage(conn, eid, require="active", action="rename")
            self._refuse_taken_experiment_name(conn, name, except_id=eid)
            exp = self.tables.experiments
            conn.execute(
                update(exp).where(exp.c.experiment_id == eid).values(**_cols(exp, name=name, last_update_time=_now_ms()))
            )

        self._transaction(work)

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        self._check_writable()
        eid = _experiment_int(experiment_id)
        v.validate_experiment_tag(key, value)
        tags = self.tables.experiment_tags

        def work(conn: Connection) -> None:
            self._experiment_stage(conn, eid, require="active", action="tag")
            where = and_(tags.c.experiment_id == eid, tags.c.key == key)
            if conn.execute(update(tags).where(where).values(value=value)).rowcount == 0:
                conn.execute(insert(tags).values(experiment_id=eid, key=key, value=value))

        self._transaction(work)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self._check_writable()
        eid = _experiment_int(experiment_id)
        tags = self.tables.experiment_tags

        def work(conn: Connection) -> None:
            self._experiment_stage(conn, eid, require="active", action="change the tags of")
            where = and_(tags.c.experiment_id == eid, tags.c.key == key)
            if conn.execute(delete(tags).where(where)).rowcount == 0:
                raise NotFound(f"Experiment '{experiment_id}' has no tag {key!r}")

        self._transaction(work)

    def set_experiment_times(
        self, experiment_id: str, *, creation_time: int | None = None, last_update_time: int | None = None
    ) -> None:
        self._check_writable()
        eid = _experiment_int(experiment_id)
        values = {k: _epoch_ms(k, t) for k, t in (("creation_time", creation_time), ("last_update_time", last_update_time)) if t is not None}
        exp = self.tables.experiments

        def work(conn: Connection) -> None:
            self._experiment_stage(conn, eid)
            if values:
                conn.execute(update(exp).where(exp.c.experiment_id == eid).values(**_cols(exp, **values)))

        self._transaction(work)

    # -- runs --------------------------------------------------------------------------------

    def create_run(
        self,
        experiment_id: str,
        *,
        name: str | None = None,
        start_time: int | None = None,
        user_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        parent_run_id: str | None = None,
        run_id: str | None = None,
    ) -> Run:
        self._check_writable()
        eid = _experiment_int(experiment_id)
        new = prepare_new_run(name, start_time, user_id, tags, parent_run_id)
        name, start_time, user_id, tags = new.name, new.start_time, new.user_id, new.tags
        if run_id is not None:
            v.validate_run_id(run_id)
            if len(run_id) > 32:
                raise InvalidValue(f"Run id {run_id!r} is longer than the 32 characters SQL stores hold")
        run_id = run_id or uuid.uuid4().hex
        runs = self.tables.runs

        def work(conn: Connection) -> Run:
            stage, location = self._experiment_stage(conn, eid)
            if stage != "active":
                raise InvalidValue(f"Experiment '{experiment_id}' is deleted; restore it before adding runs")
            if conn.execute(select(runs.c.run_uuid).where(runs.c.run_uuid == run_id)).first():
                raise InvalidValue(f"A run with id '{run_id}' already exists")
            artifact_uri = _append_path(location or "", f"{run_id}/artifacts")
            conn.execute(
                insert(runs).values(**_cols(
                    runs,
                    run_uuid=run_id,
                    name=name,
                    source_type="UNKNOWN",
                    source_name="",
                    entry_point_name="",
                    user_id=user_id,
                    status="RUNNING",
                    start_time=start_time,
                    end_time=None,
                    source_version="",
                    lifecycle_stage="active",
                    artifact_uri=artifact_uri,
                    experiment_id=eid,
                    deleted_time=None,
                ))
            )
            conn.execute(
                insert(self.tables.tags),
                [{"run_uuid": run_id, "key": k, "value": val} for k, val in tags.items()],
            )
            return Run(
                id=run_id,
                name=name,
                experiment_id=str(eid),
                status="RUNNING",
                user_id=user_id,
                start_time=start_time,
                end_time=None,
                lifecycle_stage="active",
                artifact_uri=artifact_uri,
                parent_run_id=tags.get(PARENT_RUN_TAG),
                tags=dict(tags),
            )

        return self._transaction(work)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[tuple[str, MetricPoint]] = (),
        params: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        self._check_writable()
        v.validate_run_id(run_id)
        params, tags = v.validate_batch(metrics, params, tags)
        rows = _metric_rows(run_id, metrics)

        def work(conn: Connection) -> None:
            self._require_active_runs(conn, [run_id], "log to")
            self._insert_params(conn, run_id, params)
            self._insert_metrics(conn, rows)
            self._update_latest_metrics(conn, run_id, rows)
            self._upsert_run_tags(conn, [run_id], tags)

        self._transaction(work)

    def update_run(self, run_id: str, *, status: str | None = None, end_time: int | None = None) -> None:
        self._check_writable()
        v.validate_run_id(run_id)
        if status is not None and status not in RUN_STATUSES:
            raise InvalidValue(f"Unknown run status {status!r}; expected one of {', '.join(RUN_STATUSES)}")
        if end_time is not None and (isinstance(end_time, bool) or not isinstance(end_time, int) or end_time < 0):
            raise InvalidValue(f"end_time must be a non-negative integer (epoch ms), got {end_time!r}")
        values = {k: val for k, val in (("status", status), ("end_time", end_time)) if val is not None}
        runs = self.tables.runs

        def work(conn: Connection) -> None:
            self._require_active_runs(conn, [run_id], "update")
            if values:
                conn.execute(update(runs).where(runs.c.run_uuid == run_id).values(**values))

        self._transaction(work)

    def delete_runs(self, run_ids: Sequence[str]) -> None:
        self._check_writable()
        run_ids = _unique(v.validate_run_ids(run_ids))

        def work(conn: Connection) -> None:
            self._existing_runs(conn, run_ids)
            self._mark_runs_deleted(conn, run_ids, _now_ms())

        self._transaction(work)

    def restore_runs(self, run_ids: Sequence[str]) -> None:
        self._check_writable()
        run_ids = _unique(v.validate_run_ids(run_ids))
        runs = self.tables.runs

        def work(conn: Connection) -> None:
            self._existing_runs(conn, run_ids)
            for chunk in chunked(run_ids, CHUNK):
                conn.execute(
                    update(runs).where(runs.c.run_uuid.in_(chunk)).values(**self._stage_values("active", None))
                )

        self._transaction(work)

    def set_tags(self, run_ids: Sequence[str], tags: Mapping[str, str]) -> None:
        self._check_writable()
        run_ids = _unique(v.validate_run_ids(run_ids))
        tags = dict(tags)
        v.validate_run_tags(tags)
        if RUN_NAME_TAG in tags:
            v.validate_run_name(tags[RUN_NAME_TAG])

        def work(conn: Connection) -> None:
            self._require_active_runs(conn, run_ids, "tag")
            self._upsert_run_tags(conn, run_ids, tags)

        self._transaction(work)

    def delete_tag(self, run_id: str, key: str) -> None:
        self._check_writable()
        v.validate_run_id(run_id)
        tags = self.tables.tags

        def work(conn: Connection) -> None:
            self._require_active_runs(conn, [run_id], "change the tags of")
            where = and_(tags.c.run_uuid == run_id, tags.c.key == key)
            if conn.execute(delete(tags).where(where)).rowcount == 0:
                raise NotFound(f"Run '{run_id}' has no tag {key!r}")

        self._transaction(work)

    def rename_run(self, run_id: str, name: str) -> None:
        self._check_writable()
        v.validate_run_id(run_id)
        v.validate_run_name(name)

        def work(conn: Connection) -> None:
            self._require_active_runs(conn, [run_id], "rename")
            self._upsert_run_tags(conn, [run_id], {RUN_NAME_TAG: name})

        self._transaction(work)

    # -- helpers inside a transaction --------------------------------------------------------

    def _experiment_stage(
        self, conn: Connection, eid: int, require: str | None = None, action: str = ""
    ) -> tuple[str, str | None]:
        exp = self.tables.experiments
        row = conn.execute(
            select(exp.c.lifecycle_stage, exp.c.artifact_location).where(exp.c.experiment_id == eid)
        ).first()
        if row is None:
            raise not_found_experiment(str(eid))
        if require is not None and row.lifecycle_stage != require:
            if require == "deleted":
                raise InvalidValue(f"Experiment '{eid}' is not deleted; there is nothing to restore")
            if action:
                raise InvalidValue(f"Experiment '{eid}' is deleted; restore it before you {action} it")
            raise InvalidValue(f"Experiment '{eid}' is already deleted")
        return row.lifecycle_stage, row.artifact_location

    def _refuse_taken_experiment_name(self, conn: Connection, name: str, except_id: int | None = None) -> None:
        exp = self.tables.experiments
        query = select(exp.c.experiment_id, exp.c.lifecycle_stage).where(exp.c.name == name)
        if "workspace" in exp.c:
            query = query.where(exp.c.workspace == "default")
        row = conn.execute(query).first()
        if row is not None and row.experiment_id != except_id:
            hint = " (it is deleted: restore it, or purge it with `mlflow gc`)" if row.lifecycle_stage == "deleted" else ""
            raise InvalidValue(f"An experiment named {name!r} already exists, id {row.experiment_id}{hint}")

    def _default_artifact_root(self, conn: Connection) -> str:
        """Where a new experiment's artifacts go when the caller does not say.

        mlflow uses the root its process was configured with. We take `default_artifact_root`
        when the store has one, else the root the Default experiment was created under (so a
        server-fronted DB keeps `mlflow-artifacts:/<id>` and a local one its `mlruns`), else
        `./mlruns` made absolute — mlflow's own client-side default.
        """
        configured = getattr(self, "default_artifact_root", None)
        if configured:
            return _absolute_if_local(configured)
        exp = self.tables.experiments
        location = conn.execute(select(exp.c.artifact_location).where(exp.c.experiment_id == 0)).scalar()
        if location:
            trimmed = location.rstrip("/")
            if trimmed.endswith("/0"):
                return trimmed[:-2] or "/"
        return os.path.abspath("mlruns")

    def _existing_runs(self, conn: Connection, run_ids: list[str]) -> dict[str, str]:
        """run id → lifecycle stage; NotFound when any is missing (then nothing is written)."""
        runs = self.tables.runs
        found: dict[str, str] = {}
        for chunk in chunked(run_ids, CHUNK):
            rows = conn.execute(select(runs.c.run_uuid, runs.c.lifecycle_stage).where(runs.c.run_uuid.in_(chunk)))
            found.update((row.run_uuid, row.lifecycle_stage) for row in rows)
        missing = [run_id for run_id in run_ids if run_id not in found]
        if missing:
            raise not_found_run(missing[0]) if len(missing) == 1 else NotFound(
                f"{len(missing)} runs not found: {', '.join(missing[:5])}{'…' if len(missing) > 5 else ''}"
            )
        return found

    def _require_active_runs(self, conn: Connection, run_ids: list[str], action: str) -> None:
        deleted = [run_id for run_id, stage in self._existing_runs(conn, run_ids).items() if stage != "active"]
        if deleted:
            raise InvalidValue(
                f"Run '{deleted[0]}' is deleted; restore it before you {action} it"
                if len(deleted) == 1
                else f"{len(deleted)} of the runs are deleted; restore them before you {action} them"
            )

    def _stage_values(self, stage: str, deleted_time: int | None) -> dict:
        """A run's lifecycle columns; `deleted_time` only where the schema has it (mlflow ≥ 1.29)."""
        return _cols(self.tables.runs, lifecycle_stage=stage, deleted_time=deleted_time)

    def _mark_runs_deleted(self, conn: Connection, run_ids: Iterable[str], now: int) -> None:
        runs = self.tables.runs
        assessments = getattr(self.tables, "assessments", None)
        for chunk in chunked(list(run_ids), CHUNK):
            conn.execute(
                update(runs).where(runs.c.run_uuid.in_(chunk)).values(**self._stage_values("deleted", now))
            )
            if assessments is not None and "assessment_metadata" in assessments.c:
                # mlflow drops the assessments a run produced when the run is deleted.
                conn.execute(
                    delete(assessments).where(
                        or_(*(assessments.c.assessment_metadata.contains(_ASSESSMENT_SOURCE_RUN.format(r)) for r in chunk))
                    )
                )

    def _insert_params(self, conn: Connection, run_id: str, params: Mapping[str, str]) -> None:
        if not params:
            return
        table = self.tables.params
        existing = dict(
            conn.execute(
                select(table.c.key, table.c.value).where(table.c.run_uuid == run_id, table.c.key.in_(list(params)))
            ).all()
        )
        changed = {k: (existing[k], val) for k, val in params.items() if k in existing and existing[k] != val}
        if changed:
            detail = "; ".join(f"{k!r} is {old!r}, not {new!r}" for k, (old, new) in changed.items())
            raise InvalidValue(f"Params cannot be changed once logged (run '{run_id}'): {detail}")
        new = [{"run_uuid": run_id, "key": k, "value": val} for k, val in params.items() if k not in existing]
        if new:
            conn.execute(insert(table), new)

    def _insert_metrics(self, conn: Connection, rows: list[dict]) -> None:
        """Insert metric points; a point identical to a stored one is skipped, as in mlflow."""
        if not rows:
            return
        table = self.tables.metrics
        dialect = conn.dialect.name
        # each dialect's insert is imported where used: loading the PostgreSQL and MySQL dialects
        # cost ~100 ms of a SQLite user's start-up (bench/bench_startup.py --importtime)
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            conn.execute(sqlite_insert(table).on_conflict_do_nothing(), rows)
        elif dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as postgresql_insert

            conn.execute(postgresql_insert(table).on_conflict_do_nothing(), rows)
        elif dialect in ("mysql", "mariadb"):
            from sqlalchemy.dialects.mysql import insert as mysql_insert

            stmt = mysql_insert(table)
            conn.execute(stmt.on_duplicate_key_update(step=stmt.inserted.step), rows)
        else:
            keys = {row["key"] for row in rows}
            stored = {
                tuple(r)
                for r in conn.execute(
                    select(table.c.key, table.c.timestamp, table.c.step, table.c.value, table.c.is_nan).where(
                        table.c.run_uuid == rows[0]["run_uuid"], table.c.key.in_(keys)
                    )
                )
            }
            fresh = [r for r in rows if (r["key"], r["timestamp"], r["step"], r["value"], r["is_nan"]) not in stored]
            if fresh:
                conn.execute(insert(table), fresh)

    def _update_latest_metrics(self, conn: Connection, run_id: str, rows: list[dict]) -> None:
        """Keep one row per key holding the point with the greatest (step, timestamp, value)."""
        if not rows:
            return
        best: dict[str, dict] = {}
        for row in rows:
            current = best.get(row["key"])
            if current is None or _rank(row) > _rank(current):
                best[row["key"]] = row
        table = self.tables.latest_metrics
        query = select(table).where(table.c.run_uuid == run_id, table.c.key.in_(sorted(best)))
        if conn.dialect.name != "sqlite":
            query = query.order_by(table.c.key).with_for_update()
        stored = {row.key: row for row in conn.execute(query)}
        for key, row in best.items():
            old = stored.get(key)
            values = {k: row[k] for k in ("value", "timestamp", "step", "is_nan")}
            if old is None:
                conn.execute(insert(table).values(run_uuid=run_id, key=key, **values))
            elif _rank(row) > (old.step, old.timestamp if old.timestamp is not None else -1, old.value):
                conn.execute(
                    update(table).where(table.c.run_uuid == run_id, table.c.key == key).values(**values)
                )

    def _upsert_run_tags(self, conn: Connection, run_ids: list[str], tags: Mapping[str, str]) -> None:
        """Set tags on runs; `mlflow.runName` also sets the name column, as mlflow does."""
        if not tags or not run_ids:
            return
        table, runs = self.tables.tags, self.tables.runs
        for chunk in chunked(run_ids, CHUNK):
            present = {
                (row.run_uuid, row.key)
                for row in conn.execute(
                    select(table.c.run_uuid, table.c.key).where(table.c.run_uuid.in_(chunk), table.c.key.in_(list(tags)))
                )
            }
            for key, value in tags.items():
                have = [run_id for run_id in chunk if (run_id, key) in present]
                if have:
                    conn.execute(
                        update(table).where(table.c.key == key, table.c.run_uuid.in_(have)).values(value=value)
                    )
            fresh = [
                {"run_uuid": run_id, "key": key, "value": value}
                for run_id in chunk
                for key, value in tags.items()
                if (run_id, key) not in present
            ]
            if fresh:
                conn.execute(insert(table), fresh)
            if RUN_NAME_TAG in tags:
                conn.execute(update(runs).where(runs.c.run_uuid.in_(chunk)).values(name=tags[RUN_NAME_TAG]))


# -- module helpers --------------------------------------------------------------------------


def _cols(table, **values) -> dict:
    """The values for columns this database has: older mlflow schemas lack some (creation and
    update times, deletion time, workspace), and we write what they can hold."""
    return {name: value for name, value in values.items() if name in table.c}


def _now_ms() -> int:
    return int(time.time() * 1000)



def _experiment_int(experiment_id: str) -> int:
    v.validate_experiment_id(str(experiment_id))
    try:
        return int(experiment_id)
    except ValueError:
        raise InvalidValue(f"Experiment id {experiment_id!r} must be an integer in a SQL store") from None


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _metric_rows(run_id: str, metrics: Sequence[tuple[str, MetricPoint]]) -> list[dict]:
    """Rows as mlflow stores them: NaN → 0 with is_nan, ±inf → ±max double; exact duplicates
    within the batch dropped."""
    rows: dict[tuple, dict] = {}
    for key, point in metrics:
        value = float(point.value)
        is_nan = value != value
        if is_nan:
            value = 0.0
        elif value in (float("inf"), float("-inf")):
            value = _MAX_DOUBLE if value > 0 else -_MAX_DOUBLE
        row = {
            "run_uuid": run_id,
            "key": key,
            "value": value,
            "timestamp": int(point.timestamp),
            "step": int(point.step),
            "is_nan": is_nan,
        }
        rows.setdefault((key, row["timestamp"], row["step"], value, is_nan), row)
    return list(rows.values())


def _rank(row: dict) -> tuple:
    return (row["step"], row["timestamp"], row["value"])


def _append_path(root: str, tail: str) -> str:
    """`root` + `/tail`, as mlflow's append_to_uri_path joins (keeping `scheme:/` roots intact)."""
    if not root:
        return tail
    return f"{root.rstrip('/')}/{tail}" if not root.endswith(":/") else f"{root}{tail}"


def _absolute_if_local(location: str) -> str:
    """A relative plain path made absolute against the working directory, as mlflow does."""
    parts = urlsplit(location)
    if parts.scheme == "" and not os.path.isabs(location):
        return os.path.abspath(location)
    return location


def _epoch_ms(what: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidValue(f"{what} must be a non-negative integer (epoch ms), got {value!r}")
    return value
