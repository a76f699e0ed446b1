"""Metric files of an `mlruns` run: one line per point, `timestamp value [step [dataset digest]]`.

The latest value of a metric is the point with the greatest `(step, timestamp, value)`, as
mlflow computes it (file order breaks ties, NaN never wins a tie on value). Finding it is the
hot path of a listing (10k runs × a few metrics), so:

* files up to `EXACT_LIMIT` bytes (≈250 points) are read whole and the maximum is exact; a
  file of 3-field lines has its steps compared in C (`map(int, ...)`), without a Python loop
  per line;
* bigger files are read from the end only (`TAIL_BYTES`): the latest point is the maximum of
  the points in that tail. This is exact whenever steps were logged in non-decreasing order
  (or never went back further than the tail) — the normal case; a history logged with steps
  far out of order can show a different "latest" than mlflow would. Exactness on every file
  would cost reading whole histories (mlflow's own FileStore takes minutes on 10k runs).
  Full histories are only read on demand (`read_columns`);
* results are cached per file (`LatestCache`) and updated from the appended bytes only, so a
  file read exactly once stays exact as it grows.

Unlike mlflow 3.17's own reader, 5-field lines (logged with a dataset) keep their step.
Lines that do not parse are skipped and reported; an unterminated last line is a point being
written right now and is ignored.
"""

from __future__ import annotations

import os
import stat

from ..model import MetricPoint
from .meta import O_READ, NotRegularFile, check_regular, read_bytes

#: Remembered files at most; the cache is dropped whole when it is exceeded.
MAX_ENTRIES = 500_000
EXACT_LIMIT = 8 * 1024
TAIL_BYTES = 2 * 1024


class MetricFileProblem(Exception):
    """Something a reader should warn about (the path is added by the caller)."""


def parse_line(line: bytes) -> tuple[int, float, int] | None:
    """(timestamp, value, step) of one line, or None when it is malformed."""
    parts = line.split(b" ")
    n = len(parts)
    if n not in (2, 3, 5):
        return None
    try:
        ts = int(parts[0])
        value = float(parts[1])
        step = int(parts[2]) if n >= 3 else 0
    except ValueError:
        return None
    return ts, value, step


def read_columns(path: str) -> tuple[list[int], list[float], list[int], list[str]]:
    """Every point of the file in file order as columns (timestamps, values, steps), and the
    problems found. A file of 3-field lines (the normal case) is parsed in C (`map`), so a
    million-point history costs well under a second; anything else line by line."""
    data = read_bytes(path)
    problems: list[str] = []
    if data and not data.endswith(b"\n"):
        problems.append("unterminated last line ignored (being written?)")
        data = data[: data.rfind(b"\n") + 1]
    n = data.count(b"\n")
    tokens = data.split()
    if len(tokens) == 3 * n and data.count(b" ") == 2 * n:
        try:
            return (
                list(map(int, tokens[0::3])),
                list(map(float, tokens[1::3])),
                list(map(int, tokens[2::3])),
                problems,
            )
        except ValueError:
            pass  # some line is malformed: find it below
    timestamps: list[int] = []
    values: list[float] = []
    steps: list[int] = []
    bad = 0
    for line in data.split(b"\n"):
        if not line:
            continue
        parsed = parse_line(line)
        if parsed is None:
            bad += 1
            continue
        timestamps.append(parsed[0])
        values.append(parsed[1])
        steps.append(parsed[2])
    if bad:
        problems.append(f"{bad} malformed line(s) skipped")
    return timestamps, values, steps, problems


class LatestCache:
    """Latest points of metric files, remembered per file and updated as files grow.

    Metric files are append-only, so a file whose inode is unchanged and which only grew is
    updated by parsing just the appended lines: polling a live run re-reads a few bytes, and
    an exact answer stays exact. Safe to share between threads (dict operations only)."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[int, int, int, MetricPoint | None, bool]] = {}
        #: path -> (inode, parsed_to, value, step, timestamp) of an exact result read
        #: elsewhere: atomic values only, so the garbage collector never walks 60k of them
        self._seeds: dict[str, tuple[int, int, float | None, int, int]] = {}

    def latest(self, path: str) -> tuple[MetricPoint | None, list[str]]:
        """The latest point of a metric file and the problems found. Raises OSError."""
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(path)
        size = st.st_size
        cached = self._entries.get(path)
        if cached is None and self._seeds:
            cached = self._from_seed(path)
        if cached is not None and cached[0] == st.st_ino:
            _, parsed_to, mtime, point, exact = cached
            if parsed_to == size and mtime == st.st_mtime_ns:
                return point, []
            if exact and parsed_to < size and size - parsed_to <= EXACT_LIMIT:
                fd = os.open(path, O_READ)
                try:
                    data = os.pread(fd, size - parsed_to, parsed_to)
                finally:
                    os.close(fd)
                new_point, problems, used = max_point(data, start=point)
                self._entries[path] = (st.st_ino, parsed_to + used, st.st_mtime_ns, new_point, True)
                return new_point, problems
        fd = os.open(path, O_READ)
        try:
            if size <= EXACT_LIMIT:
                data = os.read(fd, size) if size else b""
                exact, skipped = True, 0
            else:
                skipped = size - TAIL_BYTES
                data = os.pread(fd, TAIL_BYTES, skipped)
                cut = data.find(b"\n")
                skipped += cut + 1 if cut >= 0 else len(data)
                data = data[cut + 1 :] if cut >= 0 else b""
                exact = False
        finally:
            os.close(fd)
        point, problems, used = max_point(data)
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[path] = (st.st_ino, skipped + used, st.st_mtime_ns, point, exact)
        return point, problems

    def seed(self, path: str, inode: int, parsed_to: int, point: MetricPoint | None) -> None:
        """Remember an exact result read elsewhere (files_rundata), so appends to the file are
        parsed incrementally here. The unknown mtime makes an unchanged size read again."""
        if len(self._seeds) >= MAX_ENTRIES:
            self._seeds.clear()
        if self._entries:
            self._entries.pop(path, None)  # the newer, exact result wins
        if point is None:
            self._seeds[path] = (inode, parsed_to, None, 0, 0)
        else:
            self._seeds[path] = (inode, parsed_to, point.value, point.step, point.timestamp)

    def _from_seed(self, path: str) -> tuple[int, int, int, MetricPoint | None, bool] | None:
        seeded = self._seeds.pop(path, None)
        if seeded is None:
            return None
        inode, parsed_to, value, step, timestamp = seeded
        point = None if value is None else MetricPoint(value, step, timestamp)
        return inode, parsed_to, -1, point, True

    def forget(self, prefix: str) -> None:
        """Drop entries under a directory (after it was deleted or rewritten)."""
        for table in (self._entries, self._seeds):
            for key in [k for k in table if k.startswith(prefix)]:
                table.pop(key, None)


def latest_point(path: str) -> tuple[MetricPoint | None, list[str]]:
    """The latest point of a metric file (see module doc for big files), and problems found.

    Raises OSError when the file cannot be read."""
    return LatestCache().latest(path)


def max_point(
    data: bytes, start: MetricPoint | None = None
) -> tuple[MetricPoint | None, list[str], int]:
    """The maximum of `start` and the complete lines of `data`, problems, and how many bytes
    of `data` were complete lines."""
    problems: list[str] = []
    if data and not data.endswith(b"\n"):
        problems.append("unterminated last line ignored (being written?)")
        data = data[: data.rfind(b"\n") + 1]
    used = len(data)
    if not data:
        if start is None and not problems:
            problems.append("no data")
        return start, problems, used
    if start is None:
        best = max_three_field(data)
        if best is not None:
            return best, problems, used
    best_key = None if start is None else (start.step, start.timestamp, start.value)
    bad = 0
    for line in data.split(b"\n"):
        if not line:
            continue
        parsed = parse_line(line)
        if parsed is None:
            bad += 1
            continue
        ts, value, step = parsed
        key = (step, ts, value)
        if best_key is None or key > best_key:
            best_key = key
    if bad:
        problems.append(f"{bad} malformed line(s) skipped")
    if best_key is None:
        return None, problems, used
    step, ts, value = best_key
    return MetricPoint(value=value, step=step, timestamp=ts), problems, used


def max_three_field(data: bytes) -> MetricPoint | None:
    """The max for a file of `ts value step` lines, or None if it is not one (then the caller
    parses line by line). Every line having 3 fields is checked in C: 3n whitespace-separated
    tokens, and the file's whitespace alone (everything else deleted) reading exactly
    "  \\n" n times: two spaces per line, no other whitespace, so no empty field either.

    Which rows hold the greatest step depends on the step column only, and that column is
    mostly the same from file to file (every metric of a run, every run of a sweep logs
    steps 0..n-1): it is looked up in `_STEP_COLUMNS` by its bytes, so usually no step is
    converted at all. Same bytes, same ints: the answer is exact either way."""
    tokens = data.split()
    n, odd = divmod(len(tokens), 3)
    if odd or not n or data.translate(None, _NOT_SEPARATORS) != b"  \n" * n:
        return None
    column = b" ".join(tokens[2::3])
    known = _STEP_COLUMNS.get(column)
    if known is None:
        known = _top_rows(tokens[2::3])
        if known is None:
            return None
        if len(_STEP_COLUMNS) >= MAX_STEP_COLUMNS:
            _STEP_COLUMNS.clear()
        _STEP_COLUMNS[column] = known
    top, rows = known
    try:
        if len(rows) == 1:
            i = 3 * rows[0]
            return MetricPoint(float(tokens[i + 1]), top, int(tokens[i]))
        best_key: tuple[int, float] | None = None
        for row in rows:  # equal steps: the greatest (timestamp, value), first one on ties
            key = (int(tokens[3 * row]), float(tokens[3 * row + 1]))
            if best_key is None or key > best_key:
                best_key = key
    except ValueError:
        return None
    if best_key is None:  # no rows: nothing to tell
        return None
    return MetricPoint(best_key[1], top, best_key[0])


#: every byte but ASCII whitespace: what `translate` deletes to see a file's line layout
_NOT_SEPARATORS = bytes(c for c in range(256) if c not in b" \t\n\r\x0b\x0c")
#: step column bytes -> (greatest step, rows holding it); see max_three_field
_STEP_COLUMNS: dict[bytes, tuple[int, tuple[int, ...]]] = {}
#: Remembered step columns at most (each ~3 bytes a point); dropped whole when exceeded.
MAX_STEP_COLUMNS = 1024


def _top_rows(steps: list[bytes]) -> tuple[int, tuple[int, ...]] | None:
    """(greatest step, the rows holding it) of a step column, None if a step is no int."""
    try:
        values = list(map(int, steps))
    except ValueError:
        return None
    top = max(values)
    if values[-1] == top and values.count(top) == 1:  # the usual file: steps logged in order
        return top, (len(values) - 1,)
    return top, tuple(i for i, step in enumerate(values) if step == top)


def read_tail(path: str, n: int) -> tuple[list[MetricPoint], list[str]]:
    """The last `n` points of the file, by (step, timestamp), and the problems found: reads
    backwards from the end in blocks until n complete lines are in hand, so a live board's
    cost does not grow with the history. They are the latest points whenever steps were
    logged in increasing order (as training loops log them)."""
    fd = os.open(path, O_READ)
    try:
        check_regular(fd, path)
        end = os.fstat(fd).st_size
        data, start, block = b"", end, TAIL_BYTES
        while start > 0 and data.count(b"\n") <= n:
            start = max(0, start - block)
            data = os.pread(fd, end - start - len(data), start) + data
            block *= 2
    finally:
        os.close(fd)
    lines, problems = _complete_lines(data)
    if start > 0:
        lines = lines[1:]  # the first line was cut by the block boundary
    parsed = [p for p in map(parse_line, (line for line in lines if line)) if p is not None]
    points = [MetricPoint(value, step, ts) for ts, value, step in parsed[-n:]] if n > 0 else []
    points.sort(key=lambda p: (p.step, p.timestamp))
    return points, problems


def _read_all(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _complete_lines(data: bytes) -> tuple[list[bytes], list[str]]:
    problems: list[str] = []
    if data and not data.endswith(b"\n"):
        problems.append("unterminated last line ignored (being written?)")
        data = data[: data.rfind(b"\n") + 1]
    return data.split(b"\n"), problems
