"""Plotting helpers and the store's downsampling, checked against straightforward references."""

from __future__ import annotations

import math
import random

import pytest

from tracktui.store.downsample import downsample_minmax
from tracktui.store.model import MetricPoint
from tracktui.tui import plotting


def reference_ema(values, weight):
    """TensorBoard's smoothing written out literally: debiased EMA over finite values."""
    out, last, seen = [], 0.0, 0
    for v in values:
        if math.isnan(v) or math.isinf(v):
            out.append(v)
            continue
        seen += 1
        last = last * weight + (1 - weight) * v
        out.append(last / (1 - weight**seen))
    return out


@pytest.mark.parametrize("weight", [0.0, 0.3, 0.6, 0.9, 0.99])
def test_ema_matches_reference(weight):
    rng = random.Random(1)
    values = [rng.gauss(0, 1) for _ in range(500)]
    values[10], values[20] = float("nan"), float("inf")
    got = plotting.ema(values, weight)
    for g, want in zip(got, reference_ema(values, weight)):
        assert g == pytest.approx(want, nan_ok=True) or (math.isnan(g) and math.isnan(want))


def test_ema_is_debiased_a_constant_stays_constant():
    assert plotting.ema([5.0] * 20, 0.9) == pytest.approx([5.0] * 20)


def test_ema_rejects_weight_one():
    with pytest.raises(ValueError):
        plotting.ema([1.0], 1.0)


def points(values, start_ms=1_000_000):
    return [MetricPoint(v, i, start_ms + 1000 * i) for i, v in enumerate(values)]


def test_series_skips_and_counts_nonfinite_and_sql_inf():
    pts = points([1.0, float("nan"), 2.0, float("inf"), -1.7976931348623157e308, 3.0])
    s = plotting.to_series(pts)
    assert s.y == (1.0, 2.0, 3.0) and s.x == (0.0, 2.0, 5.0)
    assert s.skipped_nonfinite == 3


def test_series_on_log_axis_counts_nonpositive():
    s = plotting.to_series(points([1.0, 0.0, -2.0, 4.0]), log_y=True)
    assert s.y == (1.0, 4.0) and s.skipped_nonpositive == 2


def test_x_axes():
    pts = points([1.0, 2.0, 3.0], start_ms=5_000)
    assert plotting.x_values(pts, "step") == [0.0, 1.0, 2.0]
    assert plotting.x_values(pts, "wall") == [5.0, 6.0, 7.0]
    assert plotting.x_values(pts, "relative", run_start_ms=4_000) == [1.0, 2.0, 3.0]
    assert plotting.x_values(pts, "relative") == [0.0, 1.0, 2.0]  # no run start: first point
    with pytest.raises(ValueError):
        plotting.x_values(pts, "epoch")


def test_time_axes_draw_in_time_order():
    pts = [MetricPoint(1.0, 0, 3000), MetricPoint(2.0, 1, 1000), MetricPoint(3.0, 2, 2000)]
    s = plotting.to_series(pts, "wall")
    assert s.x == (1.0, 2.0, 3.0) and s.y == (2.0, 3.0, 1.0)


def test_extremes_min_max_last():
    s = plotting.to_series(points([3.0, 1.0, 5.0, 1.0, 2.0]))
    ext = plotting.extremes(s)
    assert ext.min == (1.0, 1.0) and ext.max == (2.0, 5.0) and ext.last == (4.0, 2.0)
    assert plotting.extremes(plotting.to_series([])) is None


def test_palette_past_eight_series_changes_marker():
    styles = [plotting.style_for(i) for i in range(20)]
    assert len({(s.color, s.marker) for s in styles}) == 20
    assert styles[0].color == styles[8].color and styles[0].marker != styles[8].marker
    ansi = [plotting.style_for(i, "standard").color for i in range(8)]
    assert len(set(ansi)) == 8 and all(isinstance(c, str) for c in ansi)


def test_smoothing_steps_clamp():
    assert plotting.next_smoothing(0.0, -1) == 0.0
    assert plotting.next_smoothing(0.0, 1) == 0.3
    assert plotting.next_smoothing(0.999, 1) == 0.999
    assert plotting.next_smoothing(0.6, -1) == 0.3


@pytest.mark.parametrize(("lo", "hi", "expected"), [
    (0, 25, [0, 5, 10, 15, 20, 25]),
    (0, 9, [0, 2, 4, 6, 8]),
    (0, 3, [0, 1, 2, 3]),
    (4, 4, [4]),
    (0, 1000, [0, 200, 400, 600, 800, 1000]),
])
def test_step_ticks_are_whole_steps_at_a_round_spacing(lo, hi, expected):
    ticks, labels = plotting.step_ticks(lo, hi)
    assert ticks == [float(t) for t in expected]
    assert labels == [str(t) for t in expected]  # never "2.8 5.5 8.2" on an integer axis


def test_log_ticks_are_decades_in_data_units():
    ticks, labels = plotting.log_ticks(-3.2, 1.5)
    assert all(t == int(t) for t in ticks) and "0.001" in labels and "10" in labels


def reference_downsample(values, max_points):
    """Per bucket (index*n//total), first min and first max; plus first and last point."""
    total = len(values)
    n = max(0, (max_points - 2) // 2)
    buckets: dict[int, list[int]] = {}
    for i in range(total):
        buckets.setdefault(i * n // total, []).append(i)
    keep = {0, total - 1}
    for idx in buckets.values():
        finite = [i for i in idx if not math.isnan(values[i])]
        if not finite:
            keep.add(idx[0])
            continue
        keep.add(min(finite, key=lambda i: (values[i], i)))
        keep.add(max(finite, key=lambda i: (values[i], -i)))
    return sorted(keep)


@pytest.mark.parametrize("total,max_points", [(1000, 100), (1001, 64), (50_000, 240), (7, 4)])
def test_downsample_matches_reference_and_keeps_spikes(total, max_points):
    rng = random.Random(total)
    values = [rng.random() for _ in range(total)]
    values[total // 3] = 1e6  # a spike
    values[total // 2] = -1e6
    if total > 10:
        values[5] = float("nan")
    pts = points(values)
    got = downsample_minmax(pts, max_points)
    assert len(got) <= max_points
    assert [p.step for p in got] == reference_downsample(values, max_points)
    assert max(p.value for p in got) == 1e6 and min(p.value for p in got) == -1e6
