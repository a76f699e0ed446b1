"""Min/max downsampling (store/downsample.py) against a straightforward reference."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracktui.store.downsample import (
    bucket_bounds,
    bucket_count,
    bucket_of,
    downsample_minmax,
    minmax_indices,
)
from tracktui.store.model import MetricPoint

NAN = float("nan")


def points(values) -> list[MetricPoint]:
    return [MetricPoint(v, i, 1000 + i) for i, v in enumerate(values)]


def reference_indices(values: list[float], max_points: int) -> list[int]:
    """The definition, written as plainly as possible: group indices by bucket_of, keep
    first/last overall and each bucket's first minimal and first maximal non-NaN value."""
    n = len(values)
    if max_points >= n:
        return list(range(n))
    if max_points <= 0:
        return []
    if max_points == 1:
        return [0]
    nb = (max_points - 2) // 2
    keep = {0, n - 1}
    buckets: dict[int, list[int]] = {}
    for i in range(n if nb else 0):  # no room for a bucket: just the ends
        buckets.setdefault(i * nb // n, []).append(i)
    for idx in buckets.values():
        real = [i for i in idx if not math.isnan(values[i])]
        if not real:
            keep.add(idx[0])
            continue
        lo = min(values[i] for i in real)
        hi = max(values[i] for i in real)
        keep.add(next(i for i in real if values[i] == lo))
        keep.add(next(i for i in real if values[i] == hi))
    return sorted(keep)


value_strategy = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1.0, NAN, math.inf, -math.inf]),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(value_strategy, max_size=300), st.integers(-1, 80))
def test_matches_reference(values, max_points):
    pts = points(values)
    got = downsample_minmax(pts, max_points)
    expected = [pts[i] for i in reference_indices(values, max_points)]
    assert [p.step for p in got] == [p.step for p in expected]
    assert len(got) <= max(max_points, 0)
    assert minmax_indices(values, max_points) == [p.step for p in got]


def test_keeps_spikes_and_ends():
    values = [0.0] * 10_000
    values[1234] = 99.0
    values[8765] = -99.0
    got = downsample_minmax(points(values), 50)
    steps = [p.step for p in got]
    assert len(got) <= 50
    assert {0, 1234, 8765, 9999} <= set(steps)
    assert steps == sorted(set(steps))  # original order, no duplicates


def test_nan_is_ignored_unless_a_bucket_has_nothing_else():
    values = [NAN] * 100 + [float(i) for i in range(100)]
    got = downsample_minmax(points(values), 6)  # two buckets: all-NaN, then 0..99
    assert [p.step for p in got] == [0, 100, 199]
    assert math.isnan(got[0].value)


def test_both_infinities_in_one_bucket():
    # sum() is NaN here although no value is: the slow path must still find the extremes.
    values = [1.0, math.inf, 2.0, -math.inf, 3.0, 0.0]
    got = downsample_minmax(points(values), 4)  # one bucket
    assert [p.value for p in got] == [1.0, math.inf, -math.inf, 0.0]


def test_short_histories_come_back_whole():
    pts = points([1.0, 2.0, 3.0])
    assert downsample_minmax(pts, 3) == pts
    assert downsample_minmax(pts, 1000) == pts
    assert downsample_minmax([], 10) == []
    assert downsample_minmax(pts, 1) == pts[:1]
    assert downsample_minmax(pts, 2) == [pts[0], pts[2]]
    assert downsample_minmax(pts, 0) == []


@given(st.integers(1, 5000), st.integers(1, 600))
def test_bucket_bounds_agree_with_bucket_of(total, n_buckets):
    bounds = bucket_bounds(total, n_buckets)
    covered = [i for lo, hi in bounds for i in range(lo, hi)]
    assert covered == list(range(total))
    for lo, hi in bounds:
        assert len({bucket_of(i, total, n_buckets) for i in range(lo, hi)}) == 1
    assert len({bucket_of(lo, total, n_buckets) for lo, _ in bounds}) == len(bounds)


@pytest.mark.parametrize(("max_points", "expected"), [(0, 0), (2, 0), (3, 0), (4, 1), (1000, 499)])
def test_bucket_count(max_points, expected):
    assert bucket_count(max_points) == expected
