"""store.transfer on the fixture SQLite store written by real mlflow: export it, import the
export into SQLite, a file store, PostgreSQL, MariaDB and a live `mlflow server`, then let the
real MlflowClient compare source and destination (params, tags, every metric point, statuses,
times, ids where kept, parent links, artifact bytes). Plus incremental copies and resume.
"""

from __future__ import annotations

import math
import os
import secrets
import shutil
from pathlib import Path

import pytest

from fixtures import backends
from fixtures.data import ARTIFACT_RUN, LOGGED_IMAGES
from tracktui.store import open_store
from tracktui.store.errors import InvalidValue
from tracktui.store.transfer import (
    SOURCE_END_TAG,
    SOURCE_RUN_TAG,
    SOURCE_START_TAG,
    TransferOptions,
    copy_between,
    export_experiments,
    import_directory,
    open_destination,
)
from tracktui.store.transfer.format import MANIFEST, RUN_JSON, ExportDir, read_json

ALL = 3  # mlflow ViewType.ALL


@pytest.fixture(scope="module")
def sqlite_backend(tmp_path_factory):
    """This module's own pristine fixture store: these tests compare whole stores, and other
    modules add their own experiments, runs and traces to the shared session store."""
    return backends.build_sqlite(tmp_path_factory.mktemp("transfer-source"))


@pytest.fixture(scope="module")
def exported(sqlite_backend, tmp_path_factory):
    """The whole fixture store exported once for the module."""
    out = tmp_path_factory.mktemp("export") / "dump"
    with open_store(sqlite_backend.uri) as src:
        report = export_experiments(src, out)
    assert report.ok, report.failed
    return out, report


def _client(uri: str):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri)


def _experiments(client):
    from mlflow.entities import ViewType

    return client.search_experiments(view_type=ViewType.ALL)


def _runs(client, experiment_id: str):
    from mlflow.entities import ViewType

    return client.search_runs([experiment_id], run_view_type=ViewType.ALL, max_results=1000)


def _history(client, run_id: str, key: str) -> list:
    points = client.get_metric_history(run_id, key)
    return sorted(
        (p.step, p.timestamp, "nan" if math.isnan(p.value) else p.value) for p in points
    )


def _user_tags(tags: dict, id_map: dict) -> dict:
    out = {k: v for k, v in tags.items() if not k.startswith("tracktui.")}
    if "mlflow.parentRunId" in out:
        out["mlflow.parentRunId"] = id_map.get(out["mlflow.parentRunId"], out["mlflow.parentRunId"])
    return out


def compare_stores(src_uri: str, dst_uri: str, *, names: dict[str, str] | None = None,
                   ids_kept: bool, artifacts: bool = True) -> int:
    """Assert every experiment of the source (or those in `names`: source name -> destination
    name) is in the destination with the same runs; returns how many runs were compared."""
    src, dst = _client(src_uri), _client(dst_uri)
    compared = 0
    for exp in _experiments(src):
        if names is not None and exp.name not in names:
            continue
        dest_exp = dst.get_experiment_by_name((names or {}).get(exp.name, exp.name))
        assert dest_exp is not None, exp.name
        assert dest_exp.lifecycle_stage == exp.lifecycle_stage
        assert _user_tags(dest_exp.tags, {}) == _user_tags(exp.tags, {})
        if exp.name == "Default":
            pass  # every store has its own Default experiment: it is reused, not created
        elif ids_kept:
            assert dest_exp.creation_time == exp.creation_time
        else:
            assert dest_exp.tags.get("tracktui.source_creation_time") == str(exp.creation_time)
        src_runs = _runs(src, exp.experiment_id)
        dst_runs = _runs(dst, dest_exp.experiment_id)
        assert len(dst_runs) == len(src_runs), exp.name
        if ids_kept:
            by_source = {r.info.run_id: r for r in dst_runs}
        else:
            by_source = {r.data.tags[SOURCE_RUN_TAG]: r for r in dst_runs}
        id_map = {k: r.info.run_id for k, r in by_source.items()}
        for run in src_runs:
            copy = by_source[run.info.run_id]
            if ids_kept:
                assert copy.info.run_id == run.info.run_id
            else:
                assert copy.data.tags[SOURCE_START_TAG] == str(run.info.start_time)
                if run.info.end_time is not None:
                    assert copy.data.tags[SOURCE_END_TAG] == str(run.info.end_time)
            for attr in ("run_name", "status", "start_time", "end_time", "user_id", "lifecycle_stage"):
                assert getattr(copy.info, attr) == getattr(run.info, attr), (attr, run.info.run_name)
            assert copy.data.params == run.data.params
            assert _user_tags(copy.data.tags, id_map) == _user_tags(run.data.tags, id_map)
            parent = run.data.tags.get("mlflow.parentRunId")
            if parent:  # re-linked to the parent's copy
                assert copy.data.tags["mlflow.parentRunId"] == id_map[parent]
            assert _datasets(copy) == _datasets(run), run.info.run_name
            assert set(copy.data.metrics) == set(run.data.metrics)
            for key in run.data.metrics:
                assert _history(dst, copy.info.run_id, key) == _history(src, run.info.run_id, key), key
            if artifacts and run.info.run_name == ARTIFACT_RUN:
                assert _artifact_bytes(dst, copy.info.run_id) == _artifact_bytes(src, run.info.run_id)
            compared += 1
    return compared


def _datasets(run) -> list:
    """A run's dataset inputs as MlflowClient reads them (dataset fields and input tags)."""
    return sorted(
        (d.dataset.name, d.dataset.digest, d.dataset.source_type, d.dataset.source, d.dataset.schema or None,
         d.dataset.profile or None, sorted((t.key, t.value) for t in d.tags))
        for d in run.inputs.dataset_inputs
    )


def _artifact_bytes(client, run_id: str) -> dict[str, bytes]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(client.download_artifacts(run_id, "", tmp))
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


#: Tags each destination sets for its own files; metadata MLflow's SQL store adds on start_trace.
_LOCATION_TAGS = ("mlflow.artifactLocation", "mlflow.trace.spansLocation")
_WRITER_METADATA = ("mlflow.trace.infoFinalized",)


def compare_traces(src_uri: str, dst_uri: str, src_exp: str, dst_name: str = "alpha") -> int:
    """Assert the real MlflowClient reads every trace of `src_exp` back from the destination
    experiment named `dst_name` with the
    same id, times, state, previews, tags, metadata and spans (MLflow's span dicts compared
    whole: ids, parents, names, status, ns times, events, attributes); returns how many."""
    src, dst = _client(src_uri), _client(dst_uri)
    dst_exp = dst.get_experiment_by_name(dst_name).experiment_id
    expected = src.search_traces(locations=[src_exp], max_results=100)
    found = dst.search_traces(locations=[dst_exp], max_results=100)
    assert sorted(t.info.trace_id for t in found) == sorted(t.info.trace_id for t in expected)
    for trace in expected:
        copy = dst.get_trace(trace.info.trace_id)
        assert copy.info.experiment_id == dst_exp
        for attr in ("request_time", "execution_duration", "state", "request_preview", "response_preview",
                     "client_request_id"):
            assert getattr(copy.info, attr) == getattr(trace.info, attr), attr
        assert _without(copy.info.tags, _LOCATION_TAGS) == _without(trace.info.tags, _LOCATION_TAGS)
        metadata = _without(copy.info.trace_metadata, _WRITER_METADATA)
        assert metadata == _without(trace.info.trace_metadata, _WRITER_METADATA)
        spans = sorted((s.to_dict() for s in copy.data.spans), key=lambda d: d["span_id"])
        assert spans == sorted((s.to_dict() for s in trace.data.spans), key=lambda d: d["span_id"])
        assert copy.info.tags["mlflow.artifactLocation"] != trace.info.tags["mlflow.artifactLocation"]
    return len(expected)


def _without(mapping, keys) -> dict:
    return {k: v for k, v in mapping.items() if k not in keys}


# -- round trips ----------------------------------------------------------------------------------


def test_export_directory_is_versioned_and_complete(exported, sqlite_backend):
    out, report = exported
    manifest = read_json(out / MANIFEST)
    assert manifest["format"] == "tracktui-export" and manifest["format_version"] == 1
    layout = ExportDir(out)
    exported_runs = {r for e in layout.experiment_ids() for r in layout.run_ids(e)}
    assert exported_runs == set(sqlite_backend.runs.values())
    assert report.artifact_files == 12 + 2 * len(LOGGED_IMAGES) + 1  # the runs' files (log_image writes two each) and the logged model's MLmodel
    assert report.logged_models == len(sqlite_backend.logged_models.live)


def test_round_trip_into_new_sqlite(exported, sqlite_backend, tmp_path):
    out, _ = exported
    dest_uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with open_destination(dest_uri) as dest:  # a new SQLite store, created by tracktui
        report = import_directory(out, dest)
    assert report.ok and report.ids_kept, report.failed
    assert compare_stores(sqlite_backend.uri, dest_uri, ids_kept=True) == len(sqlite_backend.runs)
    alpha = sqlite_backend.experiments["alpha"]
    assert report.traces == compare_traces(sqlite_backend.uri, dest_uri, alpha) == len(sqlite_backend.traces.ids)
    assert not report.warnings


def test_round_trip_into_file_store(exported, sqlite_backend, tmp_path, file_store_allowed):
    out, _ = exported
    dest_uri = str(tmp_path / "mlruns")
    with open_store(dest_uri) as dest:
        report = import_directory(out, dest)
    assert report.ok, report.failed
    assert compare_stores(sqlite_backend.uri, dest_uri, ids_kept=True) == len(sqlite_backend.runs)
    alpha = sqlite_backend.experiments["alpha"]
    assert report.traces == compare_traces(sqlite_backend.uri, dest_uri, alpha) == len(sqlite_backend.traces.ids)
    assert not report.warnings


@pytest.mark.parametrize("kind", ["postgres", "mysql"])
def test_round_trip_into_database_server(kind, exported, sqlite_backend, tmp_path):
    env = backends.POSTGRES_ENV if kind == "postgres" else backends.MYSQL_ENV
    server = os.environ.get(env, "").strip()
    if not server:
        pytest.skip(f"{env} is not set: the {kind} transfer test did NOT run")
    out, _ = exported
    uri, drop = backends.create_database(server, prefix="tracktui_transfer")
    try:
        with backends.working_directory(tmp_path):
            _client(uri).search_experiments()  # mlflow creates its schema
            with open_store(uri) as dest:
                report = import_directory(out, dest)
            assert report.ok, report.failed
            assert compare_stores(sqlite_backend.uri, uri, ids_kept=True) == len(sqlite_backend.runs)
            alpha = sqlite_backend.experiments["alpha"]
            assert report.traces == compare_traces(sqlite_backend.uri, uri, alpha) == len(sqlite_backend.traces.ids)
    finally:
        _dispose_mlflow_engines()
        drop()


def _dispose_mlflow_engines() -> None:
    """mlflow caches one engine per URI; release its pooled connections before the drop."""
    try:
        from mlflow.store.db import utils

        for engine in list(getattr(utils, "_engines", {}).values()):
            engine.dispose()
    except Exception:
        pass


def test_round_trip_into_tracking_server(exported, sqlite_backend, tracking_server_url, tmp_path):
    out, _ = exported
    suffix = secrets.token_hex(3)
    names, traces = {}, 0
    mapping = tmp_path / "ids.json"
    with open_store(tracking_server_url) as dest:
        for exp_id in ExportDir(out).experiment_ids():
            name = read_json(out / "experiments" / exp_id / "experiment.json")["name"]
            names[name] = f"{name} (copy {suffix})"
            report = import_directory(
                out, dest, TransferOptions(experiments=[exp_id], experiment_name=names[name], mapping_file=mapping)
            )
            assert report.ok and not report.ids_kept, report.failed
            assert not report.warnings
            traces += report.traces
    compared = compare_stores(sqlite_backend.uri, tracking_server_url, names=names, ids_kept=False)
    assert compared == len(sqlite_backend.runs)
    alpha = sqlite_backend.experiments["alpha"]
    compared = compare_traces(sqlite_backend.uri, tracking_server_url, alpha, names["alpha"])
    assert traces == compared == len(sqlite_backend.traces.ids)
    # and back: spans read over REST (OTLP JSON, plain attribute values) into a SQLite store
    back_uri = f"sqlite:///{tmp_path / 'back.db'}"
    served = _client(tracking_server_url).get_experiment_by_name(names["alpha"]).experiment_id
    with open_store(tracking_server_url) as src, open_destination(back_uri) as back:
        report = copy_between(src, back, TransferOptions(experiments=[names["alpha"]]))
    assert report.ok and not report.warnings, (report.failed, report.warnings)
    assert compare_traces(tracking_server_url, back_uri, served, names["alpha"]) == len(sqlite_backend.traces.ids)
    runs_map = read_json(mapping)["runs"]
    assert set(runs_map) == set(sqlite_backend.runs.values())
    assert len(set(runs_map.values())) == len(runs_map)


# -- incremental and resume ------------------------------------------------------------------------


def test_second_copy_takes_only_new_and_changed_runs(sqlite_copy, tmp_path):
    dest_uri = f"sqlite:///{tmp_path / 'dest.db'}"
    with open_store(sqlite_copy.uri) as src, open_destination(dest_uri) as dest:
        first = copy_between(src, dest)
        assert first.ok and len(first.created) == len(sqlite_copy.runs)
        client = _client(sqlite_copy.uri)
        alpha = sqlite_copy.experiments["alpha"]
        new_run = client.create_run(alpha, run_name="added later").info.run_id
        client.log_metric(new_run, "m", 1.0, step=0)
        changed = sqlite_copy.runs["baseline"]
        client.set_experiment_tag(alpha, "added", "later")
        client.log_metric(changed, "late_metric", 2.5, step=7, timestamp=1_700_000_999_000)
        second = copy_between(src, dest)
        assert second.ok, second.failed
        assert second.created == [new_run]
        assert second.updated == [changed]
        assert len(second.unchanged) == len(sqlite_copy.runs) - 1
        third = copy_between(src, dest)
        assert not third.created and not third.updated
        assert _history(_client(dest_uri), changed, "late_metric") == [(7, 1_700_000_999_000, 2.5)]
        assert dest.count_runs(alpha, "all") == src.count_runs(alpha, "all")
        assert dest.get_experiment(alpha).tags["added"] == "later"


def test_dataset_inputs_travel_and_a_second_copy_adds_only_new_ones(sqlite_copy, tmp_path):
    from mlflow.entities import Dataset, DatasetInput, InputTag

    dest_uri = f"sqlite:///{tmp_path / 'dest.db'}"
    client = _client(sqlite_copy.uri)
    baseline = sqlite_copy.runs["baseline"]
    with open_store(sqlite_copy.uri) as src, open_destination(dest_uri) as dest:
        assert copy_between(src, dest).ok
        copied = _client(dest_uri).get_run(baseline)
        assert [d[0] for d in _datasets(copied)] == ["eval-set", "train-set"]
        client.log_inputs(baseline, datasets=[
            DatasetInput(Dataset("later", "0f0f", "local", '{"uri": "/l"}'), [InputTag("mlflow.data.context", "test")])
        ])
        second = copy_between(src, dest)
        assert second.ok and second.updated == [baseline] and not second.created, second.failed
        assert _datasets(_client(dest_uri).get_run(baseline)) == _datasets(client.get_run(baseline))
        third = copy_between(src, dest)
        assert not third.updated and not third.created
    assert len(_datasets(_client(dest_uri).get_run(baseline))) == 3


def test_model_inputs_and_outputs_are_named_as_skipped(sqlite_copy, tmp_path):
    """Run-model links do not travel (the models do): the report names every link it could not carry."""
    from mlflow.entities import LoggedModelInput, LoggedModelOutput

    client = _client(sqlite_copy.uri)
    alpha = sqlite_copy.experiments["alpha"]
    run_id = sqlite_copy.runs["tuned lr"]
    model = client.create_logged_model(alpha, name="net", source_run_id=run_id)
    client.log_outputs(run_id, [LoggedModelOutput(model.model_id, 3)])
    client.log_inputs(sqlite_copy.runs["no-data"], models=[LoggedModelInput(model.model_id)])
    dest_uri = f"sqlite:///{tmp_path / 'dest.db'}"
    with open_store(sqlite_copy.uri) as src, open_destination(dest_uri) as dest:
        report = copy_between(src, dest)
    assert not report.failed and not report.ok  # what was skipped makes the copy incomplete
    assert sorted(report.skipped) == sorted([
        f"run {run_id}: model output {model.model_id} (run-model links are not copied)",
        f"run {sqlite_copy.runs['no-data']}: model input {model.model_id} (run-model links are not copied)",
    ])
    assert _datasets(_client(dest_uri).get_run(run_id)) == _datasets(client.get_run(run_id))


def test_since_selects_recent_runs_only(sqlite_copy, tmp_path):
    with open_store(sqlite_copy.uri) as src, open_destination(f"sqlite:///{tmp_path / 'd.db'}") as dest:
        everything = {r.id: r for e in src.search_experiments(view="all") for r in src.search_runs([e.id], view="all", max_results=1000)}
        cutoff = sorted((r.start_time or 0) for r in everything.values())[len(everything) // 2]
        report = copy_between(src, dest, TransferOptions(since=cutoff))
        expected = {
            i for i, r in everything.items()
            if (r.start_time or 0) >= cutoff or r.end_time is None or r.end_time >= cutoff
        }
        assert set(report.created) == expected
        assert 0 < len(expected) < len(everything)


class _Interrupt(Exception):
    pass


def test_interrupted_copy_resumes_without_duplicates(sqlite_backend, tmp_path):
    dest_uri = f"sqlite:///{tmp_path / 'dest.db'}"

    def stop_after_five(event):
        if event.runs_done >= 5:
            raise _Interrupt

    with open_store(sqlite_backend.uri) as src, open_destination(dest_uri) as dest:
        with pytest.raises(_Interrupt):
            copy_between(src, dest, TransferOptions(workers=1), progress=stop_after_five)
        resumed = copy_between(src, dest)
        assert resumed.ok, resumed.failed
        assert len(resumed.created) + len(resumed.unchanged) + len(resumed.updated) == len(sqlite_backend.runs)
        assert len(resumed.created) < len(sqlite_backend.runs)
    assert compare_stores(sqlite_backend.uri, dest_uri, ids_kept=True) == len(sqlite_backend.runs)


def test_interrupted_export_redoes_only_incomplete_runs(exported, tmp_path, sqlite_backend):
    out = tmp_path / "dump"
    shutil.copytree(exported[0], out)
    layout = ExportDir(out)
    broken = sqlite_backend.runs[ARTIFACT_RUN]
    exp_id = next(e for e in layout.experiment_ids() if broken in set(layout.run_ids(e)))
    (layout.run_dir(exp_id, broken) / RUN_JSON).unlink()  # as if cut off before the run finished
    (layout.run_dir(exp_id, broken) / "artifacts" / "blob.bin").unlink()
    with open_store(sqlite_backend.uri) as src:
        report = export_experiments(src, out)
    assert report.created == [broken]
    assert len(report.unchanged) == len(sqlite_backend.runs) - 1
    assert report.artifact_files == 1  # only the missing file was fetched again


def test_one_failing_run_is_reported_and_the_rest_continue(sqlite_backend, tmp_path):
    alpha = sqlite_backend.experiments["alpha"]
    with open_store(sqlite_backend.uri) as src, open_destination(f"sqlite:///{tmp_path / 'd.db'}") as dest:
        victim = src.search_runs([alpha], view="all").items[0].id
        other = dest.create_experiment("elsewhere")
        dest.create_run(other, run_id=victim)  # the id is taken in another experiment
        report = copy_between(src, dest, TransferOptions(experiments=["alpha"]))
        assert list(report.failed) == [victim]
        assert "already exists" in report.failed[victim]
        assert len(report.created) == src.count_runs(alpha, "all") - 1


def test_over_rest_a_second_copy_duplicates_nothing(sqlite_backend, tracking_server_url):
    name = f"beta again {secrets.token_hex(3)}"
    with open_store(sqlite_backend.uri) as src, open_store(tracking_server_url) as dest:
        options = TransferOptions(experiments=["beta"], experiment_name=name)
        first = copy_between(src, dest, options)
        second = copy_between(src, dest, options)
        assert first.ok and second.ok
        assert not second.created and not second.updated
        assert second.run_ids == first.run_ids
        dest_exp = dest.get_experiment_by_name(name)
        assert dest.count_runs(dest_exp.id, "all") == src.count_runs(sqlite_backend.experiments["beta"], "all")


def test_experiment_name_needs_one_experiment(exported, tmp_path):
    with open_destination(f"sqlite:///{tmp_path / 'd.db'}") as dest:
        with pytest.raises(InvalidValue):
            import_directory(exported[0], dest, TransferOptions(experiment_name="x"))


def test_export_writes_every_trace_with_its_spans(exported, sqlite_backend):
    out, report = exported
    client = _client(sqlite_backend.uri)
    alpha = sqlite_backend.experiments["alpha"]
    expected = {t.info.trace_id: t for t in client.search_traces(locations=[alpha], max_results=100)}
    assert expected and report.traces == len(expected)
    layout = ExportDir(out)
    for trace_id, trace in expected.items():
        data = read_json(layout.trace_file(alpha, trace_id))
        assert data["info"]["trace_id"] == trace_id
        assert data["info"]["request_time"] == trace.info.request_time
        assert sorted(s["span_id"] for s in data["spans"]) == sorted(s.span_id for s in trace.data.spans)
        assert sorted(s["name"] for s in data["spans"]) == sorted(s.name for s in trace.data.spans)


def _until_mlflow_has(uri: str, trace_id: str, seconds: float = 20) -> None:
    """Wait until MlflowClient reads the trace back with its spans, so the copy starts from a
    store that holds it (once, under load in CI, the copy that followed found no new trace);
    if mlflow never writes it, say so: then the copy is not what failed."""
    import time

    client = _client(uri)
    deadline = time.monotonic() + seconds
    while True:
        try:
            if client.get_trace(trace_id).data.spans:
                return
        except Exception:  # not there yet
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"mlflow did not write trace {trace_id} to {uri} within {seconds:.0f} s")
        time.sleep(0.05)


def test_a_second_copy_takes_only_new_traces(sqlite_copy, tmp_path):
    from fixtures.traces import log_wide_trace

    alpha = sqlite_copy.experiments["alpha"]
    dest_uri = f"sqlite:///{tmp_path / 'dest.db'}"
    options = TransferOptions(experiments=["alpha"])
    with open_store(sqlite_copy.uri) as src, open_destination(dest_uri) as dest:
        first = copy_between(src, dest, options)
        assert first.traces == len(sqlite_copy.traces.ids)
        added = log_wide_trace(sqlite_copy.uri, alpha, 60)  # a 60-span trace logged by mlflow later
        _until_mlflow_has(sqlite_copy.uri, added)
        second = copy_between(src, dest, options)
        third = copy_between(src, dest, options)
    assert (second.traces, third.traces) == (1, 0)
    assert not second.warnings and not third.warnings
    assert compare_traces(sqlite_copy.uri, dest_uri, alpha) == len(sqlite_copy.traces.ids) + 1
    assert len(_client(dest_uri).get_trace(added).data.spans) == 60


def test_a_trace_id_taken_by_another_experiment_is_not_copied_twice(exported, sqlite_backend, tmp_path):
    dest_uri = f"sqlite:///{tmp_path / 'd.db'}"
    with open_destination(dest_uri) as dest:
        import_directory(exported[0], dest, TransferOptions(experiments=["alpha"]))
        again = import_directory(exported[0], dest, TransferOptions(experiments=["alpha"], experiment_name="alpha 2"))
    assert again.traces == 0  # (its runs fail alike: run ids are unique per store too)
    assert sum("already exists at the destination" in w for w in again.warnings) == len(sqlite_backend.traces.ids)
    renamed = _client(dest_uri).get_experiment_by_name("alpha 2").experiment_id
    assert len(_client(dest_uri).search_traces(locations=[renamed])) == 0


def test_runs_added_to_a_deleted_experiment_reach_its_deleted_copy(sqlite_copy, tmp_path):
    dest_uri = f"sqlite:///{tmp_path / 'd.db'}"
    name = "old deleted"  # fixtures.data.DELETED_EXP
    with open_store(sqlite_copy.uri) as src, open_destination(dest_uri) as dest:
        copy_between(src, dest, TransferOptions(experiments=[name]))
        exp = src.get_experiment_by_name(name)
        src.restore_experiment(exp.id)
        added = src.create_run(exp.id, name="late").id
        src.delete_experiment(exp.id)
        report = copy_between(src, dest, TransferOptions(experiments=[name]))
        assert report.ok and report.created == [added], report.failed
        copy = dest.get_experiment_by_name(name)
        assert copy.lifecycle_stage == "deleted"
        assert dest.get_run(added).lifecycle_stage == "deleted"


def test_a_copy_carries_exactly_the_source_tags(sqlite_copy, tmp_path):
    """A run made without an `mlflow.user` tag (MlflowClient.create_run sets only user_id) is
    copied without one: the copy does not derive tags the source never had."""
    client = _client(sqlite_copy.uri)
    alpha = sqlite_copy.experiments["alpha"]
    bare = client.create_run(alpha, run_name="no user tag").info.run_id
    client.delete_tag(bare, "mlflow.runName")
    source_tags = dict(client.get_run(bare).data.tags)
    assert "mlflow.user" not in source_tags
    dest_uri = f"sqlite:///{tmp_path / 'dest.db'}"
    with open_store(sqlite_copy.uri) as src, open_destination(dest_uri) as dest:
        assert copy_between(src, dest).ok
    copied = _client(dest_uri).get_run(bare)
    assert dict(copied.data.tags) == source_tags
    assert copied.info.user_id == client.get_run(bare).info.user_id


# -- a hostile source server ----------------------------------------------------------------------


def _hostile_source(artifact_uri: str, body: bytes):
    """A tracking server with one run whose artifacts listing says `small.txt` is 5 bytes."""
    from urllib.parse import urlsplit

    from fake_http_server import Reply, run_json

    def script(n, seen):
        path = urlsplit(seen.path).path
        if path.endswith("/experiments/search"):
            return Reply(body={"experiments": [{"experiment_id": "1", "name": "e", "lifecycle_stage": "active"}]})
        if path.endswith("/runs/search") or path.endswith("/runs/get"):
            run = run_json(HOSTILE_RUN)
            run["info"]["artifact_uri"] = artifact_uri
            return Reply(body={"runs": [run]} if path.endswith("search") else {"run": run})
        if path.endswith("/artifacts/list") or path == "/api/2.0/mlflow-artifacts/artifacts":
            return Reply(body={"files": [{"path": "small.txt", "is_dir": False, "file_size": 5}]})
        if path.startswith("/api/2.0/mlflow-artifacts/artifacts/") or path == "/get-artifact":
            return Reply(body=body)
        return Reply(body={})

    return script


HOSTILE_RUN = "0123456789abcdef0123456789abcdef"


def test_export_refuses_an_artifact_longer_than_listed(tmp_path):
    from fake_http_server import FakeServer

    from tracktui.store.rest.store import RestStore

    with FakeServer(_hostile_source("mlflow-artifacts:/1/r/artifacts", b"x" * 100_000)) as server:
        with RestStore(server.url, max_retries=0, timeout=5) as store:
            report = export_experiments(store, tmp_path / "export")
    assert "listing gave for 'small.txt'" in report.failed[HOSTILE_RUN]
    assert not [p for p in (tmp_path / "export").rglob("*small.txt*")]


def test_export_reads_a_local_path_named_by_the_server_through_the_server(tmp_path, monkeypatch):
    from fake_http_server import FakeServer

    from tracktui.store.rest.store import RestStore

    monkeypatch.delenv("TRACKTUI_ALLOW_SERVER_LOCAL_ARTIFACTS", raising=False)
    secret = tmp_path / "home"
    secret.mkdir()
    (secret / "small.txt").write_text("SECRET")
    with FakeServer(_hostile_source(secret.as_uri(), b"fine!")) as server:
        with RestStore(server.url, max_retries=0, timeout=5) as store:
            report = export_experiments(store, tmp_path / "export")
    assert not report.failed
    (exported_file,) = (tmp_path / "export").rglob("small.txt")
    assert exported_file.read_bytes() == b"fine!"


# -- hostile trees: symlinks, odd names, damaged sources, read-only destinations ----------------


def _artifact_dir(store, run_id: str) -> Path:
    from tracktui.store.artifacts.local import local_path_of

    return local_path_of(store.get_run(run_id).artifact_uri)


def test_import_never_follows_a_symlink_out_of_the_export(exported, sqlite_backend, tmp_path):
    """An `id_rsa` linked into a run's artifacts is skipped and named, never uploaded; a link
    to a file inside the export is fine."""
    out = tmp_path / "dump"
    shutil.copytree(exported[0], out, symlinks=True)
    secret = tmp_path / "id_rsa"
    secret.write_text("PRIVATE KEY")
    layout = ExportDir(out)
    run_id = sqlite_backend.runs[ARTIFACT_RUN]
    exp_id = next(e for e in layout.experiment_ids() if run_id in set(layout.run_ids(e)))
    artifacts = layout.run_dir(exp_id, run_id) / "artifacts"
    (artifacts / "id_rsa").symlink_to(secret)
    (artifacts / "keys").symlink_to(tmp_path)  # a folder link out: not descended into
    (artifacts / "again.bin").symlink_to(artifacts / "blob.bin")
    dest_uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with open_destination(dest_uri) as dest:
        report = import_directory(out, dest)
        copied = _artifact_dir(dest, run_id)
        assert not (copied / "id_rsa").exists() and not (copied / "keys").exists()
        assert (copied / "again.bin").read_bytes() == (artifacts / "blob.bin").read_bytes()
    assert not report.failed, report.failed
    assert not report.ok
    assert any(str(artifacts / "id_rsa") in s and "outside the export" in s for s in report.skipped)
    assert any(str(artifacts / "keys") in s for s in report.skipped)
    assert len(report.skipped) == 2


def test_export_skips_only_the_artifact_whose_name_has_a_control_character(tmp_path):
    with open_destination(f"sqlite:///{tmp_path / 'src.db'}") as src:
        exp = src.create_experiment("odd names")
        run = src.create_run(exp, name="tabbed")
        files = _artifact_dir(src, run.id)
        files.mkdir(parents=True)
        (files / "fine.txt").write_text("ok")
        for odd in ("a\tb.txt", "c\rd.txt", "e\x1bf.txt"):
            (files / odd).write_text("odd")
        report = export_experiments(src, tmp_path / "dump")
    assert report.created == [run.id] and not report.failed, report.failed
    assert report.artifact_files == 1
    assert len(report.skipped) == 3 and all(run.id in s for s in report.skipped)
    assert any(repr("a\tb.txt") in s for s in report.skipped)


def test_copy_from_a_damaged_tree_names_every_skipped_run_and_experiment(file_backend, tmp_path, file_store_allowed):
    from tracktui.store.files.layout import is_run_folder_name

    root = tmp_path / "mlruns"
    shutil.copytree(Path(file_backend.uri.removeprefix("file://")), root)
    def runs_of(experiment: Path) -> list[Path]:
        return sorted(p for p in experiment.iterdir() if p.is_dir() and is_run_folder_name(p.name))

    experiments = sorted((p for p in root.iterdir() if p.is_dir() and p.name.isdigit()), key=lambda p: len(runs_of(p)))
    broken_exp = [experiments[0] / "meta.yaml", experiments[1] / "meta.yaml"]
    broken_runs = [run / "meta.yaml" for run in runs_of(experiments[-1])[:2]]
    for meta in broken_exp + broken_runs:
        meta.write_bytes(b"a: &x [1]\nb: *x\n")
    with open_store(str(root), read_only=True) as src, open_destination(f"sqlite:///{tmp_path / 'd.db'}") as dest:
        report = copy_between(src, dest)
    assert not report.failed and report.copied_any
    assert not report.ok
    for meta in broken_exp + broken_runs:
        assert any(str(meta) in s for s in report.skipped), (meta, report.skipped)


def test_copy_into_a_database_it_cannot_write_is_refused_before_anything(sqlite_backend, tmp_path):
    import sqlite3

    from tracktui.store.errors import ReadOnlyError

    path = tmp_path / "unknown.db"
    with open_destination(f"sqlite:///{path}"):
        pass
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM alembic_version")  # schema version unknown: opens read-only
    with open_store(sqlite_backend.uri) as src, open_store(f"sqlite:///{path}") as dest:
        with pytest.raises(ReadOnlyError, match="schema version is unknown"):
            copy_between(src, dest)
        assert [e.name for e in dest.search_experiments(view="all")] == ["Default"]
