"""The typing rule, the same on every screen: `/` opens the screen's filter, and while a text
box has focus every printable key is text (bound letters such as `d`, `g` or `q` included).

Why a priority binding: Textual checks ordinary bindings only after a key has gone to the
focused widget and bubbled back up. Keys typed in one burst are all sent to the list before
the `/` comes back, so `/images` used to filter `imaes` (`g` jumped to the first row). A
priority binding runs as the key arrives, in order. `focus_now` moves focus before the next
key is read (`Widget.focus()` defers it to a later callback), and the filter boxes do not
select their text on focus, so a key typed as the box takes focus is not overwritten.

A screen adds `filter_binding(...)` to its BINDINGS, implements the bound action with
`focus_now`, and returns `filter_key_enabled(self)` from `check_action` for that action:
inside a text box `/` is text too.
"""

from __future__ import annotations

import sys

from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input

#: Told by the README, the help screen and the placeholders.
TYPING_RULE = "/ opens the filter; while a text box has focus every printable key is text; enter or ↓ returns to the list, esc clears or leaves"


def filter_binding(area: str, action: str = "focus_filter", description: str = "Filter") -> Binding:
    """The `/` binding of a screen: a priority binding, so keys typed after it are text."""
    return Binding("slash", action, description, id=f"{area}.filter", priority=True)


def filter_key_enabled(screen: Screen) -> bool | None:
    """None (shown, greyed out) while the user is typing in a text box: `/` is text there."""
    return None if _is_text_box(screen.focused) else True


def _is_text_box(widget: Widget | None) -> bool:
    if isinstance(widget, Input):
        return True
    # TextArea's import (tree-sitter, themes) costs ~40 ms of start-up and the first screens
    # have none: a focused TextArea means its module is loaded already.
    module = sys.modules.get("textual.widgets._text_area")
    return module is not None and isinstance(widget, module.TextArea)


def focus_now(widget: Widget) -> None:
    """Give `widget` focus before the next key is handled (not after, as `focus()` does)."""
    widget.screen.set_focus(widget)
