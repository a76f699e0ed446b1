"""`group_runs` on MLflow's SQL schema: one GROUP BY over the filtered runs for mean, min, max
and count, plus one window query per metric whose `last` is asked for (store.groups has the
definitions every backend shares).

The group key and each metric are outer joins on their tables' (key, run_uuid) primary keys,
so the database groups a 100k-run sweep without sending a run to Python. Keys and group values
compare case-sensitively on every dialect (MySQL's default collation would merge `adam` and
`Adam` into one group, which MlflowClient's runs never do).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..groups import FLOAT_MAX, GroupKey, group_order
from ..model import RunGroup
from .filters import _case_sensitive, compare
from .schema import Tables


def grouped_runs(
    conn: Connection,
    t: Tables,
    dialect: str,
    where: Sequence,
    key: GroupKey,
    wanted: Sequence[tuple[str, str]],
) -> list[RunGroup]:
    """The groups of the runs matching `where` (clauses correlated to `t.runs`), with the
    `wanted` (metric, aggregate) pairs, in store.groups' order."""
    runs = t.runs
    group_table = t.params if key.kind == "param" else t.tags
    g = group_table.alias("group_key")
    source: sa.FromClause = _with_group(runs, g, key, dialect)
    group_value = _case_sensitive(g.c.value, dialect)
    metrics = sorted({metric for metric, _ in wanted})
    numbers = {}
    for n, metric in enumerate(metrics):
        lm = t.latest_metrics.alias(f"metric_{n}")
        source = source.outerjoin(
            lm, sa.and_(lm.c.run_uuid == runs.c.run_uuid, compare(lm.c.key, "=", metric, dialect))
        )
        # NaN is stored as value 0 with is_nan set: NULL leaves it out of every aggregate;
        # the mean also leaves out ±inf, which MLflow stores as ±FLOAT_MAX.
        number = sa.case((lm.c.is_nan == sa.true(), sa.null()), else_=lm.c.value)
        finite = sa.case((lm.c.is_nan == sa.true(), sa.null()), (lm.c.value >= FLOAT_MAX, sa.null()),
                         (lm.c.value <= -FLOAT_MAX, sa.null()), else_=lm.c.value)
        numbers[metric] = (number, finite)
    computed = [(pair, _aggregate(*numbers[pair[0]], pair[1])) for pair in wanted if pair[1] != "last"]
    stmt = (
        sa.select(group_value, sa.func.count(), *(column for _, column in computed))
        .select_from(source)
        .where(*where)
        .group_by(group_value)
    )
    groups: dict[str | None, tuple[int, dict]] = {}
    for value, count, *results in conn.execute(stmt):
        values = {pair: _number(result, pair[1]) for (pair, _), result in zip(computed, results)}
        groups[_text(value)] = (count, values)
    last_of = sorted({metric for metric, aggregate in wanted if aggregate == "last"})
    if last_of:
        for value, metric, last in _last_values(conn, t, dialect, where, key, last_of):
            groups[value][1][(metric, "last")] = last
    return [
        RunGroup(value, count, {pair: values.get(pair) for pair in wanted})
        for value, (count, values) in sorted(groups.items(), key=lambda item: group_order(item[0]))
    ]


def _aggregate(number, finite, aggregate: str):
    if aggregate == "mean":
        return sa.func.avg(finite)
    if aggregate == "min":
        return sa.func.min(number)
    if aggregate == "max":
        return sa.func.max(number)
    return sa.func.count(number)  # "count": the runs with a number


def _with_group(runs, g, key: GroupKey, dialect: str) -> sa.FromClause:
    """`runs` with their group key's row (none for runs without the key)."""
    return runs.outerjoin(
        g, sa.and_(g.c.run_uuid == runs.c.run_uuid, compare(g.c.key, "=", key.key, dialect))
    )


def _last_values(conn: Connection, t: Tables, dialect: str, where: Sequence, key: GroupKey,
                 metrics: Sequence[str]):
    """(group value, metric, last value) per group and metric: the point with the greatest
    timestamp, then step, ties to the smallest run id (row_number over group and metric; one
    query for every metric whose last is asked for)."""
    runs = t.runs
    g = (t.params if key.kind == "param" else t.tags).alias("group_key")
    group_value = _case_sensitive(g.c.value, dialect)
    lm = t.latest_metrics.alias("last_metric")
    metric_key = _case_sensitive(lm.c.key, dialect)
    rank = sa.func.row_number().over(
        partition_by=(group_value, metric_key),
        order_by=(lm.c.timestamp.desc(), lm.c.step.desc(), runs.c.run_uuid.asc()),
    )
    joined = _with_group(runs, g, key, dialect).join(
        lm, sa.and_(lm.c.run_uuid == runs.c.run_uuid, compare(lm.c.key, "IN", metrics, dialect))
    )
    ranked = (
        sa.select(group_value.label("group_value"), metric_key.label("metric"), lm.c.value, lm.c.is_nan, rank.label("rank"))
        .select_from(joined)
        .where(*where)
        .subquery("ranked")
    )
    stmt = sa.select(ranked.c.group_value, ranked.c.metric, ranked.c.value, ranked.c.is_nan).where(ranked.c.rank == 1)
    for value, metric, number, is_nan in conn.execute(stmt):
        yield _text(value), _text(metric), (float("nan") if is_nan else float(number))


def _number(result, aggregate: str) -> float | int | None:
    if result is None:
        return None
    return int(result) if aggregate == "count" else float(result)


def _text(value) -> str | None:
    """A group value as text (MySQL hands the binary-compared value back as bytes)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8")
    return value
