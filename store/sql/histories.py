"""One metric's histories for a page of runs (sparklines), in a few queries instead of a few per run.

A runs page shows ~50 rows; asking `metric_history` per row costs ~4 queries each. Here:

1. one grouped count of the key's points per run (an index range per run);
2. the runs with short histories (the usual sweep: tens to a few thousand points): all their
   points in one query, ordered by run, step, timestamp, value, and downsampled in Python by
   store.downsample — exactly the points `metric_history(..., max_points)` keeps;
3. runs with long histories: `metric_history` each, which buckets in the database.

bench/bench_sparklines.py times a page of 50 rows × 2 keys this way against MlflowClient.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import sqlalchemy as sa

from ..batching import chunked
from ..downsample import downsample_minmax
from ..model import MetricPoint
from .history import metric_history
from .schema import Tables

#: A history with more points than this is downsampled in the database, run by run; shorter
#: ones travel whole in the shared query (reading them costs less than bucketing them).
SHORT_HISTORY = 5000
#: Run ids per `IN (...)` list.
_IDS_PER_QUERY = 500


def metric_histories(
    conn: sa.Connection, t: Tables, dialect: str, run_ids: Sequence[str], key: str, max_points: int
) -> dict[str, list[MetricPoint]]:
    """Each run's history of `key`, as `metric_history(conn, ..., max_points)` returns it;
    runs without the key (or unknown) map to []."""
    ids = list(dict.fromkeys(run_ids))
    out: dict[str, list[MetricPoint]] = {run_id: [] for run_id in ids}
    if max_points <= 0 or not ids:
        return out
    m = t.metrics
    counts: dict[str, int] = {}
    for chunk in chunked(ids, _IDS_PER_QUERY):
        query = (
            sa.select(m.c.run_uuid, sa.func.count())
            .where(m.c.key == key, m.c.run_uuid.in_(chunk))
            .group_by(m.c.run_uuid)
        )
        counts.update({run_id: n for run_id, n in conn.execute(query)})
    short = [run_id for run_id, n in counts.items() if n <= max(SHORT_HISTORY, max_points)]
    # SQLite would read this through the primary key, which starts with `key`: every run's
    # points of the key (500k rows on the bench store, ~100 ms). `key || ''` is no indexed
    # column, so it walks the run_uuid index instead: only the page's rows.
    key_match = m.c.key.concat("") == key if dialect == "sqlite" else m.c.key == key
    for chunk in chunked(short, _IDS_PER_QUERY):
        query = (
            sa.select(m.c.run_uuid, m.c.step, m.c.timestamp, m.c.value, m.c.is_nan)
            .where(key_match, m.c.run_uuid.in_(chunk))
            .order_by(m.c.run_uuid, m.c.step, m.c.timestamp, m.c.value)
        )
        nan = math.nan
        for run_id, step, ts, value, is_nan in conn.execute(query).cursor.fetchall():
            out[run_id].append(MetricPoint(nan if is_nan else value, step, ts))
    for run_id in short:
        if len(out[run_id]) > max_points:
            out[run_id] = downsample_minmax(out[run_id], max_points)
    for run_id in counts.keys() - set(short):
        out[run_id] = metric_history(conn, t, dialect, run_id, key, max_points)
    return out
