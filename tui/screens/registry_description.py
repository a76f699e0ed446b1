"""RegistryDescriptionEditor: a registered model's or version's description, many lines."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from ..safe_text import plain


class RegistryDescriptionEditor(ModalScreen["str | None"]):
    """Dismisses with the new text (ctrl+s) or None (Esc, or nothing changed). The text is
    saved as typed: MLflow stores descriptions verbatim."""

    AREA = "description"
    DEFAULT_CSS = """
    RegistryDescriptionEditor { align: center middle; }
    RegistryDescriptionEditor > Vertical {
        width: 90; max-width: 95%; height: 70%; padding: 0 1;
        border: thick $primary 60%; background: $surface;
    }
    RegistryDescriptionEditor .description-title { text-style: bold; }
    RegistryDescriptionEditor TextArea { height: 1fr; }
    RegistryDescriptionEditor .description-hint { color: $text-muted; }
    """
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="description.save"),
        Binding("escape", "cancel", "Cancel", id="description.cancel"),
    ]

    def __init__(self, subject: str, current: str | None) -> None:
        super().__init__()
        self.subject = subject
        self.current = current or ""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain(f"Description of {self.subject}"), classes="description-title")
            yield TextArea(self.current, id="description-text", soft_wrap=True, show_line_numbers=False)
            yield Static("ctrl+s saves · esc cancels", classes="description-hint")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_save(self) -> None:
        text = self.query_one(TextArea).text
        self.dismiss(None if text == self.current else text)

    def action_cancel(self) -> None:
        self.dismiss(None)
