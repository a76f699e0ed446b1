"""Regenerate screenshots/*.svg from a fresh demo store, with the app's own save_screenshot.

    python screenshots/make_screenshots.py [--size 120x34]

The demo store is built in a temporary directory with the demo's fixed seed and base time,
under a frozen clock (experiments are stamped with the wall clock), and shown in UTC, so the
same code gives the same pictures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "tui"))

from pilot_helpers import open_experiment, settle, type_text  # noqa: E402

from tracktui.store import open_store  # noqa: E402
from tracktui.tui.app import TrackApp  # noqa: E402
from tracktui.tui.config import Config  # noqa: E402
from tracktui.tui.demo import BASE_TIME_MS, create_demo_store  # noqa: E402

OUT = Path(__file__).resolve().parent


async def shoot(uri: str, size: tuple[int, int], config_dir: Path) -> list[str]:
    store = open_store(uri, read_only=True)
    store.display_uri = "sqlite:///~/.local/share/tracktui/demo/mlflow.db"
    app = TrackApp(store, config=Config(path=config_dir / "config.json"))
    saved = []

    def save(name: str) -> None:
        saved.append(app.save_screenshot(f"{name}.svg", str(OUT)))

    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        save("experiments")
        await open_experiment(pilot, "sweep")
        await pilot.press("down", "space")
        await settle(pilot)
        save("runs-nested")
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("ctrl+u")  # (the experiments filter still holds "sweep")
        await pilot.press("escape")
        await open_experiment(pilot, "mnist")
        save("runs")
        await pilot.press("m", "down", "m", "down", "m", "C")  # mark three runs, compare them
        await settle(pilot)
        save("compare")
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("U")  # clear the marks
        await pilot.press("v")  # sweep charts of every mnist run
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        await type_text(pilot, "optim")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("L")  # lr spans two decades: log x on request
        await settle(pilot)
        save("sweep-scatter")
        await pilot.press("2")
        await settle(pilot)
        save("sweep-parallel")
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "metrics.`val/loss` < 'low'")
        await pilot.press("enter")
        await settle(pilot)
        save("filter-error")
        await pilot.press("end", "ctrl+u")  # the caret sits at the error, not at the end
        await type_text(pilot, "metrics.`val/loss` < 0.12")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        save("run-overview")
        await pilot.press("3")
        await settle(pilot)
        save("run-metrics")
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("slash", "end", "ctrl+u")
        await type_text(pilot, "attributes.run_name LIKE '%-000'")  # the demo gave this run artifacts
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("6", "down")  # config.yaml, previewed
        await settle(pilot)
        save("run-artifacts")
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        save("column-chooser")
        await pilot.press("escape", "question_mark")
        await settle(pilot)
        save("help")
        await pilot.press("escape", "escape")  # help, then the runs screen
        await settle(pilot)
        await pilot.press("ctrl+u")  # (the experiments filter still holds "mnist")
        await pilot.press("escape")
        await open_experiment(pilot, "bert")
        await pilot.press("ctrl+t")
        await settle(pilot)
        table = app.screen.query_one("TracesTable")
        table.move_cursor(row=next(i for i, t in enumerate(table.traces) if t.state == "ERROR"))
        await settle(pilot)
        save("traces")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("e")  # the first error: where it began
        await settle(pilot)
        save("trace")
        while type(app.screen).__name__ != "ExperimentsScreen":  # back to the experiments list
            await pilot.press("escape")
            await settle(pilot)
        await pilot.press("M", "enter")  # the registered model's versions
        await settle(pilot)
        save("model-versions")
        await pilot.press("escape", "escape", "P")
        await settle(pilot)
        await pilot.press("enter")  # review-summary: v1 as the diff base, v2 selected
        await settle(pilot)
        await pilot.press("down", "m", "up")
        await settle(pilot)
        save("prompt-diff")
    store.close()
    return saved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="120x34", help="terminal size, COLSxROWS")
    args = parser.parse_args()
    cols, rows = (int(n) for n in args.size.lower().split("x"))
    os.environ["TZ"] = "UTC"
    time.tzset()
    # A fixed place, so artifact URIs in the pictures don't change from one run to the next.
    work = Path(tempfile.gettempdir()) / "tracktui-screenshots"
    shutil.rmtree(work, ignore_errors=True)
    with mock.patch("time.time", return_value=(BASE_TIME_MS + 3 * 86_400_000) / 1000):
        uri = create_demo_store(work / "demo")
    for path in asyncio.run(shoot(uri, (cols, rows), work)):
        print(Path(path).relative_to(ROOT))
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
