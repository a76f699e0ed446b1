"""A SQLite store created by tracktui is one real mlflow 3.17 takes as its own: the same schema
as a database mlflow creates, stamped with mlflow's head, usable for logging and searching,
and `mlflow db upgrade` finds nothing to do."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest

from tracktui.store.errors import InvalidValue
from tracktui.store.sql.init import SQLITE_SCHEMA_REVISION, initialize_sqlite_store


def _schema(path) -> list[tuple]:
    """Every table, index and trigger with its definition; a definition's lines are compared as
    a set, because mlflow's own migrations do not write table constraints in a fixed order."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall()
    return [
        (kind, name, table, sorted(line.strip().rstrip(",").strip() for line in (sql or "").splitlines()))
        for kind, name, table, sql in rows
    ]


def _rows(path, sql) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


def test_schema_is_exactly_what_mlflow_creates(tmp_path, monkeypatch):
    import mlflow

    monkeypatch.chdir(tmp_path)
    theirs = tmp_path / "mlflow-made.db"
    mlflow.MlflowClient(f"sqlite:///{theirs}").search_experiments()
    ours = tmp_path / "ours.db"
    uri = initialize_sqlite_store(ours)
    assert uri == f"sqlite:///{ours}"
    assert _schema(ours) == _schema(theirs)
    for sql in ("SELECT * FROM alembic_version", "SELECT * FROM workspaces"):
        assert _rows(ours, sql) == _rows(theirs, sql)
    assert _rows(ours, "SELECT version_num FROM alembic_version") == [(SQLITE_SCHEMA_REVISION,)]
    strip_times = "SELECT experiment_id, name, artifact_location, lifecycle_stage, workspace FROM experiments"
    assert _rows(ours, strip_times) == _rows(theirs, strip_times)  # Default at ./mlruns/0 of the same dir


def test_real_mlflow_opens_logs_and_searches(tmp_path, monkeypatch):
    import mlflow
    from mlflow.entities import Metric, Param

    monkeypatch.chdir(tmp_path)
    uri = initialize_sqlite_store(tmp_path / "store" / "mlflow.db", artifact_root=str(tmp_path / "art"))
    client = mlflow.MlflowClient(uri)
    assert [e.name for e in client.search_experiments()] == ["Default"]
    assert client.get_experiment("0").artifact_location == f"{tmp_path / 'art'}/0"
    eid = client.create_experiment("logged")
    run = client.create_run(eid, run_name="r")
    client.log_batch(run.info.run_id, metrics=[Metric("m", 0.5, 1, 0)], params=[Param("p", "1")])
    client.log_text(run.info.run_id, "hi", "a.txt")
    client.set_terminated(run.info.run_id)
    found = client.search_runs([eid], "metrics.m > 0.1")
    assert [r.info.run_id for r in found] == [run.info.run_id]

    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    upgrade = subprocess.run(
        [sys.executable, "-m", "mlflow", "db", "upgrade", uri],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )
    assert upgrade.returncode == 0, upgrade.stderr[-2000:]
    assert _rows(tmp_path / "store" / "mlflow.db", "SELECT version_num FROM alembic_version") == [
        (SQLITE_SCHEMA_REVISION,)
    ]


def test_tracktui_opens_it_for_writing(tmp_path):
    from tracktui.store import open_store

    uri = initialize_sqlite_store(tmp_path / "mlflow.db")
    store = open_store(uri)
    try:
        assert not store.read_only, store.read_only_reason
        eid = store.create_experiment("first")
        assert store.get_experiment(eid).artifact_location == f"{tmp_path / 'mlruns'}/{eid}"
    finally:
        store.close()


def test_refuses_an_existing_file_and_leaves_it_alone(tmp_path):
    target = tmp_path / "mlflow.db"
    target.write_bytes(b"not yours")
    with pytest.raises(InvalidValue, match="already exists"):
        initialize_sqlite_store(target)
    assert target.read_bytes() == b"not yours"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlflow.db"]  # no temp file left
