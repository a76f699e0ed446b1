"""The scatter view's data: one point per run with both values, coloured by an optional key,
and the runs left out with the reason (`12 runs without params.lr`).

Points are in plot units (log10 already taken on a log axis: plotext's own log scale drops
series, see tui/plotting.log_ticks) and ordered by x, then y, then run name, so the cursor's
order and the snapshots do not depend on the store's order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from tracktui.store.model import Run

from .axes import Axis, Scale, build_axis, scale_for
from .colors import ColorGroups, color_groups

#: Directions the cursor moves in: (dx, dy) in the chart's orientation (y grows upwards).
DIRECTIONS = {"left": (-1.0, 0.0), "right": (1.0, 0.0), "up": (0.0, 1.0), "down": (0.0, -1.0)}
#: A point off the straight line counts this much more than one along it (arrow keys).
OFF_LINE_WEIGHT = 2.0


@dataclass(frozen=True)
class ScatterPoint:
    run: Run
    x: float  # plot units: the value, its log10, or the category index
    y: float
    nx: float  # position in [0, 1] across the chart, for the cursor
    ny: float
    group: int  # index into the colour groups (0 when not coloured)


@dataclass(frozen=True)
class ScatterData:
    x: Axis
    y: Axis
    color: ColorGroups | None
    x_scale: Scale
    y_scale: Scale
    points: tuple[ScatterPoint, ...]
    #: Why runs are not drawn, each with its count ("without params.lr" → 12); a run is
    #: counted once, under the first reason (x, then y).
    left_out: dict[str, int]
    total: int

    def summary(self) -> str:
        """'40 of 52 runs · 12 without params.lr · 1 NaN/inf metrics.loss'."""
        parts = [f"{len(self.points):,} of {self.total:,} {_runs(self.total)}"]
        parts += [f"{n:,} {reason}" for reason, n in self.left_out.items()]
        return " · ".join(parts)


def scatter_data(
    runs: Sequence[Run], x_key: str, y_key: str, color_key: str | None = None,
    log_x: bool | None = None, log_y: bool | None = None,
) -> ScatterData:
    """Points of the runs with a drawable value on both axes. `log_x`/`log_y` None: chosen by
    the data (`Axis.spans_decades`); on a log axis, values ≤ 0 are left out and counted."""
    x, y = build_axis(runs, x_key), build_axis(runs, y_key)
    log_x = x.spans_decades if log_x is None else (log_x and x.numeric)
    log_y = y.spans_decades if log_y is None else (log_y and y.numeric)
    x_scale, y_scale = scale_for(x, log_x), scale_for(y, log_y)
    groups = color_groups(runs, color_key) if color_key else None
    left_out: dict[str, int] = {}
    points = []
    for run in runs:
        reason = next((axis.why_missing(run.id) for axis in (x, y) if run.id not in axis.values), None)
        if reason is not None:
            _count(left_out, reason, 1)
            continue
        vx, vy = x.values[run.id], y.values[run.id]
        nx, ny = x_scale.position(vx), y_scale.position(vy)
        if nx is None or ny is None:
            _count(left_out, f"≤ 0 on the log {'x' if nx is None else 'y'} axis", 1)
            continue
        group = groups.group_of.get(run.id, 0) if groups else 0
        points.append(ScatterPoint(run, _plot_unit(vx, log_x), _plot_unit(vy, log_y), nx, ny, group))
    points.sort(key=lambda p: (p.x, p.y, p.run.display_name, p.run.id))
    return ScatterData(x, y, groups, x_scale, y_scale, tuple(points), left_out, len(runs))


def step_cursor(points: Sequence[ScatterPoint], current: int, direction: str, aspect: float = 1.0) -> int:
    """The point an arrow key moves the cursor to from `points[current]`: the nearest one in
    that direction, where a point off the straight line counts OFF_LINE_WEIGHT times its
    distance; `current` when there is none. `aspect` is the chart's width/height on screen,
    so distances are the ones the user sees. Points on the same spot are stepped through in
    order (right/up: the next one, left/down: the one before)."""
    if not points:
        return current
    dx, dy = DIRECTIONS[direction]
    forward = dx > 0 or dy > 0
    here = points[current]
    best, best_score = current, float("inf")
    for index, point in enumerate(points):
        if index == current:
            continue
        ox, oy = (point.nx - here.nx) * aspect, point.ny - here.ny
        along, across = ox * dx + oy * dy, abs(ox * dy - oy * dx)
        if abs(along) < 1e-12 and across < 1e-12:  # same spot: step in list order
            if (index > current) != forward:
                continue
            score = abs(index - current) * 1e-9
        elif along <= 1e-12:
            continue
        else:
            score = along + OFF_LINE_WEIGHT * across
        if score < best_score:
            best, best_score = index, score
    return best


def _plot_unit(value: float, log: bool) -> float:
    return math.log10(value) if log else value


def _count(counts: dict[str, int], reason: str, n: int) -> None:
    if n:
        counts[reason] = counts.get(reason, 0) + n


def _runs(n: int) -> str:
    return "run" if n == 1 else "runs"
