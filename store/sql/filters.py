"""The search AST (store.search) compiled to SQLAlchemy Core, with MLflow's SQL semantics.

Mirrors what mlflow's SQL store does (docs/formats.md §4) so answers match MlflowClient on the same
database: metric filters read `latest_metrics` (a NaN never matches, except `!=` which it
always matches); `attributes.run_name` means the `mlflow.runName` tag; `LIKE`, `=`, `!=` and
`IN` are case-sensitive on every dialect; `ILIKE` is `lower() LIKE lower()`. Ordering puts
missing values last in both directions and NaN metrics between numbers and missing values,
then `start_time DESC`, then the run id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import sqlalchemy as sa

from ..errors import FilterSyntaxError, InvalidValue
from ..model import RUN_NAME_TAG
from ..search import Comparison, OrderKey
from .schema import Tables

DATASET_CONTEXT_TAG = "mlflow.data.context"
#: The collation mlflow uses for case-sensitive comparisons on SQL Server.
MSSQL_CASE_SENSITIVE_COLLATION = "Japanese_Bushu_Kakusu_100_CS_AS_KS_WS"

#: Run attribute key → `runs` column (run_name is a tag in filters, a column in order_by).
RUN_ATTRIBUTE_COLUMNS = {
    "run_id": "run_uuid",
    "run_name": "name",
    "status": "status",
    "user_id": "user_id",
    "artifact_uri": "artifact_uri",
    "start_time": "start_time",
    "end_time": "end_time",
    "lifecycle_stage": "lifecycle_stage",
}
EXPERIMENT_ORDER_DEFAULT = (
    OrderKey("attribute", "creation_time", ascending=False),
    OrderKey("attribute", "experiment_id", ascending=True),
)


# -- comparisons ------------------------------------------------------------------------------


def compare(column, op: str, value, dialect: str, *, text_column: bool = True):
    """`column op value` with MLflow's case rules. `text_column` False for numeric columns."""
    if op in ("<", "<=", ">", ">="):
        return _numeric(column, op, value)
    if not text_column:
        if op == "=":
            return column == value
        if op == "!=":
            return column != value
        if op == "IN":
            return column.in_(list(value))
        if op == "NOT IN":
            return column.not_in(list(value))
        raise ValueError(f"operator {op} on a numeric column")
    if op == "ILIKE":
        return column.ilike(value)
    if op == "RLIKE":
        return _regexp_match(column, value, dialect)
    exact = _case_sensitive(column, dialect)
    if op == "=":
        # On MySQL keep the plain (indexable) comparison ahead of the binary one, as mlflow does.
        return column == value if exact is column else sa.and_(column == value, exact == value)
    if op == "!=":
        return exact != value
    if op == "LIKE":
        return column.like(value) if exact is column else sa.and_(column.like(value), exact.like(value))
    if op == "IN":
        return exact.in_(list(value))
    if op == "NOT IN":
        return exact.not_in(list(value))
    raise ValueError(f"unsupported operator {op!r}")


def _regexp_match(column, pattern: str, dialect: str):
    """`column RLIKE pattern` as MLflow's SQL store spells it per dialect (case-sensitive)."""
    if dialect == "sqlite":
        return column.op("REGEXP")(pattern)  # the function tracktui.store.sql.connect registers
    if dialect == "postgresql":
        return column.op("~")(pattern)
    if dialect == "mysql":
        binary = sa.cast(column, sa.LargeBinary)
        return binary.op("REGEXP")(sa.cast(sa.literal(pattern), sa.LargeBinary))
    raise InvalidValue(f"RLIKE is not supported on {dialect} (MLflow does not support it there either)")


def _numeric(column, op: str, value):
    return {"<": column < value, "<=": column <= value, ">": column > value, ">=": column >= value}[op]


# _presence: `IS NULL` / `IS NOT NULL` match the key with the column's own collation, as
# MLflow's SQL store does (a plain `key = :key`): on MySQL/MariaDB, whose default collation
# ignores case, `tags.TEAM IS NOT NULL` finds a `team` tag there. Every other comparison matches
# the key exactly (binary), as MLflow's does too.


def _case_sensitive(column, dialect: str):
    """The column as the dialect compares it case-sensitively (MySQL/MSSQL default collations
    ignore case; SQLite runs with case_sensitive_like and PostgreSQL is case-sensitive)."""
    if dialect == "mysql":
        # CAST(... AS BINARY), still bound and compared as a string on the Python side.
        return sa.type_coerce(sa.cast(column, sa.LargeBinary), sa.String)
    if dialect == "mssql":
        return column.collate(MSSQL_CASE_SENSITIVE_COLLATION)
    return column


# -- runs -------------------------------------------------------------------------------------


def run_filter_clauses(
    comparisons: Sequence[Comparison], t: Tables, dialect: str, text: str = ""
) -> list:
    """WHERE clauses (correlated to `t.runs`) for the parsed run filter."""
    runs = t.runs
    clauses = []
    for c in comparisons:
        if c.kind == "attribute":
            if c.key == "run_name":
                clauses.append(_key_value_exists(t.tags, runs.c.run_uuid, RUN_NAME_TAG, c, dialect))
                continue
            column = runs.c[RUN_ATTRIBUTE_COLUMNS[c.key]]
            numeric = c.key in ("start_time", "end_time")
            clauses.append(compare(column, c.op, c.value, dialect, text_column=not numeric))
        elif c.kind == "metric":
            clauses.append(_metric_exists(t.latest_metrics, runs.c.run_uuid, c, dialect))
        elif c.kind == "param":
            clauses.append(_key_value_exists(t.params, runs.c.run_uuid, c.key, c, dialect))
        elif c.kind == "tag":
            clauses.append(_key_value_exists(t.tags, runs.c.run_uuid, c.key, c, dialect))
        elif c.kind == "dataset":
            clauses.append(_dataset_exists(t, runs.c.run_uuid, c, dialect))
        else:  # the parser never produces this; keep the promise of one error type
            raise FilterSyntaxError(f"Unknown filter kind {c.kind!r}", text=text, position=0)
    return clauses


def _key_value_exists(table, run_uuid, key: str, c: Comparison, dialect: str):
    owner = table.c.run_uuid == run_uuid
    if c.op in ("IS NULL", "IS NOT NULL"):
        exists = sa.exists().where(owner, table.c.key == key)  # see _presence
        return ~exists if c.op == "IS NULL" else exists
    key_match = compare(table.c.key, "=", key, dialect)
    return sa.exists().where(owner, key_match, compare(table.c.value, c.op, c.value, dialect))


def _metric_exists(table, run_uuid, c: Comparison, dialect: str):
    owner = table.c.run_uuid == run_uuid
    if c.op in ("IS NULL", "IS NOT NULL"):
        exists = sa.exists().where(owner, table.c.key == c.key)  # see _presence
        return ~exists if c.op == "IS NULL" else exists
    key_match = compare(table.c.key, "=", c.key, dialect)
    value = float(cast(float, c.value))  # a metric comparison's value is a number
    if c.op == "!=":  # NaN (stored as 0, is_nan) is unequal to everything
        match = sa.or_(table.c.value != value, table.c.is_nan == sa.true())
    else:
        match = sa.and_(compare(table.c.value, c.op, value, dialect, text_column=False),
                        table.c.is_nan == sa.false())
    return sa.exists().where(owner, key_match, match)


def _dataset_exists(t: Tables, run_uuid, c: Comparison, dialect: str):
    if t.datasets is None or t.inputs is None:
        return sa.false()  # a schema from before datasets existed: no run has one
    d, i = t.datasets, t.inputs
    query = sa.select(sa.literal(1)).select_from(i.join(d, i.c.source_id == d.c.dataset_uuid))
    query = query.where(i.c.destination_id == run_uuid)
    if c.key == "context":
        if t.input_tags is None:
            return sa.false()
        it = t.input_tags
        query = query.join(it, it.c.input_uuid == i.c.input_uuid).where(
            it.c.name == DATASET_CONTEXT_TAG, compare(it.c.value, c.op, c.value, dialect)
        )
    else:
        query = query.where(compare(d.c[c.key], c.op, c.value, dialect))
    return query.exists()


def run_order_clauses(order_keys: Sequence[OrderKey], t: Tables, dialect: str):
    """(from_clause, ORDER BY list) for a run search: one outer join per metric/param/tag key.

    Each key sorts by a "missing" rank first (0 value, 1 NaN, 2 missing — always ascending,
    so missing is last in both directions), then by the value; then `start_time DESC` unless
    given, then `run_uuid`."""
    runs = t.runs
    source: sa.FromClause = runs
    order: list = []
    seen_start_time = False
    for n, key in enumerate(order_keys):
        if key.kind == "attribute":
            column = runs.c[RUN_ATTRIBUTE_COLUMNS[key.key]]
            seen_start_time |= key.key == "start_time"
            rank = sa.case((column.is_(None), 1), else_=0)
        else:
            table = {"metric": t.latest_metrics, "param": t.params, "tag": t.tags}[key.kind]
            alias = table.alias(f"order_{n}")
            source = source.outerjoin(
                alias, sa.and_(alias.c.run_uuid == runs.c.run_uuid, alias.c.key == key.key)
            )
            column = alias.c.value
            if key.kind == "metric":
                rank = sa.case((alias.c.is_nan == sa.true(), 1), (column.is_(None), 2), else_=0)
            else:
                rank = sa.case((column.is_(None), 1), else_=0)
        order.append(rank)
        order.append(column.asc() if key.ascending else column.desc())
    if not seen_start_time:
        order.append(runs.c.start_time.desc())
    order.append(runs.c.run_uuid.asc())
    return source, order


# -- experiments ------------------------------------------------------------------------------


def experiment_filter_clauses(
    comparisons: Sequence[Comparison], t: Tables, dialect: str, text: str = ""
) -> list:
    """WHERE clauses (correlated to `t.experiments`) for the parsed experiment filter."""
    e, et = t.experiments, t.experiment_tags
    clauses = []
    for c in comparisons:
        if c.kind == "tag":
            owner = et.c.experiment_id == e.c.experiment_id
            key_match = compare(et.c.key, "=", c.key, dialect)
            if c.op in ("IS NULL", "IS NOT NULL"):
                exists = sa.exists().where(owner, et.c.key == c.key)  # see _presence
                clauses.append(~exists if c.op == "IS NULL" else exists)
            else:
                clauses.append(
                    sa.exists().where(owner, key_match, compare(et.c.value, c.op, c.value, dialect))
                )
        elif c.key == "experiment_id":
            value = _experiment_ids(c.value, text)
            clauses.append(compare(e.c.experiment_id, c.op, value, dialect, text_column=False))
        elif c.key in ("creation_time", "last_update_time"):
            if c.key not in e.c:  # schema older than 97727af70f4d: the column is absent
                clauses.append(sa.false())
                continue
            clauses.append(compare(e.c[c.key], c.op, int(cast(float, c.value)), dialect, text_column=False))
        elif c.key == "name":
            clauses.append(compare(e.c.name, c.op, c.value, dialect))
        else:
            raise FilterSyntaxError(f"Unknown experiment attribute {c.key!r}", text=text, position=0)
    return clauses


def _experiment_ids(value, text: str):
    try:
        if isinstance(value, (tuple, list)):
            return tuple(int(v) for v in value)
        return int(value)
    except (TypeError, ValueError):
        position = max(0, text.find(str(value if not isinstance(value, tuple) else value[0])))
        raise FilterSyntaxError(
            f"Experiment ids are integers, got {value!r}", text=text, position=position,
            expected="an integer experiment id in quotes",
        ) from None


def experiment_order_clauses(order_keys: Sequence[OrderKey], t: Tables) -> list:
    """ORDER BY for experiments: the given keys (default creation_time DESC, experiment_id ASC),
    then experiment_id DESC as tie-breaker when the id is not already a key (as mlflow does)."""
    e = t.experiments
    keys = tuple(order_keys) or EXPERIMENT_ORDER_DEFAULT
    order = []
    for key in keys:
        if key.key not in e.c:
            continue  # creation/update time on a schema that lacks them: no ordering by it
        column = e.c[key.key]
        order.append(column.asc() if key.ascending else column.desc())
    if not any(key.key == "experiment_id" for key in keys):
        order.append(e.c.experiment_id.desc())
    return order
