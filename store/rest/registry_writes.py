"""Model-registry writes through MLflow's REST API (docs/formats.md §8.4): a mixin for RestStore.

The requests are MlflowClient's (`/api/2.0/mlflow/registered-models/*` and
`model-versions/*`, with MLflow's methods: PATCH for updates, DELETE for deletes); inputs are
validated here first, so a bad alias or tag never reaches the server. The server decides the
times, and its store (SQL or file) bumps them as docs/formats.md §8.4 describes.

Importing a model keeps version numbers where it can: a server numbers versions itself, so a
gap (a version deleted in the source) is rebuilt by creating a stand-in version and deleting it,
which leaves the same kind of deleted number MLflow itself leaves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .. import registry_validation as rv
from ..errors import InvalidValue, NotFound
from ..registry import ModelVersion, RegisteredModel, RegistryImport
from .registry import model_version_from_json

if TYPE_CHECKING:
    from .host import RestHost
else:
    RestHost = object  # the host is a type-checking contract only (see host.py)

API = "/api/2.0/mlflow"
MODELS = f"{API}/registered-models"
VERSIONS = f"{API}/model-versions"
#: At most this many stand-in versions are made to keep one version's number.
MAX_STAND_INS = 50


class RestRegistryWrites(RestHost):
    """Mixin for RestStore (what it uses of the store: host.RestHost)."""

    def set_registered_model_alias(self, name: str, alias: str, version: str | int) -> None:
        self._check_writable()
        rv.validate_model_name(name)
        rv.validate_alias(alias)
        number = rv.validate_version(version)
        self._http.post(f"{MODELS}/alias", {"name": name, "alias": alias, "version": str(number)})

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self._check_writable()
        rv.validate_model_name(name)
        if not alias:
            raise InvalidValue("Registered model alias name cannot be empty.")
        self._http.request("DELETE", f"{MODELS}/alias", json_body={"name": name, "alias": alias})

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        self._check_writable()
        rv.validate_model_name(name)
        rv.validate_tag(key, value)
        self._http.post(f"{MODELS}/set-tag", {"name": name, "key": key, "value": value})

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self._check_writable()
        rv.validate_model_name(name)
        self._http.request("DELETE", f"{MODELS}/delete-tag", json_body={"name": name, "key": key})

    def set_model_version_tag(self, name: str, version: str | int, key: str, value: str) -> None:
        self._check_writable()
        rv.validate_model_name(name)
        number = rv.validate_version(version)
        rv.validate_tag(key, value)
        self._http.post(f"{VERSIONS}/set-tag", {"name": name, "version": str(number), "key": key, "value": value})

    def delete_model_version_tag(self, name: str, version: str | int, key: str) -> None:
        self._check_writable()
        rv.validate_model_name(name)
        number = rv.validate_version(version)
        self._http.request("DELETE", f"{VERSIONS}/delete-tag",
                           json_body={"name": name, "version": str(number), "key": key})

    def update_registered_model(self, name: str, description: str) -> None:
        self._check_writable()
        rv.validate_model_name(name)
        self._http.request("PATCH", f"{MODELS}/update", json_body={"name": name, "description": description})

    def update_model_version(self, name: str, version: str | int, description: str) -> None:
        self._check_writable()
        rv.validate_model_name(name)
        number = rv.validate_version(version)
        self._http.request("PATCH", f"{VERSIONS}/update",
                           json_body={"name": name, "version": str(number), "description": description})

    def rename_registered_model(self, name: str, new_name: str) -> None:
        self._check_writable()
        rv.validate_model_name(name)
        rv.validate_model_name(new_name, "new_name")
        self._http.post(f"{MODELS}/rename", {"name": name, "new_name": new_name})

    def transition_model_version_stage(
        self, name: str, version: str | int, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        self._check_writable()
        rv.validate_model_name(name)
        number = rv.validate_version(version)
        canonical = rv.canonical_stage(stage, archive_existing_versions)
        data = self._http.post(f"{VERSIONS}/transition-stage", {
            "name": name, "version": str(number), "stage": canonical,
            "archive_existing_versions": archive_existing_versions,
        })
        return model_version_from_json(data.get("model_version") or {})

    def delete_model_version(self, name: str, version: str | int) -> None:
        self._check_writable()
        rv.validate_model_name(name)
        number = rv.validate_version(version)
        self._http.request("DELETE", f"{VERSIONS}/delete", json_body={"name": name, "version": str(number)})

    def delete_registered_model(self, name: str) -> None:
        self._check_writable()
        rv.validate_model_name(name)
        self._http.request("DELETE", f"{MODELS}/delete", json_body={"name": name})

    # -- import (store.transfer) ----------------------------------------------------------------

    def import_registered_model(
        self, model: RegisteredModel, versions: Sequence[ModelVersion]
    ) -> RegistryImport:
        self._check_writable()
        rv.validate_import(model, versions)
        name = model.name
        created = False
        try:
            here = self._http.get(f"{MODELS}/get", {"name": name}).get("registered_model") or {}
        except NotFound:
            self._http.post(f"{MODELS}/create", {
                "name": name, "tags": _key_values(model.tags),
                **({"description": model.description} if model.description else {}),
            })
            created, here = True, {}
        have_aliases = {a.get("alias") for a in here.get("aliases") or ()}
        numbers: dict[str, str] = {}
        notes: list[str] = []
        if created:
            notes.append(f"{name}: creation and update times, users and statuses are the server's")
        for v in sorted(versions, key=lambda mv: int(mv.version)):
            if not created and self._version_exists(name, v.version):
                continue
            number = self._create_version(name, v)
            numbers[v.version] = number
            if number != v.version:
                notes.append(f"{name} version {v.version} is version {number} here")
        for alias, target in model.aliases.items():
            if alias in have_aliases:
                continue
            mapped = numbers.get(str(target), str(target))
            try:
                self.set_registered_model_alias(name, alias, mapped)
            except NotFound:
                notes.append(f"alias {alias} of {name}: version {target} is not here")
        return RegistryImport(name, created, numbers, tuple(notes))

    def _version_exists(self, name: str, number: str) -> bool:
        try:
            self._http.get(f"{VERSIONS}/get", {"name": name, "version": number})
        except NotFound:
            return False
        return True

    def _create_version(self, name: str, v: ModelVersion) -> str:
        """Create the version, under its own number when the server's next number can be moved
        up to it with stand-ins (created and deleted); returns the number it got."""
        body: dict[str, Any] = {"name": name, "source": v.source or "", "tags": _key_values(v.tags)}
        for key in ("run_id", "run_link", "description", "model_id"):
            if getattr(v, key):
                body[key] = getattr(v, key)
        for _ in range(MAX_STAND_INS + 1):
            got = str((self._http.post(f"{VERSIONS}/create", body).get("model_version") or {}).get("version", ""))
            if not got.isdigit() or int(got) >= int(v.version):
                break
            self._http.request("DELETE", f"{VERSIONS}/delete", json_body={"name": name, "version": got})
        if v.current_stage not in ("None", "", None):
            self.transition_model_version_stage(name, got, v.current_stage)
        return got


def _key_values(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": val} for k, val in tags.items()]


def _int(value: Any) -> int | None:
    return None if value in (None, "") else int(value)
