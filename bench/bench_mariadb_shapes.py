"""Query shapes tried on MariaDB for issue 25 and left out of tracktui, against what it does
(docs/scale.md, "MySQL and MariaDB"), on the 1M-run scale store (build_scale_store.py
--backend mariadb), raw SQL on pymysql connections:

- the counts of all experiments: one pass over `runs` (tracktui) vs the pass split by
  `run_uuid` range over 2, 4 and 8 connections at once;
- the values of a page of 200 runs (params, latest metrics, tags): the three queries one after
  the other on one connection (tracktui) vs at once on three; a new page each time (runs of
  the largest experiment in a shuffled order), so the pool holds none of it beforehand;
- the sorted page (metrics.m0 DESC) and the filtered page (bench_scale.py's): tracktui's
  statements through the foreign key's index (MariaDB's own plan) and over one pass (what
  store/sql/runs_path.py picks for the 500k-run experiment);
- the page sorted by a metric: the outer join over one pass (tracktui) vs MariaDB's hash join
  (`join_cache_level = 4`, join buffer for the whole experiment) and batched key access
  (`join_cache_level = 6`, `mrr`), session settings, and vs the metric read by scalar
  subqueries in `ORDER BY`; each statement stopped after `--timeout` seconds.

Not a test: run it by hand, after build_scale_store.py --backend mariadb.

    python bench/bench_mariadb_shapes.py [--uri URI] [--repeat 3] [--timeout 60]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pymysql
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import load  # noqa: E402

URI = "mysql+pymysql://root@127.0.0.1:3306/tracktui_scale"
LARGEST = 1
PAGE = 200
IGNORE = "IGNORE INDEX (experiment_id)"
COUNTS = (f"SELECT experiment_id, count(*) FROM runs {IGNORE} WHERE lifecycle_stage IN ('active') {{part}} "
          "GROUP BY experiment_id")
RANK = "CASE WHEN o.is_nan = 1 THEN 1 WHEN o.value IS NULL THEN 2 ELSE 0 END"
SORTED = (f"SELECT runs.run_uuid FROM runs {IGNORE} LEFT OUTER JOIN latest_metrics AS o "
          "ON o.run_uuid = runs.run_uuid AND o.`key` = 'm0' "
          f"WHERE runs.experiment_id IN ({LARGEST}) AND runs.lifecycle_stage IN ('active') "
          f"ORDER BY {RANK}, o.value DESC, runs.start_time DESC, runs.run_uuid LIMIT {PAGE + 1}")
_M0 = "FROM latest_metrics AS o WHERE o.run_uuid = runs.run_uuid AND o.`key` = 'm0'"
SORTED_BY_SUBQUERIES = (
    f"SELECT runs.run_uuid FROM runs {IGNORE} "
    f"WHERE runs.experiment_id IN ({LARGEST}) AND runs.lifecycle_stage IN ('active') "
    f"ORDER BY COALESCE((SELECT CASE WHEN o.is_nan = 1 THEN 1 ELSE 0 END {_M0}), 2), "
    f"(SELECT o.value {_M0}) DESC, runs.start_time DESC, runs.run_uuid LIMIT {PAGE + 1}")
SORT_SESSIONS = (
    ("outer join over one pass (tracktui)", ""),
    ("hash join: join_cache_level = 4", "SET SESSION join_cache_level = 4, join_buffer_size = 67108864, "
                                         "join_buffer_space_limit = 134217728"),
    ("batched key access: join_cache_level = 6, mrr", "SET SESSION join_cache_level = 6, "
                                                      "join_buffer_size = 67108864, "
                                                      "optimizer_switch = 'mrr=on,mrr_sort_keys=on'"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uri", default=URI)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds a statement may run")
    args = parser.parse_args()
    url = sa.make_url(args.uri)
    params = dict(host=url.host, port=url.port or 3306, user=url.username, password=url.password or "",
                  database=url.database)

    def connect():
        conn = pymysql.connect(**params)
        conn.cursor().execute(f"SET SESSION max_statement_time = {args.timeout}")
        return conn

    print(f"MariaDB shapes on {url.database} (median of {args.repeat}; {load()})\n")
    print("| query | shape | wall | load |")
    print("|---|---|---|---|")
    for shape, seconds in count_rows(connect, args.repeat):
        _row("counts of all experiments", shape, seconds)
    for shape, seconds in data_rows(connect, args.repeat):
        _row(f"values of a page of {PAGE} runs", shape, seconds)
    for query, shape, seconds in path_rows(args.uri, connect, args.repeat):
        _row(query, shape, seconds)
    for shape, seconds in sort_rows(connect, args.repeat):
        _row("page sorted by metrics.m0 DESC", shape, seconds)


def _row(query: str, shape: str, seconds: float | None) -> None:
    shown = "over the timeout" if seconds is None else f"{seconds * 1000:.0f} ms"
    one, five, _ = os.getloadavg()
    print(f"| {query} | {shape} | {shown} | {one:.1f} / {five:.1f} |", flush=True)


def _median(samples: list[float | None]) -> float | None:
    return None if None in samples else statistics.median(s for s in samples if s is not None)


def _run(conn, sql: str) -> list:
    cursor = conn.cursor()
    cursor.execute(sql)
    return list(cursor.fetchall())


def _timed(fn, *args) -> float | None:
    """Seconds `fn(*args)` took, None when the statement timeout stopped it."""
    started = time.perf_counter()
    try:
        fn(*args)
    except pymysql.err.OperationalError as exc:
        if exc.args and exc.args[0] == 1969:  # max_statement_time
            return None
        raise
    return time.perf_counter() - started


def count_rows(connect, repeat: int):
    """One pass, then the pass split by the run id's first hex digit over n connections."""
    for n in (1, 2, 4, 8):
        bounds = [format(i * 16 // n, "x") for i in range(n)] + [None]
        parts = [f"AND run_uuid >= '{lo}'" + (f" AND run_uuid < '{hi}'" if hi else "") if n > 1 else ""
                 for lo, hi in zip(bounds, bounds[1:])]
        conns = [connect() for _ in range(n)]
        try:
            samples = [_timed(_split_counts, conns, parts) for _ in range(repeat)]
        finally:
            for conn in conns:
                conn.close()
        yield ("one pass (tracktui)" if n == 1 else f"split over {n} connections by run id range"), _median(samples)


def _split_counts(conns: list, parts: list[str]) -> list:
    with ThreadPoolExecutor(len(conns)) as pool:
        return list(pool.map(_run, conns, [COUNTS.format(part=part) for part in parts]))


def data_rows(connect, repeat: int):
    """The page's values in three queries, on one connection or on three at once."""
    conns = [connect() for _ in range(3)]
    try:
        ids = [r[0] for r in _run(conns[0], f"SELECT run_uuid FROM runs WHERE experiment_id = {LARGEST}")]
        random.Random(25).shuffle(ids)
        pages = iter([ids[i:i + PAGE] for i in range(0, len(ids), PAGE)])

        def queries() -> list[str]:
            page = ",".join(f"'{run_id}'" for run_id in next(pages))
            return [f"SELECT run_uuid, `key`, value FROM params WHERE run_uuid IN ({page})",
                    "SELECT run_uuid, `key`, value, step, timestamp, is_nan FROM latest_metrics "
                    f"WHERE run_uuid IN ({page})",
                    f"SELECT run_uuid, `key`, value FROM tags WHERE run_uuid IN ({page})"]

        one = [_timed(_one_after_another, conns[0], queries()) for _ in range(repeat)]
        yield "three queries on one connection (tracktui)", _median(one)
        with ThreadPoolExecutor(3) as pool:
            three = [_timed(_at_once, pool, conns, queries()) for _ in range(repeat)]
        yield "three queries on three connections at once", _median(three)
    finally:
        for conn in conns:
            conn.close()


def _one_after_another(conn, queries: list[str]) -> None:
    for sql in queries:
        _run(conn, sql)


def _at_once(pool, conns: list, queries: list[str]) -> None:
    list(pool.map(_run, conns, queries))


def path_rows(uri: str, connect, repeat: int):
    """tracktui's sorted and filtered page statements, walked and in one pass."""
    from bench_scale import FILTER, SORT, captured_statement, forced_path

    from tracktui.store import open_store

    calls = (("page sorted by metrics.m0 DESC", lambda s: s.search_runs([str(LARGEST)], order_by=SORT,
                                                                          max_results=PAGE)),
             (f"page filtered by {FILTER}", lambda s: s.search_runs([str(LARGEST)], FILTER, max_results=PAGE)))
    with open_store(uri, read_only=True) as store:
        for label, call in calls:
            for path, shape in (("walk", "the foreign key's index walked (MariaDB's own plan)"),
                                ("pass", "one pass over runs (tracktui)")):
                with forced_path(path):
                    sql = captured_statement(store, call)
                conn = connect()
                try:
                    yield label, shape, _median([_timed(_run, conn, sql) for _ in range(repeat)])
                finally:
                    conn.close()


def sort_rows(connect, repeat: int):
    """Each shape's page, timed, and checked against the first shape's rows."""
    shapes = [(shape, session, SORTED) for shape, session in SORT_SESSIONS]
    shapes.append(("scalar subqueries in ORDER BY", "", SORTED_BY_SUBQUERIES))
    expected = None
    for shape, session, sql in shapes:
        conn = connect()
        try:
            if session:
                _run(conn, session)
            rows: list = []
            seconds = _median([_timed(_keep, rows, conn, sql) for _ in range(repeat)])
            if rows:
                expected = rows[-1] if expected is None else expected
                if rows[-1] != expected:
                    shape += " (DIFFERENT ROWS)"
            yield shape, seconds
        finally:
            conn.close()


def _keep(rows: list, conn, sql: str) -> None:
    rows.append(_run(conn, sql))


if __name__ == "__main__":
    main()
