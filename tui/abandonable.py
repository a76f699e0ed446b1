"""Store calls the UI can walk away from, so quitting never waits for a stuck call.

Textual runs thread workers on asyncio's default executor, and both `asyncio.run` and the
interpreter join those threads at exit: one store call blocked in a slow preview or a
server's minutes-long retry schedule kept the process alive after `q` (until ctrl+c printed
a traceback). So the worker thread does not make the call itself: it runs it on a daemon
thread and waits for the result or for its own cancellation, whichever comes first. When
the app quits, Textual cancels every worker, each returns at once, and the daemon thread
is left to die with the process — after `finish_pending` gave it a short grace, so a write
made just before `q` still completes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

#: How often a waiting worker looks whether it was cancelled (seconds).
POLL_S = 0.05


#: Calls still running on their daemon threads (abandoned ones included).
_running: set[threading.Thread] = set()


class Abandoned(Exception):
    """The worker was cancelled before the call finished; its result will be dropped."""


def call_abandonable(call: Callable[[], T], is_cancelled: Callable[[], bool]) -> T:
    """`call()`'s result (or its exception), run on a daemon thread; raises Abandoned as
    soon as `is_cancelled()` turns true while the call is still running."""
    done = threading.Event()
    outcome: list = []

    def run() -> None:
        try:
            outcome.append((True, call()))
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting worker
            outcome.append((False, exc))
        finally:
            done.set()
            _running.discard(thread)

    thread = threading.Thread(target=run, name="tracktui-store-call", daemon=True)
    _running.add(thread)
    thread.start()
    while not done.wait(POLL_S):
        if is_cancelled():
            raise Abandoned
    ok, value = outcome[0]
    if ok:
        return value
    raise value


def finish_pending(grace_s: float) -> int:
    """Give calls still running up to `grace_s` seconds in all to finish (a write made just
    before quitting); returns how many are still stuck (left to die with the process)."""
    deadline = time.monotonic() + grace_s
    for thread in list(_running):
        thread.join(max(0.0, deadline - time.monotonic()))
    return sum(1 for thread in list(_running) if thread.is_alive())
