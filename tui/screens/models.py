"""An experiment's MLflow 3 logged models (ModelsScreen), opened with `L` from the runs screen.

The screen owns the store calls: the first page for the current filter (MLflow's logged-model
grammar, e.g. `metrics.acc > 0.9 and tags.stage = 'prod'`), then the next page when the table
asks for more. Source runs show by name: the names of a page's source runs are read in the
same worker (a few distinct runs per page; ids are shown past `MAX_NAME_LOOKUPS`).
"""

from __future__ import annotations

from textual import on
from textual.binding import Binding

from tracktui.store.base import Store
from tracktui.store.errors import NotFound
from tracktui.store.logged_models import LoggedModel
from tracktui.store.model import Experiment, Page

from ..widgets.models_table import ModelsTable
from .paged_list import PagedListScreen

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


class ModelsScreen(PagedListScreen[LoggedModel]):
    """Logged models of one experiment, newest first; Enter opens one."""

    AREA = "models"
    AUTO_FOCUS = "ModelsTable"
    NOUN = "model"
    FILTER_PLACEHOLDER = FILTER_PLACEHOLDER
    BINDINGS = [
        Binding("slash", "focus_filter", "Filter", id="models.filter"),
        Binding("ctrl+r,f5", "refresh", "Refresh", show=False, id="models.refresh"),
    ]

    def __init__(self, experiment: Experiment) -> None:
        super().__init__()
        self.experiment = experiment
        self._names: dict[str, str] = {}

    def title_text(self) -> str:
        return f"Logged models · {self.experiment.name}"

    def make_table(self) -> ModelsTable:
        return ModelsTable(id="paged-table")

    def unavailable(self, store: Store) -> str | None:
        if store.supports_logged_models:
            return None
        return "This store holds no logged models (they came with MLflow 3)."

    def item_key(self, item: LoggedModel) -> str:
        return item.model_id

    def search(self, store: Store, text: str | None, token: str | None) -> tuple[Page[LoggedModel], dict[str, str]]:
        page = store.search_logged_models([self.experiment.id], text, max_results=PAGE_SIZE, page_token=token)
        names = run_names(store, list(page.items), dict(self._names))
        self._names = names  # only ever grows: a lookup made twice costs nothing
        return page, names

    @on(ModelsTable.Chosen)
    def _chosen(self, event: ModelsTable.Chosen) -> None:
        event.stop()
        from .logged_model import LoggedModelScreen

        self.app.push_screen(LoggedModelScreen(event.model_id))
