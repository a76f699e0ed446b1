"""The proxy's whole-file fast path (store/artifacts/plain_get.py): a 200 comes over a kept
connection with the transport's headers; anything else is asked again through the transport,
so errors, retries and messages are the transport's. A scripted server (fake_http_server)
produces the answers a healthy `mlflow server` never gives on demand; the contract suite
(test_artifacts_contract.py, "rest") covers the real server."""

from __future__ import annotations

import pytest
from fake_http_server import FakeServer, Reply

from tracktui.store.artifacts.plain_get import PlainGetter, PlainStream
from tracktui.store.artifacts.proxy import PROXY_API, ProxyArtifactRepository
from tracktui.store.errors import NotFound, Unreachable
from tracktui.store.rest.transport import RestTransport, TransportSettings

BODY = b"0123456789" * 1000


@pytest.fixture(autouse=True)
def _no_proxy_or_credentials(monkeypatch, tmp_path):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy",
                 "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))


def proxy_repo(url: str, **env) -> ProxyArtifactRepository:
    settings = TransportSettings.from_env(url, env, timeout=5, max_retries=2, backoff_factor=0, backoff_jitter=0)
    return ProxyArtifactRepository(RestTransport(url, settings), "1/abc/artifacts", owns_transport=True)


def read_all(repo, path: str) -> tuple[bytes, object]:
    with repo.open_for_download(path) as stream:
        return b"".join(stream.chunks(4096)), stream


def test_a_file_comes_on_one_kept_connection_with_the_transport_headers():
    with FakeServer(Reply(body=BODY)) as server, proxy_repo(server.url, MLFLOW_TRACKING_TOKEN="t0k", MLFLOW_WORKSPACE="team") as repo:
        for _ in range(5):
            data, stream = read_all(repo, "dir/a b.txt")
            assert data == BODY and stream.size == len(BODY)
            assert isinstance(stream, PlainStream)
        assert len(repo._plain._open) == 1  # five GETs, one connection
    seen = server.requests[0]
    assert seen.path == f"{PROXY_API}/1/abc/artifacts/dir/a%20b.txt"
    headers = {k.lower(): v for k, v in seen.headers.items()}
    assert headers["authorization"] == "Bearer t0k"
    assert headers["x-mlflow-workspace"] == "team"
    assert headers["accept-encoding"] == "identity"
    assert len(server.requests) == 5


def test_a_missing_file_is_asked_again_through_the_transport():
    missing = Reply(status=404, body={"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "No such file"})
    with FakeServer(missing) as server, proxy_repo(server.url) as repo:
        with pytest.raises(NotFound, match="No such file"):
            repo.open_for_download("gone.txt")
    assert len(server.requests) == 2  # the fast path's GET, then the transport's


def test_transient_failures_are_retried_by_the_transport():
    answers = [Reply(status=503, body="busy"), Reply(status=503, body="busy"), Reply(body=BODY)]
    with FakeServer(lambda n, req: answers[min(n, 2)]) as server, proxy_repo(server.url) as repo:
        data, _ = read_all(repo, "a.bin")
    assert data == BODY
    assert len(server.requests) == 3


def test_a_body_cut_short_is_unreachable():
    with FakeServer(Reply(body=BODY, drop=True)) as server, proxy_repo(server.url) as repo:
        with pytest.raises(Unreachable, match="broke off"):
            read_all(repo, "a.bin")
        assert repo._plain._open == set()  # a broken connection is not reused


def test_a_stream_closed_early_does_not_leave_its_connection_for_the_next_get():
    with FakeServer(Reply(body=BODY)) as server, proxy_repo(server.url) as repo:
        with repo.open_for_download("a.bin") as stream:
            next(stream.chunks(10))
        data, _ = read_all(repo, "a.bin")
    assert data == BODY


def test_a_server_that_closes_each_connection_still_works():
    with FakeServer(Reply(body=BODY, headers={"Connection": "close"})) as server, proxy_repo(server.url) as repo:
        for _ in range(3):
            assert read_all(repo, "a.bin")[0] == BODY
    assert len(server.requests) == 3


def test_a_stopped_server_is_reported_by_the_transport():
    with FakeServer(Reply(body=BODY)) as server, proxy_repo(server.url) as repo:
        assert read_all(repo, "a.bin")[0] == BODY
        server.stop()
        with pytest.raises(Unreachable, match="Cannot reach"):
            repo.open_for_download("a.bin")


def test_previews_keep_the_transports_pooled_connections():
    with FakeServer(Reply(body=BODY)) as server, proxy_repo(server.url) as repo:
        head, size = repo.read_head("a.bin", 100)
        assert (head, size) == (BODY[:100], len(BODY))
        assert repo._plain._open == set()


def test_closing_the_repository_wakes_a_request_stuck_on_a_stalled_server():
    """A cancelled download closes its repository; a worker blocked on a stalled server must
    fail then, not at its timeout, and must not ask again through the transport."""
    import threading
    import time

    errors = []

    def fetch(repo):
        try:
            read_all(repo, "a.bin")
        except Unreachable as exc:
            errors.append(exc)

    with FakeServer(Reply(body=BODY, delay=60)) as server, proxy_repo(server.url) as repo:
        worker = threading.Thread(target=fetch, args=(repo,), daemon=True)
        worker.start()
        deadline = time.monotonic() + 30  # a guard against hanging, not a timing assertion
        while not server.requests and time.monotonic() < deadline:
            time.sleep(0.02)
        repo.close()
        worker.join(timeout=30)
        assert not worker.is_alive()
    assert len(errors) == 1 and "stopped" in str(errors[0])
    assert len(server.requests) == 1


def test_a_proxy_in_the_environment_turns_the_fast_path_off(monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    settings = TransportSettings.from_env("http://127.0.0.1:5000", {})
    assert not PlainGetter(RestTransport("http://127.0.0.1:5000", settings)).enabled
    monkeypatch.delenv("HTTP_PROXY")
    assert PlainGetter(RestTransport("http://127.0.0.1:5000", settings)).enabled


def test_a_directory_of_many_small_files_arrives_byte_exact(tmp_path):
    """More small files than DEFAULT_WORKERS: they go to the small-file pool, each on the fast
    path, each renamed into place only when complete."""
    from urllib.parse import unquote

    from tracktui.store.downloads import DEFAULT_WORKERS, download

    names = [f"part-{i:03d}.json" for i in range(DEFAULT_WORKERS * 6)]
    bodies = {name: (name * (i + 1)).encode() for i, name in enumerate(names)}

    def answer(n, seen):
        if "?" in seen.path:  # the listing
            files = [{"path": name, "is_dir": False, "file_size": len(bodies[name])} for name in names]
            return Reply(body={"files": files} if "many" in seen.path else {"files": [{"path": "many", "is_dir": True}]})
        return Reply(body=bodies[unquote(seen.path.rsplit("/", 1)[1])])

    with FakeServer(answer) as server, proxy_repo(server.url) as repo:
        landed = download(repo, "many", tmp_path)
    assert sorted(p.name for p in landed.iterdir()) == names
    assert all((landed / name).read_bytes() == body for name, body in bodies.items())
    assert len(server.requests) == 2 + len(names)  # two listings, one GET per file


def test_https_verifies_as_the_transport_does(tmp_path):
    """The fast path uses the transport's TLS settings: a server signed by the given CA is
    read on it; a self-signed server nobody vouches for is refused, with the transport's
    message."""
    import ssl

    from test_rest_auth import make_certificate

    cert, key = make_certificate(tmp_path, "server")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with FakeServer(Reply(body=BODY), tls=context) as server:
        with proxy_repo(server.url, MLFLOW_TRACKING_SERVER_CERT_PATH=str(cert)) as repo:
            data, stream = read_all(repo, "a.bin")
            assert data == BODY and isinstance(stream, PlainStream)
        with proxy_repo(server.url) as repo:
            with pytest.raises(Unreachable, match="(?i)certificate"):
                repo.open_for_download("a.bin")
