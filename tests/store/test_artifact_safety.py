"""Artifact path safety: no listing, path argument or symlink can make tracktui write (or read)
outside where it was asked to. Hostile answers come from a real HTTP server on a loopback port
playing an MLflow tracking server; credentials never show up in errors."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fake_http_server import FakeServer, Reply, run_json
from hypothesis import given, settings
from hypothesis import strategies as st

from tracktui.store.artifacts.local import LocalArtifactRepository
from tracktui.store.artifacts.proxy import ProxyArtifactRepository, for_http_uri
from tracktui.store.artifacts.safety import clean_relative_path, destination_for
from tracktui.store.downloads import download
from tracktui.store.errors import NotFound, StoreError, Unreachable, UnsafePath
from tracktui.store.rest.store import RestStore
from tracktui.store.rest.transport import RestTransport, TransportSettings

HOSTILE_NAMES = {
    "dotdot": "../../evil.txt",
    "dotdot-only": "..",
    "absolute": "/tmp/evil.txt",
    "drive": "C:\\evil.txt",
    "drive-relative": "C:evil.txt",
    "nul": "evil\x00.txt",
    "backslash": "..\\..\\evil.txt",
    "nested": "sub/evil.txt",
    "dot": ".",
    "empty": "",
}
#: runs/list (server-resolved) entries are paths from the run root; these escape or lie.
HOSTILE_RUN_PATHS = {
    "run-dotdot": "../evil.txt",
    "run-absolute": "/etc/evil.txt",
    "run-climb": "data/../../evil.txt",
    "run-elsewhere": "other/evil.txt",
    "run-backslash": "..\\evil.txt",
}


def _hostile_script(n, seen):
    parts = urlsplit(seen.path)
    query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    if parts.path == "/api/2.0/mlflow/runs/get":
        run_id = query["run_id"]
        body = run_json(run_id)
        body["info"]["artifact_uri"] = (
            f"/no/such/server/path/{run_id}/artifacts"  # not readable here: server-resolved
            if run_id.startswith("run-")
            else f"mlflow-artifacts:/1/{run_id}/artifacts"
        )
        return Reply(body={"run": body})
    if parts.path == "/api/2.0/mlflow-artifacts/artifacts":  # proxy listing: base names
        _, scenario, *rest = query["path"].split("/", 2)
        sub = rest[0].removeprefix("artifacts").strip("/") if rest else ""
        if scenario == "deep" and not sub:
            return Reply(body={"files": [{"path": "ok.txt", "is_dir": False, "file_size": 5},
                                         {"path": "sub", "is_dir": True}]})
        evil = HOSTILE_NAMES["dotdot"] if scenario == "deep" else HOSTILE_NAMES[scenario]
        return Reply(body={"files": [{"path": "ok.txt", "is_dir": False, "file_size": 5},
                                     {"path": evil, "is_dir": False, "file_size": 5}]})
    if parts.path == "/api/2.0/mlflow/artifacts/list":  # server-resolved: paths from the root
        evil = HOSTILE_RUN_PATHS[query["run_id"]]
        return Reply(body={"files": [{"path": "ok.txt", "is_dir": False, "file_size": 5},
                                     {"path": evil, "is_dir": False, "file_size": 5}]})
    return Reply(body=b"PWNED")


@pytest.fixture(scope="module")
def hostile():
    with FakeServer(_hostile_script) as server:
        store = RestStore(server.url, max_retries=0, timeout=5)
        yield store
        store.close()


def _files_under(path: Path) -> list[Path]:
    return [p for p in path.rglob("*") if not p.is_dir()]


@pytest.mark.parametrize("scenario", [*HOSTILE_NAMES, "deep", *HOSTILE_RUN_PATHS])
def test_hostile_listing_is_refused_and_nothing_is_written(hostile, scenario, tmp_path):
    dest = tmp_path / "inside" / "dest"
    with pytest.raises(UnsafePath):
        hostile.download_artifacts(scenario, "", dest)
    assert _files_under(tmp_path) == []  # refused while planning: not even ok.txt
    if scenario != "deep":
        with pytest.raises(UnsafePath):
            hostile.list_artifacts(scenario)


def test_hostile_listing_does_not_reach_the_filesystem(hostile, tmp_path):
    """Even /tmp/evil.txt and ../../evil.txt relative to the destination stay untouched."""
    dest = tmp_path / "a" / "b" / "dest"
    for scenario in ("absolute", "dotdot", "backslash"):
        with pytest.raises(UnsafePath):
            hostile.download_artifacts(scenario, "", dest)
    assert not (tmp_path / "a" / "evil.txt").exists()
    assert not (tmp_path / "evil.txt").exists()
    assert not Path("/tmp/evil.txt").exists()


def test_truncated_body_leaves_no_file(tmp_path):
    def script(n, seen):
        if "artifacts?" in seen.path:
            return Reply(body={"files": [{"path": "big.bin", "is_dir": False, "file_size": 20}]})
        return Reply(body=b"0123456789", drop=True)  # announces 20 bytes, sends 10, hangs up

    with FakeServer(script) as server:
        transport = RestTransport(server.url, TransportSettings.from_env(server.url, env={}, max_retries=0, timeout=5))
        repo = ProxyArtifactRepository(transport, "1/r/artifacts", owns_transport=True)
        with pytest.raises(Unreachable):
            download(repo, "", tmp_path)
        repo.close()
    assert _files_under(tmp_path) == []


def test_credentials_never_in_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    password, token = "pa55-w0rd-XYZ", "tok-SECRET-123"

    def script(n, seen):
        if "artifacts?" in seen.path:
            return Reply(body={"files": [{"path": "f.txt", "is_dir": False, "file_size": 3}]})
        return Reply(status=500, body=f"internal error for {password} {seen.headers.get('Authorization')}")

    with FakeServer(script) as server:
        env = {"MLFLOW_TRACKING_USERNAME": "me", "MLFLOW_TRACKING_PASSWORD": password}
        transport = RestTransport(server.url, TransportSettings.from_env(server.url, env=env, max_retries=0, timeout=5))
        repo = ProxyArtifactRepository(transport, "1/r/artifacts", owns_transport=True)
        with pytest.raises(StoreError) as caught:
            download(repo, "", tmp_path)
        assert password not in str(caught.value) and "***" in str(caught.value)
        assert password not in repr(repo) + repo.display_uri
        repo.close()
        server.stop()
        url = f"http://me:{token}@127.0.0.1:{server.port}/api/2.0/mlflow-artifacts/artifacts/1/r"
        repo = for_http_uri(url)
        with pytest.raises(Unreachable) as caught:
            repo.list()
        assert token not in str(caught.value) and token not in repo.display_uri
        repo.close()


# -- local: symlinks -------------------------------------------------------------------------


def test_symlink_out_of_the_artifact_directory_is_refused(tmp_path):
    """Each leaking link is left out of the listing and named; the rest still lists."""
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "key.txt").write_text("private")
    root = tmp_path / "artifacts"
    root.mkdir()
    (root / "ok.txt").write_text("ok")
    (root / "leak").symlink_to(secret)
    (root / "leak.txt").symlink_to(secret / "key.txt")
    repo = LocalArtifactRepository(str(root))
    assert [e.path for e in repo.list()] == ["ok.txt"]
    assert sorted(s.split(":")[0] for s in repo.skipped) == [str(root / "leak"), str(root / "leak.txt")]
    with pytest.raises(UnsafePath):
        repo.read_head("leak.txt")
    with pytest.raises(UnsafePath):
        repo.list("leak")
    with pytest.raises((UnsafePath, NotFound)):  # the parent's listing leaves the link out
        download(repo, "leak", tmp_path / "out")
    assert not (tmp_path / "out").exists() or _files_under(tmp_path / "out") == []


def test_symlink_inside_the_artifact_directory_is_fine(tmp_path):
    root = tmp_path / "artifacts"
    (root / "real").mkdir(parents=True)
    (root / "real" / "a.txt").write_text("a")
    (root / "alias").symlink_to(root / "real")
    repo = LocalArtifactRepository(root.as_uri())
    assert [e.path for e in repo.list()] == ["alias", "real"]
    assert download(repo, "alias", tmp_path / "out").joinpath("a.txt").read_text() == "a"


def test_symlink_in_the_destination_is_not_followed_out(tmp_path):
    root = tmp_path / "artifacts"
    (root / "data").mkdir(parents=True)
    (root / "data" / "x.txt").write_text("x")
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "data").symlink_to(outside)
    with pytest.raises(UnsafePath):
        download(LocalArtifactRepository(str(root)), "data", dest)
    assert list(outside.iterdir()) == []


# -- the path rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    ["..", "../x", "a/../../b", "a/..", "/abs", "//server/share", "C:/x", "c:x", "C:\\x",
     "a\\b", "a\x00b", "a\nb", "x/C:/y", "x/c:y"],
)
def test_clean_relative_path_refuses(bad):
    with pytest.raises(UnsafePath):
        clean_relative_path(bad)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("", ""), (".", ""), ("a", "a"), ("a/b", "a/b"), ("a//b/", "a/b"), ("./a/./b", "a/b"),
     ("..a/b..", "..a/b.."), ("ünï file.txt", "ünï file.txt"), ("ab:c", "ab:c")],
)
def test_clean_relative_path_normalises(raw, clean):
    assert clean_relative_path(raw) == clean


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*"ab./\\:C\x00 ~", "..", "../", "C:"]), max_size=12).map("".join))
def test_whatever_passes_stays_inside(tmp_path_factory, raw):
    root = tmp_path_factory.getbasetemp() / "dest-root"
    try:
        cleaned = clean_relative_path(raw)
    except UnsafePath:
        return
    target = Path(os.path.realpath(destination_for(root, cleaned)))
    real_root = Path(os.path.realpath(root))
    assert target == real_root or real_root in target.parents


def test_listing_json_shape_errors_are_store_errors(tmp_path):
    """A server answering junk where a listing should be gives a StoreError, not a crash."""
    with FakeServer(Reply(body="not json at all")) as server:
        transport = RestTransport(server.url, TransportSettings.from_env(server.url, env={}, max_retries=0, timeout=5))
        with pytest.raises(StoreError):
            ProxyArtifactRepository(transport, "1").list()
        transport.close()


# -- ranged downloads ------------------------------------------------------------------------


def _ranged_repo(server):
    transport = RestTransport(server.url, TransportSettings.from_env(server.url, env={}, max_retries=0, timeout=5))
    return ProxyArtifactRepository(transport, "1/r/artifacts", owns_transport=True)


def test_server_ignoring_ranges_gets_one_whole_stream(tmp_path, monkeypatch):
    import tracktui.store.downloads as downloads

    monkeypatch.setattr(downloads, "RANGED_MIN_SIZE", 1)
    monkeypatch.setattr(downloads, "RANGE_PART_MIN", 10)
    body = bytes(range(256)) * 8

    def script(n, seen):
        if "artifacts?" in seen.path:
            return Reply(body={"files": [{"path": "f.bin", "is_dir": False, "file_size": len(body)}]})
        return Reply(body=body)  # 200 and the whole file, whatever Range said

    with FakeServer(script) as server:
        repo = _ranged_repo(server)
        landed = download(repo, "f.bin", tmp_path)
        repo.close()
    assert landed.read_bytes() == body
    ranged = [r for r in server.requests if "range" in {k.lower() for k in r.headers}]
    assert len(ranged) == 1  # one probe, then one plain GET
    assert not [p for p in tmp_path.rglob(".tracktui-*")]


def test_short_part_fails_without_a_file(tmp_path, monkeypatch):
    import tracktui.store.downloads as downloads

    monkeypatch.setattr(downloads, "RANGED_MIN_SIZE", 1)
    monkeypatch.setattr(downloads, "RANGE_PART_MIN", 1000)

    def script(n, seen):
        if "artifacts?" in seen.path:
            return Reply(body={"files": [{"path": "f.bin", "is_dir": False, "file_size": 4000}]})
        return Reply(status=206, body=b"x" * 10)  # claims a part, sends 10 bytes of it

    with FakeServer(script) as server:
        repo = _ranged_repo(server)
        with pytest.raises(StoreError, match="broke off"):
            download(repo, "f.bin", tmp_path)
        repo.close()
    assert _files_under(tmp_path) == []


# -- a server cannot make tracktui send credentials elsewhere or read this machine's files -------

TOKEN = "tok-only-for-the-tracking-server"


def _run_script(artifact_uri: str, listing: Reply | None = None):
    """A tracking server whose one run has `artifact_uri`; its own artifact endpoints answer."""

    def script(n, seen):
        path = urlsplit(seen.path).path
        if path == "/api/2.0/mlflow/runs/get":
            body = run_json(RUN_ID)
            body["info"]["artifact_uri"] = artifact_uri
            return Reply(body={"run": body})
        if path.endswith("/artifacts/list") or path.endswith("/mlflow-artifacts/artifacts"):
            return listing or Reply(body={"files": [{"path": "f.txt", "is_dir": False, "file_size": 2}]})
        return Reply(body=b"ok")

    return script


RUN_ID = "0123456789abcdef0123456789abcdef"


def _authorization(server: FakeServer) -> list[str | None]:
    return [{k.lower(): v for k, v in r.headers.items()}.get("authorization") for r in server.requests]


@pytest.mark.parametrize(
    "template",
    ["mlflow-artifacts://127.0.0.1:{port}/1/r/artifacts", "http://127.0.0.1:{port}/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts"],
)
def test_credentials_are_not_sent_to_another_origin_named_by_the_server(template, tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", TOKEN)
    with FakeServer(_run_script("")) as other:
        with FakeServer(_run_script(template.format(port=other.port))) as tracking:
            with RestStore(tracking.url, max_retries=0, timeout=5) as store:
                landed = store.download_artifacts(RUN_ID, "", tmp_path)
    assert (landed / "f.txt").read_bytes() == b"ok"
    assert other.requests, "the artifacts came from the other server"
    assert _authorization(other) == [None] * len(other.requests)
    assert set(_authorization(tracking)) == {f"Bearer {TOKEN}"}


def test_same_origin_artifact_uri_keeps_the_credentials(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", TOKEN)
    with FakeServer(_run_script("")) as tracking:
        tracking.script = _run_script(f"mlflow-artifacts://127.0.0.1:{tracking.port}/1/r/artifacts")
        with RestStore(tracking.url, max_retries=0, timeout=5) as store:
            store.download_artifacts(RUN_ID, "", tmp_path)
    assert set(_authorization(tracking)) == {f"Bearer {TOKEN}"}


def test_local_artifact_path_named_by_a_server_is_read_through_the_server(tmp_path, monkeypatch):
    monkeypatch.delenv("TRACKTUI_ALLOW_SERVER_LOCAL_ARTIFACTS", raising=False)
    secret = tmp_path / "home" / ".ssh"
    secret.mkdir(parents=True)
    (secret / "id_rsa").write_text("PRIVATE KEY")
    dest = tmp_path / "dest"
    with FakeServer(_run_script(secret.as_uri())) as tracking:
        with RestStore(tracking.url, max_retries=0, timeout=5) as store:
            assert [e.path for e in store.list_artifacts(RUN_ID)] == ["f.txt"]  # the server's answer
            store.download_artifacts(RUN_ID, "", dest)
    assert sorted(p.name for p in _files_under(dest)) == ["f.txt"]
    assert "PRIVATE KEY" not in "".join(p.read_text() for p in _files_under(dest))


def test_a_server_failing_on_its_local_path_says_how_to_opt_in(tmp_path, monkeypatch):
    monkeypatch.delenv("TRACKTUI_ALLOW_SERVER_LOCAL_ARTIFACTS", raising=False)
    missing = Reply(404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no artifacts"})
    with FakeServer(_run_script(tmp_path.as_uri(), listing=missing)) as tracking:
        with RestStore(tracking.url, max_retries=0, timeout=5) as store:
            with pytest.raises(StoreError, match="TRACKTUI_ALLOW_SERVER_LOCAL_ARTIFACTS=1"):
                store.list_artifacts(RUN_ID)


def test_local_artifact_path_is_read_directly_once_the_user_opts_in(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKTUI_ALLOW_SERVER_LOCAL_ARTIFACTS", "1")
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "model.txt").write_text("local bytes")
    with FakeServer(_run_script(shared.as_uri())) as tracking:
        with RestStore(tracking.url, max_retries=0, timeout=5) as store:
            landed = store.download_artifacts(RUN_ID, "", tmp_path / "dest")
    assert (landed / "model.txt").read_text() == "local bytes"
    assert not [r for r in tracking.requests if "artifacts" in r.path]


# -- a server lying about sizes or pages -----------------------------------------------------------


@pytest.mark.parametrize("announce", [True, False])
def test_artifact_longer_than_listed_fails_and_leaves_no_file(tmp_path, announce):
    sent_at_most = 64 << 20

    def flood():
        for _ in range(sent_at_most >> 16):
            yield b"x" * (1 << 16)

    def script(n, seen):
        if "artifacts?" in seen.path:
            return Reply(body={"files": [{"path": "small.txt", "is_dir": False, "file_size": 5}]})
        headers = {"Content-Length": str(sent_at_most)} if announce else {}
        return Reply(chunks=flood, headers=headers)

    with FakeServer(script) as server:
        repo = _ranged_repo(server)
        with pytest.raises(StoreError, match="listing said 5"):
            download(repo, "", tmp_path)
        repo.close()
    assert _files_under(tmp_path) == []
    # Stopped reading early, not at the end of the flood. The bound leaves room for what the
    # kernel takes into loopback socket buffers before the client closes (tcp_rmem autotunes
    # up to 32 MiB here): 8 MiB was crossed now and then by buffering alone.
    assert server.bytes_streamed < 16 << 20


def test_artifact_shorter_than_listed_fails_and_leaves_no_file(tmp_path):
    def script(n, seen):
        if "artifacts?" in seen.path:
            return Reply(body={"files": [{"path": "f.txt", "is_dir": False, "file_size": 50}]})
        return Reply(body=b"only ten!!")

    with FakeServer(script) as server:
        repo = _ranged_repo(server)
        with pytest.raises(StoreError, match="10 bytes.*listing said 50"):
            download(repo, "", tmp_path)
        repo.close()
    assert _files_under(tmp_path) == []


def test_a_listing_repeating_its_page_token_stops_with_a_clear_error():
    def script(n, seen):
        path = urlsplit(seen.path).path
        if path == "/api/2.0/mlflow/runs/get":
            return Reply(body={"run": run_json(RUN_ID)})  # no artifact_uri: the server lists
        if n > 200:  # bounds the test on a client that would list forever
            return Reply(body={"files": []})
        return Reply(body={"files": [{"path": f"f{n}.txt", "is_dir": False, "file_size": 1}],
                           "next_page_token": "again"})

    with FakeServer(script) as server:
        with RestStore(server.url, max_retries=0, timeout=5) as store:
            with pytest.raises(StoreError, match="repeated a page token"):
                store.list_artifacts(RUN_ID)
        assert len(server.requests) < 10


def test_redirect_loop_in_a_download_is_one_line_error(tmp_path):
    def script(n, seen):
        if "artifacts?" in seen.path:
            return Reply(body={"files": [{"path": "f.txt", "is_dir": False, "file_size": 2}]})
        return Reply(302, "", headers={"Location": urlsplit(seen.path).path})

    with FakeServer(script) as server:
        repo = _ranged_repo(server)
        with pytest.raises(StoreError, match="too many times") as caught:
            download(repo, "", tmp_path)
        repo.close()
    assert "\n" not in str(caught.value)
    assert _files_under(tmp_path) == []


# -- part files of killed downloads ---------------------------------------------------------------

BODY = bytes(range(256)) * 40  # 10 KiB


def _range_script(honour_range: bool):
    def script(n, seen):
        if "artifacts?" in seen.path:
            return Reply(body={"files": [{"path": "f.bin", "is_dir": False, "file_size": len(BODY)}]})
        wanted = {k.lower(): v for k, v in seen.headers.items()}.get("range")
        if wanted and honour_range:
            start, end = (int(x) for x in wanted.removeprefix("bytes=").split("-"))
            return Reply(206, BODY[start:end + 1], headers={"Content-Range": f"bytes {start}-{end}/{len(BODY)}"})
        return Reply(body=BODY)

    return script


def _ranges(server: FakeServer) -> list[str]:
    return [v for r in server.requests for k, v in r.headers.items() if k.lower() == "range"]


def test_a_killed_downloads_part_is_resumed_with_a_range_request(tmp_path):
    (tmp_path / ".tracktui-f.bin.part").write_bytes(BODY[:4000])  # what SIGKILL left
    with FakeServer(_range_script(honour_range=True)) as server:
        repo = _ranged_repo(server)
        landed = download(repo, "", tmp_path)
        repo.close()
    assert (landed / "f.bin").read_bytes() == BODY
    assert _ranges(server) == [f"bytes=4000-{len(BODY) - 1}"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.bin"]


def test_a_killed_downloads_part_is_replaced_when_the_server_ignores_ranges(tmp_path):
    (tmp_path / ".tracktui-f.bin.part").write_bytes(b"stale bytes")
    with FakeServer(_range_script(honour_range=False)) as server:
        repo = _ranged_repo(server)
        landed = download(repo, "", tmp_path)
        repo.close()
    assert (landed / "f.bin").read_bytes() == BODY
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.bin"]


def test_stale_parts_of_files_not_downloaded_are_swept(tmp_path):
    (tmp_path / ".tracktui-gone.bin.part").write_bytes(b"x" * 100)
    (tmp_path / ".tracktui-a1b2c3d4.part").write_bytes(b"x" * 100)  # an older version's name
    with FakeServer(_range_script(honour_range=True)) as server:
        repo = _ranged_repo(server)
        download(repo, "", tmp_path)
        repo.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.bin"]


def test_a_part_another_download_holds_is_left_alone(tmp_path):
    fcntl = pytest.importorskip("fcntl")
    held = tmp_path / ".tracktui-f.bin.part"
    held.write_bytes(b"in progress")
    with open(held, "rb+") as handle, FakeServer(_range_script(honour_range=True)) as server:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        repo = _ranged_repo(server)
        with pytest.raises(StoreError, match="Another download is writing"):
            download(repo, "", tmp_path)
        repo.close()
    assert held.read_bytes() == b"in progress" and not (tmp_path / "f.bin").exists()


def test_a_symlink_planted_as_a_part_is_not_written_through(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("keep")
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / ".tracktui-f.bin.part").symlink_to(outside)
    with FakeServer(_range_script(honour_range=True)) as server:
        repo = _ranged_repo(server)
        with pytest.raises(UnsafePath):
            download(repo, "", dest)
        repo.close()
    assert outside.read_text() == "keep"


def test_a_failed_download_removes_its_part(tmp_path):
    def script(n, seen):
        if "artifacts?" in seen.path:
            return Reply(body={"files": [{"path": "f.bin", "is_dir": False, "file_size": 20}]})
        return Reply(body=b"0123456789", drop=True)

    (tmp_path / ".tracktui-f.bin.part").write_bytes(b"0123")
    with FakeServer(script) as server:
        repo = _ranged_repo(server)
        with pytest.raises(StoreError):
            download(repo, "", tmp_path)
        repo.close()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("via", ["download", "stream"])
def test_a_trickling_artifact_fails_as_too_slow(tmp_path, via):
    """A byte every 0.1 s never trips a per-read timeout of 0.5 s; the download must fail
    anyway, and soon (the fast path and the transport's stream alike)."""
    import time

    def trickle():
        for _ in range(60):  # 6 s at most: bounds the test on a client that would wait
            yield b"x"
            yield 0.1

    def script(n, seen):
        if "artifacts?" in seen.path:
            return Reply(body={"files": [{"path": "f.bin", "is_dir": False, "file_size": 100_000}]})
        return Reply(chunks=trickle, headers={"Content-Length": "100000"})

    with FakeServer(script) as server:
        settings = TransportSettings.from_env(server.url, env={}, max_retries=0, timeout=0.5)
        repo = ProxyArtifactRepository(RestTransport(server.url, settings), "1/r/artifacts", owns_transport=True)
        started = time.monotonic()
        with pytest.raises(Unreachable, match="too slow"):
            if via == "download":
                download(repo, "", tmp_path)
            else:
                with repo.open("f.bin") as stream:
                    b"".join(stream.chunks())
        assert time.monotonic() - started < 3
        repo.close()
    assert _files_under(tmp_path) == []
