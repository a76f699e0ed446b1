"""Type-to-filter for the run's key tables (params, tags, metrics): the box, the matching rule,
and the cap that keeps a run with thousands of keys from freezing the screen.

Textual's DataTable measures every cell of every row on layout (about 0.6 ms a row here), so a
run with 10,000 metric keys would block the UI for seconds. Tables show at most
`MAX_SHOWN_ROWS` matching rows and say so; typing narrows the match.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from textual.binding import Binding
from textual.widgets import Input

MAX_SHOWN_ROWS = 500


class FilterInput(Input):
    """The filter box: Esc clears it, a second Esc (or Enter, or Down) hands focus back to the
    table. It does not select its text on focus: the key typed right after `/` must not be
    replaced by the next one.

    The table is found as the nearest ancestor with a `focus_table()` method.
    """

    BINDINGS = [
        Binding("escape", "leave", "Leave filter", show=False, id="key_filter.leave"),
        Binding("down", "return_focus", "To the list", show=False, id="key_filter.down"),
    ]

    def __init__(self, *, placeholder: str = "", compact: bool = False) -> None:
        super().__init__(placeholder=placeholder, compact=compact, select_on_focus=False)

    def action_return_focus(self) -> None:
        self.return_focus()

    def action_leave(self) -> None:
        if self.value:
            self.value = ""
        else:
            self.return_focus()

    def return_focus(self) -> None:
        for node in self.ancestors:
            focus_table = getattr(node, "focus_table", None)
            if callable(focus_table):
                focus_table()
                return


def matching(keys: Iterable[str], text: str, value_of: Callable[[str], str] | None = None) -> list[str]:
    """Keys containing `text` (or whose value does), case-insensitively, in the given order."""
    needle = text.strip().lower()
    if not needle:
        return list(keys)
    return [
        key
        for key in keys
        if needle in key.lower() or (value_of is not None and needle in value_of(key).lower())
    ]


def count_label(shown: int, matched: int, total: int, noun: str) -> str:
    """'12 params', '3 of 12 params', or '500 of 10000 metrics, type to narrow'."""
    if shown < matched:
        return f"{shown} of {matched} {noun}, type to narrow"
    if matched != total:
        return f"{matched} of {total} {noun}"
    return f"{total} {noun.removesuffix('s') if total == 1 else noun}"
