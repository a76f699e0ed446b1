"""Reading the runs a sweep chart draws: every run matching the runs screen's filter, paged,
or the marked runs; only the chosen keys' values are loaded (`include_keys`).

Runs in a worker. A filter matching more than SWEEP_CAP runs draws the SWEEP_CAP newest (the
store's default order) and says so: plotext draws 10,000 points in about a second on a busy
machine, and more cannot be told apart on a terminal anyway.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tracktui.store.base import Store
from tracktui.store.model import Keys, Run, ViewType

#: Runs drawn at most.
SWEEP_CAP = 10_000
#: Runs asked for per search.
PAGE_SIZE = 1000


@dataclass(frozen=True)
class SweepRuns:
    runs: tuple[Run, ...]
    #: True when more runs matched than were read (SWEEP_CAP).
    capped: bool = False


def keys_of(column_ids: Iterable[str]) -> Keys:
    """The `include_keys` that load exactly these `metrics:`/`params:`/`tags:` keys."""
    wanted: dict[str, list[str]] = {"metrics": [], "params": [], "tags": []}
    for column_id in column_ids:
        kind, _, key = column_id.partition(":")
        if kind in wanted and key not in wanted[kind]:
            wanted[kind].append(key)
    return Keys(metrics=tuple(wanted["metrics"]), params=tuple(wanted["params"]), tags=tuple(wanted["tags"]))


def covers(loaded: Keys, wanted: Keys) -> bool:
    """True when runs loaded with `loaded` hold every key of `wanted`."""
    return (set(wanted.metrics) <= set(loaded.metrics) and set(wanted.params) <= set(loaded.params)
            and set(wanted.tags) <= set(loaded.tags))


def load_filtered(
    store: Store, experiment_id: str, filter_string: str, view: ViewType, include: Keys, cap: int = SWEEP_CAP,
) -> SweepRuns:
    """Every run of the experiment matching `filter_string` (children too), up to `cap`."""
    runs: list[Run] = []
    token = None
    while True:
        size = min(PAGE_SIZE, cap - len(runs))
        page = store.search_runs([experiment_id], filter_string, (), view, size, token, include)
        runs.extend(page.items)
        token = page.next_page_token
        if not token:
            return SweepRuns(tuple(runs))
        if len(runs) >= cap:
            return SweepRuns(tuple(runs), capped=True)


def load_marked(store: Store, run_ids: Sequence[str], experiment_ids: Sequence[str], include: Keys) -> SweepRuns:
    """The marked runs (of any experiments), in the order they were marked."""
    from ..runs_by_id import fetch_runs

    return SweepRuns(tuple(fetch_runs(store, run_ids, experiment_ids, include)))
