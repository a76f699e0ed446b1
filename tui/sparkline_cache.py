"""Sparklines of the runs table: which (run, metric) histories the rows on screen still need,
and the drawn lines of those already read.

A line is kept under (run id, key, the metric's latest step): a finished run's line never goes
stale, so scrolling back costs nothing; a RUNNING run that logged a new step has a new latest
step (read by the live refresh), so its old line no longer matches and it is read again.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence

from tracktui.store.model import MetricPoint, Run

from .watch.sparkline import sparkline

#: Lines kept; far more than fit on a screen, so scrolling back and forth is free.
MAX_LINES = 20_000


class SparklineCache:
    """Drawn sparklines by (run id, key, latest step), least recently used dropped first."""

    def __init__(self, width: int, max_lines: int = MAX_LINES) -> None:
        self.width = width
        self._lines: OrderedDict[tuple[str, str, int], str] = OrderedDict()
        self._max = max_lines

    def __len__(self) -> int:
        return len(self._lines)

    def line(self, run: Run, key: str) -> str | None:
        """The run's sparkline of `key` at its latest step, or None when it is not read yet
        (a run without the metric has none to read: "" for it)."""
        latest = run.metrics.get(key)
        if latest is None:
            return ""
        found = self._lines.get((run.id, key, latest.step))
        if found is not None:
            self._lines.move_to_end((run.id, key, latest.step))
        return found

    def missing(self, runs: Iterable[Run], keys: Sequence[str]) -> dict[str, list[str]]:
        """key -> ids of the runs whose line of that key is not held for their latest step."""
        wanted: dict[str, list[str]] = {}
        for run in runs:
            for key in keys:
                if self.line(run, key) is None:
                    wanted.setdefault(key, []).append(run.id)
        return wanted

    def put(self, runs: Iterable[Run], key: str, histories: dict[str, list[MetricPoint]]) -> None:
        """Draw and keep the lines of `key` read for these runs (as they were when asked)."""
        for run in runs:
            latest = run.metrics.get(key)
            if latest is None or run.id not in histories:
                continue
            self._lines[(run.id, key, latest.step)] = sparkline([p.value for p in histories[run.id]], self.width)
            self._lines.move_to_end((run.id, key, latest.step))
        while len(self._lines) > self._max:
            self._lines.popitem(last=False)
