"""One chart axis over many runs: a run's value of a param, metric or tag as a number, or as a
category when the values are not all numbers.

Keys are runs-table column ids (`metrics:<key>`, `params:<key>`, `tags:<key>`, tui/columns.py).
A metric is always numeric; a param or tag is numeric when every value the runs have parses as
a finite number (`"0.01"`, `"1e-4"`, `"32"`), else categorical, its categories in natural
order (`layer_2` before `layer_10`) and evenly spaced. NaN and ±inf (and the ±DBL_MAX SQL
stores write for inf) cannot be drawn: those runs are counted, never plotted at a made-up place.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from tracktui.store.model import Run

from ..plotting import is_plottable
from ..widgets.run_format import natural_key

#: A positive axis spanning this many decades or more opens on a log scale.
LOG_DECADES = 3
KINDS = {"metrics": "metric", "params": "param", "tags": "tag"}


def key_label(key: str) -> str:
    """`params:lr` → `params.lr`, as MLflow's filter grammar and UI name it."""
    kind, _, name = key.partition(":")
    return f"{kind}.{name}"


def raw_value(run: Run, key: str) -> str | float | None:
    """The run's value of `key`: a metric's latest value (float), a param's or tag's text, or
    None when the run has none."""
    kind, _, name = key.partition(":")
    if kind == "metrics":
        point = run.metrics.get(name)
        return None if point is None else point.value
    if kind == "params":
        return run.params.get(name)
    if kind == "tags":
        return run.tags.get(name)
    raise ValueError(f"not a param, metric or tag key: {key!r}")


def whole_value(value: str | float | None) -> str:
    """A value as the side panels show it: text as logged, a number exact (`repr`), never cut."""
    if value is None:
        return "—"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    return value


@dataclass(frozen=True)
class Axis:
    """The values of one key over some runs.

    `values`: run id → the number (numeric axis) or the category's index (categorical axis),
    for the runs with a drawable value. `categories` is empty on a numeric axis. `missing`
    counts runs without the key; `nonfinite_ids` are the runs whose value is NaN or ±inf."""

    key: str
    values: dict[str, float] = field(default_factory=dict)
    categories: tuple[str, ...] = ()
    missing: int = 0
    nonfinite_ids: frozenset[str] = frozenset()

    @property
    def nonfinite(self) -> int:
        return len(self.nonfinite_ids)

    def why_missing(self, run_id: str) -> str:
        """Why a run without a value here is not drawn: 'NaN/inf metrics.loss' or 'without params.lr'."""
        return f"NaN/inf {self.label}" if run_id in self.nonfinite_ids else f"without {self.label}"

    @property
    def label(self) -> str:
        return key_label(self.key)

    @property
    def numeric(self) -> bool:
        return not self.categories

    @property
    def spans_decades(self) -> bool:
        """True when the axis is numeric and its positive values span LOG_DECADES or more:
        the chart opens on a log scale (values ≤ 0 are then counted as not drawn)."""
        if not self.numeric:
            return False
        positive = [v for v in self.values.values() if v > 0]
        return len(positive) >= 2 and max(positive) >= min(positive) * 10**LOG_DECADES

    def category(self, position: float) -> str:
        """The name of the category at `position` on a categorical axis ('(empty)' for '')."""
        return self.categories[int(position)] or "(empty)"


def build_axis(runs: Sequence[Run], key: str) -> Axis:
    """The axis of `key` over `runs` (see the module docstring for numeric vs categorical)."""
    present: dict[str, str | float] = {}
    missing = 0
    for run in runs:
        value = raw_value(run, key)
        if value is None:
            missing += 1
        else:
            present[run.id] = value
    numbers = {rid: _number(v) for rid, v in present.items()}
    if all(n is not None for n in numbers.values()):
        finite = {rid: n for rid, n in numbers.items() if n is not None and is_plottable(n)}
        return Axis(key, finite, (), missing, frozenset(numbers) - frozenset(finite))
    texts = {rid: str(v) for rid, v in present.items()}
    categories = tuple(sorted(set(texts.values()), key=natural_key))
    index = {c: float(i) for i, c in enumerate(categories)}
    return Axis(key, {rid: index[t] for rid, t in texts.items()}, categories, missing)


def _number(value: str | float) -> float | None:
    if isinstance(value, float):
        return value
    try:
        return float(value.strip()) if value.strip() else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Scale:
    """How an axis maps to [0, 1]: linear or log10, over the drawn values' range. A single
    value (or a single category) sits in the middle."""

    lo: float
    hi: float
    log: bool = False

    def position(self, value: float) -> float | None:
        """Where `value` lies in [0, 1]; None when a log scale cannot show it (≤ 0)."""
        if self.log:
            if value <= 0:
                return None
            value = math.log10(value)
        if self.hi == self.lo:
            return 0.5
        return (value - self.lo) / (self.hi - self.lo)

    def value_at(self, position: float) -> float:
        """The value at `position` in [0, 1] (for tick labels), in data units."""
        v = self.lo + (self.hi - self.lo) * position
        return 10**v if self.log else v


def scale_for(axis: Axis, log: bool) -> Scale:
    """The scale over the axis's drawable values (positive ones only on a log scale)."""
    if axis.categories:
        return Scale(0.0, float(len(axis.categories) - 1))
    values = [v for v in axis.values.values() if v > 0] if log else list(axis.values.values())
    if not values:
        return Scale(0.0, 0.0, log)
    if log:
        return Scale(math.log10(min(values)), math.log10(max(values)), True)
    return Scale(min(values), max(values))
