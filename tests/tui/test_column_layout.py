"""column_layout: whole columns only, Name pinned, free width to Name (pure function)."""

from __future__ import annotations

from tracktui.tui.columns import column
from tracktui.tui.widgets.column_layout import NAME_MIN_WIDTH, lay_out

COLUMNS = [column(c) for c in ("attr:status", "attr:name", "attr:start", "metrics:a", "metrics:b")]
WIDTHS = {"attr:status": 1, "attr:name": 40, "attr:start": 16, "metrics:a": 10, "metrics:b": 10}


def test_free_width_goes_to_name_up_to_its_content():
    layout = lay_out(COLUMNS, WIDTHS, 0, 200)
    assert [p.width for p in layout.placed] == [1, 40, 16, 10, 10]
    assert not layout.more_left and not layout.more_right


def test_a_column_that_does_not_fit_whole_is_not_drawn():
    # 1 + 26 + 16 + 10 + 3 separators = 56: metrics:b (11 more) does not fit in 60
    layout = lay_out(COLUMNS, WIDTHS, 0, 60)
    assert [p.column.id for p in layout.placed] == ["attr:status", "attr:name", "attr:start", "metrics:a"]
    assert layout.placed[1].width == NAME_MIN_WIDTH + 4  # the 4 cells left over
    assert layout.more_right and all(p.x + p.width <= 60 for p in layout.placed)


def test_scrolling_keeps_status_and_name():
    layout = lay_out(COLUMNS, WIDTHS, 2, 60)
    assert [p.column.id for p in layout.placed] == ["attr:status", "attr:name", "metrics:b"]
    assert layout.more_left and not layout.more_right
    assert layout.placed[1].width == 40  # the room the scrolled-away columns left


def test_one_column_wider_than_the_room_is_cut_rather_than_hidden():
    layout = lay_out(COLUMNS, {**WIDTHS, "attr:start": 100}, 0, 50)
    start = next(p for p in layout.placed if p.column.id == "attr:start")
    assert start.x + start.width == 50
