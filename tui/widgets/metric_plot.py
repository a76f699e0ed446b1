"""MetricPlot: one chart of one or more metric histories, with a legend line per series.

Only displays what it is given (`show(lines)`); the screens fetch histories. Each chart owns
its own plotext figure (`PlotextPlot.plt`, a fresh `Figure` per widget) — never the
module-level `plotext` figure, or two charts on a screen would draw over each other.
Options (x axis, log y, smoothing, raw shown) are reactive; changing one re-plots from the
data already held, without a store call.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult, RenderResult
from textual.color import Color
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import Static
from textual_plotext import PlotextPlot

from tracktui.store.model import MetricPoint

from .. import plotting
from ..safe_text import inert

#: Series drawn with min/max markers; more would clutter the chart.
MAX_MARKED_SERIES = 3
#: Cells per legend entry when many series share a chart.
LEGEND_CELL = 28


@dataclass(frozen=True)
class PlotLine:
    """One history to draw: its legend label, its points and its run's start (relative x)."""

    label: str
    points: Sequence[MetricPoint]
    run_start_ms: int | None = None


class _Chart(PlotextPlot):
    """The plotext canvas; rebuilt by MetricPlot, drawn by textual-plotext.

    plotext's build is the costly part of a frame (≈50 ms for a few hundred points), and
    Textual asks for `render()` on every repaint of the widget (a legend update, a resize of
    a neighbour). The built text is kept until the data, the options, the size or the theme
    change; an empty chart (data still loading) is not built at all."""

    DEFAULT_CSS = "_Chart { height: 1fr; width: 1fr; }"

    def __init__(self) -> None:
        super().__init__()
        self.version = 0  # bumped by MetricPlot.replot
        self.has_data = False
        self._built: tuple[object, RenderResult] | None = None

    def render(self) -> RenderResult:
        key = (self.version, self.size, self.app.theme)
        if self._built is None or self._built[0] != key:
            self._built = (key, super().render() if self.has_data else Text(""))
        return self._built[1]


class MetricPlot(Vertical):
    """A chart plus legend. `show(lines)` replaces the data; reactives change the view."""

    DEFAULT_CSS = """
    MetricPlot { height: 1fr; }
    MetricPlot > .metric-plot--legend { height: auto; max-height: 8; padding: 0 1; }
    """

    x_axis: reactive[str] = reactive("step", init=False)
    log_y: reactive[bool] = reactive(False, init=False)
    smoothing: reactive[float] = reactive(0.0, init=False)
    show_raw: reactive[bool] = reactive(True, init=False)

    def __init__(self, title: str = "", *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.title = title
        self.lines: list[PlotLine] = []
        self.series: list[plotting.Series] = []
        self._pending: str | None = None
        self._legend_height = 0  # lines of the legend shown, to skip a relayout when unchanged

    def compose(self) -> ComposeResult:
        yield _Chart()
        legend = Text(self._pending, style="italic") if self._pending else Text("No data.", style="italic")
        self._legend_height = legend.plain.count("\n") + 1
        yield Static(legend, classes="metric-plot--legend")

    def on_mount(self) -> None:
        if self.lines:  # data arrived before the mount
            self.call_after_refresh(self.replot)

    @property
    def chart(self) -> _Chart:
        return self.query_one(_Chart)

    def show_loading(self, text: str = "Loading history…", *, series: int = 1) -> None:
        """An empty chart with a still 'loading' line in place of the legend. Not Textual's
        animated indicator: its frames repaint the screen while the (possibly long) query runs.

        `series`: how many lines will be shown; the 'loading' legend takes the height their
        legend will take, so the data arriving repaints the chart without moving it (and
        without laying the screen out again)."""
        self._pending = text + "\n" * (self.legend_height(series) - 1)
        had_lines, self.lines = bool(self.lines), []
        if self.is_mounted:
            if had_lines:
                self.replot()
            else:
                self._set_legend(Text(self._pending, style="italic"))

    def legend_height(self, series: int) -> int:
        """Lines of the legend of `series` lines (as `_legend` lays it out)."""
        if series <= MAX_MARKED_SERIES:
            return max(1, series)
        return math.ceil(series / self._legend_columns(series)[0])

    def show(self, lines: Sequence[PlotLine]) -> None:
        """Plot these histories (replacing any shown before)."""
        self.lines = list(lines)
        self._pending = None
        self.replot()

    def watch_x_axis(self) -> None:
        self.replot()

    def watch_log_y(self) -> None:
        self.replot()

    def watch_smoothing(self) -> None:
        self.replot()

    def watch_show_raw(self) -> None:
        self.replot()

    def replot(self) -> None:
        """Rebuild the figure from the held lines and the current options."""
        if not self.is_mounted:
            return
        plt = self.chart.plt
        plt.clear_figure()
        plt.title(inert(self.title))
        plt.xlabel(plotting.X_AXIS_LABELS[self.x_axis])
        colors = getattr(self.app.console, "color_system", None) or "truecolor"
        background = Color.parse(self.app.theme_variables.get("surface", "#000000")).rgb
        self.series = [
            plotting.to_series(line.points, self.x_axis, run_start_ms=line.run_start_ms, log_y=self.log_y)
            for line in self.lines
        ]
        xs_all: list[float] = []
        ys_all: list[float] = []
        mark = len(self.lines) <= MAX_MARKED_SERIES
        for index, series in enumerate(self.series):
            if not series.y:
                continue
            style = plotting.style_for(index, colors)
            ys = [math.log10(v) for v in series.y] if self.log_y else series.y
            if self.smoothing > 0:
                smooth = plotting.ema(ys, self.smoothing)
                if self.show_raw:
                    plt.plot(series.x, ys, color=plotting.faded(style.color, background), marker=style.marker)
                plt.plot(series.x, smooth, color=style.color, marker=style.marker)
            else:
                plt.plot(series.x, ys, color=style.color, marker=style.marker)
            if mark:
                ext = plotting.extremes(series)
                if ext is not None:
                    ext = _in_plot_units(ext, self.log_y)
                    plt.scatter([ext.max[0]], [ext.max[1]], marker="▲", color=style.color)
                    plt.scatter([ext.min[0]], [ext.min[1]], marker="▼", color=style.color)
                    plt.scatter([ext.last[0]], [ext.last[1]], marker="●", color=style.color)
            xs_all.extend((series.x[0], series.x[-1]))
            ys_all.extend((min(ys), max(ys)))
        if self.x_axis == "wall" and xs_all:
            ticks, labels = _time_ticks(min(xs_all), max(xs_all))
            plt.xticks(ticks, labels)
        elif self.x_axis == "step" and xs_all:
            plt.xticks(*plotting.step_ticks(min(xs_all), max(xs_all)))
        if self.log_y and ys_all:
            plt.yticks(*plotting.log_ticks(min(ys_all), max(ys_all)))
        self.chart.has_data = any(series.y for series in self.series)
        self.chart.version += 1
        self.chart.refresh()
        self._set_legend(self._legend(colors, mark))

    def _set_legend(self, text: Text) -> None:
        """Show `text` under the chart; the screen is laid out again only when the legend's
        height changes (a layout pass of a whole screen costs tens of ms; the new data of a
        loaded chart usually keeps the height of its 'Loading' line)."""
        height = text.plain.count("\n") + 1
        self.query_one(".metric-plot--legend", Static).update(text, layout=height != self._legend_height)
        self._legend_height = height

    def _legend(self, colors: str, marked: bool) -> Text:
        """One line per series when few (with min/max); packed side by side when many, so
        20 overlaid runs still fit under the chart."""
        if self._pending:
            return Text(self._pending, style="italic")
        if not self.lines:
            return Text("No data.", style="italic")
        if marked:
            entries = [self._legend_entry(i, line, series, colors, marked)
                       for i, (line, series) in enumerate(zip(self.lines, self.series))]
            return Text("\n", no_wrap=True, overflow="ellipsis").join(entries)
        # A grid of equal cells (names cut with …) so 20 runs take at most 7 lines.
        columns, cell = self._legend_columns(len(self.lines))
        entries = [self._legend_entry(i, line, series, colors, marked, cell - 1)
                   for i, (line, series) in enumerate(zip(self.lines, self.series))]
        text = Text(no_wrap=True, overflow="ellipsis")
        for i, entry in enumerate(entries):
            if i and i % columns == 0:
                text.append("\n")
            entry.truncate(cell - 1, overflow="ellipsis", pad=True)
            text.append_text(entry)
            text.append(" ")
        return text

    def _legend_columns(self, series: int) -> tuple[int, int]:
        """(columns, cells per column) of the packed legend of `series` entries."""
        width = max(40, (self.size.width or 120) - 2)
        columns = max(1, min(series, width // LEGEND_CELL))
        return columns, width // columns

    def _legend_entry(
        self, index: int, line: PlotLine, series: plotting.Series, colors: str, marked: bool,
        cell: int | None = None,
    ) -> Text:
        """`cell`: fit the entry in that many cells, cutting the label rather than the value."""
        text = Text()
        style = plotting.style_for(index, colors)
        glyph = "━━" if style.marker == "braille" else f"{style.marker}{style.marker}"
        text.append(f"{glyph} ", style=plotting.rich_color(style.color))
        ext = plotting.extremes(series)
        value = "no finite values" if ext is None else plotting.format_value(ext.last[1])
        label = inert(line.label)
        if cell is not None:
            label = _cut_middle(label, max(5, cell - len(glyph) - 2 - len(value)))
        text.append(label, style="bold")
        if ext is None:
            text.append(f"  {value}")
        else:
            text.append(f"{'  last ' if marked else ' '}{value}")
            if marked:
                text.append(f"  ▼ min {plotting.format_value(ext.min[1])}")
                text.append(f"  ▲ max {plotting.format_value(ext.max[1])}")
        skipped = []
        if series.skipped_nonfinite:
            skipped.append(f"{series.skipped_nonfinite} NaN/inf")
        if series.skipped_nonpositive:
            skipped.append(f"{series.skipped_nonpositive} ≤0 (log)")
        if skipped:
            text.append(f"  skipped {', '.join(skipped)}", style="italic")
        return text

    def options_label(self) -> str:
        """The view options in words, for the screen's subtitle."""
        parts = [f"x: {plotting.X_AXIS_LABELS[self.x_axis]}", "y: log" if self.log_y else "y: linear"]
        parts.append(f"smoothing {self.smoothing:g}" if self.smoothing else "no smoothing")
        if self.smoothing and not self.show_raw:
            parts.append("raw hidden")
        return " · ".join(parts)


def _cut_middle(label: str, width: int) -> str:
    """`label` in at most `width` characters, cut in the middle: run names of a sweep share
    their start and differ at the end."""
    if len(label) <= width:
        return label
    head = (width - 1) // 2
    return f"{label[:head]}…{label[len(label) - (width - 1 - head):]}"


def _in_plot_units(ext: plotting.Extremes, log_y: bool) -> plotting.Extremes:
    if not log_y:
        return ext
    return plotting.Extremes(*((x, math.log10(y)) for x, y in (ext.min, ext.max, ext.last)))


def _time_ticks(lo: float, hi: float, count: int = 5) -> tuple[list[float], list[str]]:
    """Evenly spaced x ticks over epoch seconds, labelled in local time (date if > 1 day)."""
    if hi <= lo:
        return [lo], [time.strftime("%H:%M:%S", time.localtime(lo))]
    form = "%m-%d %H:%M" if hi - lo > 86_400 else "%H:%M:%S"
    ticks = [lo + (hi - lo) * i / (count - 1) for i in range(count)]
    return ticks, [time.strftime(form, time.localtime(t)) for t in ticks]
