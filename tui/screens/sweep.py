"""SweepScreen (`v` on the runs screen): a sweep's runs as a scatter and as parallel coordinates.

The runs are those matching the runs screen's filter (children included, whatever the tree
view), or the marked runs when some are marked; read in a worker, paged, with only the chosen
keys (tui/sweep/loading.py), at most SWEEP_CAP of them. Changing a key reads the runs again
only when it was not loaded yet; everything else (log axes, colours, best N) is redrawn from
the runs held. The chart data comes from tui/sweep; the widgets only draw it.

1 Scatter: a metric (y) against a param or metric (x), coloured by an optional third key; the
arrow keys move a cursor between points, the panel shows its run's values whole, Enter opens
it. 2 Parallel: chosen params and the metric as axes, the best N runs coloured; the list names
them, Enter opens the one selected.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rich.text import Text
from textual import getters, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Label, OptionList, Static, TabbedContent, TabPane
from textual.widgets.option_list import Option

from tracktui.store.model import Experiment, Keys, Run, ViewType

from .. import plotting
from ..app import TrackApp
from ..safe_text import plain
from ..sweep.axes import key_label, raw_value, whole_value
from ..sweep.loading import SWEEP_CAP, SweepRuns, covers, keys_of, load_filtered, load_marked
from ..sweep.parallel import DEFAULT_BEST, MAX_BEST, Direction, ParallelData, parallel_data
from ..sweep.scatter import ScatterData, ScatterPoint, scatter_data
from ..widgets.column_chooser import ColumnChooser
from ..widgets.key_picker import KeyPicker
from ..widgets.parallel_chart import ParallelChart
from ..widgets.status_bar import StatusBar
from ..widgets.sweep_scatter import SweepScatter, group_color

#: Params on the parallel chart when it opens.
DEFAULT_AXES = 4
_SCATTER, _PARALLEL = "sweep-scatter", "sweep-parallel"
#: Keys that act on one chart only (hidden on the other tab).
_SCATTER_ACTIONS = {"pick_x", "pick_color", "toggle_log"}
_PARALLEL_ACTIONS = {"pick_axes", "flip_direction", "best"}
#: A learning rate is the usual x of a sweep: `lr`, `learning_rate`, `optimizer.lr`…
_LEARNING_RATE = re.compile(r"(^|[^a-z])(lr|learning[_ -]?rate)$")
#: Held-out metrics first, then losses and accuracies, when choosing the metric to open on.
_HELD_OUT = re.compile(r"(^|[^a-z])(val|valid|validation|eval|test)([^a-z]|$)")
_SCORE = re.compile(r"loss|acc|error|f1|auc|score")


class SweepScreen(Screen):
    """`SweepScreen(experiment, filter_text, view, marked)`: `marked` runs when given, else the
    experiment's runs matching `filter_text` in `view`."""

    AREA = "sweep"
    CSS_PATH = "sweep.tcss"
    app = getters.app(TrackApp)

    BINDINGS = [
        Binding("1", "show_tab('sweep-scatter')", "Scatter", show=False, id="sweep.scatter"),
        Binding("2", "show_tab('sweep-parallel')", "Parallel coordinates", show=False, id="sweep.parallel"),
        Binding("y", "pick_metric", "Metric", id="sweep.metric"),
        Binding("x", "pick_x", "X axis", id="sweep.x"),
        Binding("c", "pick_color", "Colour by", id="sweep.color"),
        Binding("l", "toggle_log('y')", "Log/linear y", show=False, id="sweep.log_y"),
        Binding("L", "toggle_log('x')", "Log/linear x", show=False, id="sweep.log_x"),
        Binding("a", "pick_axes", "Axes", id="sweep.axes"),
        Binding("d", "flip_direction", "Best: min/max", id="sweep.direction"),
        Binding("plus,equals_sign", "best(1)", "More best runs", key_display="+", show=False, id="sweep.more"),
        Binding("minus", "best(-1)", "Fewer best runs", show=False, id="sweep.fewer"),
        Binding("ctrl+r,f5", "reload", "Reload", show=False, id="sweep.reload"),
    ]

    def __init__(self, experiment: Experiment, filter_text: str = "", view: ViewType = "active",
                 marked: Sequence[Run] = ()) -> None:
        super().__init__()
        self.experiment = experiment
        self.filter_text = filter_text
        self.view: ViewType = view
        self.marked_ids = [r.id for r in marked]
        self.experiment_ids = list(dict.fromkeys(r.experiment_id for r in marked)) or [experiment.id]
        self.keys: Keys | None = None
        self.metric: str | None = None
        self.x_key: str | None = None
        self.color_key: str | None = None
        self.axes: list[str] = []
        self.log_x: bool | None = None  # None: chosen by the data
        self.log_y: bool | None = None
        self.direction: Direction | None = None  # None: guessed from the metric's name
        self.best_n = DEFAULT_BEST
        self.sweep: SweepRuns | None = None
        self.scatter: ScatterData | None = None
        self.parallel: ParallelData | None = None
        self._loaded: Keys | None = None
        self._generation = 0
        self._default_axes = True  # until the user picks axes: thinned to the keys most runs have

    def compose(self) -> ComposeResult:
        yield Label(plain(self._title("loading…")), id="sweep-title", classes="screen-title")
        yield Label("", id="sweep-options")
        with TabbedContent(id="sweep-tabs"):
            with TabPane("1 Scatter", id=_SCATTER):
                with Horizontal():
                    with Vertical(classes="sweep-chart-area"):
                        yield SweepScatter(id="sweep-scatter-chart")
                        yield Static("", id="sweep-legend")
                        yield Static("", id="sweep-scatter-left-out", classes="sweep-left-out")
                    with VerticalScroll(classes="sweep-side"):
                        yield Static("", id="sweep-scatter-run")
            with TabPane("2 Parallel", id=_PARALLEL):
                with Horizontal():
                    with Vertical(classes="sweep-chart-area"):
                        yield ParallelChart(id="sweep-parallel-chart")
                        yield Static("", id="sweep-parallel-left-out", classes="sweep-left-out")
                    with Vertical(classes="sweep-side"):
                        yield Static("", id="sweep-best-title")
                        yield OptionList(id="sweep-best")
                        yield Static("", id="sweep-parallel-run")
        yield StatusBar()
        yield Footer(compact=True, show_command_palette=False)

    @property
    def scatter_chart(self) -> SweepScatter:
        return self.query_one(SweepScatter)

    @property
    def parallel_chart(self) -> ParallelChart:
        return self.query_one(ParallelChart)

    @property
    def best_list(self) -> OptionList:
        return self.query_one("#sweep-best", OptionList)

    def on_mount(self) -> None:
        self.scatter_chart.focus()
        store, experiment_ids = self.app.store, list(self.experiment_ids)
        self.app.run_store_call(self, lambda: store.list_keys(experiment_ids), self._keys_loaded, group="keys")

    # -- loading ---------------------------------------------------------------------------------

    def _keys_loaded(self, keys: Keys) -> None:
        self.keys = keys
        self.metric = default_metric(keys)
        self.x_key = default_x(keys, self.metric)
        self.axes = default_axes(keys)
        if self.metric is None:
            self._set_title("no metrics to chart")
            self.query_one("#sweep-scatter-left-out", Static).update("These runs have no metrics.")
            return
        self.load_runs()

    def chosen_keys(self) -> list[str]:
        return [k for k in (self.metric, self.x_key, self.color_key, *self.axes) if k]

    def load_runs(self, force: bool = False) -> None:
        """Read the runs with the chosen keys, unless the runs held have them already."""
        wanted = keys_of(self.chosen_keys())
        if not force and self._loaded is not None and covers(self._loaded, wanted):
            self.redraw()
            return
        self._generation += 1
        generation = self._generation
        store, eid, flt, view = self.app.store, self.experiment.id, self.filter_text, self.view
        run_ids, experiment_ids, cap = list(self.marked_ids), list(self.experiment_ids), SWEEP_CAP
        self._set_title("loading…")

        def load() -> SweepRuns:
            if run_ids:
                return load_marked(store, run_ids, experiment_ids, wanted)
            return load_filtered(store, eid, flt, view, wanted, cap)

        def loaded(sweep: SweepRuns) -> None:
            if generation != self._generation:
                return
            self.sweep, self._loaded = sweep, wanted
            if self._default_axes:
                self.axes = common_axes(sweep.runs, self.axes)
            self._set_title()
            self.redraw()

        self.app.run_store_call(self, load, loaded, group="runs")

    # -- drawing ---------------------------------------------------------------------------------

    def redraw(self) -> None:
        """Both charts from the runs held and the current choices."""
        if self.sweep is None or self.metric is None:
            return
        runs = self.sweep.runs
        if self.x_key is not None:
            keep = self.scatter_chart.current
            self.scatter = scatter_data(runs, self.x_key, self.metric, self.color_key, self.log_x, self.log_y)
            self.scatter_chart.show(self.scatter, keep.run.id if keep else None)
            self.query_one("#sweep-scatter-left-out", Static).update(plain(self.scatter.summary()))
            legend = self.query_one("#sweep-legend", Static)
            legend.update(self._legend(self.scatter))
            legend.display = self.color_key is not None
        self._options()
        self._draw_parallel()

    def _draw_parallel(self) -> None:
        assert self.sweep is not None and self.metric is not None
        selected = self._selected_best()
        data = parallel_data(self.sweep.runs, self.axes, self.metric, best=self.best_n, direction=self.direction)
        self.parallel = data
        best_ids = [line.run.id for line in data.best]
        keep = selected if selected in best_ids else (best_ids[0] if best_ids else None)
        self.parallel_chart.show(data, keep)
        colors = getattr(self.app.console, "color_system", None) or "truecolor"
        options = []
        for rank, line in enumerate(data.best):
            label = Text("■ ", style=plotting.rich_color(plotting.style_for(rank, colors).color))
            label.append_text(plain(line.run.display_name, "bold"))
            label.append(f"\n  {whole_value(line.metric)}")
            options.append(Option(label, id=line.run.id))
        best_list = self.best_list
        best_list.clear_options()
        best_list.add_options(options)
        if keep is not None:
            best_list.highlighted = best_ids.index(keep)
        word = "lowest" if data.direction == "min" else "highest"
        self.query_one("#sweep-best-title", Static).update(
            plain(f"Best {len(best_ids)} · {word} {self.metric.partition(':')[2]}"))
        left = data.summary()
        dim = len(data.lines) - data.best_count
        if dim > self.parallel_chart.dim_drawn:
            left += f" · {self.parallel_chart.dim_drawn:,} of the other {dim:,} drawn"
        self.query_one("#sweep-parallel-left-out", Static).update(plain(left))
        self._show_parallel_run(keep)

    def _selected_best(self) -> str | None:
        best_list = self.best_list
        if best_list.highlighted is None or not best_list.option_count:
            return None
        return best_list.get_option_at_index(best_list.highlighted).id

    def _legend(self, data: ScatterData) -> Text:
        if data.color is None:
            return Text("")
        colors = getattr(self.app.console, "color_system", None) or "truecolor"
        text = plain(f"{data.color.label}: ", "dim")
        counts = data.color.counts()
        for group in [*range(1, len(data.color.labels)), 0]:
            if not counts[group]:
                continue
            text.append("● ", style=plotting.rich_color(group_color(group, colors, True)))
            text.append_text(plain(data.color.labels[group]))
            text.append("  ")
        return text

    def _options(self) -> None:
        """The chosen keys of the chart on screen, in one line."""
        if not self.is_mounted:
            return
        metric = key_label(self.metric) if self.metric else "—"
        if self.query_one(TabbedContent).active == _PARALLEL:
            names = ", ".join(k.partition(":")[2] for k in self.axes)  # all params: no prefix needed
            parts = [f"param axes {names or '—'}", f"metric {metric}"]
        else:
            parts = [f"y {metric}" + (" (log)" if self.scatter and self.scatter.y_scale.log else ""),
                     f"x {key_label(self.x_key) if self.x_key else '—'}"
                     + (" (log)" if self.scatter and self.scatter.x_scale.log else ""),
                     f"colour {key_label(self.color_key) if self.color_key else '—'}"]
        self.query_one("#sweep-options", Label).update(plain(" · ".join(parts)))

    def _title(self, state: str = "") -> str:
        if self.marked_ids:
            where = f"{len(self.marked_ids):,} marked {'run' if len(self.marked_ids) == 1 else 'runs'}"
        else:
            where = self.experiment.name + (f" · filter {self.filter_text}" if self.filter_text else "")
        parts = ["Sweep", where]
        if state:
            parts.append(state)
        elif self.sweep is not None:
            count = len(self.sweep.runs)
            if self.sweep.capped:
                parts.append(f"the {count:,} newest runs (cap {SWEEP_CAP:,}): narrow the filter for the rest")
            elif not self.marked_ids:
                parts.append(f"{count:,} {'run' if count == 1 else 'runs'}")
        return " · ".join(parts)

    def _set_title(self, state: str = "") -> None:
        self.query_one("#sweep-title", Label).update(plain(self._title(state)))

    def _show_run(self, target: str, run: Run | None, keys: Sequence[str]) -> None:
        panel = self.query_one(target, Static)
        if run is None:
            panel.update("")
            return
        text = plain(run.display_name, "bold")
        text.append(f"\n{run.status.lower()}", style="dim")
        for key in dict.fromkeys(keys):
            text.append("\n")
            text.append_text(plain(key_label(key), "dim"))
            text.append("\n  ")
            text.append_text(plain(whole_value(raw_value(run, key))))
        text.append("\nenter opens the run", style="dim italic")
        panel.update(text)

    def _show_parallel_run(self, run_id: str | None) -> None:
        line = next((line for line in (self.parallel.lines if self.parallel else ()) if line.run.id == run_id), None)
        self._show_run("#sweep-parallel-run", line.run if line else None, [*self.axes, *(k for k in [self.metric] if k)])

    # -- events ----------------------------------------------------------------------------------

    def on_sweep_scatter_highlighted(self, event: SweepScatter.Highlighted) -> None:
        point: ScatterPoint | None = event.point
        keys = [k for k in (self.x_key, self.metric, self.color_key) if k]
        self._show_run("#sweep-scatter-run", point.run if point else None, keys)

    def on_sweep_scatter_chosen(self, event: SweepScatter.Chosen) -> None:
        self._open_run(event.point.run.id)

    @on(OptionList.OptionHighlighted, "#sweep-best")
    def _best_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self.parallel_chart.select(event.option.id)
        self._show_parallel_run(event.option.id)

    @on(OptionList.OptionSelected, "#sweep-best")
    def _best_chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self._open_run(event.option.id)

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        target = self.scatter_chart if event.pane.id == _SCATTER else self.best_list
        target.focus()
        self._options()
        self.refresh_bindings()

    def _open_run(self, run_id: str) -> None:
        from .run import RunScreen

        self.app.push_screen(RunScreen(run_id))

    # -- actions ---------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not self.is_mounted:
            return True
        tab = self.query_one(TabbedContent).active
        if action in _SCATTER_ACTIONS:
            return tab == _SCATTER
        if action in _PARALLEL_ACTIONS:
            return tab == _PARALLEL
        return True

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def action_pick_metric(self) -> None:
        if self.keys is None:
            return

        def picked(key: str | None) -> None:
            if key and key != self.metric:
                self.metric, self.log_y, self.direction = key, None, None
                self.load_runs()

        metrics = [f"metrics:{k}" for k in self.keys.metrics]
        self.app.push_screen(KeyPicker("Metric (y, and the parallel chart's last axis)", metrics, self.metric), picked)

    def action_pick_x(self) -> None:
        if self.keys is None:
            return

        def picked(key: str | None) -> None:
            if key and key != self.x_key:
                self.x_key, self.log_x = key, None
                self.load_runs()

        choices = [*(f"params:{k}" for k in self.keys.params), *(f"metrics:{k}" for k in self.keys.metrics)]
        self.app.push_screen(KeyPicker("X axis (a param or a metric)", choices, self.x_key), picked)

    def action_pick_color(self) -> None:
        if self.keys is None:
            return

        def picked(key: str | None) -> None:
            if key is not None and (key or None) != self.color_key:
                self.color_key = key or None
                self.load_runs()

        choices = [*(f"params:{k}" for k in self.keys.params), *(f"metrics:{k}" for k in self.keys.metrics),
                   *(f"tags:{k}" for k in self.keys.tags)]
        self.app.push_screen(KeyPicker("Colour points by", choices, self.color_key or "", offer_none=True), picked)

    def action_pick_axes(self) -> None:
        if self.keys is None:
            return

        def picked(column_ids: list[str] | None) -> None:
            if column_ids is not None and column_ids != self.axes:
                self.axes, self._default_axes = column_ids, False
                self.load_runs()

        self.app.push_screen(ColumnChooser(Keys(params=self.keys.params), list(self.axes), default_axes(self.keys),
                                           title="Parallel axes (params)", attributes=False), picked)

    def action_toggle_log(self, axis: str) -> None:
        if self.scatter is None:
            return
        if axis == "x":
            if not self.scatter.x.numeric:
                self.notify(f"{self.scatter.x.label} is not numeric: no log scale.", timeout=3)
                return
            self.log_x = not self.scatter.x_scale.log
        else:
            self.log_y = not self.scatter.y_scale.log
        self.redraw()

    def action_flip_direction(self) -> None:
        if self.parallel is None:
            return
        self.direction = "max" if self.parallel.direction == "min" else "min"
        self._draw_parallel()

    def action_best(self, step: int) -> None:
        best = max(1, min(MAX_BEST, self.best_n + step))
        if best != self.best_n and self.sweep is not None:
            self.best_n = best
            self._draw_parallel()

    def action_reload(self) -> None:
        self.load_runs(force=True)


def default_metric(keys: Keys) -> str | None:
    """The metric the charts open on: a held-out score (`val/accuracy`), else a loss or an
    accuracy, else the first metric that is not a system metric."""
    # Not `system/…`, nor a parent's summary (`best/val_accuracy`), which few runs have.
    metrics = [k for k in keys.metrics if not k.lower().startswith(("system/", "best"))] or list(keys.metrics)
    for wanted in (lambda k: _HELD_OUT.search(k.lower()) and _SCORE.search(k.lower()),
                   lambda k: _SCORE.search(k.lower()), lambda k: True):
        found = next((k for k in metrics if wanted(k)), None)
        if found is not None:
            return f"metrics:{found}"
    return None


def default_x(keys: Keys, metric: str | None) -> str | None:
    """The learning rate when there is one, else the first param, else another metric."""
    params = list(keys.params)
    lr = next((p for p in params if _LEARNING_RATE.search(p.lower())), None)
    if lr or params:
        return f"params:{lr or params[0]}"
    other = next((f"metrics:{k}" for k in keys.metrics if f"metrics:{k}" != metric), None)
    return other


def common_axes(runs: Sequence[Run], axes: Sequence[str]) -> list[str]:
    """The default axes that at least half of the runs have (a sweep's parent runs log
    `trials`, its children `lr`: the chart draws only runs with every axis), all of them when
    none is that common."""
    kept = [key for key in axes if 2 * sum(raw_value(r, key) is not None for r in runs) >= len(runs)]
    return kept or list(axes)


def default_axes(keys: Keys) -> list[str]:
    """The learning rate first (when there is one), then the other params, DEFAULT_AXES at most."""
    params = sorted(keys.params, key=lambda p: (not _LEARNING_RATE.search(p.lower()), p.lower()))
    return [f"params:{p}" for p in params[:DEFAULT_AXES]]
