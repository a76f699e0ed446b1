"""Connection handling on a shared database server (store/sql/connect.py), against the real
PostgreSQL and MariaDB/MySQL of TRACKTUI_TEST_POSTGRES_URL / TRACKTUI_TEST_MYSQL_URL: the
statement timeout cancels a runaway query with a clear message, a connection the server killed
is replaced (idle) or reported clearly (in use), reads run in read-only transactions on
PostgreSQL while writes still work, and an exhausted pool fails clearly.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tracktui.store.errors import StoreError, Unreachable, UnsupportedURI
from tracktui.store.sql import SqlStore, connect

SERVER_KINDS = ("postgres", "mysql")


@pytest.fixture(params=SERVER_KINDS)
def server_uri(request) -> str:
    """The URI of the populated fixture database on this server (shared: nothing is written)."""
    return request.getfixturevalue(f"{request.param}_backend").uri


def _sleep_sql(dialect: str, seconds: float) -> str:
    return f"SELECT pg_sleep({seconds})" if dialect == "postgresql" else f"SELECT SLEEP({seconds})"


def _session_id_sql(dialect: str) -> str:
    return "SELECT pg_backend_pid()" if dialect == "postgresql" else "SELECT CONNECTION_ID()"


def _kill(store: SqlStore, session_id: int) -> None:
    """End a session from another connection, as an administrator would."""
    admin = sa.create_engine(store.engine.url, poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as conn:
            if store.dialect == "postgresql":
                assert conn.exec_driver_sql(f"SELECT pg_terminate_backend({session_id})").scalar()
            else:
                conn.exec_driver_sql(f"KILL {session_id}")
    finally:
        admin.dispose()


def test_a_query_past_the_statement_timeout_is_cancelled_with_a_clear_message(server_uri, monkeypatch):
    monkeypatch.setenv(connect.STATEMENT_TIMEOUT_ENV, "0.2")
    with SqlStore(server_uri) as store:
        with pytest.raises(StoreError, match=r"ran past the statement timeout \(0.2 s\).*TRACKTUI_SQL_STATEMENT_TIMEOUT"):
            with store._errors(), store.engine.connect() as conn:
                # MySQL lets SLEEP return early; a slow SELECT is what max_execution_time stops
                sql = _sleep_sql(store.dialect, 3) if store.dialect == "postgresql" else (
                    "SELECT COUNT(*) FROM information_schema.columns a, information_schema.columns b,"
                    " information_schema.columns c WHERE SLEEP(0.01) = 0"
                )
                conn.exec_driver_sql(sql).all()
        # the connection pool is still usable afterwards
        assert store.get_experiment("0").name == "Default"


def test_postgresql_sessions_do_not_jit_compile(postgres_backend):
    """A query costly enough for PostgreSQL's JIT (jit_above_cost) runs without it: the
    compile cost seconds on large stores and is never paid back (store/sql/connect.py)."""
    with SqlStore(postgres_backend.uri) as store, store.engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW jit").scalar() == "off"
        conn.exec_driver_sql("SET LOCAL jit_above_cost = 0")  # every query qualifies
        plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN ANALYZE SELECT count(*) FROM runs"))
        assert "JIT" not in plan


def test_without_a_timeout_a_slow_query_finishes(server_uri, monkeypatch):
    monkeypatch.setenv(connect.STATEMENT_TIMEOUT_ENV, "0")
    with SqlStore(server_uri) as store, store.engine.connect() as conn:
        conn.exec_driver_sql(_sleep_sql(store.dialect, 0.3)).all()


def test_a_statement_timeout_that_is_no_number_is_refused(monkeypatch):
    monkeypatch.setenv(connect.STATEMENT_TIMEOUT_ENV, "soon")
    with pytest.raises(UnsupportedURI, match="TRACKTUI_SQL_STATEMENT_TIMEOUT='soon'"):
        connect.create_engine("postgresql://u@127.0.0.1:1/db")


def test_an_idle_connection_the_server_killed_is_replaced(server_uri):
    with SqlStore(server_uri) as store:
        with store.engine.connect() as conn:
            session = conn.exec_driver_sql(_session_id_sql(store.dialect)).scalar()
        _kill(store, session)  # the connection now sits in the pool, dead
        assert store.get_experiment("0").name == "Default"
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql(_session_id_sql(store.dialect)).scalar() != session


def test_a_connection_killed_while_in_use_is_reported_in_one_clear_line(server_uri):
    with SqlStore(server_uri) as store:
        with pytest.raises(Unreachable, match="closed the connection") as caught:
            with store._errors(), store.engine.connect() as conn:
                _kill(store, conn.exec_driver_sql(_session_id_sql(store.dialect)).scalar())
                conn.exec_driver_sql("SELECT 1").all()
        assert "\n" not in caught.value.message
        # and the next call gets a live connection
        assert store.get_experiment("0").name == "Default"


def test_postgresql_reads_are_read_only_and_writes_still_work(postgres_backend):
    with SqlStore(postgres_backend.uri) as store:
        no_op_write = "UPDATE experiments SET name = name WHERE 1 = 0"
        with pytest.raises(sa.exc.InternalError, match="read-only transaction"):
            with store.engine.connect() as conn:
                conn.exec_driver_sql(no_op_write)
        store._transaction(lambda conn: conn.exec_driver_sql(no_op_write))


def test_the_pool_is_bounded_and_says_so_when_exhausted(postgres_backend, monkeypatch):
    monkeypatch.setattr(connect, "POOL_TIMEOUT_S", 0.2)
    with SqlStore(postgres_backend.uri) as store:
        held = [store.engine.connect() for _ in range(connect.POOL_SIZE + connect.POOL_MAX_OVERFLOW - 1)]
        # (one more is already held by nobody: SqlStore returned its own at open)
        held.append(store.engine.connect())
        try:
            with pytest.raises(StoreError, match=r"All 8 connections to .* stayed busy"):
                store.get_experiment("0")
        finally:
            for conn in held:
                conn.close()
        assert store.get_experiment("0").name == "Default"
