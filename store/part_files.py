"""The hidden `.part` file a download writes before renaming it into place.

Its name follows from the final name (`.tracktui-<name>.part`), so a download that was killed
(SIGKILL, power loss: nothing could clean up) leaves a part the next download of the same file
finds, resumes with a Range request where the store allows it, or else overwrites. While a
download writes a part it holds an exclusive lock on it: another download of the same file
fails at once instead of writing into it, and `sweep_stale` removes only parts nobody holds.
Where there are no POSIX locks (Windows) parts are neither shared nor swept.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from .errors import StoreError, UnsafePath

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

PREFIX, SUFFIX = ".tracktui-", ".part"
#: Longest final name kept readable in the part's name (file systems allow 255 bytes).
_NAME_LIMIT = 200


def part_path_for(target: Path) -> Path:
    """Where the part of `target` is written: beside it, hidden."""
    name = target.name
    if len(name.encode("utf-8", "surrogateescape")) > _NAME_LIMIT:
        name = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:32]
    return target.with_name(f"{PREFIX}{name}{SUFFIX}")


class PartFile:
    """An open, locked part file. `existing` is how many bytes a killed download left in it."""

    locks = fcntl is not None

    def __init__(self, target: Path):
        self.path = part_path_for(target)
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
        try:
            self.fd = os.open(self.path, flags, 0o600)
        except OSError as exc:
            if self.path.is_symlink():  # planted to make the download write elsewhere
                raise UnsafePath(f"Refusing to write through the symlink {self.path}") from None
            raise exc
        if fcntl is not None:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(self.fd)
                raise StoreError(
                    f"Another download is writing {target} right now ({self.path.name} is locked); "
                    f"wait for it to finish"
                ) from None
        self.existing = os.fstat(self.fd).st_size
        self._closed = False

    def restart(self) -> None:
        """Drop what is in the part: the next write starts a fresh file."""
        os.ftruncate(self.fd, 0)
        os.lseek(self.fd, 0, os.SEEK_SET)
        self.existing = 0

    def close(self) -> None:
        """Close the file, which releases the lock. Safe to call twice."""
        if not self._closed:
            self._closed = True
            os.close(self.fd)

    def remove(self) -> None:
        """Delete the part (a failed or cancelled download), then close it."""
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        finally:
            self.close()


def sweep_stale(directory: Path) -> int:
    """Remove the parts in `directory` that no running download holds (left by a killed
    download of files this one did not fetch); returns how many went."""
    if fcntl is None:
        return 0
    removed = 0
    try:
        candidates = [p for p in directory.iterdir() if p.name.startswith(PREFIX) and p.name.endswith(SUFFIX)]
    except OSError:
        return 0
    for path in candidates:
        try:
            fd = os.open(path, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.path.samestat(os.fstat(fd), os.stat(path, follow_symlinks=False)):
                os.unlink(path)
                removed += 1
        except OSError:
            pass  # held by a running download, or gone meanwhile
        finally:
            os.close(fd)
    return removed
