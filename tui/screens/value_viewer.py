"""One param or tag value, whole: up to MLflow's limits (6,000 characters for a param, 8,000 for
a tag), on as many lines as it has. JSON and YAML containers are pretty-printed and open as a
foldable tree (`t` switches to the text); `/` searches the text; `y` copies the value as
stored, byte for byte (not the pretty-printed form).

Opened with `enter` or `v` on a row of a run's Params or Tags tab.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from ..clipboard import copy_text
from ..safe_text import plain
from ..widgets.searchable_text import SearchableText
from ..widgets.value_tree import ValueTree, parse_structured


class ValueViewer(Screen[None]):
    """`ValueViewer("param", key, value)`; Esc goes back."""

    AREA = "value"
    DEFAULT_CSS = """
    ValueViewer > .value-title { text-style: bold; padding: 0 1; }
    ValueViewer > .value-facts { color: $text-muted; padding: 0 1; }
    ValueViewer > ValueTree { height: 1fr; }
    ValueViewer > SearchableText { height: 1fr; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape", "close", "Back", id="value.close"),
        Binding("y", "copy", "Copy value", id="value.copy"),
        Binding("t", "toggle_view", "Tree/text", id="value.toggle_view"),
        Binding("slash", "search", "Search", id="value.search"),
    ]

    def __init__(self, noun: str, key: str, value: str) -> None:
        super().__init__()
        self.noun, self.key, self.value = noun, key, value
        self.structured = parse_structured(value)

    def compose(self) -> ComposeResult:
        yield Static(plain(f"{self.noun} {self.key}"), classes="value-title")
        yield Static(self._facts(), classes="value-facts", markup=False)
        yield ValueTree("value", id="value-tree")
        yield SearchableText(id="value-text")
        yield Footer()

    def on_mount(self) -> None:
        text = self.query_one(SearchableText)
        tree = self.query_one(ValueTree)
        if self.structured is None:
            tree.display = False
            text.show(self.value, language="text")
            text.focus_text()
            return
        language = "json" if self.structured.format == "JSON" else "yaml"
        text.show(self.structured.pretty, language=language)
        tree.show(self.structured.data)
        text.display = False
        tree.focus()

    def _facts(self) -> str:
        lines = self.value.count("\n") + 1 if self.value else 0
        facts = [f"{len(self.value):,} characters", f"{lines:,} line{'s' if lines != 1 else ''}"]
        if self.structured is not None:
            facts.insert(0, f"{self.structured.format}, pretty-printed")
        return " · ".join(facts) + " · y copies it as stored"

    @property
    def showing_tree(self) -> bool:
        return self.query_one(ValueTree).display

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_view":
            return self.structured is not None
        return True

    def action_toggle_view(self) -> None:
        if self.structured is None:
            return
        tree, text = self.query_one(ValueTree), self.query_one(SearchableText)
        tree.display, text.display = not tree.display, tree.display
        if tree.display:
            tree.focus()
        else:
            text.focus_text()

    def action_search(self) -> None:
        """From the tree: show the text and search it (the text's own `/` handles the rest)."""
        if self.showing_tree:
            self.action_toggle_view()
        self.query_one(SearchableText).open_search()

    def action_copy(self) -> None:
        copy_text(self.app, self.value, f"the value of {self.key}")

    def action_close(self) -> None:
        self.dismiss(None)
