"""One run, in tabs: Overview, Params, Metrics, System, Tags, Artifacts, Traces, Images; `G`
shows all its metrics at once as a grid of charts (screens/charts.py).

The screen owns every store call (thread workers through `app.run_store_call`, so a slow server
never freezes the UI and failures become notifications) and hands the results to widgets that
only display. Related runs open as new RunScreens, so Esc walks back along the path the user
took.

While the run is RUNNING the screen reads it again every few seconds (tui/live.py) and updates
the tabs in place: overview status and times, latest metrics and their sparklines, system
metrics, changed params and tags; cursors, scroll and filters stay. The title says `live ↻`.

The Images tab appears only for runs with images logged by `log_image(key=…, step=…)` (one
listing of `images/` when the run opens).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Footer, Label, TabbedContent, TabPane
from textual.worker import Worker, WorkerState, get_current_worker

from tracktui.store.base import Store
from tracktui.store.errors import NotFound, StoreError
from tracktui.store.model import PARENT_RUN_TAG, Experiment, MetricPoint, Run

from ..abandonable import Abandoned, call_abandonable
from ..actions import RunScreenActions
from ..clipboard import copy_text
from ..filter_focus import filter_binding, filter_key_enabled
from ..live import LIVE_LABEL, RUNNING, LiveTimer
from ..safe_text import inert, plain
from ..widgets.artifact_browser import ArtifactBrowser
from ..widgets.logged_images import LoggedImagesPanel
from ..widgets.metrics_table import SPARKLINE_WIDTH, MetricsPanel, MetricsTable
from ..widgets.params_table import KeyValueTable
from ..widgets.run_inputs import RunInputsList
from ..widgets.run_overview import RegisteredVersionsList, RunOverview
from ..widgets.status_bar import StatusBar

#: MLflow's system-metrics monitor logs under this prefix; those get their own tab.
SYSTEM_METRIC_PREFIX = "system/"
#: Points asked for per sparkline: a few more than its width so each cell has a real bucket.
SPARKLINE_POINTS = SPARKLINE_WIDTH * 5 // 2

#: (pane id, title) in tab order; number keys 1..7 follow this order.
TABS: tuple[tuple[str, str], ...] = (
    ("overview", "Overview"),
    ("params", "Params"),
    ("metrics", "Metrics"),
    ("system", "System"),
    ("tags", "Tags"),
    ("artifacts", "Artifacts"),
    ("traces", "Traces"),
    ("images", "Images"),
)


class RunScreen(RunScreenActions):
    """Everything about one run. Opened with `app.push_screen(RunScreen(run_id))`."""

    AREA = "run"
    CSS_PATH = "run.tcss"

    BINDINGS = [
        # y copies (a menu: id, runs:/ URI, artifact URI, highlighted value), t edits tags,
        # r renames, D downloads on the Artifacts tab: tui/actions.py.
        Binding("Y", "copy_artifact_uri", "Copy artifact URI", show=False, id="run.copy_uri"),
        filter_binding("run", "search", "Search"),
        Binding("left_square_bracket", "previous_tab", "Previous tab", show=False, id="run.prev_tab"),
        Binding("right_square_bracket", "next_tab", "Next tab", show=False, id="run.next_tab"),
        *(
            Binding(str(n), f"show_tab('{pane}')", f"{title} tab", show=False, id=f"run.tab_{pane}")
            for n, (pane, title) in enumerate(TABS, start=1)
        ),
        Binding("p", "open_parent", "Open parent run", show=False, id="run.parent"),
        Binding("G", "charts", "Charts grid", show=False, id="run.charts"),
        Binding("h", "toggle_system_tags", "Hide/show mlflow.* tags", show=False, id="run.toggle_tags"),
        Binding("ctrl+r,f5", "reload", "Reload", show=False, id="run.reload"),
    ]

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id
        self.run: Run | None = None
        self.experiment_name: str | None = None
        self._live = LiveTimer(self, self._refresh_live, self._show_title)

    # -- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Label(plain(f"Run {self.run_id}"), id="run-title", classes="screen-title")
        with TabbedContent(id="run-tabs"):
            for number, (pane_id, title) in enumerate(TABS, start=1):
                with TabPane(f"{number} {title}", id=pane_id):
                    yield from self._pane_content(pane_id)
        yield StatusBar()
        yield Footer()

    def _pane_content(self, pane_id: str) -> ComposeResult:
        if pane_id == "overview":
            yield RunOverview(id="run-overview")
        elif pane_id == "params":
            yield KeyValueTable("params", id="run-params")
        elif pane_id == "metrics":
            yield MetricsPanel(id="run-metrics-panel", table_id="run-metrics")
        elif pane_id == "system":
            yield MetricsPanel(
                "system metrics",
                id="run-system-panel",
                table_id="run-system",
                shown_prefix=SYSTEM_METRIC_PREFIX,
                empty_text="No system metrics (MLflow logs them when system metrics logging is on).",
            )
        elif pane_id == "tags":
            yield KeyValueTable("tags", hidden_prefix="mlflow.", id="run-tags")
        elif pane_id == "artifacts":
            yield ArtifactBrowser(id="run-artifacts")
        elif pane_id == "traces":
            from .traces import TracesView

            yield TracesView(run_id=self.run_id, id="run-traces")
        elif pane_id == "images":
            yield LoggedImagesPanel(id="run-images")

    def on_mount(self) -> None:
        self.query_one(TabbedContent).hide_tab("images")  # until the run proves to have some
        self.load_run()

    # -- loading: every store call runs in a thread worker via the app's one store-call path --

    def load_run(self) -> None:
        self._set_loading(True)
        store, run_id = self.app.store, self.run_id
        self.app.run_store_call(
            self,
            lambda: fetch_run(store, run_id),
            lambda result: self._show_run(*result),
            group="run",
            on_error=self._run_failed,
        )

    def _run_failed(self, error: StoreError) -> bool:
        self._set_loading(False)
        self.query_one("#run-title", Label).update(plain(f"Run {self.run_id}: {error.message}"))
        return False  # still notify through the app's one error path

    def load_relatives(self, run: Run) -> None:
        store = self.app.store
        parent_id = parent_of(run)

        def fetch() -> tuple[str | None, Run | None, list[Run]]:
            children = store.get_child_runs(run.id)
            parent = None
            if parent_id:
                try:
                    parent = store.get_run(parent_id)
                except NotFound:  # purged parent: still show its id
                    parent = None
            return parent_id, parent, children

        overview = self.query_one(RunOverview)

        def failed(error: StoreError) -> bool:
            overview.show_relatives_failed(error.message)
            return False

        def show(result: tuple[str | None, Run | None, list[Run]]) -> None:
            overview.show_relatives(*result)
            if self.active_tab == "overview":  # the list just appeared: let Enter act on it
                self._focus_active_pane()

        self.app.run_store_call(self, fetch, show, group="relatives", on_error=failed)

    def load_registered(self, run: Run) -> None:
        """The registry versions made from the run, listed on the overview (none: hidden)."""
        store = self.app.store
        if not store.supports_model_registry:
            return
        overview = self.query_one(RunOverview)
        self.app.run_store_call(self, lambda: store.model_versions_of_run(run.id), overview.show_registered,
                                group="registered", on_error=lambda _error: True)  # an extra, never an alarm

    def load_histories(self, table: MetricsTable, keys: Sequence[str]) -> None:
        """Fetch downsampled histories for `keys`, handing each to the table as it arrives.

        One exclusive worker per table: a newer request (the user scrolled) cancels the older,
        and whatever it did not deliver is asked for again by the table.
        """
        app, store, run_id, keys = self.app, self.app.store, self.run_id, tuple(keys)

        def fetch() -> None:
            worker = get_current_worker()
            for key in keys:
                if worker.is_cancelled:
                    return
                try:
                    points = call_abandonable(
                        partial(store.get_metric_history, run_id, key, max_points=SPARKLINE_POINTS),
                        lambda: worker.is_cancelled,
                    )
                except Abandoned:  # quitting, or a newer request: never wait on a stuck call
                    return
                if worker.is_cancelled:
                    return
                try:
                    app.call_from_thread(table.show_history, key, points)
                except RuntimeError:  # the app is shutting down
                    return

        self.run_worker(
            fetch,
            name="load-histories",
            group=f"histories-{table.id}",
            exclusive=True,
            thread=True,
            exit_on_error=False,
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.name == "load-histories" and event.worker.error:
            self.app.report_error(event.worker.error)

    def _show_run(self, run: Run, experiment_name: str | None) -> None:
        self.run = run
        self.experiment_name = experiment_name
        self._show_title()
        self.query_one(RunOverview).show_run(run, experiment_name)
        self.query_one("#run-params", KeyValueTable).show_items(run.params)
        metrics, system = split_metrics(run)
        self.query_one("#run-metrics-panel", MetricsPanel).show_metrics(metrics)
        self.query_one("#run-system-panel", MetricsPanel).show_metrics(system)
        self.query_one("#run-tags", KeyValueTable).show_items(run.tags)
        self.query_one(ArtifactBrowser).show_uri(run.artifact_uri)
        self._set_loading(False)
        self.load_relatives(run)
        self.load_registered(run)
        self.load_logged_images()
        self._focus_active_pane()
        self._watch_live()

    def load_logged_images(self) -> None:
        """List the run's logged images; the Images tab shows only when there are some."""
        store, run_id = self.app.store, self.run_id

        def show(images: dict) -> None:
            tabs = self.query_one(TabbedContent)
            if images:
                tabs.show_tab("images")
            else:
                tabs.hide_tab("images")
            self.query_one(LoggedImagesPanel).show_images(images)

        # no artifact access (a proxied store opened from its database) must not cost a
        # notification on every run opened: the Artifacts tab explains it
        self.app.run_store_call(self, lambda: store.list_logged_images(run_id), show, group="logged-images",
                                on_error=lambda _error: True)

    def _show_title(self) -> None:
        run = self.run
        if run is None:
            return
        name = run.display_name
        where = f"{self.experiment_name} › " if self.experiment_name else ""
        live = f" · {LIVE_LABEL}" if self._live.on else ""
        self.query_one("#run-title", Label).update(plain(f"{where}{name}{live}"))

    def _watch_live(self) -> None:
        self._live.set(self.run is not None and self.run.status == RUNNING)
        self._show_title()

    def _refresh_live(self) -> None:
        """Read the running run again and update every tab in place (no loading overlays)."""
        if self.app.screen is not self:  # covered by another screen: caught up on resume
            return
        store, run_id = self.app.store, self.run_id
        self.app.run_store_call(self, lambda: fetch_run(store, run_id), lambda result: self._update_run(*result),
                                group="live", on_error=self._live.stop_on_error)

    def on_screen_resume(self) -> None:
        if self._live.on:
            self._refresh_live()

    def _update_run(self, run: Run, experiment_name: str | None) -> None:
        old, self.run, self.experiment_name = self.run, run, experiment_name
        self.query_one(RunOverview).show_run(run, experiment_name)
        if old is None or old.params != run.params:
            self.query_one("#run-params", KeyValueTable).show_items(run.params)
        if old is None or old.tags != run.tags:
            self.query_one("#run-tags", KeyValueTable).show_items(run.tags)
        metrics, system = split_metrics(run)
        self.query_one("#run-metrics-panel", MetricsPanel).update_metrics(metrics)
        self.query_one("#run-system-panel", MetricsPanel).update_metrics(system)
        self._watch_live()

    def _set_loading(self, loading: bool) -> None:
        for widget_id in ("run-overview", "run-params", "run-metrics-panel", "run-system-panel", "run-tags"):
            self.query_one(f"#{widget_id}", Widget).loading = loading

    @on(MetricsTable.HistoryWanted)
    def _history_wanted(self, event: MetricsTable.HistoryWanted) -> None:
        self.load_histories(event.table, event.keys)

    @on(MetricsTable.PlotRequested)
    def _plot_requested(self, event: MetricsTable.PlotRequested) -> None:
        from .plot import PlotScreen

        self.app.push_screen(PlotScreen(self.run_id, event.keys))

    @on(KeyValueTable.OpenValue)
    def _open_value(self, event: KeyValueTable.OpenValue) -> None:
        from .value_viewer import ValueViewer

        self.app.push_screen(ValueViewer(event.noun, event.key, event.value))

    @on(RunOverview.OpenRun)
    def _open_related(self, event: RunOverview.OpenRun) -> None:
        self.app.push_screen(RunScreen(event.run_id))

    @on(RegisteredVersionsList.OpenRegisteredModel)
    def _open_registered(self, event: RegisteredVersionsList.OpenRegisteredModel) -> None:
        from .model_versions import ModelVersionsScreen

        self.app.push_screen(ModelVersionsScreen(event.name, focus_version=event.version))

    @on(RunInputsList.OpenDataset)
    def _open_dataset(self, event: RunInputsList.OpenDataset) -> None:
        from .dataset import DatasetScreen

        self.app.push_screen(DatasetScreen(event.item))

    @on(RunInputsList.OpenModel)
    def _open_model(self, event: RunInputsList.OpenModel) -> None:
        from .logged_model import LoggedModelScreen

        if not self.app.store.supports_logged_models:
            how = f"produced at step {event.step}" if event.produced else "used as input"
            self.notify(inert(f"Logged model {event.model_id} ({how}); this store has no logged-model view"),
                        title="Logged model", markup=False)
            return
        self.app.push_screen(LoggedModelScreen(event.model_id))

    # -- tabs ---------------------------------------------------------------------------------

    @property
    def active_tab(self) -> str:
        return self.query_one(TabbedContent).active

    def action_show_tab(self, pane_id: str) -> None:
        tabs = self.query_one(TabbedContent)
        if tabs.get_tab(pane_id).display:
            tabs.active = pane_id
        elif pane_id == "images":
            self.notify("This run has no images logged with log_image(key=…, step=…).", timeout=3)

    def action_next_tab(self) -> None:
        self._step_tab(+1)

    def action_previous_tab(self) -> None:
        self._step_tab(-1)

    def _step_tab(self, delta: int) -> None:
        tabs = self.query_one(TabbedContent)
        ids = [pane_id for pane_id, _ in TABS if tabs.get_tab(pane_id).display]
        index = ids.index(self.active_tab) if self.active_tab in ids else 0
        self.action_show_tab(ids[(index + delta) % len(ids)])

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        focused = self.focused
        pane = self.query_one(f"#{self.active_tab}", TabPane)
        if focused is None or pane not in focused.ancestors:  # `/` may have put it in the filter
            self._focus_active_pane()
        self.refresh_bindings()

    def _focus_active_pane(self) -> None:
        """Put focus where the keys of the active tab act (its table or list)."""
        tab = self.active_tab
        if tab in ("params", "tags"):
            self.query_one(f"#run-{tab}", KeyValueTable).focus_table()
        elif tab in ("metrics", "system"):
            self.query_one(f"#run-{tab}-panel", MetricsPanel).focus_table()
        elif tab == "overview":
            overview = self.query_one(RunOverview)
            related = overview.query_one("#overview-relatives")
            inputs = overview.query_one("#overview-inputs")
            # the page stays at its top: the list (below the fold on a small screen) takes the
            # keys without scrolling the overview away from the run's name and id
            (related if related.display else inputs if inputs.display else overview).focus(scroll_visible=False)
        elif tab == "artifacts":
            self.query_one(ArtifactBrowser).focus_tree()
        elif tab == "images":
            self.query_one(LoggedImagesPanel).focus_keys()
        else:  # nothing to focus: don't leave it in a hidden pane, which would switch back to it
            self.set_focus(None)

    # -- actions ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "search":
            return filter_key_enabled(self)
        if action == "toggle_system_tags":
            return self.active_tab == "tags"
        if action == "open_parent":
            return bool(self.run and parent_of(self.run))
        return super().check_action(action, parameters)

    def action_copy_artifact_uri(self) -> None:
        if self.run and self.run.artifact_uri:
            copy_text(self.app, self.run.artifact_uri, "artifact URI")
        else:
            self.notify("This run has no artifact URI.", severity="warning", timeout=2)

    def action_search(self) -> None:
        """Focus the filter box of the tab (the Artifacts tab: search the preview); from tabs
        without one, Params'."""
        if self.active_tab == "traces":
            from .traces import TracesView

            self.query_one("#run-traces", TracesView).focus_filter()
            return
        if self.active_tab == "artifacts":
            self.query_one(ArtifactBrowser).search_preview()
            return
        tab = self.active_tab if self.active_tab in ("params", "tags", "metrics", "system") else "params"
        self.action_show_tab(tab)  # its TabActivated leaves focus in the filter (_tab_activated)
        if tab in ("params", "tags"):
            self.query_one(f"#run-{tab}", KeyValueTable).focus_filter()
        else:
            self.query_one(f"#run-{tab}-panel", MetricsPanel).focus_filter()

    def action_open_parent(self) -> None:
        parent_id = parent_of(self.run) if self.run else None
        if parent_id:
            self.app.push_screen(RunScreen(parent_id))

    def action_charts(self) -> None:
        from .charts import RunChartsScreen

        self.app.push_screen(RunChartsScreen(self.run_id))

    def action_toggle_system_tags(self) -> None:
        tags = self.query_one("#run-tags", KeyValueTable)
        tags.hide_prefixed = not tags.hide_prefixed

    def action_reload(self) -> None:
        self.load_run()


def fetch_run(store: Store, run_id: str) -> tuple[Run, str | None]:
    """(In a worker thread.) The run, and its experiment's name when the experiment still exists."""
    run = store.get_run(run_id)
    try:
        experiment: Experiment | None = store.get_experiment(run.experiment_id)
    except NotFound:
        experiment = None
    return run, experiment.name if experiment else None


def split_metrics(run: Run) -> tuple[dict[str, MetricPoint], dict[str, MetricPoint]]:
    """(the run's own metrics, its system metrics) for the Metrics and System tabs."""
    metrics = {k: p for k, p in run.metrics.items() if not k.startswith(SYSTEM_METRIC_PREFIX)}
    system = {k: p for k, p in run.metrics.items() if k.startswith(SYSTEM_METRIC_PREFIX)}
    return metrics, system


def parent_of(run: Run) -> str | None:
    """The parent run id: the backend's field, else MLflow's `mlflow.parentRunId` tag."""
    return run.parent_run_id or run.tags.get(PARENT_RUN_TAG) or None
