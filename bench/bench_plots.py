"""Plot and compare benchmark: from key press to drawn chart / filled diff table, in the app.

    python bench/bench_plots.py [--repeat 3] [--only plot|compare|diff] [--profile] [--no-mlflow]

Three measurements, each in the real app running headless (Textual's test driver, 120x40),
timed from the key event sent to the app until the screen shows its data and has painted:
- a 1M-point metric history on SQLite (bench/.data/bench10k.db, built by build_sql_store.py):
  key → PlotScreen → downsampled history (≈2×width points) → chart drawn. Target < 500 ms.
- a 10-run compare of 10k-point histories (bench/.data/bench_plots_compare.db, built here
  once through the store's own write API): key → CompareScreen → 2 charts × 10 runs drawn.
  Target < 1 s.
- a 200-run diff table (200 runs of bench10k.db: 12 params, 6 metrics each): key →
  CompareScreen → one `run_id IN` search → diff table filled. Target < 1 s. A second row
  times the same open until its charts are drawn too (20 runs overlaid; the first run by
  start time is bench10k's 1M-point one, so that includes its downsampling).
Each measurement is one app session opening the screen repeatedly (Esc between): the cold
first open is shown apart from the median of the later ones. Wall time depends on machine
load (this machine is shared), so the load average is printed, and beside the wall time the
process CPU time (all threads: the UI and the store's workers) and the UI thread's own CPU
time (the TUI's work without the store's queries, which run in worker threads).

The key is posted to the app directly and the screen is painted on demand once the data is
there: `pilot.press` waits until the process is idle, i.e. usually until every worker thread
is done (that made the diff row include the charts' histories), and `pilot.pause` likewise.

Then the store's share alone (the same calls without the app), and the same reads through
MlflowClient with the ratio: mlflow has no downsampling, so those histories come whole.
`--profile` writes a cProfile of the UI thread over the warm opens to bench/.data/.

Figures before/after issue 7's work: bench/README.md, "bench_plots.py (issue 7)".
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import math
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from build_sql_store import DATA_DIR, build  # noqa: E402
from textual import events  # noqa: E402
from textual.binding import Binding  # noqa: E402
from textual.screen import Screen  # noqa: E402
from textual.widgets import Static  # noqa: E402
from timing import load, ratio  # noqa: E402
from timing import measure as measure_calls  # noqa: E402

from tracktui.store import open_store  # noqa: E402
from tracktui.store.model import MetricPoint  # noqa: E402
from tracktui.tui.app import TrackApp  # noqa: E402
from tracktui.tui.config import Config  # noqa: E402
from tracktui.tui.plotting import history_points_for  # noqa: E402
from tracktui.tui.screens.compare import (  # noqa: E402
    CHART_RUNS,
    CompareScreen,
    fetch_overlays,
    fetch_runs,
)
from tracktui.tui.screens.plot import PlotScreen  # noqa: E402
from tracktui.tui.widgets.metric_plot import MetricPlot  # noqa: E402

COMPARE_RUNS = 10
COMPARE_POINTS = 10_000
DIFF_RUNS = 200
SIZE = (120, 40)


class Launcher(Screen):
    """Pressing `g` pushes the screen under test, as a real binding would."""

    BINDINGS = [Binding("g", "go", "go")]

    def __init__(self, make_screen) -> None:
        super().__init__()
        self.make_screen = make_screen

    def compose(self):
        yield Static("bench")

    def action_go(self) -> None:
        self.app.push_screen(self.make_screen())


async def press_until(app: TrackApp, pilot, ready, then=None, timeout_s: float = 60.0) -> list[tuple[float, ...]]:
    """(wall, cpu, ui_cpu) seconds from pressing `g` until `ready(screen)` and one more
    paint, then (when given) until `then(screen)` and one more paint: one sample per stage.
    cpu is the whole process (UI and store threads); ui_cpu the UI thread's alone (the app's
    event loop runs on this thread), i.e. the TUI's own work without the store's queries."""
    w0, c0, u0 = time.perf_counter(), time.process_time(), time.thread_time()
    press(app, "g")
    deadline = w0 + timeout_s
    stages = []
    for condition in (ready, then) if then else (ready,):
        while not condition(app.screen):
            if time.perf_counter() > deadline:
                raise TimeoutError("the screen never showed its data")
            await asyncio.sleep(0.002)
        await painted(app, pilot)
        stages.append((time.perf_counter() - w0, time.process_time() - c0, time.thread_time() - u0))
    return stages


def press(app: TrackApp, key: str) -> None:
    """Send a key as the terminal driver would. Not `pilot.press`, which then waits until
    the process is idle, i.e. (most of the time) until every worker thread has finished."""
    event = events.Key(key, key)
    event.set_sender(app)
    app._driver.send_message(event)


async def painted(app: TrackApp, pilot) -> None:
    """Process what the screen has queued and paint it now, twice (a first layout can queue
    mounts and resizes). Not `pilot.pause()`: that waits for the whole process to go idle,
    which also waits for (or, under load, sometimes not for) worker threads still reading."""
    for _ in range(2):
        await pilot._wait_for_screen()
        app.screen._on_timer_update()


def plots_drawn(screen, count: int, lines: int) -> bool:
    plots = list(screen.query(MetricPlot)) if isinstance(screen, (PlotScreen, CompareScreen)) else []
    return len(plots) == count and all(len(p.series) == lines and all(len(s) for s in p.series) for p in plots)


def charts_shown(screen) -> bool:
    """Every chart of a compare screen holds its histories (runs lacking the metric: empty)."""
    plots = list(screen.query(MetricPlot)) if isinstance(screen, CompareScreen) else []
    return bool(plots) and all(p.lines and len(p.series) == len(p.lines) for p in plots)


def diff_filled(screen, runs: int) -> bool:
    return isinstance(screen, CompareScreen) and len(screen.runs) == runs and screen.diff_table.row_count > 0


async def measure(uri: str, make_screen, ready, repeat: int, profile: str | None = None,
                  then=None) -> list[list[tuple[float, ...]]]:
    """One app session: press, wait, Esc back, `repeat + 1` times. The first sample is cold
    (the screen's CSS parsed, its modules' first use); the rest are what a user sees on the
    second and later opens. Each sample has one (wall, cpu) per stage (`ready`, `then`)."""
    samples = []
    store = open_store(uri, read_only=True)
    app = TrackApp(store, config=Config(path=DATA_DIR / "bench_plots_config.json"))
    try:
        async with app.run_test(size=SIZE) as pilot:
            launcher = Launcher(make_screen)
            await app.push_screen(launcher)
            await pilot.pause()
            profiler = cProfile.Profile() if profile else None
            for i in range(repeat + 1):
                if profiler and i:
                    profiler.enable()
                samples.append(await press_until(app, pilot, ready, then))
                if profiler and i:
                    profiler.disable()
                await app.workers.wait_for_complete()
                app.pop_screen()
                while app.screen is not launcher:
                    await pilot.pause()
                await pilot.pause()
    finally:
        store.close()
    if profile:
        path = DATA_DIR / f"bench_plots_{profile}.prof"
        profiler.dump_stats(path)
        print(f"(UI-thread profile of the warm opens: {path})", flush=True)
    return samples


def compare_store() -> tuple[str, list[str]]:
    """10 runs × 2 metrics × 10k points, written once through the store's write API."""
    path = DATA_DIR / "bench_plots_compare.db"
    ids_path = path.with_suffix(".ids")
    uri = f"sqlite:///{path}"
    if path.exists() and ids_path.exists():
        return uri, ids_path.read_text().split()
    from tracktui.store.sql.init import initialize_sqlite_store

    path.unlink(missing_ok=True)
    uri = initialize_sqlite_store(path, artifact_root=str(DATA_DIR / "bench_plots_artifacts"))
    store = open_store(uri)
    exp = store.create_experiment("compare-bench")
    ids = []
    base = 1_760_000_000_000
    for r in range(COMPARE_RUNS):
        run = store.create_run(exp, name=f"run-{r:02d}", start_time=base)
        for key, shape in (("loss", lambda s, r=r: math.exp(-s / 2000) * (1 + 0.1 * r) + 0.01 * math.sin(s)),
                           ("accuracy", lambda s, r=r: 1 - math.exp(-s / (1500 + 100 * r)))):
            for lo in range(0, COMPARE_POINTS, 2000):
                store.log_batch(run.id, [(key, MetricPoint(shape(s), s, base + 100 * s))
                                         for s in range(lo, min(lo + 2000, COMPARE_POINTS))])
        store.update_run(run.id, status="FINISHED", end_time=base + 100 * COMPARE_POINTS)
        ids.append(run.id)
    store.close()
    ids_path.write_text(" ".join(ids))
    return uri, ids


def report(name: str, samples: list[list[tuple[float, ...]]], target_s: float | None, stage: int = 0) -> None:
    cold, warm = samples[0][stage], [s[stage] for s in samples[1:]] or [samples[0][stage]]
    wall = statistics.median(x[0] for x in warm)
    cpu = statistics.median(x[1] for x in warm)
    ui_cpu = statistics.median(x[-1] for x in warm)
    target = f"< {target_s * 1000:.0f} ms" if target_s else "—"
    verdict = "—" if not target_s else "OK" if wall < target_s else "over target"
    print(f"| {name} | {wall * 1000:.0f} ms | {cpu * 1000:.0f} ms | {ui_cpu * 1000:.0f} ms | {cold[0] * 1000:.0f} ms |"
          f" {target} | {verdict} |", flush=True)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-mlflow", action="store_true", help="skip the MlflowClient reads")
    parser.add_argument("--only", choices=("plot", "compare", "diff"), action="append",
                        help="run only these measurements (repeatable)")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile the UI thread during the warm opens (bench/.data/bench_plots_*.prof)")
    args = parser.parse_args()

    info = build(DATA_DIR / "bench10k.db")
    long_run = info["long_run_id"]
    cmp_uri, cmp_ids = compare_store()
    cmp_store = open_store(cmp_uri, read_only=True)
    cmp_exp = cmp_store.get_run(cmp_ids[0]).experiment_id
    cmp_store.close()
    store = open_store(info["uri"], read_only=True)
    diff_ids = [r.id for r in store.search_runs([info["experiment_id"]], "", ["attributes.start_time ASC"],
                                                 max_results=DIFF_RUNS).items]
    store.close()

    print(f"bench_plots: {load()}, {SIZE[0]}x{SIZE[1]}, median of {args.repeat} after a cold run\n")
    print("| measurement | wall (median) | CPU (median) | UI-thread CPU | cold wall | target | verdict |")
    print("|---|---|---|---|---|---|---|")
    only = set(args.only or ("plot", "compare", "diff"))
    if "plot" in only:
        samples = await measure(info["uri"], lambda: PlotScreen(long_run, ["loss"]),
                                lambda s: plots_drawn(s, 1, 1), args.repeat, args.profile and "plot")
        report("key → plot of a 1M-point history (SQLite)", samples, 0.5)
    if "compare" in only:
        samples = await measure(cmp_uri, lambda: CompareScreen(cmp_ids, [cmp_exp]),
                                lambda s: plots_drawn(s, 2, COMPARE_RUNS), args.repeat, args.profile and "compare")
        report(f"key → compare, {COMPARE_RUNS} runs × {COMPARE_POINTS:,}-point histories, 2 charts", samples, 1.0)
    if "diff" in only:
        samples = await measure(info["uri"], lambda: CompareScreen(diff_ids, [info["experiment_id"]]),
                                lambda s: diff_filled(s, DIFF_RUNS), args.repeat, args.profile and "diff",
                                then=charts_shown)
        report(f"key → compare diff table, {DIFF_RUNS} runs", samples, 1.0)
        report(f"… and its charts drawn ({CHART_RUNS} runs; one has the 1M-point history)", samples, None, 1)
    if args.only:
        return

    # The store's share: the same calls without the app, so the TUI's own cost is the rest.
    print("\n| store calls alone (no app) | wall (median) | CPU (median) |\n|---|---|---|")
    points = history_points_for(SIZE[0])
    with open_store(info["uri"], read_only=True) as st:
        tt_1m = t = measure_calls(lambda: st.get_metric_history(long_run, "loss", max_points=points), args.repeat)
        print(f"| get_metric_history, 1M points → {points} | {t.wall * 1000:.0f} ms | {t.cpu * 1000:.0f} ms |")
        tt_runs = t = measure_calls(lambda: fetch_runs(st, diff_ids, [info["experiment_id"]]), args.repeat)
        print(f"| {DIFF_RUNS} runs by one run_id IN search | {t.wall * 1000:.0f} ms | {t.cpu * 1000:.0f} ms |")
    with open_store(cmp_uri, read_only=True) as st:
        runs = fetch_runs(st, cmp_ids, [cmp_exp])
        t = measure_calls(lambda: fetch_overlays(st, runs, ["accuracy", "loss"], points), args.repeat)
        print(f"| {COMPARE_RUNS} runs × 2 histories, 10k points → {points} | {t.wall * 1000:.0f} ms"
              f" | {t.cpu * 1000:.0f} ms |")
    tt_store = {"1m": tt_1m, "runs": tt_runs, "overlays": t}
    if not args.no_mlflow:
        mlflow_reads(info, long_run, diff_ids, cmp_uri, cmp_ids, cmp_exp, tt_store)


def mlflow_reads(info, long_run, diff_ids, cmp_uri, cmp_ids, cmp_exp, tt_store) -> None:
    """The same reads through MlflowClient, what a UI built on mlflow's Python API would
    issue: it has no downsampling, so the histories come whole (1M points; 20 × 10k). One
    call each (the 1M-point read takes seconds)."""
    import mlflow

    print(f"\n| same reads, MlflowClient (mlflow {mlflow.__version__}, one call) | wall | CPU |"
          " mlflow/tracktui CPU |\n|---|---|---|---|")
    client = mlflow.MlflowClient(info["uri"])
    t = measure_calls(lambda: client.get_metric_history(long_run, "loss"), 1, warmup=False)
    print(f"| get_metric_history, 1M points (all) | {t.wall * 1000:.0f} ms | {t.cpu * 1000:.0f} ms |"
          f" {ratio(t.cpu, tt_store['1m'].cpu).strip()} |")
    quoted = ", ".join(f"'{rid}'" for rid in diff_ids)
    t = measure_calls(lambda: client.search_runs([info["experiment_id"]], f"attributes.run_id IN ({quoted})",
                                                 max_results=DIFF_RUNS), 1)
    print(f"| {DIFF_RUNS} runs by one run_id IN search | {t.wall * 1000:.0f} ms | {t.cpu * 1000:.0f} ms |"
          f" {ratio(t.cpu, tt_store['runs'].cpu).strip()} |")
    client = mlflow.MlflowClient(cmp_uri)
    t = measure_calls(lambda: [client.get_metric_history(rid, key) for rid in cmp_ids for key in ("accuracy", "loss")],
                      1)
    print(f"| {COMPARE_RUNS} runs × 2 histories, 10k points (all) | {t.wall * 1000:.0f} ms | {t.cpu * 1000:.0f} ms |"
          f" {ratio(t.cpu, tt_store['overlays'].cpu).strip()} |")


if __name__ == "__main__":
    asyncio.run(main())
