"""Health rules for a running run: pure functions of the data a board refresh read, each
returning a `Flag` (one line saying why) or None. No store, no clock: `now_ms` is passed in,
so the rules are unit-tested on fixed numbers and the board stays deterministic.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tracktui.store.model import MetricPoint

#: A loss rising this many steps in a row is flagged.
RISING_STEPS = 5
#: No metric for longer than this many times the run's usual logging interval: stalled.
STALL_FACTOR = 5.0
#: ... and never before this long (a run logging every 100 ms is not stalled after 1 s).
STALL_FLOOR_MS = 60_000
#: GPU utilisation (percent) at or below this while RUNNING is flagged.
GPU_IDLE_PERCENT = 2.0
ENDED_BADLY = ("FAILED", "KILLED")
GPU_UTILISATION = re.compile(r"^system/gpu_(\d+_)?utilization_percentage$")


@dataclass(frozen=True)
class Flag:
    """One health problem: `kind` (stable, for change detection) and `reason` (one line)."""

    kind: str
    reason: str


def non_finite(metrics: Mapping[str, MetricPoint]) -> Flag | None:
    """NaN or ±inf as the latest value of any metric (the first such key, sorted)."""
    for key in sorted(metrics):
        point = metrics[key]
        if not math.isfinite(point.value):
            return Flag("non-finite", f"{key} is {_show(point.value)} at step {point.step}")
    return None


def rising(tail: Sequence[MetricPoint], key: str, steps: int = RISING_STEPS) -> Flag | None:
    """The last `steps` changes of the (step-ordered) tail all went up."""
    values = [p.value for p in tail[-(steps + 1):]]
    if len(values) < steps + 1 or not all(math.isfinite(v) for v in values):
        return None
    if all(b > a for a, b in zip(values, values[1:])):
        return Flag("rising", f"{key} rose {steps} steps in a row ({values[0]:.4g} → {values[-1]:.4g})")
    return None


def usual_interval_ms(tail: Sequence[MetricPoint]) -> float | None:
    """The median time between consecutive points of the tail (None under two points)."""
    stamps = sorted({p.timestamp for p in tail})
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    return statistics.median(gaps) if gaps else None


def stalled(
    last_logged_ms: int | None,
    interval_ms: float | None,
    now_ms: int,
    factor: float = STALL_FACTOR,
    floor_ms: int = STALL_FLOOR_MS,
) -> Flag | None:
    """Nothing logged for longer than `factor` × the usual interval (and `floor_ms`)."""
    if last_logged_ms is None or interval_ms is None:
        return None
    silent = now_ms - last_logged_ms
    if silent > max(factor * interval_ms, floor_ms):
        return Flag("stalled", f"nothing logged for {duration(silent)} (usually every {duration(interval_ms)})")
    return None


def ended_badly(status: str, start_ms: int | None, end_ms: int | None) -> Flag | None:
    """A run that ended FAILED or KILLED (while the board watched it)."""
    if status not in ENDED_BADLY:
        return None
    after = f" after {duration(end_ms - start_ms)}" if start_ms is not None and end_ms is not None else ""
    return Flag("ended", f"ended {status}{after}")


def gpu_idle(metrics: Mapping[str, MetricPoint], percent: float = GPU_IDLE_PERCENT) -> Flag | None:
    """Every GPU the system-metrics monitor reports at or below `percent` utilisation."""
    figures = [p.value for key, p in metrics.items() if GPU_UTILISATION.match(key)]
    if figures and all(math.isfinite(v) and v <= percent for v in figures):
        return Flag("gpu-idle", f"GPU utilisation {max(figures):.0f}% while the run says RUNNING")
    return None


def steps_per_minute(tail: Sequence[MetricPoint]) -> float | None:
    """Steps per minute over the tail (None when it spans no time or no steps)."""
    if len(tail) < 2:
        return None
    first, last = tail[0], tail[-1]
    elapsed = last.timestamp - first.timestamp
    if elapsed <= 0 or last.step <= first.step:
        return None
    return (last.step - first.step) * 60_000 / elapsed


def duration(ms: float) -> str:
    """A short human duration: 45s, 3m 05s, 2h 10m, 3d 4h."""
    seconds = max(0, int(ms // 1000))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


def _show(value: float) -> str:
    return "NaN" if math.isnan(value) else ("inf" if value > 0 else "-inf")
