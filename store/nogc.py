"""Pause the cyclic garbage collector while a listing builds its (acyclic) results.

Speed trick, kept because bench/bench_files.py (cold 10k listing: full GC passes cost 0.36-0.54 s
and freed nothing) and bench/bench_store.py (all 10k runs with their data: 482 -> 377 ms CPU)
show the win; see bench/README.md.

A listing of 10k runs creates ~100-170k container objects that all stay alive (runs, their
metric dicts, latest points). CPython's collector runs a full pass whenever the surviving
objects grew by a quarter, and a full pass walks every object of the process: with a big
heap (mlflow, or a TUI framework, imported) such passes free nothing, since none of these
objects is in a cycle. Mercurial pauses the collector the same way (`util.nogc`).

The pause is process-wide: cyclic garbage other threads make meanwhile is collected when it
ends, a few seconds later at most. If the collector was already disabled, it stays so.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector disabled inside the block (re-enabled after, if it was).

    Usable as `with gc_paused():` or as a decorator (`@gc_paused()`)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
