"""ChoiceScreen: pick one of a few labelled options (a stage, an alias to remove)."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ..safe_text import plain


class ChoiceScreen(ModalScreen["str | None"]):
    """Dismisses with the chosen option's value (Enter) or None (Esc).

    `options` are (value, label); labels may carry store text and are shown inert."""

    AREA = "choice"
    DEFAULT_CSS = """
    ChoiceScreen { align: center middle; }
    ChoiceScreen > Vertical {
        width: 64; max-width: 95%; height: auto; max-height: 90%; padding: 0 1;
        border: thick $primary 60%; background: $surface;
    }
    ChoiceScreen .choice-title { text-style: bold; }
    ChoiceScreen .choice-note { color: $text-muted; }
    ChoiceScreen OptionList { height: auto; max-height: 12; border: none; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="choice.cancel")]

    def __init__(self, title: str, options: Sequence[tuple[str, str]], note: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.options = list(options)
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain(self.title_text), classes="choice-title")
            if self.note:
                yield Static(plain(self.note, multiline=True), classes="choice-note")
            yield OptionList(*(Option(plain(label), id=str(i)) for i, (_value, label) in enumerate(self.options)))

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.options[int(event.option_id or 0)][0])

    def action_cancel(self) -> None:
        self.dismiss(None)
