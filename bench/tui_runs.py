"""TUI benchmark: time to the first painted runs table, and memory after scrolling 100k runs.

    python bench/tui_runs.py [--runs 100000] [--wide-runs 1000] [--wide-keys 10000] [--skip-scroll]

Builds (once, cached in bench/.data/) two SQLite stores with tracktui's own schema:
- `tui_runs.db`: one experiment of N runs (3 latest metrics, 2 params, name/user tags each);
- `tui_wide.db`: one experiment of 1k runs whose runs carry 10,000 distinct metric keys.
Then, each in a fresh child process (so imports count), measures from process start until
the runs table has painted its first page, and finally scrolls the big experiment to its
end (the cursor at the last loaded row fetches the next page) and reports RSS (VmRSS/VmHWM).
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / ".data"
BASE_TIME = 1_760_000_000_000


def build_runs(path: Path, n_runs: int) -> None:
    _build(path, n_runs, lambda i, rng: [(k, rng.random()) for k in ("loss", "acc", "lr")])


def build_wide(path: Path, n_runs: int, n_keys: int) -> None:
    per_run = max(1, n_keys * 10 // n_runs)  # every key used by ~10 runs

    def metrics(i, rng):
        first = (i * per_run) % n_keys
        return [(f"metric_{(first + j) % n_keys:05d}", rng.random()) for j in range(per_run)]

    _build(path, n_runs, metrics)


def _build(path: Path, n_runs: int, metrics_of) -> None:
    if path.exists():
        return
    sys.path.insert(0, str(ROOT))
    from tracktui.store.sql.init import initialize_sqlite_store

    tmp = path.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    initialize_sqlite_store(tmp, artifact_root=str(path.parent / "artifacts"))
    con = sqlite3.connect(tmp)
    con.execute("PRAGMA synchronous=OFF")
    con.execute(
        "INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time, last_update_time)"
        " VALUES ('bench', ?, 'active', ?, ?)", (str(path.parent / "artifacts"), BASE_TIME, BASE_TIME))
    exp_id = con.execute("SELECT experiment_id FROM experiments WHERE name = 'bench'").fetchone()[0]
    rng = random.Random(1)
    chunk = 5000
    for start in range(0, n_runs, chunk):
        runs, tags, params, latest, points = [], [], [], [], []
        for i in range(start, min(n_runs, start + chunk)):
            run_id = f"{rng.getrandbits(128):032x}"
            t = BASE_TIME + i * 1000
            name = f"run-{i:06d}"
            runs.append((run_id, name, "UNKNOWN", "", "", "bench", "FINISHED", t, t + 60_000, "", "active",
                         f"{path.parent}/artifacts/{run_id}/artifacts", exp_id))
            tags += [("mlflow.runName", name, run_id), ("mlflow.user", "bench", run_id)]
            params += [("optimizer", rng.choice(("sgd", "adam")), run_id), ("batch", str(rng.choice((32, 64))), run_id)]
            for key, value in metrics_of(i, rng):
                latest.append((key, value, t, run_id, 0, 0))
                points.append((key, value, t, run_id, 0, 0))
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
            total = store.count_runs(app.screen.experiment.id)
            worst = 0.0
            while len(runs.rows) < total:
                before = len(runs.rows)
                t1 = time.perf_counter()
                await pilot.press("G")
                while len(runs.rows) == before:
                    await pilot.pause(0.005)
                worst = max(worst, time.perf_counter() - t1)
            out["scrolled_rows"] = len(runs.rows)
            out["scroll_to_end_s"] = round(time.perf_counter() - t0, 1)
            out["slowest_page_s"] = round(worst, 3)
            out.update({{f"{{k}}_mb": v for k, v in rss().items()}})
    store.close()
    print(json.dumps(out))
asyncio.run(main())
"""


def measure(uri: str, scroll: bool, experiment: str = "bench") -> dict:
    """Run the child on `uri`, opening the experiment named `experiment`; its JSON result."""
    code = CHILD.format(root=str(ROOT), helpers=str(ROOT / "tests" / "tui"), uri=uri, scroll=scroll,
                        experiment=experiment)
    env = {**os.environ, "TZ": "UTC"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise SystemExit(result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--wide-runs", type=int, default=1_000)
    parser.add_argument("--wide-keys", type=int, default=10_000)
    parser.add_argument("--skip-scroll", action="store_true")
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    big = DATA / f"tui_runs_{args.runs}.db"
    wide = DATA / f"tui_wide_{args.wide_runs}x{args.wide_keys}.db"
    t0 = time.perf_counter()
    build_runs(big, args.runs)
    build_wide(wide, args.wide_runs, args.wide_keys)
    print(f"stores ready in {time.perf_counter() - t0:.1f}s")
    narrow = measure(f"sqlite:///{big}", scroll=False)
    print(f"{args.runs:,}-run experiment: first painted runs table {narrow['first_paint_s']:.2f}s from process start"
          f" ({narrow['first_paint_cpu_s']:.2f}s CPU; target < 1.5s), RSS {narrow['rss_after_first_page_mb']} MB")
    wide_result = measure(f"sqlite:///{wide}", scroll=False)
    print(f"{args.wide_runs:,} runs x {args.wide_keys:,} metric keys: first painted runs table"
          f" {wide_result['first_paint_s']:.2f}s ({wide_result['first_paint_cpu_s']:.2f}s CPU; target < 1.5s)")
    if not args.skip_scroll:
        scrolled = measure(f"sqlite:///{big}", scroll=True)
        print(f"scrolled to the end of {scrolled['scrolled_rows']:,} runs in {scrolled['scroll_to_end_s']}s"
              f" (slowest page {scrolled['slowest_page_s']}s): RSS {scrolled['VmRSS_mb']} MB,"
              f" peak {scrolled['VmHWM_mb']} MB (target < 300 MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
