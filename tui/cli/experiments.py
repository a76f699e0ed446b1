"""`tracktui experiments [--filter …] [--view …] [--format …]`: the store's experiments with their
run counts on stdout, for scripts (headless: no Textual import)."""

from __future__ import annotations

import argparse
import sys

from ..run_counts import COUNT_CAP, count_limit
from .table_formats import FORMATS, Column, print_table

SUMMARY = "print the experiments (with run counts) as a table, CSV, JSON or Markdown"
DESCRIPTION = (
    "Print the experiments matching an MLflow experiment filter, newest first, with how many "
    "active runs each holds. Over a tracking server, which has no count endpoint, a count stops "
    f"at {COUNT_CAP:,} and a larger one is printed as {COUNT_CAP}+ (a string in JSON); --exact-counts "
    "counts on. "
    "Output: a table on a terminal, tab-separated plain text when piped, or CSV, JSON, Markdown "
    "with --format."
)
COLUMNS = (
    Column("experiment_id"), Column("name"), Column("runs", "number"), Column("lifecycle_stage"),
    Column("creation_time", "time"), Column("last_update_time", "time"), Column("artifact_location"),
)
PAGE_SIZE = 1000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `tracktui experiments` options, on the subcommand's parser."""
    parser.add_argument("--uri", default=None, help="tracking URI (default: $MLFLOW_TRACKING_URI, else the local default store)")
    parser.add_argument("--filter", default="", help="MLflow experiment filter, e.g. \"name LIKE 'sweep%%'\"")
    parser.add_argument("--view", choices=("active", "deleted", "all"), default="active", help="which experiments (default: active)")
    parser.add_argument("--format", choices=FORMATS, default=None,
                        help="output format (default: table on a terminal, plain tab-separated text otherwise)")
    parser.add_argument("--exact-counts", action="store_true",
                        help="count every run even over a tracking server (there each count is a series "
                             f"of searches; without this, counts stop at {COUNT_CAP:,})")


def run(args: argparse.Namespace) -> int:
    """Print as `args` says; the exit code."""
    from tracktui.store import FilterSyntaxError, StoreError, open_store

    from .output import fail, fail_filter

    fmt = args.format or ("table" if sys.stdout.isatty() else "plain")
    try:
        with open_store(args.uri, read_only=True) as store:
            experiments = []
            token = None
            while True:
                page = store.search_experiments(args.filter, view=args.view, max_results=PAGE_SIZE, page_token=token)
                experiments.extend(page)
                token = page.next_page_token
                if not token:
                    break
            at_most = None if args.exact_counts else count_limit(store)
            counts = store.count_runs_by_experiment([e.id for e in experiments], "active", at_most)
    except FilterSyntaxError as exc:
        return fail_filter(exc)
    except StoreError as exc:
        return fail(exc.message)
    rows = [
        [e.id, e.name, _count_value(counts.get(e.id, 0), at_most), e.lifecycle_stage, e.creation_time,
         e.last_update_time, e.artifact_location]
        for e in experiments
    ]
    return print_table(COLUMNS, rows, fmt)


def _count_value(count: int, at_most: int | None) -> int | str:
    """The count, or "10000+" past a bound of 10,000: text in every format (JSON included), so no
    script reads it as an exact number. No thousands separator, as the other numbers here."""
    return f"{at_most}+" if at_most is not None and count > at_most else count
