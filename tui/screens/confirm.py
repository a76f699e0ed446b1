"""ConfirmScreen: a yes/no question before an action that changes the store.

The body names everything the action touches, however long: past a dozen lines it scrolls
(tab reaches it) rather than pushing the buttons off the screen."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from ..safe_text import plain


class ConfirmScreen(ModalScreen[bool]):
    """Dismisses with True (y / Enter on the confirm button) or False (n / Esc)."""

    AREA = "confirm"
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        width: 64; max-width: 95%; height: auto; padding: 1 2;
        border: thick $error 60%; background: $surface;
    }
    ConfirmScreen .confirm-title { text-style: bold; margin-bottom: 1; }
    ConfirmScreen VerticalScroll { height: auto; max-height: 14; margin-bottom: 1; }
    ConfirmScreen .confirm-body { color: $text-muted; }
    ConfirmScreen Horizontal { height: auto; align-horizontal: right; }
    ConfirmScreen Button { margin-left: 2; }
    """
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, title: str, body: str, confirm_label: str = "Delete") -> None:
        super().__init__()
        self.title_text = title
        self.body_text = body
        self.confirm_label = confirm_label

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain(self.title_text), classes="confirm-title")
            with VerticalScroll():
                yield Static(plain(self.body_text, multiline=True), classes="confirm-body")
            with Horizontal():
                yield Button("Cancel (n)", id="confirm-no")
                yield Button(f"{self.confirm_label} (y)", id="confirm-yes", variant="error")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()  # Enter alone never deletes

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
