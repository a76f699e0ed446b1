"""Live views: while a run on screen is RUNNING, the screen reads it again every
`LIVE_REFRESH_S` seconds, in place (cursor, scroll and marks stay), and says so in its title
(`LIVE_LABEL`). The timer stops by itself once nothing shown is running.

5 s is the plot screen's interval too: one bounded query per tick and screen (the runs list
asks only for its running rows, by id), which a SQLite file or a tracking server answers in
milliseconds, while a training loop rarely logs a visibly different curve faster than that.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.message_pump import MessagePump
from textual.timer import Timer

#: Seconds between two reads of a live view (tests shorten it).
LIVE_REFRESH_S = 5.0
#: Shown in the title of a screen that refreshes by itself.
LIVE_LABEL = "live ↻"
RUNNING = "RUNNING"


class LiveTimer:
    """Calls `tick` on `owner`'s loop every LIVE_REFRESH_S seconds while switched on;
    `stopped` (the screen's title update) runs when a failed read switches it off."""

    def __init__(self, owner: MessagePump, tick: Callable[[], object], stopped: Callable[[], object]) -> None:
        self._owner = owner
        self._tick = tick
        self._stopped = stopped
        self._timer: Timer | None = None

    @property
    def on(self) -> bool:
        return self._timer is not None

    def stop_on_error(self, error: object) -> bool:
        """on_error for a live read: stop following (one notification, not one per tick)."""
        self.set(False)
        self._stopped()
        return False

    def set(self, live: bool) -> None:
        """Start (live) or stop the timer; a running timer keeps its rhythm."""
        if live and self._timer is None:
            self._timer = self._owner.set_interval(LIVE_REFRESH_S, self._tick)
        elif not live and self._timer is not None:
            self._timer.stop()
            self._timer = None
