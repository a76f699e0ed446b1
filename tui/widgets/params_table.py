"""A searchable key/value table: a run's params, or its tags (optionally without `mlflow.*`).

It only displays what it is given; typing in the filter box narrows the rows to keys or values
containing the text (case-insensitive). `enter` or `v` on a row posts `OpenValue`: the screen
shows the value whole (values are cut to the table's width here).
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.cells import cell_len, set_cell_size
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable, Input, Static

from ..clipboard import copy_text
from ..filter_focus import focus_now
from ..safe_text import inert, plain
from .key_filter import MAX_SHOWN_ROWS, FilterInput, count_label, matching
from .run_format import natural_key

#: Long values (JSON model histories, notes) are cut in the table; `c` copies the whole value.
MAX_SHOWN_VALUE = 200


class KeyValueTable(Vertical):
    """Filter box over a two-column table of keys and values."""

    DEFAULT_CSS = """
    KeyValueTable { height: 1fr; }
    KeyValueTable > .kv-filter-row { height: auto; }
    KeyValueTable > .kv-filter-row > Input { width: 1fr; }
    KeyValueTable > .kv-filter-row > .kv-count {
        width: auto; padding: 0 1; color: $text-muted;
    }
    KeyValueTable > DataTable { height: 1fr; }
    """

    class OpenValue(Message):
        """The user asked to read the value of `key` whole."""

        def __init__(self, noun: str, key: str, value: str) -> None:
            super().__init__()
            self.noun, self.key, self.value = noun, key, value

    filter_text: reactive[str] = reactive("", init=False)
    #: When true, keys starting with `hidden_prefix` are left out.
    hide_prefixed: reactive[bool] = reactive(False, init=False)

    def __init__(
        self,
        noun: str,
        *,
        hidden_prefix: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.noun = noun
        self.hidden_prefix = hidden_prefix
        self._items: dict[str, str] = {}
        self._shown_keys: list[str] = []
        self._value_width = MAX_SHOWN_VALUE

    def compose(self) -> ComposeResult:
        with Horizontal(classes="kv-filter-row"):
            yield FilterInput(placeholder=self._placeholder(), compact=True)
            yield Static("", classes="kv-count")
        yield KeyValueGrid(cursor_type="row", zebra_stripes=True)

    def _placeholder(self) -> str:
        hint = f"/ filter {self.noun} by key or value"
        if self.hidden_prefix:
            hint += f"  ·  h hides/shows {self.hidden_prefix}*"
        return hint

    def on_mount(self) -> None:
        self._refill()

    # -- what the screen calls ------------------------------------------------------------

    def show_items(self, items: Mapping[str, str]) -> None:
        """Replace the data; the current filter stays applied."""
        self._items = dict(items)
        self._refill()

    def focus_filter(self) -> None:
        focus_now(self.query_one(FilterInput))

    def focus_table(self) -> None:
        self.query_one(KeyValueGrid).focus()

    @property
    def shown_keys(self) -> tuple[str, ...]:
        """Keys of the rows on display, in order (what the filter let through)."""
        return tuple(self._shown_keys)

    @property
    def highlighted_item(self) -> tuple[str, str] | None:
        table = self.query_one(KeyValueGrid)
        if not self._shown_keys or not table.is_valid_row_index(table.cursor_row):
            return None
        key = self._shown_keys[table.cursor_row]
        return key, self._items[key]

    # -- reacting ---------------------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.filter_text = event.value

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_table()


    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.open_highlighted()

    def open_highlighted(self) -> None:
        item = self.highlighted_item
        if item is not None:
            self.post_message(self.OpenValue(self.noun.removesuffix("s"), *item))

    def watch_filter_text(self) -> None:
        self._refill()

    def watch_hide_prefixed(self) -> None:
        self._refill()

    def _refill(self) -> None:
        if not self.is_mounted:
            return
        candidates = [
            key
            for key in sorted(self._items, key=natural_key)
            if not (self.hide_prefixed and self.hidden_prefix and key.startswith(self.hidden_prefix))
        ]
        matched = matching(candidates, self.filter_text, self._items.__getitem__)
        keys = matched[:MAX_SHOWN_ROWS]
        self._shown_keys = keys
        table = self.query_one(KeyValueGrid)
        table.clear(columns=True)  # columns too: their widths only ever grow otherwise
        table.add_column("Key", key="key")
        table.add_column("Value", key="value")
        self._value_width = self._value_budget(keys)
        for key in keys:
            table.add_row(plain(key), plain(_one_line(self._items[key], self._value_width)), key=key)
        if not keys:
            table.add_row(plain(self._empty_message(), style="italic"), "", key="")
        label = count_label(len(keys), len(matched), len(self._items), self.noun)
        self.query_one(".kv-count", Static).update(label)

    def on_resize(self) -> None:
        self.call_after_refresh(self._refit)  # once the grid inside has its new size

    def on_show(self) -> None:
        self.call_after_refresh(self._refit)  # a tab shown for the first time

    def _refit(self) -> None:
        if self._value_budget(self._shown_keys) != self._value_width:
            self._refill()

    def _value_budget(self, keys: list[str]) -> int:
        """Cells for a value so it ends on screen (with its "…" when cut); `c` copies it whole."""
        grid = self.query_one(KeyValueGrid)
        width = grid.scrollable_content_region.width
        if width <= 0:
            return MAX_SHOWN_VALUE
        key_width = max((len(key) for key in keys), default=0)
        return max(12, min(MAX_SHOWN_VALUE, width - key_width - 4 * grid.cell_padding))

    def _empty_message(self) -> str:
        if not self._items:
            return f"No {self.noun}."
        if self.filter_text.strip():
            return f"No {self.noun} match '{self.filter_text.strip()}'."
        return f"Only {self.hidden_prefix}* {self.noun}; press h to show them."


class KeyValueGrid(DataTable):
    """The rows of a KeyValueTable; `c` copies the highlighted value."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="key_values.cursor_down"),
        Binding("k", "cursor_up", "Up", show=False, id="key_values.cursor_up"),
        Binding("c", "copy_value", "Copy value", id="key_values.copy_value"),
        Binding("v", "view_value", "View value", id="key_values.view_value"),
    ]

    def action_view_value(self) -> None:
        owner = self.parent
        if isinstance(owner, KeyValueTable):
            owner.open_highlighted()

    def action_copy_value(self) -> None:
        owner = self.parent
        item = owner.highlighted_item if isinstance(owner, KeyValueTable) else None
        if item is None:
            return
        key, value = item
        copy_text(self.app, value, f"the value of {key}")


def _one_line(value: str, width: int = MAX_SHOWN_VALUE) -> str:
    flat = inert(value.replace("\r\n", "\n").replace("\n", " ⏎ "))  # cut what is drawn
    if cell_len(flat) > width:
        return set_cell_size(flat, width - 1) + "…"
    return flat
