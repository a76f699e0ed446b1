"""A metric's recent tail as one line of block characters, for a table cell."""

from __future__ import annotations

import math
from collections.abc import Sequence

BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float], width: int) -> str:
    """The last `width` values scaled between their min and max (a flat line in the middle
    when they are all equal); NaN and inf show as '!'."""
    shown = list(values)[-width:] if width > 0 else []
    finite = [v for v in shown if math.isfinite(v)]
    if not finite:
        return "!" * len(shown)
    lo, hi = min(finite), max(finite)
    span = hi - lo
    out = []
    for v in shown:
        if not math.isfinite(v):
            out.append("!")
        elif span == 0:
            out.append(BLOCKS[3])
        else:
            out.append(BLOCKS[min(len(BLOCKS) - 1, int((v - lo) / span * len(BLOCKS)))])
    return "".join(out)
