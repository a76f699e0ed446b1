"""PagedListScreen: a filter bar over a list the store pages (logged models, registered models,
prompts): the first page for the filter, the next as the cursor nears the end, the filter's
parse error shown inline, the cursor kept on its row across reloads.

A subclass says what it lists: `search()` (a store call, run in a worker), `make_table()` (a
table with `reset()`, `append(items, extra)`, `items` and `current`, posting `NeedMore`), and
`unavailable()` when the store cannot hold such things.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from textual import getters
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Label, Static

from tracktui.store.base import Store
from tracktui.store.errors import FilterSyntaxError, StoreError
from tracktui.store.model import Page

from ..app import TrackApp
from ..safe_text import plain
from ..widgets.filter_bar import FilterBar
from ..widgets.paged_table import NeedMore
from ..widgets.status_bar import StatusBar

T = TypeVar("T")


class PagedListScreen(Screen, Generic[T]):
    app = getters.app(TrackApp)

    #: What one row is, for the summary line ("registered model").
    NOUN = "item"
    FILTER_PLACEHOLDER = ""
    DEFAULT_CSS = """
    PagedListScreen > .paged-summary { height: 1; color: $text-muted; padding: 0 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.filter_text = ""
        self._next_token: str | None = None
        self._loading = False
        self._generation = 0
        #: The row to put the cursor on once the list has reloaded (after a write).
        self._keep: Hashable | None = None

    # -- what a subclass says ------------------------------------------------------------

    def title_text(self) -> str:
        raise NotImplementedError

    def make_table(self) -> Widget:
        raise NotImplementedError

    def search(self, store: Store, text: str | None, token: str | None) -> tuple[Page[T], Any]:
        """The page for the filter (and anything else the table shows with it), in a worker."""
        raise NotImplementedError

    def unavailable(self, store: Store) -> str | None:
        """Why this store has nothing of the kind, or None."""
        return None

    def item_key(self, item: T) -> Hashable:
        raise NotImplementedError

    # -- the list ------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Label(plain(self.title_text()), classes="screen-title")
        yield FilterBar(self.FILTER_PLACEHOLDER, id="list-filter")
        yield self.make_table()
        yield Static("Loading…", classes="paged-summary")
        yield StatusBar()
        yield Footer()

    @property
    def table(self) -> Any:
        return self.query_one("#paged-table")

    def on_mount(self) -> None:
        self.load_first_page()

    def load_first_page(self, keep: Hashable | None = None) -> None:
        """Start over: the first page for the current filter; the cursor goes back to `keep`."""
        self._keep = keep
        self._generation += 1
        self._next_token = None
        self._loading = True
        self._summary(f"Loading {self.NOUN}s…")
        self._fetch(self._generation, None)

    def load_more(self) -> None:
        if self._loading or not self._next_token:
            return
        self._loading = True
        self._fetch(self._generation, self._next_token)

    def reload_keeping(self, key: Hashable | None) -> Callable[[], None]:
        """What a write calls when done: reload with the cursor on the row of `key`."""
        return lambda: self.load_first_page(keep=key)

    def _fetch(self, generation: int, token: str | None) -> None:
        store, text = self.app.store, self.filter_text or None
        reason = self.unavailable(store)
        if reason:
            self._loading = False
            self.table.reset()
            self._summary(reason)
            return
        self.app.run_store_call(self, lambda: self.search(store, text, token),
                                lambda result: self._loaded(generation, token is None, *result),
                                group="paged-list", on_error=self._failed)

    def _loaded(self, generation: int, first: bool, page: Page[T], extra: Any) -> None:
        if generation != self._generation:
            return
        self._loading = False
        self._next_token = page.next_page_token
        self.query_one(FilterBar).clear_error()
        table = self.table
        if first:
            table.reset()  # only now: the old rows stay on screen while the page loads
        table.append(list(page.items), extra)
        if first and self._keep is not None:
            keys = [self.item_key(i) for i in table.items]
            if self._keep in keys:
                table.move_cursor(row=keys.index(self._keep))
            self._keep = None
        count = len(table.items)
        if not count:
            self._summary(f"No {self.NOUN}s" + (" match the filter." if self.filter_text else "."))
        else:
            more = ", more below" if self._next_token else ""
            self._summary(f"{count} {self.NOUN}{'s' if count != 1 else ''} loaded{more}. Enter opens one.")

    def _failed(self, error: StoreError) -> bool:
        self._loading = False
        if isinstance(error, FilterSyntaxError):
            self.query_one(FilterBar).show_error(error)
            self._summary("Fix the filter and press Enter.")
            return True
        self._summary(f"Could not load {self.NOUN}s: {error.message}")
        return False

    def _summary(self, text: str) -> None:
        self.query_one(".paged-summary", Static).update(plain(text))

    def action_focus_filter(self) -> None:
        self.query_one(FilterBar).input.focus()

    def action_refresh(self) -> None:
        current = self.table.current
        self.load_first_page(keep=self.item_key(current) if current is not None else None)

    def on_filter_bar_submitted(self, event: FilterBar.Submitted) -> None:
        event.stop()
        self.filter_text = event.text
        self.load_first_page()
        self.table.focus()

    def on_filter_bar_left(self, event: FilterBar.Left) -> None:
        event.stop()
        self.table.focus()

    def on_need_more(self, event: NeedMore) -> None:
        event.stop()
        self.load_more()
