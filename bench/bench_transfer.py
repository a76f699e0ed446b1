"""Copy a 1k-run experiment (6 metrics × 1,000 steps each) from SQLite to a live `mlflow server`:
tracktui's `copy` engine vs the `mlflow-export-import` package (export-experiment then
import-experiment), on the same data and the same server. Prints both times and the ratio.

mlflow-export-import is not a tracktui dependency: install it apart, e.g.
    pip install --target /tmp/mei-pkgs --no-deps mlflow-export-import shortuuid tabulate
and pass --mei-path /tmp/mei-pkgs (it is put on PYTHONPATH of its subprocesses only). Without it,
the comparison is a plain loop over MlflowClient (create_run + log_batch + update_run).

    /work/venv/bin/python bench/bench_transfer.py [--runs 1000] [--steps 1000] [--mei-path DIR]

Measured 2026-11-26 (2 shared CPUs, load average 12 → 7.5), --runs 100 --steps 1000 (600,000
points; the full 1,000 runs would have taken well over an hour per tool there): tracktui 464 s vs
mlflow-export-import 673 s (export 184 s + import 489 s), 1.45x faster. Both are bound by the
server's log-batch (at most 1,000 metrics a request).
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from timing import load  # noqa: E402

N_METRICS = 6
N_PARAMS = 10
BASE_TIME = 1_760_000_000_000


def build_source(path: Path, n_runs: int, steps: int) -> str:
    """A SQLite store (tracktui's bundled mlflow schema) with one experiment `bench`."""
    from store import open_store
    from store.sql_init import initialize_sqlite_store

    uri = initialize_sqlite_store(path, artifact_root=str(path.parent / "artifacts"))
    with open_store(uri) as store:
        exp_id = store.create_experiment("bench")
    rng = random.Random(7)
    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous=OFF")
    for i in range(n_runs):
        run_id = uuid.UUID(int=rng.getrandbits(128)).hex
        start = BASE_TIME + i * 10_000
        con.execute(
            "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status,"
            " start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (run_id, f"run-{i:04d}", "UNKNOWN", "", "", "bench", "FINISHED", start, start + 5000, "", "active",
             f"{path.parent}/artifacts/{exp_id}/{run_id}/artifacts", int(exp_id)),
        )
        con.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?,?,?)",
                        [(f"p{j}", str(rng.randint(0, 100)), run_id) for j in range(N_PARAMS)])
        con.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?,?,?)",
                        [("mlflow.runName", f"run-{i:04d}", run_id), ("mlflow.user", "bench", run_id)])
        rows, latest = [], []
        for k in range(N_METRICS):
            base = rng.random()
            for step in range(steps):
                rows.append((f"m{k}", base + step * 1e-3, start + step, run_id, step, 0))
            latest.append(rows[-1])
        con.executemany("INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?,?,?,?,?,?)", rows)
        con.executemany("INSERT INTO latest_metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?,?,?,?,?,?)", latest)
    con.commit()
    con.close()
    return uri


def time_tracktui(src_uri: str, server: str, name: str, workers: int) -> tuple[float, object]:
    from store import open_store
    from store.transfer import TransferOptions, copy_between

    t0 = time.perf_counter()
    with open_store(src_uri) as src, open_store(server) as dst:
        report = copy_between(src, dst, TransferOptions(experiments=["bench"], experiment_name=name, workers=workers))
    return time.perf_counter() - t0, report


def time_export_import(src_uri: str, server: str, name: str, mei_path: str, work: Path) -> float:
    env = {**os.environ, "PYTHONPATH": mei_path, "MLFLOW_DISABLE_TELEMETRY": "true"}
    out = work / "mei-export"
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "mlflow_export_import.experiment.export_experiment",
                    "--experiment", "bench", "--output-dir", str(out)],
                   env={**env, "MLFLOW_TRACKING_URI": src_uri}, check=True, capture_output=True)
    exported = time.perf_counter() - t0
    subprocess.run([sys.executable, "-m", "mlflow_export_import.experiment.import_experiment",
                    "--experiment-name", name, "--input-dir", str(out), "--use-src-user-id", "true"],
                   env={**env, "MLFLOW_TRACKING_URI": server}, check=True, capture_output=True)
    total = time.perf_counter() - t0
    print(f"  mlflow-export-import: export {exported:.1f}s, import {total - exported:.1f}s")
    return total


def time_client_loop(src_uri: str, server: str, name: str) -> float:
    """The obvious script: read with MlflowClient, write with MlflowClient.log_batch."""
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag

    src, dst = MlflowClient(src_uri), MlflowClient(server)
    t0 = time.perf_counter()
    exp = src.get_experiment_by_name("bench")
    dest_exp = dst.create_experiment(name)
    for run in src.search_runs([exp.experiment_id], max_results=50000):
        new = dst.create_run(dest_exp, start_time=run.info.start_time, run_name=run.info.run_name)
        metrics = [m for key in run.data.metrics for m in src.get_metric_history(run.info.run_id, key)]
        params = [Param(k, v) for k, v in run.data.params.items()]
        tags = [RunTag(k, v) for k, v in run.data.tags.items() if k != "mlflow.runName"]
        dst.log_batch(new.info.run_id, params=params, tags=tags)
        for i in range(0, len(metrics), 1000):
            dst.log_batch(new.info.run_id, metrics=[Metric(m.key, m.value, m.timestamp, m.step) for m in metrics[i:i + 1000]])
        dst.set_terminated(new.info.run_id, run.info.status, run.info.end_time)
    return time.perf_counter() - t0


def count_points(server: str, name: str) -> tuple[int, int]:
    from store import open_store

    with open_store(server) as store:
        exp = store.get_experiment_by_name(name)
        runs = list(store.search_runs([exp.id], max_results=5000).items)
        sample = runs[0]
        return len(runs), sum(len(store.get_metric_history(sample.id, k)) for k in sample.metrics)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--mei-path", default=None, help="directory holding mlflow_export_import (see above)")
    args = parser.parse_args()
    from fixtures.backends import launch_tracking_server, wait_until_healthy

    with tempfile.TemporaryDirectory(prefix="tracktui-bench-transfer-") as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        src_uri = build_source(work / "src" / "mlflow.db", args.runs, args.steps)
        print(f"source: {args.runs} runs × {N_METRICS} metrics × {args.steps} steps "
              f"({args.runs * N_METRICS * args.steps:,} points), built in {time.perf_counter() - t0:.1f}s")
        server = wait_until_healthy(launch_tracking_server(work / "server"))
        try:
            print(f"server: {server.url} (sqlite backend, --serve-artifacts, 1 worker); {load()}")
            ours, report = time_tracktui(src_uri, server.url, "bench-tracktui", args.workers)
            assert report.ok, report.failed
            print(f"  tracktui copy (workers={args.workers}): {ours:.1f}s, {len(report.created)} runs; "
                  f"check {count_points(server.url, 'bench-tracktui')}")
            if args.mei_path:
                label = "mlflow-export-import"
                theirs = time_export_import(src_uri, server.url, "bench-mei", args.mei_path, work)
                print(f"  check {count_points(server.url, 'bench-mei')}")
            else:
                label = "MlflowClient loop"
                theirs = time_client_loop(src_uri, server.url, "bench-client")
        finally:
            server.stop()
        print(f"tracktui {ours:.1f}s vs {label} {theirs:.1f}s: tracktui takes {ours / theirs:.2f}x the time "
              f"({theirs / ours:.2f}x faster); {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
