"""Copy a 1k-run experiment (6 metrics × 1,000 steps each) from SQLite to a live `mlflow server`:
tracktui's `copy` engine vs the `mlflow-export-import` package (export-experiment then
import-experiment), on the same data and the same server. Prints both times and the ratio.

mlflow-export-import is not a tracktui dependency: install it apart, e.g.
    pip install --target /tmp/mei-pkgs --no-deps mlflow-export-import shortuuid tabulate
and pass --mei-path /tmp/mei-pkgs (it is put on PYTHONPATH of its subprocesses only). Without it,
the comparison is a plain loop over MlflowClient (create_run + log_batch + update_run).

    /work/venv/bin/python bench/bench_transfer.py [--runs 1000] [--steps 1000] [--workers 4]
        [--server-workers 2] [--mei-path DIR]

Measured 2026-11-26 17:29-18:49 UTC (2 CPUs, load average 0.9-1.9), --runs 1000 --steps 1000
(6M points), one server with 2 uvicorn workers for both: tracktui 1206 s vs mlflow-export-import
3556 s (export 1116 s + import 2440 s), 2.95x faster; client CPU 156 s vs 1482 s; server CPU
1559 s vs 1498 s. The server's log-batch handling is the cost (~1.5 s CPU a run); tracktui
copies 4 runs at a time and so keeps both workers busy. Tables in bench/README.md.
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
    from tracktui.store import open_store
    from tracktui.store.sql.init import initialize_sqlite_store

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


def tree_cpu(pid: int) -> float:
    """CPU seconds used so far by a process and its live descendants (the server's workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry))
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, ()))
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
    return total


class Costs:
    """Wall time, this process's CPU, its subprocesses' CPU and the server's CPU of one step."""

    def __init__(self, server_pid: int):
        self.server_pid = server_pid

    def __enter__(self):
        self.t0, self.c0 = time.perf_counter(), time.process_time()
        self.k0, self.s0 = _children_cpu(), tree_cpu(self.server_pid)
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.t0
        self.client = time.process_time() - self.c0 + _children_cpu() - self.k0
        self.server = tree_cpu(self.server_pid) - self.s0

    def __str__(self):
        return f"wall {self.wall:.1f}s, client CPU {self.client:.1f}s, server CPU {self.server:.1f}s"


def _children_cpu() -> float:
    usage = os.times()
    return usage.children_user + usage.children_system


def time_tracktui(src_uri: str, server, name: str, workers: int) -> tuple[Costs, object]:
    from tracktui.store import open_store
    from tracktui.store.transfer import TransferOptions, copy_between

    with Costs(server.process.pid) as costs, open_store(src_uri) as src, open_store(server.url) as dst:
        report = copy_between(src, dst, TransferOptions(experiments=["bench"], experiment_name=name, workers=workers))
    return costs, report


def time_export_import(src_uri: str, server, name: str, mei_path: str, work: Path) -> Costs:
    env = {**os.environ, "PYTHONPATH": mei_path, "MLFLOW_DISABLE_TELEMETRY": "true"}
    out = work / "mei-export"
    with Costs(server.process.pid) as export:
        subprocess.run([sys.executable, "-m", "mlflow_export_import.experiment.export_experiment",
                        "--experiment", "bench", "--output-dir", str(out)],
                       env={**env, "MLFLOW_TRACKING_URI": src_uri}, check=True, capture_output=True)
    with Costs(server.process.pid) as imported:
        subprocess.run([sys.executable, "-m", "mlflow_export_import.experiment.import_experiment",
                        "--experiment-name", name, "--input-dir", str(out), "--use-src-user-id", "true"],
                       env={**env, "MLFLOW_TRACKING_URI": server.url}, check=True, capture_output=True)
    print(f"  mlflow-export-import export: {export}", flush=True)
    print(f"  mlflow-export-import import: {imported}", flush=True)
    total = Costs(server.process.pid)
    total.wall = export.wall + imported.wall
    total.client = export.client + imported.client
    total.server = export.server + imported.server
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
    from tracktui.store import open_store

    with open_store(server) as store:
        exp = store.get_experiment_by_name(name)
        runs = list(store.search_runs([exp.id], max_results=5000).items)
        sample = runs[0]
        return len(runs), sum(len(store.get_metric_history(sample.id, k)) for k in sample.metrics)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4, help="tracktui: runs copied at once")
    parser.add_argument("--server-workers", type=int, default=2,
                        help="uvicorn workers of the mlflow server (the same server serves both tools)")
    parser.add_argument("--mei-path", default=None, help="directory holding mlflow_export_import (see above)")
    args = parser.parse_args()
    import store.transfer  # noqa: F401  (imported now: the code measured is the code at start)
    from fixtures.backends import launch_tracking_server, wait_until_healthy

    with tempfile.TemporaryDirectory(prefix="tracktui-bench-transfer-") as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        src_uri = build_source(work / "src" / "mlflow.db", args.runs, args.steps)
        print(f"source: {args.runs} runs × {N_METRICS} metrics × {args.steps} steps "
              f"({args.runs * N_METRICS * args.steps:,} points), built in {time.perf_counter() - t0:.1f}s", flush=True)
        server = wait_until_healthy(launch_tracking_server(work / "server", args.server_workers))
        try:
            print(f"server: {server.url} (mlflow server, sqlite backend, --serve-artifacts, "
                  f"{args.server_workers} uvicorn workers); {load()}", flush=True)
            # The other tool goes first: the server's database then already holds its runs when
            # tracktui writes, so any cost of a larger database falls on tracktui.
            if args.mei_path:
                label = "mlflow-export-import"
                theirs = time_export_import(src_uri, server, "bench-mei", args.mei_path, work)
                print(f"  {label}: {theirs}; check {count_points(server.url, 'bench-mei')}; {load()}", flush=True)
            else:
                label = "MlflowClient loop"
                with Costs(server.process.pid) as theirs:
                    time_client_loop(src_uri, server.url, "bench-client")
                print(f"  {label}: {theirs}; {load()}", flush=True)
            ours, report = time_tracktui(src_uri, server, "bench-tracktui", args.workers)
            if not report.ok:
                print(f"  tracktui: {len(report.failed)} run(s) FAILED, e.g. {next(iter(report.failed.items()))}")
            print(f"  tracktui copy (workers={args.workers}): {ours}, {len(report.created)} runs; "
                  f"check {count_points(server.url, 'bench-tracktui')}; {load()}", flush=True)
        finally:
            server.stop()
        print(f"tracktui {ours.wall:.1f}s vs {label} {theirs.wall:.1f}s wall: tracktui takes "
              f"{ours.wall / theirs.wall:.2f}x the time ({theirs.wall / ours.wall:.2f}x faster); "
              f"client CPU {ours.client:.1f}s vs {theirs.client:.1f}s, server CPU {ours.server:.1f}s vs "
              f"{theirs.server:.1f}s; {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
