"""Store calls begun before the app is up, so the database works while Textual starts.

`tracktui URI --experiment X` knows its first queries before any screen exists: the runs
screen asks for the experiment's keys, then (with no saved view) for the first page with the
default columns. `prefetch_runs` sends both from a thread as soon as the store is open; the
screen takes a prefetched result only when its own call has the same method and arguments
(`take`), else makes its call as usual, so a prefetch can never show other data than the
screen asked for. On the 1M-run bench store (bench/bench_scale.py, the TUI row) the two queries
overlap the ~0.3 s Textual spends importing and composing its first screens.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from tracktui.store.base import Store
from tracktui.store.model import PARENT_RUN_TAG, Experiment, Keys

from .columns import column, default_column_ids, keys_to_fetch
from .config import Config, RunsView

#: Runs fetched per request; the next page is asked for when the cursor nears the end.
PAGE_SIZE = 200
#: The tree's filters: top-level runs first, their children on expand.
ROOTS_ONLY = f"tags.`{PARENT_RUN_TAG}` IS NULL"
CHILDREN_ONLY = f"tags.`{PARENT_RUN_TAG}` IS NOT NULL"


class Prefetch:
    """Calls under way, each as (method name, arguments) and its Future; each is taken once."""

    def __init__(self) -> None:
        self._calls: list[tuple[tuple[Any, ...], Future[Any]]] = []
        self._lock = threading.Lock()

    def put(self, call: tuple[Any, ...], future: Future[Any]) -> None:
        with self._lock:
            self._calls.append((call, future))

    def take(self, call: tuple[Any, ...]) -> Callable[[], Any] | None:
        """The prefetched result's getter (blocks until it is there, raises what the call
        raised) if exactly this call was prefetched, else None."""
        with self._lock:
            for n, (prefetched, future) in enumerate(self._calls):
                if prefetched == call:
                    del self._calls[n]
                    return future.result
        return None


def first_page_call(experiment: Experiment, keys: Keys) -> tuple[Any, ...]:
    """The runs screen's first search of an experiment whose list has no saved columns, filter
    or sort: the tree's top-level runs, the store's order, the default columns' keys."""
    view = "all" if experiment.lifecycle_stage == "deleted" else "active"
    include = keys_to_fetch([column(cid) for cid in default_column_ids(keys)])
    return ("search_runs", experiment.id, ROOTS_ONLY, (), view, PAGE_SIZE, include)


def prefetch_runs(store: Store, experiment: Experiment, config: Config) -> Prefetch:
    """Start the runs screen's keys query, and its first page when the list has no saved
    view, in a daemon thread (a quit never waits for it)."""
    prefetch = Prefetch()
    keys_future: Future[Keys] = Future()
    prefetch.put(("list_keys", experiment.id), keys_future)
    default_view = (not config.columns_for(store.display_uri, experiment.id)
                    and config.runs_view_for(store.display_uri, experiment.id) == RunsView())

    def work() -> None:
        try:
            keys = store.list_keys([experiment.id])
        except BaseException as exc:  # the screen's worker raises it, as its own call would
            keys_future.set_exception(exc)
            return
        page_future: Future[Any] | None = None
        if default_view:
            call = first_page_call(experiment, keys)
            page_future = Future()
            prefetch.put(call, page_future)  # before the keys are out: the screen asks right after
        keys_future.set_result(keys)
        if page_future is not None:
            try:
                _, eid, filter_string, order_by, view, size, include = call
                page_future.set_result(store.search_runs([eid], filter_string, list(order_by), view, size, None,
                                                         include))
            except BaseException as exc:
                page_future.set_exception(exc)

    threading.Thread(target=work, name="tracktui-prefetch", daemon=True).start()
    return prefetch
