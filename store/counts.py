"""Bounded run counts: `count_runs(..., at_most=N)` answers N + 1 for "more than N".

A backend that counts in one query (SQL, the file store) counts exactly and caps the answer
here; one that counts by probing (REST) stops once it knows the count passes N. Either way the
caller gets the same number, so it can show "N+" without knowing which backend answered.
"""

from __future__ import annotations

from .errors import InvalidValue


def check_at_most(at_most: int | None) -> int | None:
    """`at_most` if it is None or a non-negative integer (bools are not); else InvalidValue."""
    if at_most is None:
        return None
    if isinstance(at_most, bool) or not isinstance(at_most, int) or at_most < 0:
        raise InvalidValue(f"at_most must be a non-negative integer or None, got {at_most!r}")
    return at_most


def capped(count: int, at_most: int | None) -> int:
    """`count`, or `at_most + 1` when it is larger (None: no bound)."""
    return count if at_most is None or count <= at_most else at_most + 1
