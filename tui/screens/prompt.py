"""One prompt: its versions (newest first) beside the selected version's template, shown whole
with its `{{ variables }}` picked out, and its commit message, model config and aliases.

`m` marks a version as the diff base: the template pane then shows the word-level changes from
the marked version to the selected one (`m` on the marked version clears it). `a`/`A` set and
remove aliases (a prompt's aliases are registered-model aliases), `y` copies `prompts:/name/3`
and `prompts:/name@alias`.
"""

from __future__ import annotations

from rich.text import Text
from textual import getters, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, Static

from tracktui.store.errors import StoreError
from tracktui.store.paging import every_item
from tracktui.store.registry import Prompt, PromptVersion

from ..actions import open_copy_menu
from ..app import TrackApp
from ..columns import format_start
from ..prompt_text import diff_counts, highlighted_template, readable_template, word_diff
from ..registry_actions import delete_alias, set_alias
from ..safe_text import plain
from ..widgets.registry_table import aliases_text, first_line, tags_text, version_aliases_text
from ..widgets.status_bar import StatusBar
from ..widgets.traces_table import one_line

MAX_VERSIONS = 10_000


class PromptVersionsTable(DataTable):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="prompt_versions.down"),
        Binding("k", "cursor_up", "Up", show=False, id="prompt_versions.up"),
    ]


class PromptScreen(Screen):
    app = getters.app(TrackApp)

    AREA = "prompt"
    AUTO_FOCUS = "PromptVersionsTable"
    BINDINGS = [
        Binding("m", "toggle_base", "Diff base", id="prompt.diff_base"),
        Binding("a", "set_alias", "Set alias", id="prompt.alias"),
        Binding("A", "delete_alias", "Remove alias", show=False, id="prompt.delete_alias"),
        Binding("y", "copy", "Copy…", id="prompt.copy"),
        Binding("ctrl+r,f5", "refresh", "Refresh", show=False, id="prompt.refresh"),
    ]
    DEFAULT_CSS = """
    PromptScreen > #prompt-header { height: auto; max-height: 4; padding: 0 1; }
    PromptScreen > Horizontal { height: 1fr; }
    PromptScreen PromptVersionsTable { width: 2fr; min-width: 30; height: 1fr; }
    PromptScreen #prompt-body { width: 3fr; height: 1fr; border-left: tall $panel; padding: 0 1; }
    PromptScreen #prompt-facts { color: $text-muted; margin-bottom: 1; }
    PromptScreen > #prompt-summary { height: 1; color: $text-muted; padding: 0 1; }
    """

    def __init__(self, name: str) -> None:
        super().__init__()
        self.prompt_name = name
        self.prompt: Prompt | None = None
        self.versions: list[PromptVersion] = []
        self.base: str | None = None
        self._keep: str | None = None

    def compose(self) -> ComposeResult:
        yield Label(plain(f"Prompt · {self.prompt_name}"), classes="screen-title")
        yield Static("", id="prompt-header")
        with Horizontal():
            yield PromptVersionsTable(id="prompt-versions", cursor_type="row", zebra_stripes=False)
            with VerticalScroll(id="prompt-body"):
                yield Static("", id="prompt-facts")
                yield Static("", id="prompt-template")
        yield Static("Loading versions…", id="prompt-summary")
        yield StatusBar()
        yield Footer()

    @property
    def table(self) -> PromptVersionsTable:
        return self.query_one(PromptVersionsTable)

    def on_mount(self) -> None:
        for key, label, width in (("version", "Version", 7), ("aliases", "Aliases", 14),
                                  ("created", "Created", 16), ("message", "Commit message", None)):
            self.table.add_column(label, key=key, width=width)
        self.load()

    def load(self) -> None:
        current = self.current
        self._keep = current.version if current else None
        store, name = self.app.store, self.prompt_name

        def call() -> tuple[Prompt, list[PromptVersion]]:
            prompt = store.get_prompt(name)
            versions = every_item(lambda token: store.search_prompt_versions(name, page_token=token), MAX_VERSIONS)
            return prompt, sorted(versions, key=lambda v: int(v.version), reverse=True)

        self.app.run_store_call(self, call, self._loaded, group="prompt", on_error=self._failed)

    def _loaded(self, result: tuple[Prompt, list[PromptVersion]]) -> None:
        self.prompt, self.versions = result
        if self.base not in {v.version for v in self.versions}:
            self.base = None
        header = Text()
        if (self.prompt.description or "").strip():
            header.append_text(plain(self.prompt.description, multiline=True))
            header.append("\n")
        header.append("Aliases: ", style="bold")
        header.append_text(plain(aliases_text(self.prompt.aliases) or "none"))
        header.append("   Tags: ", style="bold")
        header.append_text(plain(tags_text(self.prompt.tags) or "none"))
        self.query_one("#prompt-header", Static).update(header)
        table = self.table
        table.clear()
        for v in self.versions:
            table.add_row(
                Text(("◆ " if v.version == self.base else "") + f"v{v.version}", justify="right"),
                one_line(version_aliases_text(v.aliases), 14),
                plain(format_start(v.creation_timestamp)),
                one_line(first_line(v.commit_message), 60),
                key=v.version,
            )
        numbers = [v.version for v in self.versions]
        if self._keep in numbers:
            table.move_cursor(row=numbers.index(self._keep))
        self._show_version()

    def _failed(self, error: StoreError) -> bool:
        self._summary(f"Could not load prompt {self.prompt_name}: {error.message}")
        return False

    @property
    def current(self) -> PromptVersion | None:
        row = self.table.cursor_row
        if not self.versions or not 0 <= row < len(self.versions):
            return None
        return self.versions[row]

    def _base_version(self) -> PromptVersion | None:
        return next((v for v in self.versions if v.version == self.base), None)

    def _show_version(self) -> None:
        version = self.current
        facts = self.query_one("#prompt-facts", Static)
        body = self.query_one("#prompt-template", Static)
        if version is None:
            facts.update("")
            body.update(plain("This prompt has no versions."))
            self._summary("0 versions.")
            return
        text = readable_template(version.template, version.prompt_type)
        lines = Text()
        lines.append(f"v{version.version}", style="bold")
        lines.append(f" · {version.prompt_type} · {format_start(version.creation_timestamp)}")
        if version.user_id:
            lines.append_text(plain(f" · {version.user_id}"))
        if version.aliases:
            lines.append_text(plain(" · " + version_aliases_text(version.aliases)))
        variables = version.variables
        lines.append("\nVariables: ", style="bold")
        lines.append_text(plain(", ".join(variables) if variables else "none"))
        if version.commit_message:
            lines.append("\nCommit message: ", style="bold")
            lines.append_text(plain(version.commit_message, multiline=True))
        if version.model_config:
            lines.append("\nModel config: ", style="bold")
            lines.append_text(plain(version.model_config, multiline=True))
        if version.response_format:
            lines.append("\nResponse format: ", style="bold")
            lines.append_text(plain(version.response_format, multiline=True))
        if version.tags:
            lines.append("\nTags: ", style="bold")
            lines.append_text(plain(tags_text(version.tags)))
        base = self._base_version()
        if base is not None and base.version != version.version:
            old = readable_template(base.template, base.prompt_type)
            added, removed = diff_counts(old, text)
            lines.append(f"\nChanges from v{base.version}: ", style="bold")
            lines.append(f"+{added} −{removed} words")
            body.update(word_diff(old, text))
        else:
            body.update(highlighted_template(text))
        facts.update(lines)
        count = len(self.versions)
        hint = f"diff base v{base.version}; m on it clears" if base else "m marks a diff base"
        self._summary(f"{count} version{'s' if count != 1 else ''} · {hint}.")

    def _summary(self, text: str) -> None:
        self.query_one("#prompt-summary", Static).update(plain(text))

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show_version()

    def action_toggle_base(self) -> None:
        version = self.current
        if version is None:
            return
        self.base = None if self.base == version.version else version.version
        for v in self.versions:
            self.table.update_cell(v.version, "version",
                                   Text(("◆ " if v.version == self.base else "") + f"v{v.version}", justify="right"))
        self._show_version()

    def action_set_alias(self) -> None:
        if (version := self.current) is not None and self.prompt is not None:
            set_alias(self, version.name, version.version, self.prompt.aliases, self.load)

    def action_delete_alias(self) -> None:
        if (version := self.current) is not None:
            delete_alias(self, version.name, version.version, version.aliases, self.load)

    def action_copy(self) -> None:
        version = self.current
        if version is None:
            return
        choices: list[tuple[str, str, str | None]] = [("v", f"URI of version {version.version}", version.uri)]
        letters = iter("abcdefghijklopqrsuwxz")
        for alias in sorted(version.aliases):
            choices.append((next(letters, ""), f"URI of @{alias}", f"prompts:/{version.name}@{alias}"))
        choices += [("n", "prompt name", version.name), ("t", "template", version.template)]
        open_copy_menu(self, [c for c in choices if c[0]])

    def action_refresh(self) -> None:
        self.load()
