"""How a query over the runs of some experiments reaches them on MySQL/MariaDB: through MLflow's
`(experiment_id)` index, or in one pass over `runs`.

InnoDB's `(experiment_id)` index (the one its foreign key made) holds run ids only: walking it
costs one primary-key lookup per run, in random order. When the experiments hold a large share
of the table, those lookups touch nearly every page of `runs`, and again and again once the
table outgrows the buffer pool; one pass over the table in primary-key order reads each page
once, and the probes a query then makes into `latest_metrics`, `params` or `tags` by
`(key, run_uuid)` arrive in their clustered order too. MariaDB 10.11's optimizer walks the index
even for half of the table (bench/README.md, "bench_scale.py"), so for a large share the query
says `IGNORE INDEX`; for a small one the walk stays, which is right there (docs/scale.md,
"MySQL and MariaDB").
The choice changes the plan only: the rows and their order are the same either way.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

#: A pass over `runs` is chosen when the experiments hold at least this share of its rows...
#: On the 1M-run bench store with a 128 MB buffer pool (bench_scale.py --only mariadb, "walk
#: vs one pass") a pass costs 1.7-3.1 s at any share; one experiment of 5% walks in 2.0 s, two
#: of 9.7% together in 3.1 s (each walk reads the pages anew), one of 50% in 3.2 s. With the
#: tables in the buffer pool (a 3 GB copy) the walk wins up to ~20%, but there both cost under
#: 0.9 s.
SCAN_SHARE = 0.06
#: ...and at least this many runs: below it a walk of the index costs little whatever the table.
MIN_SCAN_RUNS = 20_000
#: The alias of the bounded count's subquery (bench_scale.py tells the probes from the query).
PROBE = "experiment_runs_probe"


#: The engine's row estimate of `runs`, with each of its indexes on `experiment_id` alone (one
#: row with a NULL name when there is none).
_TABLE_SQL = (
    "SELECT t.table_rows, s.index_name FROM information_schema.tables AS t LEFT JOIN ("
    "SELECT index_name FROM information_schema.statistics "
    "WHERE table_schema = DATABASE() AND table_name = 'runs' "
    "GROUP BY index_name HAVING count(*) = 1 AND max(column_name) = 'experiment_id') AS s ON 1 = 1 "
    "WHERE t.table_schema = DATABASE() AND t.table_name = 'runs'"
)


class RunsPath:
    """The access path to the runs of some experiments, chosen per query (one store's)."""

    def __init__(self, runs: sa.Table):
        self.runs = runs

    def hinted(self, conn: sa.Connection, stmt, experiment_ids: Sequence[int]):
        """`stmt` (reading `runs` filtered on `experiment_ids`) told to skip the experiment
        index when the experiments hold a large share of `runs`, else unchanged."""
        estimate, indexes = self.table(conn)
        if not indexes or not self.large_share(conn, experiment_ids, estimate):
            return stmt
        names = ", ".join(_quoted(name) for name in indexes)
        return stmt.with_hint(self.runs, f"IGNORE INDEX ({names})", dialect_name="mysql")

    def table(self, conn: sa.Connection) -> tuple[int, tuple[str, ...]]:
        """The engine's row estimate of `runs` and its indexes on `experiment_id` alone, read
        for each query: a hint naming an index that is gone is an error, and adding an index
        that leads with `experiment_id` makes InnoDB drop the foreign key's (docs/scale.md).
        A wider index, e.g. docs/scale.md's `(experiment_id, lifecycle_stage, start_time,
        run_uuid)`, is not among them: it answers a page without a lookup per run, and stays
        usable."""
        rows = conn.exec_driver_sql(_TABLE_SQL).all()
        estimate = int(rows[0][0] or 0) if rows else 0
        return estimate, tuple(sorted(name for _, name in rows if name))

    def large_share(self, conn: sa.Connection, experiment_ids: Sequence[int], estimate: int) -> bool:
        """Whether the experiments hold at least max(MIN_SCAN_RUNS, SCAN_SHARE × `estimate`)
        runs, counted off the index up to that bound (an index-only read of at most that many
        entries)."""
        bound = max(MIN_SCAN_RUNS, int(estimate * SCAN_SHARE))
        runs = self.runs
        some = sa.select(sa.literal(1)).where(runs.c.experiment_id.in_(list(experiment_ids))).limit(bound)
        found = conn.execute(sa.select(sa.func.count()).select_from(some.subquery(PROBE))).scalar() or 0
        return found >= bound


def _quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"
