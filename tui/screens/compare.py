"""CompareScreen: marked runs side by side — metric overlays, a diff table, and (when runs
logged images with `log_image(key=…, step=…)`) the same image key and step for each run.

Charts: one MetricPlot per chosen metric, one colour per run (the same run keeps its colour
in every chart), at most CHART_RUNS runs overlaid (a picker chooses which): more lines than
colours is unreadable in a terminal. The diff table has every run (100+ is fine: it is one
DataTable filled in bulk, no per-run store call beyond `get_run`), with rows whose values
differ highlighted and a toggle hiding rows where all runs agree.

Store calls run in thread workers (`app.run_store_call`): the runs once, then histories of
the chosen metrics × charted runs, downsampled by the store to ~2 points per cell.

While a compared run is RUNNING, the runs and the charted histories are read again every few
seconds (tui/live.py): the diff table keeps its cursor and scroll, the charts are redrawn in
place, the pickers keep their choices, and the title says `live ↻`.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.text import Text
from textual import getters, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import (
    DataTable,
    Footer,
    Label,
    SelectionList,
    TabbedContent,
    TabPane,
)

from tracktui.store.base import Store
from tracktui.store.errors import StoreError
from tracktui.store.model import MetricPoint, Run

from .. import plotting
from ..app import TrackApp
from ..live import LIVE_LABEL, RUNNING, LiveTimer
from ..runs_by_id import fetch_runs
from ..safe_text import inert, plain
from ..widgets.compare_images import IMAGE_RUNS, CompareImages
from ..widgets.metric_plot import MetricPlot, PlotLine
from ..widgets.run_format import MISSING, format_metric_value
from ..widgets.status_bar import StatusBar
from .plot import VIEW_BINDINGS, PlotView

#: Runs overlaid on the charts at most (the diff table shows all).
CHART_RUNS = 20
#: Metrics charted when the screen opens.
DEFAULT_METRICS = 2
#: Cells the pickers' column beside the charts takes at least (compare.tcss, border included);
#: it widens to show the longest metric or run name whole, up to 2/5 of the screen.
PICKERS_WIDTH = 28
#: Cells of a picker row that are not the name: "▐X▌ ", the padding and the border.
PICKER_CHROME = 6
#: Histories read at once: SQLite and the network release the GIL while they wait.
HISTORY_THREADS = 4


def pickers_width(names: Sequence[str], screen_width: int) -> int:
    """The pickers' column width: the longest name whole, between PICKERS_WIDTH and 2/5 of
    the screen (long names like `system/gpu_0_memory_usage_megabytes` stay readable)."""
    longest = max((cell_len(n) for n in names), default=0)
    return max(PICKERS_WIDTH, min(longest + PICKER_CHROME, screen_width * 2 // 5))


class CompareScreen(PlotView, Screen):
    """`CompareScreen(run_ids)`: runs of any experiments, in the order given."""

    AREA = "compare"
    CSS_PATH = "compare.tcss"
    app = getters.app(TrackApp)

    BINDINGS = [
        Binding("1", "show_tab('compare-charts')", "Charts", show=False, id="compare.charts"),
        Binding("2", "show_tab('compare-diff')", "Diff table", show=False, id="compare.diff"),
        Binding("3", "show_tab('compare-images')", "Images", show=False, id="compare.images"),
        Binding("i", "toggle_identical", "Identical rows", id="compare.identical"),
        Binding("p", "pick_metrics", "Pick metrics", show=False, id="compare.pick_metrics"),
        Binding("P", "pick_runs", "Pick charted runs", show=False, id="compare.pick_runs"),
        Binding("e", "export", "Export diff", show=False, id="compare.export"),
        *VIEW_BINDINGS,
    ]

    def __init__(self, run_ids: Sequence[str], experiment_ids: Sequence[str] = ()) -> None:
        """`experiment_ids` (those the runs belong to) let the runs load in one search per
        200 runs instead of one `get_run` each."""
        super().__init__()
        self.run_ids = list(dict.fromkeys(run_ids))
        self.experiment_ids = list(dict.fromkeys(experiment_ids))
        self.runs: list[Run] = []
        self.hide_identical = False
        self.chosen_metrics: list[str] = []
        self.charted_runs: list[str] = []
        self.differing_rows: set[str] = set()
        self.pickers_width = PICKERS_WIDTH
        self._rows: list[tuple[str, list[str]]] = []
        self._live = LiveTimer(self, self._refresh_live, self._show_title)

    def compose(self) -> ComposeResult:
        yield Label(Content(f"Compare {len(self.run_ids)} runs"), id="compare-title", classes="screen-title")
        with TabbedContent(id="compare-tabs"):
            with TabPane("1 Charts", id="compare-charts"):
                with Horizontal():
                    with Vertical(id="compare-pickers"):
                        yield Label("Metrics (p)", classes="picker-title")
                        yield SelectionList[str](id="compare-metric-picker", compact=True)
                        yield Label(f"Runs charted, ≤{CHART_RUNS} (P)", classes="picker-title")
                        yield SelectionList[str](id="compare-run-picker", compact=True)
                    with Vertical(id="compare-chart-area"):
                        yield Label("", id="compare-options")
                        with VerticalScroll(id="compare-charts-scroll"):
                            for _ in range(DEFAULT_METRICS):  # reused by rebuild_charts
                                yield _loading_plot()
            with TabPane("2 Diff", id="compare-diff"):
                yield Label("", id="compare-diff-summary")
                yield DataTable(id="compare-diff-table", zebra_stripes=True, cursor_type="row")
            with TabPane("3 Images", id="compare-images"):
                yield CompareImages(id="compare-images-panel")
        yield StatusBar()
        yield Footer(compact=True, show_command_palette=False)

    @property
    def diff_table(self) -> DataTable:
        return self.query_one("#compare-diff-table", DataTable)

    def on_mount(self) -> None:
        self.query_one(TabbedContent).hide_tab("compare-images")  # until a run proves to have some
        self._view_changed()
        store, run_ids, experiment_ids = self.app.store, list(self.run_ids), list(self.experiment_ids)
        self.query_one("#compare-title", Label).update(Content(f"Compare {len(run_ids)} runs · loading…"))
        self.app.run_store_call(self, lambda: fetch_runs(store, run_ids, experiment_ids), self._runs_loaded,
                                group="runs", on_error=self._runs_failed)

    def _runs_loaded(self, runs: list[Run]) -> None:
        self.runs = runs
        self._watch_live()
        self.load_logged_images()
        keys = sorted({k for r in runs for k in r.metrics}, key=str.lower)
        common = [k for k in keys if all(k in r.metrics for r in runs)]
        self.chosen_metrics = (common or keys)[:DEFAULT_METRICS]
        self.charted_runs = [r.id for r in runs[:CHART_RUNS]]
        metric_picker = self.query_one("#compare-metric-picker", SelectionList)
        metric_picker.add_options([(plain(k), k, k in self.chosen_metrics) for k in keys])
        run_picker = self.query_one("#compare-run-picker", SelectionList)
        run_picker.add_options([(plain(r.display_name), r.id, r.id in self.charted_runs) for r in runs])
        self.pickers_width = pickers_width([*keys, *(r.display_name for r in runs)], self.app.size.width)
        self.query_one("#compare-pickers").styles.width = self.pickers_width
        self.fill_diff()
        # The charts mount now, in the same layout pass as the pickers and the table, and their
        # histories' queries run in a worker while that pass paints (was: after one more paint,
        # which cost a second full layout of the screen before the queries even started).
        self.rebuild_charts()

    def _show_title(self) -> None:
        experiments = {r.experiment_id for r in self.runs}
        across = f" from {len(experiments)} experiments" if len(experiments) > 1 else ""
        live = f" · {LIVE_LABEL}" if self._live.on else ""
        title = Content(f"Compare {len(self.runs)} runs{across}{live}")
        self.query_one("#compare-title", Label).update(title, layout=False)  # one line, full width

    def _watch_live(self) -> None:
        self._live.set(any(run.status == RUNNING for run in self.runs))
        self._show_title()

    def _refresh_live(self) -> None:
        """Read the runs again; then the diff table and the charts, in place."""
        if self.app.screen is not self:  # covered by another screen: caught up on resume
            return
        store, run_ids, experiment_ids = self.app.store, list(self.run_ids), list(self.experiment_ids)
        self.app.run_store_call(self, lambda: fetch_runs(store, run_ids, experiment_ids), self._runs_refreshed,
                                group="live", on_error=self._live.stop_on_error)

    def on_screen_resume(self) -> None:
        if self._live.on:
            self._refresh_live()

    def _runs_refreshed(self, runs: list[Run]) -> None:
        self.runs = runs
        table = self.diff_table
        cursor, scroll = table.cursor_coordinate, (table.scroll_x, table.scroll_y)
        self.fill_diff()
        table.move_cursor(row=cursor.row, column=cursor.column, scroll=False)
        table.scroll_to(*scroll, animate=False)
        plots = list(self.query_one("#compare-charts-scroll", VerticalScroll).query_children(MetricPlot))
        if len(plots) == len(self.chosen_metrics):
            self._draw_charts(plots, list(self.chosen_metrics))
        self._watch_live()

    def _runs_failed(self, error: StoreError) -> bool:
        for plot in self.query(MetricPlot):
            plot.show_loading("The runs could not be loaded.")
        return False  # notified as usual

    # -- charts -------------------------------------------------------------------------------

    def rebuild_charts(self) -> None:
        """One MetricPlot per chosen metric, then fetch the histories they show.

        The plots already on the screen are reused (the first DEFAULT_METRICS are composed
        with the screen): mounting a plot costs layout passes of the whole screen, and a
        reused plot keeps its view options. Only a changed count mounts or removes plots."""
        scroll = self.query_one("#compare-charts-scroll", VerticalScroll)
        keys = list(self.chosen_metrics)
        plots = list(scroll.query_children(MetricPlot))
        for extra in plots[len(keys):]:
            extra.remove()
        plots = plots[: len(keys)]
        new = [MetricPlot(key, classes="compare-chart") for key in keys[len(plots):]]
        if plots and new:
            first = plots[0]
            for plot in new:
                plot.set_reactive(MetricPlot.x_axis, first.x_axis)
                plot.set_reactive(MetricPlot.log_y, first.log_y)
                plot.set_reactive(MetricPlot.smoothing, first.smoothing)
                plot.set_reactive(MetricPlot.show_raw, first.show_raw)
        for plot, key in zip(plots, keys):
            plot.title = key
        plots += new
        for plot in plots:
            plot.set_class(len(plots) == 1, "-single")
            plot.show_loading(series=len(self.charted_runs))
        if new:
            scroll.mount_all(new)
        if plots:
            self._draw_charts(plots, keys)

    def _draw_charts(self, plots: list[MetricPlot], keys: list[str]) -> None:
        """Fetch the charted runs' histories of `keys` and draw them on `plots` (one per key)."""
        runs = [r for r in self.runs if r.id in self.charted_runs]
        store = self.app.store
        max_points = plotting.history_points_for(self.app.size.width - self.pickers_width)

        def fetch() -> dict[tuple[str, str], list[MetricPoint]]:
            return fetch_overlays(store, runs, keys, max_points)

        def show(histories: dict[tuple[str, str], list[MetricPoint]]) -> None:
            for plot, key in zip(plots, keys):
                plot.show([PlotLine(r.display_name, histories.get((r.id, key), []), r.start_time) for r in runs])

        self.app.run_store_call(self, fetch, show, group="histories")

    @on(SelectionList.SelectedChanged, "#compare-metric-picker")
    def _metrics_picked(self, event: SelectionList.SelectedChanged) -> None:
        picked = list(event.selection_list.selected)
        if picked != self.chosen_metrics:
            self.chosen_metrics = picked
            self.rebuild_charts()

    @on(SelectionList.SelectedChanged, "#compare-run-picker")
    def _runs_picked(self, event: SelectionList.SelectedChanged) -> None:
        picked = [rid for rid in event.selection_list.selected]
        if len(picked) > CHART_RUNS:
            self.notify(f"At most {CHART_RUNS} runs are overlaid; unpick one first.", severity="warning")
            event.selection_list.deselect(picked[-1])
            return
        order = [r.id for r in self.runs if r.id in picked]
        if order != self.charted_runs:
            self.charted_runs = order
            self.rebuild_charts()

    def _view_changed(self) -> None:
        plots = list(self.query(MetricPlot))
        label = plots[0].options_label() if plots else MetricPlot().options_label()
        self.query_one("#compare-options", Label).update(label)

    # -- diff table ----------------------------------------------------------------------------

    def fill_diff(self) -> None:
        """Rows: every param, then every metric's latest value; differing rows highlighted."""
        self._rows = diff_rows(self.runs)
        self.differing_rows = {key for key, values in self._rows if len(set(values)) > 1}
        table = self.diff_table
        table.clear(columns=True)
        table.add_column("key", key="key")
        for index, run in enumerate(self.runs):
            table.add_column(plain(run.display_name), key=f"run{index}")
        # Theme colours (not hard-coded): differing rows in the accent colour, the rest muted.
        accent = self.app.theme_variables.get("accent", "")
        differ_style, same_style = f"bold {accent}".strip(), "dim"
        rows = []
        for key, values in self._rows:
            differs = key in self.differing_rows
            if self.hide_identical and not differs:
                continue
            style = differ_style if differs else same_style
            value_style = differ_style if differs else ""
            rows.append([DiffCell(key, style), *(DiffCell(v, value_style) for v in values)])
        table.add_rows(rows)
        shown = len(rows)
        summary = f"{len(self._rows)} rows · {len(self.differing_rows)} differ"
        if self.hide_identical:
            summary += f" · identical rows hidden (i) · {shown} shown"
        self.query_one("#compare-diff-summary", Label).update(summary)

    def action_export(self) -> None:
        """Export the diff table as shown (identical rows left out while hidden), values whole."""
        from ..export import tables
        from ..export.dialog import ExportDialog, default_file_stem

        if not self.runs:
            self.notify("The runs are still loading.", timeout=3)
            return
        runs = list(self.runs)
        keys = [key for key, _ in self._rows if not self.hide_identical or key in self.differing_rows]
        title = f"Export the diff table: {len(keys):,} rows × {len(runs):,} runs"
        if self.hide_identical:
            title += " (identical rows hidden, as shown)"
        stem = default_file_stem("compare", f"{len(runs)}-runs")
        self.action_show_tab("compare-diff")
        self.app.push_screen(ExportDialog(title, stem, lambda progress: tables.diff_table(runs, keys)))

    def action_toggle_identical(self) -> None:
        self.hide_identical = not self.hide_identical
        self.fill_diff()

    # -- navigation -----------------------------------------------------------------------------

    def action_show_tab(self, tab: str) -> None:
        tabs = self.query_one(TabbedContent)
        if not tabs.get_tab(tab).display:
            self.notify("None of these runs logged images with log_image(key=…, step=…).", timeout=3)
            return
        tabs.active = tab
        if tab == "compare-images":
            self.query_one(CompareImages).focus_keys()

    # -- images ---------------------------------------------------------------------------------

    def load_logged_images(self) -> None:
        """List the logged images of the charted runs; the first IMAGE_RUNS runs with some are
        shown side by side, and the Images tab appears only then."""
        store, runs = self.app.store, [(r.id, r.display_name) for r in self.runs[:CHART_RUNS]]

        def fetch() -> dict[str, dict]:
            found = {}
            for run_id, _name in runs:
                images = store.list_logged_images(run_id)
                if images:
                    found[run_id] = images
            return found

        def show(found: dict[str, dict]) -> None:
            if not found:
                return
            shown = [(run_id, name) for run_id, name in runs if run_id in found][:IMAGE_RUNS]
            self.query_one(TabbedContent).show_tab("compare-images")
            self.call_later(self.query_one(CompareImages).show_runs_images, shown, found, len(found))

        # a run whose artifacts cannot be read simply has no pictures here
        self.app.run_store_call(self, fetch, show, group="logged-images", on_error=lambda _error: True)

    @on(CompareImages.ImageWanted)
    def _image_wanted(self, event: CompareImages.ImageWanted) -> None:
        from ..image_decode import NotShown, fetch_display_image

        store, run_id, path, box = self.app.store, event.run_id, event.path, event.box
        panel = self.query_one(CompareImages)

        def failed(error: StoreError) -> bool:
            panel.show_image(run_id, NotShown(path, f"Cannot read it: {error.message}"))
            return True

        self.app.run_store_call(self, lambda: fetch_display_image(store, run_id, path, None, box),
                                lambda result: panel.show_image(run_id, result), group=f"compare-image-{run_id}",
                                on_error=failed)

    def action_pick_metrics(self) -> None:
        self._focus_picker("#compare-metric-picker")

    def action_pick_runs(self) -> None:
        self._focus_picker("#compare-run-picker")

    def _focus_picker(self, selector: str) -> None:
        self.action_show_tab("compare-charts")
        picker = self.query_one(selector, SelectionList)
        if picker.highlighted is None and picker.option_count:
            picker.highlighted = 0  # Space toggles at once
        picker.focus()


def diff_rows(runs: Sequence[Run]) -> list[tuple[str, list[str]]]:
    """(row key, one shown value per run) for every param then every latest metric."""
    params = sorted({k for r in runs for k in r.params}, key=str.lower)
    metrics = sorted({k for r in runs for k in r.metrics}, key=str.lower)
    rows = [(f"params.{k}", [r.params.get(k, MISSING) for r in runs]) for k in params]
    rows += [
        (f"metrics.{k}", [format_metric_value(r.metrics[k].value) if k in r.metrics else MISSING for r in runs])
        for k in metrics
    ]
    return rows


def fetch_overlays(
    store: Store, runs: Sequence[Run], keys: Sequence[str], max_points: int
) -> dict[tuple[str, str], list[MetricPoint]]:
    """Downsampled histories of `keys` for each run that logged them. Runs in a worker.

    The histories are read on up to HISTORY_THREADS threads (the store is thread-safe): each
    is one bounded query whose time is mostly spent in the database or on the network, so
    20 of them take about the time of the slowest few rather than of all in a row."""
    wanted = [(run.id, key) for run in runs for key in keys if key in run.metrics]

    def read(run_key: tuple[str, str]) -> list[MetricPoint]:
        return list(store.get_metric_history(run_key[0], run_key[1], max_points=max_points))

    if len(wanted) <= 1:
        return {run_key: read(run_key) for run_key in wanted}
    with ThreadPoolExecutor(min(HISTORY_THREADS, len(wanted)), thread_name_prefix="tracktui-overlays") as pool:
        return dict(zip(wanted, pool.map(read, wanted)))


class DiffCell:
    """A diff-table cell: a styled value whose width is known without Rich measuring it.

    DataTable measures every cell of the rows it is given to size its columns; a Rich `Text`
    answers by splitting itself into words (sizing 200 runs × 18 rows took 74–87 ms, with
    these cells 41–49 ms, paid before the table paints). This cell answers with its length and builds its `Text`
    only when drawn (the few cells on screen). `str(cell)` is the value."""

    __slots__ = ("value", "shown", "style", "width")

    def __init__(self, value: str, style: str = "") -> None:
        self.value = value
        self.shown = shown = inert(value, multiline=True)
        self.style = style
        self.width = max(map(cell_len, shown.splitlines())) if "\n" in shown else cell_len(shown)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(self.width, self.width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Text(self.shown, style=self.style)

    def __str__(self) -> str:
        return self.value


def _loading_plot() -> MetricPlot:
    plot = MetricPlot("", classes="compare-chart")
    plot.show_loading("Loading runs…")
    return plot
