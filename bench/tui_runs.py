"""TUI benchmark: time to the first painted runs table, and memory after scrolling N runs.

    python bench/tui_runs.py [--runs 100000] [--shape small|scale] [--wide-runs 1000]
                             [--wide-keys 10000] [--skip-scroll] [--skip-paint] [--max-page N]

Builds (once, cached in bench/.data/) two SQLite stores with tracktui's own schema:
- `tui_runs_N.db` (`--shape small`): one experiment of N runs (3 latest metrics, 2 params,
  name/user tags each); `tui_scale_N.db` (`--shape scale`): one experiment of N runs shaped
  like the scale store's (bench/build_scale_store.py): 20 params, 8 tags, 10 metrics per run,
  every 200th with 100-step histories, 10% nested, 2% deleted, the newest 50 RUNNING;
- `tui_wide.db`: one experiment of 1k runs whose runs carry 10,000 distinct metric keys.
Then, each in a fresh child process (so imports count), measures from process start until
the runs table has painted its first page, and finally scrolls the big experiment to its
end with the default columns (the cursor at the last loaded row fetches the next page) and
reports RSS (VmRSS/VmHWM) and what each loaded run added to VmRSS since the first page
(`--max-page 200` keeps every page at 200 runs: what growing pages buy).
The app runs headless (Textual's test driver) at 120x40. Wall time depends on machine load,
so the process's CPU time (user+system) at first paint is printed next to it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / ".data"
BASE_TIME = 1_760_000_000_000


def build_runs(path: Path, n_runs: int) -> None:
    def rows(i: int, run_id: str, rng: random.Random) -> RunRows:
        t = BASE_TIME + i * 1000
        name = f"run-{i:06d}"
        run = (run_id, name, "bench", "FINISHED", t, t + 60_000, "active")
        tags = [("mlflow.runName", name), ("mlflow.user", "bench")]
        params = [("optimizer", rng.choice(("sgd", "adam"))), ("batch", str(rng.choice((32, 64))))]
        latest = [(k, rng.random(), t, 0) for k in ("loss", "acc", "lr")]
        return run, tags, params, latest, latest

    _build(path, n_runs, rows)


def build_wide(path: Path, n_runs: int, n_keys: int) -> None:
    per_run = max(1, n_keys * 10 // n_runs)  # every key used by ~10 runs

    def rows(i: int, run_id: str, rng: random.Random) -> RunRows:
        t = BASE_TIME + i * 1000
        name = f"run-{i:06d}"
        first = (i * per_run) % n_keys
        latest = [(f"metric_{(first + j) % n_keys:05d}", rng.random(), t, 0) for j in range(per_run)]
        return (run_id, name, "bench", "FINISHED", t, t + 60_000, "active"), \
            [("mlflow.runName", name), ("mlflow.user", "bench")], [], latest, latest

    _build(path, n_runs, rows)


# The scale store's per-run shape (bench/build_scale_store.py's Plan), in one experiment.
SCALE_PARAMS, SCALE_METRICS, SCALE_RUNNING = 20, 10, 50
SCALE_HISTORY_EVERY, SCALE_HISTORY_STEPS, SCALE_NESTED_EVERY, SCALE_DELETED_EVERY = 200, 100, 10, 50


def build_scale(path: Path, n_runs: int) -> None:
    last_root: list[str] = []

    def rows(i: int, run_id: str, rng: random.Random) -> RunRows:
        start = BASE_TIME + i * 1000
        running = i >= n_runs - SCALE_RUNNING
        status = "RUNNING" if running else rng.choice(("FINISHED", "FINISHED", "FINISHED", "FAILED", "KILLED"))
        end = None if running else start + rng.randint(1000, 3_600_000)
        stage = "deleted" if i % SCALE_DELETED_EVERY == 7 and not running else "active"
        name, user = f"run-{i}", f"user{i % 7}"
        params = [("p0", f"g{rng.randrange(100)}"), ("p1", rng.choice(("adam", "sgd", "rmsprop"))),
                  ("p2", str(rng.choice((16, 32, 64, 128, 256))))]
        params += [(f"p{j}", f"{rng.random():.6g}") for j in range(3, SCALE_PARAMS)]
        tags = [("mlflow.runName", name), ("mlflow.user", user), ("mlflow.source.name", "train.py"),
                ("mlflow.source.type", "LOCAL"), ("mlflow.source.git.commit", f"{rng.getrandbits(160):040x}"),
                ("team", rng.choice(("vision", "nlp", "speech", "rl"))), ("dataset", f"ds-{rng.randrange(30)}"),
                ("stage", rng.choice(("dev", "staging", "prod")))]
        if i % SCALE_NESTED_EVERY == 3 and last_root:
            tags.append(("mlflow.parentRunId", last_root[0]))
        else:
            last_root[:] = [run_id]
        steps = SCALE_HISTORY_STEPS if i % SCALE_HISTORY_EVERY == 0 else 1
        latest, points = [], []
        for k in range(SCALE_METRICS):
            base = rng.random()
            points += [(f"m{k}", base + s * 0.01, start + s * 1000, s) for s in range(steps)]
            latest.append(points[-1])
        return (run_id, name, user, status, start, end, stage), tags, params, latest, points

    _build(path, n_runs, rows)


#: (run_id, name, user, status, start, end, lifecycle_stage), tags, params, latest metrics,
#: metric points; a metric is (key, value, timestamp, step).
RunRows = tuple[tuple, list[tuple[str, str]], list[tuple[str, str]], list[tuple], list[tuple]]


def _build(path: Path, n_runs: int, rows_of: Callable[[int, str, random.Random], RunRows]) -> None:
    if path.exists():
        return
    sys.path.insert(0, str(ROOT))
    from tracktui.store.sql.init import initialize_sqlite_store

    tmp = path.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    artifacts = path.parent / "artifacts"
    initialize_sqlite_store(tmp, artifact_root=str(artifacts))
    con = sqlite3.connect(tmp)
    con.execute("PRAGMA synchronous=OFF")
    con.execute(
        "INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time, last_update_time)"
        " VALUES ('bench', ?, 'active', ?, ?)", (str(artifacts), BASE_TIME, BASE_TIME))
    exp_id = con.execute("SELECT experiment_id FROM experiments WHERE name = 'bench'").fetchone()[0]
    rng = random.Random(1)
    chunk = 5000
    for first in range(0, n_runs, chunk):
        runs, tags, params, latest, points = [], [], [], [], []
        for i in range(first, min(n_runs, first + chunk)):
            run_id = f"{rng.getrandbits(128):032x}"
            (_, name, user, status, start, end, stage), run_tags, run_params, run_latest, run_points = \
                rows_of(i, run_id, rng)
            runs.append((run_id, name, "UNKNOWN", "", "", user, status, start, end, "", stage,
                         f"{artifacts}/{run_id}/artifacts", exp_id))
            tags += [(k, v, run_id) for k, v in run_tags]
            params += [(k, v, run_id) for k, v in run_params]
            latest += [(k, v, t, run_id, s, 0) for k, v, t, s in run_latest]
            points += [(k, v, t, run_id, s, 0) for k, v, t, s in run_points]
        con.executemany(
            "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status,"
            " start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", runs)
        con.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?,?,?)", tags)
        con.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?,?,?)", params)
        con.executemany("INSERT INTO latest_metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?,?,?,?,?,?)", latest)
        con.executemany("INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?,?,?,?,?,?)", points)
    con.commit()
    con.close()
    tmp.rename(path)


def top_level_runs(uri: str, experiment: str) -> int:
    """Rows the table shows at the end with the default view: the experiment's active runs
    without a parent (SQLAlchemy URI of a SQL store)."""
    import sqlalchemy as sa

    engine = sa.create_engine(uri)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(
                "SELECT COUNT(*) FROM runs r JOIN experiments e ON r.experiment_id = e.experiment_id"
                " WHERE e.name = :name AND r.lifecycle_stage = 'active' AND NOT EXISTS (SELECT 1 FROM tags t"
                " WHERE t.run_uuid = r.run_uuid AND t.key = 'mlflow.parentRunId')"), {"name": experiment}).scalar_one()
    finally:
        engine.dispose()


# -- the measuring child process -------------------------------------------------------------------

CHILD = r"""
import asyncio, json, os, sys, time
sys.path.insert(0, {root!r}); sys.path.insert(0, {helpers!r})
def since_start():
    ticks = os.sysconf("SC_CLK_TCK")
    start = int(open("/proc/self/stat").read().rsplit(")", 1)[1].split()[19]) / ticks
    uptime = float(open("/proc/uptime").read().split()[0])
    return uptime - start
def rss():
    fields = dict(line.split(":", 1) for line in open("/proc/self/status"))
    return {{k: int(fields[k].split()[0]) // 1024 for k in ("VmRSS", "VmHWM")}}
from tracktui.store import open_store
from tracktui.tui.app import TrackApp
from tracktui.tui.config import Config
from tracktui.tui.widgets.runs_table import RunsTable
from pilot_helpers import settle
if {max_page!r} is not None:
    import tracktui.tui.screens.runs as runs_screen
    runs_screen.MAX_PAGE_SIZE = {max_page!r}
async def main():
    out = {{}}
    store = open_store({uri!r}, read_only=True)
    app = TrackApp(store, config=Config(path=None))
    async with app.run_test(size=(120, 40)) as pilot:
        while not app.screen.query("ExperimentsTable") or app.screen.query_one("ExperimentsTable").row_count < 1:
            await pilot.pause(0.01)
        table = app.screen.query_one("ExperimentsTable")
        row = [str(table.get_row_at(i)[0]) for i in range(table.row_count)].index({experiment!r})
        table.move_cursor(row=row)
        await pilot.press("enter")
        while not app.screen.query(RunsTable) or not app.screen.query_one(RunsTable).rows:
            await pilot.pause(0.01)
        await pilot.pause()
        out["first_paint_s"] = round(since_start(), 3)
        times = os.times()
        out["first_paint_cpu_s"] = round(times.user + times.system, 3)
        out["rss_after_first_page_mb"] = rss()["VmRSS"]
        if {scroll!r}:
            t0 = time.perf_counter()
            runs = app.screen.query_one(RunsTable)
            out["first_page_rows"] = len(runs.rows)
            worst, pages = 0.0, 0
            while len(runs.rows) < {expected!r}:
                before = len(runs.rows)
                t1 = time.perf_counter()
                await pilot.press("G")
                while len(runs.rows) == before:
                    await pilot.pause(0.005)
                worst = max(worst, time.perf_counter() - t1)
                pages += 1
            await pilot.pause()
            out["scrolled_rows"] = len(runs.rows)
            out["pages"] = pages
            out["scroll_to_end_s"] = round(time.perf_counter() - t0, 1)
            out["slowest_page_s"] = round(worst, 3)
            times = os.times()
            out["cpu_s"] = round(times.user + times.system, 1)
            out.update({{f"{{k}}_mb": v for k, v in rss().items()}})
    store.close()
    print(json.dumps(out))
asyncio.run(main())
"""


def measure(uri: str, scroll: bool, experiment: str = "bench", expected: int | None = None,
            max_page: int | None = None) -> dict:
    """Run the child on `uri`, opening the experiment named `experiment` (and, with `scroll`,
    going down until `expected` rows are loaded: by default its top-level active runs;
    `max_page`: instead of screens/runs.py's MAX_PAGE_SIZE); its JSON result."""
    if scroll and expected is None:
        expected = top_level_runs(uri, experiment)
    code = CHILD.format(root=str(ROOT), helpers=str(ROOT / "tests" / "tui"), uri=uri, scroll=scroll,
                        experiment=experiment, expected=expected, max_page=max_page)
    env = {**os.environ, "TZ": "UTC"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise SystemExit(result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def heap_per_row(uri: str, rows: int = 5000) -> dict[str, float]:
    """Python heap (tracemalloc) one run row holds, read as the runs screen reads a page (the
    default columns' keys): whole, slimmed, and slimmed without interning status and stage."""
    import gc
    import tracemalloc

    import tracktui.tui.widgets.runs_table as runs_table
    from tracktui.store import open_store
    from tracktui.store.model import PARENT_RUN_TAG
    from tracktui.store.paging import encode_page_token
    from tracktui.tui.columns import column, default_column_ids, keys_to_fetch

    store = open_store(uri, read_only=True)
    eid = store.search_experiments("name = 'bench'").items[0].id
    include = keys_to_fetch([column(c) for c in default_column_ids(store.list_keys([eid]))])
    roots = f"tags.`{PARENT_RUN_TAG}` IS NULL"
    store.search_runs([eid], roots, [], "active", rows, None, include)  # warm caches
    out: dict[str, float] = {}
    interning = runs_table.intern
    try:
        for interned in (True, False):
            runs_table.intern = interning if interned else (lambda text: text)
            gc.collect()
            tracemalloc.start()
            page = store.search_runs([eid], roots, [], "active", rows, encode_page_token(rows), include)
            table_rows = [runs_table.RunRow.of(run) for run in page.items]
            del page
            gc.collect()
            whole = tracemalloc.get_traced_memory()[0]
            for row in table_rows:
                row.run = None
            gc.collect()
            slimmed = tracemalloc.get_traced_memory()[0]
            tracemalloc.stop()
            out.setdefault("whole", whole / len(table_rows))
            out["slimmed" if interned else "slimmed, not interned"] = slimmed / len(table_rows)
            del table_rows
    finally:
        runs_table.intern = interning
        store.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--shape", choices=("small", "scale"), default="small")
    parser.add_argument("--wide-runs", type=int, default=1_000)
    parser.add_argument("--wide-keys", type=int, default=10_000)
    parser.add_argument("--skip-scroll", action="store_true")
    parser.add_argument("--skip-paint", action="store_true", help="only scroll (no first-paint timings)")
    parser.add_argument("--max-page", type=int, help="pages grow to this many runs (default: the app's MAX_PAGE_SIZE)")
    parser.add_argument("--heap", action="store_true", help="also the Python heap of one whole and one slimmed row")
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    big = DATA / (f"tui_runs_{args.runs}.db" if args.shape == "small" else f"tui_scale_{args.runs}.db")
    wide = DATA / f"tui_wide_{args.wide_runs}x{args.wide_keys}.db"
    t0 = time.perf_counter()
    (build_runs if args.shape == "small" else build_scale)(big, args.runs)
    if not args.skip_paint:
        build_wide(wide, args.wide_runs, args.wide_keys)
    print(f"stores ready in {time.perf_counter() - t0:.1f}s")
    if not args.skip_paint:
        narrow = measure(f"sqlite:///{big}", scroll=False)
        print(f"{args.runs:,}-run experiment: first painted runs table {narrow['first_paint_s']:.2f}s from process"
              f" start ({narrow['first_paint_cpu_s']:.2f}s CPU; target < 1.5s),"
              f" RSS {narrow['rss_after_first_page_mb']} MB")
        wide_result = measure(f"sqlite:///{wide}", scroll=False)
        print(f"{args.wide_runs:,} runs x {args.wide_keys:,} metric keys: first painted runs table"
              f" {wide_result['first_paint_s']:.2f}s ({wide_result['first_paint_cpu_s']:.2f}s CPU; target < 1.5s)")
    if not args.skip_scroll:
        s = measure(f"sqlite:///{big}", scroll=True, max_page=args.max_page)
        added = (s["VmRSS_mb"] - s["rss_after_first_page_mb"]) * 2**20 / (s["scrolled_rows"] - s["first_page_rows"])
        print(f"{args.shape} shape: scrolled to the end of {s['scrolled_rows']:,} top-level runs in"
              f" {s['pages']:,} pages, {s['scroll_to_end_s']}s ({s['cpu_s']}s CPU; slowest page"
              f" {s['slowest_page_s']}s): RSS {s['VmRSS_mb']} MB, peak {s['VmHWM_mb']} MB (target < 300 MB);"
              f" {s['rss_after_first_page_mb']} MB after the first page, {added:,.0f} bytes per loaded run")
        print(json.dumps(s))
    if args.heap:
        heap = heap_per_row(f"sqlite:///{big}")
        print("Python heap per run row: " + ", ".join(f"{what} {size:,.0f} bytes" for what, size in heap.items()))
    print("load average: " + " / ".join(f"{x:.2f}" for x in os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
