"""Watch board benchmark (issue 24): one refresh of a board of 50 RUNNING runs, timed, with the
number of SQL queries (a SQLAlchemy `before_cursor_execute` listener) and of HTTP requests (the
REST transport's `request`, wrapped) it costs.

The store is built here with tracktui's own writes: `--running` RUNNING runs with a
`--points`-point loss history each and `--finished` finished runs of 10 points around them,
in one experiment: what can be built in a minute; the query count is what stays flat (one
search filtered on status, one tail per running run). `--url` measures an existing store
instead, e.g. the 1M-run scale store (build_scale_store.py; bench_scale.py runs both). Then a real `mlflow server` serves a copy
of the same SQLite file and the refresh is counted over REST. Not a test: run it by hand.

    python bench/bench_watch.py [--running 50] [--finished 2000] [--points 5000] [--repeat 5]
    python bench/bench_watch.py --url postgresql+psycopg2://postgres@127.0.0.1:5432/tracktui_scale
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from bench_rest import start_server
from timing import load, measure

from tracktui.store import open_store
from tracktui.store.model import MetricPoint
from tracktui.store.sql.init import initialize_sqlite_store
from tracktui.tui.watch.board import read_board

NOW_MS = int(time.time() * 1000)


def build(path: Path, running: int, finished: int, points: int) -> str:
    """A SQLite store with `running` RUNNING runs (a `points`-point loss each) among
    `finished` FINISHED ones; its URI."""
    uri = initialize_sqlite_store(path, artifact_root=str(path.parent / "mlruns"))
    with open_store(uri) as store:
        exp = store.create_experiment("bench-watch")
        for i in range(finished + running):
            start = NOW_MS - 86_400_000 + i * 1000
            run = store.create_run(exp, name=f"run-{i}", start_time=start, user_id="bench")
            n = points if i >= finished else 10
            history = [("loss", MetricPoint(1.0 / (1 + s), s, start + 1000 * s)) for s in range(n)]
            for chunk in range(0, n, 1000):
                store.log_batch(run.id, metrics=history[chunk:chunk + 1000])
            if i < finished:
                store.update_run(run.id, status="FINISHED", end_time=start + 1000 * n)
    return uri


def refresh(store):
    return read_board(store, None, (), int(time.time() * 1000))


def sql_row(uri: str, repeat: int, label: str = "SQLite (direct)") -> tuple[str, float, int, int]:
    with open_store(uri, read_only=True) as store:
        queries = 0

        def count(*_args):
            nonlocal queries
            queries += 1

        sa.event.listen(store.engine, "before_cursor_execute", count)
        board = refresh(store)
        queries = 0
        refresh(store)
        per_refresh = queries
        timing = measure(lambda: refresh(store), repeat)
        return label, timing.wall, per_refresh, len(board.running)


def rest_row(url: str, repeat: int) -> tuple[str, float, int, int]:
    with open_store(url, read_only=True) as store:
        transport = store._http  # the one HTTP path every REST call takes
        requests = 0
        send = transport.request

        def counted(*args, **kwargs):
            nonlocal requests
            requests += 1
            return send(*args, **kwargs)

        transport.request = counted  # type: ignore[method-assign]
        board = refresh(store)
        requests = 0
        refresh(store)
        per_refresh = requests
        timing = measure(lambda: refresh(store), repeat)
        return "mlflow server (REST)", timing.wall, per_refresh, len(board.running)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--running", type=int, default=50)
    parser.add_argument("--finished", type=int, default=2000)
    parser.add_argument("--points", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-server", action="store_true", help="measure the direct store only")
    parser.add_argument("--url", help="measure this store instead of building one (a SQL URL or a server's "
                                      "http URL; e.g. build_scale_store.py's)")
    args = parser.parse_args()
    if args.url:
        if args.url.startswith(("http://", "https://")):
            rows = [rest_row(args.url, args.repeat)]
        else:
            rows = [sql_row(args.url, args.repeat, f"{args.url.split(':')[0].split('+')[0]} (direct)")]
        print_rows(rows, args.repeat)
        return
    with tempfile.TemporaryDirectory(prefix="bench-watch-") as tmp:
        t0 = time.perf_counter()
        uri = build(Path(tmp) / "mlflow.db", args.running, args.finished, args.points)
        print(f"store: {args.running} running + {args.finished} finished runs, "
              f"{args.points} loss points per running run (built in {time.perf_counter() - t0:.0f}s)")
        rows = [sql_row(uri, args.repeat)]
        if not args.no_server:
            copy = Path(tmp) / "server.db"
            shutil.copyfile(uri.removeprefix("sqlite:///"), copy)
            process, url = start_server(f"sqlite:///{copy}")
            try:
                rows.append(rest_row(url, args.repeat))
            finally:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)
    print_rows(rows, args.repeat)


def print_rows(rows: list[tuple[str, float, int, int]], repeat: int) -> None:
    print(f"\none board refresh (median of {repeat}; {load()})")
    print(f"{'store':<22} {'running':>8} {'ms':>9} {'queries/requests':>17}")
    for name, wall, calls, running in rows:
        print(f"{name:<22} {running:>8} {wall * 1000:>9.1f} {calls:>17}")


if __name__ == "__main__":
    main()
