"""One short write transaction at a time, safe next to a training process writing the same store.

On SQLite a write transaction starts with `BEGIN IMMEDIATE`: it takes the write lock up front
(waiting on the busy timeout) rather than deciding mid-transaction, so a check and the write
that depends on it see the same data, and SQLite never has to refuse a lock upgrade at once
with "database is locked". Lock timeouts and deadlocks that still happen are retried whole,
with backoff; so is a key conflict, which can only be another writer inserting the same row.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from ..errors import InvalidValue, StoreError
from .connect import database_error, pool_exhausted

if TYPE_CHECKING:
    from .host import SqlHost
else:
    SqlHost = object  # the host is a type-checking contract only (see host.py)

T = TypeVar("T")

_RETRY_DELAYS = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2)
_MAX_CONFLICT_RETRIES = 2
#: Ids per `IN (...)` clause: well under every dialect's bound-parameter limit.
CHUNK = 500


class SqlTransactions(SqlHost):
    """Mixin: `_transaction(work)` for writes, `_read(work)` for reads that must not fail on a lock."""

    def _transaction(self, work: Callable[[Connection], T]) -> T:
        """Run `work` in one write transaction, retrying it whole on lock or deadlock errors.

        A key conflict is retried too (a few times): every write checks before it inserts, so
        a conflict means another writer inserted the same row meanwhile (PostgreSQL/MySQL; on
        SQLite the write lock is taken first). On the retry the check sees that row, and the
        write becomes an update or a clear refusal.
        """
        conflicts = 0
        for delay in (*_RETRY_DELAYS, None):
            try:
                with self.engine.connect() as conn:
                    self._begin_write(conn)
                    result = work(conn)
                    conn.commit()
                    return result
            except IntegrityError as exc:
                conflicts += 1
                if delay is None or conflicts > _MAX_CONFLICT_RETRIES:
                    raise self._translate(exc) from None
                time.sleep(delay * (1 + random.random()))
            except DBAPIError as exc:
                if delay is None or not _is_transient(exc):
                    raise self._translate(exc) from None
                time.sleep(delay * (1 + random.random()))
            except PoolTimeout:
                raise pool_exhausted(getattr(self, "display_uri", "the database")) from None
        raise AssertionError("unreachable")

    def _translate(self, exc: DBAPIError) -> StoreError:
        if isinstance(exc, IntegrityError):
            return InvalidValue(f"The database refused the write: {str(exc.orig).strip().splitlines()[0]}")
        dialect = getattr(self, "dialect", None) or self.engine.dialect.name
        return database_error(exc, getattr(self, "display_uri", "the database"), dialect)

    def _read(self, work: Callable[[Connection], T]) -> T:
        for delay in (*_RETRY_DELAYS, None):
            try:
                with self.engine.connect() as conn:
                    return work(conn)
            except DBAPIError as exc:
                if delay is None or not _is_transient(exc):
                    raise self._translate(exc) from None
                time.sleep(delay * (1 + random.random()))
            except PoolTimeout:
                raise pool_exhausted(getattr(self, "display_uri", "the database")) from None
        raise AssertionError("unreachable")

    def _begin_write(self, conn: Connection) -> None:
        conn.begin()
        if conn.dialect.name == "postgresql":
            # sessions are read-only by default (connect.py); only write transactions lift it
            conn.exec_driver_sql("SET TRANSACTION READ WRITE")
        elif conn.dialect.name == "sqlite" and not getattr(conn.connection.dbapi_connection, "in_transaction", True):
            # pysqlite defers BEGIN to the first INSERT; take the write lock now instead.
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def _is_transient(exc: DBAPIError) -> bool:
    """Lock timeouts, busy databases and deadlocks: retrying the whole transaction helps."""
    orig = getattr(exc, "orig", None)
    text = str(orig or exc).lower()
    if "database is locked" in text or "database table is locked" in text or "database is busy" in text:
        return True
    pgcode = getattr(orig, "pgcode", None)
    if pgcode in ("40001", "40P01", "55P03"):
        return True
    args = getattr(orig, "args", ())
    if args and args[0] in (1205, 1213):  # MySQL/MariaDB lock wait timeout, deadlock
        return True
    return False
