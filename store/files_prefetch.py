"""A second process that reads run folders while the listing reads them too.

A cold listing of a big `mlruns` tree is ~27 tiny files a run, and the cost is the syscalls
and the Python around them, one core's worth: threads do not help (every syscall hands the
GIL over, 2x slower measured). A helper process does. It is started when the listing starts
(its ~0.1 s start-up overlaps the listing's meta.yaml reads and sort); once the page is known
it is sent the page's run folders not read before, and it reads their data from the last one
backwards, sending results in batches, while the listing reads from the first one forwards;
they meet in the middle.

The listing never waits for the helper. Whatever the helper has not sent when the listing
gets there is read by the listing itself, so a helper that cannot start, dies, hangs or
sends garbage costs nothing but its own CPU; when the listing is done the helper is killed.
It is started with `-S` (the listing's `sys.path` is passed instead: no `.pth` processing)
and without the `store` package's `__init__` (which imports the SQL and HTTP stacks):
~0.1 s to start, not ~0.3 s. Only worth it for thousands of runs on a machine with a
second core.
"""

from __future__ import annotations

import marshal
import os
import subprocess
import sys
import threading

from .files_metrics import LatestCache
from .files_rundata import RunData, RunDataCache
from .model import MetricPoint

#: fewest uncached run folders worth a helper process
MIN_RUNS = 2000
#: run folders per batch the helper sends (~20 ms of its work: the listing sees results soon)
BATCH = 100
#: set to "0" to never start a helper
ENV_SWITCH = "TRACKTUI_FILE_STORE_HELPER"
#: the helper's command line, when not the default one (tests start broken helpers)
HELPER_ARGV: list[str] | None = None

_STORE_DIR = os.path.dirname(os.path.abspath(__file__))
_CHILD_CODE = (
    "import sys, types\n"
    "sys.path[:0] = sys.argv[2].split(sys.argv[3])\n"
    "pkg = types.ModuleType('store'); pkg.__path__ = [sys.argv[1]]; sys.modules['store'] = pkg\n"
    "from store.files_prefetch import child_main\n"
    "child_main()\n"
)


def wanted(n_uncached: int) -> bool:
    """True when a helper is worth starting for this many uncached run folders."""
    return (
        n_uncached >= MIN_RUNS
        and (os.cpu_count() or 1) >= 2
        and os.environ.get(ENV_SWITCH, "1") != "0"
        and bool(sys.executable)
        and not getattr(sys, "frozen", False)
    )


class Prefetch:
    """A helper process, started at once (its start-up overlaps the listing's meta reads)
    and given its run folders with `send` once the page is known; it reads them from the
    last one back, and `results` fills as its batches arrive. Use as a context manager:
    leaving it kills the helper."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        #: run folder -> its place in `paths` (the helper works from the end)
        self.rank: dict[str, int] = {}
        #: run folder -> RunData read by the helper (filled by the collecting thread)
        self.results: dict[str, RunData] = {}
        self._thread: threading.Thread | None = None
        try:
            self._proc: subprocess.Popen | None = subprocess.Popen(
                HELPER_ARGV or [sys.executable, "-S", "-c", _CHILD_CODE, _STORE_DIR,
                                os.pathsep.join(p for p in sys.path if p), os.pathsep],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                close_fds=True,
            )
        except OSError:
            self._proc = None

    def send(self, paths: list[str]) -> None:
        """Give the helper its run folders (once); results arrive from the last one back."""
        if self._proc is None or self._thread is not None:
            return
        self.paths = paths
        self.rank = {path: i for i, path in enumerate(paths)}
        self._thread = threading.Thread(target=self._collect, args=(marshal.dumps(paths),),
                                        name="tracktui-prefetch", daemon=True)
        self._thread.start()

    def __enter__(self) -> Prefetch:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _collect(self, payload: bytes) -> None:
        proc = self._proc
        assert proc is not None and proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(payload)  # here, not in the caller: the pipe holds 64 kB
            proc.stdin.close()
            read = proc.stdout.read
            while True:
                head = read(4)
                if len(head) < 4:
                    return
                size = int.from_bytes(head, "little")
                body = read(size)
                if len(body) < size:
                    return
                for path, packed in marshal.loads(body):
                    if path in self.rank:  # only folders it was asked for
                        self.results[path] = _unpack(packed)
        except Exception:  # a dead or confused helper: the listing reads the rest itself
            return

    def stop(self) -> None:
        """Kill the helper (done or not) and wait for the collecting thread."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            proc.kill()
        except OSError:
            pass
        if self._thread is not None:
            self._thread.join()
        proc.wait()
        for pipe in (proc.stdin, proc.stdout):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:
                pass


def _pack(data: RunData) -> tuple:
    """RunData as marshal-able builtins. Keys are interned: the same names recur in every run,
    and marshal writes a repeated interned string as a back-reference (half the load time)."""
    intern = sys.intern
    return (
        data.read_ns,
        {intern(k): v for k, v in data.params.items()},
        {intern(k): v for k, v in data.tags.items()},
        [(intern(k), p.value, p.step, p.timestamp) for k, p in data.metrics.items()],
        {intern(k): v for k, v in data.checks.items()},
    )


def _unpack(packed: tuple) -> RunData:
    read_ns, params, tags, metrics, checks = packed
    return RunData(read_ns, params, tags, {k: MetricPoint(v, s, t) for k, v, s, t in metrics}, checks)


def child_main() -> None:
    """The helper: read the run folders listed on stdin from the last one back, writing
    length-prefixed marshal batches of (path, packed RunData)."""
    paths = marshal.loads(sys.stdin.buffer.read())
    cache = RunDataCache(LatestCache())
    out = sys.stdout.buffer
    batch: list[tuple[str, tuple]] = []
    for i in range(len(paths) - 1, -1, -1):
        path = paths[i]
        data = cache.read(path)
        if data is not None:  # unusual runs are left to the listing (it warns about them)
            batch.append((path, _pack(data)))
        if len(batch) >= BATCH or (i == 0 and batch):
            body = marshal.dumps(batch)
            out.write(len(body).to_bytes(4, "little") + body)
            out.flush()
            batch = []
            cache.forget()
