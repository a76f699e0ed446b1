"""Remember what was read from an `mlruns` tree while the files stay the same.

The TUI lists the same runs again and again (paging, polling a live experiment). One `stat`
is several times cheaper than open/read/close plus parsing, so file contents and directory
listings are kept and reused while the file's (inode, size, mtime) are unchanged.

Like git's "racily clean" index entries, nothing modified in the last `RACY_NS` is kept:
a file rewritten within the same mtime tick as our read, with the same size, could otherwise
be served stale. Safe to share between threads (single dict operations only).
"""

from __future__ import annotations

import os
import time
from typing import Callable, TypeVar

from .files_meta import read_bytes

T = TypeVar("T")

#: Entries whose mtime is this recent are not cached (coarse filesystem timestamps).
RACY_NS = 2_000_000_000
#: Upper bound on remembered entries; the cache is dropped whole when it is exceeded.
MAX_ENTRIES = 2_000_000


class TreeCache:
    def __init__(self) -> None:
        self._files: dict[str, tuple[tuple[int, int, int], object]] = {}
        self._dirs: dict[str, tuple[tuple[int, int], tuple[tuple[str, bool], ...]]] = {}

    def content(self, path: str, parse: Callable[[bytes], T]) -> T:
        """`parse(bytes of path)`, reused while the file is unchanged. Raises OSError and
        whatever `parse` raises (failures are not remembered)."""
        st = os.stat(path)
        key = (st.st_ino, st.st_size, st.st_mtime_ns)
        hit = self._files.get(path)
        if hit is not None and hit[0] == key:
            return hit[1]  # type: ignore[return-value]
        value = parse(read_bytes(path))
        if time.time_ns() - st.st_mtime_ns > RACY_NS:
            self._remember(self._files, path, (key, value))
        return value

    def entries(self, path: str) -> tuple[tuple[str, bool], ...]:
        """(name, is_dir) of the entries of a directory. Raises OSError (e.g. missing)."""
        st = os.stat(path)
        key = (st.st_ino, st.st_mtime_ns)
        hit = self._dirs.get(path)
        if hit is not None and hit[0] == key:
            return hit[1]
        out = []
        with os.scandir(path) as it:
            for entry in it:
                try:
                    out.append((entry.name, entry.is_dir()))
                except OSError:
                    continue
        listing = tuple(out)
        if time.time_ns() - st.st_mtime_ns > RACY_NS:
            self._remember(self._dirs, path, (key, listing))
        return listing

    def forget(self, prefix: str) -> None:
        """Drop everything at or under `prefix` (after we changed it ourselves)."""
        for table in (self._files, self._dirs):
            for key in [k for k in table if k == prefix or k.startswith(prefix + os.sep)]:
                table.pop(key, None)

    @staticmethod
    def _remember(table: dict, key: str, value) -> None:
        if len(table) >= MAX_ENTRIES:
            table.clear()
        table[key] = value
