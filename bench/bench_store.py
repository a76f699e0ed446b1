"""Store benchmark (issue 2): tracktui's SQL store vs MlflowClient vs the raw-SQL floor.

Same 10k-run SQLite store, same process, same run. Prints one row per operation with the
median time of each side and the ratios. Not a test: run it by hand.

    python bench/bench_store.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import time
from pathlib import Path

from build_sql_store import DATA_DIR, build

from store import open_store


def timed(fn, repeat: int) -> float:
    """Median wall time of `fn()` in seconds (one warm-up call first)."""
    fn()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def page_floor(con: sqlite3.Connection, ids_sql: str, args: tuple) -> None:
    """The floor for a page query: the id query plus one query per data table, all raw."""
    ids = [r[0] for r in con.execute(ids_sql, args)]
    marks = ",".join("?" * len(ids))
    for table, cols in (("params", "key, value"), ("latest_metrics", "key, value, step, timestamp, is_nan"), ("tags", "key, value")):
        con.execute(f"SELECT run_uuid, {cols} FROM {table} WHERE run_uuid IN ({marks})", ids).fetchall()
    con.execute(f"SELECT * FROM runs WHERE run_uuid IN ({marks})", ids).fetchall()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--mlflow-repeat", type=int, default=1, help="mlflow is slow: fewer repeats")
    args = parser.parse_args()

    info = build(DATA_DIR / "bench10k.db")
    uri, exp, long_run = info["uri"], info["experiment_id"], info["long_run_id"]
    import mlflow

    client = mlflow.MlflowClient(uri)
    store = open_store(uri)
    con = sqlite3.connect(uri.removeprefix("sqlite:///"))
    some_run = store.search_runs([exp], max_results=1).items[0].id

    def tt_all():
        token = None
        total = 0
        while True:
            page = store.search_runs([exp], max_results=5000, page_token=token)
            total += len(page)
            token = page.next_page_token
            if not token:
                return total

    def ml_all():
        token = None
        while True:
            page = client.search_runs([exp], max_results=50000, page_token=token)
            token = page.token
            if not token:
                return

    def floor_all():
        con.execute("SELECT * FROM runs WHERE experiment_id=?", (exp,)).fetchall()
        for table in ("params", "latest_metrics", "tags"):
            con.execute(
                f"SELECT t.* FROM {table} t JOIN runs r ON r.run_uuid=t.run_uuid WHERE r.experiment_id=?", (exp,)
            ).fetchall()

    base = "SELECT r.run_uuid FROM runs r "
    where = "WHERE r.experiment_id=? AND r.lifecycle_stage='active' "
    cases = [
        (
            "first 100 runs, default order",
            lambda: store.search_runs([exp], max_results=100),
            lambda: client.search_runs([exp], max_results=100),
            lambda: page_floor(con, base + where + "ORDER BY r.start_time DESC, r.run_uuid LIMIT 100", (exp,)),
        ),
        (
            "first 100 runs by metric",
            lambda: store.search_runs([exp], order_by=["metrics.m0 DESC"], max_results=100),
            lambda: client.search_runs([exp], order_by=["metrics.m0 DESC"], max_results=100),
            lambda: page_floor(
                con,
                base + "LEFT JOIN latest_metrics m ON m.run_uuid=r.run_uuid AND m.key='m0' " + where
                + "ORDER BY m.value IS NULL, m.value DESC, r.start_time DESC, r.run_uuid LIMIT 100",
                (exp,),
            ),
        ),
        (
            "metric+param filter",
            lambda: store.search_runs([exp], "metrics.m1 > 0.5 and params.p1 = 'a'", max_results=100),
            lambda: client.search_runs([exp], "metrics.m1 > 0.5 and params.p1 = 'a'", max_results=100),
            lambda: page_floor(
                con,
                base + "JOIN latest_metrics m ON m.run_uuid=r.run_uuid AND m.key='m1' AND m.value > 0.5 AND m.is_nan=0 "
                "JOIN params p ON p.run_uuid=r.run_uuid AND p.key='p1' AND p.value='a' " + where
                + "ORDER BY r.start_time DESC, r.run_uuid LIMIT 100",
                (exp,),
            ),
        ),
        ("all 10k runs with data", tt_all, ml_all, floor_all),
        (
            "one metric history (50 pts)",
            lambda: store.get_metric_history(some_run, "m0"),
            lambda: client.get_metric_history(some_run, "m0"),
            lambda: con.execute(
                "SELECT step, timestamp, value, is_nan FROM metrics WHERE run_uuid=? AND key='m0' ORDER BY step, timestamp",
                (some_run,),
            ).fetchall(),
        ),
        (
            "1M-pt history -> 1000 pts",
            lambda: store.get_metric_history(long_run, "loss", max_points=1000),
            lambda: client.get_metric_history(long_run, "loss"),
            lambda: con.execute(
                "SELECT step, timestamp, value, is_nan FROM metrics WHERE run_uuid=? AND key='loss' ORDER BY step, timestamp",
                (long_run,),
            ).fetchall(),
        ),
    ]
    print(f"store: {uri}  (10k runs; mlflow {mlflow.__version__})")
    header = f"{'operation':32} {'tracktui':>10} {'mlflow':>10} {'raw SQL':>10} {'mlflow/tt':>10} {'tt/floor':>9}"
    print(header)
    print("-" * len(header))
    for name, tt, ml, floor in cases:
        t_tt = timed(tt, args.repeat)
        t_floor = timed(floor, args.repeat)
        t_ml = timed(ml, args.mlflow_repeat)
        print(
            f"{name:32} {t_tt * 1000:9.1f}ms {t_ml * 1000:9.1f}ms {t_floor * 1000:9.1f}ms"
            f" {t_ml / t_tt:9.1f}x {t_tt / t_floor:8.2f}x",
            flush=True,
        )
    print("\nfloor for '1M-pt history' is reading all 1M raw rows; mlflow has no downsampling and loads them all.")


if __name__ == "__main__":
    main()
