"""Creating a new, empty SQLite MLflow store that real mlflow opens as its own.

mlflow refuses a database whose alembic revision is not its head, and a partial schema stamped
with a head breaks it later. So a new store gets the complete schema of one known head, dumped
from a database mlflow itself created (store/sql/ddl/*.sql), stamped with exactly that head.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from importlib import resources
from pathlib import Path

from ..atomic import new_file_mode
from ..errors import InvalidValue, StoreError

#: The alembic head of mlflow 3.17.2; the schema files are named after it.
SQLITE_SCHEMA_REVISION = "dc11669786a5"


def initialize_sqlite_store(path: str | os.PathLike, artifact_root: str | None = None) -> str:
    """Create a new SQLite tracking store at `path` and return its `sqlite:///` URI.

    `artifact_root` is where experiments' artifacts go (`<root>/<experiment id>`); by default
    `mlruns` next to the database file — what mlflow does when run from that directory. The
    file is built under a temporary name and moved into place at the end, so a failure leaves
    nothing behind. Raises InvalidValue if `path` already holds anything.
    """
    db_path = Path(path).expanduser().resolve()
    if db_path.exists() and db_path.stat().st_size > 0:
        raise InvalidValue(f"Refusing to create a store at {db_path}: the file already exists")
    db_path.parent.mkdir(parents=True, exist_ok=True)
    root = artifact_root if artifact_root is not None else str(db_path.parent / "mlruns")
    root = root.rstrip("/") or "/"

    fd, tmp_name = tempfile.mkstemp(prefix=f".{db_path.name}.", suffix=".tmp", dir=db_path.parent)
    os.close(fd)
    try:
        os.chmod(tmp_name, new_file_mode())  # mkstemp makes it private; a store is not
        _build(Path(tmp_name), root)
        if db_path.exists() and db_path.stat().st_size > 0:  # someone created it meanwhile
            raise InvalidValue(f"Refusing to create a store at {db_path}: the file already exists")
        os.replace(tmp_name, db_path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return f"sqlite:///{db_path}"


def schema_sql(revision: str = SQLITE_SCHEMA_REVISION) -> tuple[str, str]:
    """The DDL and the seed rows of a revision's SQLite schema."""
    folder = resources.files("tracktui.store.sql") / "ddl"
    try:
        ddl = (folder / f"sqlite_{revision}.sql").read_text(encoding="utf-8")
        rows = (folder / f"sqlite_{revision}_rows.sql").read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise StoreError(f"No SQLite schema is bundled for revision {revision}") from exc
    return ddl, rows


def _build(db_file: Path, artifact_root: str) -> None:
    ddl, rows = schema_sql()
    now = int(time.time() * 1000)
    conn = sqlite3.connect(db_file, isolation_level=None)
    try:
        conn.execute("BEGIN")
        for statement in _statements(ddl + "\n" + rows):
            conn.execute(statement)
        conn.execute(
            "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage,"
            " creation_time, last_update_time, workspace) VALUES (0, 'Default', ?, 'active', ?, ?,"
            " 'default')",
            (f"{artifact_root}/0", now, now),
        )
        conn.execute("COMMIT")
    finally:
        conn.close()


def _statements(script: str):
    """Split a schema dump into statements (a trigger body holds `;` inside BEGIN…END)."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        if not buffer and (line.startswith("--") or not line.strip()):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer
            buffer = ""
    if buffer.strip():
        raise StoreError("The bundled schema ends with an incomplete statement")
