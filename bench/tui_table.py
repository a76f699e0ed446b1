"""Runs table choice: Textual's DataTable vs tracktui's RunsTable, paging N runs in pages of 200.

Prints, for each widget, the time to append a page, move the cursor to its end and repaint
(first, last, worst, mean page), then in a second pass the Python heap growth (tracemalloc)
once all N rows are loaded.
No store involved: the same synthetic Run objects feed both widgets.

    python bench/tui_table.py [N]        # default 20000
"""

from __future__ import annotations

import asyncio
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from textual.app import App  # noqa: E402
from textual.widgets import DataTable  # noqa: E402

from tracktui.store.model import (  # noqa: E402
    Keys,  # noqa: E402
    MetricPoint,
    Run,
)
from tracktui.tui.columns import column, default_column_ids  # noqa: E402
from tracktui.tui.widgets.runs_table import RunsTable  # noqa: E402

PAGE = 200


def fake_runs(start: int, count: int) -> list[Run]:
    out = []
    for i in range(start, start + count):
        out.append(Run(
            id=f"{i:032x}", name=f"run-{i}", experiment_id="1", status="FINISHED", user_id="alice",
            start_time=1_714_554_000_000 + i * 60_000, end_time=1_714_554_000_000 + i * 60_000 + 90_000,
            lifecycle_stage="active", artifact_uri=None,
            metrics={"loss": MetricPoint(0.1 + i * 1e-6, 10, 0), "acc": MetricPoint(0.9, 10, 0), "lr": MetricPoint(1e-3, 0, 0)},
        ))
    return out


COLUMNS = [column(c) for c in default_column_ids(Keys(metrics=("acc", "loss", "lr")))]


class Bench(App):
    def __init__(self, kind: str):
        super().__init__()
        self.kind = kind

    def compose(self):
        yield DataTable() if self.kind == "DataTable" else RunsTable()


async def measure(kind: str, n: int, trace_memory: bool) -> None:
    app = Bench(kind)
    async with app.run_test(size=(120, 40)) as pilot:
        widget = app.query_one(DataTable if kind == "DataTable" else RunsTable)
        if kind == "DataTable":
            widget.add_columns(*(c.label or "st" for c in COLUMNS))
        else:
            widget.set_columns(COLUMNS)
        widget.focus()
        await pilot.pause()
        if trace_memory:
            tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        times = []
        for p in range(n // PAGE):
            runs = fake_runs(p * PAGE, PAGE)
            t0 = time.perf_counter()
            if kind == "DataTable":
                widget.add_rows([[c.text(r) for c in COLUMNS] for r in runs])
                widget.move_cursor(row=widget.row_count - 1)
            else:
                widget.append_runs(runs)
                widget.action_last()
            await pilot.pause()
            times.append(time.perf_counter() - t0)
        heap = (tracemalloc.get_traced_memory()[0] - base) / 2**20
        tracemalloc.stop()
    if trace_memory:
        print(f"{kind:9}  {n} rows: Python heap +{heap:.1f} MiB once all are loaded")
    else:
        print(f"{kind:9}  {n} rows: page+cursor first {times[0]*1000:7.1f} ms, last {times[-1]*1000:7.1f} ms, "
              f"worst {max(times)*1000:7.1f} ms, mean {sum(times)/len(times)*1000:7.1f} ms")


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    for trace_memory in (False, True):
        for kind in ("RunsTable", "DataTable"):
            asyncio.run(measure(kind, n, trace_memory))
