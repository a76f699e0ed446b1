"""Assessments travel with their traces through `tracktui export/import/copy`, to every kind of
destination, and MlflowClient reads them back there as it reads them at the source (ids,
values, sources, rationales, spans, errors, overrides and validity, times). A destination that
cannot take them (a SQL schema without the `assessments` table) names each one as skipped."""

from __future__ import annotations

import os
import secrets

import pytest
import sqlalchemy as sa

from fixtures import backends
from fixtures.traces import populate_assessments
from tracktui.store import open_store
from tracktui.store.transfer import (
    TransferOptions,
    copy_between,
    export_experiments,
    import_directory,
    open_destination,
)


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A SQLite store made by mlflow with the assessment fixture in experiment `judged`."""
    from mlflow import MlflowClient

    folder = tmp_path_factory.mktemp("assessed-source")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    eid = MlflowClient(uri).create_experiment("judged", artifact_location=str(folder / "artifacts"))
    fixture = populate_assessments(uri, eid)
    assert sum(map(len, _assessments(uri, fixture.ids.values()).values())) == 8  # what is compared
    return uri, fixture


def _assessments(uri: str, trace_ids) -> dict[str, list[tuple]]:
    """What MlflowClient reads: per trace, every assessment as a comparable tuple."""
    from mlflow import MlflowClient

    client = MlflowClient(uri)
    out = {}
    for trace_id in trace_ids:
        out[trace_id] = sorted(
            (a.assessment_id, a.name, repr(a.value), a.source.source_type, a.source.source_id, a.rationale,
             a.span_id, a.overrides, a.valid is not False, getattr(a, "error", None) and a.error.error_code,
             a.create_time_ms)
            for a in client.get_trace(trace_id).info.assessments
        )
    return out


def _copy(source, dest_uri: str, **options):
    uri, _fixture = source
    with open_store(uri) as src, open_destination(dest_uri) as dest:
        return copy_between(src, dest, TransferOptions(experiments=["judged"], **options))


def test_copy_into_sqlite_keeps_every_assessment(source, tmp_path):
    uri, fixture = source
    dest_uri = f"sqlite:///{tmp_path / 'copy.db'}"
    report = _copy(source, dest_uri)
    assert report.ok and not report.skipped and report.traces == 4
    assert _assessments(dest_uri, fixture.ids.values()) == _assessments(uri, fixture.ids.values())


def test_copy_into_a_file_store_keeps_every_assessment(source, tmp_path, file_store_allowed):
    uri, fixture = source
    dest_uri = str(tmp_path / "mlruns")
    report = _copy(source, dest_uri)
    assert report.ok and not report.skipped and report.traces == 4
    assert _assessments(dest_uri, fixture.ids.values()) == _assessments(uri, fixture.ids.values())


def test_export_then_import_keeps_every_assessment(source, tmp_path):
    uri, fixture = source
    with open_store(uri) as src:
        assert export_experiments(src, tmp_path / "dump", TransferOptions(experiments=["judged"])).ok
    dest_uri = f"sqlite:///{tmp_path / 'imported.db'}"
    with open_destination(dest_uri) as dest:
        report = import_directory(tmp_path / "dump", dest)
    assert report.ok and not report.skipped and report.traces == 4
    assert _assessments(dest_uri, fixture.ids.values()) == _assessments(uri, fixture.ids.values())


@pytest.mark.parametrize("kind", ["postgres", "mysql"])
def test_copy_into_a_database_server_keeps_every_assessment(source, kind, tmp_path):
    env = backends.POSTGRES_ENV if kind == "postgres" else backends.MYSQL_ENV
    server = os.environ.get(env, "").strip()
    if not server:
        pytest.skip(f"{env} is not set: the {kind} assessment copy did NOT run")
    uri, fixture = source
    dest_uri, drop = backends.create_database(server, prefix="tracktui_assess")
    try:
        with backends.working_directory(tmp_path):
            from mlflow import MlflowClient

            MlflowClient(dest_uri).search_experiments()  # mlflow creates its schema
            report = _copy(source, dest_uri)
            assert report.ok and not report.skipped and report.traces == 4
            assert _assessments(dest_uri, fixture.ids.values()) == _assessments(uri, fixture.ids.values())
    finally:
        from mlflow.store.db import utils

        for engine in list(getattr(utils, "_engines", {}).values()):
            engine.dispose()
        drop()


def test_copy_to_a_tracking_server_keeps_every_assessment(source, tracking_server_url):
    uri, fixture = source
    with open_store(uri) as src, open_store(tracking_server_url) as dest:
        report = copy_between(src, dest, TransferOptions(
            experiments=["judged"], experiment_name=f"judged-{secrets.token_hex(3)}"))
    assert report.ok and not report.skipped
    assert _assessments(tracking_server_url, fixture.ids.values()) == _assessments(uri, fixture.ids.values())


def test_a_schema_without_assessments_names_each_one_skipped(source, tmp_path):
    uri, fixture = source
    dest_uri = f"sqlite:///{tmp_path / 'old.db'}"
    open_destination(dest_uri).close()
    engine = sa.create_engine(dest_uri)
    with engine.begin() as conn:  # as a schema from before MLflow 3.2 (no assessments table)
        conn.execute(sa.text("DROP TABLE assessments"))
    engine.dispose()
    report = _copy(source, dest_uri)
    assert report.traces == 4
    assert len(report.skipped) == len(fixture.assessment_ids) + 1  # the fixture logs one more score
    assert all("no assessments table" in line for line in report.skipped)
    assert any("feedback 'quality'" in line and fixture.assessment_ids["judge_quality"] in line
               for line in report.skipped)
