"""Runs the user marked for comparison, kept on the app so they survive switching
experiment (Compare can hold runs of several experiments).

Insertion order is kept: Compare lists runs in the order they were marked. Each mark
remembers the name of the experiment it was made in, so the status bar can say where the
marked runs are without asking the store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from tracktui.store.model import Run


class RunMarks:
    """An ordered set of marked runs (the Run kept for its name and experiment).

    `on_change` runs after every change (the app publishes it to the status bars).
    """

    def __init__(self, on_change: Callable[[], None] = lambda: None) -> None:
        self._runs: dict[str, Run] = {}
        self._experiment_names: dict[str, str] = {}
        self._on_change = on_change

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

    def toggle(self, run: Run, experiment_name: str) -> bool:
        """Mark or unmark `run` (of experiment `experiment_name`); True when it is marked afterwards."""
        marked = run.id not in self._runs
        if marked:
            self._runs[run.id] = run
            self._experiment_names[run.experiment_id] = experiment_name
        else:
            del self._runs[run.id]
        self._on_change()
        return marked

    def mark_all(self, runs: Iterable[Run], experiment_name: str) -> int:
        """Mark every run given (all of experiment `experiment_name`); returns how many were newly marked."""
        before = len(self._runs)
        for run in runs:
            self._runs.setdefault(run.id, run)
            self._experiment_names[run.experiment_id] = experiment_name
        self._on_change()
        return len(self._runs) - before

    def discard(self, run_ids: Iterable[str]) -> None:
        """Unmark these runs where marked (after a delete or restore acted on them)."""
        for run_id in run_ids:
            self._runs.pop(run_id, None)
        self._on_change()

    def clear(self) -> None:
        self._runs.clear()
        self._on_change()

    def by_experiment(self) -> list[tuple[str, int]]:
        """(experiment name, marked runs in it), in the order experiments were first marked in."""
        counts: dict[str, int] = {}
        for run in self._runs.values():
            counts[run.experiment_id] = counts.get(run.experiment_id, 0) + 1
        return [(self._experiment_names.get(exp_id, f"experiment {exp_id}"), n) for exp_id, n in counts.items()]

    def summary(self) -> str:
        """'3 marked: 2 in 'mnist', 1 in 'sweep'' — empty when nothing is marked."""
        if not self._runs:
            return ""
        where = ", ".join(f"{n} in '{name}'" for name, n in self.by_experiment())
        return f"{len(self._runs)} marked: {where}"
