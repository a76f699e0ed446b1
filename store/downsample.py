"""Shrink a metric history to at most N points without losing its extremes.

Min/max per bucket: the points are split by position into `n_buckets` equal index ranges
(bucket of the point at index i, of `total` points, is `i * n_buckets // total`); each bucket
keeps its smallest and largest value, and the first and last points overall are always kept.
A plot of the result shows every spike the full history has. The SQL backend can compute
the same buckets in the database with `ROW_NUMBER() OVER (ORDER BY step, timestamp) - 1`
as i, so both paths return the same points.
"""

from __future__ import annotations

from collections.abc import Sequence

from .model import MetricPoint

_INF = float("inf")


def bucket_count(max_points: int) -> int:
    """How many min/max buckets fit in `max_points` next to the first and last point."""
    return max(0, (max_points - 2) // 2)


def bucket_of(index: int, total: int, n_buckets: int) -> int:
    """The bucket of the point at `index` (0-based) among `total` points."""
    return index * n_buckets // total


def bucket_bounds(total: int, n_buckets: int) -> list[tuple[int, int]]:
    """Half-open index ranges [lo, hi) of the buckets, consistent with `bucket_of`.

    Bucket b starts at the smallest i with i * n_buckets // total >= b, i.e.
    ceil(b * total / n_buckets). Empty buckets (more buckets than points) are omitted."""
    if total <= 0 or n_buckets <= 0:
        return []
    starts = [-(-b * total // n_buckets) for b in range(n_buckets)] + [total]
    return [(lo, hi) for lo, hi in zip(starts, starts[1:]) if lo < hi]


def downsample_minmax(points: Sequence[MetricPoint], max_points: int) -> list[MetricPoint]:
    """At most `max_points` of `points`, in their original order, keeping extremes.

    Keeps the first and last point and, per bucket, the min and max value (NaN ignored; a
    bucket holding only NaN keeps its first point). Fewer points than `max_points` come back
    unchanged (as a new list). `max_points` < 1 gives []."""
    if max_points >= len(points):
        return list(points)
    keep = minmax_indices([p.value for p in points], max_points)
    return [points[i] for i in keep]


def minmax_indices(values: Sequence[float], max_points: int) -> list[int]:
    """Ascending indices of the values `downsample_minmax` keeps.

    For backends that hold a history as columns (rows from SQL, parsed metric files): pass
    the value column, then pick the same indices from the step and timestamp columns."""
    total = len(values)
    if max_points >= total:
        return list(range(total))
    if max_points <= 0:
        return []
    if max_points == 1:
        return [0]
    if not isinstance(values, list):
        values = list(values)
    keep = {0, total - 1}
    for lo, hi in bucket_bounds(total, bucket_count(max_points)):
        chunk = values[lo:hi]
        # Fast path in C: a chunk's sum is NaN iff it holds NaN (or both infinities,
        # which the slow path handles correctly too).
        chunk_sum = sum(chunk)
        if chunk_sum == chunk_sum:
            keep.add(lo + chunk.index(min(chunk)))
            keep.add(lo + chunk.index(max(chunk)))
        else:
            _keep_slow(chunk, lo, keep)
    return sorted(keep)


def _keep_slow(chunk: list[float], lo: int, keep: set[int]) -> None:
    """Min/max of a chunk whose sum is NaN: NaN is skipped, an all-NaN chunk keeps one.

    NaN is swapped for +inf when looking for the min (and -inf for the max), which leaves
    the C-speed min/index path intact; only a chunk whose real extreme is that infinity
    needs the element-by-element loop."""
    for_min = [v if v == v else _INF for v in chunk]
    low = min(for_min)
    for_max = [v if v == v else -_INF for v in chunk]
    high = max(for_max)
    if low != _INF and high != -_INF:
        keep.add(lo + for_min.index(low))
        keep.add(lo + for_max.index(high))
        return
    lo_i = hi_i = -1
    for i, v in enumerate(chunk):
        if v != v:
            continue
        if lo_i < 0 or v < chunk[lo_i]:
            lo_i = i
        if hi_i < 0 or v > chunk[hi_i]:
            hi_i = i
    if lo_i < 0:
        keep.add(lo)
    else:
        keep.add(lo + lo_i)
        keep.add(lo + hi_i)
