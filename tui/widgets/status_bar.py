"""StatusBar: which store is open (credentials masked), whether writes are allowed, and how
many runs are marked and in which experiments (marks act where they are in view; the bar is how
the user sees the others)."""

from __future__ import annotations

from rich.text import Text
from textual import getters
from textual.widgets import Static

from ..app import TrackApp
from ..safe_text import inert, plain


class StatusBar(Static):
    """One line above the footer; follows `app.status_changed_signal`. Screens may add a short `note`."""

    DEFAULT_CSS = """
    StatusBar { height: 1; }
    """

    app = getters.app(TrackApp)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._note = ""

    def on_mount(self) -> None:
        self.app.status_changed_signal.subscribe(self, lambda _: self._update(), immediate=True)
        self._update()

    def set_note(self, note: str) -> None:
        self._note = note
        self._update()

    def _update(self) -> None:
        store = self.app.store
        reason = self.app.read_only_reason
        text = Text(no_wrap=True, overflow="ellipsis")
        if reason:
            text.append(" read-only ", style="reverse")
        else:
            text.append(" read-write ")
        marks = self.app.run_marks.summary()
        if marks:
            text.append(" ")
            text.append(f" {marks} ", style="bold")
        text.append(" ")
        text.append(inert(store.display_uri or "no store"))
        if self._note:
            text.append("  ·  " + inert(self._note))
        self.update(text)
        self.set_class(reason is not None, "-read-only")
        self.tooltip = plain(reason, multiline=True) if reason else None  # may quote a server's text
