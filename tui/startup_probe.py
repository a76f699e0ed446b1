"""`TRACKTUI_STARTUP_PROBE=FILE`: when the first screen has painted its data (the experiments
list, or with `--experiment` the runs table's first page), write the wall-clock time
(`time.time()`), the screen's class name and the process's CPU seconds so far to FILE, and
exit. bench/bench_startup.py measures launch → painted with it;
without the variable this is one dictionary lookup per screen load.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from textual.app import App

ENV = "TRACKTUI_STARTUP_PROBE"


def data_painted(app: App) -> None:
    """Call when a screen has just put its first data in place: after the next refresh (the
    frame that shows it), record the time and exit."""
    target = os.environ.get(ENV)
    if not target:
        return

    def record() -> None:
        Path(target).write_text(f"{time.time()!r} {type(app.screen).__name__} {time.process_time()!r}")
        app.exit()

    app.call_after_refresh(record)
