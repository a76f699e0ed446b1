"""Pure functions behind the metric plots: x-axis transforms, EMA smoothing, non-finite
filtering, min/max/last markers and the series palette. No Textual, no plotext: these are
what the plot widget draws and what the unit tests check against reference computations.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from tracktui.store.model import MetricPoint

#: X-axis modes, in the order the plot's `x` key cycles through them.
X_AXES: tuple[str, ...] = ("step", "wall", "relative")
X_AXIS_LABELS = {"step": "step", "wall": "wall time", "relative": "time since run start (s)"}

#: Smoothing weights offered by the +/- keys (TensorBoard's slider goes 0 … 0.999).
SMOOTHING_STEPS: tuple[float, ...] = (0.0, 0.3, 0.6, 0.8, 0.9, 0.95, 0.99, 0.999)

#: Okabe & Ito's colour-blind-safe palette (black swapped for grey, readable on dark themes).
OKABE_ITO: tuple[tuple[int, int, int], ...] = (
    (230, 159, 0),    # orange
    (86, 180, 233),   # sky blue
    (0, 158, 115),    # bluish green
    (240, 228, 66),   # yellow
    (0, 114, 178),    # blue
    (213, 94, 0),     # vermillion
    (204, 121, 167),  # reddish purple
    (153, 153, 153),  # grey
)
#: Closest distinct picks among the 16 ANSI colours, same order as OKABE_ITO.
ANSI16: tuple[str, ...] = ("yellow", "cyan+", "green", "yellow+", "blue+", "red", "magenta+", "gray")
#: Markers used past the first 8 series (first 8 draw braille lines).
MARKERS: tuple[str, ...] = ("braille", "•", "x", "+", "o", "*", "#", "%")


@dataclass(frozen=True)
class Series:
    """One plottable line: finite x/y pairs plus what was dropped on the way.

    `skipped_nonfinite` counts NaN/±inf values (and ±1.7976931348623157e308, mlflow's SQL
    stand-in for inf); `skipped_nonpositive` counts values a log axis cannot show."""

    x: tuple[float, ...]
    y: tuple[float, ...]
    skipped_nonfinite: int = 0
    skipped_nonpositive: int = 0

    def __len__(self) -> int:
        return len(self.y)


@dataclass(frozen=True)
class Extremes:
    """Where the min, max and last finite values lie (x, y), for the plot's markers."""

    min: tuple[float, float]
    max: tuple[float, float]
    last: tuple[float, float]


@dataclass(frozen=True)
class Style:
    """How series number i is drawn."""

    color: tuple[int, int, int] | str
    marker: str


_SQL_INF = 1.7976931348623157e308


def is_plottable(value: float) -> bool:
    """False for NaN, ±inf and the ±DBL_MAX that SQL stores write in place of inf."""
    return math.isfinite(value) and abs(value) != _SQL_INF


def x_values(points: Sequence[MetricPoint], axis: str, run_start_ms: int | None = None) -> list[float]:
    """The x coordinate of each point: its step, its wall time in epoch seconds, or seconds
    since `run_start_ms` (the first point's timestamp when the run's start is unknown)."""
    if axis == "step":
        return [float(p.step) for p in points]
    if axis == "wall":
        return [p.timestamp / 1000.0 for p in points]
    if axis == "relative":
        if not points:
            return []
        origin = run_start_ms if run_start_ms is not None else min(p.timestamp for p in points)
        return [(p.timestamp - origin) / 1000.0 for p in points]
    raise ValueError(f"unknown x axis {axis!r}; expected one of {', '.join(X_AXES)}")


def to_series(
    points: Sequence[MetricPoint], axis: str = "step", *, run_start_ms: int | None = None, log_y: bool = False
) -> Series:
    """Finite points as x/y tuples (in x order for the time axes); non-finite (and, for a log axis, non-positive) values are
    skipped and counted rather than handed to plotext, which would crash or flatten the plot."""
    xs = x_values(points, axis, run_start_ms)
    if axis != "step" and any(b < a for a, b in zip(xs, xs[1:])):
        # Clocks can disagree with step order (async logging): draw in time order.
        order = sorted(range(len(xs)), key=xs.__getitem__)
        xs, points = [xs[i] for i in order], [points[i] for i in order]
    keep_x: list[float] = []
    keep_y: list[float] = []
    nonfinite = nonpositive = 0
    for x, p in zip(xs, points):
        v = p.value
        if not is_plottable(v):
            nonfinite += 1
        elif log_y and v <= 0:
            nonpositive += 1
        else:
            keep_x.append(x)
            keep_y.append(v)
    return Series(tuple(keep_x), tuple(keep_y), nonfinite, nonpositive)


def ema(values: Sequence[float], weight: float) -> list[float]:
    """TensorBoard's debiased exponential moving average.

    last = last * weight + (1 - weight) * v, then divided by 1 - weight**n (n = finite values
    seen so far) so the start is not pulled towards 0. Non-finite values pass through
    unchanged and do not update the average. Weight 0 returns the values; weight must be in
    [0, 1)."""
    if not 0.0 <= weight < 1.0:
        raise ValueError(f"smoothing weight must be in [0, 1), got {weight}")
    if weight == 0.0:
        return list(values)
    last = 0.0
    n = 0
    out: list[float] = []
    for v in values:
        if not math.isfinite(v):
            out.append(v)
            continue
        last = last * weight + (1.0 - weight) * v
        n += 1
        out.append(last / (1.0 - weight**n))
    return out


def extremes(series: Series) -> Extremes | None:
    """Min, max (first occurrence) and last point of a series; None when it is empty."""
    if not series.y:
        return None
    ys = series.y
    lo = ys.index(min(ys))
    hi = ys.index(max(ys))
    return Extremes((series.x[lo], ys[lo]), (series.x[hi], ys[hi]), (series.x[-1], ys[-1]))


def style_for(index: int, colors: str = "truecolor") -> Style:
    """Colour and marker of series `index`: Okabe-Ito colours (ANSI names on 16-colour
    terminals, `colors="standard"`), and from the 9th series on a different marker each
    time the colours wrap, so two series never share both."""
    palette: Sequence = ANSI16 if colors in ("standard", "windows") else OKABE_ITO
    color = palette[index % len(palette)]
    marker = MARKERS[(index // len(palette)) % len(MARKERS)]
    return Style(color, marker)


def faded(color: tuple[int, int, int] | str, background: tuple[int, int, int]) -> tuple[int, int, int] | str:
    """The colour of the raw series drawn behind the smoothed one: 65% of the way to the
    background. ANSI names (no blending possible) fade to grey."""
    if isinstance(color, str):
        return "gray"
    return tuple(round(c + (b - c) * 0.65) for c, b in zip(color, background))  # type: ignore[return-value]


def rich_color(color: tuple[int, int, int] | str) -> str:
    """A palette colour as Rich spells it (plotext's `cyan+` is Rich's `bright_cyan`)."""
    if not isinstance(color, str):
        return "rgb({},{},{})".format(*color)
    if color == "gray":
        return "bright_black"
    return f"bright_{color[:-1]}" if color.endswith("+") else color


def next_smoothing(weight: float, direction: int) -> float:
    """The next weight of SMOOTHING_STEPS up (+1) or down (-1) from `weight`, clamped."""
    if direction > 0:
        bigger = [s for s in SMOOTHING_STEPS if s > weight + 1e-9]
        return bigger[0] if bigger else SMOOTHING_STEPS[-1]
    smaller = [s for s in SMOOTHING_STEPS if s < weight - 1e-9]
    return smaller[-1] if smaller else SMOOTHING_STEPS[0]


def format_value(value: float) -> str:
    """Short label of a y value for legends and marker captions."""
    if value == 0 or 1e-3 <= abs(value) < 1e5:
        return f"{value:.4g}"
    return f"{value:.3e}"


def fit_value(value: float, width: int) -> str:
    """`value` rounded to the most significant digits (6 at most) that fit in `width` cells:
    an axis label is rounded, never cut (`0.9…21` would read as another number)."""
    for digits in range(6, 0, -1):
        text = f"{value:.{digits}g}"
        if len(text) <= width:
            return text
    return text


def history_points_for(width_cells: int) -> int:
    """Points to ask the store for: two per character cell (braille draws 2 dots across)."""
    return max(64, 2 * width_cells)


def step_ticks(lo: float, hi: float, count: int = 5) -> tuple[list[float], list[str]]:
    """X ticks on the step axis: whole steps at a round spacing (1, 2, 5 × 10^k), so an integer
    axis never reads `2.8 5.5 8.2`; at most about `count` of them."""
    first, last = math.ceil(lo), math.floor(hi)
    if last <= first:
        return [float(first)], [str(first)]
    magnitude = 1
    while True:  # the smallest round step giving at most count + 1 ticks
        for step in (magnitude, 2 * magnitude, 5 * magnitude):
            ticks = list(range(math.ceil(first / step) * step, last + 1, step))
            if len(ticks) <= count + 1:
                break
        else:
            magnitude *= 10
            continue
        break
    return [float(t) for t in ticks], [str(t) for t in ticks]


def log_ticks(lo: float, hi: float, count: int = 5) -> tuple[list[float], list[str]]:
    """Y ticks for data already in log10 units (`lo`, `hi`): whole decades when the range
    spans at least two, else evenly spaced; labels are the values in data units.

    The plot takes log10 itself instead of plotext's `yscale("log")`, which (plotext 5.3)
    drops earlier lines once a later single-point scatter is added on a log axis."""
    if hi - lo >= 2:
        first, last = math.ceil(lo), math.floor(hi)
        step = max(1, math.ceil((last - first + 1) / count))
        ticks = [float(t) for t in range(first, last + 1, step)]
    elif hi > lo:
        ticks = [lo + (hi - lo) * i / (count - 1) for i in range(count)]
    else:
        ticks = [lo]
    return ticks, [format_value(10**t) for t in ticks]
