"""RenameScreen: a new name for a run or an experiment, checked as the store checks it."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tracktui.store.errors import StoreError

from ..safe_text import inert, plain


class RenameScreen(ModalScreen["str | None"]):
    """Dismisses with the new name (Enter) or None (Esc). `validate(name)` raises
    StoreError (store.validation) for a name the store would refuse; its message shows inline."""

    AREA = "rename"
    DEFAULT_CSS = """
    RenameScreen { align: center middle; }
    RenameScreen > Vertical {
        width: 64; max-width: 95%; height: auto; padding: 1 2;
        border: thick $primary 60%; background: $surface;
    }
    RenameScreen .rename-title { text-style: bold; margin-bottom: 1; }
    RenameScreen .rename-error { color: $error; height: auto; }
    RenameScreen .rename-hint { color: $text-muted; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="rename.cancel")]

    def __init__(self, title: str, current: str, validate: Callable[[str], object],
                 hint: str = "enter renames · esc cancels") -> None:
        super().__init__()
        self.hint = hint
        self.title_text = title
        self.current = current
        self.validate = validate

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain(self.title_text), classes="rename-title")
            # An Input draws its value raw: the name is shown inert; left as shown, it is unchanged.
            yield Input(inert(self.current), id="rename-input", select_on_focus=True)
            yield Static("", id="rename-error", classes="rename-error", markup=False)
            yield Static(self.hint, classes="rename-hint", markup=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        name = event.value.strip()
        try:
            self.validate(name)
        except StoreError as exc:
            self.query_one("#rename-error", Static).update(plain(exc.message))
            return
        self.dismiss(None if name in (self.current, inert(self.current)) else name)

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one("#rename-error", Static).update("")

    def action_cancel(self) -> None:
        self.dismiss(None)
