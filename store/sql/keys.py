"""Which metric, param and tag keys an experiment's runs use (`SqlStore.list_keys`): the
query the runs screen sends before its first page, so it must not grow with the store.

Shape: the table's distinct keys, then for each key one probe for a row of a run in the
experiments, written as a scalar `LIMIT 1` subquery, which the database runs per key and stops
at the first row found. SQLite and MySQL/MariaDB read distinct keys off the (key, run_uuid)
primary key's prefix (skip scan, loose index scan); PostgreSQL has neither plan (`SELECT
DISTINCT key` reads every row), so there the keys are walked one index probe each (a recursive
`min(key) > previous`). SQLite probes with `EXISTS`, which it runs per key too.

Measured on the 1M-run bench store (bench_scale.py), the experiment of 500k runs:
- PostgreSQL turned `EXISTS` into a hash semi-join of the whole table with the experiment's
  runs: 68 s for the three tables at load 16; this shape, 5 ms quiet.
- MariaDB 10.11 materialized the `EXISTS` semi-join: every row of every run of the experiment
  (5M in `latest_metrics`), then their distinct keys: 12.8 s (0.7 s for a 2,600-run
  experiment); this shape, 3 ms (20 ms).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa


def used_keys_query(table, runs, experiment_ids: Sequence[int], dialect: str) -> sa.Select:
    """SELECT of the keys in `table` (latest_metrics, params or tags) that at least one run of
    `experiment_ids` has; one column, unordered."""
    keys = _distinct_keys(table, dialect)
    x = table.alias("x")
    rows_of_key = (
        sa.select(sa.literal(1))
        .select_from(x.join(runs, runs.c.run_uuid == x.c.run_uuid))
        .where(x.c.key == keys.c.key, runs.c.experiment_id.in_(experiment_ids))
    )
    if dialect == "sqlite":
        return sa.select(keys.c.key).where(rows_of_key.exists())
    return sa.select(keys.c.key).where(rows_of_key.limit(1).scalar_subquery().is_not(None))


def _distinct_keys(table, dialect: str) -> sa.Subquery:
    """The distinct keys as a subquery with one column, `key`."""
    if dialect != "postgresql":
        return sa.select(table.c.key).distinct().subquery("k")
    later = table.alias("later")
    walk = sa.select(sa.func.min(table.c.key).label("key")).cte("key_walk", recursive=True)
    following = sa.select(sa.func.min(later.c.key)).where(later.c.key > walk.c.key).scalar_subquery()
    walk = walk.union_all(sa.select(following.label("key")).select_from(walk).where(walk.c.key.is_not(None)))
    return sa.select(walk.c.key).where(walk.c.key.is_not(None)).subquery("k")
