"""The headless output formats with hostile store text: CSV/JSON carry it exactly, the formats
for eyes show it inert (no escape sequence reaches the terminal, no markup is interpreted)."""

from __future__ import annotations

import csv
import io
import json
import math

import pytest

from tracktui.tui.cli.table_formats import FORMATS, Column, write_table

HOSTILE = "\x1b]52;c;cHduZWQ=\x07[bold]x[/bold] a|b\tc\nd"
COLUMNS = [Column("name"), Column("loss", "number"), Column("start_time", "time")]
ROWS = [[HOSTILE, math.nan, 1_700_000_000_000], ["ok", 0.1 + 0.2, None], [None, -math.inf, 0]]


def render(fmt: str) -> str:
    out = io.StringIO()
    write_table(COLUMNS, ROWS, fmt, out)
    return out.getvalue()


def test_csv_carries_values_exactly():
    rows = list(csv.reader(io.StringIO(render("csv"))))
    assert rows[0] == ["name", "loss", "start_time"]
    assert rows[1][0] == HOSTILE and math.isnan(float(rows[1][1])) and rows[1][2] == "1700000000000"
    assert float(rows[2][1]) == 0.1 + 0.2 and rows[2][2] == ""
    assert rows[3] == ["", "-inf", "0"]


def test_json_carries_values_exactly_and_stays_valid_json():
    text = render("json")
    records = json.loads(text, parse_constant=lambda c: pytest.fail(f"bare {c} in JSON"))
    assert records[0] == {"name": HOSTILE, "loss": "NaN", "start_time": 1_700_000_000_000}
    assert records[1]["loss"] == 0.1 + 0.2 and records[1]["start_time"] is None
    assert records[2]["loss"] == "-Infinity"


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f not in ("csv", "json")])
def test_formats_for_eyes_show_store_text_inert(fmt):
    text = render(fmt)
    assert "\x1b" not in text and "\x07" not in text
    assert "␛]52;c;cHduZWQ=␇[bold]x[/bold]" in text.replace("\n", "")  # shown, not interpreted


def test_plain_is_one_line_per_row_with_tabs_between_columns():
    lines = render("plain").splitlines()
    assert len(lines) == 1 + len(ROWS)
    assert [len(line.split("\t")) for line in lines] == [3] * 4
    assert lines[1].split("\t")[2] == "2023-11-14 22:13:20"


def test_markdown_escapes_the_column_separator():
    lines = render("markdown").splitlines()
    assert lines[1] == "|---|---:|---|"
    assert "a\\|b" in lines[2]
    assert all(line.count("|") - line.count("\\|") == 4 for line in lines)
