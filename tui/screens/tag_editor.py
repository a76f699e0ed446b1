"""TagEditor: add, change and delete the tags of one run, of several marked runs, of an
experiment, or of one or several traces.

Edits are collected and applied together when the user saves (ctrl+s), so a half-typed edit
never reaches the store. Keys and values are checked with the store's own rules
(store.validation) as they are entered; the error shows inline under the inputs, and a
warning names what an `mlflow.*` tag changes before it is written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Static

from tracktui.store.errors import StoreError
from tracktui.store.model import NOTE_TAG
from tracktui.store.validation import reserved_tag_warning, validate_run_tag

from ..safe_text import inert, plain

#: Shown in the value column when the runs (or traces) being edited disagree.
VARIES = "‹differs between them›"


@dataclass
class TagChanges:
    """What the user asked for: keys to set (to one value on every run) and keys to delete."""

    set: dict[str, str] = field(default_factory=dict)
    delete: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.set or self.delete)


def merged_tags(tag_sets: Sequence[Mapping[str, str]]) -> dict[str, str | None]:
    """Every key any of the runs has; its value when all runs agree, else None."""
    merged: dict[str, str | None] = {}
    for tags in tag_sets:
        for key, value in tags.items():
            if key in merged and merged[key] != value:
                merged[key] = None
            else:
                merged.setdefault(key, value)
    for key in merged:
        if any(key not in tags for tags in tag_sets):
            merged[key] = None
    return dict(sorted(merged.items()))


class TagEditor(ModalScreen["TagChanges | None"]):
    """Dismisses with TagChanges (ctrl+s) or None (Esc)."""

    AREA = "tags"
    DEFAULT_CSS = """
    TagEditor { align: center middle; }
    TagEditor > Vertical {
        width: 90%; max-width: 110; height: 90%; padding: 0 1;
        border: thick $primary 60%; background: $surface;
    }
    TagEditor .tags-title { text-style: bold; }
    TagEditor DataTable { height: 1fr; margin: 1 0; }
    TagEditor Horizontal { height: auto; }
    TagEditor #tag-key { width: 1fr; }
    TagEditor #tag-value { width: 2fr; }
    TagEditor .tags-error { color: $error; height: auto; }
    TagEditor .tags-warning { color: $warning; height: auto; }
    TagEditor .tags-hint { color: $text-muted; }
    """
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="tags.save"),
        Binding("delete,x", "delete_tag", "Delete tag", id="tags.delete"),
        Binding("a", "add_tag", "Add tag", id="tags.add"),
        Binding("escape", "cancel", "Cancel", id="tags.cancel"),
    ]

    def __init__(self, subject: str, tag_sets: Sequence[Mapping[str, str]],
                 validate: Callable[[str, str], None] = validate_run_tag) -> None:
        """`validate(key, value)` raises the store's error for a tag it would refuse (run tags
        by default; experiment tags have their own limits)."""
        super().__init__()
        self.subject = subject
        self.validate = validate
        self.original = merged_tags(tag_sets)
        self.changes = TagChanges()
        self._shown: dict[str, str] = {}  # inert text in the inputs -> the stored text it shows

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain(f"Tags of {self.subject}"), classes="tags-title")
            yield DataTable(id="tags-table", cursor_type="row", zebra_stripes=False)
            with Horizontal():
                yield Input(placeholder="key", id="tag-key")
                yield Input(placeholder="value", id="tag-value")
            yield Static("", id="tags-error", classes="tags-error", markup=False)
            yield Static("", id="tags-warning", classes="tags-warning", markup=False)
            yield Static(
                "enter on a row edits it · a adds · x/del deletes · enter in value stages · "
                "ctrl+s saves · esc cancels",
                classes="tags-hint",
            )

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("Key", key="key")
        table.add_column("Value", key="value")
        table.add_column("", key="state")
        self._fill()
        table.focus()

    # -- display ---------------------------------------------------------------------------

    def _fill(self) -> None:
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        keys = sorted(set(self.original) | set(self.changes.set))
        for key in keys:
            if key in self.changes.delete:
                value, state, style = self.original.get(key), "delete", "strike"
            elif key in self.changes.set:
                value, state, style = self.changes.set[key], "new" if key not in self.original else "changed", "bold"
            else:
                value, state, style = self.original[key], "", ""
            shown = VARIES if value is None else value
            table.add_row(plain(key, style=style), plain(_one_line(shown), style=style), state, key=key)
        if keys:
            table.move_cursor(row=min(row, len(keys) - 1))

    @property
    def current_key(self) -> str | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    # -- editing ---------------------------------------------------------------------------

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        key = event.row_key.value
        if key is None:
            return
        value = self.changes.set.get(key, self.original.get(key))
        if value is not None and (key == NOTE_TAG or "\n" in value or "\r" in value):
            self._edit_lines(key, value)
            return
        # Inputs draw their value raw, so they get the inert text; left as shown, it stands
        # for the stored key/value (see `stage`).
        self._shown = {inert(key or ""): key or "", inert(value or ""): value or ""}
        self.query_one("#tag-key", Input).value = inert(key or "")
        value_input = self.query_one("#tag-value", Input)
        value_input.value = inert(value or "")
        value_input.focus()

    def _edit_lines(self, key: str, value: str) -> None:
        """A multi-line value (a description, a config) in a multi-line editor: a one-line input
        would run its lines together. Saving there stages it here."""
        from .description_editor import DescriptionEditor

        def staged(text: str | None) -> None:
            if text is not None:
                self._stage(key, text)

        self.app.push_screen(DescriptionEditor(self.subject, value, self.validate, key=key), staged)

    def action_add_tag(self) -> None:
        self._shown = {}
        self.query_one("#tag-key", Input).value = ""
        self.query_one("#tag-value", Input).value = ""
        self.query_one("#tag-key", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        key = self.query_one("#tag-key", Input).value
        self.query_one("#tags-error", Static).update("")
        self.query_one("#tags-warning", Static).update(plain(reserved_tag_warning(key)))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "tag-key":
            self.query_one("#tag-value", Input).focus()
            return
        self.stage()

    def stage(self) -> bool:
        """Check the key/value inputs as the store would; stage them, or show why not."""
        key = self.query_one("#tag-key", Input).value.strip()
        value = self.query_one("#tag-value", Input).value
        return self._stage(self._shown.get(key, key), self._shown.get(value, value))

    def _stage(self, key: str, value: str) -> bool:
        try:
            self.validate(key, value)
        except StoreError as exc:
            self.query_one("#tags-error", Static).update(plain(exc.message))
            return False
        if key in self.changes.delete:
            self.changes.delete.remove(key)
        if self.original.get(key) == value:
            self.changes.set.pop(key, None)
        else:
            self.changes.set[key] = value
        self._fill()
        table = self.query_one(DataTable)
        table.move_cursor(row=table.get_row_index(key))
        table.focus()
        return True

    def action_delete_tag(self) -> None:
        if self.focused is not self.query_one(DataTable):
            return
        key = self.current_key
        if key is None:
            return
        if key in self.changes.set and key not in self.original:
            del self.changes.set[key]  # an unsaved new tag: just drop it
        elif key in self.changes.delete:
            self.changes.delete.remove(key)  # x again: keep it after all
        else:
            self.changes.set.pop(key, None)
            self.changes.delete.append(key)
            warning = reserved_tag_warning(key)
            self.query_one("#tags-warning", Static).update(plain(warning))
        self._fill()

    def action_save(self) -> None:
        key_input = self.query_one("#tag-key", Input)
        if key_input.value.strip() and self.focused in (key_input, self.query_one("#tag-value", Input)):
            if not self.stage():  # ctrl+s with an edit still in the inputs: stage it first
                return
        self.dismiss(self.changes if self.changes else None)

    def action_cancel(self) -> None:
        self.dismiss(None)


def _one_line(value: str, width: int = 200) -> str:
    value = value.replace("\n", "⏎ ")
    return value if len(value) <= width else value[: width - 1] + "…"
