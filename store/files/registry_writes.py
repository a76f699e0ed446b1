"""Model-registry writes in an `mlruns` folder (docs/formats.md §8.4): a mixin for FileStore.

The registry lives in `mlruns/models/<name>/`: `meta.yaml`, `tags/<key>`, `aliases/<alias>`
(holding the version number) and `version-<n>/meta.yaml` with `version-<n>/tags/<key>`.
Each write does what MLflow's FileStore does, times included: tag and alias changes bump the
model's `last_updated_timestamp` (MLflow's SQL store does not); a version's description edit
bumps the version; deleting a version marks it `Deleted_Internal` (nothing redacted) and
drops its aliases; deleting a model removes its folder.

One deliberate difference: MLflow's FileStore renames by copying the model's meta.yaml and
re-setting each version's tags, which fails on any tagged version (3.17) and drops the model's
tags and aliases. We move the folder whole and rewrite the names, so everything travels.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .. import registry_validation as rv
from ..atomic import write_atomic
from ..errors import InvalidValue, NotFound
from ..registry import ModelVersion, RegisteredModel, RegistryImport
from .layout import META, key_path
from .meta import MetaError, dump_meta, read_meta
from .writes import write_value

if TYPE_CHECKING:
    from .host import FileHost
else:
    FileHost = object  # the host is a type-checking contract only (see host.py)

MODELS = "models"
TAGS = "tags"
ALIASES = "aliases"


class FileRegistryWrites(FileHost):
    """Mixin for FileStore (what it uses of the store: host.FileHost)."""

    def set_registered_model_alias(self, name: str, alias: str, version: str | int) -> None:
        self._check_writable()
        folder = self._writable_model_folder(name)
        rv.validate_alias(alias)
        number = rv.validate_version(version)
        self._live_version_meta(name, number)
        write_value(os.path.join(folder, ALIASES), alias, str(number))
        self._touch_model(folder)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self._check_writable()
        folder = self._writable_model_folder(name)
        if not alias:
            raise InvalidValue("Registered model alias name cannot be empty.")
        if _remove(os.path.join(folder, ALIASES), alias):
            self._touch_model(folder)

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        self._check_writable()
        rv.validate_tag(key, value)
        folder = self._writable_model_folder(name)
        write_value(os.path.join(folder, TAGS), key, value)
        self._touch_model(folder)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self._check_writable()
        folder = self._writable_model_folder(name)
        if _remove(os.path.join(folder, TAGS), key):
            self._touch_model(folder)

    def set_model_version_tag(self, name: str, version: str | int, key: str, value: str) -> None:
        self._check_writable()
        rv.validate_tag(key, value)
        path, _meta = self._live_version_meta(name, rv.validate_version(version))
        write_value(os.path.join(os.path.dirname(path), TAGS), key, value)
        self._touch_model(self._writable_model_folder(name))

    def delete_model_version_tag(self, name: str, version: str | int, key: str) -> None:
        self._check_writable()
        path, _meta = self._live_version_meta(name, rv.validate_version(version))
        if _remove(os.path.join(os.path.dirname(path), TAGS), key):
            self._touch_model(self._writable_model_folder(name))

    def update_registered_model(self, name: str, description: str) -> None:
        self._check_writable()
        folder = self._writable_model_folder(name)
        self._write_model_meta(folder, {"description": description, "last_updated_timestamp": _now_ms()})

    def update_model_version(self, name: str, version: str | int, description: str) -> None:
        self._check_writable()
        path, meta = self._live_version_meta(name, rv.validate_version(version))
        _write_meta(path, {**meta, "description": description, "last_updated_timestamp": _now_ms()})

    def rename_registered_model(self, name: str, new_name: str) -> None:
        self._check_writable()
        folder = self._writable_model_folder(name)
        rv.validate_model_name(new_name, "new_name")
        _refuse_percent(new_name)
        target = os.path.join(self.root, MODELS, new_name)
        if os.path.lexists(target):
            raise InvalidValue(f"Registered Model (name={new_name}) already exists.")
        os.rename(folder, target)
        now = _now_ms()
        for path, meta in _version_metas(target):
            _write_meta(path, {**meta, "name": new_name, "last_updated_timestamp": now})
        self._write_model_meta(target, {"name": new_name, "last_updated_timestamp": now})

    def transition_model_version_stage(
        self, name: str, version: str | int, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        self._check_writable()
        canonical = rv.canonical_stage(stage, archive_existing_versions)
        number = rv.validate_version(version)
        folder = self._writable_model_folder(name)
        path, meta = self._live_version_meta(name, number)
        now = _now_ms()
        if archive_existing_versions:
            for other, other_meta in _version_metas(folder):
                if other != path and other_meta.get("current_stage") == canonical:
                    _write_meta(other, {**other_meta, "current_stage": "Archived", "last_updated_timestamp": now})
        meta = {**meta, "current_stage": canonical, "last_updated_timestamp": now}
        _write_meta(path, meta)
        self._touch_model(folder, now)
        return self.get_model_version(name, number)

    def delete_model_version(self, name: str, version: str | int) -> None:
        self._check_writable()
        number = rv.validate_version(version)
        folder = self._writable_model_folder(name)
        path, meta = self._live_version_meta(name, number)
        now = _now_ms()
        _write_meta(path, {**meta, "current_stage": rv.STAGE_DELETED_INTERNAL, "last_updated_timestamp": now})
        for alias, target in self._aliases(folder).items():
            if target == str(number):
                _remove(os.path.join(folder, ALIASES), alias)
        self._touch_model(folder, now)

    def delete_registered_model(self, name: str) -> None:
        self._check_writable()
        shutil.rmtree(self._writable_model_folder(name))

    # -- import (store.transfer) ----------------------------------------------------------------

    def import_registered_model(
        self, model: RegisteredModel, versions: Sequence[ModelVersion]
    ) -> RegistryImport:
        self._check_writable()
        rv.validate_model_name(model.name)
        _refuse_percent(model.name)
        rv.validate_import(model, versions)
        folder = os.path.join(self.root, MODELS, model.name)
        created = not os.path.isfile(os.path.join(folder, META))  # meta.yaml is written last
        if created:
            os.makedirs(folder, exist_ok=True)
            for key, value in model.tags.items():
                write_value(os.path.join(folder, TAGS), key, value)
            _write_meta(os.path.join(folder, META), {
                "aliases": {}, "creation_timestamp": model.creation_timestamp, "deployment_job_id": None,
                "deployment_job_state": None, "description": model.description,
                "last_updated_timestamp": model.last_updated_timestamp, "name": model.name, "workspace": "default",
            })
        numbers: dict[str, str] = {}
        notes = []
        deleted = {str(m.get("version")) for _p, m in _version_metas(folder)
                   if m.get("current_stage") == rv.STAGE_DELETED_INTERNAL}
        for v in sorted(versions, key=lambda mv: int(mv.version)):
            vfolder = os.path.join(folder, f"version-{int(v.version)}")
            if str(int(v.version)) in deleted:
                notes.append(f"{model.name} version {v.version}: deleted here, so not copied")
            if os.path.isfile(os.path.join(vfolder, META)):
                continue
            os.makedirs(vfolder, exist_ok=True)
            for key, value in v.tags.items():
                write_value(os.path.join(vfolder, TAGS), key, value)
            _write_meta(os.path.join(vfolder, META), _version_meta(model.name, v))
            numbers[v.version] = v.version
        live = {str(m.get("version")) for _p, m in _version_metas(folder)
                if m.get("current_stage") != rv.STAGE_DELETED_INTERNAL}
        have = self._aliases(folder)
        for alias, target in model.aliases.items():
            if alias in have:
                continue
            if str(target) not in live:
                notes.append(f"alias {alias} of {model.name}: version {target} is not here")
                continue
            write_value(os.path.join(folder, ALIASES), alias, str(target))
        if created:
            self._write_model_meta(folder, {})  # the meta's copy of the aliases
        return RegistryImport(model.name, created, numbers, tuple(notes))

    # -- helpers ------------------------------------------------------------------------------

    def _writable_model_folder(self, name: str) -> str:
        """The model's folder. Raises InvalidValue for a bad name, NotFound for a missing model."""
        rv.validate_model_name(name)
        folder = os.path.join(self.root, MODELS, name)
        if not os.path.isfile(os.path.join(folder, META)):
            raise NotFound(f"Registered Model with name={name} not found")
        return folder

    def _live_version_meta(self, name: str, number: int) -> tuple[str, dict[str, Any]]:
        """(meta.yaml path, meta) of a version that is not deleted. Raises NotFound."""
        path = os.path.join(self._writable_model_folder(name), f"version-{number}", META)
        try:
            meta = read_meta(path)
        except MetaError:
            meta = {}
        if not meta or meta.get("current_stage") == rv.STAGE_DELETED_INTERNAL:
            raise NotFound(f"Model Version (name={name}, version={number}) not found")
        return path, meta

    def _aliases(self, folder: str) -> dict[str, str]:
        return _values(os.path.join(folder, ALIASES))

    def _touch_model(self, folder: str, now: int | None = None) -> None:
        self._write_model_meta(folder, {"last_updated_timestamp": now or _now_ms()})

    def _write_model_meta(self, folder: str, changes: Mapping[str, Any]) -> None:
        """Rewrite the model's meta.yaml with `changes`, its copy of the aliases refreshed as
        MLflow refreshes it on every rewrite (readers use the aliases folder)."""
        path = os.path.join(folder, META)
        try:
            meta = read_meta(path)
        except MetaError as exc:
            raise InvalidValue(f"Cannot change {path}: {exc}") from None
        meta.update(changes)
        if "aliases" in meta:
            meta["aliases"] = self._aliases(folder)
        _write_meta(path, meta)


def _version_meta(name: str, v: ModelVersion) -> dict[str, Any]:
    return {
        "creation_timestamp": v.creation_timestamp, "current_stage": v.current_stage, "deployment_job_state": None,
        "description": v.description, "last_updated_timestamp": v.last_updated_timestamp, "model_id": v.model_id,
        "name": name, "run_id": v.run_id, "run_link": v.run_link, "source": v.source, "status": v.status,
        "status_message": v.status_message, "storage_location": v.source, "user_id": v.user_id,
        "version": int(v.version), "workspace": "default",
    }


def _version_metas(folder: str) -> list[tuple[str, dict[str, Any]]]:
    """(meta.yaml path, meta) of every version folder of a model (deleted ones too)."""
    out = []
    for entry in sorted(os.listdir(folder)):
        path = os.path.join(folder, entry, META)
        if entry.startswith("version-") and os.path.isfile(path):
            try:
                out.append((path, read_meta(path)))
            except MetaError:
                continue
    return out


def _values(base: str) -> dict[str, str]:
    """key → text of the files under `base` (keys may hold `/`: nested folders)."""
    out: dict[str, str] = {}
    for root, _dirs, files in os.walk(base):
        for file in files:
            path = os.path.join(root, file)
            with open(path, encoding="utf-8") as handle:
                out[os.path.relpath(path, base).replace(os.sep, "/")] = handle.read()
    return out


def _remove(base: str, key: str) -> bool:
    """Remove the value file of `key`; False when there was none (MLflow ignores that)."""
    path = key_path(base, key)
    if path is None or not os.path.isfile(path):
        return False
    os.unlink(path)
    return True


def _write_meta(path: str, meta: Mapping[str, Any]) -> None:
    write_atomic(path, dump_meta(meta))


def _refuse_percent(name: str) -> None:
    if "%" in name:  # MLflow's FileStore refuses it (names are folder names)
        raise InvalidValue(f"Invalid name: '{name}'. Registered model name cannot contain '%' character")


def _now_ms() -> int:
    return int(time.time() * 1000)
