"""HelpScreen (`?`): every key binding active on the screen it was opened from.

Generated from the same `BINDINGS` as the footer and the command palette, grouped by area,
so it can never disagree with what the keys do.
"""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from ..commands import area_of, key_label, widget_area
from ..filter_focus import TYPING_RULE


def binding_rows(screen: Screen) -> list[tuple[str, str, str]]:
    """(area, keys, description) for every described binding active on `screen`, grouped:
    the screen's own keys first, then the app's, then widgets' built-in keys."""
    grouped: dict[tuple[int, str, str], list[str]] = {}
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if not binding.description:
            continue
        # Our bindings carry ids; a widget's built-in keys are listed under the widget's name.
        area = area_of(active.node, screen) if binding.id else widget_area(active.node)
        rank = 2 if not binding.id else 1 if area == "app" else 0
        keys = grouped.setdefault((rank, area, binding.description), [])
        shown = key_label(screen, binding, key)
        if shown not in keys:
            keys.append(shown)
    ordered = sorted(grouped.items(), key=lambda item: item[0][:2])
    return [(area, " ".join(keys), description) for (_rank, area, description), keys in ordered]


class HelpScreen(ModalScreen[None]):
    AREA = "help"
    BINDINGS = [
        Binding("escape,q,question_mark", "close", "Close help", id="help.close"),
    ]

    def __init__(self, screen: Screen) -> None:
        super().__init__()
        self._target = screen

    def compose(self) -> ComposeResult:
        table = Table(box=None, expand=True, show_header=True, header_style="bold", pad_edge=False)
        table.add_column("Area", no_wrap=True)
        table.add_column("Keys", no_wrap=True)
        table.add_column("Action")
        for area, keys, description in binding_rows(self._target):
            table.add_row(area, keys, description)
        with VerticalScroll(id="help-body"):
            yield Static(f"Keys  ·  ctrl+p: every action by name  ·  esc closes\nTyping: {TYPING_RULE}", id="help-title")
            yield Static(table)

    def action_close(self) -> None:
        self.dismiss(None)
