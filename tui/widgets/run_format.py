"""How run values read on screen: times, durations and metric numbers, the same on every tab."""

from __future__ import annotations

import math
import re
from datetime import datetime

from rich.cells import cell_len, set_cell_size

#: Shown where a value is missing, so an empty cell never looks like a rendering bug.
MISSING = "—"


def format_time(epoch_ms: int | None) -> str:
    """Local wall-clock time to the second, or MISSING."""
    if epoch_ms is None:
        return MISSING
    return datetime.fromtimestamp(epoch_ms / 1000).strftime("%Y-%m-%d %H:%M:%S")


def format_duration(duration_ms: int | None) -> str:
    """A short human duration ('350ms', '12.3s', '4m 05s', '2h 03m', '3d 04h'), or MISSING."""
    if duration_ms is None:
        return MISSING
    if duration_ms < 0:
        return MISSING
    if duration_ms < 1000:
        return f"{duration_ms}ms"
    seconds = duration_ms / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours:02d}h"


def format_metric_value(value: float) -> str:
    """Six significant digits; NaN and infinities spelled out as MLflow shows them."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def cut_middle(text: str, width: int) -> str:
    """`text` in at most `width` cells; a longer one keeps both ends around an ellipsis, so
    names that differ only at the end (`…-seed-0001`, `…-seed-0002`) stay apart."""
    if cell_len(text) <= width:
        return text
    if width < 5:
        return set_cell_size(text, max(0, width - 1)) + "…" if width > 0 else ""
    tail_width = (width - 1) // 2
    tail = ""
    for char in reversed(text):
        if cell_len(char + tail) > tail_width:
            break
        tail = char + tail
    return set_cell_size(text, width - 1 - cell_len(tail)) + "…" + tail


def natural_key(text: str) -> tuple:
    """Sort key putting `layer_2` before `layer_10`, case-insensitively."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part.lower())
        for part in re.split(r"(\d+)", text)
        if part
    )
