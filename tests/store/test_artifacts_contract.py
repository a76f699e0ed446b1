"""Artifact contract: list, preview and download a run's artifacts, written by the real mlflow
client, in every kind of artifact store; compared with what mlflow itself lists and downloads,
byte for byte."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest
from artifact_backends import (
    ARTIFACT_BACKENDS,
    S3_ENV,
    ArtifactCase,
    S3Server,
    build_s3_store,
)

from fixtures.data import (
    ARTIFACT_CSV,
    ARTIFACT_DICT,
    ARTIFACT_RUN,
    ARTIFACT_TEXT,
    LOGGED_IMAGES,
    MLMODEL,
    PNG_SIZE,
    artifact_blob,
    tiny_png,
)
from tracktui.store.errors import NotFound, UnsafePath

# -- the stores, one per artifact backend -----------------------------------------------------


@pytest.fixture(scope="session")
def s3_case(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("s3")
    server = S3Server(tmp)
    saved = {k: os.environ.get(k) for k in [*S3_ENV, "MLFLOW_S3_ENDPOINT_URL"]}
    os.environ.update(S3_ENV, MLFLOW_S3_ENDPOINT_URL=server.url)
    try:
        uri, run_id = build_s3_store(tmp, server)
        from tracktui.store import open_store

        store = open_store(uri)
        yield ArtifactCase("s3", store, run_id, uri)
        store.close()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        server.stop()


@pytest.fixture(scope="session")
def server_resolved_store(rest_backend):
    """The REST backend reading artifacts through the server's artifacts/list + get-artifact
    (what it uses for runs whose artifact URI this machine cannot read)."""
    from tracktui.store.artifacts.server_run import ServerRunArtifactRepository
    from tracktui.store.rest.store import RestStore

    class ServerResolved(RestStore):
        def artifact_repository(self, run):
            return ServerRunArtifactRepository(self._http, run.id, run.artifact_uri)

    store = ServerResolved(rest_backend.uri)
    yield store
    store.close()


@pytest.fixture(params=ARTIFACT_BACKENDS)
def case(request, monkeypatch) -> ArtifactCase:
    kind = request.param
    if kind == "s3":
        return request.getfixturevalue("s3_case")
    if kind == "file":
        monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # for the mlflow reference client
    info = request.getfixturevalue(f"{'rest' if kind == 'rest-server' else kind}_backend")
    store = (
        request.getfixturevalue("server_resolved_store")
        if kind == "rest-server"
        else request.getfixturevalue(f"{kind}_store")
    )
    return ArtifactCase(kind, store, info.runs[ARTIFACT_RUN], info.uri)


@pytest.fixture
def mlflow_client(case):
    import mlflow

    return mlflow.MlflowClient(case.mlflow_uri)


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


# -- listing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["", "data", "data/nested", "model", "notes", "config"])
def test_listing_matches_mlflow(case, mlflow_client, path):
    ours = case.store.list_artifacts(case.run_id, path)
    theirs = mlflow_client.list_artifacts(case.run_id, path or None)
    assert [(e.path, e.is_dir, e.size) for e in ours] == sorted(
        (f.path, f.is_dir, f.file_size) for f in theirs
    )


def test_listing_is_one_level(case):
    root = case.store.list_artifacts(case.run_id)
    assert {e.path for e in root} == {"blob.bin", "config", "data", "hello.txt", "images", "model", "notes"}
    data = {e.path: e for e in case.store.list_artifacts(case.run_id, "data")}
    assert data["data/nested"].is_dir and data["data/nested"].size is None
    assert data["data/table.csv"].size == len(ARTIFACT_CSV)


def test_listing_a_missing_directory_is_empty(case):
    assert case.store.list_artifacts(case.run_id, "no/such/dir") == []


def test_listing_refuses_escaping_paths(case):
    for bad in ("../other", "/etc", "data/../../x", "a\\..\\b", "C:/x", "x\x00y"):
        with pytest.raises(UnsafePath):
            case.store.list_artifacts(case.run_id, bad)


def test_listing_unknown_run(case):
    with pytest.raises(NotFound):
        case.store.list_artifacts("0" * 32)


# -- previews ---------------------------------------------------------------------------------


def test_preview_text(case):
    preview = case.store.read_artifact_head(case.run_id, "hello.txt")
    assert (preview.kind, preview.text, preview.size, preview.truncated) == (
        "text", ARTIFACT_TEXT.decode(), len(ARTIFACT_TEXT), False
    )


def test_preview_json_yaml_mlmodel(case):
    import json

    import yaml

    as_json = case.store.read_artifact_head(case.run_id, "config/params.json")
    assert as_json.kind == "json" and json.loads(as_json.text) == ARTIFACT_DICT
    as_yaml = case.store.read_artifact_head(case.run_id, "config/settings.yaml")
    assert as_yaml.kind == "yaml" and yaml.safe_load(as_yaml.text) == ARTIFACT_DICT
    mlmodel = case.store.read_artifact_head(case.run_id, "model/MLmodel")
    assert mlmodel.kind == "mlmodel" and mlmodel.text == MLMODEL


def test_preview_tables(case):
    csv_preview = case.store.read_artifact_head(case.run_id, "data/table.csv")
    assert csv_preview.kind == "csv"
    assert csv_preview.rows == (("epoch", "loss", "acc"), ("1", "0.5", "0.8"), ("2", "0.3", "0.9"))
    tsv_preview = case.store.read_artifact_head(case.run_id, "data/table.tsv")
    assert tsv_preview.kind == "tsv" and tsv_preview.rows[0] == ("name", "value")


def test_preview_image_dimensions(case):
    preview = case.store.read_artifact_head(case.run_id, "images/tiny.png")
    assert preview.kind == "image" and preview.size == len(tiny_png())
    assert (preview.image.format, preview.image.width, preview.image.height) == ("png", *PNG_SIZE)


# -- images logged with log_image(key=…, step=…) ---------------------------------------------


def test_logged_images_by_key_and_step(case, mlflow_client, tmp_path):
    """Keys, steps and timestamps as logged; each path is a PNG of the logged size whose bytes
    are what mlflow downloads; the thumbnails are MLflow's webp files; tiny.png (a plain
    artifact in the same folder) is not one of them."""
    logged = case.store.list_logged_images(case.run_id)
    expected: dict[str, list[tuple[int, int]]] = {}
    for key, step, timestamp, _size in LOGGED_IMAGES:
        expected.setdefault(key, []).append((step, timestamp))
    assert {key: [(i.step, i.timestamp) for i in images] for key, images in logged.items()} == expected
    assert list(logged) == sorted(expected)
    mlflow_files = {f.path for f in mlflow_client.list_artifacts(case.run_id, "images")}
    sizes = {(key, step): size for key, step, _ts, size in LOGGED_IMAGES}
    for images in logged.values():
        for image in images:
            assert image.path in mlflow_files and image.thumbnail_path in mlflow_files
            assert image.thumbnail_path.endswith("+compressed.webp")
            head, size = case.store.read_artifact_bytes(case.run_id, image.path, 1 << 20)
            assert size == len(head)
            assert head == Path(mlflow_client.download_artifacts(case.run_id, image.path, str(tmp_path))).read_bytes()
            preview = case.store.read_artifact_head(case.run_id, image.path)
            assert (preview.image.format, preview.image.width, preview.image.height) == (
                "png", *sizes[(image.key, image.step)])


def test_read_artifact_bytes_is_bounded(case):
    head, size = case.store.read_artifact_bytes(case.run_id, "blob.bin", 4096)
    assert head == artifact_blob()[:4096] and size == len(artifact_blob())


def test_logged_images_of_a_run_without_them_are_none(case):
    other = next(e for e in case.store.search_runs(
        [case.store.get_run(case.run_id).experiment_id], max_results=100).items
        if e.id != case.run_id)
    assert case.store.list_logged_images(other.id) == {}


def test_preview_binary_is_refused_with_size(case):
    preview = case.store.read_artifact_head(case.run_id, "model/model.bin")
    assert preview.kind == "binary" and preview.text is None and preview.size == 1024
    assert "1.0 KiB" in preview.note


def test_preview_is_bounded(case):
    blob = case.store.read_artifact_head(case.run_id, "blob.bin", limit=4096)
    assert blob.truncated and blob.size == len(artifact_blob())
    head = case.store.read_artifact_head(case.run_id, "hello.txt", limit=5)
    assert (head.text, head.truncated, head.size) == ("hello", True, len(ARTIFACT_TEXT))


def test_preview_unicode_name(case):
    preview = case.store.read_artifact_head(case.run_id, "notes/ünï file.txt")
    assert preview.text == "unicode name ✓\n"


def test_preview_missing_file(case):
    with pytest.raises(NotFound):
        case.store.read_artifact_head(case.run_id, "no-such-file.txt")


# -- tails: the end of a file, fetched alone -----------------------------------------------------


def test_tail_starts_at_a_whole_line(case):
    tail = case.store.read_artifact_tail(case.run_id, "data/table.csv", limit=15)
    assert ARTIFACT_CSV.encode()[-15:] == b",0.8\n2,0.3,0.9\n"  # the fetched bytes begin mid-line
    assert (tail.kind, tail.text, tail.from_end, tail.truncated) == ("text", "2,0.3,0.9\n", True, True)
    assert tail.size == len(ARTIFACT_CSV) and tail.note is None  # a real Range read, no fallback


def test_tail_of_a_big_file_is_its_last_bytes(case):
    from tracktui.store.artifacts.preview import build_tail_preview

    blob = artifact_blob()
    with case.store.artifact_repository(case.store.get_run(case.run_id)) as repo:
        data, size = repo.read_tail("blob.bin", 4096)
    assert (data, size) == (blob[-4096:], len(blob))
    assert build_tail_preview("blob.bin", data, size, 4096).kind in ("binary", "text")


@pytest.mark.parametrize("chunk_size", [100_000, 1_000_000])
def test_a_stream_hands_out_chunks_of_chunk_size(case, chunk_size):
    """Every chunk but the last is exactly `chunk_size` bytes, however the reads arrive: a
    download's progress moves chunk by chunk (one 1.5 MB chunk was the whole blob, with no
    update between its start and end)."""
    blob = artifact_blob()
    with case.store.artifact_repository(case.store.get_run(case.run_id)) as repo, \
            repo.open_for_download("blob.bin") as stream:
        chunks = list(stream.chunks(chunk_size))
    assert b"".join(chunks) == blob
    assert all(len(chunk) == chunk_size for chunk in chunks[:-1]) and 0 < len(chunks[-1]) <= chunk_size


def test_tail_longer_than_the_file_is_the_whole_file(case):
    whole = case.store.read_artifact_tail(case.run_id, "notes/ünï file.txt", limit=4096)
    assert (whole.text, whole.truncated, whole.from_end) == ("unicode name ✓\n", False, False)


def test_tail_of_a_missing_file(case):
    with pytest.raises(NotFound):
        case.store.read_artifact_tail(case.run_id, "no-such-file.txt")


# -- downloads --------------------------------------------------------------------------------


def test_download_everything_matches_mlflow(case, tmp_path):
    import mlflow.artifacts

    ours = case.store.download_artifacts(case.run_id, "", tmp_path / "ours")
    assert ours == (tmp_path / "ours").resolve()
    theirs = mlflow.artifacts.download_artifacts(
        run_id=case.run_id, dst_path=str(tmp_path / "theirs"), tracking_uri=case.mlflow_uri
    )
    ours_tree, theirs_tree = _tree(ours), _tree(Path(theirs))
    assert ours_tree == theirs_tree
    assert ours_tree["hello.txt"] == ARTIFACT_TEXT
    assert ours_tree["blob.bin"] == artifact_blob()
    assert ours_tree["images/tiny.png"] == tiny_png()
    assert not list(tmp_path.rglob("*.part"))


def test_download_one_file_keeps_its_path(case, tmp_path):
    landed = case.store.download_artifacts(case.run_id, "model/MLmodel", tmp_path)
    assert landed == tmp_path.resolve() / "model" / "MLmodel"
    assert landed.read_text() == MLMODEL
    assert [p.name for p in (tmp_path / "model").iterdir()] == ["MLmodel"]


def test_progress_updates_are_rate_limited(case, tmp_path, monkeypatch):
    """A UI handling each update on its own thread must not slow the download: updates come at
    most once per PROGRESS_INTERVAL, plus the first and the final one. With a clock that
    never moves, that is exactly two."""
    import types

    import tracktui.store.downloads as downloads

    monkeypatch.setattr(downloads, "time", types.SimpleNamespace(monotonic=lambda: 1000.0))
    events = []
    case.store.download_artifacts(case.run_id, "", tmp_path, progress=events.append)
    assert len(events) == 2
    logged = [e for e in case.store.list_artifacts(case.run_id, "images") if e.name != "tiny.png"]
    assert len(logged) == 2 * len(LOGGED_IMAGES)  # log_image writes a PNG and a webp thumbnail
    assert (events[-1].files_done, events[-1].done) == (
        12 + len(logged), len(artifact_blob()) + 1529 + sum(e.size for e in logged))


def test_download_directory_with_progress(case, tmp_path):
    events = []
    landed = case.store.download_artifacts(case.run_id, "data", tmp_path, progress=events.append)
    assert landed == tmp_path.resolve() / "data"
    assert sorted(_tree(landed)) == ["nested/deep.txt", "table.csv", "table.tsv"]
    last = events[-1]
    total = len(ARTIFACT_CSV) + len("name\tvalue\nalpha\t1\nbeta\t2\n") + len("deep\n")
    assert (last.done, last.total, last.files_done, last.files_total) == (total, total, 3, 3)
    assert [e.done for e in events] == sorted(e.done for e in events)
    assert all(e.file_done <= e.file_total for e in events if e.file_total is not None)


def test_download_big_file_reports_chunks(case, tmp_path, monkeypatch):
    import tracktui.store.downloads as downloads

    monkeypatch.setattr(downloads, "PROGRESS_INTERVAL", 0)  # every update, not at most 20/s
    events = []
    case.store.download_artifacts(case.run_id, "blob.bin", tmp_path, progress=events.append)
    blob_events = [e for e in events if e.path == "blob.bin"]
    assert blob_events[-1].file_done == blob_events[-1].file_total == len(artifact_blob())
    assert len({e.file_done for e in blob_events}) >= 3  # start, at least one mid-file update, end


def test_large_files_in_parallel_parts(case, tmp_path, monkeypatch):
    """Where the store honours Range requests (the proxy), a large file comes in parts written
    at their offsets; elsewhere in one stream. Same bytes either way."""
    import tracktui.store.downloads as downloads

    monkeypatch.setattr(downloads, "RANGED_MIN_SIZE", 1)
    monkeypatch.setattr(downloads, "RANGE_PART_MIN", 100_000)  # blob.bin: 16 parts
    if case.kind == "rest":  # mlflow's proxy honours Range: the whole-file path must not run

        def no_whole_file(*args):
            raise AssertionError("the proxy download did not use Range requests")

        monkeypatch.setattr(downloads, "_fetch_whole", no_whole_file)
    events = []
    landed = case.store.download_artifacts(case.run_id, "blob.bin", tmp_path, progress=events.append)
    assert landed.read_bytes() == artifact_blob()
    assert events[-1].done == events[-1].total == len(artifact_blob())


def test_a_killed_downloads_part_is_resumed_or_replaced(case, tmp_path, monkeypatch):
    """A part file left by a killed download: mlflow's proxy honours Range, so only the rest
    is fetched; stores without Range requests fetch the file again. Same bytes either way."""
    import tracktui.store.downloads as downloads

    blob = artifact_blob()
    (tmp_path / ".tracktui-blob.bin.part").write_bytes(blob[: len(blob) // 3])
    if case.kind == "rest":

        def not_resumed(*args):
            raise AssertionError("the proxy download did not resume with a Range request")

        monkeypatch.setattr(downloads, "_fetch_whole", not_resumed)
        monkeypatch.setattr(downloads, "_fetch_ranged", not_resumed)
    landed = case.store.download_artifacts(case.run_id, "blob.bin", tmp_path)
    assert landed.read_bytes() == blob
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blob.bin"]


def test_download_never_overwrites_unless_asked(case, tmp_path):
    from tracktui.store import DestinationExists

    existing = tmp_path / "data" / "table.csv"
    existing.parent.mkdir()
    existing.write_text("mine")
    with pytest.raises(DestinationExists, match="table.csv"):
        case.store.download_artifacts(case.run_id, "data", tmp_path)
    assert existing.read_text() == "mine"
    assert not (tmp_path / "data" / "table.tsv").exists()  # refused before any byte was fetched
    case.store.download_artifacts(case.run_id, "data", tmp_path, overwrite=True)
    assert existing.read_text() == ARTIFACT_CSV


def test_interrupted_download_leaves_no_partial_file(case, tmp_path, monkeypatch):
    import tracktui.store.downloads as downloads

    monkeypatch.setattr(downloads, "PROGRESS_INTERVAL", 0)
    class Interrupt(Exception):
        pass

    def stop_mid_blob(event):
        if event.path == "blob.bin" and 0 < event.file_done < (event.file_total or 0):
            raise Interrupt()

    with pytest.raises(Interrupt):
        case.store.download_artifacts(case.run_id, "", tmp_path, progress=stop_mid_blob)
    assert not (tmp_path / "blob.bin").exists()
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and p.name.endswith(".part")]


def test_cancelled_download_stops_and_leaves_no_partial_file(case, tmp_path, monkeypatch):
    import tracktui.store.downloads as downloads
    from tracktui.store import DownloadCancelled

    monkeypatch.setattr(downloads, "PROGRESS_INTERVAL", 0)

    cancel = threading.Event()

    def cancel_mid_blob(event):
        if event.path == "blob.bin" and event.file_done:
            cancel.set()

    with pytest.raises(DownloadCancelled):
        case.store.download_artifacts(case.run_id, "blob.bin", tmp_path, progress=cancel_mid_blob, cancel=cancel)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_download_missing_path(case, tmp_path):
    with pytest.raises(NotFound):
        case.store.download_artifacts(case.run_id, "nope/missing.txt", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_download_refuses_escaping_paths(case, tmp_path):
    dest = tmp_path / "dest"
    for bad in ("../x", "/etc/passwd", "data/../../x", "..\\x"):
        with pytest.raises(UnsafePath):
            case.store.download_artifacts(case.run_id, bad, dest)
    assert list(tmp_path.iterdir()) == []


def test_concurrent_downloads_share_the_store(case, tmp_path):
    errors = []

    def fetch(i):
        try:
            case.store.download_artifacts(case.run_id, "model", tmp_path / str(i))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=fetch, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert all((tmp_path / str(i) / "model" / "MLmodel").read_text() == MLMODEL for i in range(4))


# -- schemes tracktui cannot read directly -----------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "hint"),
    [
        ("gs://bucket/1/abc/artifacts", "Google Cloud Storage"),
        ("wasbs://c@acct.blob.core.windows.net/1/abc/artifacts", "Azure Blob Storage"),
        ("abfss://c@acct.dfs.core.windows.net/x", "Azure Data Lake"),
        ("hdfs://nn:8020/x", "HDFS"),
    ],
)
def test_unsupported_schemes_say_what_to_do(uri, hint):
    from tracktui.store.artifacts import repository_for
    from tracktui.store.errors import UnsupportedURI

    with pytest.raises(UnsupportedURI) as caught:
        repository_for(uri)
    assert hint in caught.value.message and "tracking server" in caught.value.message


def test_s3_without_boto3_names_the_extra(monkeypatch):
    from tracktui.store.artifacts import repository_for
    from tracktui.store.errors import UnsupportedURI

    monkeypatch.setitem(sys.modules, "boto3", None)  # what an install without the extra looks like
    with pytest.raises(UnsupportedURI, match=r"tracktui\[s3\]"):
        repository_for("s3://bucket/prefix")


def test_s3_repositories_share_one_client_per_configuration(s3_case, monkeypatch):
    """A boto3 client costs more to create than a listing (bench_scale.py's s3 part), so
    repositories share one, still usable after another repository closed; a changed endpoint
    or AWS_* variable gets a client of its own."""
    from fixtures.backends import free_port
    from tracktui.store.artifacts import repository_for
    from tracktui.store.errors import Unreachable

    uri = s3_case.store.get_run(s3_case.run_id).artifact_uri
    with repository_for(uri) as first:
        pass
    with repository_for(uri) as second:
        assert second._client is first._client
        assert "hello.txt" in {e.path for e in second.list()}
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "another-key")
    with repository_for(uri) as other_key:
        assert other_key._client is not first._client
    monkeypatch.setenv("MLFLOW_S3_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    with repository_for(uri) as elsewhere, pytest.raises(Unreachable):
        elsewhere.list()
    monkeypatch.undo()
    with repository_for(uri) as again:
        assert again._client is first._client and again.read_head("hello.txt")[0] == ARTIFACT_TEXT


def test_proxy_uri_needs_a_tracking_server():
    from tracktui.store.artifacts import repository_for
    from tracktui.store.errors import UnsupportedURI

    with pytest.raises(UnsupportedURI, match="tracking server"):
        repository_for("mlflow-artifacts:/1/abc/artifacts")
    with pytest.raises(UnsupportedURI, match="tracking server"):
        repository_for("mlflow-artifacts:/1/abc/artifacts", tracking_uri="sqlite:///x.db")
