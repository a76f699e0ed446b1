"""Whole-file GETs on one kept-alive `http.client` connection per thread: the fast path of
proxy downloads when a directory holds thousands of small files.

There the cost is per request, not per byte, and the client shares the CPU with the server
more often than not (a laptop, a training box). httpx spends about 1 ms of Python on each
request; `http.client` about 0.25 ms. Only the plain case is handled here: a GET with the
transport's headers answered 200. Everything else returns None and the caller repeats the
request through the RestTransport, which owns retries, redirects and error messages, so both
paths fail alike: a proxy in the environment (fast path off), a connection that cannot be
made, any other status.

Speed trick, kept because bench/bench_artifacts.py shows the win: 2,000 small files through the
proxy, 7.8 s with httpx -> 6.1 s wall (client CPU 3.7 -> 2.0 s); see bench/README.md.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import urllib.request
from collections.abc import Iterator
from urllib.parse import urlsplit

from ..errors import Unreachable
from ..rest.transport import RestTransport, TrickleGuard, ssl_context
from .base import CHUNK_SIZE, ArtifactStream

#: Error bodies longer than this are not read to keep the connection; it is closed instead.
DRAIN_LIMIT = 64 * 1024


class PlainGetter:
    """GETs to the transport's server, one connection per calling thread. Thread-safe."""

    def __init__(self, transport: RestTransport):
        self._transport = transport
        parts = urlsplit(transport.base_url)
        self.enabled = parts.scheme in ("http", "https") and bool(parts.hostname) and not _proxied(parts.scheme)
        self._https = parts.scheme == "https"
        self._host, self._port = parts.hostname or "", parts.port
        self._prefix = parts.path.rstrip("/")
        settings = transport.settings
        self._timeout = settings.timeout
        self._headers = {"User-Agent": "tracktui", "Accept-Encoding": "identity"}
        if settings.workspace:
            self._headers["X-MLFLOW-WORKSPACE"] = settings.workspace
        if settings.authorization:
            self._headers["Authorization"] = settings.authorization
        self._tls: ssl.SSLContext | None = None
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: set[http.client.HTTPConnection] = set()
        self._closed = False

    def get(self, url_path: str, headers: dict[str, str] | None = None, accept: tuple[int, ...] = (200,)) -> PlainStream | None:
        """The answer to GET `url_path` (below the server URL) when its status is one of
        `accept` (a Range request takes 206 or 200), else None: ask the transport."""
        if not self.enabled or self._closed:
            return None
        for reused in (True, False):
            conn = getattr(self._local, "conn", None)
            if conn is None:
                if reused:
                    continue
                conn = self._connect()
                if conn is None:
                    return None
            try:
                conn.request("GET", self._prefix + url_path, headers={**self._headers, **headers} if headers else self._headers)
                response = conn.getresponse()
            except TimeoutError:
                self._drop(conn)
                raise Unreachable(
                    f"{self._transport.display_uri} did not answer {url_path}: timed out after "
                    f"{self._timeout:g} s (set MLFLOW_HTTP_REQUEST_TIMEOUT to wait longer)"
                ) from None
            except (OSError, http.client.HTTPException):
                self._drop(conn)
                if self._closed:  # woken by close(): the download is over, don't ask again
                    raise Unreachable(f"The download from {self._transport.display_uri} was stopped") from None
                if reused:
                    continue  # the server closed an idle kept-alive connection: one fresh try
                return None
            if response.status in accept:
                return PlainStream(self, conn, response)
            self._finish(conn, response)
            return None
        return None

    def close(self) -> None:
        """Close every connection. A worker still blocked in a read (a cancelled download on a
        stalled server) is woken by the shutdown and fails at once instead of at its timeout."""
        with self._lock:
            self._closed = True
            conns, self._open = self._open, set()
        for conn in conns:
            sock = conn.sock  # read once: its thread may close it meanwhile
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            conn.close()

    # -- connections ----------------------------------------------------------------------------

    def _connect(self) -> http.client.HTTPConnection | None:
        conn: http.client.HTTPConnection
        if self._https:
            if self._tls is None:
                self._tls = ssl_context(self._transport.settings)
            conn = http.client.HTTPSConnection(self._host, self._port, timeout=self._timeout, context=self._tls)
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
        try:
            conn.connect()
        except OSError:  # refused, unreachable, TLS refused: the transport retries and explains
            conn.close()
            return None
        self._local.conn = conn
        with self._lock:
            self._open.add(conn)
        return conn

    def _drop(self, conn: http.client.HTTPConnection) -> None:
        conn.close()
        if getattr(self._local, "conn", None) is conn:
            self._local.conn = None
        with self._lock:
            self._open.discard(conn)

    def _finish(self, conn: http.client.HTTPConnection, response: http.client.HTTPResponse) -> None:
        """Keep the connection if the answer was read to its end, else close it."""
        try:
            if not response.isclosed() and (response.length is None or response.length > DRAIN_LIMIT):
                raise OSError("answer not read to its end")
            response.read()
        except (OSError, http.client.HTTPException):
            self._drop(conn)


class PlainStream(ArtifactStream):
    """The body of an answer. Closing it early closes its connection (it cannot be reused)."""

    def __init__(self, getter: PlainGetter, conn: http.client.HTTPConnection, response: http.client.HTTPResponse):
        self._getter = getter
        self._conn = conn
        self._response = response
        self._done = False
        self.status = response.status
        length = response.getheader("Content-Length")
        encoded = (response.getheader("Content-Encoding") or "identity") != "identity"
        self.size = int(length) if length and length.isdigit() and not encoded else None

    def chunks(self, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        response = self._response
        guard = TrickleGuard(self._getter._timeout, f"The download from {self._getter._transport.display_uri}")
        buffer = bytearray()
        try:
            while True:
                left = response.length
                if left == 0:
                    response.read()  # b"": marks the answer read, so the connection is kept
                    break
                # read1: what one network read brings, so the guard sees a trickling server
                piece = response.read1(min(chunk_size, left) if left is not None else chunk_size)
                if not piece:
                    if left:  # http.client ends a short body quietly when asked for amounts
                        raise http.client.IncompleteRead(b"", left)
                    break
                guard.received(len(piece))
                buffer += piece
                while len(buffer) >= chunk_size:  # two reads can bring more than a chunk's worth
                    yield bytes(buffer[:chunk_size])
                    del buffer[:chunk_size]
            if buffer:
                yield bytes(buffer)
        except (OSError, http.client.HTTPException) as exc:
            self._getter._drop(self._conn)
            self._done = True
            raise Unreachable(
                f"The download from {self._getter._transport.display_uri} broke off: "
                f"{type(exc).__name__} {exc}".strip()
            ) from None

    def close(self) -> None:
        if self._done:
            return
        self._done = True
        if self._response.isclosed():
            return  # read to its end: the connection serves this thread's next GET
        self._getter._drop(self._conn)


def _proxied(scheme: str) -> bool:
    """httpx (trust_env) would send this through a proxy: leave it to the transport."""
    proxies = urllib.request.getproxies()
    return bool(proxies.get(scheme) or proxies.get("all"))

