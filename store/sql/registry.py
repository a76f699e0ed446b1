"""The model registry and prompt registry in MLflow's SQL tables: a mixin for SqlStore.

Tables (docs/formats.md §8.1): `registered_models`, `registered_model_tags`, `model_versions`,
`model_version_tags`, `registered_model_aliases`, keyed by (workspace, name[, version]); this
reads workspace 'default' where the column exists. A deleted version stays as a row with
`current_stage = 'Deleted_Internal'` and is never shown. Prompts are the models (versions)
tagged `mlflow.prompt.is_prompt = 'true'`: a NOT EXISTS on that tag keeps them out of model
searches, an EXISTS keeps only them in prompt searches.

Batched as MlflowClient's SQL store is not quite: a page of models is one query for the page,
then one each for the page's tags, aliases, latest version per stage and those versions' tags
(five in all, whatever the page size); a page of versions is three (page, tags, aliases).
A schema without the registry tables has no registry (`supports_model_registry` False).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..batching import chunked
from ..errors import NotFound
from ..registry import IS_PROMPT_TAG, ModelVersion, RegisteredModel, model_id_from_source
from ..registry_reads import RegistryReads, latest_alias, version_number
from ..search import Comparison, OrderKey
from .filters import compare
from .schema import RegistryTables

if TYPE_CHECKING:
    from .host import SqlHost
else:
    SqlHost = object  # the host is a type-checking contract only (see host.py)

DELETED_STAGE = "Deleted_Internal"
DEFAULT_WORKSPACE = "default"
#: Names per `IN (...)` when reading a page's children (well under every dialect's limit).
_NAMES_PER_QUERY = 500
_MODEL_ORDER_COLUMNS = {"name": "name", "last_updated_timestamp": "last_updated_time",
                        "creation_timestamp": "creation_time"}
_VERSION_COLUMNS = {"name": "name", "version_number": "version", "run_id": "run_id", "source_path": "source",
                    "last_updated_timestamp": "last_updated_time", "creation_timestamp": "creation_time"}


class SqlRegistry(RegistryReads, SqlHost):
    """Mixin for SqlStore (what it uses of the store: host.SqlHost)."""

    @property
    def supports_model_registry(self) -> bool:
        return self.tables.registry is not None

    # -- the primitives RegistryReads builds on ---------------------------------------------------

    def _registry_models(
        self, comparisons: tuple[Comparison, ...], prompts: bool, order: tuple[OrderKey, ...], offset: int, limit: int
    ) -> tuple[list[RegisteredModel], bool]:
        r = self._registry()
        rm, tags = r.registered_models, r.registered_model_tags
        clauses = [*self._workspace(rm), self._prompt_clause(rm, tags, [rm.c.name], prompts)]
        for c in comparisons:
            if c.kind == "tag":
                clauses.append(self._tag_exists(tags, [rm.c.name], c))
            else:
                clauses.append(compare(rm.c.name, c.op, c.value, self.dialect))
        ordering = [self._ordered(rm.c[_MODEL_ORDER_COLUMNS[k.key]], k.ascending) for k in order]
        stmt = sa.select(rm).where(*clauses).order_by(*ordering).offset(offset).limit(limit + 1)
        with self._errors(), self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
            return self._build_models(conn, rows[:limit]), len(rows) > limit

    def _registry_versions(
        self, comparisons: tuple[Comparison, ...], prompts: bool, order: tuple[OrderKey, ...], offset: int, limit: int
    ) -> tuple[list[ModelVersion], bool]:
        r = self._registry()
        mv, tags = r.model_versions, r.model_version_tags
        keys = [mv.c.name, mv.c.version]
        clauses = [*self._workspace(mv), mv.c.current_stage != DELETED_STAGE,
                   self._prompt_clause(mv, tags, keys, prompts)]
        for c in comparisons:
            if c.kind == "tag":
                clauses.append(self._tag_exists(tags, keys, c))
            else:
                column = mv.c[_VERSION_COLUMNS[c.key]]
                numeric = c.key == "version_number"
                clauses.append(compare(column, c.op, c.value, self.dialect, text_column=not numeric))
        ordering = [self._ordered(mv.c[_VERSION_COLUMNS[k.key]], k.ascending) for k in order]
        stmt = sa.select(mv).where(*clauses).order_by(*ordering).offset(offset).limit(limit + 1)
        with self._errors(), self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
            return self._build_versions(conn, rows[:limit]), len(rows) > limit

    # -- point reads --------------------------------------------------------------------------------

    def get_registered_model(self, name: str) -> RegisteredModel:
        if not self.supports_model_registry:
            return super().get_registered_model(name)  # NotFound
        rm = self._registry().registered_models
        with self._errors(), self.engine.connect() as conn:
            row = conn.execute(sa.select(rm).where(rm.c.name == name, *self._workspace(rm))).first()
            if row is None:
                raise NotFound(f"Registered Model with name={name} not found")
            return self._build_models(conn, [row])[0]

    def get_model_version(self, name: str, version: str | int) -> ModelVersion:
        number = version_number(version)
        if not self.supports_model_registry:
            raise NotFound(f"Model Version (name={name}, version={number}) not found")
        with self._errors(), self.engine.connect() as conn:
            return self._one_version(conn, name, number)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        if not self.supports_model_registry:
            raise NotFound(f"Registered Model with name={name} not found")
        r = self._registry()
        rm, mv, aliases = r.registered_models, r.model_versions, r.registered_model_aliases
        with self._errors(), self.engine.connect() as conn:
            if conn.execute(sa.select(rm.c.name).where(rm.c.name == name, *self._workspace(rm))).first() is None:
                raise NotFound(f"Registered Model with name={name} not found")
            if latest_alias(alias):
                number = conn.execute(sa.select(sa.func.max(mv.c.version)).where(
                    mv.c.name == name, mv.c.current_stage != DELETED_STAGE, *self._workspace(mv))).scalar()
                if number is None:
                    raise NotFound(f"Latest version not found for model {name}.")
            else:
                number = conn.execute(sa.select(aliases.c.version).where(
                    aliases.c.name == name, aliases.c.alias == alias, *self._workspace(aliases))).scalar()
                if number is None:
                    raise NotFound(f"Registered model alias {alias} not found.")
            return self._one_version(conn, name, number)

    # -- building values ----------------------------------------------------------------------------

    def _one_version(self, conn: Connection, name: str, number: int) -> ModelVersion:
        mv = self._registry().model_versions
        row = conn.execute(sa.select(mv).where(
            mv.c.name == name, mv.c.version == number, mv.c.current_stage != DELETED_STAGE, *self._workspace(mv),
        )).first()
        if row is None:
            raise NotFound(f"Model Version (name={name}, version={number}) not found")
        return self._build_versions(conn, [row])[0]

    def _build_models(self, conn: Connection, rows: Sequence[Any]) -> list[RegisteredModel]:
        """RegisteredModels for page rows: tags, aliases, latest version per stage (and their
        tags) in four queries for the whole page."""
        names = [row.name for row in rows]
        r = self._registry()
        tags = self._children(conn, r.registered_model_tags, names, ("key", "value"))
        aliases = self._children(conn, r.registered_model_aliases, names, ("alias", "version"))
        latest = self._latest_versions(conn, names)
        out = []
        for row in rows:
            model_aliases = {a: str(v) for a, v in sorted(aliases.get(row.name, ()))}
            versions = tuple(_with_aliases(v, model_aliases) for v in latest.get(row.name, ()))
            out.append(RegisteredModel(
                name=row.name, creation_timestamp=row.creation_time, last_updated_timestamp=row.last_updated_time,
                description=row.description, tags=dict(tags.get(row.name, ())), aliases=model_aliases,
                latest_versions=versions,
            ))
        return out

    def _latest_versions(self, conn: Connection, names: list[str]) -> dict[str, list[ModelVersion]]:
        """Name → the highest live version in each stage (MLflow's `latest_versions`), newest
        first. One grouped query joined back to the versions, for every dialect alike."""
        if not names:
            return {}
        mv = self._registry().model_versions
        out: dict[str, list[ModelVersion]] = defaultdict(list)
        for chunk in chunked(names, _NAMES_PER_QUERY):
            top = (sa.select(mv.c.name, mv.c.current_stage, sa.func.max(mv.c.version).label("top"))
                   .where(mv.c.name.in_(chunk), mv.c.current_stage != DELETED_STAGE, *self._workspace(mv))
                   .group_by(mv.c.name, mv.c.current_stage).subquery())
            stmt = (sa.select(mv).join(top, sa.and_(mv.c.name == top.c.name, mv.c.version == top.c.top))
                    .where(*self._workspace(mv)).order_by(mv.c.name, mv.c.version.desc()))
            for version in self._build_versions(conn, conn.execute(stmt).all(), aliases=False):
                out[version.name].append(version)
        return out

    def _build_versions(self, conn: Connection, rows: Sequence[Any], aliases: bool = True) -> list[ModelVersion]:
        """ModelVersions for rows: their tags (and aliases) in one query each for all rows."""
        names = sorted({row.name for row in rows})
        r = self._registry()
        tags = self._children(conn, r.model_version_tags, names, ("version", "key", "value"))
        found = self._children(conn, r.registered_model_aliases, names, ("version", "alias")) if aliases else {}
        out = []
        for row in rows:
            out.append(ModelVersion(
                name=row.name, version=str(row.version), creation_timestamp=row.creation_time,
                last_updated_timestamp=row.last_updated_time, description=row.description, user_id=row.user_id,
                current_stage=row.current_stage or "None", source=row.source, run_id=row.run_id or None,
                run_link=row.run_link or None, status=row.status or "READY", status_message=row.status_message,
                tags={k: v for number, k, v in tags.get(row.name, ()) if number == row.version},
                aliases=tuple(sorted(a for number, a in found.get(row.name, ()) if number == row.version)),
                model_id=model_id_from_source(row.source),
            ))
        return out

    def _children(self, conn: Connection, table: sa.Table, names: Sequence[str], columns: Iterable[str]) -> dict:
        """Name → [(columns...)] of a child table for the given model names."""
        out: dict[str, list[tuple]] = defaultdict(list)
        cols = [table.c[c] for c in columns]
        for chunk in chunked(list(names), _NAMES_PER_QUERY):
            stmt = sa.select(table.c.name, *cols).where(table.c.name.in_(chunk), *self._workspace(table))
            for row in conn.execute(stmt):
                out[row[0]].append(tuple(row[1:]))
        return out

    # -- clauses ------------------------------------------------------------------------------------

    def _registry(self) -> RegistryTables:
        r = self.tables.registry
        assert r is not None, "callers check supports_model_registry first"
        return r

    def _workspace(self, table: sa.Table) -> list:
        return [table.c.workspace == DEFAULT_WORKSPACE] if "workspace" in table.c else []

    def _tag_exists(self, tags: sa.Table, keys: list, c: Comparison):
        """EXISTS a tag row with the key (matched exactly) and a value satisfying the clause."""
        key = compare(tags.c.key, "=", c.key, self.dialect)
        value = compare(tags.c.value, c.op, c.value, self.dialect)
        return sa.exists().where(*_same_row(tags, keys), key, value, *self._workspace(tags))

    def _prompt_clause(self, table: sa.Table, tags: sa.Table, keys: list, prompts: bool):
        """Prompts only, or no prompts, by the prompt tag (MLflow compares its value exactly)."""
        marked = sa.exists().where(*_same_row(tags, keys), tags.c.key == IS_PROMPT_TAG,
                                   compare(tags.c.value, "=", "true", self.dialect), *self._workspace(tags))
        return marked if prompts else ~marked

    def _ordered(self, column, ascending: bool):
        return column.asc() if ascending else column.desc()


def _same_row(tags: sa.Table, keys: list) -> list:
    """The child table's key columns equal to the parent's (name, or name and version)."""
    return [tags.c[k.name] == k for k in keys]


def _with_aliases(version: ModelVersion, model_aliases: dict[str, str]) -> ModelVersion:
    return dataclasses.replace(
        version, aliases=tuple(sorted(a for a, v in model_aliases.items() if v == version.version)))
