"""Artifacts in a local directory: a plain path or a `file:` URI (client-side SQL stores and
file stores keep run artifacts this way)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..errors import NotFound, StoreError, UnsafePath
from .base import CHUNK_SIZE, PREVIEW_LIMIT, ArtifactEntry, ArtifactRepository, ArtifactStream
from .safety import clean_relative_path, local_within


def local_path_of(uri: str) -> Path:
    """`file:///a/b`, `file:/a/b`, `/a/b` or `C:\\a\\b` as a Path."""
    if uri.startswith("file:"):
        parts = urlsplit(uri)
        if parts.netloc not in ("", "localhost"):
            raise StoreError(f"Cannot read artifacts at {uri}: file URIs on another host are not supported")
        return Path(unquote(parts.path))
    return Path(uri)


class LocalArtifactRepository(ArtifactRepository):
    def __init__(self, uri: str):
        self.display_uri = uri
        self.root = local_path_of(uri)
        #: entries left out of listings, each "path: why" (a symlink leaving the root)
        self.skipped: list[str] = []

    def list(self, path: str = "") -> list[ArtifactEntry]:
        path = clean_relative_path(path)
        directory = local_within(self.root, path)
        if not directory.is_dir():
            return []
        entries = []
        try:
            children = list(os.scandir(directory))
        except OSError as exc:
            raise StoreError(f"Cannot list {directory}: {exc.strerror or exc}") from None
        for child in children:
            rel = f"{path}/{child.name}" if path else child.name
            try:
                if child.is_symlink():
                    local_within(self.root, rel)  # refuses links that leave the artifact root
                is_dir = child.is_dir()
                size = None if is_dir else child.stat().st_size
            except UnsafePath as exc:  # that entry only: the rest of the folder still lists
                self.skipped.append(f"{child.path}: {exc.message}")
                continue
            except OSError:  # dangling symlink, vanished file
                continue
            entries.append(ArtifactEntry(rel, is_dir, size))
        return sorted(entries, key=lambda e: e.path)

    def open(self, path: str) -> ArtifactStream:
        path = clean_relative_path(path)
        target = local_within(self.root, path)
        if not path or not target.is_file():
            raise NotFound(f"No artifact file {path!r} under {self.display_uri}")
        try:
            return _FileStream(open(target, "rb"))
        except OSError as exc:
            raise StoreError(f"Cannot read artifact {path!r}: {exc.strerror or exc}") from None

    def read_tail(self, path: str, limit: int = PREVIEW_LIMIT) -> tuple[bytes, int | None]:
        with self.open(path) as stream:
            assert isinstance(stream, _FileStream)
            return stream.read_last(limit), stream.size


class _FileStream(ArtifactStream):
    def __init__(self, handle):
        self._handle = handle
        self.size = os.fstat(handle.fileno()).st_size

    def chunks(self, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        while chunk := self._handle.read(chunk_size):
            yield chunk

    def read_last(self, limit: int) -> bytes:
        """The last `limit` bytes: one seek, so a 1 GiB log costs what its tail costs."""
        self._handle.seek(max(0, (self.size or 0) - limit))
        return self._handle.read(limit)

    def close(self) -> None:
        self._handle.close()
