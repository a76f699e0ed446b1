"""MLflow's SQL tables as SQLAlchemy Core objects, built from the columns the database really has.

MLflow's schema grew over many alembic revisions (docs/formats.md §1.1): older stores lack columns
such as `runs.deleted_time` or `experiments.workspace` and tables such as `spans`. We look at
the actual tables once when a store opens (one `get_multi_columns` round trip) and declare only
what exists, with our own column types so every dialect hands back plain Python values (MySQL's
reflected DOUBLE would otherwise yield Decimals).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import sqlalchemy as sa

#: Every alembic revision of MLflow 2.x/3.x up to 3.17.2's head, oldest first (docs/formats.md §1.1).
KNOWN_REVISIONS: tuple[str, ...] = (
    "451aebb31d03", "90e64c465722", "181f10493468", "df50e92ffc5e", "7ac759974ad8",
    "89d4b8295536", "2b4d017a5e9b", "cfd24bdc0731", "0a8213491aaa", "728d730b5ebd",
    "27a6a02d2cf1", "84291f40a231", "a8c4a736bde6", "39d1c3be5f05", "c48cb773bb87",
    "bd07f7e963c5", "0c779009ac13", "cc1f77228345", "97727af70f4d", "3500859a5d39",
    "7f2a7d5fae7d", "2d6e25af4d3e", "acf3f17fdcc7", "867495a8f9d4", "5b0e9adcef9c",
    "4465047574b1", "f5a4f2784254", "0584bdc529eb", "400f98739977", "6953534de441",
    "bda7b8c39065", "cbc13b556ace", "770bee3ae1dd", "a1b2c3d4e5f6", "de4033877273",
    "1a0cddfcaa16", "534353b11cbc", "71994744cf8e", "3da73c924c2f", "bf29a5ff90ea",
    "1bd49d398cd23", "b7c8d9e0f1a2", "5d2d30f0abce", "c9d4e5f6a7b8", "2c33131f4dae",
    "d3e4f5a6b7c8", "d0e1f2a3b4c5", "c8d9e0f1a2b3", "1b5f0d9ad7c1", "e1f2a3b4c5d6",
    "76601a5f987d", "c3d6457b6d8a", "a5b4c3d2e1f0", "ae8bbe7743c9", "7d34483879f0",
    "da6fb0208061", "89d3d66ed43f", "b7e4c1a90f23", "a8b9c0d1e2f3", "c1d2e3f4a5b6",
    "c3d9e7f1a2b4", "6f8d9c3b2a1e", "1971f2d9a75b", "17e22815139b", "b7e2c1a4d9f3",
    "75868b020152", "dc11669786a5",
)
#: The newest revision we know; MLflow 3.17.2's head.
HEAD_REVISION = KNOWN_REVISIONS[-1]

#: Tables a database must have to be an MLflow tracking store at all.
REQUIRED_TABLES = ("experiments", "runs", "tags", "params", "metrics", "latest_metrics")

_S = sa.String
_TEXT = sa.Text
_INT = sa.Integer
_BIG = sa.BigInteger
_FLOAT = sa.Float(asdecimal=False)
_BOOL = sa.Boolean(create_constraint=False)

#: Our types for the columns we know; the key order is not significant (reflection decides
#: which columns exist). Primary keys are marked so Core can build sensible statements.
_ColumnType = sa.types.TypeEngine[Any] | type[sa.types.TypeEngine[Any]]
_KNOWN: dict[str, dict[str, tuple[_ColumnType, bool]]] = {
    "alembic_version": {"version_num": (_S(32), True)},
    "experiments": {
        "experiment_id": (_INT, True), "name": (_S(256), False),
        "artifact_location": (_S(256), False), "lifecycle_stage": (_S(32), False),
        "creation_time": (_BIG, False), "last_update_time": (_BIG, False),
        "workspace": (_S(63), False),
    },
    "experiment_tags": {
        "key": (_S(250), True), "value": (_TEXT, False), "experiment_id": (_INT, True),
    },
    "runs": {
        "run_uuid": (_S(32), True), "name": (_S(250), False), "source_type": (_S(20), False),
        "source_name": (_S(500), False), "entry_point_name": (_S(50), False),
        "user_id": (_S(256), False), "status": (_S(20), False), "start_time": (_BIG, False),
        "end_time": (_BIG, False), "source_version": (_S(50), False),
        "lifecycle_stage": (_S(20), False), "artifact_uri": (_S(200), False),
        "experiment_id": (_INT, False), "deleted_time": (_BIG, False),
    },
    "tags": {"key": (_S(250), True), "value": (_S(8000), False), "run_uuid": (_S(32), True)},
    "params": {"key": (_S(250), True), "value": (_S(8000), False), "run_uuid": (_S(32), True)},
    "metrics": {
        "key": (_S(250), True), "value": (_FLOAT, True), "timestamp": (_BIG, True),
        "run_uuid": (_S(32), True), "step": (_BIG, True), "is_nan": (_BOOL, True),
    },
    "latest_metrics": {
        "key": (_S(250), True), "value": (_FLOAT, False), "timestamp": (_BIG, False),
        "step": (_BIG, False), "is_nan": (_BOOL, False), "run_uuid": (_S(32), True),
    },
    "datasets": {
        "dataset_uuid": (_S(36), False), "experiment_id": (_INT, True), "name": (_S(500), True),
        "digest": (_S(36), True), "dataset_source_type": (_S(36), False),
        "dataset_source": (_TEXT, False), "dataset_schema": (_TEXT, False),
        "dataset_profile": (_TEXT, False),
    },
    "inputs": {
        "input_uuid": (_S(36), False), "source_type": (_S(36), True), "source_id": (_S(36), True),
        "destination_type": (_S(36), True), "destination_id": (_S(36), True),
        "step": (_BIG, False),
    },
    "input_tags": {"input_uuid": (_S(36), True), "name": (_S(255), True), "value": (_S(500), False)},
    # the model registry (docs/formats.md §8.1); `workspace` only since MLflow 3.10
    "registered_models": {
        "name": (_S(256), True), "creation_time": (_BIG, False), "last_updated_time": (_BIG, False),
        "description": (_S(5000), False), "workspace": (_S(63), True),
    },
    "registered_model_tags": {
        "key": (_S(250), True), "value": (_TEXT, False), "name": (_S(256), True), "workspace": (_S(63), True),
    },
    "model_versions": {
        "name": (_S(256), True), "version": (_INT, True), "creation_time": (_BIG, False),
        "last_updated_time": (_BIG, False), "description": (_S(5000), False), "user_id": (_S(256), False),
        "current_stage": (_S(20), False), "source": (_S(500), False), "run_id": (_S(32), False),
        "status": (_S(20), False), "status_message": (_S(500), False), "run_link": (_S(500), False),
        "storage_location": (_S(500), False), "workspace": (_S(63), True),
    },
    "model_version_tags": {
        "key": (_S(250), True), "value": (_TEXT, False), "name": (_S(256), True), "version": (_INT, True),
        "workspace": (_S(63), True),
    },
    "registered_model_aliases": {
        "alias": (_S(256), True), "version": (_INT, False), "name": (_S(256), True), "workspace": (_S(63), True),
    },
}

#: Tables other parts of tracktui may use when present (None on `Tables` when absent).
OPTIONAL_TABLES = (
    "datasets", "inputs", "input_tags", "trace_info", "trace_tags", "trace_request_metadata",
    "spans", "assessments", "logged_models", "workspaces",
    "logged_model_params", "logged_model_tags", "logged_model_metrics",
    "registered_models", "registered_model_tags", "model_versions", "model_version_tags",
    "registered_model_aliases",
)


@dataclass
class Tables:
    """The MLflow tables of one database; optional ones are None when the schema lacks them."""

    experiments: sa.Table
    experiment_tags: sa.Table
    runs: sa.Table
    tags: sa.Table
    params: sa.Table
    metrics: sa.Table
    latest_metrics: sa.Table
    alembic_version: sa.Table | None = None
    datasets: sa.Table | None = None
    inputs: sa.Table | None = None
    input_tags: sa.Table | None = None
    trace_info: sa.Table | None = None
    trace_tags: sa.Table | None = None
    trace_request_metadata: sa.Table | None = None
    spans: sa.Table | None = None
    assessments: sa.Table | None = None
    logged_models: sa.Table | None = None
    workspaces: sa.Table | None = None
    logged_model_params: sa.Table | None = None
    logged_model_tags: sa.Table | None = None
    logged_model_metrics: sa.Table | None = None
    registered_models: sa.Table | None = None
    registered_model_tags: sa.Table | None = None
    model_versions: sa.Table | None = None
    model_version_tags: sa.Table | None = None
    registered_model_aliases: sa.Table | None = None

    def has_column(self, table: str, column: str) -> bool:
        t = getattr(self, table, None)
        return t is not None and column in t.c

    @cached_property
    def registry(self) -> RegistryTables | None:
        """The model registry's tables, typed as present; None on schemas without them."""
        found = (self.registered_models, self.registered_model_tags, self.model_versions,
                 self.model_version_tags, self.registered_model_aliases)
        if any(t is None for t in found):
            return None
        return RegistryTables(*found)  # type: ignore[arg-type]

    @property
    def traces(self) -> TraceTables | None:
        """The trace tables, typed as present; None on schemas older than MLflow tracing."""
        if self.trace_info is None or self.trace_tags is None or self.trace_request_metadata is None:
            return None
        return TraceTables(self.trace_info, self.trace_tags, self.trace_request_metadata, self.spans)


@dataclass(frozen=True)
class TraceTables:
    """The tables traces live in, on a schema that has them (`spans` only since MLflow 3)."""

    trace_info: sa.Table
    trace_tags: sa.Table
    trace_request_metadata: sa.Table
    spans: sa.Table | None


@dataclass(frozen=True)
class RegistryTables:
    """The model registry's tables (aliases since MLflow 2.3, which every schema we read has)."""

    registered_models: sa.Table
    registered_model_tags: sa.Table
    model_versions: sa.Table
    model_version_tags: sa.Table
    registered_model_aliases: sa.Table


def missing_tables(present: set[str]) -> list[str]:
    return [name for name in REQUIRED_TABLES if name not in present]


def build_tables(conn: sa.Connection, schema: str | None = None) -> Tables:
    """Declare MLflow's tables from the database's real columns (one reflection round trip).

    Raises KeyError (caught by the caller) when a required table is missing.
    """
    inspector = sa.inspect(conn)
    wanted = ["alembic_version", "experiment_tags", *REQUIRED_TABLES, *OPTIONAL_TABLES]
    present = set(inspector.get_table_names(schema=schema))
    wanted = [name for name in dict.fromkeys(wanted) if name in present]
    columns = inspector.get_multi_columns(schema=schema, filter_names=wanted)
    primary_keys = _primary_keys(inspector, [n for n in wanted if n not in _KNOWN], schema)
    metadata = sa.MetaData(schema=schema)
    tables: dict[str, sa.Table] = {}
    for (_schema, name), cols in columns.items():
        known = _KNOWN.get(name, {})
        pk = primary_keys.get(name, set())
        declared = []
        for col in cols:
            colname = col["name"]
            type_: _ColumnType
            if colname in known:
                type_, primary = known[colname]
            else:
                type_, primary = _plain_type(col["type"]), colname in pk
            declared.append(sa.Column(colname, type_, primary_key=primary, nullable=col.get("nullable", True)))
        tables[name] = sa.Table(name, metadata, *declared)
    found: dict[str, Any] = {name: tables.get(name) for name in Tables.__dataclass_fields__}
    return Tables(**found)  # the caller checked the required tables are there (missing_tables)


def _primary_keys(inspector, tables: list[str], schema: str | None) -> dict[str, set[str]]:
    """Primary-key columns of the tables we have no declarations for (one round trip)."""
    if not tables:
        return {}
    try:
        found = inspector.get_multi_pk_constraint(schema=schema, filter_names=tables)
    except sa.exc.SQLAlchemyError:  # an odd dialect: a PK is only a convenience here
        return {}
    return {name: set(pk.get("constrained_columns") or ()) for (_s, name), pk in found.items()}


def _plain_type(reflected: sa.types.TypeEngine) -> sa.types.TypeEngine:
    """Reflected types, except floats, which some dialects (MySQL DOUBLE) return as Decimal."""
    if isinstance(reflected, sa.Float):
        return sa.Float(asdecimal=False)
    return reflected


def check_revision(revision: str | None) -> str | None:
    """Why a database at `revision` must open read-only, or None when we know the schema."""
    if revision in KNOWN_REVISIONS:
        return None
    if revision is None:
        return (
            "the database has no alembic_version row, so its MLflow schema version is unknown; "
            "opened read-only"
        )
    return (
        f"its MLflow schema revision {revision!r} is newer than tracktui knows "
        f"(newest known: {HEAD_REVISION}, MLflow 3.17); opened read-only — upgrade tracktui to write"
    )
