"""KeyPicker: choose one param, metric or tag key (a sweep chart's axis or colour).

The sort picker's look with the column chooser's type-to-narrow box: type to narrow (an
experiment may have thousands of keys; the first MAX_LISTED matches are listed), Down moves to
the list, Enter picks. Dismisses with a column id (`metrics:<key>`…), "" for "none" when
offered, or None when cancelled.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from ..filter_focus import focus_now
from ..safe_text import plain
from .column_chooser import describe

#: Keys listed at once; typing narrows the rest.
MAX_LISTED = 200
NONE_LABEL = "(none)"


class KeyPicker(ModalScreen[str | None]):
    AREA = "pick key"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="key_picker.cancel"),
        # Reached from the filter box only: the list handles its own Down first.
        Binding("down", "focus_list", "To the list", show=False, id="key_picker.to_list"),
    ]

    def __init__(self, title: str, column_ids: Sequence[str], current: str | None, *, offer_none: bool = False) -> None:
        super().__init__()
        self._title = title
        self._all = list(column_ids)
        self._current = current
        self._offer_none = offer_none

    def compose(self) -> ComposeResult:
        with Vertical(id="key-picker"):
            yield Label(plain(f"{self._title} · type to narrow · enter picks · esc cancels"), id="key-picker-title")
            yield Input(placeholder="filter keys", id="key-picker-filter", select_on_focus=False)
            yield OptionList(id="key-picker-list")
            yield Label("", id="key-picker-more")

    def on_mount(self) -> None:
        self._fill("")
        self.query_one(Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is not None:
            self.dismiss(options.get_option_at_index(options.highlighted).id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_focus_list(self) -> None:
        focus_now(self.query_one(OptionList))

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _fill(self, query: str) -> None:
        needle = query.strip().lower()
        matches = [c for c in self._all if needle in c.lower()] if needle else self._all
        listed = matches[:MAX_LISTED]
        options = self.query_one(OptionList)
        options.clear_options()
        if self._offer_none and not needle:
            options.add_option(Option(NONE_LABEL, id=""))
        options.add_options([Option(plain(describe(c)), id=c) for c in listed])
        ids = ([""] if self._offer_none and not needle else []) + listed
        if ids:
            options.highlighted = ids.index(self._current) if self._current in ids else 0
        more = len(matches) - len(listed)
        self.query_one("#key-picker-more", Label).update(f"{more} more keys match: type to narrow" if more > 0 else "")
