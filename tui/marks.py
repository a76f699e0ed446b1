"""Runs the user marked for comparison, kept on the app so they survive switching
experiment (Compare can hold runs of several experiments).

Insertion order is kept: Compare lists runs in the order they were marked.
"""

from __future__ import annotations

from collections.abc import Iterable

from tracktui.store.model import Run


class RunMarks:
    """An ordered set of marked runs (the Run kept for its name and experiment)."""

    def __init__(self) -> None:
        self._runs: dict[str, Run] = {}

    def __contains__(self, run_id: object) -> bool:
        return run_id in self._runs

    def __len__(self) -> int:
        return len(self._runs)

    @property
    def ids(self) -> list[str]:
        return list(self._runs)

    @property
    def runs(self) -> list[Run]:
        return list(self._runs.values())

    def toggle(self, run: Run) -> bool:
        """Mark or unmark `run`; True when it is marked afterwards."""
        if run.id in self._runs:
            del self._runs[run.id]
            return False
        self._runs[run.id] = run
        return True

    def mark_all(self, runs: Iterable[Run]) -> int:
        """Mark every run given; returns how many were newly marked."""
        before = len(self._runs)
        for run in runs:
            self._runs.setdefault(run.id, run)
        return len(self._runs) - before

    def clear(self) -> None:
        self._runs.clear()


def marks_of(app: object) -> RunMarks:
    """The app's marks, created on first use (the app itself stays unaware of them)."""
    marks = getattr(app, "run_marks", None)
    if marks is None:
        marks = RunMarks()
        app.run_marks = marks
    return marks
