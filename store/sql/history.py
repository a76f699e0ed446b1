"""Metric histories from the `metrics` table, whole or downsampled in the database.

Downsampling returns exactly the points of store.downsample.downsample_minmax (point i of
`total`, ordered by step, timestamp, value, is in bucket `i * n_buckets // total`; a bucket
keeps its first-occurring min and max, NaN ignored, an all-NaN bucket its first point; the
first and last point are always kept), so every backend agrees. The database computes the
buckets; Python only sees one row per bucket and the few kept points:

1. count / min step / max step (index only);
2. per bucket: row count, min, max, first step — bucketing by step when the steps are evenly
   spaced (the usual `log_metric(..., step=i)`), checked exact by comparing every bucket's
   row count with the expected size; otherwise by `ROW_NUMBER()` (a sort, slower but exact);
3. per bucket: the first step holding its min and its max;
4. the rows at those steps.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from ..downsample import bucket_bounds, bucket_count
from ..model import MetricPoint
from .schema import Tables


def metric_history(
    conn: sa.Connection, t: Tables, dialect: str, run_id: str, key: str, max_points: int | None
) -> list[MetricPoint]:
    """All points of the run's metric `key` in MLflow's order (timestamp, step, value), or,
    with `max_points`, at most that many ordered by step, timestamp, value (extremes kept)."""
    m = t.metrics
    where = (m.c.run_uuid == run_id, m.c.key == key)
    if max_points is not None:
        if max_points <= 0:
            return []
        # First and last step are two index seeks; counting a long history is a full scan, so
        # a wide step range is assumed dense (one point per step) and checked while bucketing.
        lo, hi = conn.execute(sa.select(
            sa.select(sa.func.min(m.c.step)).where(*where).scalar_subquery(),
            sa.select(sa.func.max(m.c.step)).where(*where).scalar_subquery(),
        )).one()
        if lo is None:
            return []
        total = hi - lo + 1
        if total <= 4 * max_points:
            total = conn.execute(sa.select(sa.func.count()).select_from(m).where(*where)).scalar()
        if total > max_points:
            points = _downsampled(conn, m, (run_id, key), dialect, total, lo, hi, max_points)
            if points is not None:
                return points
    result = conn.execute(_ordered(m, where, by_step=max_points is not None))
    nan = math.nan
    # The driver's tuples as they come: no per-point Row objects for long histories.
    return [MetricPoint(nan if is_nan else value, step, ts) for step, ts, value, is_nan in result.cursor.fetchall()]


def metric_tail(conn: sa.Connection, t: Tables, run_id: str, key: str, n: int) -> list[MetricPoint]:
    """The `n` points with the greatest (step, timestamp), in step order. With MLflow's
    `index_metrics_run_uuid_key_step` (mlflow >= 3.10) this is a backwards range read of n
    index entries, however long the history; older schemas sort the run's points for the key."""
    m = t.metrics
    query = (
        sa.select(m.c.step, m.c.timestamp, m.c.value, m.c.is_nan)
        .where(m.c.run_uuid == run_id, m.c.key == key)
        .order_by(m.c.step.desc(), m.c.timestamp.desc(), m.c.value.desc())
        .limit(n)
    )
    rows = conn.execute(query).cursor.fetchall()
    return [MetricPoint(math.nan if is_nan else value, step, ts) for step, ts, value, is_nan in reversed(rows)]


#: Tails read in one statement at most (SQLite allows 500 terms in a compound select).
TAILS_PER_STATEMENT = 100


def metric_tails(conn: sa.Connection, t: Tables, pairs: Sequence[tuple[str, str]], n: int
                 ) -> dict[tuple[str, str], list[MetricPoint]]:
    """`metric_tail` of every (run id, key) pair in one round trip per TAILS_PER_STATEMENT:
    a UNION ALL of the same backwards index range reads, so each pair still costs n index
    entries however long its history."""
    m = t.metrics
    out: dict[tuple[str, str], list[MetricPoint]] = {pair: [] for pair in pairs}
    wanted = list(out)
    for start in range(0, len(wanted), TAILS_PER_STATEMENT):
        parts = [
            sa.select(
                sa.literal(i, sa.Integer).label("pair"), m.c.step, m.c.timestamp, m.c.value, m.c.is_nan,
            ).where(m.c.run_uuid == run_id, m.c.key == key)
            .order_by(m.c.step.desc(), m.c.timestamp.desc(), m.c.value.desc())
            .limit(n).subquery()
            for i, (run_id, key) in enumerate(wanted[start:start + TAILS_PER_STATEMENT], start)
        ]
        query = sa.union_all(*(sa.select(*part.c) for part in parts))
        for pair, step, ts, value, is_nan in conn.execute(query).cursor.fetchall():
            out[wanted[pair]].append(MetricPoint(math.nan if is_nan else value, step, ts))
    for points in out.values():
        points.sort(key=lambda p: (p.step, p.timestamp, p.value))
    return out


def _ordered(m, where, by_step: bool = True):
    """The points' query: by step (what plots and downsampling need) or in the order MLflow's
    SQL store returns a whole history (timestamp, step, value)."""
    order = (m.c.step, m.c.timestamp, m.c.value) if by_step else (m.c.timestamp, m.c.step, m.c.value)
    return sa.select(m.c.step, m.c.timestamp, m.c.value, m.c.is_nan).where(*where).order_by(*order)


def _downsampled(conn, m, run_key, dialect, total, lo, hi, max_points) -> list[MetricPoint] | None:
    """The kept points, or None when the history turns out to have at most `max_points`
    points (`total` was a guess)."""
    where = (m.c.run_uuid == run_key[0], m.c.key == run_key[1])
    n_buckets = bucket_count(max_points)
    if n_buckets == 0:  # room for the first and last point only
        if conn.execute(sa.select(sa.func.count()).select_from(m).where(*where)).scalar() <= max_points:
            return None
        rows = conn.execute(_ordered(m, (*where, m.c.step.in_([lo, hi])))).all()
        return [_point(rows[0])] + ([_point(rows[-1])] if max_points > 1 and len(rows) > 1 else [])
    expected = [b - a for a, b in bucket_bounds(total, n_buckets)]
    by_position = True
    first_of: dict[tuple[int, str], int] = {}  # (bucket, "min"|"max") -> identifier
    stride, rest = divmod(hi - lo, total - 1)
    if stride > 0 and rest == 0:
        # Evenly spaced steps: a point's position is (step - lo) / stride, if the bucket sizes
        # agree; then all rows of a step share a bucket and the step identifies a point.
        index = _idiv(m.c.step - lo, stride, dialect) if stride > 1 else m.c.step - lo
        source = _with_bucket(m, where, index, n_buckets, total, dialect)
        if dialect == "sqlite" and _has_step_index(conn):
            buckets, first_of = _sqlite_step_buckets(conn, run_key, lo, stride, total, n_buckets)
        else:
            buckets = _bucket_stats(conn, source, source.c.step)
        by_position = [b[1] for b in buckets] != expected
        real_total = sum(b[1] for b in buckets)
        if by_position and real_total != total:  # the guess was wrong: start again, knowing
            if real_total <= max_points:
                return None
            return _downsampled(conn, m, run_key, dialect, real_total, lo, hi, max_points)
    if by_position:
        first_of = {}
        index = sa.func.row_number().over(order_by=(m.c.step, m.c.timestamp, m.c.value)) - 1
        source = _with_bucket(m, where, index, n_buckets, total, dialect)
        buckets = _bucket_stats(conn, source, source.c.pos)
    ident = source.c.pos if by_position else source.c.step
    # 3. per bucket, the first point holding its min and its max: one grouped pass over the
    #    rows whose value is some bucket's extreme (it may be another bucket's extreme too, so
    #    group by bucket and value and pick the pair in Python; NaN rows never match).
    wanted = {v for _b, _n, mn, mx, _f in buckets if mn is not None for v in (mn, mx)}
    if wanted and not first_of:
        query = (
            sa.select(source.c.b, source.c.value, sa.func.min(ident))
            .where(source.c.is_nan == sa.false(), source.c.value.in_(sorted(wanted)))
            .group_by(source.c.b, source.c.value)
        )
        by_value = {(b, value): first for b, value, first in conn.execute(query)}
        for b, _n, mn, mx, _first in buckets:
            if mn is not None:
                first_of[(b, "min")], first_of[(b, "max")] = by_value[(b, mn)], by_value[(b, mx)]
    # 4. fetch the kept points: (identifier, which point of the rows there)
    picks: list[tuple[int, str]] = [(0 if by_position else lo, "first")]
    for b, _n, mn, _mx, first in buckets:
        if mn is None:  # only NaN in this bucket: its first point
            picks.append((first, "first"))
        else:
            picks += [(first_of[(b, "min")], "min"), (first_of[(b, "max")], "max")]
    last = (total - 1) if by_position else hi
    idents = sorted({i for i, _w in picks} | {last})
    if by_position:
        stmt = sa.select(source.c.pos, source.c.step, source.c.timestamp, source.c.value, source.c.is_nan)
        rows = conn.execute(stmt.where(source.c.pos.in_(idents))).all()
    else:
        rows = conn.execute(
            sa.select(m.c.step, m.c.step, m.c.timestamp, m.c.value, m.c.is_nan)
            .where(*where, m.c.step.in_(idents))
            .order_by(m.c.step, m.c.timestamp, m.c.value)
        ).all()
    at: dict[int, list] = {}
    for row in rows:
        at.setdefault(row[0], []).append(tuple(row[1:]))
    keep = {at[last][-1]}
    for i, which in picks:
        keep.add(_pick(at[i], which))
    return [_point(r) for r in sorted(keep, key=lambda r: (r[0], r[1], r[2]))]


def _pick(rows: list[tuple], which: str) -> tuple:
    """The first of the rows at one identifier (ordered by step, timestamp, value) that holds
    their smallest or largest finite value. The identifier was chosen as the first place the
    bucket's extreme occurs, so this is that point — without comparing floats that travelled."""
    if which == "first":
        return rows[0]
    finite = [r for r in rows if not r[3]]
    target = min(r[2] for r in finite) if which == "min" else max(r[2] for r in finite)
    return next(r for r in finite if r[2] == target)


# -- SQLite: per-bucket range aggregates --------------------------------------------------------
# SQLite sorts every row for a GROUP BY on a computed bucket; with evenly spaced steps each
# bucket is a step range instead, aggregated by index range scans per bucket (no sort). A
# correlated subquery returns one value, so a bucket's numbers travel packed in one text. With
# exactly one min() or max() in a query, SQLite takes bare columns from the row holding it —
# the first such row of the scan, which walks the (run_uuid, key, step) index in step order —
# so each extreme arrives with the first step where it occurs, and with that row's is_nan: a
# NaN row (stored as 0) can only disturb an extreme by being it, so a finite extreme row is the
# bucket's true finite extreme, first occurrence included; NaN is never summed per row.

_SQLITE_BUCKET_RANGE = """
    step >= :lo + :stride * ((b * :total + :nb - 1) / :nb)
    AND step < :lo + :stride * (((b + 1) * :total + :nb - 1) / :nb)"""
_SQLITE_BUCKETS = f"""
WITH RECURSIVE bk(b) AS (SELECT :first UNION ALL SELECT b + 1 FROM bk WHERE b < :last)
SELECT b,
  (SELECT printf('%d %d %!.20e %d', count(*), is_nan, min(value), step)
   FROM metrics INDEXED BY index_metrics_run_uuid_key_step
   WHERE run_uuid = :run AND key = :key AND {_SQLITE_BUCKET_RANGE}),
  (SELECT printf('%d %!.20e %d', is_nan, max(value), step)
   FROM metrics INDEXED BY index_metrics_run_uuid_key_step
   WHERE run_uuid = :run AND key = :key AND {_SQLITE_BUCKET_RANGE})
FROM bk
"""
# Buckets where an extreme row is NaN: their finite extremes (count 0: only NaN in the bucket).
_SQLITE_FINITE_EXTREME = f"""
SELECT printf('%d %!.20e %d', count(*), {{agg}}(value), step)
FROM metrics INDEXED BY index_metrics_run_uuid_key_step, (SELECT :b AS b)
WHERE run_uuid = :run AND key = :key AND is_nan = 0 AND {_SQLITE_BUCKET_RANGE}
"""
_SQLITE_FIRST_STEP = f"""
SELECT min(step) FROM metrics, (SELECT :b AS b)
WHERE run_uuid = :run AND key = :key AND {_SQLITE_BUCKET_RANGE}
"""


def _sqlite_step_buckets(conn, run_key, lo, stride, total, n_buckets):
    """(buckets, first_of): (bucket, rows, min, max, first step) per bucket as _bucket_stats
    gives them (first step only for all-NaN buckets), and each extreme's first step."""
    params = {"first": 0, "last": n_buckets - 1, "run": run_key[0], "key": run_key[1], "lo": lo,
              "stride": stride, "total": total, "nb": n_buckets}
    buckets: list[tuple[int, int, float | None, float | None, int | None]] = []
    first_of: dict[tuple[int, str], int] = {}
    for b, low, high in _bucket_rows_in_parallel(conn, params, total):
        count, min_is_nan, mn, smin = low.split()
        max_is_nan, mx, smax = high.split()
        count = int(count)
        if not count:
            continue
        if min_is_nan == "1" or max_is_nan == "1":
            bp = {**params, "b": b}
            finite, mn, smin = conn.exec_driver_sql(_SQLITE_FINITE_EXTREME.format(agg="min"), bp).scalar().split()
            if finite == "0":  # only NaN here: the bucket keeps its first point
                first = conn.exec_driver_sql(_SQLITE_FIRST_STEP, bp).scalar()
                buckets.append((b, count, None, None, first))
                continue
            _, mx, smax = conn.exec_driver_sql(_SQLITE_FINITE_EXTREME.format(agg="max"), bp).scalar().split()
        buckets.append((b, count, float(mn), float(mx), None))
        first_of[(b, "min")], first_of[(b, "max")] = int(smin), int(smax)
    return buckets, first_of


#: Below this many points one connection reads all buckets; above, the buckets are split
#: between connections reading at once (SQLite releases the GIL while it steps a query).
_PARALLEL_MIN_POINTS = 100_000


def _bucket_rows_in_parallel(conn, params: dict, total: int) -> list:
    """The rows of _SQLITE_BUCKETS, the bucket range split over up to 4 connections.

    A bucket's numbers take two range scans of the step index with a table lookup per row;
    for a 1M-point history that is ~350 ms of one core. Each extra connection (from the
    engine's pool, so reused) takes an equal share of the buckets in its own thread, which
    divides the wait for a long history's plot by the number of cores."""
    n_buckets = params["last"] + 1
    ways = min(4, os.cpu_count() or 1, max(1, n_buckets // 50))
    if total < _PARALLEL_MIN_POINTS or ways < 2:
        return conn.exec_driver_sql(_SQLITE_BUCKETS, params).all()
    bounds = [n_buckets * i // ways for i in range(ways + 1)]
    shares = [{**params, "first": a, "last": b - 1} for a, b in zip(bounds, bounds[1:])]

    def on_own_connection(share: dict) -> list:
        with conn.engine.connect() as own:
            return own.exec_driver_sql(_SQLITE_BUCKETS, share).all()

    with ThreadPoolExecutor(max_workers=ways - 1, thread_name_prefix="tracktui-history") as pool:
        others = [pool.submit(on_own_connection, share) for share in shares[1:]]
        rows = conn.exec_driver_sql(_SQLITE_BUCKETS, shares[0]).all()
        for other in others:
            rows += other.result()
    return rows


def _has_step_index(conn) -> bool:
    """`index_metrics_run_uuid_key_step` exists since revision a5b4c3d2e1f0 (mlflow 3.10);
    without it a step range is no index range, and the per-bucket scans would each read the
    whole history."""
    rows = conn.exec_driver_sql("PRAGMA index_list(metrics)").all()
    return any(row[1] == "index_metrics_run_uuid_key_step" for row in rows)


def _with_bucket(m, where, index, n_buckets: int, total: int, dialect: str):
    bucket = _idiv(index * n_buckets, total, dialect)
    return (
        sa.select(m.c.step, m.c.timestamp, m.c.value, m.c.is_nan, index.label("pos"), bucket.label("b"))
        .where(*where)
        .subquery("points")
    )


def _bucket_stats(conn, source, ident) -> list[tuple]:
    """(bucket, rows, min, max, first identifier) per bucket, NaN excluded from min/max."""
    finite = sa.case((source.c.is_nan == sa.false(), source.c.value))
    query = (
        sa.select(
            source.c.b, sa.func.count(), sa.func.min(finite), sa.func.max(finite),
            sa.func.min(ident),
        )
        .group_by(source.c.b)
        .order_by(source.c.b)
    )
    return [tuple(r) for r in conn.execute(query)]


def _idiv(numerator, denominator: int, dialect: str):
    """Integer division of non-negative integers, in every dialect."""
    divisor = sa.literal(denominator, sa.BigInteger)
    if dialect == "mysql":
        return numerator.op("DIV", return_type=sa.BigInteger)(divisor)
    return sa.type_coerce(numerator, sa.BigInteger) // divisor


def _point(row) -> MetricPoint:
    step, ts, value, is_nan = row
    return MetricPoint(math.nan if is_nan else value, step, ts)
