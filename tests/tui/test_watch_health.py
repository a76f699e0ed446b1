"""The watch board's rules on fixed numbers: each flag fires on the data that should raise it
and stays quiet on the data just short of it."""

from __future__ import annotations

import math

import pytest

from tracktui.store.model import MetricPoint
from tracktui.tui.watch import board, health
from tracktui.tui.watch.sparkline import sparkline


def tail(values, gap_ms: int = 1000, start_ms: int = 0):
    return [MetricPoint(v, i, start_ms + gap_ms * i) for i, v in enumerate(values)]


@pytest.mark.parametrize("bad, shown", [(math.nan, "NaN"), (math.inf, "inf"), (-math.inf, "-inf")])
def test_non_finite_names_the_metric_value_and_step(bad, shown):
    metrics = {"acc": MetricPoint(0.9, 7, 0), "loss": MetricPoint(bad, 7, 0)}
    assert health.non_finite(metrics) == health.Flag("non-finite", f"loss is {shown} at step 7")
    assert health.non_finite({"acc": MetricPoint(0.9, 7, 0)}) is None


def test_rising_needs_n_rises_in_a_row():
    assert health.rising(tail([5, 1, 2, 3, 4, 5, 6]), "loss", steps=5).kind == "rising"
    assert health.rising(tail([1, 2, 3, 4, 5]), "loss", steps=5) is None  # four rises only
    assert health.rising(tail([1, 2, 3, 3, 4, 5]), "loss", steps=5) is None  # a flat step breaks it
    assert health.rising(tail([1, 2, 3, math.nan, 4, 5]), "loss", steps=5) is None


def test_stalled_after_k_usual_intervals_and_the_floor():
    interval = health.usual_interval_ms(tail([1, 2, 3, 4], gap_ms=30_000))
    assert interval == 30_000
    assert health.stalled(0, interval, now_ms=150_000, factor=5) is None  # exactly 5×
    flag = health.stalled(0, interval, now_ms=150_001, factor=5)
    assert flag is not None and flag.reason == "nothing logged for 2m 30s (usually every 30s)"
    assert health.stalled(0, 100.0, now_ms=59_000) is None  # fast logger, under the floor
    assert health.stalled(0, None, now_ms=10**9) is None  # one point: no usual interval


def test_ended_badly_only_for_failed_or_killed():
    assert health.ended_badly("KILLED", 0, 90_000).reason == "ended KILLED after 1m 30s"
    assert health.ended_badly("FAILED", None, None).reason == "ended FAILED"
    assert health.ended_badly("FINISHED", 0, 1) is None


def test_gpu_idle_when_every_gpu_is_near_zero():
    def gpus(*values):
        return {f"system/gpu_{i}_utilization_percentage": MetricPoint(v, 0, 0) for i, v in enumerate(values)}

    assert health.gpu_idle(gpus(0.0, 1.0)).kind == "gpu-idle"
    assert health.gpu_idle(gpus(0.0, 50.0)) is None
    assert health.gpu_idle({"system/cpu_utilization_percentage": MetricPoint(0.0, 0, 0)}) is None


def test_steps_per_minute_over_the_tail():
    assert health.steps_per_minute(tail([1, 2, 3], gap_ms=30_000)) == 2.0
    assert health.steps_per_minute(tail([1])) is None


def test_chosen_metric_prefers_wanted_then_loss_then_first():
    metrics = {k: MetricPoint(0, 0, 0) for k in ("acc", "val_loss", "train_loss", "system/cpu_utilization_percentage")}
    assert board.chosen_metric(metrics) == "train_loss"
    assert board.chosen_metric(metrics, "acc") == "acc"
    assert board.chosen_metric({"acc": MetricPoint(0, 0, 0)}) == "acc"
    assert board.chosen_metric({"system/x": MetricPoint(0, 0, 0)}) is None


def test_next_delay_backs_off_when_slow_or_failing():
    assert board.next_delay(0.05, 0) == board.MIN_DELAY_S
    assert board.next_delay(2.0, 0) == 20.0
    assert board.next_delay(0.05, 1) == 2 * board.MIN_DELAY_S
    assert board.next_delay(0.05, 30) == board.MAX_DELAY_S


def test_sparkline_scales_and_marks_non_finite():
    assert sparkline([0, 1, 2, 3, 4, 5, 6, 7], 8) == "▁▂▃▄▅▆▇█"
    assert sparkline([1, math.nan, 1], 3) == "▄!▄"
    assert sparkline([1, 2, 3], 2) == "▁█"
