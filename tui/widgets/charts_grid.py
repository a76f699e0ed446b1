"""ChartsGrid: every metric of a run as a small chart, a page of them at a time (the web UI's
model-metrics view, in a terminal).

The grid fits as many tiles as the widget holds at TILE_MIN_WIDTH × TILE_MIN_HEIGHT cells or
more: 2 columns of 2 at 80×24, more as the terminal grows. Only the page on screen has tiles;
when the page or its size changes the grid posts `HistoriesWanted` with the keys it lacks, and
the screen hands each history back with `show_history`. Histories already shown are kept, so
paging back costs no store call. Arrows move the cursor tile, PageUp/PageDown page, Enter posts
`ChartChosen`. Each tile's chart is its own plotext figure (never the module-level one).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Label
from textual_plotext import PlotextPlot

from tracktui.store.model import MetricPoint

from .. import plotting
from ..safe_text import inert, plain
from .run_format import cut_middle, format_metric_value

#: The smallest tile; 80×24 holds 2 × 2 of them.
TILE_MIN_WIDTH = 38
TILE_MIN_HEIGHT = 9


def grid_shape(width: int, height: int) -> tuple[int, int]:
    """(columns, rows) of tiles for a grid area of `width` × `height` cells (at least 2 × 1)."""
    return max(2, width // TILE_MIN_WIDTH), max(1, height // TILE_MIN_HEIGHT)


def tile_title(key: str, latest: MetricPoint | None, width: int) -> str:
    """`key  value` in `width` cells: the value always whole, the key cut in the middle."""
    value = format_metric_value(latest.value) if latest is not None else "—"
    room = max(1, width - cell_len(value) - 2)
    return f"{cut_middle(inert(key), room)}  {value}"


class ChartTile(Vertical):
    """One metric: its key and latest value above a chart of its (downsampled) history."""

    DEFAULT_CSS = """
    ChartTile { border: round $panel-lighten-2; height: 1fr; padding: 0; }
    ChartTile.-cursor { border: round $accent; }
    ChartTile > Label { width: 1fr; text-style: bold; padding: 0 1; }
    ChartTile > PlotextPlot { height: 1fr; }
    ChartTile > .chart-tile--pending { color: $text-muted; height: 1fr; padding: 0 1; }
    """

    def __init__(self, key: str, latest: MetricPoint | None) -> None:
        super().__init__()
        self.key = key
        self.latest = latest
        self.points: list[MetricPoint] | None = None

    def compose(self) -> ComposeResult:
        yield Label(plain(self.key))
        yield Label("loading…", classes="chart-tile--pending")
        yield PlotextPlot()

    def on_mount(self) -> None:
        self.query_one(PlotextPlot).display = False

    def on_resize(self, event: events.Resize) -> None:
        self.query_one(Label).update(plain(tile_title(self.key, self.latest, max(8, self.size.width - 2))))

    def show(self, points: Sequence[MetricPoint], latest: MetricPoint | None) -> None:
        self.points, self.latest = list(points), latest
        self.query_one(Label).update(plain(tile_title(self.key, latest, max(8, self.size.width - 2))))
        series = plotting.to_series(points)
        pending = self.query_one(".chart-tile--pending", Label)
        chart = self.query_one(PlotextPlot)
        if not series.y:
            pending.update("no finite values" if points else "no points")
            pending.display, chart.display = True, False
            return
        plt = chart.plt
        plt.clear_figure()
        plt.plot(series.x, series.y, marker="braille", color=plotting.style_for(0).color)
        plt.xticks(*plotting.step_ticks(min(series.x), max(series.x), count=3))
        pending.display, chart.display = False, True
        chart.refresh()


class ChartsGrid(Widget, can_focus=True):
    """A page of ChartTiles; `set_metrics` gives it the run's latest values (keys in order)."""

    BINDINGS = [
        Binding("enter", "choose", "Open plot", id="charts.open"),
        Binding("left,h", "cursor_left", "Left", show=False, id="charts.left"),
        Binding("right,l", "cursor_right", "Right", show=False, id="charts.right"),
        Binding("up,k", "cursor_up", "Up", show=False, id="charts.up"),
        Binding("down,j", "cursor_down", "Down", show=False, id="charts.down"),
        Binding("pagedown,space", "page(1)", "Next page", key_display="PgDn", id="charts.next_page"),
        Binding("pageup", "page(-1)", "Previous page", key_display="PgUp", id="charts.previous_page"),
    ]
    DEFAULT_CSS = """
    ChartsGrid { height: 1fr; }
    ChartsGrid > Grid { height: 1fr; grid-gutter: 0; }
    ChartsGrid > .charts-grid--status { height: 1; color: $text-muted; padding: 0 1; }
    """

    class HistoriesWanted(Message):
        def __init__(self, grid: ChartsGrid, keys: list[str]) -> None:
            super().__init__()
            self.grid = grid
            self.keys = keys

    class ChartChosen(Message):
        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.keys: list[str] = []
        self.latest: dict[str, MetricPoint] = {}
        self.histories: dict[str, list[MetricPoint]] = {}
        self.page = 0
        self.cursor = 0  # index within the page
        self.shape = (2, 1)

    def compose(self) -> ComposeResult:
        yield Grid()
        yield Label("", classes="charts-grid--status")

    @property
    def per_page(self) -> int:
        return self.shape[0] * self.shape[1]

    @property
    def page_count(self) -> int:
        return max(1, math.ceil(len(self.keys) / self.per_page))

    @property
    def page_keys(self) -> list[str]:
        return self.keys[self.page * self.per_page : (self.page + 1) * self.per_page]

    @property
    def cursor_key(self) -> str | None:
        keys = self.page_keys
        return keys[self.cursor] if 0 <= self.cursor < len(keys) else None

    @property
    def tiles(self) -> list[ChartTile]:
        return list(self.query(ChartTile))

    def set_metrics(self, latest: Mapping[str, MetricPoint], keys: Sequence[str]) -> None:
        """The run's metrics (`keys` in display order); histories of changed values are read
        again, the page and cursor stay."""
        stale = [k for k, p in latest.items() if self.latest.get(k) != p]
        for key in stale:
            self.histories.pop(key, None)
        same_keys = list(keys) == self.keys and bool(self.tiles)
        self.keys, self.latest = list(keys), dict(latest)
        if not same_keys:
            self.page = min(self.page, self.page_count - 1)
            self._build_page()
            return
        # A live refresh: the tiles stay (no flicker), only the changed charts are read again.
        wanted = [k for k in self.page_keys if k not in self.histories]
        if wanted:
            self.post_message(self.HistoriesWanted(self, wanted))

    def show_history(self, key: str, points: list[MetricPoint]) -> None:
        """Draw `key`'s chart (when its tile is on the page) and keep its history."""
        self.histories[key] = points
        for tile in self.tiles:
            if tile.key == key:
                tile.show(points, self.latest.get(key))

    def on_resize(self, event: events.Resize) -> None:
        shape = grid_shape(self.size.width, self.size.height - 1)
        if shape != self.shape:
            first = self.page * self.per_page + self.cursor  # keep the cursor's chart on screen
            self.shape = shape
            self.page, self.cursor = divmod(first, self.per_page)
            self._build_page()

    def _build_page(self) -> None:
        if not self.is_mounted:
            return
        grid = self.query_one(Grid)
        keys = self.page_keys
        columns = self.shape[0]
        # A short last page (or a run with few metrics) gives its rows the whole height.
        grid.styles.grid_size_columns = columns
        grid.styles.grid_size_rows = max(1, min(self.shape[1], math.ceil(len(keys) / columns)))
        grid.remove_children()
        self.cursor = max(0, min(self.cursor, len(keys) - 1))
        tiles = [ChartTile(key, self.latest.get(key)) for key in keys]
        grid.mount_all(tiles)
        self._mark_cursor(tiles)
        for tile in tiles:
            if tile.key in self.histories:
                self.call_after_refresh(tile.show, self.histories[tile.key], self.latest.get(tile.key))
        self._update_status()
        wanted = [k for k in keys if k not in self.histories]
        if wanted:
            self.post_message(self.HistoriesWanted(self, wanted))

    def _mark_cursor(self, tiles: list[ChartTile] | None = None) -> None:
        for index, tile in enumerate(tiles if tiles is not None else self.tiles):
            tile.set_class(index == self.cursor, "-cursor")

    def _update_status(self) -> None:
        if not self.keys:
            text = "This run has no metrics."
        else:
            first = self.page * self.per_page + 1
            last = first + len(self.page_keys) - 1
            more = " · PgDn/PgUp for more" if self.page_count > 1 else ""
            text = f"charts {first}–{last} of {len(self.keys)} · page {self.page + 1}/{self.page_count}{more} · Enter opens"
        self.query_one(".charts-grid--status", Label).update(text)

    def action_cursor_left(self) -> None:
        self._move(-1, 0)

    def action_cursor_right(self) -> None:
        self._move(1, 0)

    def action_cursor_up(self) -> None:
        self._move(0, -1)

    def action_cursor_down(self) -> None:
        self._move(0, 1)

    def _move(self, dx: int, dy: int) -> None:
        columns = self.shape[0]
        target = self.cursor + dx + dy * columns
        count = len(self.page_keys)
        if 0 <= target < count:
            self.cursor = target
            self._mark_cursor()
        elif target >= count and self.page + 1 < self.page_count and (dx > 0 or dy > 0):
            self.page, self.cursor = self.page + 1, 0
            self._build_page()
        elif target < 0 and self.page > 0:
            self.page, self.cursor = self.page - 1, self.per_page - 1
            self._build_page()

    def action_page(self, direction: int) -> None:
        page = max(0, min(self.page + direction, self.page_count - 1))
        if page != self.page:
            self.page, self.cursor = page, 0
            self._build_page()

    def action_choose(self) -> None:
        key = self.cursor_key
        if key is not None:
            self.post_message(self.ChartChosen(key))

    def on_click(self, event: events.Click) -> None:
        for index, tile in enumerate(self.tiles):
            if tile.region.contains(event.screen_x, event.screen_y):
                if index == self.cursor and event.chain >= 2:
                    self.action_choose()
                self.cursor = index
                self._mark_cursor()
