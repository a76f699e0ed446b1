"""Purging deleted runs for good, as `mlflow gc` does, and their local artifacts.

Only runs in `deleted` state are ever touched. Artifacts go first (as in gc), then every row of
the run in one transaction per chunk, re-checking that each run is still deleted; unlike gc,
the run's dataset/model input rows go too, so nothing is left behind.
"""

from __future__ import annotations

import functools
import os
import shutil
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

from sqlalchemy import and_, delete, select
from sqlalchemy.engine import Connection

from .. import validation as v
from ..batching import chunked
from ..errors import InvalidValue, UnsafePath
from .transactions import CHUNK, SqlTransactions


class SqlPurge(SqlTransactions):
    """Mixin: `purge_deleted_runs` on MLflow's tables."""

    can_purge = True
    #: Artifact locations `purge_deleted_runs` could not delete on its last call
    #: (remote stores), and runs it left alone because their artifact path looked unsafe.
    last_purge_artifacts_left: tuple[str, ...] = ()
    last_purge_skipped: tuple[str, ...] = ()

    def purge_deleted_runs(self, older_than_ms: int | None = None, *, dry_run: bool = False) -> list[str]:
        """Permanently remove deleted runs, as `mlflow gc` does, and their local artifacts.

        With `older_than_ms`, only runs whose `deleted_time` is at least that old (runs without
        a `deleted_time` are never old enough, as in mlflow); without it, every deleted run.
        Local artifact folders (`<...>/<run id>/artifacts`) are removed first; a run whose
        artifact location is local but not such a folder, or whose folder cannot be deleted, is
        left alone and listed in `last_purge_skipped`. Remote artifact locations are listed in
        `last_purge_artifacts_left` (their runs are purged). Returns the ids removed.
        """
        self._check_writable()
        v.validate_older_than(older_than_ms)
        runs = self.tables.runs
        query = select(runs.c.run_uuid, runs.c.artifact_uri).where(runs.c.lifecycle_stage == "deleted")
        if older_than_ms is not None:
            if "deleted_time" not in runs.c:
                raise InvalidValue("This store's schema has no deletion times, so 'older than' cannot be applied")
            query = query.where(runs.c.deleted_time <= int(time.time() * 1000) - older_than_ms)
        candidates = self._read(lambda conn: conn.execute(query).all())

        purgeable: list[str] = []
        left: list[str] = []
        skipped: list[str] = []
        for run_id, artifact_uri in candidates:
            try:
                folder = _local_artifact_folder(run_id, artifact_uri)
            except UnsafePath as exc:
                skipped.append(f"{run_id}: {exc.message}")
                continue
            if folder is None:
                if artifact_uri:
                    left.append(artifact_uri)
            elif not dry_run:
                try:
                    _remove_artifact_folder(folder)
                except OSError as exc:  # permissions, a busy file: keep the run, say why
                    skipped.append(f"{run_id}: cannot delete {folder}: {exc.strerror or exc}")
                    continue
            purgeable.append(run_id)

        if dry_run:
            return purgeable
        removed: list[str] = []
        for chunk in chunked(purgeable, CHUNK):
            removed.extend(self._transaction(functools.partial(self._hard_delete_runs, run_ids=chunk)))
        self.last_purge_artifacts_left = tuple(left)
        self.last_purge_skipped = tuple(skipped)
        return removed

    def _hard_delete_runs(self, conn: Connection, run_ids: list[str]) -> list[str]:
        """Delete the runs still in `deleted` state (one may have been restored meanwhile) and
        every row that belongs to them."""
        t = self.tables
        runs = t.runs
        still_deleted = (
            conn.execute(
                select(runs.c.run_uuid).where(runs.c.run_uuid.in_(run_ids), runs.c.lifecycle_stage == "deleted")
            )
            .scalars()
            .all()
        )
        if not still_deleted:
            return []
        for table in (t.metrics, t.latest_metrics, t.params, t.tags):
            conn.execute(delete(table).where(table.c.run_uuid.in_(still_deleted)))
        # mlflow gc leaves these behind; a purged run should leave nothing.
        inputs = getattr(t, "inputs", None)
        if inputs is not None:
            dataset_inputs = and_(inputs.c.destination_type == "RUN", inputs.c.destination_id.in_(still_deleted))
            input_tags = getattr(t, "input_tags", None)
            if input_tags is not None:
                conn.execute(
                    delete(input_tags).where(input_tags.c.input_uuid.in_(select(inputs.c.input_uuid).where(dataset_inputs)))
                )
            conn.execute(delete(inputs).where(dataset_inputs))
            conn.execute(
                delete(inputs).where(
                    inputs.c.source_type.in_(("RUN_INPUT", "RUN_OUTPUT")), inputs.c.source_id.in_(still_deleted)
                )
            )
        model_metrics = getattr(t, "logged_model_metrics", None)
        if model_metrics is not None:
            conn.execute(delete(model_metrics).where(model_metrics.c.run_id.in_(still_deleted)))
        conn.execute(delete(runs).where(runs.c.run_uuid.in_(still_deleted)))
        return list(still_deleted)


def _local_artifact_folder(run_id: str, artifact_uri: str | None) -> Path | None:
    """The run's local artifact folder, or None when its artifacts are not on this machine.

    Raises UnsafePath when a local location is not `<...>/<run id>/artifacts` as mlflow makes
    it: deleting something else could remove data that is not the run's.
    """
    if not artifact_uri:
        return None
    parts = urlsplit(artifact_uri)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            return None
        path = unquote(parts.path)
    elif parts.scheme == "":
        path = artifact_uri
    else:
        return None
    if not os.path.isabs(path):
        raise UnsafePath(f"artifact location {artifact_uri!r} is a relative path")
    folder = Path(os.path.normpath(path))
    if folder.name != "artifacts" or folder.parent.name != run_id:
        raise UnsafePath(f"artifact location {artifact_uri!r} is not '<...>/{run_id}/artifacts'")
    if folder.is_symlink() or folder.parent.is_symlink():
        raise UnsafePath(f"artifact location {artifact_uri!r} is a symbolic link")
    return folder


def _remove_artifact_folder(folder: Path) -> None:
    if folder.is_dir():
        shutil.rmtree(folder)
    elif folder.exists():
        folder.unlink()
    try:
        folder.parent.rmdir()  # the `<run id>` folder, when nothing else is in it
    except OSError:
        pass
