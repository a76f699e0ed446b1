"""Artifacts through a tracking server's artifact proxy (`mlflow-artifacts:` URIs, and the
`http(s)://…/api/2.0/mlflow-artifacts/artifacts/<p>` roots the server also accepts).

Requests go through the REST backend's transport (same auth, TLS, retries, error mapping).
The proxy answers listings with base names; each is checked to be one safe path component
before it is joined to the listed directory. Whole-file downloads try `plain_get` first (a
lighter client for directories of many small files) and fall back to the transport for
anything but a plain 200; previews and listings keep the transport's pooled connections.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Iterator
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from ..errors import Unreachable, UnsupportedURI
from ..rest.transport import RestTransport, TransportSettings, TrickleGuard, same_origin
from ..uris import mask_uri
from .base import (
    CHUNK_SIZE,
    PREVIEW_LIMIT,
    ArtifactEntry,
    ArtifactRepository,
    ArtifactStream,
    RangesNotSupported,
)
from .plain_get import PlainGetter
from .safety import clean_child_name, clean_relative_path, join_under

PROXY_API = "/api/2.0/mlflow-artifacts/artifacts"
#: Downloads through the transport at the same time (see `_transport_stream`).
TRANSPORT_DOWNLOADS = 8


class ProxyArtifactRepository(ArtifactRepository):
    """Artifacts under `root` (a path below the server's --artifacts-destination)."""

    def __init__(self, transport: RestTransport, root: str, *, owns_transport: bool = False):
        self._http = transport
        self._owns = owns_transport
        self.root = "/".join(p for p in root.split("/") if p)
        self.display_uri = f"mlflow-artifacts:/{self.root} via {transport.display_uri}"
        self._plain = PlainGetter(transport)
        self._transport_slots = threading.BoundedSemaphore(TRANSPORT_DOWNLOADS)

    def list(self, path: str = "") -> list[ArtifactEntry]:
        path = clean_relative_path(path)
        data = self._http.get(PROXY_API, {"path": join_under(self.root, path)})
        entries = []
        for item in data.get("files") or ():
            name = clean_child_name(str(item.get("path", "")), path)
            rel = f"{path}/{name}" if path else name
            is_dir = bool(item.get("is_dir"))
            size = None if is_dir else int_or_none(item.get("file_size"))
            entries.append(ArtifactEntry(rel, is_dir, size))
        return sorted(entries, key=lambda e: e.path)

    def open(self, path: str) -> ArtifactStream:
        path = clean_relative_path(path)
        url_path = f"{PROXY_API}/{quote(join_under(self.root, path), safe='/')}"
        return HttpStream(self._http, url_path)

    def open_for_download(self, path: str) -> ArtifactStream:
        path = clean_relative_path(path)
        url_path = f"{PROXY_API}/{quote(join_under(self.root, path), safe='/')}"
        return self._plain.get(url_path) or self._transport_stream(url_path)

    supports_ranges = True

    def open_range(self, path: str, start: int, end: int) -> ArtifactStream:
        path = clean_relative_path(path)
        url_path = f"{PROXY_API}/{quote(join_under(self.root, path), safe='/')}"
        headers = {"Range": f"bytes={start}-{end}"}
        stream = self._plain.get(url_path, headers, accept=(206, 200)) or self._transport_stream(url_path, headers)
        if stream.status != 206:
            stream.close()
            raise RangesNotSupported(f"{self._http.display_uri} ignored a Range request")
        return stream

    def read_tail(self, path: str, limit: int = PREVIEW_LIMIT) -> tuple[bytes, int | None]:
        path = clean_relative_path(path)
        return read_tail_over_http(self._http, f"{PROXY_API}/{quote(join_under(self.root, path), safe='/')}", None, limit)

    def _transport_stream(self, url_path: str, headers: dict | None = None) -> HttpStream:
        """A download through the transport, at most TRANSPORT_DOWNLOADS at once: the download
        engine runs up to 40 threads, and httpcore's pool (1.0.9) can close a connection it
        has just handed to a waiting request once more than its 8 keep-alive connections are
        in use (encode/httpcore#1110: a read fails with EBADF, or hangs until its timeout)."""
        self._transport_slots.acquire()
        try:
            stream = HttpStream(self._http, url_path, headers=headers)
        except BaseException:
            self._transport_slots.release()
            raise
        stream.on_close = self._transport_slots.release
        return stream

    def close(self) -> None:
        self._plain.close()
        if self._owns:
            self._http.close()


class HttpStream(ArtifactStream):
    """A streamed GET through a RestTransport; transport failures mid-body become Unreachable."""

    def __init__(self, transport: RestTransport, url_path: str, params: dict | None = None, headers: dict | None = None,
                 *, also_accept: tuple[int, ...] = ()):
        self._http = transport
        self._stack = contextlib.ExitStack()
        self._response = self._stack.enter_context(transport.stream(url_path, params, headers, also_accept=also_accept))
        self.status = self._response.status_code
        length = self._response.headers.get("Content-Length")
        encoded = self._response.headers.get("Content-Encoding", "identity") != "identity"
        self.size = int(length) if length and length.isdigit() and not encoded else None
        #: The whole file's size from a 206 answer's `Content-Range: bytes a-b/total`.
        total = self._response.headers.get("Content-Range", "").rpartition("/")[2]
        self.complete_size = int(total) if total.isdigit() else None

    def chunks(self, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        guard = TrickleGuard(self._http.settings.timeout, f"The download from {self._http.display_uri}")
        buffer = bytearray()
        try:
            # Read as the bytes arrive (not `iter_bytes(chunk_size)`, which waits for a full
            # chunk), so the guard sees a trickling server; hand out chunks of `chunk_size`.
            for piece in self._response.iter_bytes():
                guard.received(len(piece))
                buffer += piece
                while len(buffer) >= chunk_size:  # one read can bring several chunks' worth
                    yield bytes(buffer[:chunk_size])
                    del buffer[:chunk_size]
            if buffer:
                yield bytes(buffer)
        except httpx.HTTPError as exc:
            raise Unreachable(
                f"The download from {self._http.display_uri} broke off: {self._http._scrub(str(exc) or type(exc).__name__)}"
            ) from None

    on_close: Callable[[], object] | None = None  # called once, when the stream is closed

    def close(self) -> None:
        try:
            self._stack.close()
        finally:
            on_close, self.on_close = self.on_close, None
            if on_close is not None:
                on_close()


def read_tail_over_http(
    transport: RestTransport, url_path: str, params: dict | None, limit: int
) -> tuple[bytes, int | None]:
    """The last `limit` bytes of the file at `url_path` with a suffix Range request, and its
    size. MLflow's server answers Range requests on both artifact routes, but Werkzeug refuses
    (416) a suffix longer than the file (docs/formats.md §3.5): then the file is shorter than
    `limit` and a plain GET reads it. A server answering 200 instead raises RangesNotSupported, after reading none of the body."""
    limit = max(limit, 1)
    stream = HttpStream(transport, url_path, params, headers={"Range": f"bytes=-{limit}"}, also_accept=(416,))
    with stream:
        if stream.status == 206:
            return _read_at_most(stream, limit), stream.complete_size
        if stream.status != 416:
            raise RangesNotSupported(f"{transport.display_uri} ignored a Range request")
    with HttpStream(transport, url_path, params) as whole:
        data = _read_at_most(whole, limit)
        return data, whole.size if whole.size is not None else len(data)


def _read_at_most(stream: ArtifactStream, limit: int) -> bytes:
    buf = bytearray()
    for chunk in stream.chunks(min(limit, CHUNK_SIZE)):
        buf += chunk
        if len(buf) >= limit:
            break
    return bytes(buf[:limit])


def for_mlflow_artifacts_uri(
    uri: str, tracking_uri: str | None, transport: RestTransport | None
) -> ProxyArtifactRepository:
    """Resolve `mlflow-artifacts:/p` (or `mlflow-artifacts://host:port/p`) against the tracking
    server as MLflow's client does; reuse `transport` when it talks to that server. Unlike
    MLflow's client, the tracking server's credentials go to no other host (see `_owned`)."""
    parts = urlsplit(uri)
    root = re.sub(r"/+", "/", parts.path).strip("/")
    if not tracking_uri or urlsplit(tracking_uri).scheme not in ("http", "https"):
        raise UnsupportedURI(
            f"This run's artifacts ({uri}) are served by an MLflow tracking server's artifact proxy, "
            f"and this store was not opened through that server. Open the server's URI instead: "
            f"tracktui http://host:port"
        )
    if not parts.netloc:
        if transport is not None:
            return ProxyArtifactRepository(transport, root)
        return _owned(tracking_uri, root)
    # The netloc in the URI replaces the tracking server's host; its path prefix is kept.
    tracking = urlsplit(tracking_uri)
    base = urlunsplit((tracking.scheme, parts.netloc, tracking.path, "", ""))
    return _owned(base, root, transport)


def for_http_uri(uri: str, transport: RestTransport | None = None) -> ProxyArtifactRepository:
    """An `http(s)://host[/prefix]/api/2.0/mlflow-artifacts/artifacts/<p>` root."""
    parts = urlsplit(uri)
    marker = parts.path.find(PROXY_API)
    if marker < 0:
        raise UnsupportedURI(
            f"Cannot read artifacts at {mask_uri(uri)}: plain http(s) artifact roots must point at a "
            f"tracking server's artifact proxy (…{PROXY_API}/…)"
        )
    server = urlunsplit((parts.scheme, parts.netloc, parts.path[:marker], "", ""))
    root = parts.path[marker + len(PROXY_API):].strip("/")
    if transport is not None and transport.base_url == server.rstrip("/"):
        return ProxyArtifactRepository(transport, root)
    return _owned(server, root, transport)


def _owned(server_uri: str, root: str, tracking: RestTransport | None = None) -> ProxyArtifactRepository:
    """A repository with its own transport to `server_uri`. When the URI came from a tracking
    server (`tracking`), it is that server's word, not the user's: credentials (environment,
    ~/.mlflow/credentials, the tracking URI's) are sent only if it names the same origin."""
    if tracking is None:
        settings = TransportSettings.from_env(server_uri)
    elif same_origin(server_uri, tracking.base_url):
        settings = tracking.settings
    else:
        settings = tracking.settings.without_credentials()
    transport = RestTransport(server_uri, settings)
    return ProxyArtifactRepository(transport, root, owns_transport=True)


def int_or_none(value) -> int | None:
    """A JSON number (or numeric string) as an int, None when absent or not a number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None

