"""Artifact download benchmark (issue 5): tracktui vs `mlflow artifacts download`, same
`mlflow server --serve-artifacts`, same run, same process tree, same machine.

Two artifacts of one run: a 1 GiB file and a directory of 2,000 small files. The bytes are
written straight into the server's --artifacts-destination (uploading them through the proxy
would only slow the setup down); both clients then fetch them through the server's artifact
proxy (`mlflow-artifacts:`). The server is `mlflow server --serve-artifacts` with mlflow's
default 4 uvicorn workers (--workers), the same for both tools. Each side is timed as a user
runs it (the CLI in a subprocess: interpreter start-up, imports, listing, every file) and
in-process (the library call); the two tools alternate within each of --repeat rounds (a
change in the machine's load hits both alike), medians are printed with the client's and the
server's CPU seconds, and every download is checked byte for byte. The floor is the same GETs
from plain `http.client` threads with nothing else. Targets: at least as fast on the big
file, at least 3x faster on the many small files. Not a test: run it by hand.

    python bench/bench_artifacts.py [--big-mib 1024] [--files 2000] [--repeat 3] [--only small|big]

Measured 2026-11-26 (2 shared cores, load average 8-9 from other jobs, mlflow 3.17.2, median
of 3; wall seconds, and mlflow/tracktui):

    1 GiB file        CLI  tracktui  5.9  mlflow 15.9  2.72x   in-process 3.2 vs 4.0 (1.24x), floor 4.3
    2000 small files  CLI  tracktui  7.5  mlflow 55.5  7.42x   in-process 8.6 vs 30.2 (3.53x), floor 7.4

Before (dae5605, load 3-14): 1 GiB 17.1 vs 35.9 (2.10x); small files 15.5 vs 33.6 (2.17x).
Small files are bound by per-request latency, not bytes nor CPU: each GET crosses uvicorn,
FastAPI's middlewares and FileResponse's thread hops in one of 4 worker processes (3.3 ms of
server CPU per file alone, 2.0 ms for /health), and on a loaded machine each hop waits for
the scheduler. 8 requests in flight leave the workers idle between hops, 32 keep them busy:
that, and a lighter client per request (http.client, 0.25 ms of Python vs httpx's ~1 ms),
made the difference (see bench/README.md). mlflow fetches 4 files at a time (2 x CPUs) with
requests, ~4-5 ms of client CPU per file, after a 3.6 s CPU start-up.
"""

from __future__ import annotations

import argparse
import hashlib
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
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import timing  # noqa: E402

BIN = Path(sys.executable).parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big-mib", type=int, default=1024)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=4, help="mlflow server --workers (mlflow's default: 4)")
    parser.add_argument("--only", choices=("big", "small"), default=None, help="run one of the two artifacts")
    parser.add_argument("--modes", default="cli,lib", help="which ways to time: cli, lib (comma-separated)")
    parser.add_argument("--dir", type=Path, default=None, help="scratch directory (default: a temp dir)")
    args = parser.parse_args()

    scratch = Path(args.dir or tempfile.mkdtemp(prefix="bench-artifacts-"))
    scratch.mkdir(parents=True, exist_ok=True)
    process, url = start_server(scratch, args.workers)
    server = ServerCpu(process.pid)
    try:
        big_mib = 0 if args.only == "small" else args.big_mib
        files = 0 if args.only == "big" else args.files
        run_id, big_digest, small_digest = build_run(url, scratch, big_mib, files)
        print(f"server {url} (mlflow server --workers {args.workers}, uvicorn), run {run_id}: big.bin "
              f"{big_mib} MiB, many/ {files} files; median of {args.repeat}, the two tools alternating")
        cases = []
        if args.only != "small":
            cases.append(("1 GiB file" if big_mib == 1024 else f"{big_mib} MiB file", "big.bin", big_digest))
        if args.only != "big":
            cases.append((f"{files} small files", "many", small_digest))
        rows = []
        for label, path, digest in cases:
            for mode in args.modes.split(","):
                ours, theirs = alternate(
                    (lambda d, mode=mode, path=path: tracktui(mode, url, run_id, path, d),
                     lambda d, mode=mode, path=path: mlflow_download(mode, url, run_id, path, d)),
                    scratch, path, digest, args.repeat, server,
                )
                rows.append((label, mode, ours, theirs))
            floor, = alternate((lambda d, path=path: raw_floor(url, run_id, path, d),), scratch, path, digest, args.repeat, server)
            rows.append((label, "floor", floor, None))
        print(f"\n{timing.load()} (at the end)")
        print(f"{'artifact':<18} {'how':<5} {'tracktui wall':>13} {'mlflow wall':>11} {'mlflow/tracktui':>15}"
              f"   client CPU s (t / m)   server CPU s (t / m)")
        for label, mode, ours, theirs in rows:
            if theirs is None:
                print(f"{label:<18} {mode:<5} {ours.wall:>13.2f} {'':>11} {'':>15}   {ours.client:>8.2f}"
                      f"{'':>14}{ours.server:>8.2f}   (raw http.client GETs, no checks)")
                continue
            print(f"{label:<18} {mode:<5} {ours.wall:>13.2f} {theirs.wall:>11.2f} {theirs.wall / ours.wall:>14.2f}x"
                  f"   {ours.client:>8.2f} / {theirs.client:<8.2f}   {ours.server:>8.2f} / {theirs.server:<8.2f}")
        for label, mode, ours, theirs in rows:
            if mode != "cli" or theirs is None:
                continue
            target = 1.0 if "file" in label and "small" not in label else 3.0
            ratio = theirs.wall / ours.wall
            print(f"target {label} (CLI, >= {target:g}x): {ratio:.2f}x {'met' if ratio >= target else 'NOT met'}")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        if args.dir is None:
            shutil.rmtree(scratch, ignore_errors=True)


def tracktui(mode: str, url: str, run_id: str, path: str, dest: Path) -> None:
    if mode == "cli":
        subprocess.run([str(BIN / "tracktui"), "download", run_id, path, "-o", str(dest), "--uri", url],
                       check=True, stdout=subprocess.DEVNULL)
        return
    from tracktui.store import open_store

    with open_store(url) as store:
        store.download_artifacts(run_id, path, dest)


def mlflow_download(mode: str, url: str, run_id: str, path: str, dest: Path) -> None:
    if mode == "cli":
        subprocess.run([str(BIN / "mlflow"), "artifacts", "download", "-r", run_id, "-a", path, "-d", str(dest)],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env={**os.environ, "MLFLOW_TRACKING_URI": url})
        return
    import mlflow.artifacts

    mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=path, dst_path=str(dest), tracking_uri=url)


def raw_floor(url: str, run_id: str, path: str, dest: Path) -> None:
    """The same GETs with nothing else: no listing checks, no temp files, no progress; one
    kept `http.client` connection per thread, as many threads as tracktui has files in flight
    (32 small files; the big file in one stream)."""
    import http.client
    import threading
    from concurrent.futures import ThreadPoolExecutor
    from urllib.parse import urlsplit

    from tracktui.store import open_store

    with open_store(url) as store:
        root = store.get_run(run_id).artifact_uri.removeprefix("mlflow-artifacts:").strip("/")
        names = [e.path for e in store.list_artifacts(run_id, path)] if path == "many" else [path]
    if path == "many":
        (dest / path).mkdir(parents=True, exist_ok=True)
    server, local = urlsplit(url), threading.local()

    def fetch(name: str) -> None:
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection(server.hostname, server.port)
        local.conn.request("GET", f"/api/2.0/mlflow-artifacts/artifacts/{root}/{name}")
        response = local.conn.getresponse()
        with open(dest / name, "wb") as out:
            while chunk := response.read(1 << 20):
                out.write(chunk)

    with ThreadPoolExecutor(32 if path == "many" else 1) as pool:
        list(pool.map(fetch, names))


@dataclass
class Sample:
    wall: float  # median seconds: the user's wait
    client: float  # median CPU seconds of the client (this process, or the CLI subprocess)
    server: float  # median CPU seconds of the mlflow server's processes


def alternate(fns, scratch: Path, path: str, digest: str, repeat: int, server: ServerCpu) -> list[Sample]:
    """Each of `fns(dest)` once per round, in turn, for `repeat` rounds (so a change in the
    machine's load hits both tools alike); each result checked byte for byte."""
    samples = [[] for _ in fns]
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            dest = scratch / "dest"
            shutil.rmtree(dest, ignore_errors=True)
            dest.mkdir()
            before, server_before, t0 = os.times(), server.seconds(), time.perf_counter()
            fn(dest)
            wall = time.perf_counter() - t0
            after, server_after = os.times(), server.seconds()
            client = sum(getattr(after, f) - getattr(before, f) for f in ("user", "system", "children_user", "children_system"))
            samples[i].append((wall, client, server_after - server_before))
            got = tree_digest(dest / path)
            if got != digest:
                raise SystemExit(f"download of {path} differs from the source ({got} != {digest})")
    shutil.rmtree(scratch / "dest", ignore_errors=True)
    return [Sample(*(statistics.median(s[k] for s in runs) for k in range(3))) for runs in samples]


class ServerCpu:
    """CPU seconds used so far by the server process and its children (uvicorn workers), from /proc."""

    def __init__(self, pid: int):
        self.root = pid

    def seconds(self) -> float:
        if not os.path.isdir("/proc"):
            return float("nan")
        stats = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as handle:
                        fields = handle.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                stats[int(entry)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
        tree, grew = {self.root}, True
        while grew:
            grew = False
            for pid, (ppid, _) in stats.items():
                if ppid in tree and pid not in tree:
                    tree.add(pid)
                    grew = True
        return sum(stats[p][1] for p in tree if p in stats) / os.sysconf("SC_CLK_TCK")


def build_run(url: str, scratch: Path, big_mib: int, files: int) -> tuple[str, str, str]:
    import mlflow

    client = mlflow.MlflowClient(url)
    exp = client.create_experiment(f"bench-artifacts-{time.time_ns()}")
    run = client.create_run(exp)
    uri = run.info.artifact_uri  # mlflow-artifacts:/<exp>/<run>/artifacts
    root = scratch / "art" / uri.removeprefix("mlflow-artifacts:").strip("/")
    root.mkdir(parents=True)
    with open(root / "big.bin", "wb") as out:
        block = os.urandom(1 << 20)
        for i in range(big_mib):
            out.write(block[i % 251:] + block[: i % 251])  # distinct blocks, cheap to make
    many = root / "many"
    many.mkdir()
    for i in range(files):
        (many / f"part-{i:05d}.json").write_bytes(b'{"i": %d, "pad": "%s"}\n' % (i, b"x" * (512 + i % 2048)))
    client.set_terminated(run.info.run_id)
    return run.info.run_id, tree_digest(root / "big.bin"), tree_digest(many)


def tree_digest(path: Path) -> str:
    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        digest.update(file.relative_to(path.parent).as_posix().encode() + b"\0")
        with open(file, "rb") as handle:
            while chunk := handle.read(1 << 22):
                digest.update(chunk)
    return digest.hexdigest()


def start_server(scratch: Path, workers: int) -> tuple[subprocess.Popen, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = open(scratch / "server.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{scratch / 'srv.db'}",
         "--artifacts-destination", str(scratch / "art"), "--serve-artifacts",
         "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=scratch,
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
    raise SystemExit(f"mlflow server did not start; see {scratch / 'server.log'}")


if __name__ == "__main__":
    main()
