"""The registry lists: registered models (`M` on the experiments screen) and prompts (`P`).

Both are pages of the same shape (tui/widgets/registry_table.py) filtered with MLflow's
registered-model grammar (`name LIKE '%bert%'`, `tags.team = 'nlp'`); the next page loads as
the cursor nears the end. Enter opens a model's versions or a prompt's versions. On the
models list, `r` renames, `t` edits tags, `e` edits the description, `d` deletes the model and
all its versions (after a confirmation naming them: the registry has no restore), `y` copies.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import getters, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Label, Static

from tracktui.store.base import Store
from tracktui.store.errors import FilterSyntaxError, StoreError
from tracktui.store.model import Page
from tracktui.store.registry import Prompt, RegisteredModel

from ..app import TrackApp
from ..registry_actions import (
    copy_model_choices,
    delete_registered_model,
    edit_model_description,
    edit_model_tags,
    rename_registered_model,
)
from ..safe_text import plain
from ..widgets.filter_bar import FilterBar
from ..widgets.registry_table import RegistryTable
from ..widgets.status_bar import StatusBar

PAGE_SIZE = 100
FILTER_PLACEHOLDER = "filter, e.g. name LIKE '%bert%' and tags.team = 'nlp'  (/ to edit)"


class RegistryListScreen(Screen):
    """A filterable, paged list of registered models or prompts; subclasses say which."""

    app = getters.app(TrackApp)

    TITLE_TEXT = ""
    NOUN = "item"
    DEFAULT_CSS = """
    RegistryListScreen > .registry-summary { height: 1; color: $text-muted; padding: 0 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.filter_text = ""
        self._next_token: str | None = None
        self._loading = False
        self._generation = 0
        #: The row to put the cursor on once the list has reloaded (after a write).
        self._keep_name: str | None = None

    def compose(self) -> ComposeResult:
        yield Label(self.TITLE_TEXT, classes="screen-title")
        yield FilterBar(FILTER_PLACEHOLDER, id="registry-filter")
        yield RegistryTable(id="registry-table")
        yield Static("Loading…", classes="registry-summary")
        yield StatusBar()
        yield Footer()

    @property
    def table(self) -> RegistryTable:
        return self.query_one(RegistryTable)

    def on_mount(self) -> None:
        self.load_first_page()

    def search(self, store: Store, text: str | None, token: str | None) -> Page:
        raise NotImplementedError

    def load_first_page(self, keep: str | None = None) -> None:
        """Start over: the first page for the current filter; the cursor goes back to `keep`."""
        self._keep_name = keep
        self._generation += 1
        self._next_token = None
        self._loading = True
        self._summary("Loading…")
        self._fetch(self._generation, None)

    def load_more(self) -> None:
        if self._loading or not self._next_token:
            return
        self._loading = True
        self._fetch(self._generation, self._next_token)

    def _fetch(self, generation: int, token: str | None) -> None:
        store, text = self.app.store, self.filter_text or None
        if not store.supports_model_registry:
            self._loading = False
            self.table.reset()
            self._summary("This store has no model registry.")
            return
        self.app.run_store_call(self, lambda: self.search(store, text, token),
                                lambda page: self._loaded(generation, token is None, page),
                                group="registry", on_error=self._failed)

    def _loaded(self, generation: int, first: bool, page: Page) -> None:
        if generation != self._generation:
            return
        self._loading = False
        self._next_token = page.next_page_token
        self.query_one(FilterBar).clear_error()
        if first:
            self.table.reset()  # only now: the old rows stay on screen while the page loads
        self.table.append(list(page.items))
        if first and self._keep_name is not None:
            names = [i.name for i in self.table.items]
            if self._keep_name in names:
                self.table.move_cursor(row=names.index(self._keep_name))
            self._keep_name = None
        count = len(self.table.items)
        noun = self.NOUN if count == 1 else f"{self.NOUN}s"
        if not count:
            self._summary(f"No {self.NOUN}s" + (" match the filter." if self.filter_text else "."))
        else:
            more = ", more below" if self._next_token else ""
            self._summary(f"{count} {noun} loaded{more}. Enter opens one.")

    def _failed(self, error: StoreError) -> bool:
        self._loading = False
        if isinstance(error, FilterSyntaxError):
            self.query_one(FilterBar).show_error(error)
            self._summary("Fix the filter and press Enter.")
            return True
        self._summary(f"Could not load {self.NOUN}s: {error.message}")
        return False

    def _summary(self, text: str) -> None:
        self.query_one(".registry-summary", Static).update(plain(text))

    def action_focus_filter(self) -> None:
        self.query_one(FilterBar).input.focus()

    def action_refresh(self) -> None:
        current = self.table.current
        self.load_first_page(keep=current.name if current else None)

    def reload_keeping(self, name: str | None) -> Callable[[], None]:
        """What a write calls when done: reload with the cursor on `name`."""
        return lambda: self.load_first_page(keep=name)

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

    @on(RegistryTable.NeedMore)
    def _need_more(self, event: RegistryTable.NeedMore) -> None:
        event.stop()
        self.load_more()


class RegisteredModelsScreen(RegistryListScreen):
    """Registered models (prompts left out, as MLflow's Models page), by name."""

    AREA = "registry"
    AUTO_FOCUS = "RegistryTable"
    TITLE_TEXT = "Registered models"
    NOUN = "registered model"
    BINDINGS = [
        Binding("slash", "focus_filter", "Filter", id="registry.filter"),
        Binding("r", "rename", "Rename model", show=False, id="registry.rename"),
        Binding("t", "edit_tags", "Edit tags", show=False, id="registry.tags"),
        Binding("e", "edit_description", "Edit description", show=False, id="registry.description"),
        Binding("d", "delete", "Delete model", show=False, id="registry.delete"),
        Binding("y", "copy", "Copy…", show=False, id="registry.copy"),
        Binding("ctrl+r,f5", "refresh", "Refresh", show=False, id="registry.refresh"),
    ]

    def search(self, store: Store, text: str | None, token: str | None) -> Page[RegisteredModel]:
        return store.search_registered_models(text, max_results=PAGE_SIZE, page_token=token)

    @property
    def current_model(self) -> RegisteredModel | None:
        item = self.table.current
        return item if isinstance(item, RegisteredModel) else None

    @on(RegistryTable.Chosen)
    def _chosen(self, event: RegistryTable.Chosen) -> None:
        event.stop()
        from .model_versions import ModelVersionsScreen

        self.app.push_screen(ModelVersionsScreen(event.name))

    def action_rename(self) -> None:
        if (model := self.current_model) is not None:
            rename_registered_model(self, model.name, lambda new: self.load_first_page(keep=new))

    def action_edit_tags(self) -> None:
        if (model := self.current_model) is not None:
            edit_model_tags(self, model, self.reload_keeping(model.name))

    def action_edit_description(self) -> None:
        if (model := self.current_model) is not None:
            edit_model_description(self, model, self.reload_keeping(model.name))

    def action_delete(self) -> None:
        if (model := self.current_model) is not None:
            row = self.table.cursor_row
            names = [i.name for i in self.table.items]
            neighbour = names[row + 1] if row + 1 < len(names) else (names[row - 1] if row > 0 else None)
            delete_registered_model(self, model.name, self.reload_keeping(neighbour))

    def action_copy(self) -> None:
        if (model := self.current_model) is not None:
            copy_model_choices(self, model.name, model.aliases, model.latest_version)


class PromptsScreen(RegistryListScreen):
    """Prompts of the prompt registry, by name; Enter opens one's versions and templates."""

    AREA = "prompts"
    AUTO_FOCUS = "RegistryTable"
    TITLE_TEXT = "Prompts"
    NOUN = "prompt"
    BINDINGS = [
        Binding("slash", "focus_filter", "Filter", id="prompts.filter"),
        Binding("y", "copy", "Copy…", show=False, id="prompts.copy"),
        Binding("ctrl+r,f5", "refresh", "Refresh", show=False, id="prompts.refresh"),
    ]

    def search(self, store: Store, text: str | None, token: str | None) -> Page[Prompt]:
        return store.search_prompts(text, max_results=PAGE_SIZE, page_token=token)

    @on(RegistryTable.Chosen)
    def _chosen(self, event: RegistryTable.Chosen) -> None:
        event.stop()
        from .prompt import PromptScreen

        self.app.push_screen(PromptScreen(event.name))

    def action_copy(self) -> None:
        item = self.table.current
        if item is not None:
            copy_model_choices(self, item.name, item.aliases, item.latest_version, scheme="prompts")
