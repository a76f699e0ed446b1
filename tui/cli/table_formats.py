"""A table of store values (headless `runs`/`experiments`) written as CSV, JSON, Markdown, a Rich
table or plain TSV-like text.

CSV and JSON carry values exactly (floats round-trip; text is escaped only as the format
requires; JSON writes NaN and ±inf as the strings "NaN", "Infinity", "-Infinity", which plain
JSON cannot hold, and times as epoch milliseconds). The formats for eyes (table, plain,
markdown) show store text through `safe_text.inert`: a run name holding an escape sequence is
shown, never sent to the terminal.
"""

from __future__ import annotations

import csv
import json
import math
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TextIO

from ..safe_text import inert

FORMATS = ("table", "plain", "csv", "json", "markdown")
#: What the human formats show for a missing value, and for the group of runs without the key.
MISSING = ""
NONE_GROUP = "(none)"


@dataclass(frozen=True, slots=True)
class Column:
    """One output column: its header and how its values read (text, number or epoch-ms time)."""

    name: str
    kind: str = "text"  # "text", "number" or "time"


def print_table(columns: Sequence[Column], rows: Sequence[Sequence[object]], fmt: str) -> int:
    """`write_table` to stdout; the exit code. A reader that stops early (`| head`) ends the
    output quietly, as `cat` does, instead of with a traceback."""
    try:
        write_table(columns, rows, fmt, sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
    return 0


def write_table(columns: Sequence[Column], rows: Sequence[Sequence[object]], fmt: str, out: TextIO,
                *, exact: bool = False) -> None:
    """Write `rows` (one value per column: str, int, float or None) to `out` as `fmt`.
    `exact`: Markdown writes floats whole (repr) instead of six significant digits."""
    if fmt == "csv":
        _write_csv(columns, rows, out)
    elif fmt == "json":
        _write_json(columns, rows, out)
    elif fmt == "markdown":
        _write_markdown(columns, rows, out, exact=exact)
    elif fmt == "table":
        _write_rich(columns, rows, out)
    else:
        _write_plain(columns, rows, out)


def _write_csv(columns, rows, out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c.name for c in columns])
    writer.writerows(rows)  # the csv module writes None as "" and floats as repr (round-trip)


def _write_json(columns, rows, out: TextIO) -> None:
    names = [c.name for c in columns]
    records = [{name: _json_value(v) for name, v in zip(names, row)} for row in rows]
    json.dump(records, out, ensure_ascii=False, indent=1, allow_nan=False)
    out.write("\n")


def _json_value(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"
    return value


def _shown(value: object, kind: str, *, exact: bool) -> str:
    """A value as the human formats show it: times as UTC, numbers short (or `exact`)."""
    if value is None:
        return MISSING
    if kind == "time" and isinstance(value, int):
        return datetime.fromtimestamp(value / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float):
        return repr(value) if exact else f"{value:.6g}"
    return inert(value)


def _write_plain(columns, rows, out: TextIO) -> None:
    """Tab-separated, one run per line, no colour: for `cut`, `sort` and `awk` (inert() shows
    a tab or line break inside a value as ␉ / ␊, so the columns stay aligned)."""
    out.write("\t".join(inert(c.name) for c in columns) + "\n")
    for row in rows:
        out.write("\t".join(_shown(v, c.kind, exact=True) for c, v in zip(columns, row)) + "\n")


def _write_markdown(columns, rows, out: TextIO, *, exact: bool = False) -> None:
    def cell(text: str) -> str:
        return text.replace("\\", "\\\\").replace("|", "\\|")

    out.write("| " + " | ".join(cell(inert(c.name)) for c in columns) + " |\n")
    out.write("|" + "|".join("---:" if c.kind == "number" else "---" for c in columns) + "|\n")
    for row in rows:
        out.write("| " + " | ".join(cell(_shown(v, c.kind, exact=exact)) for c, v in zip(columns, row)) + " |\n")


def _write_rich(columns, rows, out: TextIO) -> None:
    """A Rich table sized to the terminal; cells are Text, never parsed as markup."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(show_edge=False, header_style="bold", pad_edge=False)
    for c in columns:
        table.add_column(Text(inert(c.name)), justify="right" if c.kind == "number" else "left",
                         overflow="fold")
    for row in rows:
        table.add_row(*(Text(_shown(v, c.kind, exact=False)) for c, v in zip(columns, row)))
    Console(file=out, highlight=False).print(table)
