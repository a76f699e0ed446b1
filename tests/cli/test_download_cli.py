"""`tracktui download` as a user types it: a subprocess on the fixture stores written by the
real mlflow client."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.data import ARTIFACT_RUN, ARTIFACT_TEXT, MLMODEL, artifact_blob

TRACKTUI = str(Path(sys.executable).with_name("tracktui"))


def tracktui(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [TRACKTUI, *args], capture_output=True, text=True, env=full_env, cwd=cwd, timeout=120
    )


@pytest.fixture(scope="module")
def sqlite_run(sqlite_backend):
    return sqlite_backend.uri, sqlite_backend.runs[ARTIFACT_RUN]


def _source_tree(uri: str, run_id: str) -> dict[str, bytes]:
    from tracktui.store import open_store

    with open_store(uri) as store:
        root = Path(store.get_run(run_id).artifact_uri)
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_download_everything(sqlite_run, tmp_path):
    uri, run_id = sqlite_run
    result = tracktui("download", run_id, "-o", str(tmp_path / "out"), "--uri", uri)
    assert result.returncode == 0, result.stderr
    dest = (tmp_path / "out").resolve()
    assert result.stdout.strip() == f"Downloaded 20 files (1.5 MiB) to {dest}"
    assert _tree(dest) == _source_tree(uri, run_id)
    assert result.stderr == ""  # no progress bar when stderr is not a terminal


def test_download_one_file_prints_where_it_landed(sqlite_run, tmp_path):
    uri, run_id = sqlite_run
    result = tracktui("download", run_id, "model/MLmodel", "--uri", uri, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    landed = tmp_path.resolve() / "model" / "MLmodel"
    assert result.stdout.strip().endswith(f"to {landed}")
    assert landed.read_text() == MLMODEL


def test_tracking_uri_from_the_environment(sqlite_run, tmp_path):
    uri, run_id = sqlite_run
    result = tracktui("download", run_id, "hello.txt", "-o", str(tmp_path), env={"MLFLOW_TRACKING_URI": uri})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "hello.txt").read_bytes() == ARTIFACT_TEXT


def test_existing_file_needs_overwrite(sqlite_run, tmp_path):
    uri, run_id = sqlite_run
    (tmp_path / "hello.txt").write_text("mine")
    refused = tracktui("download", run_id, "hello.txt", "-o", str(tmp_path), "--uri", uri)
    assert refused.returncode != 0
    assert refused.stderr.count("\n") == 1 and refused.stderr.startswith("tracktui: ")
    assert "already exists" in refused.stderr and "--overwrite" in refused.stderr
    assert (tmp_path / "hello.txt").read_text() == "mine"
    replaced = tracktui("download", run_id, "hello.txt", "-o", str(tmp_path), "--uri", uri, "--overwrite")
    assert replaced.returncode == 0, replaced.stderr
    assert (tmp_path / "hello.txt").read_bytes() == ARTIFACT_TEXT


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["0" * 32], "not found"),
        ([None, "no/such.txt"], "No artifact 'no/such.txt'"),
        ([None, "../../etc/passwd"], "'..' would leave"),
    ],
)
def test_failures_are_one_line(sqlite_run, tmp_path, args, reason):
    uri, run_id = sqlite_run
    args = [run_id if a is None else a for a in args]
    result = tracktui("download", *args, "-o", str(tmp_path / "out"), "--uri", uri)
    assert result.returncode == 2
    assert result.stderr.startswith("tracktui: ") and result.stderr.count("\n") == 1
    assert reason in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists() or _tree(tmp_path / "out") == {}


def test_unreachable_server_is_one_line(tmp_path):
    from fixtures.backends import free_port

    uri = f"http://user:hunter2@127.0.0.1:{free_port()}"
    result = tracktui("download", "abc", "--uri", uri, "-o", str(tmp_path),
                      env={"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"})
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "hunter2" not in result.stderr + result.stdout


def test_redirect_loop_is_one_line(tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "store"))
    from fake_http_server import FakeServer, Reply

    loop = Reply(302, "", headers={"Location": "/api/2.0/mlflow/runs/get"})
    with FakeServer(loop) as server:
        result = tracktui("download", "abc", "--uri", server.url, "-o", str(tmp_path))
    assert result.returncode != 0 and result.stderr.count("\n") == 1, result.stderr
    assert "too many times" in result.stderr and "Traceback" not in result.stderr


def test_progress_bar_on_a_terminal(sqlite_run, tmp_path):
    uri, run_id = sqlite_run
    controller, terminal = pty.openpty()
    try:
        result = subprocess.run(
            [TRACKTUI, "download", run_id, "blob.bin", "-o", str(tmp_path), "--uri", uri],
            stdout=subprocess.PIPE, stderr=terminal, text=True, timeout=120,
            env={**os.environ, "COLUMNS": "100", "TERM": "xterm"},
        )
        os.close(terminal)
        terminal = None
        shown = b""
        while True:
            try:
                data = os.read(controller, 65536)
            except OSError:
                break
            if not data:
                break
            shown += data
    finally:
        if terminal is not None:
            os.close(terminal)
        os.close(controller)
    assert result.returncode == 0
    text = shown.decode(errors="replace")
    assert "1/1 files" in text and "1.5/1.5 MB" in text
    assert (tmp_path / "blob.bin").read_bytes() == artifact_blob()


def test_download_is_headless(sqlite_run, tmp_path):
    """The quick-fetch path must work on a box without a UI: Textual is never imported."""
    uri, run_id = sqlite_run
    code = (
        "import sys; from tui.cli import main; "
        f"rc = main(['download', {run_id!r}, 'hello.txt', '-o', {str(tmp_path)!r}, '--uri', {uri!r}]); "
        "assert 'textual' not in sys.modules, 'textual was imported'; sys.exit(rc)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_download_through_the_server_proxy(rest_backend, tmp_path):
    run_id = rest_backend.runs[ARTIFACT_RUN]
    result = tracktui("download", run_id, "-o", str(tmp_path), "--uri", rest_backend.uri)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "blob.bin").read_bytes() == artifact_blob()
    assert (tmp_path / "model" / "MLmodel").read_text() == MLMODEL


class _StallingServer:
    """A tracking server whose artifact download sends its first megabytes and then stalls,
    so the test can interrupt a download that is really in the middle of a file."""

    SIZE = 4 << 20

    def __init__(self):
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        stop = self.stop_event = threading.Event()
        size = self.SIZE

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _json(self, body):
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if self.path.startswith("/api/2.0/mlflow/runs/get"):
                    info = {"run_id": "r", "run_uuid": "r", "experiment_id": "1", "run_name": "r",
                            "status": "FINISHED", "start_time": 1, "lifecycle_stage": "active",
                            "artifact_uri": "mlflow-artifacts:/1/r/artifacts"}
                    return self._json({"run": {"info": info, "data": {}}})
                if self.path.startswith("/api/2.0/mlflow-artifacts/artifacts?"):
                    return self._json({"files": [{"path": "big.bin", "is_dir": False, "file_size": size}]})
                self.send_response(200)
                self.send_header("Content-Length", str(size))
                self.end_headers()
                self.wfile.write(b"x" * (size // 2))
                self.wfile.flush()
                stop.wait(120)  # never sends the rest

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.stop_event.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def test_ctrl_c_mid_file_leaves_nothing_under_the_final_name(tmp_path):
    import signal
    import time

    server = _StallingServer()
    dest = tmp_path / "dest"
    try:
        process = subprocess.Popen(
            [TRACKTUI, "download", "r", "-o", str(dest), "--uri", server.url],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        deadline = time.monotonic() + 60  # a guard against hanging, not a timing assertion
        while not [p for p in dest.glob(".tracktui-*.part") if p.stat().st_size > 0]:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the download never started"
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        server.close()
    assert process.returncode == 130
    assert err.startswith("tracktui: download interrupted") and err.count("\n") == 1
    assert out == ""
    assert list(dest.iterdir()) == []  # no big.bin, no temp file
