"""RunChartsScreen: every metric of one run as a grid of small charts (`G` on the run screen).

The grid (widgets/charts_grid.py) has tiles for the page on screen only and asks for the
histories it lacks; they are read here in a worker, each downsampled by the store to about two
points per cell of a tile's width. While the run is RUNNING the run is read again every few
seconds (tui/live.py) and the charts whose latest value changed are read again. Enter on a
chart opens the full plot screen for that metric.
"""

from __future__ import annotations

from textual import getters, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Label

from tracktui.store.model import MetricPoint, Run

from .. import plotting
from ..app import TrackApp
from ..live import LIVE_LABEL, RUNNING, LiveTimer
from ..safe_text import plain
from ..widgets.charts_grid import ChartsGrid
from ..widgets.run_format import natural_key
from ..widgets.status_bar import StatusBar
from .run import SYSTEM_METRIC_PREFIX, fetch_run


class RunChartsScreen(Screen):
    """`RunChartsScreen(run_id)`: a grid of the run's metrics, system metrics last."""

    AREA = "charts"
    AUTO_FOCUS = "ChartsGrid"
    BINDINGS = [Binding("ctrl+r,f5", "reload", "Reload", show=False, id="charts.reload")]

    app = getters.app(TrackApp)

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id
        self.run: Run | None = None
        self.experiment_name: str | None = None
        self._live = LiveTimer(self, self.load_run, self._show_title)

    def compose(self) -> ComposeResult:
        yield Label(plain(f"Charts · run {self.run_id}"), id="charts-title", classes="screen-title")
        yield ChartsGrid(id="charts-grid")
        yield StatusBar()
        yield Footer(compact=True, show_command_palette=False)

    @property
    def grid(self) -> ChartsGrid:
        return self.query_one(ChartsGrid)

    def on_mount(self) -> None:
        self.load_run()

    def load_run(self) -> None:
        if self.run is not None and self.app.screen is not self:  # covered: caught up on resume
            return
        store, run_id = self.app.store, self.run_id
        self.app.run_store_call(self, lambda: fetch_run(store, run_id), lambda result: self._show_run(*result),
                                group="run", on_error=self._live.stop_on_error)

    def _show_run(self, run: Run, experiment_name: str | None) -> None:
        self.run, self.experiment_name = run, experiment_name
        keys = sorted(run.metrics, key=lambda k: (k.startswith(SYSTEM_METRIC_PREFIX), natural_key(k)))
        self.grid.set_metrics(run.metrics, keys)
        self._live.set(run.status == RUNNING)
        self._show_title()

    def _show_title(self) -> None:
        if self.run is None:
            return
        where = f"{self.experiment_name} › " if self.experiment_name else ""
        live = f" · {LIVE_LABEL}" if self._live.on else ""
        self.query_one("#charts-title", Label).update(plain(f"{where}{self.run.display_name} › charts{live}"))

    @on(ChartsGrid.HistoriesWanted)
    def _histories_wanted(self, event: ChartsGrid.HistoriesWanted) -> None:
        store, run_id, keys, grid = self.app.store, self.run_id, list(event.keys), event.grid
        max_points = plotting.history_points_for(grid.size.width // max(1, grid.shape[0]))

        def fetch() -> dict[str, list[MetricPoint]]:
            return {key: store.get_metric_history(run_id, key, max_points=max_points) for key in keys}

        def show(histories: dict[str, list[MetricPoint]]) -> None:
            for key, points in histories.items():
                grid.show_history(key, points)

        self.app.run_store_call(self, fetch, show, group="charts-histories")

    @on(ChartsGrid.ChartChosen)
    def _chart_chosen(self, event: ChartsGrid.ChartChosen) -> None:
        from .plot import PlotScreen

        self.app.push_screen(PlotScreen(self.run_id, [event.key]))

    def on_screen_resume(self) -> None:
        if self._live.on:
            self.load_run()

    def action_reload(self) -> None:
        self.load_run()
