"""`tracktui runs EXPERIMENT [--filter …] [--order-by …] [--columns …] [--group-by KEY --agg …]
[--format …] [--limit N]`: an experiment's runs (or their groups) on stdout, for scripts.

Same store layer, filter grammar and errors as the TUI: a bad filter exits 2 with the reason and
a caret under the position. Grouping is the store's `group_runs` over the whole filtered
experiment (one GROUP BY on SQL stores), never over a page. Headless: no Textual import.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import TYPE_CHECKING

from .table_formats import FORMATS, NONE_GROUP, Column, print_table

if TYPE_CHECKING:
    from tracktui.store import Run

SUMMARY = "print an experiment's runs (or runs grouped by a param) as a table, CSV, JSON or Markdown"
DESCRIPTION = (
    "Print the runs of an experiment (name or id) matching an MLflow filter, with the chosen "
    "columns, or grouped by a param, a tag or the parent run with aggregates of each metric "
    "column. Output: a table on a terminal, tab-separated plain text when piped, or CSV, JSON, "
    "Markdown with --format."
)
#: Runs per store page while printing every run.
PAGE_SIZE = 5000
#: Attribute columns: name → (Run attribute, kind). `attributes.` / `attr.` prefixes allowed.
ATTRIBUTE_COLUMNS: dict[str, tuple[str, str]] = {
    "run_id": ("id", "text"),
    "run_name": ("name", "text"),
    "experiment_id": ("experiment_id", "text"),
    "status": ("status", "text"),
    "user_id": ("user_id", "text"),
    "start_time": ("start_time", "time"),
    "end_time": ("end_time", "time"),
    "duration_ms": ("duration_ms", "number"),
    "lifecycle_stage": ("lifecycle_stage", "text"),
    "artifact_uri": ("artifact_uri", "text"),
    "parent_run_id": ("parent_run_id", "text"),
}
ATTRIBUTE_ALIASES = {"name": "run_name", "id": "run_id", "user": "user_id", "duration": "duration_ms"}
DEFAULT_ATTRIBUTES = ("run_id", "run_name", "status", "start_time", "duration_ms")
RUN_COUNT_COLUMN = "runs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `tracktui runs` options, on the subcommand's parser."""
    parser.add_argument("experiment", help="experiment name, or id")
    parser.add_argument("--uri", default=None, help="tracking URI (default: $MLFLOW_TRACKING_URI, else the local default store)")
    parser.add_argument("--filter", default="", help="MLflow run filter, e.g. \"metrics.acc > 0.9 and params.lr = '0.01'\"")
    parser.add_argument("--order-by", action="append", default=[], metavar="KEY [ASC|DESC]",
                        help="order as MLflow's order_by (repeatable); with --group-by, a result "
                             "column such as 'mean(metrics.acc) DESC' or 'runs'")
    parser.add_argument("--columns", default=None,
                        help="comma-separated columns: run_id, run_name, status, start_time, end_time, "
                             "duration_ms, user_id, parent_run_id, …, metrics.K, params.K, tags.K "
                             "(default: a few attributes, every metric and param)")
    parser.add_argument("--group-by", default=None, metavar="KEY",
                        help="group runs by params.K, tags.K or parent: one row per group")
    parser.add_argument("--agg", default="mean",
                        help="with --group-by: comma-separated aggregates of each metric column, "
                             "from mean, min, max, last, count (default: mean)")
    parser.add_argument("--format", choices=FORMATS, default=None,
                        help="output format (default: table on a terminal, plain tab-separated text otherwise)")
    parser.add_argument("--limit", type=int, default=None, help="print at most N runs (or groups)")
    parser.add_argument("--view", choices=("active", "deleted", "all"), default="active", help="which runs (default: active)")


def run(args: argparse.Namespace) -> int:
    """Print as `args` says; the exit code."""
    from tracktui.store import FilterSyntaxError, StoreError, open_store

    from .output import fail, fail_filter

    fmt = args.format or ("table" if sys.stdout.isatty() else "plain")
    if args.limit is not None and args.limit < 1:
        return fail("--limit must be at least 1")
    try:
        with open_store(args.uri, read_only=True) as store:
            experiment = find_experiment(store, args.experiment)
            if args.group_by:
                columns, rows = grouped_table(store, experiment.id, args, human=fmt not in ("csv", "json"))
            else:
                columns, rows = runs_table(store, experiment.id, args)
    except FilterSyntaxError as exc:
        what = "filter" if exc.text == args.filter else "--order-by" if exc.text in args.order_by else "--group-by"
        return fail_filter(exc, what)
    except StoreError as exc:
        return fail(exc.message)
    except ValueError as exc:  # a bad --columns, --agg or group --order-by
        return fail(str(exc))
    return print_table(columns, rows, fmt)


def find_experiment(store, text: str):
    """The experiment named `text`, else the one whose id it is. Raises NotFound."""
    from tracktui.store import NotFound
    from tracktui.store.base import find_experiment as named_or_numbered

    experiment = named_or_numbered(store, text)
    if experiment is None:
        raise NotFound(f"No experiment is named {text!r} or has that id")
    return experiment


# -- plain runs -------------------------------------------------------------------------------


def runs_table(store, experiment_id: str, args: argparse.Namespace) -> tuple[list[Column], list[list]]:
    """(columns, one row per run) for every run matching the filter, in the asked order."""
    from tracktui.store import Keys

    specs = _columns(store, experiment_id, args.columns)
    include = Keys(
        metrics=tuple(key for kind, key in specs if kind == "metrics"),
        params=tuple(key for kind, key in specs if kind == "params"),
        tags=tuple(key for kind, key in specs if kind == "tags"),
    )
    cells = [_cell_reader(kind, key) for kind, key in specs]
    rows: list[list] = []
    token = None
    while args.limit is None or len(rows) < args.limit:
        size = PAGE_SIZE if args.limit is None else min(PAGE_SIZE, args.limit - len(rows))
        page = store.search_runs([experiment_id], args.filter, args.order_by, view=args.view,
                                 max_results=size, page_token=token, include_keys=include)
        rows.extend([cell(run) for cell in cells] for run in page)
        token = page.next_page_token
        if not token:
            break
    return [_column(kind, key) for kind, key in specs], rows


def _cell_reader(kind: str, key: str) -> Callable[[Run], object]:
    """The function giving a run's value for one column (chosen once, not per cell: 10k
    runs × 20 columns is 200k cells)."""
    if kind == "attr":
        return attrgetter(ATTRIBUTE_COLUMNS[key][0])
    if kind == "metrics":
        return lambda run: None if (point := run.metrics.get(key)) is None else point.value
    if kind == "params":
        return lambda run: run.params.get(key)
    return lambda run: run.tags.get(key)


def _column(kind: str, key: str) -> Column:
    if kind == "attr":
        return Column(key, ATTRIBUTE_COLUMNS[key][1])
    return Column(f"{kind}.{key}", "number" if kind == "metrics" else "text")


def _columns(store, experiment_id: str, text: str | None) -> list[tuple[str, str]]:
    """[(kind, key)] of `--columns`, or the default: a few attributes, every metric and param."""
    if text is None:
        keys = store.list_keys([experiment_id])
        return ([("attr", a) for a in DEFAULT_ATTRIBUTES] + [("metrics", k) for k in keys.metrics]
                + [("params", k) for k in keys.params])
    return [parse_column(item) for item in split_list(text)]


def parse_column(text: str) -> tuple[str, str]:
    """`run_name`, `attributes.status`, `metrics.acc`, ``params.`batch size` `` → (kind, key).
    Raises ValueError."""
    from tracktui.store import FilterSyntaxError
    from tracktui.store.search import parse_run_order_by

    name = text.strip()
    for prefix in ("attributes.", "attribute.", "attr."):
        if name.lower().startswith(prefix):
            name = name[len(prefix):]
    name = ATTRIBUTE_ALIASES.get(name, name)
    if name in ATTRIBUTE_COLUMNS:
        return "attr", name
    try:
        (key,) = parse_run_order_by([text.strip()]) or (None,)
    except FilterSyntaxError as exc:
        raise ValueError(f"unknown column {text.strip()!r}: {exc.reason}") from None
    if key is None or key.kind not in ("metric", "param", "tag") or not key.ascending:
        raise ValueError(f"unknown column {text.strip()!r}: expected an attribute, metrics.K, params.K or tags.K")
    return f"{key.kind}s", key.key


def split_list(text: str) -> list[str]:
    """Comma-separated items; commas inside backticks or quotes belong to the key."""
    items: list[str] = []
    current: list[str] = []
    quote = ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "`\"'":
            quote = ch
        elif ch == ",":
            items.append("".join(current))
            current = []
            continue
        current.append(ch)
    items.append("".join(current))
    return [item.strip() for item in items if item.strip()]


# -- groups -----------------------------------------------------------------------------------


def grouped_table(store, experiment_id: str, args: argparse.Namespace, *, human: bool) -> tuple[list[Column], list[list]]:
    """(columns, one row per group): the group value, its run count, then each aggregate of
    each metric column (`--columns`' metrics, else every metric), e.g. `mean(metrics.acc)`."""
    from tracktui.store.model import AGGREGATES

    aggregates = split_list(args.agg)
    unknown = [a for a in aggregates if a not in AGGREGATES]
    if unknown or not aggregates:
        raise ValueError(f"unknown aggregate {', '.join(unknown) or '(none)'}: expected {', '.join(AGGREGATES)}")
    if args.columns is None:
        metrics = list(store.list_keys([experiment_id]).metrics)
    else:
        metrics = [key for kind, key in map(parse_column, split_list(args.columns)) if kind == "metrics"]
    pairs = [(metric, aggregate) for metric in metrics for aggregate in aggregates]
    groups = store.group_runs([experiment_id], args.group_by, pairs, args.filter, args.view)
    columns = [Column(args.group_by.strip()), Column(RUN_COUNT_COLUMN, "number")]
    columns += [Column(f"{aggregate}(metrics.{metric})", "number") for metric, aggregate in pairs]
    rows = [
        [NONE_GROUP if g.value is None and human else g.value, g.run_count,
         *(g.aggregates.get(pair) for pair in pairs)]
        for g in groups
    ]
    rows = _order_groups(columns, rows, args.order_by)
    return columns, rows if args.limit is None else rows[:args.limit]


def _order_groups(columns: Sequence[Column], rows: list[list], order_by: Sequence[str]) -> list[list]:
    """Rows sorted by result columns (`mean(metrics.acc) DESC`, `runs`), last key first, so
    the first key decides; missing values last in both directions."""
    names = [c.name for c in columns]
    for item in reversed(order_by):
        name, _, direction = item.strip().rpartition(" ")
        if direction.upper() not in ("ASC", "DESC"):
            name, direction = item.strip(), "ASC"
        if name.strip() not in names:
            raise ValueError(f"cannot order groups by {item!r}: expected one of {', '.join(names)}")
        i = names.index(name.strip())
        present = [r for r in rows if r[i] is not None and r[i] == r[i]]  # NaN: with the missing
        missing = [r for r in rows if not (r[i] is not None and r[i] == r[i])]
        rows = sorted(present, key=lambda r: r[i], reverse=direction.upper() == "DESC") + missing
    return rows
