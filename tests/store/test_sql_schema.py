"""SQL-backend specifics the contract suite cannot express: the schema-revision guard, schemas
older than the newest mlflow, databases that are not MLflow stores, and connection failures."""

from __future__ import annotations

import math
import sqlite3

import pytest

from tracktui.store import (
    NotFound,
    ReadOnlyError,
    SchemaError,
    Unreachable,
    UnsupportedURI,
)
from tracktui.store.model import Keys
from tracktui.store.sql.schema import HEAD_REVISION, KNOWN_REVISIONS
from tracktui.store.sql.store import SqlStore


def _set_revision(uri: str, revision: str) -> None:
    con = sqlite3.connect(uri.removeprefix("sqlite:///"))
    with con:
        con.execute("UPDATE alembic_version SET version_num = ?", (revision,))
    con.close()


def test_newest_known_revision_opens_writable(sqlite_backend):
    store = SqlStore(sqlite_backend.uri)
    try:
        assert store.revision == HEAD_REVISION
        assert store.read_only_reason is None
        assert store.warnings == ()
    finally:
        store.close()


def test_unknown_revision_opens_read_only_with_a_warning(sqlite_copy):
    reference = SqlStore(sqlite_copy.uri)
    expected = [(r.id, dict(r.params)) for r in reference.search_runs(sqlite_copy.live_experiment_ids, max_results=1000)]
    reference.close()
    _set_revision(sqlite_copy.uri, "ffffffffffff")

    store = SqlStore(sqlite_copy.uri)
    try:
        assert store.revision == "ffffffffffff"
        assert store.read_only
        assert "ffffffffffff" in store.read_only_reason
        assert any("ffffffffffff" in w for w in store.warnings)
        got = [(r.id, dict(r.params)) for r in store.search_runs(sqlite_copy.live_experiment_ids, max_results=1000)]
        assert got == expected
        with pytest.raises(ReadOnlyError):
            store.create_experiment("must not be created")
    finally:
        store.close()


def test_read_only_flag_refuses_writes_on_a_known_schema(sqlite_copy):
    store = SqlStore(sqlite_copy.uri, read_only=True)
    try:
        assert store.read_only and store.warnings == ()
        with pytest.raises(ReadOnlyError):
            store.create_experiment("must not be created")
    finally:
        store.close()


def test_missing_sqlite_file_is_not_created(tmp_path):
    path = tmp_path / "nope.db"
    with pytest.raises(SchemaError, match="does not exist"):
        SqlStore(f"sqlite:///{path}")
    assert not path.exists()


def test_database_without_mlflow_tables_is_refused(tmp_path):
    path = tmp_path / "other.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE people (name TEXT)")
    con.close()
    with pytest.raises(SchemaError, match="not an MLflow"):
        SqlStore(f"sqlite:///{path}")


def test_unreachable_server_names_the_masked_uri():
    # Port 1 on localhost: nothing listens, the connection is refused at once.
    with pytest.raises(Unreachable) as err:
        SqlStore("postgresql+psycopg2://alice:s3cr3t@127.0.0.1:1/mlflow")
    assert "s3cr3t" not in str(err.value)
    assert "alice:***@127.0.0.1:1" in str(err.value)


def test_missing_driver_names_what_to_install():
    pytest.importorskip("sqlalchemy")
    try:
        import pyodbc  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("pyodbc is installed here")
    with pytest.raises(UnsupportedURI, match="pyodbc"):
        SqlStore("mssql+pyodbc://sa:pw@127.0.0.1/mlflow")


# -- an old schema: mlflow 1.x-era tables, stamped with a revision from before
#    experiments.creation_time (97727af70f4d), runs.deleted_time (0c779009ac13) and datasets.

_OLD_REVISION = "bd07f7e963c5"
_OLD_DDL = """
CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY);
CREATE TABLE experiments (experiment_id INTEGER PRIMARY KEY, name VARCHAR(256) NOT NULL UNIQUE,
  artifact_location VARCHAR(256), lifecycle_stage VARCHAR(32));
CREATE TABLE experiment_tags (key VARCHAR(250) NOT NULL, value VARCHAR(5000),
  experiment_id INTEGER NOT NULL, PRIMARY KEY (key, experiment_id));
CREATE TABLE runs (run_uuid VARCHAR(32) PRIMARY KEY, name VARCHAR(250), source_type VARCHAR(20),
  source_name VARCHAR(500), entry_point_name VARCHAR(50), user_id VARCHAR(256), status VARCHAR(9),
  start_time BIGINT, end_time BIGINT, source_version VARCHAR(50), lifecycle_stage VARCHAR(20),
  artifact_uri VARCHAR(200), experiment_id INTEGER);
CREATE TABLE tags (key VARCHAR(250) NOT NULL, value VARCHAR(5000), run_uuid VARCHAR(32) NOT NULL,
  PRIMARY KEY (key, run_uuid));
CREATE TABLE params (key VARCHAR(250) NOT NULL, value VARCHAR(500) NOT NULL,
  run_uuid VARCHAR(32) NOT NULL, PRIMARY KEY (key, run_uuid));
CREATE TABLE metrics (key VARCHAR(250) NOT NULL, value FLOAT NOT NULL, timestamp BIGINT NOT NULL,
  run_uuid VARCHAR(32) NOT NULL, step BIGINT NOT NULL DEFAULT 0, is_nan BOOLEAN NOT NULL DEFAULT 0,
  PRIMARY KEY (key, timestamp, step, run_uuid, value, is_nan));
CREATE TABLE latest_metrics (key VARCHAR(250) NOT NULL, value FLOAT NOT NULL, timestamp BIGINT,
  step BIGINT NOT NULL, is_nan BOOLEAN NOT NULL, run_uuid VARCHAR(32) NOT NULL,
  PRIMARY KEY (key, run_uuid));
"""


@pytest.fixture
def old_store(tmp_path):
    path = tmp_path / "old.db"
    con = sqlite3.connect(path)
    con.executescript(_OLD_DDL)
    con.execute("INSERT INTO alembic_version VALUES (?)", (_OLD_REVISION,))
    con.executemany(
        "INSERT INTO experiments VALUES (?, ?, ?, ?)",
        [(0, "Default", "/a/0", "active"), (1, "old", "/a/1", "active"), (2, "gone", "/a/2", "deleted")],
    )
    con.execute("INSERT INTO experiment_tags VALUES ('team', 'x', 1)")
    runs = [
        # an mlflow <= 1.29 run: empty name column, name only in the tag
        ("a" * 32, "", "LOCAL", "", "", "u", "FINISHED", 100, 200, "", "active", "/a/1/a/artifacts", 1),
        ("b" * 32, "named", "LOCAL", "", "", "u", "FAILED", 300, None, "", "active", "/a/1/b/artifacts", 1),
    ]
    con.executemany("INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", runs)
    con.executemany(
        "INSERT INTO tags VALUES (?, ?, ?)",
        [("mlflow.runName", "from-tag", "a" * 32), ("mlflow.runName", "named", "b" * 32),
         ("mlflow.parentRunId", "a" * 32, "b" * 32)],
    )
    con.executemany("INSERT INTO params VALUES (?, ?, ?)", [("lr", "0.1", "a" * 32), ("lr", "0.2", "b" * 32)])
    points = [("loss", float(10 - s), 1000 + s, "a" * 32, s, 0) for s in range(10)]
    points.append(("loss", 0.0, 2000, "b" * 32, 0, 1))  # NaN as mlflow stores it
    con.executemany("INSERT INTO metrics VALUES (?,?,?,?,?,?)", points)
    con.executemany(
        "INSERT INTO latest_metrics VALUES (?,?,?,?,?,?)",
        [("loss", 1.0, 1009, 9, 0, "a" * 32), ("loss", 0.0, 2000, 0, 1, "b" * 32)],
    )
    con.commit()
    con.close()
    store = SqlStore(f"sqlite:///{path}")
    yield store
    store.close()


def test_old_schema_opens_writable_without_warnings(old_store):
    assert old_store.revision == _OLD_REVISION and _OLD_REVISION in KNOWN_REVISIONS
    assert old_store.read_only_reason is None and old_store.warnings == ()
    assert old_store.tables.datasets is None and old_store.tables.spans is None
    assert not old_store.tables.has_column("runs", "deleted_time")
    assert not old_store.tables.has_column("experiments", "creation_time")


def test_old_schema_experiments_have_no_times(old_store):
    page = old_store.search_experiments(view="all")
    assert {e.name for e in page} == {"Default", "old", "gone"}
    old = old_store.get_experiment("1")
    assert old.creation_time is None and old.last_update_time is None and old.tags == {"team": "x"}
    assert [e.name for e in old_store.search_experiments("creation_time > 0", view="all")] == []
    assert old_store.get_experiment_by_name("gone").lifecycle_stage == "deleted"


def test_old_schema_runs_search_and_read(old_store):
    runs = old_store.search_runs(["1"], order_by=["metrics.loss DESC"])
    assert [r.id for r in runs] == ["a" * 32, "b" * 32]  # NaN sorts after numbers
    first, second = runs.items
    assert first.name == "from-tag"  # empty name column falls back to the tag
    assert second.parent_run_id == "a" * 32 and second.end_time is None
    assert math.isnan(second.metrics["loss"].value)
    assert [r.id for r in old_store.search_runs(["1"], "attributes.run_name = 'from-tag'")] == ["a" * 32]
    assert [r.id for r in old_store.search_runs(["1"], "dataset.name = 'x'")] == []
    assert old_store.list_keys(["1"]) == Keys(("loss",), ("lr",), ("mlflow.parentRunId", "mlflow.runName"))
    assert [r.id for r in old_store.get_child_runs("a" * 32)] == ["b" * 32]
    history = old_store.get_metric_history("a" * 32, "loss", max_points=4)
    assert history[0].step == 0 and history[-1].step == 9 and len(history) <= 4
    with pytest.raises(NotFound):
        old_store.get_run("c" * 32)
