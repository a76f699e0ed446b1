"""The registry lists: registered models (`M` on the experiments screen) and prompts (`P`).

Both are pages of the same shape (tui/widgets/registry_table.py) filtered with MLflow's
registered-model grammar (`name LIKE '%bert%'`, `tags.team = 'nlp'`); the next page loads as
the cursor nears the end. Enter opens a model's versions or a prompt's versions. On the
models list, `r` renames, `t` edits tags, `e` edits the description, `d` deletes the model and
all its versions (after a confirmation naming them: the registry has no restore), `y` copies.
"""

from __future__ import annotations

from typing import TypeVar

from textual import on
from textual.binding import Binding

from tracktui.store.base import Store
from tracktui.store.model import Page
from tracktui.store.registry import Prompt, RegisteredModel

from ..registry_actions import (
    copy_model_choices,
    delete_registered_model,
    edit_model_description,
    edit_model_tags,
    rename_registered_model,
)
from ..widgets.registry_table import RegistryTable
from .paged_list import PagedListScreen

PAGE_SIZE = 100
FILTER_PLACEHOLDER = "filter, e.g. name LIKE '%bert%' and tags.team = 'nlp'  (/ to edit)"


Item = TypeVar("Item", RegisteredModel, Prompt)


class RegistryListScreen(PagedListScreen[Item]):
    """A filterable, paged list of registered models or prompts; subclasses say which."""

    FILTER_PLACEHOLDER = FILTER_PLACEHOLDER
    TITLE_TEXT = ""

    def title_text(self) -> str:
        return self.TITLE_TEXT

    def make_table(self) -> RegistryTable:
        return RegistryTable(id="paged-table")

    def unavailable(self, store: Store) -> str | None:
        return None if store.supports_model_registry else "This store has no model registry."

    def item_key(self, item: Item) -> str:
        return item.name

    @property
    def table(self) -> RegistryTable:
        return self.query_one(RegistryTable)


class RegisteredModelsScreen(RegistryListScreen[RegisteredModel]):
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

    def search(self, store: Store, text: str | None, token: str | None) -> tuple[Page[RegisteredModel], None]:
        return store.search_registered_models(text, max_results=PAGE_SIZE, page_token=token), None

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


class PromptsScreen(RegistryListScreen[Prompt]):
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

    def search(self, store: Store, text: str | None, token: str | None) -> tuple[Page[Prompt], None]:
        return store.search_prompts(text, max_results=PAGE_SIZE, page_token=token), None

    @on(RegistryTable.Chosen)
    def _chosen(self, event: RegistryTable.Chosen) -> None:
        event.stop()
        from .prompt import PromptScreen

        self.app.push_screen(PromptScreen(event.name))

    def action_copy(self) -> None:
        item = self.table.current
        if item is not None:
            copy_model_choices(self, item.name, item.aliases, item.latest_version, scheme="prompts")
