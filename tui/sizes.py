"""Byte counts as people read them, in binary units (KiB, MiB…), the same in the CLI and the TUI."""

from __future__ import annotations


def human_size(size: int) -> str:
    """`532 B`, `4.0 KiB`, `1.3 GiB`."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"
