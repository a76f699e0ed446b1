"""One registered model: its description, tags and aliases, and every version (newest first)
with aliases, stage, status, source run and creation time.

Enter opens a version's source run. `a` points an alias at the version (moving `@champion` is
how a version is promoted), `A` removes one, `t`/`e` edit the version's tags/description
(`T`/`E` the model's), `s` moves it to a stage (deprecated in MLflow, still shown), `d`
deletes it after naming what goes. `m` marks versions and `C` compares their source runs
(params and metrics side by side, the compare screen); `y` copies `models:/name/3` and
`models:/name@alias`.
"""

from __future__ import annotations

from rich.text import Text
from textual import getters, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, Static

from tracktui.store.base import Store
from tracktui.store.errors import NotFound, StoreError
from tracktui.store.paging import every_item
from tracktui.store.registry import ModelVersion, RegisteredModel
from tracktui.store.search import quote_value

from ..actions import open_copy_menu
from ..app import TrackApp
from ..columns import format_start
from ..registry_actions import (
    delete_alias,
    delete_version,
    edit_model_description,
    edit_model_tags,
    edit_version_description,
    edit_version_tags,
    set_alias,
    transition_stage,
)
from ..safe_text import plain
from ..widgets.registry_table import aliases_text, first_line, tags_text, version_aliases_text
from ..widgets.status_bar import StatusBar
from ..widgets.traces_table import one_line

#: Versions listed at most (MLflow's own UI pages at 10; a model with more is rare).
MAX_VERSIONS = 10_000
#: Source runs looked up by name per load; the rest show their id.
MAX_RUN_LOOKUPS = 50
MARK = "●"


def all_versions(store: Store, name: str) -> list[ModelVersion]:
    """Every version of the model, newest (highest number) first (a store call)."""
    wanted = f"name = {quote_value(name)}"
    versions = every_item(lambda token: store.search_model_versions(wanted, page_token=token), MAX_VERSIONS)
    return sorted((v for v in versions if v.name == name), key=lambda v: int(v.version), reverse=True)


def source_run_names(store: Store, versions: list[ModelVersion]) -> dict[str, str]:
    """Names of the versions' source runs, for the first MAX_RUN_LOOKUPS distinct runs."""
    names: dict[str, str] = {}
    for run_id in dict.fromkeys(v.run_id for v in versions if v.run_id):
        if len(names) >= MAX_RUN_LOOKUPS:
            break
        try:
            names[run_id] = store.get_run(run_id).display_name
        except NotFound:
            names[run_id] = f"{run_id[:8]} (gone)"
    return names


class VersionsTable(DataTable):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="versions.down"),
        Binding("k", "cursor_up", "Up", show=False, id="versions.up"),
    ]


class ModelVersionsScreen(Screen):
    """A registered model and its versions; loaded in a worker, reloaded after each write
    with the cursor kept on its version."""

    app = getters.app(TrackApp)

    AREA = "versions"
    AUTO_FOCUS = "VersionsTable"
    BINDINGS = [
        Binding("enter", "open_run", "Open source run", id="versions.open_run"),
        Binding("a", "set_alias", "Set alias", id="versions.alias"),
        Binding("A", "delete_alias", "Remove alias", show=False, id="versions.delete_alias"),
        Binding("t", "edit_tags", "Version tags", show=False, id="versions.tags"),
        Binding("T", "edit_model_tags", "Model tags", show=False, id="versions.model_tags"),
        Binding("e", "edit_description", "Version description", show=False, id="versions.description"),
        Binding("E", "edit_model_description", "Model description", show=False, id="versions.model_description"),
        Binding("s", "stage", "Stage", show=False, id="versions.stage"),
        Binding("d", "delete", "Delete version", show=False, id="versions.delete"),
        Binding("m", "toggle_mark", "Mark", show=False, id="versions.mark"),
        Binding("C", "compare", "Compare runs", id="versions.compare"),
        Binding("y", "copy", "Copy…", id="versions.copy"),
        Binding("ctrl+r,f5", "refresh", "Refresh", show=False, id="versions.refresh"),
    ]
    DEFAULT_CSS = """
    ModelVersionsScreen > #versions-header { height: auto; max-height: 6; padding: 0 1; }
    ModelVersionsScreen > VersionsTable { height: 1fr; }
    ModelVersionsScreen > #versions-summary { height: 1; color: $text-muted; padding: 0 1; }
    """

    def __init__(self, name: str, focus_version: str | None = None) -> None:
        """`focus_version`: put the cursor on that version once loaded."""
        super().__init__()
        self.model_name = name
        self.model: RegisteredModel | None = None
        self.versions: list[ModelVersion] = []
        self.run_names: dict[str, str] = {}
        self.marked: set[str] = set()
        self._keep: str | None = focus_version

    def compose(self) -> ComposeResult:
        yield Label(plain(f"Registered model · {self.model_name}"), classes="screen-title")
        yield Static("", id="versions-header")
        yield VersionsTable(id="versions-table", cursor_type="row", zebra_stripes=False)
        yield Static("Loading versions…", id="versions-summary")
        yield StatusBar()
        yield Footer()

    @property
    def table(self) -> VersionsTable:
        return self.query_one(VersionsTable)

    def on_mount(self) -> None:
        table = self.table
        keep = self._keep
        for key, label, width in (("mark", " ", 1), ("version", "Version", 7), ("aliases", "Aliases", 18),
                                  ("stage", "Stage", 10), ("status", "Status", 8), ("run", "Source run", None),
                                  ("created", "Created", 16), ("description", "Description", None)):
            table.add_column(label, key=key, width=width)
        self.load(keep)

    def load(self, keep: str | None = None) -> None:
        """(Re)load the model and its versions; the cursor goes back to version `keep`."""
        self._keep = keep if keep is not None else (self.current.version if self.current else None)
        store, name = self.app.store, self.model_name

        def call() -> tuple[RegisteredModel, list[ModelVersion], dict[str, str]]:
            model = store.get_registered_model(name)
            versions = all_versions(store, name)
            return model, versions, source_run_names(store, versions)

        self.app.run_store_call(self, call, self._loaded, group="versions", on_error=self._failed)

    def _loaded(self, result: tuple[RegisteredModel, list[ModelVersion], dict[str, str]]) -> None:
        self.model, self.versions, self.run_names = result
        self.marked &= {v.version for v in self.versions}
        self._show_header()
        table = self.table
        table.clear()
        for v in self.versions:
            run = self.run_names.get(v.run_id or "", (v.run_id or "")[:8]) or "—"
            table.add_row(
                Text(MARK if v.version in self.marked else " ", style="bold"),
                Text(f"v{v.version}", justify="right"),
                one_line(version_aliases_text(v.aliases), 18),
                plain(v.current_stage),
                plain(v.status),
                one_line(run, 40),
                plain(format_start(v.creation_timestamp)),
                one_line(first_line(v.description), 60),
                key=v.version,
            )
        keep = [v.version for v in self.versions]
        if self._keep in keep:
            table.move_cursor(row=keep.index(self._keep))
        count = len(self.versions)
        marked = f" · {len(self.marked)} marked" if self.marked else ""
        self._summary(f"{count} version{'s' if count != 1 else ''}{marked}. Enter opens the source run; "
                      "a sets an alias.")

    def _failed(self, error: StoreError) -> bool:
        self._summary(f"Could not load {self.model_name}: {error.message}")
        return False

    def _show_header(self) -> None:
        model = self.model
        if model is None:
            return
        lines = Text()
        description = (model.description or "").strip()
        if description:
            lines.append_text(plain(description, multiline=True))
            lines.append("\n")
        lines.append("Aliases: ", style="bold")
        lines.append_text(plain(aliases_text(model.aliases) or "none"))
        lines.append("   Tags: ", style="bold")
        lines.append_text(plain(tags_text(model.tags) or "none"))
        lines.append("   Updated: ", style="bold")
        lines.append(format_start(model.last_updated_timestamp))
        self.query_one("#versions-header", Static).update(lines)

    def _summary(self, text: str) -> None:
        self.query_one("#versions-summary", Static).update(plain(text))

    @property
    def current(self) -> ModelVersion | None:
        row = self.table.cursor_row
        if not self.versions or not 0 <= row < len(self.versions):
            return None
        return self.versions[row]

    def _reload(self) -> None:
        self.load()

    # -- keys ------------------------------------------------------------------------------

    def action_open_run(self) -> None:
        version = self.current
        if version is None:
            return
        if not version.run_id:
            self.notify(f"Version {version.version} was registered from {version.source or 'no run'}.", timeout=4)
            return
        from .run import RunScreen

        self.app.push_screen(RunScreen(version.run_id))

    def action_set_alias(self) -> None:
        if (version := self.current) is not None and self.model is not None:
            set_alias(self, version.name, version.version, self.model.aliases, self._reload)

    def action_delete_alias(self) -> None:
        if (version := self.current) is not None:
            delete_alias(self, version.name, version.version, version.aliases, self._reload)

    def action_edit_tags(self) -> None:
        if (version := self.current) is not None:
            edit_version_tags(self, version, self._reload)

    def action_edit_model_tags(self) -> None:
        if self.model is not None:
            edit_model_tags(self, self.model, self._reload)

    def action_edit_description(self) -> None:
        if (version := self.current) is not None:
            edit_version_description(self, version, self._reload)

    def action_edit_model_description(self) -> None:
        if self.model is not None:
            edit_model_description(self, self.model, self._reload)

    def action_stage(self) -> None:
        if (version := self.current) is not None:
            transition_stage(self, version, self._reload)

    def action_delete(self) -> None:
        version = self.current
        if version is None:
            return
        row = self.table.cursor_row
        neighbour = self.versions[row + 1] if row + 1 < len(self.versions) else (
            self.versions[row - 1] if row > 0 else None)
        delete_version(self, version, lambda: self.load(keep=neighbour.version if neighbour else None))

    def action_toggle_mark(self) -> None:
        version = self.current
        if version is None:
            return
        self.marked ^= {version.version}
        self.table.update_cell(version.version, "mark", Text(MARK if version.version in self.marked else " ",
                                                             style="bold"))
        self.table.move_cursor(row=min(self.table.cursor_row + 1, len(self.versions) - 1))
        self._summary(f"{len(self.marked)} marked. C compares their source runs.")

    def action_compare(self) -> None:
        chosen = [v for v in self.versions if v.version in self.marked]
        if len(chosen) == 1 and self.current is not None and self.current.version not in self.marked:
            chosen.append(self.current)
        run_ids = list(dict.fromkeys(v.run_id for v in chosen if v.run_id))
        if len(run_ids) < 2:
            self.notify("Mark (m) two versions made from different runs to compare them.", timeout=4)
            return
        from .compare import CompareScreen

        self.app.push_screen(CompareScreen(run_ids))

    def action_copy(self) -> None:
        version = self.current
        if version is None:
            return
        choices: list[tuple[str, str, str | None]] = [
            ("v", f"URI of version {version.version}", version.uri),
        ]
        letters = iter("abcfghjklopqrtuwxz")
        for alias in sorted(version.aliases):
            choices.append((next(letters, ""), f"URI of @{alias}", f"models:/{version.name}@{alias}"))
        choices += [("n", "model name", version.name), ("i", "source run ID", version.run_id),
                    ("s", "source", version.source), ("m", "logged model ID", version.model_id)]
        open_copy_menu(self, [c for c in choices if c[0]])

    def action_refresh(self) -> None:
        self.load()

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_run()
