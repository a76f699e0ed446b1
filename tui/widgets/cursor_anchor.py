"""Where a list's cursor goes after its rows are read again: back on the same item, or, when
that item left the view (deleted, filtered out), on its nearest neighbour — the next item
first, then the previous one — so the next key acts on what the user was looking at.
"""

from __future__ import annotations

from collections.abc import Container, Sequence
from dataclasses import dataclass

#: Neighbours remembered on each side: a bulk delete of more leaves the cursor on the first row.
ANCHOR_NEIGHBOURS = 200


@dataclass(frozen=True, slots=True)
class CursorAnchor:
    """The item under the cursor, its neighbours nearest first, its line on screen, and (for
    tree lists) the ids of the expanded items."""

    item_id: str
    neighbours: tuple[str, ...]
    screen_line: int = 0
    expanded: frozenset[str] = frozenset()


def anchor_at(ids: Sequence[str], index: int, screen_line: int = 0,
              expanded: frozenset[str] = frozenset()) -> CursorAnchor:
    """The anchor for the cursor on `ids[index]`."""
    after = ids[index + 1 : index + 1 + ANCHOR_NEIGHBOURS]
    before = ids[max(0, index - ANCHOR_NEIGHBOURS) : index][::-1]
    return CursorAnchor(ids[index], (*after, *before), screen_line, expanded)


def landing(anchor: CursorAnchor, present: Container[str]) -> str | None:
    """The id the cursor lands on among `present`: the anchored item, else its nearest
    neighbour still there, else None."""
    if anchor.item_id in present:
        return anchor.item_id
    return next((i for i in anchor.neighbours if i in present), None)
