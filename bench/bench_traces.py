"""Trace benchmark (issue 8): open a 5,000-span trace, tracktui vs MlflowClient.get_trace.

Logs one trace with N spans through real mlflow tracing into a SQLite store (spans in the
`spans` table, as mlflow 3.6+ writes them), then times on that same store:
  * tracktui: open_store + get_trace + the span tree (depth-first order, slowest span, first
    error) — the "store load" part of the < 1 s store-load-plus-first-paint target;
  * tracktui get_trace alone on an already open store;
  * MlflowClient(uri).get_trace on the same trace.
  * the TUI: TraceScreen pushed on a headless app (120x40) until the span tree is painted —
    the whole "store load plus first paint" (get_trace runs in the screen's worker).
Runs the three in turn (so both sides share the machine's load) and prints medians and the ratio (tracktui / mlflow; below 1 means tracktui is faster).
Not a test: run it by hand.

    python bench/bench_traces.py [--spans 5000] [--repeat 5] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tracktui.store import (
    open_store,  # before tests/ is on the path: tests/store must not shadow it
)

sys.path.append(str(Path(__file__).resolve().parents[1] / "tests"))
from fixtures.traces import log_wide_trace  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", help="build the store in this directory and keep it")
    parser.add_argument("--trace-id", help="reuse this trace of the --keep store (logging takes ~1 min)")
    args = parser.parse_args()
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    workdir = Path(args.keep or tempfile.mkdtemp(prefix="bench-traces-"))
    workdir.mkdir(parents=True, exist_ok=True)
    os.chdir(workdir)  # a client-side SQL store puts artifacts under ./mlruns
    uri = f"sqlite:///{workdir / 'traces.db'}"

    import mlflow

    client = mlflow.MlflowClient(uri)
    trace_id = args.trace_id
    if trace_id is None:
        eid = client.create_experiment(f"bench-{time.time_ns()}")
        t0 = time.perf_counter()
        trace_id = log_wide_trace(uri, eid, args.spans)
        print(f"logged {args.spans} spans with mlflow tracing in {time.perf_counter() - t0:.1f} s")
    print(f"store {uri}, trace {trace_id}")

    def cold_load():
        with open_store(uri) as store:
            trace = store.get_trace(trace_id)
            tree = trace.tree
            trace.slowest_span(), trace.first_error_span()
            return trace, tree

    def warm_get(store):
        return store.get_trace(trace_id)

    def mlflow_get():
        return client.get_trace(trace_id)

    # Alternate the sides so both see the same load on a shared machine.
    cold_times, warm_times, their_times = [], [], []
    trace, tree = cold_load()
    their_trace = mlflow_get()
    with open_store(uri) as store:
        warm_get(store)
        for _ in range(args.repeat):
            for fn, times in ((cold_load, cold_times), (lambda: warm_get(store), warm_times),
                              (mlflow_get, their_times)):
                t0 = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t0)
    cold, warm, theirs = (statistics.median(t) for t in (cold_times, warm_times, their_times))

    assert len(trace.spans) == len(their_trace.data.spans) == args.spans, (
        len(trace.spans), len(their_trace.data.spans))
    assert len(tree) == args.spans
    print(f"spans: {len(trace.spans)}, depth max {max(d for _, d in tree)}, "
          f"slowest below root: {trace.slowest_span().name}")
    print(f"tracktui store load (open_store + get_trace + tree): {cold * 1000:8.1f} ms   "
          f"{'OK' if cold < 1.0 else 'OVER'} the 1 s budget before first paint")
    print(f"tracktui get_trace (store open)                     : {warm * 1000:8.1f} ms")
    print(f"mlflow   MlflowClient.get_trace                     : {theirs * 1000:8.1f} ms")
    print(f"ratio tracktui/mlflow (get_trace)                   : {warm / theirs:8.2f}")

    paints = [tui_first_paint(uri, trace_id) for _ in range(args.repeat)]
    screen_ms = statistics.median(p[0] for p in paints) * 1000
    total_ms = statistics.median(p[1] for p in paints) * 1000
    print(f"TUI push TraceScreen -> span tree painted          : {screen_ms:8.1f} ms   "
          f"{'OK' if screen_ms < 1000 else 'OVER'} the 1 s budget")
    print(f"TUI open_store + app start + trace painted         : {total_ms:8.1f} ms")


def tui_first_paint(uri: str, trace_id: str) -> tuple[float, float]:
    """(push → painted, open_store → painted) in seconds, on a headless 120x40 app."""
    import asyncio

    from tracktui.tui.app import TrackApp
    from tracktui.tui.config import Config
    from tracktui.tui.screens.trace import TraceScreen
    from tracktui.tui.widgets.span_waterfall import SpanTree

    async def run() -> tuple[float, float]:
        t_open = time.perf_counter()
        store = open_store(uri, read_only=True)
        app = TrackApp(store, config=Config(path=Path(tempfile.mkdtemp()) / "tracktui.json"))
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            t_push = time.perf_counter()
            await app.push_screen(TraceScreen(trace_id))
            deadline = time.perf_counter() + 120
            while not app.screen.query(SpanTree) or app.screen.query_one(SpanTree).last_line < 0:
                if time.perf_counter() > deadline:
                    raise RuntimeError("the span tree never appeared")
                await asyncio.sleep(0.002)
            tree = app.screen.query_one(SpanTree)
            painted = asyncio.Event()
            app.call_after_refresh(painted.set)  # runs once the screen has been drawn
            await painted.wait()
            t_done = time.perf_counter()
            assert tree.last_line + 1 == len(tree.trace.spans)
        store.close()
        return t_done - t_push, t_done - t_open

    return asyncio.run(run())


if __name__ == "__main__":
    main()
