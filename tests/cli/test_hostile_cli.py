"""The CLI prints a server's text inert: an error message holding terminal escapes reaches stderr
with its control characters shown (␛, ␇), on one line, never sent to the terminal (issue 17)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

TRACKTUI = str(Path(sys.executable).with_name("tracktui"))
#: What a hostile (or compromised) tracking server answers: clipboard write, retitle, clear.
SERVER_MESSAGE = "bad run id \x1b]52;c;UFdORUQ=\x07\x1b]2;pwned\x07\x1b[2J\x07 [/INST]\r\nsecond line"


@pytest.fixture
def hostile_server():
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            body = json.dumps({"error_code": "PERMISSION_DENIED", "message": SERVER_MESSAGE}).encode()
            self.send_response(403)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_download_prints_a_servers_error_text_inert_on_one_line(hostile_server, tmp_path):
    result = subprocess.run(
        [TRACKTUI, "download", "x", "--uri", hostile_server, "-o", str(tmp_path)],
        capture_output=True, text=True, timeout=120, env={**os.environ, "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"},
    )
    assert result.returncode == 2
    assert result.stderr.startswith("tracktui: Permission denied by") and result.stderr.count("\n") == 1
    assert "bad run id ␛]52;c;UFdORUQ=␇␛]2;pwned␇␛[2J␇ [/INST]␍␊second line" in result.stderr
    assert not {c for c in result.stderr[:-1] if ord(c) < 0x20}
    assert result.stdout == ""
