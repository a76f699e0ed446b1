"""Where the runs table's columns go on screen: whole columns only, Name pinned, free width to Name.

A column cut at the screen's edge shows a wrong value with nothing to say so (`0.78845` read
as `0.7884`), so the table never scrolls by cells: `[`/`]` move which column comes first after
the pinned ones (status and Name), and only columns that fit whole are drawn. Width left over
goes to Name, so long run names that differ only at the end stay readable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..columns import Column

#: Name is never narrower than this while other columns are on screen.
NAME_MIN_WIDTH = 26
#: A column with one long value (a param, a tag) stops growing here; the cell ends with "…".
MAX_COLUMN_WIDTH = 40


@dataclass(frozen=True, slots=True)
class Placed:
    """A column drawn at cell `x`, `width` cells wide."""

    column: Column
    x: int
    width: int


@dataclass(frozen=True, slots=True)
class Layout:
    placed: tuple[Placed, ...]
    #: The first scrolled column shown, and whether columns are hidden on either side.
    first: int
    more_left: bool
    more_right: bool


def pinned_count(columns: Sequence[Column]) -> int:
    """How many leading columns stay put: through Name when it is among the first two."""
    for index, col in enumerate(columns[:2]):
        if col.id == "attr:name":
            return index + 1
    return 0


def lay_out(columns: Sequence[Column], widths: Mapping[str, int], first: int, screen_width: int) -> Layout:
    """Place the pinned columns, then scrolled columns from index `first` (among the scrolled
    ones) while they fit whole; give what is left to Name, up to its content width.

    `widths` holds each column's content width (the widest cell, or its label). Only when the
    first scrolled column alone is wider than the room left is it drawn cut (with "…")."""
    pinned = pinned_count(columns)
    scrolled = columns[pinned:]
    first = max(0, min(first, len(scrolled) - 1)) if scrolled else 0
    chosen: list[tuple[Column, int]] = []
    for col in columns[:pinned]:
        want = widths.get(col.id, col.width)
        chosen.append((col, min(want, NAME_MIN_WIDTH) if col.id == "attr:name" else want))
    used = sum(w for _c, w in chosen) + max(0, len(chosen) - 1)
    shown = 0
    for col in scrolled[first:]:
        want = widths.get(col.id, col.width)
        gap = 1 if chosen else 0
        if used + gap + want > screen_width:
            if shown == 0 and screen_width - used - gap >= 4:  # nothing else could be shown
                chosen.append((col, screen_width - used - gap))
                used = screen_width
                shown = 1
            break
        chosen.append((col, want))
        used += gap + want
        shown += 1
    chosen = _widen_name(chosen, widths, max(0, screen_width - used))
    placed, x = [], 0
    for col, width in chosen:
        placed.append(Placed(col, x, width))
        x += width + 1
    return Layout(tuple(placed), first, first > 0, first + shown < len(scrolled))


def _widen_name(chosen: list[tuple[Column, int]], widths: Mapping[str, int], free: int) -> list[tuple[Column, int]]:
    for index, (col, width) in enumerate(chosen):
        if col.id == "attr:name":
            grown = width + max(0, min(free, widths.get(col.id, width) - width))
            chosen[index] = (col, grown)
    return chosen
