"""Tails of artifacts: a 1 GiB log previewed at both ends with bounded reads, and what a server
that ignores or refuses Range requests gets (a scripted server; the contract suite in
test_artifacts_contract.py covers the real `mlflow server`)."""

from __future__ import annotations

import resource
from pathlib import Path

import pytest
from fake_http_server import FakeServer, Reply

from tracktui.store.artifacts.base import RangesNotSupported
from tracktui.store.artifacts.proxy import ProxyArtifactRepository
from tracktui.store.rest.transport import RestTransport, TransportSettings

GIB = 1024**3
LAST_LINES = b"\nstep 999998 loss 0.125\nstep 999999 loss 0.124\n"


@pytest.fixture
def gib_log_run(tmp_path):
    """A sqlite store whose run holds `train.log`: 1 GiB, sparse (written in an instant),
    ending with two text lines."""
    import mlflow

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = mlflow.MlflowClient(uri)
    exp = client.create_experiment("big log", artifact_location=(tmp_path / "artifacts").as_uri())
    run = client.create_run(exp)
    client.log_text(run.info.run_id, "placeholder\n", "train.log")
    path = Path(run.info.artifact_uri.removeprefix("file://")) / "train.log"
    with open(path, "wb") as f:
        f.write(b"first line\n")
        f.truncate(GIB - len(LAST_LINES))
        f.seek(GIB - len(LAST_LINES))
        f.write(LAST_LINES)
    return uri, run.info.run_id


def test_a_gib_log_previews_at_both_ends_reading_only_the_ends(gib_log_run):
    from tracktui.store import open_store

    uri, run_id = gib_log_run
    with open_store(uri) as store:
        store.get_run(run_id)  # connections and caches warm before measuring
        _reset_peak_rss()
        before_rss, before_read = _peak_rss(), _bytes_read()
        tail = store.read_artifact_tail(run_id, "train.log")
        head = store.read_artifact_head(run_id, "train.log")
        grown, read = _peak_rss() - before_rss, _bytes_read() - before_read
    print(f"\n1 GiB artifact, head and tail previews: peak RSS grew {grown / 2**20:.1f} MiB, "
          f"{read / 2**20:.2f} MiB read from files")
    assert (tail.from_end, tail.size, tail.text) == (True, GIB, LAST_LINES.decode()[1:])
    assert head.size == GIB and head.truncated and not head.from_end
    assert grown < 50 * 2**20, f"peak RSS grew {grown} bytes"
    if read is not None:
        assert read < 8 * 2**20, f"{read} bytes read"  # two 256 KiB previews and the database


def proxy_repo(url: str) -> ProxyArtifactRepository:
    settings = TransportSettings.from_env(url, {}, timeout=5, max_retries=0, backoff_factor=0, backoff_jitter=0)
    return ProxyArtifactRepository(RestTransport(url, settings), "1/abc/artifacts", owns_transport=True)


def test_a_server_ignoring_range_requests_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    with FakeServer(Reply(body=b"x" * 100_000)) as server, proxy_repo(server.url) as repo:
        with pytest.raises(RangesNotSupported, match="ignored a Range request"):
            repo.read_tail("train.log", 1000)
        assert server.requests[0].headers.get("Range") == "bytes=-1000"


def test_a_file_shorter_than_the_suffix_is_read_whole(monkeypatch, tmp_path):
    """Werkzeug answers 416 where RFC 9110 would send the whole short file."""
    monkeypatch.setenv("HOME", str(tmp_path))

    def script(n, request):
        if request.headers.get("Range"):
            return Reply(status=416, body="<h1>Requested Range Not Satisfiable</h1>", headers={"Content-Range": "bytes */5"})
        return Reply(body=b"short")

    with FakeServer(script) as server, proxy_repo(server.url) as repo:
        assert repo.read_tail("a.log", 1000) == (b"short", 5)


def _reset_peak_rss() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # Linux: VmHWM starts again from VmRSS
    except OSError:
        pass


def _peak_rss() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _bytes_read() -> int | None:
    """Bytes this process read through read(2) and friends (Linux), None elsewhere."""
    try:
        for line in Path("/proc/self/io").read_text().splitlines():
            if line.startswith("rchar:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None
