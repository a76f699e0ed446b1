"""What SqlStore's mixins may use of the store they are mixed into, declared once.

SqlStore is assembled from mixins (traces, trace writes, writes, purge, transactions), one
module each, that share the store's connection state. `SqlHost` declares that state and the
store methods the mixins call, so a reader and mypy both see the contract. Each mixin
subclasses it only while type checking (`if TYPE_CHECKING: from .host import SqlHost` /
`else: SqlHost = object`): at run time the mixins stay plain classes.

It is a Store (not a bare Protocol) so the mixins also see, and are checked against, the
Store protocol they help implement.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..base import Store
from ..search import Comparison
from ..traces.assessments import Assessment
from .schema import Tables

T = TypeVar("T")


class SqlHost(Store):
    """The SqlStore state and helpers its mixins rely on."""

    #: The pooled engine (usable from worker threads).
    engine: sa.Engine
    #: "sqlite", "postgresql", "mysql" or "mssql".
    dialect: str
    #: MLflow's tables as this database has them (optional ones None when missing).
    tables: Tables

    @abstractmethod
    def _errors(self) -> AbstractContextManager[object]:
        """A context that re-raises driver failures as StoreErrors (store.sql.connect)."""

    @abstractmethod
    def _assessments_by_trace(self, conn: Connection, trace_ids: Iterable[str]) -> dict[str, tuple[Assessment, ...]]:
        """Trace id → its assessments (store.sql.assessments)."""

    @abstractmethod
    def _assessment_clause(self, c: Comparison, request_id: sa.ColumnElement) -> sa.ColumnElement:
        """A `feedback.`/`expectation.` filter clause on trace_info (store.sql.assessments)."""

    @abstractmethod
    def _import_assessments(self, conn: Connection, trace_id: str, assessments: Sequence[Assessment]) -> tuple[str, ...]:
        """Write a copied trace's assessments as they were (store.sql.assessments)."""

    @abstractmethod
    def _transaction(self, work: Callable[[Connection], T]) -> T:
        """Run `work` in one write transaction, retried whole on lock errors (store.sql.transactions)."""
