"""SortPicker: choose the runs-table column the store orders by.

Dismisses with a column id; picking the column already sorted flips its direction (the
screen decides that). Columns MLflow cannot order by (duration) are not offered.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from ..columns import Column
from ..safe_text import plain


class SortPicker(ModalScreen[str | None]):
    AREA = "sort"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="sort.cancel")]

    def __init__(self, columns: list[Column], current: str | None, ascending: bool,
                 title: str = "Sort runs by (the store sorts every run, not just the loaded page)") -> None:
        super().__init__()
        self._title = title
        self._columns = [c for c in columns if c.order_by]
        self._current = current
        self._ascending = ascending

    def compose(self) -> ComposeResult:
        options = []
        for col in self._columns:
            label = col.label or "Status"
            if col.kind != "attr":
                label = f"{col.kind[:-1]} {label}" if col.kind != "metrics" else f"metric {label}"
            if col.id == self._current:
                label += "  (now " + ("ascending" if self._ascending else "descending") + ", pick to flip)"
            options.append(Option(plain(label), id=col.id))
        with Vertical(id="sort-picker"):
            yield Label(self._title)
            yield OptionList(*options, id="sort-options")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        ids = [c.id for c in self._columns]
        if self._current in ids:
            options.highlighted = ids.index(self._current)
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
