"""Run counts as the screens and `tracktui experiments` ask for and show them.

Exact wherever a count is one query. Where counting is costly (`Store.counting_is_costly`: over
REST each count is a series of searches, each a full query on the server) the count is bounded
at COUNT_CAP, and a count above it reads "10,000+": never a number that looks exact.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tracktui.store.base import Store

#: The bound on a costly count. Over REST, counting up to it takes at most ~2·log2(10,000) + 2
#: ≈ 28 one-run searches (a handful for a small experiment) and telling that an experiment
#: holds more takes one or two; past ten thousand runs the order of magnitude is what a list
#: of experiments needs, not the last digit.
COUNT_CAP = 10_000


def count_limit(store: Store) -> int | None:
    """The `at_most` to count with on this store: None (exact) unless counting is costly."""
    return COUNT_CAP if store.counting_is_costly else None


def format_count(count: int, at_most: int | None) -> str:
    """`12,345`, or `10,000+` for a bounded count that passed its bound."""
    if at_most is not None and count > at_most:
        return f"{at_most:,}+"
    return f"{count:,}"
