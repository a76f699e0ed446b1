"""REST benchmark (issue 3): tracktui's RestStore vs MlflowClient on the same live server.

Serves a copy of a 2k-run benchmark store (bench/build_sql_store.py: same shape as the 10k
one, with a 100k-point history) with a real `mlflow server` on a free loopback port, then
times the same calls through both clients, in the same process, alternating. Prints the
median wall and client-CPU time of each side and the ratio (tracktui / mlflow; at most 1
means tracktui is no slower). The server is stopped at the end. Not a test: run it by hand.

    python bench/bench_rest.py [--repeat 5] [--runs 2000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from build_sql_store import DATA_DIR, build
from timing import Timing, load, once

from tracktui.store import open_store


def alternating(mine, reference, repeat: int) -> tuple[Timing, Timing]:
    """Both sides timed in turn (ours, theirs, ours, ...) after one warm-up call each, so load
    swings on a shared machine hit both alike. CPU time is this client process's only: it
    separates each client's own cost (decoding, building objects) from the server's.

    The order flips every round (ours, theirs, theirs, ours, ...): the mlflow server answers
    some calls alternately fast and slow (a filtered page took ~100 and ~270 ms on every other
    call here), and a strict ours/theirs alternation hands all the slow calls to one side."""
    first = once(mine), once(reference)
    samples = []
    for i in range(repeat):
        if i % 2:
            theirs = once(reference)
            samples.append((once(mine), theirs))
        else:
            samples.append((once(mine), once(reference)))
    out = []
    for side in (0, 1):
        walls = [s[side][0] for s in samples]
        cpus = [s[side][1] for s in samples]
        out.append(Timing(statistics.median(walls), statistics.median(cpus), *first[side]))
    return out[0], out[1]


def start_server(backend_uri: str) -> tuple[subprocess.Popen, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = open(Path(tempfile.gettempdir()) / f"bench-rest-{port}.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", backend_uri,
         "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2):
                return process, url
        except OSError:
            time.sleep(0.5)
    os.killpg(process.pid, signal.SIGTERM)
    raise SystemExit(f"mlflow server did not start; see {log.name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--long-points", type=int, default=100_000)
    args = parser.parse_args()

    ids = build(DATA_DIR / f"bench{args.runs}_{args.long_points}.db", n_runs=args.runs, long_points=args.long_points)
    with tempfile.TemporaryDirectory(prefix="bench-rest-") as tmp:
        copy = Path(tmp) / "mlflow.db"  # the server may touch its database: give it a copy
        shutil.copyfile(ids["uri"].removeprefix("sqlite:///"), copy)
        t0 = time.perf_counter()
        process, url = start_server(f"sqlite:///{copy}")
        print(f"mlflow server on {url} (sqlite copy of {args.runs} runs) started in {time.perf_counter() - t0:.1f}s")
        try:
            run(url, ids, args)
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


def run(url: str, ids: dict, args) -> None:
    import mlflow

    eid, long_run = ids["experiment_id"], ids["long_run_id"]
    ours = open_store(url)
    theirs = mlflow.MlflowClient(url)
    a_run = ours.search_runs([eid], max_results=1).items[0].id
    filt = "metrics.m1 > 0.5 and params.p1 = 'a'"
    long = f"metric history, {args.long_points // 1000}k points"
    cases = [
        ("page of 100 runs (default order)",
         lambda: ours.search_runs([eid], max_results=100),
         lambda: theirs.search_runs([eid], max_results=100)),
        ("page of 100 runs by metrics.m0 DESC",
         lambda: ours.search_runs([eid], order_by=["metrics.m0 DESC"], max_results=100),
         lambda: theirs.search_runs([eid], order_by=["metrics.m0 DESC"], max_results=100)),
        ("page of 100 runs, filtered",
         lambda: ours.search_runs([eid], filt, max_results=100),
         lambda: theirs.search_runs([eid], filt, max_results=100)),
        ("get run",
         lambda: ours.get_run(a_run),
         lambda: theirs.get_run(a_run)),
        ("metric history, 50 points",
         lambda: ours.get_metric_history(a_run, "m0"),
         lambda: theirs.get_metric_history(a_run, "m0")),
        (long,
         lambda: ours.get_metric_history(long_run, "loss"),
         lambda: theirs.get_metric_history(long_run, "loss")),
    ]
    for name, mine, reference in cases:  # same answers, so the times compare
        a, b = mine(), reference()
        if hasattr(a, "__len__") and hasattr(b, "__len__") and len(a) != len(b):
            raise SystemExit(f"{name}: tracktui returned {len(a)}, mlflow {len(b)}")
    print(f"median of {args.repeat} after one warm-up, the two clients alternating")
    print("wall: end-to-end (the server's time dominates); cpu: this client process only")
    print(f"before: {load()}")
    header = (f"{'operation':38} | {'tracktui wall':>13} {'cpu':>8} | {'mlflow wall':>11} {'cpu':>8} |"
              f" {'tt/mlflow wall':>14} {'cpu':>6} | target: no slower")
    print(header)
    print("-" * len(header))
    for name, mine, reference in cases:
        n = args.repeat if "by metric" not in name and "k points" not in name else max(1, args.repeat // 2)
        t, m = alternating(mine, reference, n)
        verdict = "ok" if t.wall <= m.wall else ("within noise" if t.wall <= 1.05 * m.wall else "MISSED")
        print(
            f"{name:38} | {t.wall * 1000:11.1f}ms {t.cpu * 1000:6.1f}ms | {m.wall * 1000:9.1f}ms {m.cpu * 1000:6.1f}ms |"
            f" {t.wall / m.wall:13.2f}x {t.cpu / max(m.cpu, 1e-9):5.2f}x | {verdict}", flush=True,
        )
    print(f"after: {load()}")
    ours.close()


if __name__ == "__main__":
    main()
