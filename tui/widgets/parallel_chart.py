"""ParallelChart: parallel coordinates drawn with braille dots, one polyline per run.

Each axis is a column; a run's line joins its positions (ParallelData, tui/sweep/parallel.py).
Where lines cross a cell, the most important one gives the cell its colour: the selected run,
then the best runs (best first), then the axes, then the other runs (dim). Axis names are on
the top row, each axis's top and bottom values above and below it, and a categorical axis names
its categories beside it. Displays what it is given; the screen owns the selection.

A terminal cannot show 10,000 separate lines: at most MAX_DIM_LINES of the other runs are drawn,
evenly spread over their ranking, and the caption says so.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.style import Style
from rich.text import Text
from textual.app import RenderResult
from textual.color import Color
from textual.widget import Widget

from .. import plotting
from ..plotting import fit_value
from ..safe_text import inert
from ..sweep.parallel import ParallelData, ParallelLine
from .run_format import cut_middle

#: Dim (not best) lines drawn at most.
MAX_DIM_LINES = 1000
#: Braille dot bits by (row in cell 0-3, column in cell 0-1).
_DOTS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))
_DIM, _AXIS = 0, 1


class ParallelChart(Widget):
    DEFAULT_CSS = "ParallelChart { height: 1fr; width: 1fr; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.data: ParallelData | None = None
        self.selected: str | None = None  # run id drawn on top
        self._version = 0
        self._built: tuple[object, RenderResult] | None = None

    def show(self, data: ParallelData, selected: str | None) -> None:
        self.data, self.selected = data, selected
        self._version += 1
        self.refresh()

    def select(self, run_id: str | None) -> None:
        if run_id != self.selected:
            self.selected = run_id
            self._version += 1
            self.refresh()

    @property
    def dim_drawn(self) -> int:
        """How many of the other (not best) runs are drawn."""
        return 0 if self.data is None else len(_dim_lines(self.data))

    def render(self) -> RenderResult:
        key = (self._version, self.size, self.app.theme)
        if self._built is None or self._built[0] != key:
            self._built = (key, self._draw())
        return self._built[1]

    def _draw(self) -> Text:
        data = self.data
        width, height = self.size.width, self.size.height
        if data is None or not data.lines or width < 10 or height < 5:
            return Text("No runs with a value on every axis." if data is not None else "")
        rows = height - 3  # names, top values, the canvas, bottom values
        columns = _axis_columns(len(data.axes), width)
        canvas = _Canvas(width, rows)
        for column in columns:
            canvas.vertical(2 * column, _AXIS)
        best = data.best_count
        layers: list[tuple[tuple[float, ...], int]] = [(line.ys, _DIM) for line in _dim_lines(data)]
        layers += [(line.ys, _AXIS + best - rank) for rank, line in enumerate(data.lines[:best])]
        top = _AXIS + best + 1
        layers += [(line.ys, top) for line in data.lines if line.run.id == self.selected]
        for ys, layer in layers:
            points = [(2 * c, round((1.0 - y) * (4 * rows - 1))) for c, y in zip(columns, ys)]
            for (x0, y0), (x1, y1) in zip(points, points[1:]):
                canvas.line(x0, y0, x1, y1, layer)
        selected_rank = next((rank for rank, line in enumerate(data.best) if line.run.id == self.selected), None)
        styles = self._styles(best, top, selected_rank)
        text_rows = [[(" ", Style())] * width for _ in range(height)]
        text_rows[2:2 + rows] = canvas.cells(styles)
        _label_axes(text_rows, data, columns, rows)
        out = Text(no_wrap=True, overflow="crop")
        for index, cells in enumerate(text_rows):
            if index:
                out.append("\n")
            for char, style in cells:
                out.append(char, style)
        return out

    def _styles(self, best: int, top: int, selected_rank: int | None) -> dict[int, Style]:
        """Style of each layer: dim runs, axes, the best runs (palette colours), the selection
        (bold, in its palette colour when it is a best run, else in the accent colour)."""
        colors = getattr(self.app.console, "color_system", None) or "truecolor"
        styles = {_DIM: Style(dim=True), _AXIS: Style(color=self._theme_color("foreground-muted", "#808080"))}
        for rank in range(best):
            styles[_AXIS + best - rank] = Style(color=plotting.rich_color(plotting.style_for(rank, colors).color))
        accent = self._theme_color("accent", "#ffa62b")
        styles[top] = (Style(color=plotting.rich_color(plotting.style_for(selected_rank, colors).color), bold=True)
                       if selected_rank is not None else Style(color=accent, bold=True))
        return styles

    def _theme_color(self, name: str, fallback: str) -> str:
        color = Color.parse(self.app.theme_variables.get(name, fallback))
        return color.hex6 if color.a > 0 else fallback


def _dim_lines(data: ParallelData) -> Sequence[ParallelLine]:
    """The other (not best) runs drawn: all, or MAX_DIM_LINES of them spread over the ranking."""
    others = data.lines[data.best_count:]
    return others[:: max(1, -(-len(others) // MAX_DIM_LINES))]


def _label_axes(text_rows: list[list[tuple[str, Style]]], data: ParallelData, columns: list[int], rows: int) -> None:
    """Each axis's name on the top row, its top and bottom values above and below it, and a
    categorical axis's other categories beside it at their height."""
    width, height = len(text_rows[0]), len(text_rows)
    label, muted = Style(bold=True), Style(dim=True)
    spacing = (columns[1] - columns[0]) if len(columns) > 1 else width
    room = max(3, spacing - 1)
    for axis, scale, column in zip(data.axes, data.scales, columns):
        name = axis.label.partition(".")[2] + (" (log)" if scale.log else "")
        _put(text_rows[0], column, cut_middle(inert(name), room), label, width)
        if axis.categories:
            top_text = cut_middle(inert(axis.categories[-1] or "(empty)"), room)
            bottom_text = cut_middle(inert(axis.categories[0] or "(empty)"), room)
        else:
            top_text, bottom_text = fit_value(scale.value_at(1.0), room), fit_value(scale.value_at(0.0), room)
        _put(text_rows[1], column, top_text, muted, width)
        if scale.hi != scale.lo:  # one value (or category) only: named once, above
            _put(text_rows[height - 1], column, bottom_text, muted, width)
        if axis.categories and 2 < len(axis.categories) <= rows:
            for index, category in enumerate(axis.categories[1:-1], 1):
                row = 2 + round((1.0 - (scale.position(index) or 0.0)) * (rows - 1))
                text = cut_middle(inert(category or "(empty)"), max(3, spacing - 2))
                for offset, char in enumerate(text):
                    if column + 1 + offset < width:
                        text_rows[row][column + 1 + offset] = (char, muted)


def _axis_columns(count: int, width: int) -> list[int]:
    """The cell column of each axis: spread over the width, room left at both ends for labels."""
    if count == 1:
        return [width // 2]
    margin = min(6, width // (2 * count))
    span = width - 2 * margin - 1
    return [margin + round(i * span / (count - 1)) for i in range(count)]


def _put(cells: list[tuple[str, Style]], center: int, text: str, style: Style, width: int) -> None:
    """Write `text` centred on column `center`, moved inside the row when it would overflow."""
    start = max(0, min(width - len(text), center - len(text) // 2))
    for offset, char in enumerate(text[: width]):
        cells[start + offset] = (char, style)


class _Canvas:
    """Braille dots over `width` × `rows` cells (2 × 4 dots each); each cell remembers the
    highest layer that drew in it."""

    def __init__(self, width: int, rows: int) -> None:
        self.width, self.rows = width, rows
        self.bits = [[0] * width for _ in range(rows)]
        self.owner = [[-1] * width for _ in range(rows)]

    def dot(self, x: int, y: int, layer: int) -> None:
        cx, cy = x >> 1, y >> 2
        if 0 <= cx < self.width and 0 <= cy < self.rows:
            self.bits[cy][cx] |= _DOTS[y & 3][x & 1]
            if layer > self.owner[cy][cx]:
                self.owner[cy][cx] = layer

    def vertical(self, x: int, layer: int) -> None:
        for y in range(4 * self.rows):
            self.dot(x, y, layer)

    def line(self, x0: int, y0: int, x1: int, y1: int, layer: int) -> None:
        """Bresenham's line from (x0, y0) to (x1, y1), in dots."""
        dx, dy = abs(x1 - x0), -abs(y1 - y0)
        sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
        err = dx + dy
        while True:
            self.dot(x0, y0, layer)
            if x0 == x1 and y0 == y1:
                return
            e2 = 2 * err
            if e2 >= dy:
                err += dy
                x0 += sx
            if e2 <= dx:
                err += dx
                y0 += sy

    def cells(self, styles: dict[int, Style]) -> list[list[tuple[str, Style]]]:
        blank = Style()
        return [[(chr(0x2800 + bits) if bits else " ", styles.get(owner, blank) if bits else blank)
                 for bits, owner in zip(bit_row, owner_row)]
                for bit_row, owner_row in zip(self.bits, self.owner)]
