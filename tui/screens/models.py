"""An experiment's MLflow 3 logged models (ModelsScreen), opened with `L` from the runs screen.

The screen owns the store calls: the first page for the current filter (MLflow's logged-model
grammar, e.g. `metrics.acc > 0.9 and tags.stage = 'prod'`), then the next page when the table
asks for more. Source runs show by name: the names of a page's source runs are read in the
same worker (a few distinct runs per page; ids are shown past `MAX_NAME_LOOKUPS`).
"""

from __future__ import annotations

from textual import getters, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Label, Static

from tracktui.store.errors import FilterSyntaxError, NotFound, StoreError
from tracktui.store.logged_models import LoggedModel
from tracktui.store.model import Experiment, Page

from ..app import TrackApp
from ..safe_text import plain
from ..widgets.filter_bar import FilterBar
from ..widgets.models_table import ModelsTable
from ..widgets.status_bar import StatusBar

PAGE_SIZE = 100
MAX_NAME_LOOKUPS = 20
FILTER_PLACEHOLDER = "filter, e.g. metrics.acc > 0.9 and tags.stage = 'prod'  (/ to edit)"


def run_names(store, models: list[LoggedModel], known: dict[str, str]) -> dict[str, str]:
    """Names of the models' source runs (store calls: run in a worker)."""
    out = dict(known)
    for run_id in dict.fromkeys(m.source_run_id for m in models if m.source_run_id):
        if run_id in out or len(out) >= MAX_NAME_LOOKUPS + len(known):
            continue
        try:
            out[run_id] = store.get_run(run_id).name or run_id[:8]
        except NotFound:
            out[run_id] = f"{run_id[:8]} (gone)"
    return out


class ModelsScreen(Screen):
    """Logged models of one experiment, newest first; Enter opens one."""

    app = getters.app(TrackApp)

    AREA = "models"
    AUTO_FOCUS = "ModelsTable"
    BINDINGS = [
        Binding("slash", "focus_filter", "Filter", id="models.filter"),
        Binding("ctrl+r,f5", "refresh", "Refresh", show=False, id="models.refresh"),
    ]
    DEFAULT_CSS = """
    ModelsScreen > #models-summary { height: 1; color: $text-muted; padding: 0 1; }
    """

    def __init__(self, experiment: Experiment) -> None:
        super().__init__()
        self.experiment = experiment
        self.filter_text = ""
        self._names: dict[str, str] = {}
        self._next_token: str | None = None
        self._loading = False
        self._generation = 0

    def compose(self) -> ComposeResult:
        yield Label(f"Logged models · {self.experiment.name}", id="models-title", classes="screen-title")
        yield FilterBar(FILTER_PLACEHOLDER, id="models-filter")
        yield ModelsTable(id="models-table")
        yield Static("Loading models…", id="models-summary")
        yield StatusBar()
        yield Footer()

    @property
    def table(self) -> ModelsTable:
        return self.query_one(ModelsTable)

    def on_mount(self) -> None:
        self.load_first_page()

    def load_first_page(self) -> None:
        """Start over: the first page for the current filter."""
        self._generation += 1
        self._next_token = None
        self._loading = True
        self.table.reset()
        self._summary("Loading models…")
        self._fetch(self._generation, None)

    def load_more(self) -> None:
        if self._loading or not self._next_token:
            return
        self._loading = True
        self._fetch(self._generation, self._next_token)

    def _fetch(self, generation: int, token: str | None) -> None:
        store, eid, text, known = self.app.store, self.experiment.id, self.filter_text, dict(self._names)
        if not store.supports_logged_models:
            self._loading = False
            self._summary("This store holds no logged models (they came with MLflow 3).")
            return

        def call() -> tuple[Page[LoggedModel], dict[str, str]]:
            page = store.search_logged_models([eid], text or None, max_results=PAGE_SIZE, page_token=token)
            return page, run_names(store, list(page.items), known)

        self.app.run_store_call(self, call, lambda result: self._loaded(generation, *result),
                                group="models", on_error=self._failed)

    def _loaded(self, generation: int, page: Page[LoggedModel], names: dict[str, str]) -> None:
        if generation != self._generation:
            return
        self._loading = False
        self._names = names
        self._next_token = page.next_page_token
        self.query_one(FilterBar).clear_error()
        self.table.append(list(page.items), names)
        count = len(self.table.models)
        if not count:
            self._summary("No logged models" + (" match the filter." if self.filter_text else " in this experiment."))
        else:
            more = ", more below" if self._next_token else ""
            self._summary(f"{count} model{'s' if count != 1 else ''} loaded{more}. Enter opens one.")

    def _failed(self, error: StoreError) -> bool:
        self._loading = False
        if isinstance(error, FilterSyntaxError):
            self.query_one(FilterBar).show_error(error)
            self._summary("Fix the filter and press Enter.")
            return True
        self._summary(f"Could not load models: {error.message}")
        return False

    def _summary(self, text: str) -> None:
        self.query_one("#models-summary", Static).update(plain(text))  # may quote store text

    def action_focus_filter(self) -> None:
        self.query_one(FilterBar).input.focus()

    def action_refresh(self) -> None:
        self.load_first_page()

    @on(FilterBar.Submitted)
    def _filter_submitted(self, event: FilterBar.Submitted) -> None:
        event.stop()
        self.filter_text = event.text
        self.load_first_page()
        self.table.focus()

    @on(FilterBar.Left)
    def _filter_left(self, event: FilterBar.Left) -> None:
        event.stop()
        self.table.focus()

    @on(ModelsTable.NeedMore)
    def _need_more(self, event: ModelsTable.NeedMore) -> None:
        event.stop()
        self.load_more()

    @on(ModelsTable.Chosen)
    def _chosen(self, event: ModelsTable.Chosen) -> None:
        event.stop()
        from .logged_model import LoggedModelScreen

        self.app.push_screen(LoggedModelScreen(event.model_id))
