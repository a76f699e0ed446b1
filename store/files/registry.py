"""The model registry and prompt registry of a file store: a mixin for FileStore.

Layout (docs/formats.md §8.2): `mlruns/models/<name>/meta.yaml` (name, description, times),
`tags/<key>` and `aliases/<alias>` (content: the version number) beside it, and
`version-<n>/meta.yaml` (source, run_id, model_id, stage, status, description, times) with
`version-<n>/tags/<key>`. A deleted version keeps its folder with `current_stage:
Deleted_Internal`; a deleted model loses its folder. Aliases are read from the `aliases/`
files, as MLflow does (the copy in meta.yaml is not kept up to date by every writer).

Every search reads the folders afresh (registries are small next to run stores) and filters
in Python with the grammar's evaluator (store.search.registry), so answers match the SQL
backend's.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ..errors import NotFound
from ..registry import ModelVersion, RegisteredModel, is_prompt, model_id_from_source
from ..registry_reads import RegistryReads, latest_alias, version_number
from ..search import Comparison, OrderKey
from ..search.registry import (
    model_version_matches,
    registered_model_matches,
    sort_model_versions,
    sort_registered_models,
)
from .layout import decode_value, key_path
from .meta import MetaError, as_millis, read_bytes, read_meta

if TYPE_CHECKING:
    from .host import FileHost
else:
    FileHost = object  # the host is a type-checking contract only (see host.py)

MODELS = "models"
META = "meta.yaml"
DELETED_STAGE = "Deleted_Internal"
VERSION_PREFIX = "version-"


class FileRegistry(RegistryReads, FileHost):
    """Mixin for FileStore (what it uses of the store: host.FileHost)."""

    @property
    def supports_model_registry(self) -> bool:
        return True

    # -- the primitives RegistryReads builds on ---------------------------------------------------

    def _registry_models(
        self, comparisons: tuple[Comparison, ...], prompts: bool, order: tuple[OrderKey, ...], offset: int, limit: int
    ) -> tuple[list[RegisteredModel], bool]:
        found = [m for m in self._registry_all_models()
                 if is_prompt(m.tags) == prompts and registered_model_matches(m, comparisons)]
        ordered = sort_registered_models(found, order)
        return ordered[offset:offset + limit], len(ordered) > offset + limit

    def _registry_versions(
        self, comparisons: tuple[Comparison, ...], prompts: bool, order: tuple[OrderKey, ...], offset: int, limit: int
    ) -> tuple[list[ModelVersion], bool]:
        found = []
        for name, folder in self._registry_model_folders():
            aliases = _aliases(folder)
            for version in self._registry_live_versions(folder, name, aliases):
                if is_prompt(version.tags) == prompts and model_version_matches(version, comparisons):
                    found.append(version)
        ordered = sort_model_versions(found, order)
        return ordered[offset:offset + limit], len(ordered) > offset + limit

    # -- point reads --------------------------------------------------------------------------------

    def get_registered_model(self, name: str) -> RegisteredModel:
        folder = self._registry_model_folder(name)
        model = self._registry_read_model(name, folder) if folder else None
        if model is None:
            raise NotFound(f"Registered Model with name={name} not found")
        return model

    def get_model_version(self, name: str, version: str | int) -> ModelVersion:
        number = version_number(version)
        folder = self._registry_model_folder(name)
        if folder is None:
            raise NotFound(f"Registered Model with name={name} not found")
        found = _read_version(os.path.join(folder, f"{VERSION_PREFIX}{number}"), name, _aliases(folder))
        if found is None or found.current_stage == DELETED_STAGE:
            raise NotFound(f"Model Version (name={name}, version={number}) not found")
        return found

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        folder = self._registry_model_folder(name)
        if folder is None:
            raise NotFound(f"Registered Model with name={name} not found")
        aliases = _aliases(folder)
        if latest_alias(alias):
            versions = self._registry_live_versions(folder, name, aliases)
            if not versions:
                raise NotFound(f"Latest version not found for model {name}.")
            return max(versions, key=lambda v: int(v.version))
        if alias not in aliases:
            raise NotFound(f"Registered model alias {alias} not found.")
        return self.get_model_version(name, aliases[alias])

    # -- reading folders ----------------------------------------------------------------------------

    def _registry_root(self) -> str:
        return os.path.join(self.root, MODELS)

    def _registry_model_folders(self) -> list[tuple[str, str]]:
        """(name, folder) of every registered model (names are folder names)."""
        root = self._registry_root()
        try:
            entries = sorted(os.scandir(root), key=lambda e: e.name)
        except (FileNotFoundError, NotADirectoryError):
            return []
        except OSError as exc:
            self._warn(f"{root}: unreadable folder ({exc.strerror or exc})")
            return []
        return [(e.name, e.path) for e in entries if not e.name.startswith(".") and e.is_dir()]

    def _registry_model_folder(self, name: str) -> str | None:
        folder = key_path(self._registry_root(), name) if name else None
        return folder if folder and os.path.isfile(os.path.join(folder, META)) else None

    def _registry_all_models(self) -> list[RegisteredModel]:
        return [m for name, folder in self._registry_model_folders() if (m := self._registry_read_model(name, folder))]

    def _registry_read_model(self, name: str, folder: str) -> RegisteredModel | None:
        try:
            meta = read_meta(os.path.join(folder, META))
        except MetaError as exc:
            self._warn(f"{folder}: {exc}")
            return None
        aliases = _aliases(folder)
        versions = self._registry_live_versions(folder, name, aliases)
        latest: dict[str, ModelVersion] = {}
        for v in versions:  # the highest live version per stage, as MLflow's latest_versions
            if v.current_stage not in latest or int(v.version) > int(latest[v.current_stage].version):
                latest[v.current_stage] = v
        return RegisteredModel(
            name=str(meta.get("name") or name), creation_timestamp=as_millis(meta.get("creation_timestamp")),
            last_updated_timestamp=as_millis(meta.get("last_updated_timestamp")),
            description=_text(meta.get("description")), tags=_files(os.path.join(folder, "tags")),
            aliases=aliases, latest_versions=tuple(sorted(latest.values(), key=lambda v: -int(v.version))),
        )

    def _registry_live_versions(self, folder: str, name: str, aliases: dict[str, str]) -> list[ModelVersion]:
        """The model's live versions."""
        try:
            entries = [e for e in os.scandir(folder) if e.name.startswith(VERSION_PREFIX) and e.is_dir()]
        except OSError:
            return []
        out = []
        for entry in entries:
            version = _read_version(entry.path, name, aliases)
            if version is not None and version.current_stage != DELETED_STAGE:
                out.append(version)
        return out


def _read_version(folder: str, name: str, aliases: dict[str, str]) -> ModelVersion | None:
    try:
        meta = read_meta(os.path.join(folder, META))
    except MetaError:
        return None
    number = str(meta.get("version") or folder.rsplit(VERSION_PREFIX, 1)[-1])
    return ModelVersion(
        name=str(meta.get("name") or name), version=number,
        creation_timestamp=as_millis(meta.get("creation_timestamp")),
        last_updated_timestamp=as_millis(meta.get("last_updated_timestamp")),
        description=_text(meta.get("description")), user_id=_text(meta.get("user_id")),
        current_stage=str(meta.get("current_stage") or "None"), source=_text(meta.get("source")),
        run_id=_text(meta.get("run_id")) or None, run_link=_text(meta.get("run_link")) or None,
        status=str(meta.get("status") or "READY"), status_message=_text(meta.get("status_message")),
        tags=_files(os.path.join(folder, "tags")),
        aliases=tuple(sorted(a for a, v in aliases.items() if v == number)),
        model_id=_text(meta.get("model_id")) or model_id_from_source(_text(meta.get("source"))),
    )


def _aliases(model_folder: str) -> dict[str, str]:
    """Alias → version number, from the `aliases/` files."""
    return {alias: value.strip() for alias, value in sorted(_files(os.path.join(model_folder, "aliases")).items())}


def _files(base: str) -> dict[str, str]:
    """Key → content of every file under `base` (keys with `/` are nested folders)."""
    out: dict[str, str] = {}
    for dirpath, _dirs, files in os.walk(base):
        for file in files:
            path = os.path.join(dirpath, file)
            try:
                out[os.path.relpath(path, base).replace(os.sep, "/")] = decode_value(read_bytes(path))
            except OSError:
                continue
    return out


def _text(value: object) -> str | None:
    return None if value is None else str(value)
