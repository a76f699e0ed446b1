"""Image preview benchmark (issue 23): highlight a 4-megapixel PNG artifact → its half-block
preview painted, and memory, against MLflow's own way to the same pixels.

Logs one 2000 × 2000 PNG (gradients plus noise, so it compresses like a photo or a plot with
texture, not like a flat colour) with real mlflow into a local SQLite store, then, alternating
so both sides share the machine's load:
  * TUI: the run's Artifacts tab open in a headless app (120x40, half-block renderer); the
    cursor moves onto the PNG (`down`, which is what selects a file for preview) and the clock
    stops when the decoded picture has been drawn (`call_after_refresh` after it is shown);
  * tracktui's store path alone: `read_artifact_bytes` (capped) + decode and shrink to 1000 × 700
    pixels (what a Sixel/Kitty pane of that size takes; half blocks take far fewer);
  * mlflow: `MlflowClient.download_artifacts` + `PIL.Image.open(...).load()`.
Prints medians (wall and CPU), the ratio TUI / mlflow, and the process's peak RSS before and
after the previews. Target: < 300 ms from key to painted preview on a local store.

    python bench/bench_images.py [--repeat 5] [--size 2000] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import cpu_time, load, ratio  # noqa: E402

from tracktui.store import open_store  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--size", type=int, default=2000, help="width and height of the PNG in pixels")
    parser.add_argument("--profile", action="store_true", help="profile one key-to-paint interval and stop")
    args = parser.parse_args()
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ["TRACKTUI_IMAGE_RENDERER"] = "halfcell"
    workdir = Path(tempfile.mkdtemp(prefix="bench-images-"))
    os.chdir(workdir)  # a client-side SQL store puts artifacts under ./mlruns
    uri = f"sqlite:///{workdir / 'images.db'}"
    run_id, png_bytes = build(uri, workdir, args.size)
    print(f"store {uri}: one {args.size} x {args.size} PNG of {png_bytes / 2**20:.1f} MiB ({load()})")

    if args.profile:
        import cProfile
        import pstats

        time_tui(uri, run_id)
        profiler = cProfile.Profile()
        time_tui(uri, run_id, profiler)
        stats = pstats.Stats(profiler).sort_stats("cumulative")
        stats.print_stats(30)
        stats.print_callers("_watch_compact|update_nodes")
        return
    rss_before = peak_rss_mib()
    text, tui, store_path, theirs = [], [], [], []
    for _ in range(args.repeat + 1):  # the first round warms imports and the page cache
        baseline, image = time_tui(uri, run_id)
        text.append(baseline)
        tui.append(image)
        store_path.append(time_store(uri, run_id))
        theirs.append(time_mlflow(uri, run_id, workdir))
    rss_after = peak_rss_mib()

    print(f"{'':46} {'wall ms':>9} {'cpu ms':>9} {'first ms':>9}")
    for label, samples in (("TUI: down -> a text file's preview painted", text),
                           ("TUI: down -> half-block preview painted", tui),
                           ("tracktui store: read + decode to 1000x700 px", store_path),
                           ("mlflow: download_artifacts + PIL load", theirs)):
        print(f"{label:46} {ms(samples[1:], 0):9.1f} {ms(samples[1:], 1):9.1f} {samples[0][0] * 1000:9.1f}")
    print(f"TUI / mlflow (wall): {ratio(ms(tui[1:], 0), ms(theirs[1:], 0))}   "
          f"{'OK' if ms(tui[1:], 0) < 300 else 'OVER'} the 300 ms target")
    print(f"peak RSS: {rss_before:.0f} MiB before the previews, {rss_after:.0f} MiB after ({load()})")


def build(uri: str, workdir: Path, size: int) -> tuple[str, int]:
    import mlflow
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(1)
    y, x = np.mgrid[0:size, 0:size]
    base = np.stack([x * 255 // size, y * 255 // size, (x + y) * 127 // size], axis=-1)
    noisy = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype("uint8")
    path = workdir / "big.png"
    Image.fromarray(noisy, "RGB").save(path)
    client = mlflow.MlflowClient(uri)
    run_id = client.create_run(client.create_experiment("images")).info.run_id
    (workdir / "a-notes.txt").write_text("the file before the image in the tree\n")
    (workdir / "b-notes.txt").write_text("the text file whose preview is the baseline\n")
    client.log_artifact(run_id, str(workdir / "a-notes.txt"))
    client.log_artifact(run_id, str(workdir / "b-notes.txt"))
    client.log_artifact(run_id, str(path))
    return run_id, path.stat().st_size


def time_tui(uri: str, run_id: str, profiler=None) -> tuple[tuple[float, float], tuple[float, float]]:
    """((down onto a text file → painted), (down onto the PNG → painted)), wall and CPU."""
    from tracktui.tui.app import TrackApp
    from tracktui.tui.config import Config
    from tracktui.tui.screens.run import RunScreen
    from tracktui.tui.widgets.artifact_browser import ArtifactBrowser
    from tracktui.tui.widgets.image_view import ImageView

    async def run() -> tuple[float, float]:
        store = open_store(uri, read_only=True)
        app = TrackApp(store, config=Config(path=Path(tempfile.mkdtemp()) / "tracktui.json"))
        async with app.run_test(size=(120, 40)) as pilot:
            await app.push_screen(RunScreen(run_id))
            await wait_for(pilot, lambda: app.screen.query(ArtifactBrowser))
            await pilot.press("6")
            browser = app.screen.query_one(ArtifactBrowser)
            await wait_for(pilot, lambda: browser.selected is not None and browser.selected.path == "a-notes.txt")
            await app.workers.wait_for_complete()
            view = browser.query_one("#artifact-image", ImageView)
            text = browser.query_one("#artifact-preview-text")
            t0, c0 = time.perf_counter(), cpu_time()
            await pilot.press("down")
            await wait_for(pilot, lambda: "baseline" in str(text.body.render()))
            await painted(app)
            baseline = time.perf_counter() - t0, cpu_time() - c0
            await app.workers.wait_for_complete()
            if profiler is not None:
                profiler.enable()
            t0, c0 = time.perf_counter(), cpu_time()
            await pilot.press("down")
            await wait_for(pilot, lambda: view.shown is not None and view.shown.path == "big.png")
            await painted(app)
            elapsed = time.perf_counter() - t0, cpu_time() - c0
            if profiler is not None:
                profiler.disable()
        store.close()
        return baseline, elapsed

    return asyncio.run(run())


async def painted(app) -> None:
    drawn = asyncio.Event()
    app.call_after_refresh(drawn.set)  # runs once the screen has been drawn
    await drawn.wait()


async def wait_for(pilot, ready, timeout: float = 60) -> None:
    deadline = time.perf_counter() + timeout
    while not ready():
        if time.perf_counter() > deadline:
            raise RuntimeError("timed out")
        await asyncio.sleep(0.001)


def time_store(uri: str, run_id: str) -> tuple[float, float]:
    from tracktui.tui.image_decode import fetch_display_image

    with open_store(uri, read_only=True) as store:
        t0, c0 = time.perf_counter(), cpu_time()
        fetch_display_image(store, run_id, "big.png", None, (1000, 700))
        return time.perf_counter() - t0, cpu_time() - c0


def time_mlflow(uri: str, run_id: str, workdir: Path) -> tuple[float, float]:
    import mlflow
    from PIL import Image

    client = mlflow.MlflowClient(uri)
    dest = Path(tempfile.mkdtemp(dir=workdir))
    t0, c0 = time.perf_counter(), cpu_time()
    with Image.open(client.download_artifacts(run_id, "big.png", str(dest))) as picture:
        picture.load()
    return time.perf_counter() - t0, cpu_time() - c0


def ms(samples: list[tuple[float, float]], index: int) -> float:
    return statistics.median(s[index] for s in samples) * 1000


def peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


if __name__ == "__main__":
    main()
