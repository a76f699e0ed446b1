"""PlotScreen: one or several metrics of one run on one chart.

Histories are fetched in a thread worker (through `app.run_store_call`), downsampled by the
store to about two points per character cell, which keeps extremes: a 1M-point history costs
one bounded query and spikes stay visible.

Live runs: while the run is RUNNING the screen refetches on an interval (default 5 s,
`PlotScreen(refresh_s=...)`). It refetches the *downsampled*
history rather than only the points past the last step: that is one bounded query
(2×width points) with no protocol change, and a downsampled tail cannot be appended to a
downsampled head without re-bucketing anyway. The chart is replaced in place (no loading
indicator, no remount), so it does not flicker. The first load shows a still 'Loading' line,
not Textual's animated indicator, whose repaints compete with the query for the CPU.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual import getters
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Label

from tracktui.store.base import Store
from tracktui.store.model import MetricPoint, Run

from .. import plotting
from ..app import TrackApp
from ..safe_text import plain
from ..widgets.metric_plot import MetricPlot, PlotLine
from ..widgets.status_bar import StatusBar

DEFAULT_REFRESH_S = 5.0

#: View keys shared by the plot and compare screens.
VIEW_BINDINGS = [
    Binding("x", "cycle_x_axis", "X axis", id="plot.x_axis"),
    Binding("l", "toggle_log", "Log/linear y", id="plot.log_y"),
    Binding("plus,equals_sign", "smoothing(1)", "Smoothing +", key_display="+", id="plot.smooth_more"),
    Binding("minus", "smoothing(-1)", "Smoothing −", key_display="-", show=False, id="plot.smooth_less"),
    Binding("w", "toggle_raw", "Raw behind smoothed", show=False, id="plot.raw"),
]


class PlotView:
    """The x-axis/log/smoothing/raw actions, applied to every MetricPlot on the screen."""

    def _plots(self) -> list[MetricPlot]:
        return list(self.query(MetricPlot))  # type: ignore[attr-defined]

    def _view_changed(self) -> None:
        """Hook: the screen updates its subtitle."""

    def action_cycle_x_axis(self) -> None:
        for plot in self._plots():
            axes = plotting.X_AXES
            plot.x_axis = axes[(axes.index(plot.x_axis) + 1) % len(axes)]
        self._view_changed()

    def action_toggle_log(self) -> None:
        for plot in self._plots():
            plot.log_y = not plot.log_y
        self._view_changed()

    def action_smoothing(self, direction: int) -> None:
        for plot in self._plots():
            plot.smoothing = plotting.next_smoothing(plot.smoothing, direction)
        self._view_changed()

    def action_toggle_raw(self) -> None:
        for plot in self._plots():
            plot.show_raw = not plot.show_raw
        self._view_changed()


class PlotScreen(PlotView, Screen):
    """`PlotScreen(run_id, keys)`: the chosen metrics of one run."""

    AREA = "plot"
    BINDINGS = [*VIEW_BINDINGS, Binding("ctrl+r,f5", "reload", "Reload", show=False, id="plot.reload")]
    DEFAULT_CSS = """
    PlotScreen #plot-options { color: $text-muted; padding: 0 1; }
    """

    app = getters.app(TrackApp)

    def __init__(self, run_id: str, keys: Sequence[str], *, refresh_s: float | None = None) -> None:
        super().__init__()
        self.run_id = run_id
        self.keys = tuple(keys)
        self.refresh_s = refresh_s
        self.run: Run | None = None
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Label(plain(f"Plot · {', '.join(self.keys)}"), id="plot-title", classes="screen-title")
        yield Label("", id="plot-options")
        yield MetricPlot(", ".join(self.keys) if len(self.keys) > 1 else self.keys[0], id="plot")
        yield StatusBar()
        yield Footer(compact=True, show_command_palette=False)

    @property
    def plot(self) -> MetricPlot:
        return self.query_one("#plot", MetricPlot)

    def on_mount(self) -> None:
        self._view_changed()
        self.load(first=True)

    def load(self, first: bool = False) -> None:
        store, run_id, keys = self.app.store, self.run_id, self.keys
        max_points = plotting.history_points_for(self.app.size.width)

        def fetch() -> tuple[Run, dict[str, list[MetricPoint]]]:
            return fetch_histories(store, run_id, keys, max_points)

        if first:
            self.plot.show_loading()
        self.app.run_store_call(self, fetch, self._loaded, group="plot")

    def _loaded(self, result: tuple[Run, dict[str, list[MetricPoint]]]) -> None:
        run, histories = result
        self.run = run
        name = run.display_name
        live = " · live" if run.status == "RUNNING" else ""
        title = plain(f"{name} › {', '.join(self.keys)}{live}")
        self.query_one("#plot-title", Label).update(title, layout=False)  # one line, full width
        label = (lambda key: key) if len(self.keys) > 1 else (lambda key: f"{name} · {key}")
        self.plot.show([PlotLine(label(k), histories[k], run.start_time) for k in self.keys])
        if run.status == "RUNNING" and self._timer is None:
            self._timer = self.set_interval(self.refresh_s or DEFAULT_REFRESH_S, self.load)
        elif run.status != "RUNNING" and self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _view_changed(self) -> None:
        self.query_one("#plot-options", Label).update(self.plot.options_label())

    def action_reload(self) -> None:
        self.load()


def fetch_histories(
    store: Store, run_id: str, keys: Sequence[str], max_points: int
) -> tuple[Run, dict[str, list[MetricPoint]]]:
    """The run (start time, status) and each key's downsampled history. Runs in a worker."""
    run = store.get_run(run_id)
    return run, {key: list(store.get_metric_history(run_id, key, max_points=max_points)) for key in keys}
