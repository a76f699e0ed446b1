"""Colouring scatter points by a third key: one colour per category when there are few, else
value bins (a numeric key: equal-width bins, log-spaced when the values span decades).

Group 0 is always "(none)" — runs without a value — and is drawn in the muted colour; the
groups after it take the palette's colours in order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from tracktui.store.model import Run

from ..plotting import format_value
from .axes import build_axis, key_label, scale_for

#: Categories coloured one each at most: the Okabe-Ito palette's colours but its grey, which
#: is "(none)". With more, the first ones (in natural order) keep theirs and the last colour
#: takes "N more values".
MAX_CATEGORIES = 7
#: Bins of a numeric colour key.
NUMERIC_BINS = 5
NONE = "(none)"


@dataclass(frozen=True)
class ColorGroups:
    """`labels[i]` names group i (group 0: runs without a value); `group_of`: run id → group."""

    key: str
    labels: tuple[str, ...]
    group_of: dict[str, int]

    @property
    def label(self) -> str:
        return key_label(self.key)

    def counts(self) -> list[int]:
        """Runs per group, in group order."""
        counts = [0] * len(self.labels)
        for group in self.group_of.values():
            counts[group] += 1
        return counts


def color_groups(runs: Sequence[Run], key: str) -> ColorGroups:
    """The colour group of every run by `key` (see the module docstring)."""
    axis = build_axis(runs, key)
    group_of = {run.id: 0 for run in runs}
    if axis.categories:
        shown = axis.categories[: MAX_CATEGORIES - 1] if len(axis.categories) > MAX_CATEGORIES else axis.categories
        labels = [NONE, *(c or "(empty)" for c in shown)]
        if len(shown) < len(axis.categories):
            labels.append(f"{len(axis.categories) - len(shown)} more values")
        for rid, index in axis.values.items():
            group_of[rid] = 1 + min(int(index), len(shown))
        return ColorGroups(key, tuple(labels), group_of)
    if not axis.values:
        return ColorGroups(key, (NONE,), group_of)
    log = axis.spans_decades and all(v > 0 for v in axis.values.values())
    scale = scale_for(axis, log)
    distinct = sorted(set(axis.values.values()))
    if len(distinct) <= NUMERIC_BINS:  # few values: one group each, labelled exactly
        for rid, value in axis.values.items():
            group_of[rid] = 1 + distinct.index(value)
        return ColorGroups(key, (NONE, *(repr(v) if v != int(v) else str(int(v)) for v in distinct)), group_of)
    edges = [scale.value_at(i / NUMERIC_BINS) for i in range(NUMERIC_BINS + 1)]
    for rid, value in axis.values.items():
        position = scale.position(value) or 0.0
        group_of[rid] = 1 + min(NUMERIC_BINS - 1, math.floor(position * NUMERIC_BINS))
    labels = [f"{format_value(lo)} – {format_value(hi)}" for lo, hi in zip(edges, edges[1:])]
    return ColorGroups(key, (NONE, *labels), group_of)
