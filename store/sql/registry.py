"""The model registry and prompt registry in MLflow's SQL tables: a mixin for SqlStore.

Tables (docs/formats.md §8.1): `registered_models`, `registered_model_tags`, `model_versions`,
`model_version_tags`, `registered_model_aliases`, keyed by (workspace, name[, version]); this
reads workspace 'default' where the column exists. A deleted version stays as a row with
`current_stage = 'Deleted_Internal'` and is never shown. Prompts are the models (versions)
tagged `mlflow.prompt.is_prompt = 'true'`: a NOT EXISTS on that tag keeps them out of model
searches, an EXISTS keeps only them in prompt searches. The statements live in
registry_queries.py, built once per store.

Batched: a page of models is one query for the page, then one each for the page's tags,
aliases, latest version per stage and those versions' tags (five in all, whatever the page
size); a page of versions is three (page, aliases, tags); resolving an alias is three.
A schema without the registry tables has no registry (`supports_model_registry` False).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection

from ..errors import NotFound
from ..registry import ModelVersion, RegisteredModel, model_id_from_source
from ..registry_reads import RegistryReads, latest_alias, version_number
from ..search import Comparison, OrderKey
from .registry_queries import RegistryQueries

if TYPE_CHECKING:
    from .host import SqlHost
else:
    SqlHost = object  # the host is a type-checking contract only (see host.py)

#: Names per `IN (...)` when reading a page's children (well under every dialect's limit).
_NAMES_PER_QUERY = 500
#: Name → alias → version number (text), for the models being read.
Aliases = dict[str, dict[str, str]]


class SqlRegistry(RegistryReads, SqlHost):
    """Mixin for SqlStore (what it uses of the store: host.SqlHost)."""

    _registry_queries: RegistryQueries | None = None

    @property
    def supports_model_registry(self) -> bool:
        return self.tables.registry is not None

    # -- the primitives RegistryReads builds on ---------------------------------------------------

    def _registry_models(
        self, comparisons: tuple[Comparison, ...], prompts: bool, order: tuple[OrderKey, ...], offset: int, limit: int
    ) -> tuple[list[RegisteredModel], bool]:
        q = self._registry_sql()
        with self._errors(), self.engine.connect() as conn:
            rows = conn.execute(q.models_page(comparisons, prompts, order), {"limit": limit + 1, "offset": offset}).all()
            return self._registered_models_of(conn, rows[:limit]), len(rows) > limit

    def _registry_versions(
        self, comparisons: tuple[Comparison, ...], prompts: bool, order: tuple[OrderKey, ...], offset: int, limit: int
    ) -> tuple[list[ModelVersion], bool]:
        q = self._registry_sql()
        with self._errors(), self.engine.connect() as conn:
            rows = conn.execute(q.versions_page(comparisons, prompts, order), {"limit": limit + 1, "offset": offset}).all()
            return self._model_versions_of(conn, rows[:limit]), len(rows) > limit

    # -- point reads --------------------------------------------------------------------------------

    def get_registered_model(self, name: str) -> RegisteredModel:
        if not self.supports_model_registry:
            return super().get_registered_model(name)  # NotFound
        with self._errors(), self.engine.connect() as conn:
            row = conn.execute(self._registry_sql().model, {"name": name}).first()
            if row is None:
                raise NotFound(f"Registered Model with name={name} not found")
            return self._registered_models_of(conn, [row])[0]

    def get_model_version(self, name: str, version: str | int) -> ModelVersion:
        number = version_number(version)
        if not self.supports_model_registry:
            raise NotFound(f"Model Version (name={name}, version={number}) not found")
        with self._errors(), self.engine.connect() as conn:
            row = conn.execute(self._registry_sql().version, {"name": name, "version": number}).first()
            if row is None:
                raise NotFound(f"Model Version (name={name}, version={number}) not found")
            return self._model_versions_of(conn, [row])[0]

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        if not self.supports_model_registry:
            raise NotFound(f"Registered Model with name={name} not found")
        q = self._registry_sql()
        with self._errors(), self.engine.connect() as conn:
            if latest_alias(alias):
                number = conn.execute(q.latest_number, {"name": name}).scalar()
                row = None if number is None else conn.execute(q.version, {"name": name, "version": number}).first()
            else:
                row = conn.execute(q.version_by_alias, {"name": name, "alias": alias}).first()
            if row is None:
                if conn.execute(q.model_exists, {"name": name}).first() is None:
                    raise NotFound(f"Registered Model with name={name} not found")
                if latest_alias(alias):
                    raise NotFound(f"Latest version not found for model {name}.")
                raise NotFound(f"Registered model alias {alias} not found.")
            return self._model_versions_of(conn, [row])[0]

    # -- building values ----------------------------------------------------------------------------

    def _registry_sql(self) -> RegistryQueries:
        if self._registry_queries is None:
            tables = self.tables.registry
            assert tables is not None, "callers check supports_model_registry first"
            self._registry_queries = RegistryQueries(tables, self.dialect)
        return self._registry_queries

    def _registered_models_of(self, conn: Connection, rows: Sequence[Any]) -> list[RegisteredModel]:
        """RegisteredModels for page rows: tags, aliases, latest version per stage (and their
        tags) in four queries for the whole page."""
        q = self._registry_sql()
        names = [row.name for row in rows]
        tags: dict[str, dict[str, str]] = defaultdict(dict)
        for name, key, value in self._rows_by_names(conn, q.model_tags, names):
            tags[name][key] = value
        aliases = self._alias_map(conn, names)
        latest: dict[str, list[ModelVersion]] = defaultdict(list)
        for version in self._model_versions_of(conn, self._rows_by_names(conn, q.latest_versions, names), aliases):
            latest[version.name].append(version)
        return [RegisteredModel(
            name=row.name, creation_timestamp=row.creation_time, last_updated_timestamp=row.last_updated_time,
            description=row.description, tags=tags.get(row.name, {}), aliases=aliases.get(row.name, {}),
            latest_versions=tuple(latest.get(row.name, ())),
        ) for row in rows]

    def _model_versions_of(self, conn: Connection, rows: Sequence[Any], aliases: Aliases | None = None) -> list[ModelVersion]:
        """ModelVersions for rows: the tags of exactly these versions in one query, and the
        models' aliases in another unless given."""
        if not rows:
            return []
        if aliases is None:
            aliases = self._alias_map(conn, sorted({row.name for row in rows}))
        tags = self._tags_of_versions(conn, [(row.name, row.version) for row in rows])
        by_version: dict[tuple[str, str], list[str]] = defaultdict(list)
        for name, pairs in aliases.items():
            for alias, number in pairs.items():
                by_version[(name, number)].append(alias)
        out = []
        for row in rows:
            number = str(row.version)
            source = row.source
            out.append(ModelVersion(
                name=row.name, version=number, creation_timestamp=row.creation_time,
                last_updated_timestamp=row.last_updated_time, description=row.description, user_id=row.user_id,
                current_stage=row.current_stage or "None", source=source, run_id=row.run_id or None,
                run_link=row.run_link or None, status=row.status or "READY", status_message=row.status_message,
                tags=tags.get((row.name, row.version), {}), aliases=tuple(by_version.get((row.name, number), ())),
                model_id=model_id_from_source(source) if source and source.startswith("models:/") else None,
            ))
        return out

    def _alias_map(self, conn: Connection, names: Sequence[str]) -> Aliases:
        pairs: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for name, alias, number in self._rows_by_names(conn, self._registry_sql().aliases, names):
            pairs[name].append((alias, str(number)))
        return {name: dict(sorted(found)) for name, found in pairs.items()}

    def _tags_of_versions(self, conn: Connection, keys: list[tuple[str, int]]) -> dict[tuple[str, int], dict[str, str]]:
        """(name, version) → tags, for exactly those versions."""
        wanted = set(keys)
        numbers = sorted({number for _, number in wanted})
        out: dict[tuple[str, int], dict[str, str]] = defaultdict(dict)
        for name, version, key, value in self._rows_by_names(conn, self._registry_sql().version_tags,
                                                        sorted({n for n, _ in wanted}), numbers=numbers):
            if (name, version) in wanted:
                out[(name, version)][key] = value
        return out

    def _rows_by_names(self, conn: Connection, stmt, names: Sequence[str], **params) -> list:
        """The rows of a statement over `:names`, asked in slices of names."""
        if not names:
            return []
        if len(names) <= _NAMES_PER_QUERY:
            return list(conn.execute(stmt, {"names": list(names), **params}).all())
        rows: list = []
        for start in range(0, len(names), _NAMES_PER_QUERY):
            rows += conn.execute(stmt, {"names": list(names[start:start + _NAMES_PER_QUERY]), **params}).all()
        return rows
