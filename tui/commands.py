"""Command palette: every action bound on the current screen, named `area: Action`.

Entries are generated from the same `BINDINGS` the footer and help screen use, so a new
binding shows up in all three without extra code. A screen names its area with `AREA`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from functools import partial

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.dom import DOMNode
from textual.screen import Screen

#: Actions the app's system commands already offer (see TrackApp.get_system_commands).
_SKIP = {"quit", "help", "command_palette"}


def area_of(node: DOMNode, screen: Screen) -> str:
    """The palette/help area for a binding defined on `node`: "app" or the screen's AREA."""
    from textual.app import App

    if isinstance(node, App):
        return "app"
    return getattr(screen, "AREA", type(screen).__name__.removesuffix("Screen").lower())


def key_label(screen: Screen, binding: Binding, key: str | None = None) -> str:
    """How the footer writes a key (`[`, `^r`, `esc`), never Textual's internal name
    (`left_square_bracket`). With `key`, that key itself (a binding's `key_display` names only
    the first of its keys)."""
    if key is not None:
        binding = replace(binding, key=key, key_display=None)
    return screen.app.get_key_display(binding)


def widget_area(node: DOMNode) -> str:
    """A words name for a widget's own keys in help: `ExperimentsTable` → "experiments table"."""
    from textual.app import App

    if isinstance(node, App):
        return "app"
    name = type(node).__name__
    return " ".join(re.findall(r"[A-Z][a-z0-9]*|[a-z0-9]+", name)).lower() or name


def screen_actions(screen: Screen) -> Iterator[tuple[str, str, DOMNode, str]]:
    """(title, action, node, key) for each enabled, described tracktui binding on `screen`."""
    seen: set[str] = set()
    for active in screen.active_bindings.values():
        binding = active.binding
        # Only tracktui's own bindings (they carry ids); a widget's built-in cursor keys would
        # bury the actions that matter. The help screen still lists those.
        if not active.enabled or not binding.description or not binding.id or binding.action in _SKIP:
            continue
        title = f"{area_of(active.node, screen)}: {binding.description}"
        if title in seen:
            continue
        seen.add(title)
        yield title, binding.action, active.node, key_label(screen, binding)


class ActionsProvider(Provider):
    """Offers the current screen's bindings as palette commands."""

    def _commands(self) -> list[tuple[str, str, DOMNode, str]]:
        return sorted(screen_actions(self.screen), key=lambda c: c[0])

    async def discover(self) -> Hits:
        for title, action, node, key in self._commands():
            yield DiscoveryHit(title, partial(self.app.run_action, action, node), help=f"key: {key}")

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, action, node, key in self._commands():
            score = matcher.match(title)
            if score > 0:
                command = partial(self.app.run_action, action, node)
                yield Hit(score, matcher.highlight(title), command, help=f"key: {key}")
