"""The SQL backend: MLflow's own tables read with SQLAlchemy Core (never mlflow itself).

The database does the work: filters and orderings compile to one page query (store.sql_filters),
then the page's params, latest metrics and tags arrive in three more queries, whatever the page
size. Every call takes a pooled connection for just that call, so a training process writing
to the same SQLite file is never blocked by a reader left open.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence

import sqlalchemy as sa

from ..base import Store, not_found_experiment, not_found_run
from ..batching import chunked
from ..counts import capped, check_at_most
from ..errors import InvalidValue, SchemaError
from ..model import (
    NO_INPUTS,
    NO_OUTPUTS,
    PARENT_RUN_TAG,
    RUN_NAME_TAG,
    Experiment,
    Keys,
    MetricPoint,
    Page,
    Run,
    RunGroup,
    RunInputs,
    RunOutputs,
    ViewType,
)
from ..nogc import gc_paused
from ..paging import check_max_results, decode_page_token, encode_page_token
from ..search import (
    parse_experiment_filter,
    parse_experiment_order_by,
    parse_run_filter,
    parse_run_order_by,
)
from ..uris import mask_uri
from .assessments import SqlAssessments
from .connect import create_engine, sqlite_write_refusal, translated_errors
from .filters import (
    experiment_filter_clauses,
    experiment_order_clauses,
    run_filter_clauses,
    run_order_clauses,
)
from .groups import grouped_runs
from .histories import metric_histories
from .history import metric_history, metric_tail, metric_tails
from .inputs import SqlInputs, read_run_inputs
from .keys import used_keys_query
from .logged_models import SqlLoggedModels
from .registry import SqlRegistry
from .registry_writes import SqlRegistryWrites
from .roots import is_roots_only, roots_page
from .runs_path import RunsPath
from .schema import Tables, build_tables, check_revision, missing_tables
from .trace_writes import SqlTraceWrites
from .traces import SqlTraces
from .writes import SqlWrites

_STAGES = {"active": ("active",), "deleted": ("deleted",), "all": ("active", "deleted")}
#: Tags a Run needs for its name and parent even when `include_keys` leaves them out.
_SYSTEM_TAGS = frozenset((RUN_NAME_TAG, PARENT_RUN_TAG))


class SqlStore(SqlRegistry, SqlRegistryWrites, SqlLoggedModels, SqlTraces, SqlAssessments, SqlTraceWrites, SqlInputs, SqlWrites, Store):
    """An MLflow SQL tracking database (SQLite, PostgreSQL, MySQL/MariaDB, SQL Server).

    Attributes shared with the mixins (store.sql_writes.SqlWrites, store.sql_traces.SqlTraces):
      engine: the sqlalchemy Engine (pooled, usable from worker threads).
      tables: store.sql_schema.Tables — experiments, experiment_tags, runs, tags, params,
        metrics, latest_metrics, alembic_version, and optional tables (inputs, input_tags,
        datasets, trace_info, spans, ...) which are None when the schema lacks them. Only the
        columns the database really has are declared (check with `tables.has_column`).
      dialect: "sqlite", "postgresql", "mysql" or "mssql".
      revision: the alembic revision in `alembic_version`, or None when there is none.
      read_only_reason: why writes are refused (asked for, or an unknown schema), else None.
      warnings: things the user should see (unknown schema revision).

    Raises UnsupportedURI (bad URI, missing driver), SchemaError (not an MLflow database,
    missing SQLite file), Unreachable / AuthFailed (server down, bad credentials).
    """

    def __init__(self, uri: str, read_only: bool = False):
        self.uri = uri
        self.display_uri = mask_uri(uri)
        self.engine, self.dialect = create_engine(uri)
        try:
            with self._errors(), self.engine.connect() as conn:
                self.tables, self.revision = self._inspect(conn)
        except BaseException:
            self.engine.dispose()
            raise
        reason = check_revision(self.revision)
        self.warnings = (f"{self.display_uri}: {reason}",) if reason else ()
        if not read_only and reason is None and self.dialect == "sqlite":
            with self._errors():
                reason = sqlite_write_refusal(self.engine)
        #: MySQL/MariaDB: whether a query walks the experiment index or reads `runs` once.
        self._runs_path = RunsPath(self.tables.runs) if self.dialect == "mysql" else None
        if read_only:
            self.read_only_reason = "the store was opened read-only"
        else:
            self.read_only_reason = f"{reason[0].upper()}{reason[1:]}" if reason else None

    def _inspect(self, conn: sa.Connection) -> tuple[Tables, str | None]:
        present = set(sa.inspect(conn).get_table_names())
        missing = missing_tables(present)
        if missing:
            what = "has no tables" if not present else f"lacks the tables {', '.join(missing)}"
            raise SchemaError(
                f"{self.display_uri} is not an MLflow tracking database (it {what}); "
                "point tracktui at the database an MLflow server or client writes to"
            )
        tables = build_tables(conn)
        self._sqlite_json = self.dialect == "sqlite" and _has_json_each(conn)
        revision = None
        if tables.alembic_version is not None:
            revision = conn.execute(sa.select(tables.alembic_version.c.version_num)).scalar()
        return tables, revision

    def _errors(self):
        return translated_errors(self.display_uri, self.dialect)

    def close(self) -> None:
        self.engine.dispose()

    # -- experiments ---------------------------------------------------------------------------

    def search_experiments(
        self,
        filter_string: str | None = None,
        view: ViewType = "active",
        max_results: int = 1000,
        page_token: str | None = None,
        order_by: Sequence[str] = (),
    ) -> Page[Experiment]:
        t = self.tables
        e = t.experiments
        clauses = experiment_filter_clauses(
            parse_experiment_filter(filter_string), t, self.dialect, filter_string or ""
        )
        order = experiment_order_clauses(parse_experiment_order_by(order_by), t)
        offset = decode_page_token(page_token)
        stmt = (
            sa.select(e)
            .where(*clauses, *self._stage_filter(e, view))
            .order_by(*order)
            .offset(offset)
            .limit(check_max_results(max_results) + 1)
        )
        with self._errors(), self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
            more = len(rows) > max_results
            rows = rows[:max_results]
            tags = self._experiment_tags(conn, [r.experiment_id for r in rows])
        items = tuple(_experiment(r, tags.get(r.experiment_id, {})) for r in rows)
        return Page(items, encode_page_token(offset + max_results) if more else None)

    def get_experiment(self, experiment_id: str) -> Experiment:
        eid = _int_id(experiment_id)
        if eid is None:
            raise not_found_experiment(experiment_id)
        return self._one_experiment(self.tables.experiments.c.experiment_id == eid, experiment_id)

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        try:
            return self._one_experiment(self.tables.experiments.c.name == name, name, by_name=True)
        except LookupError:
            return None

    def _one_experiment(self, where, label: str, by_name: bool = False) -> Experiment:
        e = self.tables.experiments
        with self._errors(), self.engine.connect() as conn:
            # By name, the database's collation decides, as in MLflow's SQL store: MySQL and
            # MariaDB's default collation ignores case, so `ALPHA` finds `alpha` there.
            rows = conn.execute(sa.select(e).where(where)).all()
            if not rows:
                if by_name:
                    raise LookupError(label)
                raise not_found_experiment(label)
            row = rows[0]
            tags = self._experiment_tags(conn, [row.experiment_id])
        return _experiment(row, tags.get(row.experiment_id, {}))

    def _experiment_tags(self, conn, experiment_ids: list[int]) -> dict[int, dict[str, str]]:
        out: dict[int, dict[str, str]] = defaultdict(dict)
        if not experiment_ids:
            return out
        et = self.tables.experiment_tags
        stmt = sa.select(et.c.experiment_id, et.c.key, et.c.value).where(
            et.c.experiment_id.in_(experiment_ids)
        )
        for eid, key, value in conn.execute(stmt):
            out[eid][key] = value
        return out

    # -- runs ---------------------------------------------------------------------------------

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        order_by: Sequence[str] = (),
        view: ViewType = "active",
        max_results: int = 100,
        page_token: str | None = None,
        include_keys: Keys | None = None,
    ) -> Page[Run]:
        t = self.tables
        runs = t.runs
        comparisons = parse_run_filter(filter_string)
        order_keys = parse_run_order_by(order_by)
        offset = decode_page_token(page_token)
        ids = _int_ids(experiment_ids, strict=True)
        if not ids:
            return Page(())
        source, order = run_order_clauses(order_keys, t, self.dialect)
        # The page query sorts narrow rows (ids only); the run rows come by id afterwards.
        unfiltered = (
            sa.select(runs.c.run_uuid)
            .select_from(source)
            .where(runs.c.experiment_id.in_(ids), *self._stage_filter(runs, view))
            .order_by(*order)
        )
        stmt = unfiltered.where(*run_filter_clauses(comparisons, t, self.dialect, filter_string or "")).offset(offset)
        if max_results is not None:
            stmt = stmt.limit(check_max_results(max_results) + 1)
        with self._errors(), self.engine.connect() as conn:
            page_ids: list[str] | None = None
            if max_results is not None and is_roots_only(comparisons):
                candidates = self._read_path(conn, unfiltered, ids)
                page_ids = roots_page(lambda n: [run_uuid for (run_uuid,) in _raw_rows(conn, candidates.limit(n))],
                                      conn, t.tags, self.dialect, offset, max_results + 1)
            if page_ids is None:  # not the tree's filter, or deeper than roots.py reads candidates
                page_ids = [run_uuid for (run_uuid,) in _raw_rows(conn, self._read_path(conn, stmt, ids))]
            more = max_results is not None and len(page_ids) > max_results
            if more:
                page_ids = page_ids[:max_results]
            rows = self._run_rows(conn, page_ids)
            items = self._runs_with_data(conn, rows, include_keys)
        token = encode_page_token(offset + max_results) if more else None
        return Page(tuple(items), token)

    def get_run(self, run_id: str) -> Run:
        runs = self.tables.runs
        with self._errors(), self.engine.connect() as conn:
            rows = conn.execute(sa.select(*self._run_columns()).where(runs.c.run_uuid == run_id)).all()
            if not rows:
                raise not_found_run(run_id)
            return self._runs_with_data(conn, rows, None)[0]

    def get_child_runs(self, run_id: str, view: ViewType = "all") -> list[Run]:
        """Runs tagged `mlflow.parentRunId = run_id`, in default order, in one page query."""
        t = self.tables
        runs, tags = t.runs, t.tags
        stmt = (
            sa.select(*self._run_columns())
            .select_from(runs.join(tags, tags.c.run_uuid == runs.c.run_uuid))
            .where(tags.c.key == PARENT_RUN_TAG, tags.c.value == run_id, *self._stage_filter(runs, view))
            .order_by(runs.c.start_time.desc(), runs.c.run_uuid.asc())
        )
        with self._errors(), self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
            if not rows:
                exists = conn.execute(sa.select(runs.c.run_uuid).where(runs.c.run_uuid == run_id)).first()
                if exists is None:
                    raise not_found_run(run_id)
                return []
            return self._runs_with_data(conn, rows, None)

    def list_keys(self, experiment_ids: Sequence[str]) -> Keys:
        t = self.tables
        ids = _int_ids(experiment_ids)
        if not ids:
            return Keys()
        out = []
        with self._errors(), self.engine.connect() as conn:
            for table in (t.latest_metrics, t.params, t.tags):
                stmt = used_keys_query(table, t.runs, ids, self.dialect)
                out.append(tuple(sorted(k for (k,) in conn.execute(stmt))))
        return Keys(metrics=out[0], params=out[1], tags=out[2])

    def count_runs(self, experiment_id: str, view: ViewType = "active", at_most: int | None = None) -> int:
        return self.count_runs_by_experiment([experiment_id], view, at_most).get(str(experiment_id), 0)

    def count_runs_by_experiment(
        self, experiment_ids: Sequence[str], view: ViewType = "active", at_most: int | None = None
    ) -> dict[str, int]:
        """One GROUP BY for all of them, counted exactly and capped (one scan either way)."""
        check_at_most(at_most)
        runs = self.tables.runs
        ids = _int_ids(experiment_ids)
        counts = {str(eid): 0 for eid in experiment_ids}
        if not ids:
            return counts
        stmt = (
            sa.select(runs.c.experiment_id, sa.func.count())
            .where(runs.c.experiment_id.in_(ids), *self._stage_filter(runs, view))
            .group_by(runs.c.experiment_id)
        )
        with self._errors(), self.engine.connect() as conn:
            for eid, n in conn.execute(self._read_path(conn, stmt, ids)):
                counts[str(eid)] = capped(n, at_most)
        return counts

    def group_runs(
        self,
        experiment_ids: Sequence[str],
        group_by: str,
        aggregates: Sequence[tuple[str, str]] = (),
        filter_string: str = "",
        view: ViewType = "active",
    ) -> list[RunGroup]:
        """One GROUP BY over the filtered runs (store.sql.groups), not a page of them."""
        from ..groups import check_aggregates, parse_group_by

        key = parse_group_by(group_by)
        wanted = check_aggregates(aggregates)
        runs = self.tables.runs
        where = [
            runs.c.experiment_id.in_(_int_ids(experiment_ids, strict=True)),
            *self._stage_filter(runs, view),
            *run_filter_clauses(parse_run_filter(filter_string), self.tables, self.dialect, filter_string or ""),
        ]
        with self._errors(), self.engine.connect() as conn:
            return grouped_runs(conn, self.tables, self.dialect, where, key, wanted)

    def get_metric_history(
        self, run_id: str, key: str, max_points: int | None = None
    ) -> list[MetricPoint]:
        with self._errors(), self.engine.connect() as conn:
            points = metric_history(conn, self.tables, self.dialect, run_id, key, max_points)
            if not points:
                runs = self.tables.runs
                if conn.execute(sa.select(runs.c.run_uuid).where(runs.c.run_uuid == run_id)).first() is None:
                    raise not_found_run(run_id)
        return points

    def get_metric_histories(
        self, run_ids: Sequence[str], key: str, max_points: int
    ) -> dict[str, list[MetricPoint]]:
        """Short histories of all the runs in one query (store.sql.histories)."""
        with self._errors(), self.engine.connect() as conn:
            return metric_histories(conn, self.tables, self.dialect, run_ids, key, max_points)

    def get_metric_tail(self, run_id: str, key: str, n: int, *, last_step: int | None = None) -> list[MetricPoint]:
        with self._errors(), self.engine.connect() as conn:
            points = metric_tail(conn, self.tables, run_id, key, n) if n > 0 else []
            if not points:
                runs = self.tables.runs
                if conn.execute(sa.select(runs.c.run_uuid).where(runs.c.run_uuid == run_id)).first() is None:
                    raise not_found_run(run_id)
        return points

    def get_metric_tails(
        self, requests: Sequence[tuple[str, str, int | None]], n: int
    ) -> dict[tuple[str, str], list[MetricPoint]]:
        """Every tail in one statement (store.sql.history.metric_tails); unknown runs give []."""
        pairs = list(dict.fromkeys((run_id, key) for run_id, key, _last in requests))
        if n <= 0 or not pairs:
            return {pair: [] for pair in pairs}
        with self._errors(), self.engine.connect() as conn:
            return metric_tails(conn, self.tables, pairs, n)

    # -- helpers -------------------------------------------------------------------------------

    def _read_path(self, conn, stmt, experiment_ids: list[int]):
        """On MySQL/MariaDB, `stmt` over the runs of these experiments with the access path
        store.sql.runs_path chooses; elsewhere unchanged."""
        if self._runs_path is None:
            return stmt
        return self._runs_path.hinted(conn, stmt, experiment_ids)

    def _run_rows(self, conn, run_ids: list[str]) -> list:
        """The `runs` rows of these ids, in the order of `run_ids`."""
        if not run_ids:
            return []
        by_id = {}
        for chunk in chunked(run_ids, self._id_chunk()):
            stmt = sa.select(*self._run_columns()).where(self._id_filter(chunk)(self.tables.runs.c.run_uuid))
            for row in _raw_rows(conn, stmt):
                by_id[row[0]] = row
        return [by_id[rid] for rid in run_ids]

    def _run_columns(self):
        """The `runs` columns a Run is built from, in the order _runs_with_data unpacks."""
        c = self.tables.runs.c
        return (c.run_uuid, c.name, c.experiment_id, c.status, c.user_id, c.start_time,
                c.end_time, c.lifecycle_stage, c.artifact_uri)

    @staticmethod
    def _stage_filter(table, view: ViewType) -> list:
        stages = _STAGES.get(view)
        if stages is None:
            raise InvalidValue(f"Unknown view {view!r}: expected 'active', 'deleted' or 'all'")
        if len(stages) == 2:
            return []
        return [table.c.lifecycle_stage.in_(stages)]

    def _runs_with_data(self, conn, rows, include_keys: Keys | None) -> list[Run]:
        """Runs for the page rows with their params, latest metrics and tags: three queries
        (per chunk of ids, for databases with a bound-parameter limit), never one per run."""
        if not rows:
            return []
        # A page of 5,000 runs allocates ~100k objects that all survive: the cyclic GC would
        # traverse them again and again while they are built, for nothing (none is a cycle).
        with gc_paused():
            return self._build_runs(conn, rows, include_keys)

    def _build_runs(self, conn, rows, include_keys: Keys | None) -> list[Run]:
        ids = [r[0] for r in rows]
        params: dict[str, dict] = defaultdict(dict)
        metrics: dict[str, dict] = defaultdict(dict)
        tags: dict[str, dict] = defaultdict(dict)
        system: dict[str, dict] = defaultdict(dict)
        inputs: dict[str, RunInputs] = {}
        outputs: dict[str, RunOutputs] = {}
        t = self.tables
        want_params = include_keys.params if include_keys is not None else None
        want_metrics = include_keys.metrics if include_keys is not None else None
        want_tags = include_keys.tags if include_keys is not None else None
        nan = math.nan
        for chunk in chunked(ids, self._id_chunk()):
            in_page = self._id_filter(chunk)
            if want_params is None or want_params:
                params.update(self._key_values(conn, t.params, in_page, want_params))
            if want_metrics is None or want_metrics:
                lm = t.latest_metrics
                stmt = _data_query(lm, ("key", "value", "step", "timestamp", "is_nan"), in_page, want_metrics)
                for run_uuid, key, value, step, timestamp, is_nan in _raw_rows(conn, stmt):
                    metrics[run_uuid][key] = MetricPoint(nan if is_nan else value, step, timestamp)
            if want_tags is None:  # the system tags are among all tags
                tags.update(self._key_values(conn, t.tags, in_page, None))
            else:
                wanted = frozenset(want_tags)
                tag_keys = tuple(wanted | _SYSTEM_TAGS)
                for run_uuid, key, value in _raw_rows(conn, _data_query(t.tags, ("key", "value"), in_page, tag_keys)):
                    if key in wanted:
                        tags[run_uuid][key] = value
                    if key in _SYSTEM_TAGS:
                        system[run_uuid][key] = value
            found_inputs, found_outputs = read_run_inputs(conn, t, in_page)
            inputs.update(found_inputs)
            outputs.update(found_outputs)
        if want_tags is None:
            system = tags
        out: list[Run] = []
        empty: dict[str, str] = {}
        append = out.append
        for rid, name, experiment_id, status, user_id, start, end, stage, artifact_uri in rows:
            sys_tags = system.get(rid, empty)
            # Positional, in Run's field order (id, name, experiment_id, status, user_id,
            # start_time, end_time, lifecycle_stage, artifact_uri, parent_run_id, params,
            # metrics, tags, inputs, outputs): keyword passing costs a third more for 10k runs.
            append(Run(
                rid, name or sys_tags.get(RUN_NAME_TAG) or "", str(experiment_id), status, user_id,
                start, end, stage, artifact_uri, sys_tags.get(PARENT_RUN_TAG),
                params.get(rid) or {}, metrics.get(rid) or {}, tags.get(rid) or {},
                inputs.get(rid, NO_INPUTS), outputs.get(rid, NO_OUTPUTS),
            ))
        return out

    def _key_values(self, conn, table, in_page, keys) -> dict[str, dict[str, str]]:
        """{run id: {key: value}} of a params/tags table for the page. On SQLite the whole
        chunk arrives as one JSON document built by the database (strings only, so nothing is
        lost), which is much cheaper than a Python tuple per pair or a json.loads per run."""
        if self._sqlite_json:
            per_run = (
                sa.select(table.c.run_uuid, sa.func.json_group_object(table.c.key, table.c.value).label("pairs"))
                .where(in_page(table.c.run_uuid))
                .group_by(table.c.run_uuid)
            )
            if keys is not None:
                per_run = per_run.where(table.c.key.in_(list(keys)))
            per_run_chunk = per_run.subquery("per_run")
            # One document {run id: {key: value}} for the whole chunk: one json.loads instead
            # of one per run (json() keeps each run's object an object, not a quoted string).
            stmt = sa.select(sa.func.json_group_object(per_run_chunk.c.run_uuid, sa.func.json(per_run_chunk.c.pairs)))
            (document,), = _raw_rows(conn, stmt)
            return json.loads(document) if document else {}
        out: dict[str, dict[str, str]] = defaultdict(dict)
        for run_uuid, key, value in _raw_rows(conn, _data_query(table, ("key", "value"), in_page, keys)):
            out[run_uuid][key] = value
        return out

    def _id_filter(self, run_ids: list[str]):
        """A cheap `run_uuid IN (page ids)` for a table: one bound value on SQLite (json_each)
        and PostgreSQL (= ANY(array)) instead of thousands of bound parameters."""
        if self._sqlite_json and len(run_ids) > 50:
            ids = sa.select(sa.column("value", sa.String)).select_from(
                sa.func.json_each(sa.literal(json.dumps(run_ids))).table_valued("value")
            )
            return lambda column: column.in_(ids.scalar_subquery())
        if self.dialect == "postgresql" and len(run_ids) > 50:
            from sqlalchemy.dialects import postgresql  # only here: start-up skips its import

            array = sa.literal(run_ids, postgresql.ARRAY(sa.String))
            return lambda column: column == sa.any_(array)
        return lambda column: column.in_(run_ids)

    def _id_chunk(self) -> int:
        # SQL Server allows ~2100 bound parameters; the others take far more.
        return 1000 if self.dialect == "mssql" else 20000


def _data_query(table, columns: Iterable[str], in_page, keys):
    stmt = sa.select(table.c.run_uuid, *(table.c[c] for c in columns)).where(in_page(table.c.run_uuid))
    if keys is not None:
        stmt = stmt.where(table.c.key.in_(list(keys)))
    return stmt


def _has_json_each(conn) -> bool:
    """SQLite builds without JSON1 (before 3.38 it was optional) lack json_each."""
    try:
        conn.exec_driver_sql("SELECT value FROM json_each('[1]')").all()
        return True
    except sa.exc.DBAPIError:
        return False


def _raw_rows(conn, stmt) -> list:
    """The driver's own row tuples, skipping SQLAlchemy's per-row Row objects: the data tables
    hold only strings, integers, floats and a 0/1 flag, which drivers already return as such."""
    result = conn.execute(stmt)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


def _experiment(row, tags: dict) -> Experiment:
    m = row._mapping
    return Experiment(
        id=str(row.experiment_id),
        name=row.name,
        artifact_location=row.artifact_location,
        lifecycle_stage=row.lifecycle_stage,
        creation_time=m.get("creation_time"),
        last_update_time=m.get("last_update_time"),
        tags=tags,
    )


def _int_id(value) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _int_ids(values: Sequence[str], strict: bool = False) -> list[int]:
    """Experiment ids as the integers the SQL schema stores; ids that are not integers match
    nothing (an id from another backend, say), or, `strict` (search_runs, as MLflow's SQL store
    does), raise InvalidValue."""
    if isinstance(values, (str, int)):
        values = [values]
    ids = []
    for value in values:
        number = _int_id(value)
        if number is not None:
            ids.append(number)
        elif strict:
            raise InvalidValue(f"Invalid experiment ID {value!r}: an experiment ID must be an integer")
    return ids
