"""What every artifact repository (one per URI scheme) must do, and the values they return.

A repository is rooted at one run's `artifact_uri`; every path it takes or returns is relative
to that root, POSIX-style (`dir/file.txt`, `""` for the root). Paths coming *from* a store or a
server are checked by `safety` before anything uses them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

#: Default size of a preview read and of one download chunk.
PREVIEW_LIMIT = 256 * 1024
CHUNK_SIZE = 1024 * 1024

PreviewKind = Literal["text", "json", "yaml", "csv", "tsv", "mlmodel", "image", "binary"]


@dataclass(frozen=True, slots=True)
class ArtifactEntry:
    """One item of a listing: `path` relative to the run's artifact root."""

    path: str
    is_dir: bool
    size: int | None = None

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """An image's format and dimensions, read from its header bytes."""

    format: str  # "png", "jpeg", "gif", "bmp", "webp"
    width: int | None
    height: int | None


@dataclass(frozen=True, slots=True)
class ArtifactPreview:
    """The head of one artifact, typed for display.

    `text` holds the (possibly truncated) text for text-like kinds; `rows` the parsed table for
    csv/tsv; `image` the dimensions for images. Binary files carry only `size` and `note`.
    `truncated` is True when the file is longer than what was read. A tail preview
    (`from_end`) holds the file's last bytes, starting at a whole line.
    """

    path: str
    kind: PreviewKind
    size: int | None
    truncated: bool = False
    text: str | None = None
    rows: tuple[tuple[str, ...], ...] | None = None
    image: ImageInfo | None = None
    note: str | None = None
    #: True when `text` is the end of the file (a tail read) rather than its start.
    from_end: bool = False


class RangesNotSupported(Exception):
    """The store ignored a Range request; the caller falls back to one whole-file stream."""


class ArtifactStream(ABC):
    """An open artifact: its size when known, and its bytes in chunks. Close it (or use `with`)."""

    size: int | None = None

    @abstractmethod
    def chunks(self, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """The bytes, in order, in chunks of at most about `chunk_size`."""

    def close(self) -> None:
        """Release the file handle or connection. Safe to call twice."""

    def __enter__(self) -> ArtifactStream:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class ArtifactRepository(ABC):
    """The artifacts under one root URI. Thread-safe: downloads call `open` from many threads."""

    #: The root URI with credentials masked; safe to show and log.
    display_uri: str = ""

    @abstractmethod
    def list(self, path: str = "") -> list[ArtifactEntry]:
        """The direct children of directory `path`, sorted by path (one level, never recursive).

        Returns [] for an empty or missing directory (as MLflow does). Raises UnsafePath when
        the store answers with a path that would escape the root, Unreachable/AuthFailed for
        transport failures."""

    @abstractmethod
    def open(self, path: str) -> ArtifactStream:
        """Open file `path` for streaming. Raises NotFound when there is no such file."""

    def open_for_download(self, path: str) -> ArtifactStream:
        """`open` for the download engine, which fetches many files from its own threads:
        backends may use a lighter client here (the proxy does). Same errors as `open`."""
        return self.open(path)

    #: True when `open_range` can fetch part of a file (large downloads then go in parallel parts).
    supports_ranges: bool = False

    def open_range(self, path: str, start: int, end: int) -> ArtifactStream:
        """Bytes `start..end` (inclusive) of file `path`. Raises RangesNotSupported when the
        store answers with the whole file instead."""
        raise RangesNotSupported(f"{type(self).__name__} cannot fetch parts of a file")

    def read_head(self, path: str, limit: int = PREVIEW_LIMIT) -> tuple[bytes, int | None]:
        """At most `limit` bytes from the start of file `path`, and the file's full size (or
        None when unknown). Backends override to fetch only the head (Range requests)."""
        with self.open(path) as stream:
            buf = bytearray()
            for chunk in stream.chunks(min(limit, CHUNK_SIZE) or 1):
                buf += chunk
                if len(buf) >= limit:
                    break
            return bytes(buf[:limit]), stream.size

    def read_tail(self, path: str, limit: int = PREVIEW_LIMIT) -> tuple[bytes, int | None]:
        """At most `limit` bytes from the end of file `path`, and the file's full size (or None
        when unknown), reading no more than that. Raises RangesNotSupported when this store
        cannot fetch the end alone (the caller shows the head instead), NotFound."""
        raise RangesNotSupported(f"{type(self).__name__} cannot fetch the end of a file alone")

    def close(self) -> None:
        """Release connections this repository opened itself. Safe to call twice."""

    def __enter__(self) -> ArtifactRepository:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
