"""A run's params, tags and latest metrics read in one tight pass, and kept while unchanged.

Listing every run with all its data means ~27 tiny files per run (270k for 10k runs), and
the per-file cost is what matters: a `stat` costs about as much as open+read+close here, and
so does a layer of Python calls per file. So the first read of a run opens its folders once
and reads each file relative to them (`dir_fd`: one path component for the kernel to
resolve, not ten), with no `stat` at all; the result is remembered with the time the read
started. A later listing checks each folder and each tag/metric file with one `stat`: the
entry is still right when nothing is newer than that time (minus `RACY_NS`, as in
files_cache) and every file read whole still has the size read. Params are written once
(mlflow refuses to change a logged param), so their folders' mtimes cover them.

Anything unusual (an unreadable or unparsable file, a temp file of a write in progress, a
metric file with problems) makes `read_run_data` answer None: the caller then takes the
general, per-file path, which warns about it exactly. Metric files bigger than
`EXACT_LIMIT` go through the shared `LatestCache` (tail read, appends parsed incrementally);
small ones seed it, so a file read exactly here stays exact there as it grows.
"""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass

from ..model import MetricPoint
from .cache import RACY_NS, SKIP_PREFIX
from .meta import O_READ
from .metrics import EXACT_LIMIT, LatestCache, max_point, max_three_field

_O_FILE = O_READ  # never waits on a FIFO: an empty read then checks the file type
_O_DIR = _O_FILE | getattr(os, "O_DIRECTORY", 0)
#: Remembered runs at most; the table is dropped whole when it is exceeded.
MAX_RUNS = 50_000  # ~5 kB a run of the benchmark shape


@dataclass(slots=True)
class RunData:
    """What one run's folders held when read, and how to tell they still do."""

    read_ns: int
    params: dict[str, str]
    tags: dict[str, str]
    metrics: dict[str, MetricPoint]
    #: path relative to the run -> size read, or -1 for a folder or a file read in part
    #: (a dict of str -> int: no objects for the garbage collector to walk)
    checks: dict[str, int]


class _Unusual(Exception):
    """Leave this run to the general path (it will warn about whatever this is)."""


class RunDataCache:
    """Run folder path → RunData. Safe to share between threads (single dict operations)."""

    def __init__(self, latest: LatestCache) -> None:
        self._latest = latest
        self._runs: dict[str, RunData] = {}

    def get(self, path: str) -> RunData | None:
        """The run's data when everything it was read from is unchanged, else None."""
        entry = self._runs.get(path)
        if entry is None:
            return None
        limit = entry.read_ns - RACY_NS
        stat = os.stat
        try:
            for rel, size in entry.checks.items():
                st = stat(f"{path}/{rel}")
                if st.st_mtime_ns > limit or (size >= 0 and st.st_size != size):
                    break
            else:
                return entry
        except OSError:
            pass
        self._runs.pop(path, None)
        return None

    def read(self, path: str) -> RunData | None:
        """Read the run's params, tags and latest metrics now (None: take the general path)."""
        started = time.time_ns()
        checks: dict[str, int] = {}
        try:
            run_fd = os.open(path, _O_DIR)
        except OSError:
            return None
        try:
            params: dict[str, str] = {}
            tags: dict[str, str] = {}
            metrics: dict[str, MetricPoint] = {}
            _read_values(run_fd, "params", "", params, checks, False)
            _read_values(run_fd, "tags", "", tags, checks, True)
            self._read_metrics(run_fd, path, "metrics", "", metrics, checks)
        except _Unusual:
            return None
        finally:
            os.close(run_fd)
        entry = RunData(started, params, tags, metrics, checks)
        self.put(path, entry)
        return entry

    def put(self, path: str, entry: RunData) -> None:
        """Remember a run's data, as `read` does."""
        if len(self._runs) >= MAX_RUNS:
            self._runs.clear()
        self._runs[path] = entry

    def forget(self) -> None:
        """Drop every remembered run."""
        self._runs.clear()

    def __contains__(self, path: str) -> bool:
        """Whether the run's data is remembered (maybe stale: `get` checks)."""
        return path in self._runs

    def _read_metrics(self, parent_fd: int, run_path: str, rel: str, prefix: str,
                      out: dict[str, MetricPoint], checks: dict[str, int]) -> None:
        dir_fd = _open_dir(parent_fd, rel.rsplit("/", 1)[-1])
        if dir_fd is None:
            return
        checks[rel] = -1
        seed, base = self._latest.seed, f"{run_path}/{rel}/"
        os_open, os_read, os_close = os.open, os.read, os.close
        try:  # inline, not helper calls: this runs for 60k files of 10k runs
            with os.scandir(dir_fd) as entries:
                for entry in entries:
                    name = entry.name
                    if name.startswith(SKIP_PREFIX):
                        raise _Unusual  # a write in progress
                    if entry.is_dir():
                        self._read_metrics(dir_fd, run_path, f"{rel}/{name}", f"{prefix}{name}/", out, checks)
                        continue
                    fd = os_open(name, _O_FILE, dir_fd=dir_fd)
                    try:
                        data = os_read(fd, _READ_METRIC)
                    finally:
                        os_close(fd)
                    size = len(data)
                    if size > EXACT_LIMIT:  # a long history: tail read, cached incrementally
                        point, size = self._read_long(base + name)
                    else:
                        # the usual file: complete `ts value step` lines, max found in C
                        point = max_three_field(data) if data.endswith(b"\n") else None
                        if point is None:
                            point, problems, _ = max_point(data)
                            if problems:
                                raise _Unusual
                        seed(base + name, entry.inode(), size, point)
                    checks[f"{rel}/{name}"] = size
                    if point is not None:
                        out[prefix + name] = point
        except OSError:
            raise _Unusual from None
        finally:
            os_close(dir_fd)

    def _read_long(self, full: str) -> tuple[MetricPoint | None, int]:
        """The latest point of a long metric file (LatestCache) and the file's size."""
        try:
            point, problems = self._latest.latest(full)
            size = os.stat(full).st_size
        except OSError:
            raise _Unusual from None
        if problems:
            raise _Unusual
        return point, size


#: one byte more than an exactly-read metric file may hold: a longer read means a long history
_READ_METRIC = EXACT_LIMIT + 1


def _read_values(parent_fd: int, rel: str, prefix: str, out: dict[str, str],
                 checks: dict[str, int], check_files: bool) -> None:
    """Every file under `rel` (nested keys with `/`) → its UTF-8 text, like read_values."""
    dir_fd = _open_dir(parent_fd, rel.rsplit("/", 1)[-1])
    if dir_fd is None:
        return
    checks[rel] = -1
    os_open, os_read, os_close = os.open, os.read, os.close
    try:
        try:
            names = os.listdir(dir_fd)  # names only: a sub-folder shows itself on read (EISDIR)
        except OSError:
            raise _Unusual from None
        for name in names:
            if name.startswith(SKIP_PREFIX):
                raise _Unusual  # a write in progress
            try:  # inline, not a helper call: this runs for 200k files of 10k runs
                fd = os_open(name, _O_FILE, dir_fd=dir_fd)
                try:
                    data = os_read(fd, 65536)
                    if not data and not stat.S_ISREG(os.fstat(fd).st_mode):
                        raise _Unusual  # a FIFO or device: the general path names it
                finally:
                    os_close(fd)
            except IsADirectoryError:
                _read_values(dir_fd, f"{rel}/{name}", f"{prefix}{name}/", out, checks, check_files)
                continue
            except OSError:
                raise _Unusual from None
            if len(data) == 65536:
                raise _Unusual  # a big value: the general path reads it whole
            out[prefix + name] = data.decode("utf-8", "replace")
            if check_files:
                checks[f"{rel}/{name}"] = len(data)
    finally:
        os_close(dir_fd)


def _open_dir(parent_fd: int, name: str) -> int | None:
    try:
        return os.open(name, _O_DIR, dir_fd=parent_fd)
    except (FileNotFoundError, NotADirectoryError):
        return None  # no such folder: no keys, as the general path says
    except OSError:
        raise _Unusual from None
