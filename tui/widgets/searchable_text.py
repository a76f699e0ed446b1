"""A long text, syntax-highlighted, searchable: `/` opens a search box, every match is
highlighted as you type, `n`/`N` go to the next/previous one (wrapping), the current one is
scrolled into view. Used by the value viewer and the artifact preview.

Lines are never wrapped (a log line stays one line; the view scrolls sideways), so a match's
line number is its row on screen. Store text goes through `inert` before it is drawn.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, ScrollableContainer, Vertical
from textual.content import Content
from textual.highlight import highlight
from textual.reactive import reactive
from textual.style import Style
from textual.widgets import Input, Static

from ..safe_text import inert, plain

#: Matches highlighted at most (the count still says how many there are).
MAX_HIGHLIGHTED = 5_000


class SearchableText(Vertical):
    """`show(text, language=…, path=…)` to fill it; `open_search()` focuses the search box."""

    DEFAULT_CSS = """
    SearchableText { height: 1fr; }
    SearchableText > ScrollableContainer { height: 1fr; }
    SearchableText > ScrollableContainer > Static { width: auto; text-wrap: nowrap; text-overflow: clip; }
    SearchableText > ScrollableContainer > Static.-message { width: 1fr; text-wrap: wrap; }
    SearchableText.-message { height: auto; }
    SearchableText.-message > ScrollableContainer { height: auto; }
    SearchableText > .search-row { height: auto; display: none; }
    SearchableText > .search-row.-open { display: block; }
    SearchableText > .search-row > Input { width: 1fr; }
    SearchableText > .search-row > .search-count { width: auto; padding: 0 1; color: $text-muted; }
    SearchableText > .searchable-text--match { background: $warning 40%; }
    SearchableText > .searchable-text--current { background: $accent; color: $text; text-style: bold; }
    """
    COMPONENT_CLASSES = {"searchable-text--match", "searchable-text--current"}
    BINDINGS = [
        Binding("slash", "search", "Search", id="text.search"),
        Binding("n", "next_match", "Next match", id="text.next"),
        Binding("N", "previous_match", "Previous match", show=False, id="text.previous"),
    ]

    search_text: reactive[str] = reactive("", init=False)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._text = ""
        self._base: Content | Text = Content()
        self._matches: list[int] = []
        self._current = -1

    def compose(self) -> ComposeResult:
        with ScrollableContainer(classes="text-scroll"):
            yield Static("", classes="text-body", markup=False)
        with Horizontal(classes="search-row"):
            yield Input(placeholder="search (enter: next · esc: close)", compact=True, classes="search-input")
            yield Static("", classes="search-count", markup=False)

    # -- what the owner calls -----------------------------------------------------------------

    def show(self, text: str, *, language: str | None = "text", path: str | None = None) -> None:
        """Display `text` (store text: made inert here), highlighted for `language` (None: by
        the file name in `path`). The search, if any, applies to the new text."""
        self._text = inert(text, multiline=True)
        self.body.remove_class("-message")
        self.remove_class("-message")
        self._base = highlight(self._text, language=language, path=path)
        scroll = self.query_one(ScrollableContainer)
        scroll.anchor(False)
        scroll.scroll_home(animate=False, immediate=True)  # now: a deferred one would release the anchor
        self._find(keep_position=True)

    def show_message(self, message: Text | str) -> None:
        """A note instead of a text (a binary file, an error): not searchable."""
        self._text, self._matches, self._current = "", [], -1
        self._base = message if isinstance(message, Text) else plain(message, multiline=True)
        self.body.add_class("-message")
        self.add_class("-message")  # as tall as the note: an image preview goes below it
        self.body.update(self._base)
        self.query_one(ScrollableContainer).scroll_home(animate=False)

    def scroll_to_end(self) -> None:
        """Show the last lines (a log's tail)."""
        self.query_one(ScrollableContainer).anchor()  # at the bottom once laid out, until the user scrolls

    def open_search(self) -> None:
        self.query_one(".search-row").add_class("-open")
        self.query_one(Input).focus()

    def focus_text(self) -> None:
        self.query_one(ScrollableContainer).focus()

    @property
    def body(self) -> Static:
        return self.query_one(".text-body", Static)

    @property
    def match_count(self) -> int:
        return len(self._matches)

    @property
    def current_line(self) -> int | None:
        """The line (0-based) of the current match, None without one."""
        if self._current < 0:
            return None
        return self._text.count("\n", 0, self._matches[self._current])

    # -- keys -----------------------------------------------------------------------------------

    def action_search(self) -> None:
        self.open_search()

    def action_next_match(self) -> None:
        self._step(+1)

    def action_previous_match(self) -> None:
        self._step(-1)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.search_text = event.value

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self._matches:
            self.focus_text()
        self.query_one(".search-count", Static).update(self._count_label())

    def on_key(self, event: events.Key) -> None:
        if event.key == "escape" and self.app.focused is self.query_one(Input):
            event.stop()
            self.query_one(".search-row").remove_class("-open")
            self.focus_text()

    def watch_search_text(self) -> None:
        self._find(keep_position=False)

    # -- finding --------------------------------------------------------------------------------

    def _find(self, *, keep_position: bool) -> None:
        needle = self.search_text.casefold()
        self._matches = []
        if needle:
            haystack = self._text.casefold()
            if len(haystack) == len(self._text):  # casefold kept offsets (no ß → ss)
                start = haystack.find(needle)
                while start >= 0:
                    self._matches.append(start)
                    start = haystack.find(needle, start + max(1, len(needle)))
            else:
                start = self._text.find(self.search_text)
                while start >= 0:
                    self._matches.append(start)
                    start = self._text.find(self.search_text, start + max(1, len(self.search_text)))
        if not self._matches:
            self._current = -1
        elif not keep_position or self._current < 0:
            self._current = 0
        else:
            self._current = min(self._current, len(self._matches) - 1)
        self._draw()

    def _step(self, delta: int) -> None:
        if not self._matches:
            if not self.search_text:
                self.open_search()
            return
        self._current = (self._current + delta) % len(self._matches)
        self._draw()

    def _draw(self) -> None:
        text = self._base
        size = len(self.search_text)
        if self._matches and isinstance(text, Content):
            match_style = self._style("searchable-text--match")
            for start in self._matches[:MAX_HIGHLIGHTED]:
                text = text.stylize(match_style, start, start + size)
            current = self._matches[self._current]
            text = text.stylize(self._style("searchable-text--current"), current, current + size)
        self.body.update(text)
        if self.is_mounted:
            self.query_one(".search-count", Static).update(self._count_label())
        self.call_after_refresh(self._scroll_to_current)

    def _style(self, component: str) -> Style:
        return Style.from_rich_style(self.get_component_rich_style(component, partial=True))

    def _count_label(self) -> str:
        if not self.search_text:
            return ""
        if not self._matches:
            return "no match"
        return f"{self._current + 1} of {len(self._matches)}"

    def _scroll_to_current(self) -> None:
        line = self.current_line
        if line is None:
            return
        scroll = self.query_one(ScrollableContainer)
        start = self._matches[self._current]
        column = start - (self._text.rfind("\n", 0, start) + 1)
        height, width = scroll.scrollable_content_region.height, scroll.scrollable_content_region.width
        visible = scroll.scroll_y <= line < scroll.scroll_y + height
        y = scroll.scroll_y if visible else max(0, line - height // 2)
        x = 0 if column + len(self.search_text) < width else column - width // 2
        scroll.scroll_to(x=x, y=y, animate=False)
