"""Traces of an experiment (TracesScreen) or of one run (TracesView on the run's Traces tab).

`TracesView` owns the store calls: the first page for the current filter, then the next page
(page tokens) when the table asks for more. A run's traces are the experiment's traces
matching `run_id = '<run id>'`, which the stores resolve from `mlflow.sourceRun` metadata
(and, on SQL, run links) as mlflow does.
"""

from __future__ import annotations

from textual import getters, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Label, Static

from tracktui.store.errors import FilterSyntaxError, StoreError
from tracktui.store.model import Experiment, Page
from tracktui.store.search import quote_value
from tracktui.store.traces import TraceInfo

from ..app import TrackApp
from ..filter_focus import filter_binding, filter_key_enabled, focus_now
from ..safe_text import plain
from ..widgets.filter_bar import FilterBar
from ..widgets.status_bar import StatusBar
from ..widgets.traces_table import PREFETCH_ROWS, TracesTable

PAGE_SIZE = 100
ORDER_BY = ("timestamp_ms DESC",)
FILTER_PLACEHOLDER = "filter, e.g. status = 'ERROR' and name = 'agent'  (/ to edit)"


class TracesView(Vertical):
    """Filter bar, traces table and a one-line summary; loads when first shown. Its keys
    (mark, delete, edit tags, copy) work wherever it is shown: the traces screen and a run's tab."""

    app = getters.app(TrackApp)

    BINDINGS = [
        Binding("m", "toggle_mark", "Mark trace", show=False, id="traces.mark"),
        Binding("d", "delete_traces", "Delete traces", show=False, id="traces.delete"),
        Binding("t", "edit_tags", "Edit trace tags", show=False, id="traces.tags"),
        Binding("y", "copy", "Copy…", show=False, id="traces.copy"),
    ]

    DEFAULT_CSS = """
    TracesView { height: 1fr; }
    TracesView > #traces-summary { height: 1; color: $text-muted; padding: 0 1; }
    """

    def __init__(self, experiment_id: str | None = None, *, run_id: str | None = None,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.experiment_id = experiment_id
        self.run_id = run_id
        self.filter_text = ""
        self._next_token: str | None = None
        self._loading = False
        self._loaded_once = False
        self._generation = 0
        self._keep: str | None = None  # trace id to put the cursor back on after a reload
        self._keep_within = 0  # traces loaded before that reload: how far to look for it

    def compose(self) -> ComposeResult:
        yield FilterBar(FILTER_PLACEHOLDER, id="traces-filter")
        yield TracesTable(id="traces-table")
        yield Static("Loading traces…", id="traces-summary")

    @property
    def table(self) -> TracesTable:
        return self.query_one(TracesTable)

    def on_show(self) -> None:
        if not self._loaded_once:
            self._loaded_once = True
            self.load_traces()

    def _filter(self) -> str:
        parts = [f"run_id = {quote_value(self.run_id)}"] if self.run_id else []
        if self.filter_text:
            parts.append(self.filter_text)
        return " and ".join(parts)

    def load_traces(self, keep_cursor: bool = False) -> None:
        """Start over: the first page for the current filter. With `keep_cursor`, pages are
        loaded again as far as before, until the trace the cursor was on shows up, and the
        cursor goes back to it."""
        self._generation += 1
        generation = self._generation
        current = self.table.current
        self._keep = current.trace_id if keep_cursor and current is not None else None
        self._keep_within = len(self.table.traces)
        self._next_token = None
        self._loading = True
        self.table.reset()
        self._summary("Loading traces…")
        self._fetch(generation, None)

    def reload(self) -> None:
        """Load again after a write made elsewhere, keeping the cursor (once first shown)."""
        if self._loaded_once:
            self.load_traces(keep_cursor=True)

    def load_more(self) -> None:
        if self._loading or not self._next_token:
            return
        self._loading = True
        self._fetch(self._generation, self._next_token)

    def _fetch(self, generation: int, token: str | None) -> None:
        store, experiment_id, run_id, filter_string = self.app.store, self.experiment_id, self.run_id, self._filter()
        if not store.supports_traces:
            self._loading = False
            self._summary("This store holds no traces.")
            return

        def call() -> tuple[str, Page[TraceInfo]]:
            if experiment_id is not None:
                eid = experiment_id
            else:
                assert run_id is not None, "TracesView is given an experiment or a run"
                eid = store.get_run(run_id).experiment_id
            return eid, store.search_traces([eid], filter_string, PAGE_SIZE, token, ORDER_BY)

        self.app.run_store_call(self, call, lambda result: self._loaded(generation, *result),
                                group="traces", on_error=self._failed)

    def _loaded(self, generation: int, experiment_id: str, page: Page[TraceInfo]) -> None:
        if generation != self._generation:
            return
        self.experiment_id = experiment_id
        self._loading = False
        self._next_token = page.next_page_token
        self.query_one(FilterBar).clear_error()
        self.table.append(list(page.items))
        count = len(self.table.traces)
        if self._keep is not None:
            rows = [i for i, t in enumerate(self.table.traces) if t.trace_id == self._keep]
            if rows:
                self.table.move_cursor(row=rows[0])
            if rows or not self._next_token or count >= self._keep_within:
                self._keep = None
            else:  # not on the pages loaded so far: the next one, as far as the list went before
                self._summary(f"{count} traces loaded, finding the one the cursor was on…")
                self.load_more()
                return
        if self._next_token and self.table.cursor_row >= count - PREFETCH_ROWS:
            self.load_more()  # the cursor is already near the end: no move will ask for more
        if not count:
            self._summary("No traces" + (" match the filter." if self.filter_text else "."))
        else:
            more = ", more below" if self._next_token else ""
            self._summary(f"{count} trace{'s' if count != 1 else ''} loaded{more}. Enter opens one.")

    def _failed(self, error: StoreError) -> bool:
        self._loading = False
        if isinstance(error, FilterSyntaxError):
            self.query_one(FilterBar).show_error(error)
            self._summary("Fix the filter and press Enter.")
            return True
        self._summary(f"Could not load traces: {error.message}")
        return False

    def _summary(self, text: str) -> None:
        self.query_one("#traces-summary", Static).update(plain(text))

    def focus_filter(self) -> None:
        focus_now(self.query_one(FilterBar).input)

    # -- writes (tui/trace_actions.py) --------------------------------------------------------

    def action_toggle_mark(self) -> None:
        self.table.toggle_mark()

    def action_delete_traces(self) -> None:
        traces = self.table.targets()
        if traces and self.experiment_id is not None:
            from ..trace_actions import delete_traces

            delete_traces(self, self.experiment_id, traces, lambda _count: self.load_traces())

    def action_copy(self) -> None:
        if (info := self.table.current) is not None:
            from ..trace_actions import copy_trace

            copy_trace(self, info)

    def action_edit_tags(self) -> None:
        from ..trace_actions import edit_trace_tags

        edit_trace_tags(self, self.table.targets(), lambda: self.load_traces(keep_cursor=True))

    @on(FilterBar.Submitted)
    def _filter_submitted(self, event: FilterBar.Submitted) -> None:
        event.stop()
        self.filter_text = event.text
        self.load_traces()
        focus_now(self.table)

    @on(FilterBar.Left)
    def _filter_left(self, event: FilterBar.Left) -> None:
        event.stop()
        focus_now(self.table)

    @on(TracesTable.NeedMore)
    def _need_more(self, event: TracesTable.NeedMore) -> None:
        event.stop()
        self.load_more()

    @on(TracesTable.Chosen)
    def _chosen(self, event: TracesTable.Chosen) -> None:
        event.stop()
        from .trace import TraceScreen

        self.app.push_screen(TraceScreen(event.trace_id))


class TracesScreen(Screen):
    """An experiment's traces, newest first. Opened from the runs screen (ctrl+t)."""

    AREA = "traces"
    AUTO_FOCUS = "TracesTable"
    BINDINGS = [
        filter_binding("traces"),
        Binding("ctrl+r,f5", "refresh", "Refresh", show=False, id="traces.refresh"),
    ]

    def __init__(self, experiment: Experiment) -> None:
        super().__init__()
        self.experiment = experiment

    def compose(self) -> ComposeResult:
        yield Label(plain(f"Traces · {self.experiment.name}"), id="traces-title", classes="screen-title")
        yield TracesView(self.experiment.id, id="traces-view")
        yield StatusBar()
        yield Footer()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "focus_filter":
            return filter_key_enabled(self)
        return super().check_action(action, parameters)

    def action_focus_filter(self) -> None:
        self.query_one(TracesView).focus_filter()

    def action_refresh(self) -> None:
        self.query_one(TracesView).load_traces()
