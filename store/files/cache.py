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
import stat
import time
from collections.abc import Callable
from typing import TypeVar

from .meta import NotRegularFile, read_bytes

T = TypeVar("T")

#: Entries whose mtime is this recent are not cached (coarse filesystem timestamps).
RACY_NS = 2_000_000_000
#: Names our own atomic writes use for temp files: never a key.
SKIP_PREFIX = ".tracktui-"
#: Upper bound on remembered entries per table (~150 bytes of overhead each, plus values);
#: a table is dropped whole when it is exceeded. 10k runs of the benchmark shape take ~100k.
MAX_ENTRIES = 500_000


class TreeCache:
    def __init__(self) -> None:
        self._files: dict[str, tuple[tuple[int, int, int], object]] = {}
        self._dirs: dict[str, tuple[tuple[int, int], tuple[tuple[tuple[str, bool], ...], tuple[str, ...]]]] = {}
        self._trees: dict[str, tuple[tuple[int, int], tuple[dict[str, str], tuple[str, ...]]]] = {}

    def content(self, path: str, parse: Callable[[bytes], T]) -> T:
        """`parse(bytes of path)`, reused while the file is unchanged. Raises OSError and
        whatever `parse` raises (failures are not remembered)."""
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(path)
        key = (st.st_ino, st.st_size, st.st_mtime_ns)
        hit = self._files.get(path)
        if hit is not None and hit[0] == key:
            return hit[1]  # type: ignore[return-value]
        value = parse(read_bytes(path))
        if time.time_ns() - st.st_mtime_ns > RACY_NS:
            self._remember(self._files, path, (key, value))
        return value

    def entries(self, path: str, problems: list[str] | None = None) -> tuple[tuple[str, bool], ...]:
        """(name, is_dir) of the entries of a directory. Raises OSError (e.g. missing).

        An entry whose type cannot be told (a symlink loop, a dangling symlink) is left out
        and described in `problems` ("path: why"), every time the listing is asked for."""
        st = os.stat(path)
        key = (st.st_ino, st.st_mtime_ns)
        hit = self._dirs.get(path)
        if hit is not None and hit[0] == key:
            listing, broken = hit[1]
        else:
            out = []
            bad = []
            with os.scandir(path) as it:
                for entry in it:
                    try:
                        is_dir = entry.is_dir()
                        if not is_dir and entry.is_symlink() and not os.path.exists(entry.path):
                            bad.append(f"{entry.path}: skipped: dangling symlink")
                            continue
                    except OSError as exc:
                        bad.append(f"{entry.path}: skipped: {exc.strerror or exc}")
                        continue
                    out.append((entry.name, is_dir))
            listing, broken = tuple(out), tuple(bad)
            if time.time_ns() - st.st_mtime_ns > RACY_NS:
                self._remember(self._dirs, path, (key, (listing, broken)))
        if problems is not None:
            problems.extend(broken)
        return listing

    def write_once_values(
        self, path: str, decode: Callable[[bytes], str], problems: list[str], prefix: str = ""
    ) -> dict[str, str]:
        """Every file under `path` (keys with `/` for nested ones) → decoded content, for
        trees whose files are written once and never changed (params: mlflow refuses to
        change a logged param). Validated by each directory's own (inode, mtime) only, which
        any added file changes: one stat per directory instead of one per file.
        A missing directory gives {}; unreadable folders and files are described in `problems`
        (and not remembered)."""
        out: dict[str, str] = {}
        self._write_once(path, decode, prefix, out, problems)
        return out

    def _write_once(self, path: str, decode, prefix: str, out: dict[str, str], problems: list[str]) -> None:
        try:
            st = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as exc:
            problems.append(f"{path}: unreadable folder ({exc.strerror or exc})")
            return
        key = (st.st_ino, st.st_mtime_ns)
        hit = self._trees.get(path)
        if hit is not None and hit[0] == key:
            files, subdirs = hit[1]
        else:
            files, dirs = {}, []
            complete = True
            try:
                with os.scandir(path) as it:
                    for entry in it:
                        name = entry.name
                        if name.startswith(SKIP_PREFIX):
                            continue
                        try:
                            if entry.is_dir():
                                dirs.append(name)
                            else:
                                files[name] = decode(read_bytes(entry.path))
                        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                            continue
                        except OSError as exc:
                            problems.append(f"{entry.path}: unreadable ({exc.strerror or exc})")
                            complete = False
            except (FileNotFoundError, NotADirectoryError):
                return
            except OSError as exc:
                problems.append(f"{path}: unreadable folder ({exc.strerror or exc})")
                return
            subdirs = tuple(dirs)
            if complete and time.time_ns() - st.st_mtime_ns > RACY_NS:
                self._remember(self._trees, path, (key, (files, subdirs)))
        for name, value in files.items():
            out[f"{prefix}{name}"] = value
        for name in subdirs:
            self._write_once(f"{path}/{name}", decode, f"{prefix}{name}/", out, problems)

    def forget(self, prefix: str) -> None:
        """Drop everything at or under `prefix` (after we changed it ourselves)."""
        for table in (self._files, self._dirs, self._trees):
            for key in [k for k in table if k == prefix or k.startswith(prefix + os.sep)]:
                table.pop(key, None)

    @staticmethod
    def _remember(table: dict, key: str, value) -> None:
        if len(table) >= MAX_ENTRIES:
            table.clear()
        table[key] = value
