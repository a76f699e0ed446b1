"""The SQL statements of the registry reads (store/sql/registry.py), built once per store.

Point reads take bound parameters (`:name`, `:version`, `:alias`, expanding `:names` /
`:numbers` lists) so each call only binds values: building a SQLAlchemy statement costs more
than SQLite spends answering a point query (bench/bench_registry.py: resolving an alias went
from 1.6 ms to 0.2 ms, the raw-SQL floor's time; a model's versions from 8.4 to 0.6 ms). Search pages depend on the filter, so their
statements are built per distinct (filter, order) and kept in a small LRU.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import sqlalchemy as sa

from ..registry import IS_PROMPT_TAG
from ..search import Comparison, OrderKey
from .filters import compare
from .schema import RegistryTables

DELETED_STAGE = "Deleted_Internal"
DEFAULT_WORKSPACE = "default"
_MODEL_COLUMNS = {"name": "name", "last_updated_timestamp": "last_updated_time", "creation_timestamp": "creation_time"}
_VERSION_COLUMNS = {"name": "name", "version_number": "version", "run_id": "run_id", "source_path": "source",
                    "last_updated_timestamp": "last_updated_time", "creation_timestamp": "creation_time"}


class RegistryQueries:
    """Statements over one database's registry tables (`dialect` decides case rules)."""

    def __init__(self, tables: RegistryTables, dialect: str):
        self.t = tables
        self.dialect = dialect
        rm, mv, aliases = tables.registered_models, tables.model_versions, tables.registered_model_aliases
        name: sa.BindParameter[str] = sa.bindparam("name")
        version: sa.BindParameter[int] = sa.bindparam("version")
        alias: sa.BindParameter[str] = sa.bindparam("alias")
        names: sa.BindParameter[list[str]] = sa.bindparam("names", expanding=True)
        live = (mv.c.current_stage != DELETED_STAGE, *self.workspace(mv))
        self.model = sa.select(rm).where(rm.c.name == name, *self.workspace(rm))
        self.model_exists = sa.select(rm.c.name).where(rm.c.name == name, *self.workspace(rm))
        self.version = sa.select(mv).where(mv.c.name == name, mv.c.version == version, *live)
        self.version_by_alias = (
            sa.select(mv).join(aliases, sa.and_(aliases.c.name == mv.c.name, aliases.c.version == mv.c.version,
                                                *self._same_workspace(aliases, mv)))
            .where(aliases.c.name == name, aliases.c.alias == alias, *self.workspace(aliases), *live))
        self.latest_number = sa.select(sa.func.max(mv.c.version)).where(mv.c.name == name, *live)
        tags, vtags = tables.registered_model_tags, tables.model_version_tags
        self.model_tags = sa.select(tags.c.name, tags.c.key, tags.c.value).where(tags.c.name.in_(names),
                                                                                *self.workspace(tags))
        self.aliases = sa.select(aliases.c.name, aliases.c.alias, aliases.c.version).where(
            aliases.c.name.in_(names), *self.workspace(aliases))
        # name IN … AND version IN …, narrowed by the caller: SQLite plans a row-value IN as a
        # scan (40 ms against 0.7 ms for the latest versions of a page of 100 models).
        self.version_tags = sa.select(vtags.c.name, vtags.c.version, vtags.c.key, vtags.c.value).where(
            vtags.c.name.in_(names), vtags.c.version.in_(sa.bindparam("numbers", expanding=True)),
            *self.workspace(vtags))
        top = (sa.select(mv.c.name, mv.c.current_stage, sa.func.max(mv.c.version).label("top"))
               .where(mv.c.name.in_(names), *live).group_by(mv.c.name, mv.c.current_stage).subquery())
        self.latest_versions = (sa.select(mv).join(top, sa.and_(mv.c.name == top.c.name, mv.c.version == top.c.top))
                                .where(*self.workspace(mv)).order_by(mv.c.name, mv.c.version.desc()))
        self.models_page = lru_cache(maxsize=64)(self._models_page)
        self.versions_page = lru_cache(maxsize=64)(self._versions_page)

    # -- search pages (LIMIT :limit OFFSET :offset) ---------------------------------------------------

    def _models_page(self, comparisons: tuple[Comparison, ...], prompts: bool, order: tuple[OrderKey, ...]):
        rm, tags = self.t.registered_models, self.t.registered_model_tags
        clauses = [*self.workspace(rm), self._prompt_clause(tags, [rm.c.name], prompts)]
        for c in comparisons:
            if c.kind == "tag":
                clauses.append(self._tag_exists(tags, [rm.c.name], c))
            else:
                clauses.append(compare(rm.c.name, c.op, c.value, self.dialect))
        return self._paged(sa.select(rm).where(*clauses), [(rm.c[_MODEL_COLUMNS[k.key]], k.ascending) for k in order])

    def _versions_page(self, comparisons: tuple[Comparison, ...], prompts: bool, order: tuple[OrderKey, ...]):
        mv, tags = self.t.model_versions, self.t.model_version_tags
        keys = [mv.c.name, mv.c.version]
        clauses = [*self.workspace(mv), mv.c.current_stage != DELETED_STAGE, self._prompt_clause(tags, keys, prompts)]
        for c in comparisons:
            if c.kind == "tag":
                clauses.append(self._tag_exists(tags, keys, c))
            else:
                numeric = c.key == "version_number"
                clauses.append(compare(mv.c[_VERSION_COLUMNS[c.key]], c.op, c.value, self.dialect,
                                       text_column=not numeric))
        return self._paged(sa.select(mv).where(*clauses), [(mv.c[_VERSION_COLUMNS[k.key]], k.ascending) for k in order])

    @staticmethod
    def _paged(stmt: sa.Select, ordering: Sequence[tuple[sa.ColumnElement, bool]]) -> sa.Select:
        return (stmt.order_by(*(col.asc() if asc else col.desc() for col, asc in ordering))
                .limit(sa.bindparam("limit", type_=sa.Integer)).offset(sa.bindparam("offset", type_=sa.Integer)))

    # -- clauses --------------------------------------------------------------------------------------

    @staticmethod
    def workspace(table: sa.Table) -> list:
        """`workspace = 'default'` where the table has the column (MLflow 3.10+)."""
        return [table.c.workspace == DEFAULT_WORKSPACE] if "workspace" in table.c else []

    @staticmethod
    def _same_workspace(a: sa.Table, b: sa.Table) -> list:
        return [a.c.workspace == b.c.workspace] if "workspace" in a.c and "workspace" in b.c else []

    def _tag_exists(self, tags: sa.Table, keys: list, c: Comparison):
        """EXISTS a tag row with the key (matched exactly) and a value satisfying the clause."""
        key = compare(tags.c.key, "=", c.key, self.dialect)
        value = compare(tags.c.value, c.op, c.value, self.dialect)
        return sa.exists().where(*_same_row(tags, keys), key, value, *self.workspace(tags))

    def _prompt_clause(self, tags: sa.Table, keys: list, prompts: bool):
        """Prompts only, or no prompts, by the prompt tag (MLflow compares its value exactly)."""
        marked = sa.exists().where(*_same_row(tags, keys), tags.c.key == IS_PROMPT_TAG,
                                   compare(tags.c.value, "=", "true", self.dialect), *self.workspace(tags))
        return marked if prompts else ~marked


def _same_row(tags: sa.Table, keys: list) -> list:
    """The child table's key columns equal to the parent's (name, or name and version)."""
    return [tags.c[k.name] == k for k in keys]
