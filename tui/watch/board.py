"""One refresh of the watch board: which store calls it makes, and the rows they give.

Cost stays flat however big the store: one experiments listing (only when watching all of
them), one search for RUNNING runs (the runs table's status filter, never the whole table), one
`get_metric_tails` of `TAIL_POINTS` points of each running run's charted metric (SQL: one
statement of backwards index range reads; file store: each file's end; REST: one
get-history-bulk-interval request per run for the steps up to the latest one, which the search
gave), and one `get_run` per run that stopped running since the last refresh. Everything else
(NaN checks, system figures, last logging time) comes from the latest metrics the search
already returns.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from tracktui.store.base import Store
from tracktui.store.errors import NotFound
from tracktui.store.model import MetricPoint, Run

from . import health
from .health import Flag

#: Points of the charted metric read per run and refresh (the sparkline and the rules use them).
TAIL_POINTS = 60
#: Running runs shown at most (a board, not a listing).
MAX_RUNS = 200
RUNNING_FILTER = "attributes.status = 'RUNNING'"
CPU_KEY = "system/cpu_utilization_percentage"
MEMORY_KEY = "system/system_memory_usage_percentage"


@dataclass(frozen=True)
class RunState:
    """What the board shows about one run, computed at `now_ms`."""

    run: Run
    experiment_name: str
    metric: str | None
    tail: tuple[MetricPoint, ...]
    last_logged_ms: int | None
    steps_per_minute: float | None
    gpu: float | None
    cpu: float | None
    memory: float | None
    flags: tuple[Flag, ...] = ()

    @property
    def running(self) -> bool:
        return self.run.status == "RUNNING"

    @property
    def last_step(self) -> int | None:
        steps = [p.step for p in self.run.metrics.values()]
        return max(steps) if steps else None


@dataclass(frozen=True)
class Board:
    """One refresh: the running runs (newest first) and the runs that stopped since."""

    running: tuple[RunState, ...]
    stopped: tuple[RunState, ...] = ()
    calls: int = 0
    experiment_names: Mapping[str, str] = field(default_factory=dict)


def read_board(
    store: Store,
    experiments: Mapping[str, str] | None,
    watched: Collection[str],
    now_ms: int,
    metric: str | None = None,
) -> Board:
    """Read the board: RUNNING runs of `experiments` (id -> name; None: every active one), and
    the runs in `watched` (ids running at the last refresh) that stopped since. Store calls
    only; runs in a worker thread."""
    calls = 0
    if experiments is None:
        names = {e.id: e.name for e in store.search_experiments(max_results=1000).items}
        calls += 1
    else:
        names = dict(experiments)
    ids = list(names)
    runs: list[Run] = []
    if ids:
        runs = list(store.search_runs(ids, RUNNING_FILTER, max_results=MAX_RUNS).items)
        calls += 1
    keys = {run.id: chosen_metric(run.metrics, metric) for run in runs}
    asked = [(run.id, key, run.metrics[key].step) for run in runs if (key := keys[run.id]) is not None]
    tails = store.get_metric_tails(asked, TAIL_POINTS) if asked else {}
    calls += 1 if asked else 0
    running = []
    for run in runs:
        key = keys[run.id]
        tail = tuple(tails.get((run.id, key), ())) if key else ()
        running.append(run_state(run, names.get(run.experiment_id, run.experiment_id), key, tail, now_ms))
    seen = {r.id for r in runs}
    stopped = []
    for run_id in watched:
        if run_id in seen:
            continue
        try:
            run = store.get_run(run_id)
        except NotFound:  # deleted for good meanwhile
            continue
        finally:
            calls += 1
        key = chosen_metric(run.metrics, metric)
        stopped.append(run_state(run, names.get(run.experiment_id, run.experiment_id), key, (), now_ms))
    return Board(tuple(running), tuple(stopped), calls, names)


def chosen_metric(metrics: Mapping[str, MetricPoint], wanted: str | None = None) -> str | None:
    """The metric to chart: `wanted` if the run has it, else the first (sorted) whose name
    contains "loss", else the first non-system metric, else None."""
    if wanted is not None and wanted in metrics:
        return wanted
    keys = sorted(k for k in metrics if not k.startswith("system/"))
    return next((k for k in keys if "loss" in k.lower()), keys[0] if keys else None)


def run_state(run: Run, experiment_name: str, metric: str | None, tail: Sequence[MetricPoint], now_ms: int) -> RunState:
    """The board row of `run` with its flags, computed from what was read."""
    stamps = [p.timestamp for p in run.metrics.values()] + [p.timestamp for p in tail]
    last_logged = max(stamps) if stamps else None
    flags: list[Flag | None] = [health.non_finite(run.metrics)]
    if run.status == "RUNNING":
        if metric is not None and "loss" in metric.lower():
            flags.append(health.rising(tail, metric))
        flags.append(health.stalled(last_logged or run.start_time, health.usual_interval_ms(tail), now_ms))
        flags.append(health.gpu_idle(run.metrics))
    else:
        flags.append(health.ended_badly(run.status, run.start_time, run.end_time))
    return RunState(
        run=run,
        experiment_name=experiment_name,
        metric=metric,
        tail=tuple(tail),
        last_logged_ms=last_logged,
        steps_per_minute=health.steps_per_minute(tail),
        gpu=_mean(p.value for k, p in run.metrics.items() if health.GPU_UTILISATION.match(k)),
        cpu=_value(run.metrics, CPU_KEY),
        memory=_value(run.metrics, MEMORY_KEY),
        flags=tuple(f for f in flags if f is not None),
    )


def _value(metrics: Mapping[str, MetricPoint], key: str) -> float | None:
    point = metrics.get(key)
    return point.value if point is not None and math.isfinite(point.value) else None


def _mean(values) -> float | None:
    finite = [v for v in values if math.isfinite(v)]
    return sum(finite) / len(finite) if finite else None


#: Seconds between refreshes at least, and at most once the server is slow or failing.
MIN_DELAY_S = 5.0
MAX_DELAY_S = 60.0


def next_delay(last_refresh_s: float, failures: int) -> float:
    """Seconds until the next refresh: LIVE-like 5 s, stretched to 10× the last refresh's
    duration (a slow server gets at most a tenth of its time taken by the board) and doubled
    per consecutive failure, up to a minute."""
    delay = max(MIN_DELAY_S, 10 * last_refresh_s) * 2 ** min(failures, 8)
    return min(MAX_DELAY_S, delay)
