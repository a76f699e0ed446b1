"""Metric histories from the `metrics` table, whole or downsampled without losing extremes.

Downsampling uses the buckets of store.downsample (point i of `total` goes to bucket
`i * n_buckets // total`; each bucket keeps its min and max, the first and last point are
always kept), so every backend returns the same points. The points are ordered by step, then
timestamp, then value. Discarded points never become objects: the database returns only raw
values, and only kept points become MetricPoints.
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
    """All points of the run's metric `key` (or at most `max_points` of them)."""
    m = t.metrics
    where = (m.c.run_uuid == run_id, m.c.key == key)
    order = (m.c.step, m.c.timestamp, m.c.value)
    if max_points is not None:
        if max_points <= 0:
            return []
        total = conn.execute(sa.select(sa.func.count()).select_from(m).where(*where)).scalar() or 0
        if total > max_points:
            return _downsampled(conn, m, where, order, total, max_points)
    stmt = sa.select(m.c.step, m.c.timestamp, m.c.value, m.c.is_nan).where(*where).order_by(*order)
    nan = math.nan
    return [MetricPoint(nan if is_nan else value, step, ts) for step, ts, value, is_nan in conn.execute(stmt)]


def _downsampled(conn, m, where, order, total: int, max_points: int) -> list[MetricPoint]:
    """One pass over raw (value, is_nan) values in order, then the kept rows only."""
    if max_points == 1:
        stmt = sa.select(m.c.step, m.c.timestamp, m.c.value, m.c.is_nan).where(*where).order_by(*order).limit(1)
        return [_point(row) for row in conn.execute(stmt)]
    stmt = sa.select(m.c.step, m.c.timestamp, m.c.value, m.c.is_nan).where(*where).order_by(*order)
    rows = conn.execute(stmt).all()
    total = len(rows)
    values = [math.nan if r[3] else r[2] for r in rows]
    keep = {0, total - 1}
    for lo, hi in bucket_bounds(total, bucket_count(max_points)):
        chunk = values[lo:hi]
        s = sum(chunk)
        if s == s:
            keep.add(lo + chunk.index(min(chunk)))
            keep.add(lo + chunk.index(max(chunk)))
        else:
            finite = [(v, i) for i, v in enumerate(chunk) if v == v]
            if not finite:
                keep.add(lo)
            else:
                keep.add(lo + min(finite)[1])
                keep.add(lo + max(finite, key=lambda vi: (vi[0], -vi[1]))[1])
    return [_point(rows[i]) for i in sorted(keep)]


def _point(row) -> MetricPoint:
    step, ts, value, is_nan = row
    return MetricPoint(math.nan if is_nan else value, step, ts)
