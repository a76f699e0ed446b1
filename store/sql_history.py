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

import sqlalchemy as sa

from .downsample import bucket_bounds, bucket_count
from .model import MetricPoint
from .sql_schema import Tables


def metric_history(
    conn: sa.Connection, t: Tables, dialect: str, run_id: str, key: str, max_points: int | None
) -> list[MetricPoint]:
    """All points of the run's metric `key` ordered by step, timestamp, value (or at most
    `max_points` of them, extremes kept)."""
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
    result = conn.execute(_ordered(m, where))
    nan = math.nan
    # The driver's tuples as they come: no per-point Row objects for long histories.
    return [MetricPoint(nan if is_nan else value, step, ts) for step, ts, value, is_nan in result.cursor.fetchall()]


def _ordered(m, where):
    return (
        sa.select(m.c.step, m.c.timestamp, m.c.value, m.c.is_nan)
        .where(*where)
        .order_by(m.c.step, m.c.timestamp, m.c.value)
    )


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
    stride, rest = divmod(hi - lo, total - 1)
    if stride > 0 and rest == 0:
        # Evenly spaced steps: a point's position is (step - lo) / stride, if the bucket sizes
        # agree; then all rows of a step share a bucket and the step identifies a point.
        index = _idiv(m.c.step - lo, stride, dialect) if stride > 1 else m.c.step - lo
        source = _with_bucket(m, where, index, n_buckets, total, dialect)
        if dialect == "sqlite":
            buckets = _sqlite_step_buckets(conn, run_key, lo, stride, total, n_buckets)
        else:
            buckets = _bucket_stats(conn, source, source.c.step)
        by_position = [b[1] for b in buckets] != expected
        real_total = sum(b[1] for b in buckets)
        if by_position and real_total != total:  # the guess was wrong: start again, knowing
            if real_total <= max_points:
                return None
            return _downsampled(conn, m, run_key, dialect, real_total, lo, hi, max_points)
    if by_position:
        index = sa.func.row_number().over(order_by=(m.c.step, m.c.timestamp, m.c.value)) - 1
        source = _with_bucket(m, where, index, n_buckets, total, dialect)
        buckets = _bucket_stats(conn, source, source.c.pos)
    ident = source.c.pos if by_position else source.c.step
    # 3. per bucket, the first point holding its min and its max: one grouped pass over the
    #    rows whose value is some bucket's extreme (it may be another bucket's extreme too, so
    #    group by bucket and value and pick the pair in Python; NaN rows never match).
    wanted = {v for _b, _n, mn, mx, _f in buckets if mn is not None for v in (mn, mx)}
    first_of: dict[tuple[int, float], int] = {}
    if wanted and dialect == "sqlite" and not by_position:
        first_of = _sqlite_first_steps(conn, run_key, lo, stride, total, n_buckets, buckets)
        if any((b, v) not in first_of for b, _n, mn, mx, _f in buckets if mn is not None for v in (mn, mx)):
            first_of = {}  # a value did not survive the text round trip: do it the general way
    if wanted and not first_of:
        query = (
            sa.select(source.c.b, source.c.value, sa.func.min(ident))
            .where(source.c.is_nan == sa.false(), source.c.value.in_(sorted(wanted)))
            .group_by(source.c.b, source.c.value)
        )
        for b, value, first in conn.execute(query):
            first_of[(b, value)] = first
    # 4. fetch the kept points: (identifier, value to match or None for "first row")
    picks: list[tuple[int, float | None]] = [(0 if by_position else lo, None)]
    for b, _n, mn, mx, first in buckets:
        if mn is None:  # only NaN in this bucket: its first point
            picks.append((first, None))
        else:
            picks += [(first_of[(b, mn)], mn), (first_of[(b, mx)], mx)]
    last = (total - 1) if by_position else hi
    idents = sorted({i for i, _v in picks} | {last})
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
        at.setdefault(row[0], []).append(row[1:])
    keep = {at[last][-1]}
    for i, value in picks:
        candidates = at[i]
        keep.add(candidates[0] if value is None else next(r for r in candidates if not r[3] and r[2] == value))
    return [_point(r) for r in sorted(keep, key=lambda r: (r[0], r[1], r[2]))]


# -- SQLite: per-bucket range aggregates --------------------------------------------------------
# SQLite sorts every row for a GROUP BY on a computed bucket; with evenly spaced steps each
# bucket is a step range instead, aggregated by one index range scan per bucket (no sort).
# A correlated subquery returns one value, so the bucket's numbers travel as one text, floats
# printed with 21 significant digits (exact on the way back; checked by the exact-match pass).

_SQLITE_BUCKET_RANGE = """
    step >= :lo + :stride * ((b * :total + :nb - 1) / :nb)
    AND step < :lo + :stride * (((b + 1) * :total + :nb - 1) / :nb)"""
_SQLITE_BUCKETS = f"""
WITH RECURSIVE bk(b) AS (SELECT 0 UNION ALL SELECT b + 1 FROM bk WHERE b < :last)
SELECT b, (
  SELECT printf('%d %d %!.20e %!.20e', count(*), sum(is_nan), min(value), max(value))
  FROM metrics WHERE run_uuid = :run AND key = :key AND {_SQLITE_BUCKET_RANGE}
) FROM bk
"""
# Buckets holding NaN (stored as 0) need their extremes again without those rows.
_SQLITE_FINITE_BUCKET = f"""
SELECT count(*), min(step), printf('%!.20e %!.20e', min(value), max(value))
FROM metrics, (SELECT :b AS b)
WHERE run_uuid = :run AND key = :key AND is_nan = 0 AND {_SQLITE_BUCKET_RANGE}
"""
_SQLITE_FIRST_STEP = f"""
SELECT min(step) FROM metrics, (SELECT :b AS b)
WHERE run_uuid = :run AND key = :key AND {_SQLITE_BUCKET_RANGE}
"""


def _sqlite_step_buckets(conn, run_key, lo, stride, total, n_buckets) -> list[tuple]:
    """(bucket, rows, min, max, first step) per bucket, like _bucket_stats, without a sort
    (first step only where the bucket holds nothing but NaN)."""
    params = {"last": n_buckets - 1, "run": run_key[0], "key": run_key[1], "lo": lo,
              "stride": stride, "total": total, "nb": n_buckets}
    out = []
    for b, packed in conn.exec_driver_sql(_SQLITE_BUCKETS, params).all():
        count, nans, mn, mx = packed.split()
        count, nans = int(count), int(nans or 0)
        if not count:
            continue
        if not nans:
            out.append((b, count, float(mn), float(mx), None))
        elif nans == count:
            first = conn.exec_driver_sql(_SQLITE_FIRST_STEP, {**params, "b": b}).scalar()
            out.append((b, count, None, None, first))
        else:
            _n, _first, finite = conn.exec_driver_sql(_SQLITE_FINITE_BUCKET, {**params, "b": b}).one()
            mn, mx = finite.split()
            out.append((b, count, float(mn), float(mx), None))
    return out


def _sqlite_first_steps(conn, run_key, lo, stride, total, n_buckets, buckets) -> dict[tuple[int, float], int]:
    """{(bucket, value): first step holding it} for each bucket's min and max; each lookup
    walks its bucket's step range in order and stops at the first match."""
    rows = [(b, mn, mx) for b, _n, mn, mx, _f in buckets if mn is not None]
    values = ", ".join("(?, ?, ?)" for _ in rows)
    sql = (
        f"WITH bk(b, mn, mx) AS (VALUES {values}) "
        "SELECT b, mn, mx, "
        "(SELECT min(step) FROM metrics WHERE run_uuid = ? AND key = ? AND step >= s0 AND step < s1 "
        " AND is_nan = 0 AND value = mn), "
        "(SELECT min(step) FROM metrics WHERE run_uuid = ? AND key = ? AND step >= s0 AND step < s1 "
        " AND is_nan = 0 AND value = mx) "
        "FROM (SELECT b, mn, mx, ? + ? * ((b * ? + ? - 1) / ?) AS s0, "
        "      ? + ? * (((b + 1) * ? + ? - 1) / ?) AS s1 FROM bk)"
    )
    params = [x for row in rows for x in row]
    params += [*run_key, *run_key]
    params += [lo, stride, total, n_buckets, n_buckets] * 2
    out = {}
    for b, mn, mx, smin, smax in conn.exec_driver_sql(sql, tuple(params)):
        if smin is not None:
            out[(b, mn)] = smin
        if smax is not None:
            out[(b, mx)] = smax
    return out


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
    denominator = sa.literal(denominator, sa.BigInteger)
    if dialect == "mysql":
        return numerator.op("DIV", return_type=sa.BigInteger)(denominator)
    return sa.type_coerce(numerator, sa.BigInteger) // denominator


def _point(row) -> MetricPoint:
    step, ts, value, is_nan = row
    return MetricPoint(math.nan if is_nan else value, step, ts)
