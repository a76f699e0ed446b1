"""REST benchmark (issue 3): tracktui's RestStore vs MlflowClient on the same live server.

Serves the 10k-run benchmark store (bench/build_sql_store.py) with a real `mlflow server`,
then times the same calls through both clients, in the same process, alternating. Prints the
median of each side and the ratio (tracktui / mlflow; below 1 means tracktui is faster).
Not a test: run it by hand.

    python bench/bench_rest.py [--repeat 5] [--store PATH]
"""

from __future__ import annotations

import argparse
import os
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

from store import open_store


def timed(fn, repeat: int) -> tuple[float, float]:
    """Median wall time and median client CPU time of `fn()` in seconds (one warm-up first).

    The CPU time is this process's only: it separates the client's own cost (decoding,
    building objects) from the server's time, which dominates the wall time."""
    fn()
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


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
    parser.add_argument("--store", type=Path, default=DATA_DIR / "bench10k.db")
    parser.add_argument("--skip-long", action="store_true", help="skip the 1M-point history (minutes)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # still stop the server when killed

    ids = build(args.store)
    process, url = start_server(ids["uri"])
    try:
        run(url, ids, args.repeat, args.skip_long)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def run(url: str, ids: dict, repeat: int, skip_long: bool = False) -> None:
    import mlflow

    eid, long_run = ids["experiment_id"], ids["long_run_id"]
    ours = open_store(url)
    theirs = mlflow.MlflowClient(url)
    a_run = ours.search_runs([eid], max_results=1).items[0].id
    cases = [
        ("page of 100 runs (default order)",
         lambda: ours.search_runs([eid], max_results=100),
         lambda: theirs.search_runs([eid], max_results=100)),
        ("page of 100 runs by metric DESC",
         lambda: ours.search_runs([eid], order_by=["metrics.m0 DESC"], max_results=100),
         lambda: theirs.search_runs([eid], order_by=["metrics.m0 DESC"], max_results=100)),
        ("page of 100 runs, filtered",
         lambda: ours.search_runs([eid], "metrics.m1 > 0.5 and params.p0 = 'a'", max_results=100),
         lambda: theirs.search_runs([eid], "metrics.m1 > 0.5 and params.p0 = 'a'", max_results=100)),
        ("get run",
         lambda: ours.get_run(a_run),
         lambda: theirs.get_run(a_run)),
        ("metric history, 50 points",
         lambda: ours.get_metric_history(a_run, "m0"),
         lambda: theirs.get_metric_history(a_run, "m0")),
        ("metric history, 1M points",
         lambda: ours.get_metric_history(long_run, "loss"),
         lambda: theirs.get_metric_history(long_run, "loss")),
        ("count runs (10k) vs mlflow listing all",
         lambda: ours.count_runs(eid),
         lambda: len(theirs.search_runs([eid], max_results=50000))),
    ]
    print(f"server {url}; median of {repeat} after one warm-up")
    print("wall: end-to-end (server time dominates); cpu: this client process only")
    print(f"{'operation':42} {'tracktui':>10} {'mlflow':>10} {'ratio':>6} | {'cpu ours':>9} {'cpu mlflow':>10} {'ratio':>6}")
    for name, mine, reference in cases:
        if skip_long and "1M" in name:
            continue
        slow = "1M" in name or "count" in name
        n = 1 if slow else repeat
        w_ours, c_ours = timed(mine, n)
        w_theirs, c_theirs = timed(reference, n)
        print(
            f"{name:42} {w_ours * 1000:8.1f}ms {w_theirs * 1000:8.1f}ms {w_ours / w_theirs:6.2f} | "
            f"{c_ours * 1000:7.1f}ms {c_theirs * 1000:8.1f}ms {c_ours / max(c_theirs, 1e-9):6.2f}"
        )
    ours.close()


if __name__ == "__main__":
    main()
