"""Stopping an abandoned read between its requests.

A REST read can be many requests (a run count is a series of one-run searches, each a full
query on the server). A caller that may drop the result runs the read inside
`interruptible(event)`; once it sets the event, the transport refuses to send the next request
(`check()` raises Interrupted) instead of querying the server for an answer nobody will read.
Only reads should be run this way: a write stopped half-way would be left half-done.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from .errors import StoreError

_stop: ContextVar[threading.Event | None] = ContextVar("tracktui_store_stop", default=None)


class Interrupted(StoreError):
    """The caller abandoned the call; no further request was sent."""

    title = "Interrupted"


@contextmanager
def interruptible(stop: threading.Event) -> Iterator[None]:
    """Store calls made inside (in this thread or context) stop at their next request once
    `stop` is set."""
    token = _stop.set(stop)
    try:
        yield
    finally:
        _stop.reset(token)


def check() -> None:
    """Raise Interrupted if the current call was abandoned."""
    stop = _stop.get()
    if stop is not None and stop.is_set():
        raise Interrupted("The call was abandoned before its next request")
