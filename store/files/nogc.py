"""Pause the cyclic garbage collector while a listing builds its (acyclic) results.

A cold listing of 10k runs creates ~170k container objects that all stay alive (runs, their
metric dicts, latest points). CPython's collector runs a full pass whenever the surviving
objects grew by a quarter, and a full pass walks every object of the process: with a big
heap (mlflow, or a TUI framework, imported) a few such passes cost 0.3-0.5 s of a ~2.5 s
listing and free nothing, since none of these objects is in a cycle. Mercurial pauses the
collector the same way while it builds its big dicts (`util.nogc`).

The pause is process-wide: cyclic garbage other threads make meanwhile is collected when it
ends, a few seconds later at most. If the collector was already disabled, it stays so.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)


def gc_paused(func: F) -> F:
    """Run `func` with the cyclic garbage collector disabled (re-enabled after, if it was)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return func(*args, **kwargs)
        finally:
            if was_enabled:
                gc.enable()

    return wrapper  # type: ignore[return-value]
