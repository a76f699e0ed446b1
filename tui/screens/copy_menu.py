"""CopyMenu (`y`): pick what to copy — run id, run URI, artifact URI, the selected value.

Each choice has a letter; `y` again copies the first choice, so `yy` copies the id as in vim.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ..safe_text import plain


class CopyMenu(ModalScreen["tuple[str, str] | None"]):
    """Dismisses with (what, text) of the chosen entry, or None (Esc).

    `choices` are (letter, what, text): "i", "run ID", "3f2a…"."""

    AREA = "copy"
    DEFAULT_CSS = """
    CopyMenu { align: center middle; }
    CopyMenu > Vertical {
        width: 72; max-width: 95%; height: auto; max-height: 90%; padding: 0 1;
        border: thick $primary 60%; background: $surface;
    }
    CopyMenu .copy-title { text-style: bold; }
    CopyMenu OptionList { height: auto; max-height: 12; border: none; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="copy.cancel"),
        Binding("y", "choose(0)", "Copy the first", show=False, id="copy.first"),
    ]

    def __init__(self, choices: Sequence[tuple[str, str, str]]) -> None:
        super().__init__()
        self.choices = list(choices)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Copy…  (letter or enter · esc cancels)", classes="copy-title")
            yield OptionList(
                *(Option(plain(f"{letter}  {what}: {_short(text)}"), id=letter) for letter, what, text in self.choices)
            )

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_key(self, event) -> None:
        for index, (letter, _what, _text) in enumerate(self.choices):
            if event.character == letter:
                event.stop()
                self.action_choose(index)
                return

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.action_choose(event.option_index)

    def action_choose(self, index: int) -> None:
        if 0 <= index < len(self.choices):
            _letter, what, text = self.choices[index]
            self.dismiss((what, text))

    def action_cancel(self) -> None:
        self.dismiss(None)


def _short(text: str, width: int = 52) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"
