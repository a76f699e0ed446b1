"""Timing helpers shared by the bench scripts: wall and CPU time side by side, and the load.

The machine these run on is often shared, so wall time alone says little: each sample also
records this process's CPU time (time.process_time), and every table states the load average.
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Timing:
    wall: float  # seconds, median
    cpu: float  # seconds of this process's CPU (and its reaped children's), median
    first_wall: float  # the first (cold) call
    first_cpu: float


def measure(fn, repeat: int, warmup: bool = True) -> Timing:
    """Median wall and CPU time of `fn()` over `repeat` calls, after one warm-up call if
    `warmup` (the warm-up is reported as first_*; without warm-up, first_* is the first sample)."""
    first = None
    if warmup:
        first = once(fn)
    samples = [once(fn) for _ in range(max(repeat, 1))]
    if first is None:
        first = samples[0]
    return Timing(
        statistics.median(w for w, _ in samples),
        statistics.median(c for _, c in samples),
        first[0],
        first[1],
    )


def once(fn) -> tuple[float, float]:
    w, c = time.perf_counter(), cpu_time()
    fn()
    return time.perf_counter() - w, cpu_time() - c


def cpu_time() -> float:
    """CPU seconds of this process and of the child processes it has waited for (a CLI run
    in a subprocess, say: its work is part of the measured cost)."""
    t = os.times()
    return time.process_time() + t.children_user + t.children_system


def load() -> str:
    """The 1/5/15-minute load averages and the CPU count, for the table header."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} / {fifteen:.1f} on {os.cpu_count()} CPUs"


def ratio(a: float, b: float) -> str:
    return f"{a / b:7.2f}x" if b > 0 else "      - "
