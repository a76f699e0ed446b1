"""ExperimentsScreen: every experiment with its run count; `/` filters, Enter opens its runs.

Experiments are few (hundreds at most), so they load once and filter locally as you type;
run counts arrive afterwards, so the list paints first: from one grouped count query, or, where
counting is costly (a tracking server: each count is a series of searches, each a query on the
server), bounded (tui/run_counts.py) and one experiment at a time in list order, so the rows on
screen come first; that counting stops while another screen covers this one (its in-flight
count sends no further request) and goes on when the list is shown again.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Input, Label

from tracktui.store.errors import StoreError
from tracktui.store.model import Experiment, ViewType

from ..actions import ExperimentActions
from ..columns import format_start
from ..filter_focus import filter_binding, filter_key_enabled, focus_now
from ..run_counts import count_limit, format_count
from ..safe_text import plain
from ..startup_probe import data_painted
from ..widgets.cursor_anchor import anchor_at, landing
from ..widgets.status_bar import StatusBar

#: Experiments listed at most (a store with more would need server-side filtering).
MAX_EXPERIMENTS = 10_000


class ExperimentsTable(DataTable):
    BINDINGS = [
        Binding("enter", "select_cursor", "Open runs", id="experiments.open"),
        Binding("k", "cursor_up", "Up", show=False, id="experiments.up"),
        Binding("j", "cursor_down", "Down", show=False, id="experiments.down"),
        Binding("g", "scroll_top", "First", show=False, id="experiments.first"),
        Binding("G", "scroll_bottom", "Last", show=False, id="experiments.last"),
    ]


class ExperimentsScreen(ExperimentActions):
    AREA = "experiments"
    AUTO_FOCUS = "ExperimentsTable"
    BINDINGS = [
        filter_binding("experiments"),
        # d deletes, u restores, r renames, y copies (tui/actions.py); D shows deleted ones.
        Binding("D", "toggle_deleted", "Deleted", id="experiments.deleted"),
        Binding("w", "watch", "Watch running runs", show=False, id="experiments.watch"),
        # The model registry and the prompt registry (screens/registry.py).
        Binding("M", "registered_models", "Registered models", show=False, id="experiments.registry"),
        Binding("P", "prompts", "Prompts", show=False, id="experiments.prompts"),
        Binding("ctrl+r,f5", "refresh", "Refresh", show=False, id="experiments.refresh"),
    ]

    def __init__(self, open_first: Experiment | None = None) -> None:
        """`open_first`: open that experiment's runs at once (`tracktui URI --experiment`); this
        list loads only when it is shown, after the runs screen closes."""
        super().__init__()
        self.show_deleted = False
        self.experiments: list[Experiment] = []
        self.counts: dict[str, int] = {}
        #: The bound the counts were asked with (None: exact), for showing them.
        self.count_limit: int | None = None
        self._open_first = open_first
        self._load_pending = False  # the list waits until the runs opened at start close
        self._covered = False
        self._suspended = False
        self._counting: str | None = None  # the experiment whose costly count is under way

    def compose(self) -> ComposeResult:
        yield Label("Experiments", id="experiments-title", classes="screen-title")
        yield Input(placeholder="/ filters by name, id or tag", id="experiments-filter", select_on_focus=False)
        table = ExperimentsTable(id="experiments-table", cursor_type="row", zebra_stripes=False)
        yield table
        yield StatusBar()
        yield Footer(compact=True, show_command_palette=False)  # ^p is listed by ? help

    def on_mount(self) -> None:
        table = self.query_one(ExperimentsTable)
        table.add_column("Name", key="name")
        table.add_column("ID", key="id")
        table.add_column("Runs", key="runs")
        table.add_column("Last update", key="updated")
        table.add_column("Tags", key="tags")
        table.focus()
        if self._open_first is None:
            self.load()
            return
        from .runs import RunsScreen

        self._load_pending = True
        self.app.push_screen(RunsScreen(self._open_first))
        self._open_first = None

    def on_screen_suspend(self) -> None:
        self._covered = self._suspended = True
        if self.app.store.counting_is_costly:
            self._stop_counting()

    def on_screen_resume(self) -> None:
        self._suspended = False
        # the resume Textual sends at start comes before the runs screen covers this one
        if self._load_pending and self._covered:
            self._load_pending = False
            self.load()
        elif self.experiments:
            self._count_next()

    # -- data --------------------------------------------------------------------------------

    def load(self) -> None:
        store = self.app.store
        view: ViewType = "all" if self.show_deleted else "active"

        def fetch() -> list[Experiment]:
            out: list[Experiment] = []
            token = None
            while len(out) < MAX_EXPERIMENTS:
                page = store.search_experiments(view=view, max_results=1000, page_token=token)
                out.extend(page.items)
                token = page.next_page_token
                if not token:
                    break
            return out

        # No `loading` overlay: it would take focus from the list while the user types.
        self.query_one("#experiments-title", Label).update("Experiments · loading…")
        self.app.run_store_call(self, fetch, self._loaded, group="experiments", on_error=self._failed)

    def _failed(self, error: StoreError) -> bool:
        """The title stops saying loading; the notification says why."""
        self.query_one("#experiments-title", Label).update("Experiments · could not load (ctrl+r retries)")
        return False

    def _loaded(self, experiments: list[Experiment]) -> None:
        self.experiments = experiments
        self._fill()
        data_painted(self.app)
        store = self.app.store
        self.count_limit = count_limit(store)
        if store.counting_is_costly:
            self._count_next()
            return
        ids = [e.id for e in experiments]
        if ids:
            self.app.run_store_call(self, lambda: store.count_runs_by_experiment(ids), self._counted, group="counts")

    def _count_next(self) -> None:
        """Costly counting: the first experiment not yet counted, rows on screen (top down)
        before the others; when it is counted, the next. Nothing while covered."""
        if self._suspended or self._counting is not None or not self.app.store.counting_is_costly:
            return
        table = self.query_one(ExperimentsTable)
        order = [key.value or "" for key in table.rows] + [e.id for e in self.experiments]
        eid = next((i for i in order if i not in self.counts), None)
        if eid is None:
            return
        store, at_most = self.app.store, self.count_limit

        def counted(count: int) -> None:
            self._counting = None
            self._counted({**self.counts, eid: count})
            self._count_next()

        def failed(error: StoreError) -> bool:
            self._counting = None  # the chain stops here; showing the list again retries
            return False

        self._counting = eid
        self.app.run_store_call(self, lambda: store.count_runs(eid, "active", at_most), counted,
                                group="counts", on_error=failed, interruptible=True)

    def _stop_counting(self) -> None:
        self.workers.cancel_group(self, "counts")  # an interruptible call sends no further probe
        self._counting = None

    def _counted(self, counts: dict[str, int]) -> None:
        self.counts = counts
        table = self.query_one(ExperimentsTable)
        for row_key in table.rows:
            if row_key.value in counts:
                # the column was sized for "…": let it grow (else 100,000 shows as `100,`)
                text = _count_text(counts[row_key.value], self.count_limit)
                table.update_cell(row_key, "runs", text, update_width=True)

    def _fill(self) -> None:
        table = self.query_one(ExperimentsTable)
        needle = self.query_one("#experiments-filter", Input).value.strip().lower()
        ids = [key.value or "" for key in table.rows]
        anchor = anchor_at(ids, table.cursor_row) if self.current_id is not None else None
        table.clear()
        shown = [e for e in self.experiments if not needle or needle in _haystack(e)]
        for exp in shown:
            deleted = exp.lifecycle_stage == "deleted"
            name = plain(exp.name + (" (deleted)" if deleted else ""), style="strike" if deleted else "")
            count = (_count_text(self.counts[exp.id], self.count_limit) if exp.id in self.counts
                     else Text("…", justify="right"))
            table.add_row(name, plain(exp.id), count, format_start(exp.last_update_time), _tags_text(exp), key=exp.id)
        # After a rename, delete or restore the cursor stays on its experiment (or the next one).
        target = landing(anchor, {e.id for e in shown}) if anchor is not None else None
        if target is not None:
            table.move_cursor(row=table.get_row_index(target))
        total = len(self.experiments)
        title = f"Experiments ({len(shown)} of {total})" if needle else f"Experiments ({total})"
        if self.show_deleted:
            title += " · including deleted"
        self.query_one("#experiments-title", Label).update(title)

    @property
    def current_id(self) -> str | None:
        table = self.query_one(ExperimentsTable)
        if table.row_count == 0:
            return None
        try:
            return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        except Exception:  # noqa: BLE001 - no valid cursor yet
            return None

    # -- keys --------------------------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        self._fill()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        focus_now(self.query_one(ExperimentsTable))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def on_key(self, event: events.Key) -> None:
        """In the filter box: Escape clears it, Escape or Down go back to the list."""
        filter_input = self.query_one("#experiments-filter", Input)
        if event.key in ("escape", "down") and self.focused is filter_input:
            if event.key == "escape":
                filter_input.value = ""
            focus_now(self.query_one(ExperimentsTable))
            event.stop()

    def action_open(self) -> None:
        exp_id = self.current_id
        experiment = next((e for e in self.experiments if e.id == exp_id), None)
        if experiment is None:
            return
        from .runs import RunsScreen

        self.app.push_screen(RunsScreen(experiment))

    def action_focus_filter(self) -> None:
        focus_now(self.query_one("#experiments-filter", Input))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "focus_filter":
            return filter_key_enabled(self)
        return super().check_action(action, parameters)

    def action_watch(self) -> None:
        """The live board of every RUNNING run in every experiment."""
        from .watch import WatchScreen

        self.app.push_screen(WatchScreen())

    def action_registered_models(self) -> None:
        from .registry import RegisteredModelsScreen

        self.app.push_screen(RegisteredModelsScreen())

    def action_prompts(self) -> None:
        from .registry import PromptsScreen

        self.app.push_screen(PromptsScreen())

    def action_toggle_deleted(self) -> None:
        self.show_deleted = not self.show_deleted
        self.notify("Showing deleted experiments" if self.show_deleted else "Hiding deleted experiments", timeout=2)
        self.load()

    def action_refresh(self) -> None:
        self._stop_counting()
        self.counts = {}
        self.load()


def _haystack(exp: Experiment) -> str:
    return " ".join([exp.name, exp.id, *(f"{k}={v}" for k, v in exp.tags.items())]).lower()


def _count_text(count: int, at_most: int | None) -> Text:
    return Text(format_count(count, at_most), justify="right")


def _tags_text(exp: Experiment) -> Text:
    shown = [f"{k}={v}" for k, v in sorted(exp.tags.items()) if not k.startswith("mlflow.")]
    text = ", ".join(shown)
    return plain(text if len(text) <= 40 else text[:39] + "…")
