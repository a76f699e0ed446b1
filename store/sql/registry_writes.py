"""Model-registry writes in MLflow's SQL tables (docs/formats.md §8.4): a mixin for SqlStore.

Each write does what MLflow's SqlAlchemyStore does, in one transaction:
- last-update times: a model's description edit bumps the model; a version's description edit
  bumps the version only; a stage transition bumps the version, the versions it archived and
  the model; deleting a version bumps the model and the version; renaming bumps the model and
  every version. Tags and aliases bump nothing.
- deleting a version keeps its row, marked `Deleted_Internal` with description, user, source,
  run id, run link and status message redacted (its tags stay); the aliases pointing at it go.
- deleting a model removes its rows for good: aliases, version tags, versions, tags, model.
- renaming rewrites the name in every registry table (the foreign keys cascade it on the
  databases that declare them; the explicit updates cover those that do not).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import registry_validation as rv
from ..errors import InvalidValue, NotFound
from ..registry import ModelVersion, RegisteredModel, RegistryImport
from .schema import RegistryTables

if TYPE_CHECKING:
    from .host import SqlHost
else:
    SqlHost = object  # the host is a type-checking contract only (see host.py)

#: What MLflow writes over a deleted version's fields.
_REDACTED = {
    "description": None, "user_id": None, "source": "REDACTED-SOURCE-PATH", "run_id": "REDACTED-RUN-ID",
    "run_link": "REDACTED-RUN-LINK", "status_message": None,
}
_WORKSPACE = "default"


class SqlRegistryWrites(SqlHost):
    """Mixin for SqlStore (what it uses of the store: host.SqlHost)."""

    def set_registered_model_alias(self, name: str, alias: str, version: str | int) -> None:
        self._check_writable()
        rv.validate_model_name(name)
        rv.validate_alias(alias)
        number = rv.validate_version(version)
        t = self._write_tables()

        def work(conn: Connection) -> None:
            self._live_version(conn, name, number)
            self._upsert(conn, t.registered_model_aliases, {"name": name, "alias": alias}, {"version": number})

        self._registry_transaction(work)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self._check_writable()
        rv.validate_model_name(name)
        if not alias:
            raise InvalidValue("Registered model alias name cannot be empty.")
        t = self._write_tables()

        def work(conn: Connection) -> None:
            self._model_row(conn, name)
            conn.execute(sa.delete(t.registered_model_aliases).where(*self._of(t.registered_model_aliases, name), t.registered_model_aliases.c.alias == alias))

        self._registry_transaction(work)

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        self._check_writable()
        rv.validate_model_name(name)
        rv.validate_tag(key, value)
        t = self._write_tables()

        def work(conn: Connection) -> None:
            self._model_row(conn, name)
            self._upsert(conn, t.registered_model_tags, {"name": name, "key": key}, {"value": value})

        self._registry_transaction(work)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self._check_writable()
        rv.validate_model_name(name)
        t = self._write_tables()

        def work(conn: Connection) -> None:
            self._model_row(conn, name)
            conn.execute(sa.delete(t.registered_model_tags).where(*self._of(t.registered_model_tags, name), t.registered_model_tags.c["key"] == key))

        self._registry_transaction(work)

    def set_model_version_tag(self, name: str, version: str | int, key: str, value: str) -> None:
        self._check_writable()
        rv.validate_model_name(name)
        number = rv.validate_version(version)
        rv.validate_tag(key, value)
        t = self._write_tables()

        def work(conn: Connection) -> None:
            self._live_version(conn, name, number)
            self._upsert(conn, t.model_version_tags, {"name": name, "version": number, "key": key}, {"value": value})

        self._registry_transaction(work)

    def delete_model_version_tag(self, name: str, version: str | int, key: str) -> None:
        self._check_writable()
        rv.validate_model_name(name)
        number = rv.validate_version(version)
        t = self._write_tables()
        vt = t.model_version_tags

        def work(conn: Connection) -> None:
            self._live_version(conn, name, number)
            conn.execute(sa.delete(vt).where(*self._of(vt, name), vt.c.version == number, vt.c["key"] == key))

        self._registry_transaction(work)

    def update_registered_model(self, name: str, description: str) -> None:
        self._check_writable()
        rv.validate_model_name(name)
        t = self._write_tables()

        def work(conn: Connection) -> None:
            self._model_row(conn, name)
            conn.execute(sa.update(t.registered_models).where(*self._of(t.registered_models, name)).values(
                description=description, last_updated_time=_now_ms()))

        self._registry_transaction(work)

    def update_model_version(self, name: str, version: str | int, description: str) -> None:
        self._check_writable()
        rv.validate_model_name(name)
        number = rv.validate_version(version)
        t = self._write_tables()

        def work(conn: Connection) -> None:
            self._live_version(conn, name, number)
            conn.execute(sa.update(t.model_versions).where(*self._of(t.model_versions, name), t.model_versions.c.version == number)
                         .values(description=description, last_updated_time=_now_ms()))

        self._registry_transaction(work)

    def rename_registered_model(self, name: str, new_name: str) -> None:
        self._check_writable()
        rv.validate_model_name(name)
        rv.validate_model_name(new_name, "new_name")
        t = self._write_tables()

        def work(conn: Connection) -> None:
            self._model_row(conn, name)
            if new_name != name and self._find_model(conn, new_name) is not None:
                raise InvalidValue(f"Registered Model (name={new_name}) already exists.")
            now = _now_ms()
            conn.execute(sa.update(t.registered_models).where(*self._of(t.registered_models, name))
                         .values(name=new_name, last_updated_time=now))
            conn.execute(sa.update(t.model_versions).where(*self._of(t.model_versions, name))
                         .values(name=new_name, last_updated_time=now))
            conn.execute(sa.update(t.model_versions).where(*self._of(t.model_versions, new_name)).values(last_updated_time=now))
            for child in (t.registered_model_tags, t.model_version_tags, t.registered_model_aliases):
                conn.execute(sa.update(child).where(*self._of(child, name)).values(name=new_name))

        self._registry_transaction(work)

    def transition_model_version_stage(
        self, name: str, version: str | int, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        self._check_writable()
        rv.validate_model_name(name)
        number = rv.validate_version(version)
        canonical = rv.canonical_stage(stage, archive_existing_versions)
        t = self._write_tables()
        mv = t.model_versions

        def work(conn: Connection) -> None:
            now = _now_ms()
            self._live_version(conn, name, number)
            if archive_existing_versions:
                conn.execute(sa.update(mv).where(*self._of(mv, name), mv.c.version != number,
                                                 mv.c.current_stage == canonical)
                             .values(current_stage="Archived", last_updated_time=now))
            conn.execute(sa.update(mv).where(*self._of(mv, name), mv.c.version == number)
                         .values(current_stage=canonical, last_updated_time=now))
            conn.execute(sa.update(t.registered_models).where(*self._of(t.registered_models, name)).values(last_updated_time=now))

        self._registry_transaction(work)
        return self.get_model_version(name, number)

    def delete_model_version(self, name: str, version: str | int) -> None:
        self._check_writable()
        rv.validate_model_name(name)
        number = rv.validate_version(version)
        t = self._write_tables()
        mv = t.model_versions

        def work(conn: Connection) -> None:
            self._live_version(conn, name, number)
            now = _now_ms()
            conn.execute(sa.update(t.registered_models).where(*self._of(t.registered_models, name)).values(last_updated_time=now))
            conn.execute(sa.delete(t.registered_model_aliases).where(*self._of(t.registered_model_aliases, name), t.registered_model_aliases.c.version == number))
            conn.execute(sa.update(mv).where(*self._of(mv, name), mv.c.version == number).values(
                current_stage=rv.STAGE_DELETED_INTERNAL, last_updated_time=now, **_REDACTED))

        self._registry_transaction(work)

    def delete_registered_model(self, name: str) -> None:
        self._check_writable()
        rv.validate_model_name(name)
        t = self._write_tables()

        def work(conn: Connection) -> None:
            self._model_row(conn, name)
            for table in (t.registered_model_aliases, t.model_version_tags, t.model_versions, t.registered_model_tags, t.registered_models):  # children first
                conn.execute(sa.delete(table).where(*self._of(table, name)))

        self._registry_transaction(work)

    # -- import (store.transfer) ----------------------------------------------------------------

    def import_registered_model(
        self, model: RegisteredModel, versions: Sequence[ModelVersion]
    ) -> RegistryImport:
        self._check_writable()
        rv.validate_import(model, versions)
        t = self._write_tables()

        def work(conn: Connection) -> RegistryImport:
            created = self._find_model(conn, model.name) is None
            if created:
                self._insert(conn, t.registered_models, name=model.name, creation_time=model.creation_timestamp,
                             last_updated_time=model.last_updated_timestamp, description=model.description)
                for key, value in model.tags.items():
                    self._insert(conn, t.registered_model_tags, name=model.name, key=key, value=value)
            taken = set(conn.execute(sa.select(t.model_versions.c.version).where(*self._of(t.model_versions, model.name))).scalars())
            deleted = taken - self._live_numbers(conn, model.name)
            numbers: dict[str, str] = {}
            notes = []
            for version in sorted(versions, key=lambda mv: int(mv.version)):
                number = int(version.version)
                if number in deleted:
                    notes.append(f"{model.name} version {number}: deleted here, so not copied")
                if number in taken:
                    continue
                self._insert(conn, t.model_versions, **_version_row(model.name, version, number))
                for key, value in version.tags.items():
                    self._insert(conn, t.model_version_tags, name=model.name, version=number, key=key, value=value)
                numbers[version.version] = version.version
                taken.add(number)
            live = self._live_numbers(conn, model.name)
            have = {a for (a,) in conn.execute(sa.select(t.registered_model_aliases.c.alias).where(*self._of(t.registered_model_aliases, model.name)))}
            for alias, target in model.aliases.items():
                if alias in have:
                    continue
                if int(target) not in live:
                    notes.append(f"alias {alias} of {model.name}: version {target} is not here")
                    continue
                self._insert(conn, t.registered_model_aliases, name=model.name, alias=alias, version=int(target))
            return RegistryImport(model.name, created, numbers, tuple(notes))

        return self._registry_transaction(work)

    # -- helpers ------------------------------------------------------------------------------

    def _write_tables(self) -> RegistryTables:
        tables = self.tables.registry
        if tables is None:
            raise self._unsupported("The model registry (this schema predates it)")
        return tables

    def _registry_transaction(self, work):
        with self._errors():
            return self._transaction(work)

    def _of(self, table: sa.Table, name: str) -> list[sa.ColumnElement[bool]]:
        """Rows of the model `name` (in MLflow's default workspace, where tables have one)."""
        clauses: list[sa.ColumnElement[bool]] = [table.c.name == name]
        if "workspace" in table.c:
            clauses.append(table.c.workspace == _WORKSPACE)
        return clauses

    def _find_model(self, conn: Connection, name: str) -> Any:
        models = self._write_tables().registered_models
        return conn.execute(sa.select(models.c.name).where(*self._of(models, name))).first()

    def _model_row(self, conn: Connection, name: str) -> None:
        if self._find_model(conn, name) is None:
            raise NotFound(f"Registered Model with name={name} not found")

    def _live_version(self, conn: Connection, name: str, number: int) -> None:
        """Raises NotFound for a missing or deleted version, as MLflow does."""
        if number not in self._live_numbers(conn, name, number):
            raise NotFound(f"Model Version (name={name}, version={number}) not found")

    def _live_numbers(self, conn: Connection, name: str, only: int | None = None) -> set[int]:
        mv = self._write_tables().model_versions
        stmt = sa.select(mv.c.version).where(*self._of(mv, name), mv.c.current_stage != rv.STAGE_DELETED_INTERNAL)
        if only is not None:
            stmt = stmt.where(mv.c.version == only)
        return {int(n) for n in conn.execute(stmt).scalars()}

    def _insert(self, conn: Connection, table: sa.Table, **values: Any) -> None:
        if "workspace" in table.c:
            values["workspace"] = _WORKSPACE
        conn.execute(sa.insert(table).values(**{k: v for k, v in values.items() if k in table.c}))

    def _upsert(self, conn: Connection, table: sa.Table, key: Mapping[str, Any], values: Mapping[str, Any]) -> None:
        """Update the row with `key`, or insert it (MLflow's session.merge)."""
        where = [*self._of(table, key["name"]), *(table.c[k] == v for k, v in key.items() if k != "name")]
        if conn.execute(sa.update(table).where(*where).values(**values)).rowcount == 0:
            self._insert(conn, table, **key, **values)


def _version_row(name: str, version: ModelVersion, number: int) -> dict[str, Any]:
    return {
        "name": name, "version": number, "creation_time": version.creation_timestamp,
        "last_updated_time": version.last_updated_timestamp, "description": version.description,
        "user_id": version.user_id, "current_stage": version.current_stage, "source": version.source,
        "storage_location": version.source, "run_id": version.run_id, "run_link": version.run_link,
        "status": version.status, "status_message": version.status_message, "model_id": version.model_id,
    }


def _now_ms() -> int:
    return int(time.time() * 1000)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)
