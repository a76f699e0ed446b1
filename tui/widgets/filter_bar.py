"""FilterBar: an MLflow search filter with its parse error shown inline, a caret at the spot.

The bar never parses anything itself: the screen sends the text to the store and hands back
the `FilterSyntaxError` (which carries `text`, `position` and `expected`).
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.suggester import Suggester
from textual.widgets import Input, Static

from tracktui.store.errors import FilterSyntaxError

from ..safe_text import inert

#: How many characters of the filter the error line shows around the bad position.
_WINDOW = 60


class FilterBar(Vertical):
    DEFAULT_CSS = """
    FilterBar { height: auto; }
    FilterBar > #filter-error { display: none; height: auto; }
    FilterBar.-error > #filter-error { display: block; }
    """

    BINDINGS = [
        Binding("escape", "leave", "Leave filter", id="filter.leave"),
        Binding("down", "leave", "Leave filter", show=False, id="filter.down"),
    ]

    class Submitted(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Left(Message):
        """The user pressed Escape or Down in the filter: the screen moves focus back."""

    PLACEHOLDER = "filter, e.g. metrics.loss < 0.5 and params.lr = '0.01'  (/ to edit)"

    def __init__(
        self, placeholder: str = PLACEHOLDER, *, suggester: Suggester | None = None, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self._placeholder = placeholder
        self._suggester = suggester

    def compose(self) -> ComposeResult:
        yield Input(placeholder=self._placeholder, id="filter-input", select_on_focus=False, suggester=self._suggester)
        yield Static(id="filter-error")

    @property
    def input(self) -> Input:
        return self.query_one("#filter-input", Input)

    @property
    def value(self) -> str:
        return self.input.value.strip()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Submitted(event.value.strip()))

    def action_leave(self) -> None:
        self.post_message(self.Left())

    def show_error(self, error: FilterSyntaxError) -> None:
        """Show the filter text, a caret under `error.position` and what was expected there."""
        self.query_one("#filter-error", Static).update(caret_text(error))
        self.add_class("-error")
        self.input.focus()  # stay where the fix is typed, cursor at the problem
        self.input.cursor_position = error.position

    def clear_error(self) -> None:
        self.remove_class("-error")
        self.query_one("#filter-error", Static).update("")


def caret_text(error: FilterSyntaxError) -> Text:
    """Two lines: a window of the filter around the position, then `^ reason (expected …)`."""
    text, pos = error.text, error.position
    start = max(0, pos - _WINDOW // 2)
    snippet = text[start : start + _WINDOW]
    prefix = "…" if start > 0 else ""
    caret_at = cell_len(prefix + inert(text[start:pos]))  # a control char may show as several cells
    reason = error.reason + (f" (expected {error.expected})" if error.expected else "")
    out = Text(no_wrap=True, overflow="ellipsis")
    out.append(" " + prefix + inert(snippet) + "\n", style="bold")
    out.append(" " + " " * caret_at + "^ ", style="bold")
    out.append(inert(reason))
    return out
