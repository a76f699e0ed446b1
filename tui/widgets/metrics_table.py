"""A run's metrics: latest value, a sparkline of its history, step and time, one row per key,
under a filter box (`MetricsPanel`).

Both only display. Histories are expensive (one store call per key), so the table asks for the
ones its visible rows lack with a `HistoryWanted` message; the screen loads them in a worker
and hands each back through `show_history`. Loaded histories are kept while the user filters.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable, Input, Static

from tracktui.store.model import MetricPoint

from ..filter_focus import focus_now
from ..safe_text import inert, plain
from .key_filter import MAX_SHOWN_ROWS, FilterInput, count_label, matching
from .run_format import MISSING, cut_middle, format_metric_value, format_time, natural_key

#: Characters of the sparkline column; the store is asked for a few more points than this.
SPARKLINE_WIDTH = 16
_BARS = "▁▂▃▄▅▆▇█"


class MetricsPanel(Vertical):
    """A filter box over a MetricsTable; at most MAX_SHOWN_ROWS matching metrics are listed."""

    DEFAULT_CSS = """
    MetricsPanel { height: 1fr; }
    MetricsPanel > .kv-filter-row { height: auto; }
    MetricsPanel > .kv-filter-row > Input { width: 1fr; }
    MetricsPanel > .kv-filter-row > .kv-count { width: auto; padding: 0 1; color: $text-muted; }
    MetricsPanel > MetricsTable { height: 1fr; }
    """

    filter_text: reactive[str] = reactive("", init=False)

    def __init__(
        self,
        noun: str = "metrics",
        *,
        empty_text: str = "No metrics logged.",
        shown_prefix: str = "",
        table_id: str | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.noun = noun
        self._metrics: dict[str, MetricPoint] = {}
        self._table = MetricsTable(id=table_id, empty_text=empty_text, shown_prefix=shown_prefix)

    def compose(self) -> ComposeResult:
        with Horizontal(classes="kv-filter-row"):
            yield FilterInput(placeholder=f"/ filter {self.noun} by name", compact=True)
            yield Static("", classes="kv-count")
        yield self._table

    @property
    def table(self) -> MetricsTable:
        return self._table

    def show_metrics(self, metrics: Mapping[str, MetricPoint]) -> None:
        """New data (a (re)loaded run): previously loaded histories are dropped."""
        self._metrics = dict(metrics)
        self._refill(keep_histories=False)

    def show_history(self, key: str, points: Sequence[MetricPoint]) -> None:
        self._table.show_history(key, points)

    def update_metrics(self, metrics: Mapping[str, MetricPoint]) -> None:
        """Newer values of the same run (a live refresh): the rows change in place, the cursor
        and scroll stay, and the visible sparklines are read again (the old ones show until
        then). A metric logged for the first time rebuilds the rows around the cursor's key."""
        self._metrics = dict(metrics)
        shown = matching(sorted(self._metrics, key=natural_key), self.filter_text)[:MAX_SHOWN_ROWS]
        if self._table.update_latest({key: self._metrics[key] for key in shown}):
            return
        table = self._table
        key, scroll_y = table.highlighted_key, table.scroll_y
        self._refill(keep_histories=True)
        if key in table.metric_keys:
            table.move_cursor(row=table.metric_keys.index(key), scroll=False)
        table.scroll_to(y=scroll_y, animate=False)

    def focus_filter(self) -> None:
        focus_now(self.query_one(FilterInput))

    def focus_table(self) -> None:
        self._table.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.filter_text = event.value

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_table()

    def watch_filter_text(self) -> None:
        self._refill(keep_histories=True)

    def _refill(self, *, keep_histories: bool) -> None:
        matched = matching(sorted(self._metrics, key=natural_key), self.filter_text)
        shown = matched[:MAX_SHOWN_ROWS]
        empty = self._table.empty_text
        if self._metrics and not matched:
            empty = f"No {self.noun} match '{self.filter_text.strip()}'."
        self._table.show_metrics(
            {key: self._metrics[key] for key in shown}, keep_histories=keep_histories, empty_text=empty
        )
        label = count_label(len(shown), len(matched), len(self._metrics), self.noun)
        self.query_one(".kv-count", Static).update(label)


class MetricsTable(DataTable):
    """Latest metric values with lazily loaded sparklines."""

    COMPONENT_CLASSES = {"metrics-table--sparkline", "metrics-table--pending"}
    DEFAULT_CSS = """
    MetricsTable > .metrics-table--sparkline { color: $accent; }
    MetricsTable > .metrics-table--pending { color: $text-muted; }
    """
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="metrics_table.cursor_down"),
        Binding("k", "cursor_up", "Up", show=False, id="metrics_table.cursor_up"),
        Binding("g", "plot", "Plot", show=False, id="metrics_table.plot"),
        Binding("space", "toggle_mark", "Mark for plot", show=False, id="metrics_table.mark"),
    ]

    class _KeysMessage(Message):
        """A message from this table about some of its metric keys."""

        def __init__(self, table: MetricsTable, keys: tuple[str, ...]) -> None:
            super().__init__()
            self.table = table
            self.keys = keys

        @property
        def control(self) -> MetricsTable:
            return self.table

    class PlotRequested(_KeysMessage):
        """Plot these metrics (the marked ones, else the highlighted one) together."""

    class HistoryWanted(_KeysMessage):
        """Visible rows whose sparkline has not been loaded yet."""

    def __init__(self, *, empty_text: str = "No metrics logged.", shown_prefix: str = "", **kwargs) -> None:
        """`shown_prefix` is left off the displayed names (the System tab drops `system/`)."""
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.empty_text = empty_text
        self.shown_prefix = shown_prefix
        self._keys: list[str] = []
        self._histories: dict[str, Sequence[MetricPoint]] = {}
        self._loaded: set[str] = set()
        self._last_wanted: tuple[str, ...] = ()
        self.marked_keys: list[str] = []
        #: Cells of the value, trend, step and time columns (with padding): the Metric column
        #: gets the rest, so a long key is cut in the middle instead of pushing values off screen.
        self._other_columns_width = 0
        self._key_width: int | None = None

    def on_mount(self) -> None:
        self.add_column("Metric", key="key")
        self.add_column("Latest", key="value")
        self.add_column("Trend", key="trend", width=SPARKLINE_WIDTH)
        self.add_column("Step", key="step")
        self.add_column("Logged", key="time")

    # -- what the screen calls ------------------------------------------------------------

    def show_metrics(
        self,
        metrics: Mapping[str, MetricPoint],
        *,
        keep_histories: bool = False,
        empty_text: str | None = None,
    ) -> None:
        """Replace the rows with these latest values, sorted by key. Sparklines start pending,
        except those already loaded when `keep_histories` (the same run, refiltered)."""
        self._keys = []  # clear() scrolls home: nothing to ask for until the new rows exist
        self.clear()
        self._keys = sorted(metrics, key=natural_key)
        self._loaded.clear()
        self._last_wanted = ()
        if not keep_histories:
            self._histories.clear()
        pending = Text("…", style=self.get_component_rich_style("metrics-table--pending"))
        values = [format_metric_value(metrics[key].value) for key in self._keys]
        steps = [str(metrics[key].step) for key in self._keys]
        self._other_columns_width = (
            max([len("Latest"), *map(len, values)]) + SPARKLINE_WIDTH
            + max([len("Step"), *map(len, steps)]) + len("2024-01-01 00:00:00")
            + 2 * self.cell_padding * 5
        )
        self._key_width = self._key_budget()
        for key in self._keys:
            point = metrics[key]
            self.add_row(
                self._key_label(key),
                Text(format_metric_value(point.value), justify="right"),
                pending,
                Text(str(point.step), justify="right"),
                format_time(point.timestamp),
                key=key,
            )
            if key in self._histories:
                self.show_history(key, self._histories[key])
        if not self._keys:
            self.add_row(plain(empty_text or self.empty_text, style="italic"), "", "", "", "", key="")
        self._ask_for_visible_histories()

    def update_latest(self, metrics: Mapping[str, MetricPoint]) -> bool:
        """Update the shown rows' latest value, step and time in place and ask again for the
        visible sparklines; False (nothing changed) when `metrics` has other keys than the rows."""
        if sorted(metrics, key=natural_key) != self._keys:
            return False
        for key in self._keys:
            point = metrics[key]
            self.update_cell(key, "value", Text(format_metric_value(point.value), justify="right"))
            self.update_cell(key, "step", Text(str(point.step), justify="right"))
            self.update_cell(key, "time", format_time(point.timestamp))
        self._loaded.clear()
        self._last_wanted = ()
        self._ask_for_visible_histories()
        return True

    def show_history(self, key: str, points: Sequence[MetricPoint]) -> None:
        """Draw the sparkline of one metric from its (downsampled) history."""
        self._histories[key] = points
        if key not in self._keys:
            return
        self._loaded.add(key)
        line = sparkline([p.value for p in points], SPARKLINE_WIDTH)
        style = self.get_component_rich_style("metrics-table--sparkline")
        self.update_cell(key, "trend", Text(line or MISSING, style=style))

    # -- plotting ---------------------------------------------------------------------------

    def action_plot(self) -> None:
        keys = tuple(k for k in self.marked_keys if k in self._keys)
        if not keys and self.highlighted_key is not None:
            keys = (self.highlighted_key,)
        if keys:
            self.post_message(self.PlotRequested(self, keys))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_plot()

    def action_toggle_mark(self) -> None:
        key = self.highlighted_key
        if key is None:
            return
        if key in self.marked_keys:
            self.marked_keys.remove(key)
        else:
            self.marked_keys.append(key)
        self.update_cell(key, "key", self._key_label(key))
        if self.cursor_row < len(self._keys) - 1:
            self.move_cursor(row=self.cursor_row + 1)

    def _key_label(self, key: str) -> Text:
        shown = key.removeprefix(self.shown_prefix) if self.shown_prefix else key
        label = f"● {shown}" if key in self.marked_keys else shown
        if self._key_width is not None:  # cut what is drawn (control characters made visible)
            label = cut_middle(inert(label), self._key_width)
        return plain(label)

    def _key_budget(self) -> int | None:
        width = self.scrollable_content_region.width
        return None if width <= 0 else max(12, width - self._other_columns_width)

    @property
    def metric_keys(self) -> tuple[str, ...]:
        return tuple(self._keys)

    @property
    def highlighted_key(self) -> str | None:
        if not self._keys or not self.is_valid_row_index(self.cursor_row):
            return None
        return self._keys[self.cursor_row]

    # -- lazy history requests ------------------------------------------------------------

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._ask_for_visible_histories()

    def on_resize(self, event: events.Resize) -> None:
        budget = self._key_budget()
        if budget != self._key_width and self._keys:
            self._key_width = budget
            for key in self._keys:
                self.update_cell(key, "key", self._key_label(key), update_width=True)
        self._ask_for_visible_histories()

    def on_show(self, event: events.Show) -> None:
        self._ask_for_visible_histories()

    def visible_keys(self) -> list[str]:
        """Keys of the rows currently on screen (none while the table is hidden)."""
        if not self._keys or not self.display or self.size.height == 0:
            return []
        header = self.header_height if self.show_header else 0
        first = int(self.scroll_y)
        count = max(0, self.size.height - header)
        return self._keys[first : first + count]

    def _ask_for_visible_histories(self) -> None:
        # Run from the table's own message loop: a message only bubbles past its sender's
        # parent when the table itself is the sender (not the panel refilling it).
        self.call_later(self._post_wanted_histories)

    def _post_wanted_histories(self) -> None:
        wanted = tuple(k for k in self.visible_keys() if k not in self._loaded)
        if wanted and wanted != self._last_wanted:
            self._last_wanted = wanted
            self.post_message(self.HistoryWanted(self, wanted))


def sparkline(values: Iterable[float], width: int) -> str:
    """Block characters showing the shape of `values` in at most `width` cells.

    Values are bucketed left to right; each bucket shows whichever of its min and max lies
    farther from the series' median, so spikes and dips both stay visible. Non-finite values
    are skipped. Empty input gives ''.
    """
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return ""
    if len(finite) > width:
        middle = statistics.median(finite)
        finite = [_extreme(bucket, middle) for bucket in _buckets(finite, width)]
    low, high = min(finite), max(finite)
    if high == low:
        return _BARS[len(_BARS) // 2] * len(finite)
    top = len(_BARS) - 1
    return "".join(_BARS[round((v - low) / (high - low) * top)] for v in finite)


def _buckets(values: list[float], count: int) -> Iterable[list[float]]:
    size = len(values) / count
    for i in range(count):
        yield values[int(i * size) : max(int((i + 1) * size), int(i * size) + 1)]


def _extreme(bucket: list[float], middle: float) -> float:
    low, high = min(bucket), max(bucket)
    return high if high - middle >= middle - low else low
