"""What a view shows, as (columns, rows) of exact values for tui/cli/table_formats.py.

Values are the store's own: floats whole (never the table's six digits), times in epoch
milliseconds, text as logged; a missing value is None (empty in CSV, null in JSON). Column
names follow the headless `tracktui runs` output (`run_name`, `metrics.acc`,
`mean(metrics.acc)`), so a script reads an export and a CLI run alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import attrgetter

from tracktui.store.base import Store
from tracktui.store.model import Keys, Run, RunGroup, ViewType

from ..cli.runs import ATTRIBUTE_COLUMNS, RUN_COUNT_COLUMN
from ..cli.table_formats import Column as OutColumn
from ..columns import Column, dataset_summary

#: Table attribute column → the headless column it exports as.
ATTRIBUTE_EXPORTS = {"status": "status", "name": "run_name", "start": "start_time", "duration": "duration_ms",
                     "user": "user_id", "end": "end_time", "run_id": "run_id"}
#: Runs per store page while exporting every matching run.
EXPORT_PAGE_SIZE = 1000

Table = tuple[list[OutColumn], list[list[object]]]


def runs_table(columns: Sequence[Column], runs: Sequence[Run]) -> Table:
    """One row per run, one column per visible table column, in the table's order."""
    readers = [_reader(col) for col in columns]
    rows: list[list[object]] = [[read(run) for read in readers] for run in runs]
    return [_out_column(col) for col in columns], rows


def groups_table(group_label: str, columns: Sequence[Column], aggregates: dict[str, str],
                 groups: Sequence[RunGroup]) -> Table:
    """One row per group: its value (None for the runs without one), its run count, then each
    metric column's aggregate, e.g. `mean(metrics.acc)`, as the grouped table shows them."""
    metrics = [col.key for col in columns if col.kind == "metrics"]
    pairs = [(metric, aggregates.get(metric, "mean")) for metric in metrics]
    out = [OutColumn(group_label), OutColumn(RUN_COUNT_COLUMN, "number")]
    out += [OutColumn(f"{aggregate}(metrics.{metric})", "number") for metric, aggregate in pairs]
    rows: list[list[object]] = [
        [group.value, group.run_count, *(group.aggregates.get(pair) for pair in pairs)] for group in groups
    ]
    return out, rows


def diff_table(runs: Sequence[Run], keys: Sequence[str]) -> Table:
    """The compare diff table: one row per shown key (`params.x`, `metrics.y`), one column per
    run headed by its name (and id when two runs share a name, so JSON keeps every run)."""
    names = [run.display_name for run in runs]
    headers = [name if names.count(name) == 1 else f"{name} ({run.id})" for name, run in zip(names, runs)]
    rows: list[list[object]] = []
    for key in keys:
        kind, _, name = key.partition(".")
        if kind == "params":
            rows.append([key, *(run.params.get(name) for run in runs)])
        else:
            rows.append([key, *(None if (p := run.metrics.get(name)) is None else p.value for run in runs)])
    return [OutColumn("key"), *(OutColumn(h) for h in headers)], rows


def every_run(store: Store, experiment_id: str, filter_string: str, order_by: Sequence[str], view: ViewType,
              include: Keys, progress: Callable[[int], None]) -> list[Run]:
    """Every run matching the filter, in order, page by page; `progress(count so far)` after
    each page. Runs in a worker thread."""
    runs: list[Run] = []
    token = None
    while True:
        page = store.search_runs([experiment_id], filter_string, list(order_by), view, EXPORT_PAGE_SIZE, token,
                                 include)
        runs.extend(page.items)
        progress(len(runs))
        token = page.next_page_token
        if not token:
            return runs


def _out_column(col: Column) -> OutColumn:
    if col.kind == "attr":
        name = ATTRIBUTE_EXPORTS.get(col.key, col.key)
        return OutColumn(name, ATTRIBUTE_COLUMNS[name][1] if name in ATTRIBUTE_COLUMNS else "text")
    return OutColumn(f"{col.kind}.{col.key}", "number" if col.kind == "metrics" else "text")


def _reader(col: Column) -> Callable[[Run], object]:
    """The exact value of one column for a run."""
    key = col.key
    if col.kind == "metrics":
        return lambda run: None if (point := run.metrics.get(key)) is None else point.value
    if col.kind == "params":
        return lambda run: run.params.get(key)
    if col.kind == "tags":
        return lambda run: run.tags.get(key)
    if key == "datasets":
        return lambda run: dataset_summary(run) if run.inputs.dataset_inputs else None
    return attrgetter(ATTRIBUTE_COLUMNS[ATTRIBUTE_EXPORTS[key]][0])
