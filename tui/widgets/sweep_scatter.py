"""SweepScatter: the sweep's scatter chart (plotext) with a cursor on one point.

Displays a `ScatterData` (tui/sweep/scatter.py) it is given; the arrow keys move the cursor to
the nearest point in that direction and post `Highlighted`, Enter posts `Chosen`. Its own
plotext figure (`PlotextPlot.plt`), never the module-level one. The built chart is kept until
the data, the cursor, the size or the theme change (plotext's build is the costly part).
"""

from __future__ import annotations

import math

from rich.text import Text
from textual.app import RenderResult
from textual.binding import Binding
from textual.color import Color
from textual.message import Message
from textual_plotext import PlotextPlot

from .. import plotting
from ..safe_text import inert
from ..sweep.axes import Axis, Scale
from ..sweep.scatter import ScatterData, ScatterPoint, step_cursor
from .run_format import cut_middle

#: The cursor's marker, drawn over the point it is on.
CURSOR_MARKER = "◉"
POINT_MARKER = "•"


def group_color(group: int, colors: str, coloured: bool) -> tuple[int, int, int] | str:
    """Colour of colour group `group` (0: runs without a value, drawn grey); one colour for
    all points when the chart is not coloured by a key."""
    if not coloured:
        return plotting.style_for(1, colors).color
    if group == 0:
        return plotting.style_for(7, colors).color  # grey
    return plotting.style_for((group - 1) % 7, colors).color


class SweepScatter(PlotextPlot, can_focus=True):
    DEFAULT_CSS = "SweepScatter { height: 1fr; width: 1fr; }"
    BINDINGS = [
        Binding("left", "cursor_move('left')", "Point to the left", show=False, id="sweep_scatter.left"),
        Binding("right", "cursor_move('right')", "Point to the right", show=False, id="sweep_scatter.right"),
        Binding("up", "cursor_move('up')", "Point above", show=False, id="sweep_scatter.up"),
        Binding("down", "cursor_move('down')", "Point below", show=False, id="sweep_scatter.down"),
        Binding("enter", "choose", "Open run", id="sweep_scatter.open"),
    ]

    class Highlighted(Message):
        def __init__(self, point: ScatterPoint | None) -> None:
            super().__init__()
            self.point = point

    class Chosen(Message):
        def __init__(self, point: ScatterPoint) -> None:
            super().__init__()
            self.point = point

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.data: ScatterData | None = None
        self.cursor = 0
        self._version = 0
        self._built: tuple[object, RenderResult] | None = None

    @property
    def current(self) -> ScatterPoint | None:
        if self.data is None or not self.data.points:
            return None
        return self.data.points[self.cursor]

    def show(self, data: ScatterData, keep_run: str | None = None) -> None:
        """Draw `data`, the cursor on run `keep_run` when it is still drawn, else on the first point."""
        self.data = data
        ids = [p.run.id for p in data.points]
        self.cursor = ids.index(keep_run) if keep_run in ids else 0
        self.replot()
        self.post_message(self.Highlighted(self.current))

    def action_cursor_move(self, direction: str) -> None:
        if self.data is None or not self.data.points:
            return
        width, height = max(1, self.size.width), max(1, self.size.height)
        moved = step_cursor(self.data.points, self.cursor, direction, aspect=width / (2 * height))
        if moved != self.cursor:
            self.cursor = moved
            self.replot()
            self.post_message(self.Highlighted(self.current))

    def action_choose(self) -> None:
        point = self.current
        if point is not None:
            self.post_message(self.Chosen(point))

    def render(self) -> RenderResult:
        key = (self._version, self.size, self.app.theme)
        if self._built is None or self._built[0] != key:
            empty = "" if self.data is None else "No run has a value on both axes."
            self._built = (key, super().render() if self.current is not None else Text(empty))
        return self._built[1]

    def replot(self) -> None:
        """Rebuild the figure from the data and the cursor."""
        self._version += 1
        self.refresh()
        data = self.data
        plt = self.plt
        plt.clear_figure()
        if data is None or not data.points:
            return
        colors = getattr(self.app.console, "color_system", None) or "truecolor"
        coloured = data.color is not None
        by_group: dict[int, list[ScatterPoint]] = {}
        for point in data.points:
            by_group.setdefault(point.group if coloured else 0, []).append(point)
        for group in sorted(by_group):
            points = by_group[group]
            plt.scatter([p.x for p in points], [p.y for p in points], marker=POINT_MARKER,
                        color=group_color(group, colors, coloured))
        here = data.points[self.cursor]
        accent = Color.parse(self.app.theme_variables.get("accent", "#ffa62b")).rgb
        plt.scatter([here.x], [here.y], marker=CURSOR_MARKER, color=accent)
        width = max(20, self.size.width)
        _axis_ticks(plt, data.x, data.x_scale, "x", width)
        _axis_ticks(plt, data.y, data.y_scale, "y", width)
        plt.xlabel(inert(data.x.label + (" (log)" if data.x_scale.log else "")))


def _axis_ticks(plt, axis: Axis, scale: Scale, which: str, width: int) -> None:
    """Category names on a categorical axis, data-unit labels on a log one; plotext's own
    numbers on a linear one. Limits pad a single value or category so it is not on the edge."""
    ticks: list[float]
    labels: list[str]
    if axis.categories:
        ticks = [float(i) for i in range(len(axis.categories))]
        room = max(3, (width - 10) // max(1, len(ticks)) - 1) if which == "x" else 12
        labels = [cut_middle(inert(axis.category(t)), room) for t in ticks]
        if which == "x" and len(ticks) > (width - 10) // 4:  # too many to name: every k-th
            step = math.ceil(len(ticks) / ((width - 10) // 4))
            ticks, labels = ticks[::step], labels[::step]
    elif scale.log:
        ticks, labels = plotting.log_ticks(scale.lo, scale.hi)
    else:
        ticks, labels = [], []
    lo, hi = _padded(scale, bool(axis.categories))
    if which == "x":
        plt.xlim(lo, hi)
        if ticks:
            plt.xticks(ticks, labels)
    else:
        plt.ylim(lo, hi)
        if ticks:
            plt.yticks(ticks, labels)


def _padded(scale: Scale, categorical: bool) -> tuple[float, float]:
    """Axis limits: half a step beyond the first and last category, and room around a single
    value, so no point sits on the frame."""
    lo, hi = scale.lo, scale.hi
    if categorical:
        return lo - 0.5, hi + 0.5
    if hi == lo:
        pad = 0.5 if scale.log else max(abs(lo) * 0.1, 0.5)
        return lo - pad, hi + pad
    return lo, hi
