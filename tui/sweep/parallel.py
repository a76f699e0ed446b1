"""The parallel-coordinates view's data: chosen params as axes and one metric as the last, each
run a polyline through its values (each axis scaled to [0, 1] on its own), the best N by the
metric highlighted.

A run is drawn only with a value on every axis (as MLflow's chart does); the others are counted
by the first axis they lack. Numeric axes spanning decades are log-scaled, as in the scatter.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from tracktui.store.model import Run

from .axes import Axis, Scale, build_axis, scale_for

Direction = Literal["min", "max"]
#: Best runs highlighted by default, and at most (one palette colour each; the palette's
#: eighth colour is the grey of the other runs).
DEFAULT_BEST = 5
MAX_BEST = 7
#: Words in a metric's name meaning "lower is better".
_LOWER_IS_BETTER = re.compile(r"loss|error|(^|[^a-z])(err|mse|mae|rmse|mape|smape|wer|cer|perplexity|ppl)([^a-z]|$)")


def guess_direction(metric: str) -> Direction:
    """'min' for a loss or an error (`val/loss`, `rmse`, `error_rate`), else 'max'."""
    name = metric.partition(":")[2] or metric
    return "min" if _LOWER_IS_BETTER.search(name.lower()) else "max"


@dataclass(frozen=True)
class ParallelLine:
    run: Run
    ys: tuple[float, ...]  # position on each axis, in [0, 1]
    metric: float  # the metric's value, as logged


@dataclass(frozen=True)
class ParallelData:
    axes: tuple[Axis, ...]  # the params, then the metric
    scales: tuple[Scale, ...]
    lines: tuple[ParallelLine, ...]  # every drawn run, best first
    best_count: int  # lines[:best_count] are highlighted
    direction: Direction
    left_out: dict[str, int]
    total: int

    @property
    def best(self) -> tuple[ParallelLine, ...]:
        return self.lines[: self.best_count]

    def summary(self) -> str:
        parts = [f"{len(self.lines):,} of {self.total:,} {'run' if self.total == 1 else 'runs'}"]
        parts += [f"{n:,} {reason}" for reason, n in self.left_out.items()]
        return " · ".join(parts)


def parallel_data(
    runs: Sequence[Run], param_keys: Sequence[str], metric_key: str, *, best: int = DEFAULT_BEST,
    direction: Direction | None = None,
) -> ParallelData:
    """Lines of the runs with a value on every axis, ordered best first by `metric_key`
    (`direction` None: guessed from its name); ties by run name, then id."""
    direction = direction or guess_direction(metric_key)
    axes = tuple(build_axis(runs, key) for key in (*param_keys, metric_key))
    scales = tuple(scale_for(axis, axis.spans_decades) for axis in axes)
    left_out: dict[str, int] = {}
    lines = []
    for run in runs:
        ys: list[float] = []
        for axis, scale in zip(axes, scales):
            value = axis.values.get(run.id)
            position = None if value is None else scale.position(value)
            if position is None:
                reason = (f"≤ 0 on the log {axis.label} axis" if value is not None
                          else axis.why_missing(run.id))
                left_out[reason] = left_out.get(reason, 0) + 1
                break
            ys.append(position)
        else:
            lines.append(ParallelLine(run, tuple(ys), axes[-1].values[run.id]))
    sign = 1.0 if direction == "min" else -1.0
    lines.sort(key=lambda line: (sign * line.metric, line.run.display_name, line.run.id))
    return ParallelData(axes, scales, tuple(lines), min(best, len(lines)), direction, left_out, len(runs))
