"""A real HTTP server on a free loopback port whose every answer the test scripts.

Used by the REST fault and auth tests to produce what a real MLflow server (or the proxy in
front of it) can answer — slow replies, 5xx, 401/403, garbage, dropped connections — which a
healthy `mlflow server` never does on demand. It records every request it receives.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    body: str | bytes | dict = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (cut short when the server stops)
    drop: bool = False  # close the connection after sending half an answer
    #: A body sent piece by piece (slow, endless, longer than announced) instead of `body`:
    #: each item is written and flushed; a float item is a pause in seconds. Without a
    #: Content-Length in `headers` the connection is closed after it.
    chunks: Callable[[], Iterable[bytes | float]] | None = None

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, dict):
            return json.dumps(self.body).encode(), "application/json"
        if isinstance(self.body, str):
            return self.body.encode(), "text/plain"
        return self.body, "application/octet-stream"


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: dict | None


Script = Callable[[int, Seen], Reply]


class FakeServer:
    """`with FakeServer(script) as server:` — `script(n, request)` answers the n-th request (0-based)."""

    def __init__(self, script: Script | Reply, *, tls: ssl.SSLContext | None = None):
        self.script = script if callable(script) else (lambda n, req: script)
        self.requests: list[Seen] = []
        self.bytes_streamed = 0  # body bytes of `chunks` replies the client accepted
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._connections: list = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        if tls is not None:
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
        self.port = self._httpd.server_address[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> FakeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop answering and close the listening socket: later connections are refused."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        with self._lock:  # like a killed process: open keep-alive connections die too
            for sock in self._connections:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self._thread.join(timeout=5)

    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def handle(self) -> None:
                try:
                    super().handle()
                except (ssl.SSLError, ConnectionError):  # a client refusing our certificate
                    pass

            def setup(self) -> None:
                super().setup()
                with server._lock:
                    server._connections.append(self.connection)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                seen = Seen(self.command, self.path, dict(self.headers.items()), body)
                with server._lock:
                    number = len(server.requests)
                    server.requests.append(seen)
                reply = server.script(number, seen)
                if reply.delay and server._stopping.wait(reply.delay):
                    self.close_connection = True
                    return
                if reply.chunks is not None:
                    self._stream(reply)
                    return
                payload, content_type = reply.encoded()
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.headers.get("Content-Type", content_type))
                for key, value in reply.headers.items():
                    if key.lower() != "content-type":
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload) * (2 if reply.drop else 1)))
                self.end_headers()
                self.wfile.write(payload)
                self.wfile.flush()
                if reply.drop:
                    self.close_connection = True

            def _stream(self, reply: Reply) -> None:
                self.send_response(reply.status)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                if "content-length" not in {k.lower() for k in reply.headers}:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                try:
                    for piece in reply.chunks():
                        if isinstance(piece, float):
                            if server._stopping.wait(piece):
                                break
                            continue
                        self.wfile.write(piece)
                        self.wfile.flush()
                        with server._lock:
                            server.bytes_streamed += len(piece)
                except (ConnectionError, OSError):  # the client hung up: what we want to see
                    self.close_connection = True

            do_GET = do_POST = do_PATCH = do_DELETE = _handle

        return Handler


def run_json(run_id: str, name: str = "r", experiment_id: str = "1") -> dict:
    """A minimal run in the REST API's JSON shape."""
    return {
        "info": {
            "run_id": run_id,
            "run_uuid": run_id,
            "experiment_id": experiment_id,
            "run_name": name,
            "status": "FINISHED",
            "start_time": 1,
            "lifecycle_stage": "active",
        },
        "data": {"tags": [{"key": "mlflow.runName", "value": name}]},
    }
