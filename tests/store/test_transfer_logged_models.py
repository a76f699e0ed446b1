"""Logged models travel with export, import and copy: the fixture's `beta` experiment (four
live models, one deleted, made by real mlflow) goes to SQLite, a file store, an export
directory and a live `mlflow server`; the real MlflowClient on the destination must see the
same models, params, tags, statuses, metric points (their runs re-pointed) and artifact bytes.
A destination that cannot hold logged models names each one as skipped.
"""

from __future__ import annotations

import secrets

import pytest

from fixtures.data import BETA
from fixtures.logged_models import DELETED_MODEL, MODEL_ARTIFACT
from tracktui.store import open_store
from tracktui.store.transfer import (
    TransferOptions,
    copy_between,
    export_experiments,
    import_directory,
    open_destination,
)


def _client(uri: str):
    import mlflow

    return mlflow.MlflowClient(uri)


def _summary(client, experiment_id: str, run_names: dict[str, str]) -> dict:
    """name -> what a user sees of each model, run ids replaced by run names."""
    out = {}
    for m in client.search_logged_models([experiment_id]):
        latest: dict = {}
        for p in m.metrics or []:
            k = (p.key, p.dataset_name, p.dataset_digest)
            if k not in latest or (p.step, p.timestamp) > latest[k][1:]:
                latest[k] = (p.value, p.step, p.timestamp, run_names.get(p.run_id, p.run_id))
        status = getattr(m.status, "name", str(m.status))
        out[m.name] = {
            "status": status, "model_type": m.model_type or None,
            "source_run": run_names.get(m.source_run_id, m.source_run_id) if m.source_run_id else None,
            "params": dict(m.params or {}),
            "tags": {k: v for k, v in (m.tags or {}).items() if not k.startswith("tracktui.")},
            "metrics": {k: v[0] for k, v in latest.items()}, "metric_runs": sorted({v[3] for v in latest.values()}),
        }
    return out


def _run_names(client, experiment_id: str) -> dict[str, str]:
    return {r.info.run_id: r.info.run_name for r in client.search_runs([experiment_id], max_results=1000)}


def _same_models(src_uri: str, dst_uri: str, dest_name: str = BETA) -> dict:
    src, dst = _client(src_uri), _client(dst_uri)
    src_exp = src.get_experiment_by_name(BETA).experiment_id
    dst_exp = dst.get_experiment_by_name(dest_name).experiment_id
    expected = _summary(src, src_exp, _run_names(src, src_exp))
    got = _summary(dst, dst_exp, _run_names(dst, dst_exp))
    assert got == expected
    assert DELETED_MODEL not in got and len(got) == 4
    bert = next(m for m in dst.search_logged_models([dst_exp]) if m.name == "bert-small")
    import tempfile

    import mlflow

    with tempfile.TemporaryDirectory() as tmp:
        downloaded = mlflow.artifacts.download_artifacts(
            artifact_uri=f"{bert.artifact_location}/MLmodel", dst_path=tmp, tracking_uri=dst_uri)
        with open(downloaded, "rb") as handle:
            assert handle.read() == MODEL_ARTIFACT
    return got


@pytest.mark.parametrize("kind", ["sqlite", "file"])
def test_copy_keeps_models_and_ids(sqlite_backend, tmp_path, kind, file_store_allowed):
    dest_uri = f"sqlite:///{tmp_path / 'dest.db'}" if kind == "sqlite" else str(tmp_path / "mlruns")
    with open_store(sqlite_backend.uri) as src, open_destination(dest_uri) as dest:
        report = copy_between(src, dest, TransferOptions(experiments=[BETA]))
        assert report.ok and report.logged_models == 4, report
        assert not report.warnings, report.warnings
        again = copy_between(src, dest, TransferOptions(experiments=[BETA]))
        assert again.ok and again.logged_models == 0
    _same_models(sqlite_backend.uri, dest_uri)
    live = set(sqlite_backend.logged_models.live.values())
    dest_exp = _client(dest_uri).get_experiment_by_name(BETA).experiment_id
    assert {m.model_id for m in _client(dest_uri).search_logged_models([dest_exp])} == live


def test_export_then_import_carries_models(sqlite_backend, tmp_path, file_store_allowed):
    out = tmp_path / "dump"
    with open_store(sqlite_backend.uri) as src:
        report = export_experiments(src, out, TransferOptions(experiments=[BETA]))
    assert report.ok and report.logged_models == 4
    model_dir = out / "experiments" / sqlite_backend.experiments[BETA] / "models" / sqlite_backend.logged_models.ids["bert-small"]
    assert (model_dir / "model.json").is_file() and (model_dir / "artifacts" / "MLmodel").read_bytes() == MODEL_ARTIFACT
    dest_uri = str(tmp_path / "mlruns")
    with open_destination(dest_uri) as dest:
        report = import_directory(out, dest)
    assert report.ok and report.logged_models == 4
    _same_models(sqlite_backend.uri, dest_uri)


def test_copy_to_a_tracking_server_re_points_runs(sqlite_backend, tracking_server_url):
    name = f"{BETA} (models {secrets.token_hex(3)})"
    options = TransferOptions(experiments=[BETA], experiment_name=name)
    with open_store(sqlite_backend.uri) as src, open_store(tracking_server_url) as dest:
        report = copy_between(src, dest, options)
        assert report.ok and report.logged_models == 4, report
        assert not report.warnings, report.warnings
        again = copy_between(src, dest, options)
        assert again.ok and again.logged_models == 0
    got = _same_models(sqlite_backend.uri, tracking_server_url, name)
    assert got["bert-small"]["source_run"] == "beta-1"
    dst = _client(tracking_server_url)
    dst_exp = dst.get_experiment_by_name(name).experiment_id
    assert len(dst.search_logged_models([dst_exp])) == 4  # the second copy duplicated nothing


def test_a_target_without_logged_model_tables_names_every_skipped_model(sqlite_backend, tmp_path, capsys):
    import sqlalchemy as sa

    dest_uri = f"sqlite:///{tmp_path / 'old.db'}"
    with open_destination(dest_uri):
        pass  # creates MLflow's schema
    engine = sa.create_engine(dest_uri)
    with engine.begin() as conn:  # what a pre-3.0 schema looks like: no logged model tables
        for table in ("logged_model_metrics", "logged_model_params", "logged_model_tags", "logged_models"):
            conn.execute(sa.text(f"DROP TABLE {table}"))
    engine.dispose()
    with open_store(sqlite_backend.uri) as src, open_store(dest_uri) as dest:
        assert not dest.supports_logged_models
        report = copy_between(src, dest, TransferOptions(experiments=[BETA]))
    assert not report.ok and not report.failed and report.logged_models == 0  # skipped: not ok
    assert sorted(s.split("'")[1] for s in report.skipped) == sorted(sqlite_backend.logged_models.live)
    from tracktui.tui.cli.transfer import _summary as print_summary

    print_summary(report, dest_uri, TransferOptions())
    printed = capsys.readouterr().out
    assert "0 logged models copied, 4 skipped" in printed
    for name in sqlite_backend.logged_models.live:
        assert f"skipped logged model '{name}'" in printed
