"""Download a run's artifact file or directory: streamed, concurrent, atomic, never outside
the destination.

Each file is written to a hidden part file in its final directory and renamed into place
only when complete, so an interrupted or failed download never leaves a partial file under the
final name; a failed or cancelled download removes its parts, and one killed outright leaves
parts the next download resumes (Range requests) or removes (store/part_files.py). Existing files are refused unless `overwrite=True`, checked before any byte is
fetched and again at the rename (no race with another writer). Every path from the listing is
checked by `artifacts.safety` before it is joined to the destination.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, as_completed, wait
from dataclasses import dataclass
from pathlib import Path

from .artifacts.base import (
    CHUNK_SIZE,
    ArtifactEntry,
    ArtifactRepository,
    RangesNotSupported,
)
from .artifacts.safety import clean_relative_path, destination_for
from .atomic import new_file_mode
from .errors import DestinationExists, DownloadCancelled, NotFound, StoreError
from .part_files import PartFile, sweep_stale

#: Files fetched at the same time unless the caller says otherwise: up to DEFAULT_WORKERS files
#: of any size and, besides them, up to SMALL_FILE_WORKERS files under SMALL_FILE_SIZE. A small
#: file costs a request, not bandwidth; more of them in flight hide the server's per-request
#: latency (2,000 files through mlflow's proxy, 4 uvicorn workers: 8 at once 13-15 s, 16 at
#: once 7-10 s, 32 at once 6-7 s; bench_artifacts.py).
DEFAULT_WORKERS = 8
SMALL_FILE_WORKERS = 32
SMALL_FILE_SIZE = 1 << 20
#: How often the waiting thread checks for cancellation, and how long a cancelled download
#: waits for workers to notice before removing their temp files itself.
POLL_SECONDS = 0.2
CANCEL_GRACE_SECONDS = 2.0
#: Files at least this large are fetched in parallel Range requests where the store allows it:
#: parts of at least RANGE_PART_MIN bytes, at most RANGE_PARTS_MAX of them, RANGE_WORKERS at once.
RANGED_MIN_SIZE = 64 << 20
RANGE_PART_MIN = 16 << 20
RANGE_PARTS_MAX = 64
RANGE_WORKERS = 4
#: Least time between two progress updates (the first and the last are always sent).
PROGRESS_INTERVAL = 0.05

@dataclass(frozen=True, slots=True)
class DownloadProgress:
    """One progress update. `total` is None while some file's size is unknown.

    Sent from worker threads: a UI must hand it over to its own thread."""

    path: str  # the file this update is about, relative to the run's artifact root
    file_done: int
    file_total: int | None
    done: int
    total: int | None
    files_done: int
    files_total: int


ProgressCallback = Callable[[DownloadProgress], None]


def download(
    repo: ArtifactRepository,
    path: str,
    dest: str | os.PathLike,
    *,
    progress: ProgressCallback | None = None,
    overwrite: bool = False,
    workers: int | None = None,
    chunk_size: int = CHUNK_SIZE,
    cancel: threading.Event | None = None,
) -> Path:
    """Download artifact `path` (a file or a directory, `""` for all) into `dest`, keeping its
    path below the artifact root (as `mlflow artifacts download` does); returns where it landed.
    `workers` caps the files fetched at the same time (default: see DEFAULT_WORKERS).

    Raises NotFound, DestinationExists (nothing written), UnsafePath, DownloadCancelled when
    `cancel` is set, and the repository's transport errors."""
    path = clean_relative_path(path)
    dest = Path(dest).expanduser()
    if dest.exists() and not dest.is_dir():
        raise DestinationExists(f"The destination {dest} exists and is not a directory")
    cancel = cancel or threading.Event()
    temps = _TempFiles()
    pool = ThreadPoolExecutor(max_workers=max(1, workers or DEFAULT_WORKERS), thread_name_prefix="tracktui-download")
    pools = [pool]
    futures: list = []
    stuck = False
    try:
        files, dirs = _plan(repo, path, pool)
        jobs = [(entry, destination_for(dest, entry.path)) for entry in files]
        _refuse_existing(jobs, overwrite)
        for directory in dirs:
            destination_for(dest, directory).mkdir(parents=True, exist_ok=True)
        tracker = _Tracker(files, progress)
        small_pool = None
        if workers is None and sum(_is_small(entry) for entry in files) > DEFAULT_WORKERS:
            small_pool = ThreadPoolExecutor(SMALL_FILE_WORKERS, thread_name_prefix="tracktui-download-small")
            pools.append(small_pool)
        futures = [
            (small_pool if small_pool and _is_small(entry) else pool).submit(
                _fetch_one, repo, entry, target, overwrite, tracker, cancel, temps, chunk_size
            )
            for entry, target in jobs
        ]
        pending = set(futures)
        while pending:  # poll, so a `cancel` set by the caller stops a download promptly
            done, pending = wait(pending, timeout=POLL_SECONDS, return_when=FIRST_EXCEPTION)
            error = next((e for f in done if (e := f.exception()) is not None), None)
            if error is not None:
                raise error
            if cancel.is_set():
                raise DownloadCancelled("Download cancelled; no partial file was left")
        for directory in dirs:
            sweep_stale(destination_for(dest, directory))
    except BaseException:  # KeyboardInterrupt too
        cancel.set()  # workers stop between chunks and remove their temp files
        _, still_running = wait(futures, timeout=CANCEL_GRACE_SECONDS)
        stuck = bool(still_running)  # blocked in a read: don't wait for them, remove their files
        temps.remove_all()
        raise
    finally:
        for each in pools:
            each.shutdown(wait=not stuck, cancel_futures=True)
    return destination_for(dest, path)


def _is_small(entry: ArtifactEntry) -> bool:
    return entry.size is not None and entry.size < SMALL_FILE_SIZE


def _plan(repo: ArtifactRepository, path: str, pool: ThreadPoolExecutor) -> tuple[list[ArtifactEntry], list[str]]:
    """The files to fetch and the directories to create, listing one level at a time (each
    level's directories listed concurrently)."""
    if path:
        parent = path.rsplit("/", 1)[0] if "/" in path else ""
        entry = next((e for e in repo.list(parent) if e.path == path), None)
        if entry is None:
            raise NotFound(f"No artifact {path!r} in {repo.display_uri}")
        if not entry.is_dir:
            return [entry], []
    files: list[ArtifactEntry] = []
    dirs: list[str] = [path]
    level = [path]
    seen = {path}
    while level:
        next_level = []
        for listing in pool.map(repo.list, level):
            for entry in listing:
                if entry.path in seen:
                    continue  # a server repeating itself must not make two writers race
                seen.add(entry.path)
                if entry.is_dir:
                    next_level.append(entry.path)
                    dirs.append(entry.path)
                else:
                    files.append(entry)
        level = next_level
    return files, dirs


def _refuse_existing(jobs: list[tuple[ArtifactEntry, Path]], overwrite: bool) -> None:
    for entry, target in jobs:
        if target.is_dir():
            raise DestinationExists(f"Cannot write {entry.path!r}: {target} is a directory")
    if overwrite:
        return
    existing = [target for _, target in jobs if os.path.lexists(target)]
    if existing:
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        raise DestinationExists(
            f"{existing[0]} already exists{more}; nothing was downloaded. "
            f"Choose another destination or allow overwriting (--overwrite)"
        )


def _fetch_one(repo, entry, target: Path, overwrite: bool, tracker: _Tracker, cancel, temps, chunk_size: int) -> None:
    if cancel.is_set():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    part = PartFile(target)  # raises, touching nothing, while another download writes it
    tmp = str(part.path)
    temps.add(tmp)
    try:
        fd = part.fd
        resumed = part.existing and _resume(repo, entry, fd, part.existing, tracker, cancel, chunk_size)
        if not resumed:
            part.restart()
            ranged = (
                repo.supports_ranges
                and hasattr(os, "pwrite")
                and entry.size is not None
                and entry.size >= RANGED_MIN_SIZE
                and _fetch_ranged(repo, entry, fd, tracker, cancel, chunk_size)
            )
            if not ranged:
                _fetch_whole(repo, entry, fd, tracker, cancel, chunk_size)
        if cancel.is_set():
            raise DownloadCancelled(f"Download of {entry.path!r} cancelled")
        os.chmod(tmp, new_file_mode())
        if not part.locks:
            part.close()  # Windows cannot rename an open file
        # The lock is held until the part has its final name: no other download can take
        # the part over between the last byte and the rename.
        _publish(tmp, target, overwrite, entry.path)
        part.close()
        tracker.finish(entry.path)
    except BaseException:
        part.remove()
        raise
    finally:
        temps.discard(tmp)


def _resume(repo, entry, fd: int, offset: int, tracker: _Tracker, cancel, chunk_size: int) -> bool:
    """Fetch the rest of a file a killed download left `offset` bytes of. False, with nothing
    written, when that cannot be done: the store has no Range requests, the size is unknown,
    or the part is not shorter than the file."""
    size = entry.size
    if not repo.supports_ranges or not hasattr(os, "pwrite") or size is None or not 0 < offset < size:
        return False
    try:
        stream = repo.open_range(entry.path, offset, size - 1)
    except RangesNotSupported:
        return False
    tracker.start(entry.path, size)
    tracker.add(entry.path, offset)
    position = offset
    with stream:
        for chunk in stream.chunks(chunk_size):
            if cancel.is_set():
                raise DownloadCancelled(f"Download of {entry.path!r} cancelled")
            if position + len(chunk) > size:
                raise _size_mismatch(entry, position + len(chunk), "sent more than")
            os.pwrite(fd, chunk, position)
            position += len(chunk)
            tracker.add(entry.path, len(chunk))
    if position != size:
        raise StoreError(f"The download of {entry.path!r} broke off at byte {position} of {size}")
    return True


def _fetch_whole(repo, entry, fd: int, tracker: _Tracker, cancel, chunk_size: int) -> None:
    """The file in one stream, held to the size its listing gave: a server listing 5 bytes
    must not stream gigabytes into the destination."""
    listed = entry.size
    with open(fd, "wb", closefd=False) as out, repo.open_for_download(entry.path) as stream:
        if listed is not None and stream.size is not None and stream.size != listed:
            raise _size_mismatch(entry, stream.size, "announced")
        tracker.start(entry.path, stream.size if stream.size is not None else listed)
        received = 0
        for chunk in stream.chunks(chunk_size):
            if cancel.is_set():
                raise DownloadCancelled(f"Download of {entry.path!r} cancelled")
            received += len(chunk)
            if listed is not None and received > listed:
                raise _size_mismatch(entry, received, "sent more than")
            out.write(chunk)
            tracker.add(entry.path, len(chunk))
    if listed is not None and received != listed:
        raise _size_mismatch(entry, received, "sent")


def _size_mismatch(entry: ArtifactEntry, got: int, what: str) -> StoreError:
    return StoreError(
        f"The store {what} {got} bytes of {entry.path!r}, but its listing said {entry.size}: the "
        f"file changed during the download, or the server is misbehaving; the partial file was removed"
    )


def _fetch_ranged(repo, entry, fd: int, tracker: _Tracker, cancel, chunk_size: int) -> bool:
    """A large file in parallel Range requests written at their offsets (a single stream is
    limited by one server worker and one client thread). False, with nothing written, when
    the store answers the first Range request with the whole file."""
    size = entry.size
    part = max(RANGE_PART_MIN, -(-size // RANGE_PARTS_MAX))
    bounds = [(start, min(start + part, size) - 1) for start in range(0, size, part)]
    try:
        first = repo.open_range(entry.path, *bounds[0])
    except RangesNotSupported:
        return False
    os.ftruncate(fd, size)
    tracker.start(entry.path, size)
    failed = threading.Event()

    def fetch_part(bound: tuple[int, int], stream=None) -> None:
        start, end = bound
        try:
            stream = stream or repo.open_range(entry.path, start, end)
        except RangesNotSupported:
            raise StoreError(f"The store stopped honouring Range requests for {entry.path!r}") from None
        with stream:
            position = start
            for chunk in stream.chunks(chunk_size):
                if cancel.is_set() or failed.is_set():
                    raise DownloadCancelled(f"Download of {entry.path!r} cancelled")
                if position + len(chunk) > end + 1:
                    raise StoreError(f"The store sent more bytes of {entry.path!r} than were asked for")
                os.pwrite(fd, chunk, position)
                position += len(chunk)
                tracker.add(entry.path, len(chunk))
        if position != end + 1:
            raise StoreError(f"The download of {entry.path!r} broke off at byte {position} of {size}")

    with ThreadPoolExecutor(RANGE_WORKERS, thread_name_prefix="tracktui-download-part") as parts:
        futures = [parts.submit(fetch_part, bounds[0], first)]
        futures += [parts.submit(fetch_part, bound) for bound in bounds[1:]]
        try:
            for future in as_completed(futures):
                future.result()
        except BaseException:
            failed.set()
            raise
    return True


def _publish(tmp: str, target: Path, overwrite: bool, rel: str) -> None:
    """Rename the finished temp file into place; without overwrite, never replace a file that
    appeared meanwhile (a hard link fails if the name exists; rename would not)."""
    if overwrite:
        os.replace(tmp, target)
        return
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise DestinationExists(f"{target} appeared during the download; it was left untouched") from None
    except OSError:  # file systems without hard links
        if os.path.lexists(target):
            raise DestinationExists(f"{target} appeared during the download; it was left untouched") from None
        os.rename(tmp, target)
        return
    os.unlink(tmp)


class _TempFiles:
    """Temp files being written, so a cancelled download can remove those of workers stuck in
    a network read."""

    def __init__(self):
        self._lock = threading.Lock()
        self._paths: set[str] = set()

    def add(self, path: str) -> None:
        with self._lock:
            self._paths.add(path)

    def discard(self, path: str) -> None:
        with self._lock:
            self._paths.discard(path)

    def remove_all(self) -> None:
        with self._lock:
            paths, self._paths = self._paths, set()
        for path in paths:
            try:
                os.unlink(path)
            except OSError:
                pass


class _Tracker:
    """Byte and file counters shared by the workers. Calls `progress` under a lock, so updates
    arrive in order, and at most every PROGRESS_INTERVAL seconds (plus the very first and the
    final update), so a UI that handles each update on its own thread cannot slow the workers."""

    def __init__(self, files: list[ArtifactEntry], progress: ProgressCallback | None):
        self._progress = progress
        self._lock = threading.Lock()
        self._sizes = {f.path: f.size for f in files}
        self._done: dict[str, int] = {}
        self._last_emit = float("-inf")
        self.bytes_done = 0
        self.files_done = 0
        self.files_total = len(files)
        self._total = None if any(s is None for s in self._sizes.values()) else sum(s or 0 for s in self._sizes.values())
        if progress and not files:
            progress(DownloadProgress("", 0, 0, 0, 0, 0, 0))

    def start(self, path: str, size: int | None) -> None:
        with self._lock:
            if size is not None and self._sizes.get(path) != size:
                self._sizes[path] = size
                unknown = any(s is None for s in self._sizes.values())
                self._total = None if unknown else sum(s or 0 for s in self._sizes.values())
            self._done[path] = 0
            self._emit(path)

    def add(self, path: str, n: int) -> None:
        with self._lock:
            self._done[path] += n
            self.bytes_done += n
            self._emit(path)

    def finish(self, path: str) -> None:
        with self._lock:
            self.files_done += 1
            self._emit(path, final=self.files_done == self.files_total)

    def _emit(self, path: str, final: bool = False) -> None:
        if self._progress is None:
            return
        now = time.monotonic()
        if not final and now - self._last_emit < PROGRESS_INTERVAL:
            return
        self._last_emit = now
        self._progress(
            DownloadProgress(
                path, self._done.get(path, 0), self._sizes.get(path), self.bytes_done,
                self._total, self.files_done, self.files_total,
            )
        )
