"""Store benchmark (issue 2): tracktui's SQL store vs MlflowClient vs the raw-SQL floor.

Same 10k-run SQLite store (bench/build_sql_store.py), same process, same run. For each
operation it prints the median wall and CPU time of each side, the ratios, and whether the
issue's target holds. The floor is the same query shape written by hand against sqlite3
(same filters, same order, same result size), so tracktui/floor is the cost of the layer.
Not a test: run it by hand.

    python bench/bench_store.py [--repeat 5] [--mlflow-repeat 1]
"""

from __future__ import annotations

import argparse
import sqlite3

from build_sql_store import DATA_DIR, build
from timing import load, measure, ratio

from tracktui.store import open_store


def page_floor(con: sqlite3.Connection, ids_sql: str, args: tuple) -> int:
    """A page query by hand: the page's ids, then the runs rows and one query per data table
    (params, latest metrics, tags) for those ids, as tracktui does."""
    ids = [r[0] for r in con.execute(ids_sql, args)]
    marks = ",".join("?" * len(ids))
    con.execute(
        "SELECT run_uuid, name, experiment_id, status, user_id, start_time, end_time, lifecycle_stage,"
        f" artifact_uri FROM runs WHERE run_uuid IN ({marks})", ids).fetchall()
    for table, cols in (("params", "key, value"), ("latest_metrics", "key, value, step, timestamp, is_nan"),
                        ("tags", "key, value")):
        con.execute(f"SELECT run_uuid, {cols} FROM {table} WHERE run_uuid IN ({marks})", ids).fetchall()
    return len(ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
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
        token, total = None, 0
        while True:
            page = store.search_runs([exp], max_results=5000, page_token=token)
            total += len(page)
            token = page.next_page_token
            if not token:
                return total

    def ml_all():
        token, total = None, 0
        while True:
            page = client.search_runs([exp], max_results=50000, page_token=token)
            total += len(page)
            token = page.token
            if not token:
                return total

    def floor_all():
        n = len(con.execute(
            "SELECT run_uuid, name, experiment_id, status, user_id, start_time, end_time, lifecycle_stage,"
            " artifact_uri FROM runs WHERE experiment_id=? AND lifecycle_stage='active'"
            " ORDER BY start_time DESC, run_uuid", (exp,)).fetchall())
        for table, cols in (("params", "key, value"), ("latest_metrics", "key, value, step, timestamp, is_nan"),
                            ("tags", "key, value")):
            con.execute(
                f"SELECT t.run_uuid, {', '.join('t.' + c for c in cols.split(', '))} FROM {table} t"
                " JOIN runs r ON r.run_uuid=t.run_uuid WHERE r.experiment_id=? AND r.lifecycle_stage='active'",
                (exp,)).fetchall()
        return n

    def floor_downsample():
        # one pass over the 1M points: min and max per bucket of 2,000 steps (500 buckets,
        # 1,000 values), the least any min/max downsampler to ~1,000 points has to read
        return con.execute(
            "SELECT step / 2000, min(value), max(value) FROM metrics WHERE run_uuid=? AND key='loss'"
            " GROUP BY step / 2000", (long_run,)).fetchall()

    ids = "SELECT r.run_uuid FROM runs r "
    where = "WHERE r.experiment_id=? AND r.lifecycle_stage='active' "
    filt = "metrics.m1 > 0.5 and params.p1 = 'a'"
    cases = [
        ("first 100 runs, default order", "page",
         lambda: store.search_runs([exp], max_results=100),
         lambda: client.search_runs([exp], max_results=100),
         lambda: page_floor(con, ids + where + "ORDER BY r.start_time DESC, r.run_uuid LIMIT 101", (exp,))),
        ("first 100 runs by metrics.m0 DESC", "page+sort",
         lambda: store.search_runs([exp], order_by=["metrics.m0 DESC"], max_results=100),
         lambda: client.search_runs([exp], order_by=["metrics.m0 DESC"], max_results=100),
         lambda: page_floor(
             con, ids + "LEFT JOIN latest_metrics m ON m.run_uuid=r.run_uuid AND m.key='m0' " + where
             + "ORDER BY CASE WHEN m.is_nan=1 THEN 1 WHEN m.value IS NULL THEN 2 ELSE 0 END, m.value DESC,"
             " r.start_time DESC, r.run_uuid LIMIT 101", (exp,))),
        (f"filter {filt}", "page",
         lambda: store.search_runs([exp], filt, max_results=100),
         lambda: client.search_runs([exp], filt, max_results=100),
         lambda: page_floor(
             con, ids + "JOIN latest_metrics m ON m.run_uuid=r.run_uuid AND m.key='m1' AND m.value > 0.5"
             " AND m.is_nan=0 JOIN params p ON p.run_uuid=r.run_uuid AND p.key='p1' AND p.value='a' " + where
             + "ORDER BY r.start_time DESC, r.run_uuid LIMIT 101", (exp,))),
        ("all 10k runs with their data", "all", tt_all, ml_all, floor_all),
        ("one metric history (50 points)", "history",
         lambda: store.get_metric_history(some_run, "m0"),
         lambda: client.get_metric_history(some_run, "m0"),
         lambda: con.execute(
             "SELECT step, timestamp, value, is_nan FROM metrics WHERE run_uuid=? AND key='m0'"
             " ORDER BY step, timestamp", (some_run,)).fetchall()),
        ("1M-point history -> ~1000 points", "downsample",
         lambda: store.get_metric_history(long_run, "loss", max_points=1000),
         lambda: client.get_metric_history(long_run, "loss"),
         floor_downsample),
    ]
    # the sizes each side returns, so a ratio never compares different results
    sizes = [(len(tt()) if kind != "all" else tt(), floor() if kind in ("page", "page+sort", "all") else len(floor()))
             for _, kind, tt, _, floor in cases]
    print(f"store: {uri}")
    print(f"10,000 runs (12 params, 6 metrics x 50 steps, 8 tags) + one 1M-point run; mlflow {mlflow.__version__}")
    print(f"tracktui and raw SQL: median of {args.repeat}; mlflow: median of {args.mlflow_repeat}; one warm-up call each")
    print(f"before: {load()}")
    header = (f"{'operation':42} {'rows tt/sql':>11} | {'tracktui wall':>13} {'cpu':>8} | {'raw SQL wall':>12} {'cpu':>8} |"
              f" {'mlflow wall':>11} {'cpu':>8} | {'tt/SQL cpu':>10} {'tt/SQL wall':>11} {'mlflow/tt cpu':>13} | target")
    print(header)
    print("-" * len(header))
    for (name, kind, tt, ml, floor), (n_tt, n_floor) in zip(cases, sizes):
        t = measure(tt, args.repeat)
        f = measure(floor, args.repeat)
        m = measure(ml, args.mlflow_repeat)
        # verdicts on CPU time: everything here runs in this process, and on a loaded
        # machine the wall time mostly measures the wait for a core
        if kind == "page":
            target = f"<=2x floor: {_ok(t.cpu <= 2 * f.cpu)}"
        elif kind == "page+sort":
            target = f"<=2x floor: {_ok(t.cpu <= 2 * f.cpu)}; >=100x mlflow: {_ok(m.cpu >= 100 * t.cpu)}"
        elif kind == "all":
            target = f"<1 s: {_ok(t.cpu < 1)}"
        elif kind == "downsample":
            # the user's wait: the history is read on one connection per core at once
            target = f"<300 ms wall: {_ok(t.wall < 0.3)} (cpu {_ok(t.cpu < 0.3)})"
        else:
            target = "-"
        print(
            f"{name:42} {n_tt:>5}/{n_floor:<5} | {t.wall * 1000:11.1f}ms {t.cpu * 1000:6.1f}ms |"
            f" {f.wall * 1000:10.1f}ms {f.cpu * 1000:6.1f}ms | {m.wall * 1000:9.1f}ms {m.cpu * 1000:6.1f}ms |"
            f" {ratio(t.cpu, f.cpu):>10} {ratio(t.wall, f.wall):>11} {ratio(m.cpu, t.cpu):>13} | {target}",
            flush=True,
        )
    print(f"after: {load()}")
    print("\ntarget verdicts use CPU time (wall time on this machine is mostly waiting for a core), except the"
          " 1M-point row: its reads run on one SQLite connection per core at once, so its wait is the wall time.")
    print("rows: what tracktui / the raw SQL returned (pages of 100; the floor also fetches the 101st id,"
          " as tracktui does to know if there is a next page).")
    print("1M-point row: tracktui downsamples in SQL (min/max per bucket, exact steps kept); the floor is one"
          " GROUP BY pass returning 500 min/max pairs; MlflowClient has no downsampling and loads all 1M points.")


def _ok(passed: bool) -> str:
    return "ok" if passed else "MISSED"


if __name__ == "__main__":
    main()
