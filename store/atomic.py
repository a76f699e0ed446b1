"""Files written so that a reader sees the old or the new one, never half of one.

Used by every writer of the store layer (the file store's meta.yaml and values, trace files,
transfer exports) and, for the mode new files get, by downloads and `init`.
"""

from __future__ import annotations

import os
import tempfile


def _read_umask() -> int:
    # os.umask can only be read by setting it, which races with threads creating files: read
    # it once, at import (the store layer is imported before any worker thread starts).
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: The process umask, read once.
UMASK = _read_umask()


def new_file_mode() -> int:
    """The mode `open()` would give a new file: mkstemp's private 0600 is wrong for data the
    user's other tools read."""
    return 0o666 & ~UMASK


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace `path` with `data` so a reader sees the old or the new file, never half of one.

    The temp file lives in the same directory (a rename across filesystems is not atomic) and
    keeps the old file's permissions (a new file gets `new_file_mode()`). The directory must
    exist."""
    directory = os.path.dirname(os.fspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tracktui-", suffix=".tmp", dir=directory or ".")
    try:
        try:
            _write_all(fd, data)
            try:
                mode = os.stat(path).st_mode & 0o7777
            except FileNotFoundError:
                mode = new_file_mode()
            os.fchmod(fd, mode)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
