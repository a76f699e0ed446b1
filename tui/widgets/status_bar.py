"""StatusBar: which store is open (credentials masked) and whether writes are allowed."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ..safe_text import inert, plain


class StatusBar(Static):
    """One line above the footer. Reads `app.store` once; screens may add a short `note`."""

    DEFAULT_CSS = """
    StatusBar { height: 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._note = ""

    def on_mount(self) -> None:
        self._update()

    def set_note(self, note: str) -> None:
        self._note = note
        self._update()

    def _update(self) -> None:
        store = getattr(self.app, "store", None)
        uri = getattr(store, "display_uri", "") or "no store"
        text = Text(no_wrap=True, overflow="ellipsis")
        if getattr(store, "read_only", False):
            text.append(" read-only ", style="reverse")
        else:
            text.append(" read-write ")
        text.append(" ")
        text.append(inert(uri))
        if self._note:
            text.append("  ·  " + inert(self._note))
        self.update(text)
        self.set_class(getattr(store, "read_only", False), "-read-only")
        reason = getattr(store, "read_only_reason", None)  # may quote a server's error text
        self.tooltip = plain(reason, multiline=True) if reason else None
