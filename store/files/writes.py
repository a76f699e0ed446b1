"""Writes to an `mlruns` tree, laid out exactly as mlflow's FileStore writes them.

Every value is validated (store.validation) and every precondition checked before the first
byte is written. Files are replaced atomically (temp file in the same folder, then rename), so
a reader — tracktui, mlflow, a training process — sees the old or the new file, never half of
one. New experiments and runs are built under a hidden temp name and renamed into place.
Metric points are appended, one `write` per key, as mlflow appends them.

One lock serialises this process's writes; other processes writing the same tree get the
same guarantees mlflow gives (none across files).
"""

from __future__ import annotations

import os
import random
import shutil
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from .. import validation as v
from ..atomic import write_atomic
from ..base import not_found_experiment
from ..errors import InvalidValue, NotFound, UnsafePath
from ..model import RUN_NAME_TAG, RUN_STATUSES, MetricPoint, Run
from ..new_run import prepare_new_run
from .layout import (
    ARTIFACTS,
    META,
    METRICS,
    PARAMS,
    TAGS,
    TEMP_PREFIX,
    key_path,
    read_value,
)
from .meta import CODE_BY_STATUS, MetaError, dump_meta, read_meta

if TYPE_CHECKING:
    from .host import FileHost
else:
    FileHost = object  # the host is a type-checking contract only (see host.py)

DEFAULT_EXPERIMENT_ID = "0"
#: mlflow's SourceType.LOCAL, which its FileStore writes into every run meta.yaml.
SOURCE_TYPE_LOCAL = 4

_write_lock = threading.Lock()


class FileWrites(FileHost):
    """Mixin of FileStore's write operations (the reading helpers it uses: host.FileHost)."""

    can_purge = True
    #: Artifact locations the last purge could not delete (remote stores): their runs were
    #: purged, the artifacts are left to their store's own tools.
    last_purge_artifacts_left: tuple[str, ...] = ()
    #: Runs the last purge left alone because their local artifact path looked unsafe.
    last_purge_skipped: tuple[str, ...] = ()

    # -- experiments -------------------------------------------------------------------------

    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: Mapping[str, str] | None = None
    ) -> str:
        self._check_writable()
        v.validate_experiment_name(name)
        if artifact_location is not None:
            v.validate_artifact_location(artifact_location)
            if urlsplit(artifact_location).scheme == "" and not os.path.isabs(artifact_location):
                artifact_location = os.path.abspath(artifact_location)
        tags = dict(tags or {})
        for key, value in tags.items():
            v.validate_experiment_tag(key, value)
        with _write_lock:
            self._ensure_root()
            self._refuse_taken_name(name)
            experiment_id = self._new_experiment_id()
            self._write_new_experiment(experiment_id, name, artifact_location, tags)
        return experiment_id

    def delete_experiment(self, experiment_id: str) -> list[str]:
        self._check_writable()
        experiment_id = _experiment_id(experiment_id)
        if experiment_id == DEFAULT_EXPERIMENT_ID:
            raise InvalidValue("The default experiment '0' cannot be deleted (mlflow reserves it)")
        with _write_lock:
            path = self._writable_experiment(experiment_id, "delete")
            now = _now_ms()
            # As mlflow: active runs get deleted with this time, then the meta, then the move.
            deleted = []
            for ref in self._list_runs([experiment_id], "active"):
                self._edit_run_meta(ref.path, {"lifecycle_stage": "deleted", "deleted_time": now})
                deleted.append(ref.run.id)
            self._edit_meta(os.path.join(path, META), {"lifecycle_stage": "deleted", "last_update_time": now})
            os.makedirs(self.trash, exist_ok=True)
            target = os.path.join(self.trash, experiment_id)
            if os.path.exists(target):
                raise InvalidValue(
                    f"Cannot delete experiment '{experiment_id}': {target} already exists in the trash"
                )
            os.rename(path, target)
            return deleted

    def restore_experiment(self, experiment_id: str, run_ids: Sequence[str] | None = None) -> None:
        self._check_writable()
        experiment_id = _experiment_id(experiment_id)
        with _write_lock:
            trashed = os.path.join(self.trash, experiment_id)
            active = os.path.join(self.root, experiment_id)
            if not os.path.isdir(trashed):
                if os.path.isdir(active):
                    raise InvalidValue(f"Experiment '{experiment_id}' is not deleted; there is nothing to restore")
                raise not_found_experiment(experiment_id)
            if os.path.exists(active):
                raise InvalidValue(
                    f"Cannot restore experiment '{experiment_id}': {active} already exists"
                )
            os.rename(trashed, active)
            self._edit_meta(os.path.join(active, META), {"lifecycle_stage": "active", "last_update_time": _now_ms()})
            # As mlflow: every run comes back, even those deleted on their own before; an undo
            # (`run_ids`) brings back only the runs the delete took.
            only = None if run_ids is None else set(map(str, run_ids))
            for ref in self._list_runs([experiment_id], "deleted"):
                if only is not None and ref.run.id not in only:
                    continue
                self._edit_run_meta(ref.path, {"lifecycle_stage": "active", "deleted_time": None})

    def rename_experiment(self, experiment_id: str, name: str) -> None:
        self._check_writable()
        experiment_id = _experiment_id(experiment_id)
        v.validate_experiment_name(name)
        with _write_lock:
            path = self._writable_experiment(experiment_id, "rename")
            self._refuse_taken_name(name, except_id=experiment_id)
            self._edit_meta(os.path.join(path, META), {"name": name, "last_update_time": _now_ms()})

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        self._check_writable()
        experiment_id = _experiment_id(experiment_id)
        v.validate_experiment_tag(key, value)
        with _write_lock:
            path = self._writable_experiment(experiment_id, "tag")
            write_value(os.path.join(path, TAGS), key, value)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self._check_writable()
        experiment_id = _experiment_id(experiment_id)
        with _write_lock:
            path = self._writable_experiment(experiment_id, "change the tags of")
            _remove_value(os.path.join(path, TAGS), key, f"Experiment '{experiment_id}' has no tag {key!r}")

    def set_experiment_times(
        self, experiment_id: str, *, creation_time: int | None = None, last_update_time: int | None = None
    ) -> None:
        self._check_writable()
        experiment_id = _experiment_id(experiment_id)
        changes = {}
        for key, value in (("creation_time", creation_time), ("last_update_time", last_update_time)):
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidValue(f"{key} must be a non-negative integer (epoch ms), got {value!r}")
            changes[key] = value
        with _write_lock:
            path = self._writable_experiment(experiment_id, "change the times of")
            if changes:
                self._edit_meta(os.path.join(path, META), changes)

    # -- runs --------------------------------------------------------------------------------

    def create_run(
        self,
        experiment_id: str,
        *,
        name: str | None = None,
        start_time: int | None = None,
        user_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        parent_run_id: str | None = None,
        run_id: str | None = None,
    ) -> Run:
        self._check_writable()
        experiment_id = _experiment_id(experiment_id)
        new = prepare_new_run(name, start_time, user_id, tags, parent_run_id)
        name, start_time, user_id, tags = new.name, new.start_time, new.user_id, new.tags
        run_id = v.validate_run_id(run_id) if run_id is not None else uuid.uuid4().hex
        with _write_lock:
            experiment = self.get_experiment(experiment_id)
            if experiment.lifecycle_stage != "active":
                raise InvalidValue(f"Experiment '{experiment_id}' is deleted; restore it before adding runs")
            if self._run_exists(run_id):
                raise InvalidValue(f"A run with id '{run_id}' already exists")
            experiment_path = self._experiment_path(experiment_id)
            if experiment_path is None:  # deleted from disk since get_experiment
                raise not_found_experiment(experiment_id)
            location = experiment.artifact_location or Path(experiment_path).as_uri()  # 1.x metas may lack it
            artifact_uri = _append_path(location, f"{run_id}/{ARTIFACTS}")
            meta: dict[str, object] = {
                "artifact_uri": artifact_uri,
                "deleted_time": None,
                "end_time": None,
                "entry_point_name": "",
                "experiment_id": experiment_id,
                "lifecycle_stage": "active",
                "run_id": run_id,
                "run_name": name,
                "source_name": "",
                "source_type": SOURCE_TYPE_LOCAL,
                "source_version": "",
                "start_time": start_time,
                "status": CODE_BY_STATUS["RUNNING"],
                "tags": [],
                "user_id": user_id,
            }
            staging = os.path.join(experiment_path, f"{TEMP_PREFIX}{run_id}")
            try:
                for sub in (METRICS, PARAMS, ARTIFACTS, TAGS):
                    os.makedirs(os.path.join(staging, sub))
                for key, value in tags.items():
                    write_value(os.path.join(staging, TAGS), key, value)
                write_atomic(os.path.join(staging, META), dump_meta(meta))
                os.rename(staging, os.path.join(experiment_path, run_id))
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
        return self.get_run(run_id)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[tuple[str, MetricPoint]] = (),
        params: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        self._check_writable()
        v.validate_run_id(run_id)
        params, tags = v.validate_batch(metrics, params, tags)
        lines: dict[str, list[str]] = {}
        for key, point in metrics:
            # mlflow writes f"{value}" of a float: 0.5, nan, inf, 1e-05
            lines.setdefault(key, []).append(f"{int(point.timestamp)} {float(point.value)} {int(point.step)}\n")
        with _write_lock:
            ref = self._active_run(run_id, "log to")
            params_dir = os.path.join(ref.path, PARAMS)
            changed = []
            for key, value in params.items():
                current = _existing_value(params_dir, key)
                if current is not None and current != value:
                    changed.append(f"{key!r} is {current!r}, not {value!r}")
            if changed:
                raise InvalidValue(f"Params cannot be changed once logged (run '{run_id}'): {'; '.join(changed)}")
            for key, value in params.items():
                write_value(params_dir, key, value)
            for key, key_lines in lines.items():
                _append(os.path.join(ref.path, METRICS), key, "".join(key_lines))
            self._write_run_tags(ref, tags)

    def update_run(self, run_id: str, *, status: str | None = None, end_time: int | None = None) -> None:
        self._check_writable()
        v.validate_run_id(run_id)
        if status is not None and status not in RUN_STATUSES:
            raise InvalidValue(f"Unknown run status {status!r}; expected one of {', '.join(RUN_STATUSES)}")
        if end_time is not None and (isinstance(end_time, bool) or not isinstance(end_time, int) or end_time < 0):
            raise InvalidValue(f"end_time must be a non-negative integer (epoch ms), got {end_time!r}")
        changes: dict = {}
        if status is not None:
            changes["status"] = CODE_BY_STATUS[status]
        if end_time is not None:
            changes["end_time"] = end_time
        with _write_lock:
            ref = self._active_run(run_id, "update")
            if changes:
                self._edit_run_meta(ref.path, changes)

    def delete_runs(self, run_ids: Sequence[str]) -> None:
        self._check_writable()
        run_ids = list(dict.fromkeys(v.validate_run_ids(run_ids)))
        with _write_lock:
            refs = [self._find_run(run_id) for run_id in run_ids]
            now = _now_ms()
            for ref in refs:
                self._edit_run_meta(ref.path, {"lifecycle_stage": "deleted", "deleted_time": now})

    def restore_runs(self, run_ids: Sequence[str]) -> None:
        self._check_writable()
        run_ids = list(dict.fromkeys(v.validate_run_ids(run_ids)))
        with _write_lock:
            refs = [self._find_run(run_id) for run_id in run_ids]
            for ref in refs:
                self._edit_run_meta(ref.path, {"lifecycle_stage": "active", "deleted_time": None})

    def set_tags(self, run_ids: Sequence[str], tags: Mapping[str, str]) -> None:
        self._check_writable()
        run_ids = list(dict.fromkeys(v.validate_run_ids(run_ids)))
        tags = dict(tags)
        v.validate_run_tags(tags)
        if RUN_NAME_TAG in tags:
            v.validate_run_name(tags[RUN_NAME_TAG])
        with _write_lock:
            refs = [self._active_run(run_id, "tag") for run_id in run_ids]
            for ref in refs:
                self._write_run_tags(ref, tags)

    def delete_tag(self, run_id: str, key: str) -> None:
        self._check_writable()
        v.validate_run_id(run_id)
        with _write_lock:
            ref = self._active_run(run_id, "change the tags of")
            _remove_value(os.path.join(ref.path, TAGS), key, f"Run '{run_id}' has no tag {key!r}")

    def rename_run(self, run_id: str, name: str) -> None:
        self._check_writable()
        v.validate_run_id(run_id)
        v.validate_run_name(name)
        with _write_lock:
            ref = self._active_run(run_id, "rename")
            self._write_run_tags(ref, {RUN_NAME_TAG: name})

    # -- purge -------------------------------------------------------------------------------

    def purge_deleted_runs(self, older_than_ms: int | None = None, *, dry_run: bool = False) -> list[str]:
        """Permanently remove deleted runs, as `mlflow gc` does on a file store.

        With `older_than_ms`, only runs deleted at least that long ago; as in mlflow's file
        store, a deleted run whose meta.yaml has no deletion time counts as old enough. A run's
        folder is removed whole (its artifacts too, when they live inside it); artifacts stored
        elsewhere on this machine are removed when their path is `<...>/<run id>/artifacts`,
        otherwise the run is left alone and listed in `last_purge_skipped`. Remote artifact
        locations are listed in `last_purge_artifacts_left`. Returns the ids removed."""
        self._check_writable()
        v.validate_older_than(older_than_ms)
        removed: list[str] = []
        left: list[str] = []
        skipped: list[str] = []
        with _write_lock:
            now = _now_ms()
            experiment_ids = [eid for eid, _ in self._experiment_dirs("all")]
            for ref in self._list_runs(experiment_ids, "deleted"):
                run_id = ref.run.id
                if older_than_ms is not None:
                    try:
                        deleted_at = read_meta(os.path.join(ref.path, META)).get("deleted_time")
                    except MetaError:
                        continue
                    if isinstance(deleted_at, int) and now - deleted_at < older_than_ms:
                        continue
                try:
                    outside = _outside_artifact_folder(run_id, ref.run.artifact_uri, ref.path)
                except UnsafePath as exc:
                    skipped.append(f"{run_id}: {exc.message}")
                    continue
                if dry_run:
                    removed.append(run_id)
                    continue
                if outside == "remote":
                    left.append(ref.run.artifact_uri or "")
                elif outside is not None:
                    _remove_folder(outside)
                    try:
                        outside.parent.rmdir()  # the `<run id>` folder, when nothing else is in it
                    except OSError:
                        pass
                _remove_folder(Path(ref.path))
                self._latest.forget(ref.path)
                removed.append(run_id)
        if dry_run:
            return removed
        self.last_purge_artifacts_left = tuple(left)
        self.last_purge_skipped = tuple(skipped)
        return removed

    # -- helpers -----------------------------------------------------------------------------

    def _ensure_root(self) -> None:
        """Create the store as mlflow does on first use: root, `.trash` and experiment 0."""
        os.makedirs(self.trash, exist_ok=True)
        if not os.path.isdir(os.path.join(self.root, DEFAULT_EXPERIMENT_ID)):
            self._write_new_experiment(DEFAULT_EXPERIMENT_ID, "Default", None, {})
        self._resolved(self.root)  # the "does not exist yet" warning

    def _write_new_experiment(
        self, experiment_id: str, name: str, artifact_location: str | None, tags: Mapping[str, str]
    ) -> None:
        now = _now_ms()
        location = artifact_location or f"{Path(self.root).as_uri()}/{experiment_id}"
        meta = {
            "artifact_location": location,
            "creation_time": now,
            "effective_trace_archival_retention": None,
            "experiment_id": experiment_id,
            "last_update_time": now,
            "lifecycle_stage": "active",
            "name": name,
            "trace_location": None,
            "workspace": "default",
        }
        staging = os.path.join(self.root, f"{TEMP_PREFIX}{experiment_id}")
        try:
            os.makedirs(staging)
            for key, value in tags.items():
                write_value(os.path.join(staging, TAGS), key, value)
            write_atomic(os.path.join(staging, META), dump_meta(meta))
            os.rename(staging, os.path.join(self.root, experiment_id))
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    def _new_experiment_id(self) -> str:
        """A random 18-digit id, as mlflow's file store makes them, unused here or in the trash."""
        while True:
            candidate = str(random.randrange(10**17, 10**18))
            if not any(os.path.exists(os.path.join(p, candidate)) for p in (self.root, self.trash)):
                return candidate

    def _refuse_taken_name(self, name: str, except_id: str | None = None) -> None:
        for exp in self._list_experiments("all"):
            if exp.name == name and exp.id != except_id:
                hint = " (deleted: restore it or choose another name)" if exp.lifecycle_stage == "deleted" else ""
                raise InvalidValue(f"An experiment named {name!r} already exists, id {exp.id}{hint}")

    def _writable_experiment(self, experiment_id: str, action: str) -> str:
        """The folder of an active experiment; InvalidValue if it is deleted, else NotFound."""
        active = os.path.join(self.root, experiment_id)
        if os.path.isdir(active):
            return active
        if os.path.isdir(os.path.join(self.trash, experiment_id)):
            if action == "delete":
                raise InvalidValue(f"Experiment '{experiment_id}' is already deleted")
            raise InvalidValue(f"Experiment '{experiment_id}' is deleted; restore it before you {action} it")
        raise not_found_experiment(experiment_id)

    def _run_exists(self, run_id: str) -> bool:
        return any(os.path.isdir(os.path.join(p, run_id)) for _, p in self._experiment_dirs("all"))

    def _active_run(self, run_id: str, action: str):
        ref = self._find_run(run_id)
        if ref.run.lifecycle_stage != "active":
            raise InvalidValue(f"Run '{run_id}' is deleted; restore it before you {action} it")
        return ref

    def _write_run_tags(self, ref, tags: Mapping[str, str]) -> None:
        tags_dir = os.path.join(ref.path, TAGS)
        for key, value in tags.items():
            if key == RUN_NAME_TAG:  # the name lives in meta.yaml too, as mlflow keeps it
                self._edit_run_meta(ref.path, {"run_name": value})
            write_value(tags_dir, key, value)

    def _edit_run_meta(self, run_path: str, changes: Mapping) -> None:
        self._edit_meta(os.path.join(run_path, META), changes)

    def _edit_meta(self, path: str, changes: Mapping) -> None:
        """Change some fields of a meta.yaml, keeping every other field as it is.

        A None value removes the field, as mlflow's rewrite drops `deleted_time` on restore."""
        try:
            meta = read_meta(path)
        except MetaError as exc:
            raise InvalidValue(f"Cannot change {path}: {exc}") from None
        for key, value in changes.items():
            if value is None:
                meta.pop(key, None)
            else:
                meta[key] = value
        write_atomic(path, dump_meta(meta))


# -- module helpers --------------------------------------------------------------------------


def _experiment_id(experiment_id) -> str:
    return v.validate_experiment_id(str(experiment_id))


def _now_ms() -> int:
    return int(time.time() * 1000)



def _append_path(root: str, tail: str) -> str:
    """`root/tail` as mlflow's append_to_uri_path joins (keeping `scheme:/` roots intact)."""
    if not root:
        return tail
    return f"{root}{tail}" if root.endswith(":/") else f"{root.rstrip('/')}/{tail}"


def _target(base: str, key: str) -> str:
    path = key_path(base, key)
    if path is None:  # validation refuses such keys first; this guards the file system
        raise InvalidValue(f"Key {key!r} cannot be used as a file name")
    return path


def write_value(base: str, key: str, value: str) -> None:
    """One param/tag value as its own file under `base`, replaced atomically (also used for traces)."""
    path = _target(base, key)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_atomic(path, value.encode("utf-8"))


def _existing_value(base: str, key: str) -> str | None:
    try:
        return read_value(_target(base, key))
    except (FileNotFoundError, NotADirectoryError):
        return None


def _remove_value(base: str, key: str, missing: str) -> None:
    path = key_path(base, key)
    if path is None or not os.path.isfile(path):
        raise NotFound(missing)
    os.unlink(path)


def _append(base: str, key: str, text: str) -> None:
    path = _target(base, key)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    data = text.encode("ascii")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def _outside_artifact_folder(run_id: str, artifact_uri: str | None, run_path: str):
    """Where the run's artifacts live when not inside its folder: a Path to remove, "remote",
    or None (inside the run folder, or no artifacts). Raises UnsafePath for a local location
    that is not `<...>/<run id>/artifacts`."""
    if not artifact_uri:
        return None
    parts = urlsplit(artifact_uri)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            return "remote"
        path = unquote(parts.path)
    elif parts.scheme == "" or len(parts.scheme) == 1:  # plain path (or a Windows drive)
        path = artifact_uri
    else:
        return "remote"
    if not os.path.isabs(path):
        raise UnsafePath(f"artifact location {artifact_uri!r} is a relative path")
    folder = Path(os.path.normpath(path))
    if folder.parent == Path(os.path.normpath(run_path)):
        return None
    if folder.name != ARTIFACTS or folder.parent.name != run_id:
        raise UnsafePath(f"artifact location {artifact_uri!r} is not '<...>/{run_id}/artifacts'")
    if folder.is_symlink() or folder.parent.is_symlink():
        raise UnsafePath(f"artifact location {artifact_uri!r} is a symbolic link")
    return folder


def _remove_folder(folder: Path) -> None:
    """Move the folder out of sight first (one rename), then delete it: readers never see a
    half-deleted run."""
    if not folder.exists():
        return
    hidden = folder.with_name(f"{TEMP_PREFIX}gone-{uuid.uuid4().hex[:8]}-{folder.name}")
    os.rename(folder, hidden)
    shutil.rmtree(hidden, ignore_errors=True)
