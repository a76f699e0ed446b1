"""Turning a database tracking URI into a SQLAlchemy engine, and database failures into
StoreErrors a person can act on (missing driver, unreachable server, locked SQLite file...).

URIs are the ones mlflow accepts: `sqlite:///path.db`, `postgresql://` (psycopg2 by default),
`mysql+pymysql://` (plain `mysql://` too), `mssql+pyodbc://`.

A shared database server gets a well-behaved client: a bounded pool (a burst of screens waits
for a connection, then fails clearly, rather than opening dozens), a ping before a pooled
connection is reused (the server may have closed it), a statement timeout where the dialect has
one (`TRACKTUI_SQL_STATEMENT_TIMEOUT` seconds, default 60, 0 = none: a runaway filter never
holds locks or a connection for minutes) and, on PostgreSQL, read-only sessions whose write
transactions say `READ WRITE` (store/sql/transactions.py) and no JIT compilation.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from ..errors import AuthFailed, SchemaError, StoreError, Unreachable, UnsupportedURI
from ..uris import mask_uri

#: dialect → (what to install, the driver module SQLAlchemy uses by default).
_DRIVER_HINTS = {
    "postgresql": "pip install 'tracktui[postgres]' (psycopg2)",
    "mysql": "pip install 'tracktui[mysql]' and use a mysql+pymysql:// URI",
    "mssql": "pip install pyodbc (and the Microsoft ODBC driver)",
}
_SERVER_CONNECT_TIMEOUT_S = 10
_ENCODE_HINT = (
    " (percent-encode special characters of the user name and password: '@' as %40, '/' as %2F, "
    "':' as %3A)"
)
SQLITE_BUSY_TIMEOUT_MS = 20000
#: Connections to a database server: kept open, and opened on top in a burst. The TUI runs a
#: few store calls at once and copies use 4 workers; more would only queue on the server.
POOL_SIZE = 4
POOL_MAX_OVERFLOW = 4
#: Seconds a store call waits for a free pooled connection before failing.
POOL_TIMEOUT_S = 30
STATEMENT_TIMEOUT_ENV = "TRACKTUI_SQL_STATEMENT_TIMEOUT"
DEFAULT_STATEMENT_TIMEOUT_S = 60.0


def create_engine(uri: str) -> tuple[sa.Engine, str]:
    """An engine for the URI and its dialect name ("sqlite", "postgresql", "mysql", "mssql").

    Raises UnsupportedURI (malformed URI, unknown or missing driver) and SchemaError (a SQLite
    file that does not exist: opening never creates a database)."""
    shown = mask_uri(uri)
    try:
        url = make_url(uri)
    except sa.exc.ArgumentError:
        raise UnsupportedURI(f"Malformed database URI {shown!r}") from None
    except ValueError:  # SQLAlchemy's int(port): its message can hold part of the password
        raise UnsupportedURI(f"Malformed database URI {shown!r}: the port is not a number{_ENCODE_HINT}") from None
    if "@" in (url.host or ""):
        # `user:p@ss@host`: SQLAlchemy splits at the first `@` and would send the rest of the
        # password to DNS as part of a host name (and show it in the driver's error).
        raise UnsupportedURI(f"Malformed database URI {shown!r}: the host name holds an '@'{_ENCODE_HINT}")
    dialect = url.get_backend_name()
    if dialect == "postgres":  # an alias people type; SQLAlchemy only knows "postgresql"
        url = url.set(drivername="postgresql" + (f"+{url.get_driver_name()}" if "+" in url.drivername else ""))
        dialect = "postgresql"
    if "+" not in url.drivername:
        url = _default_driver(url, dialect)
    kwargs: dict = {}
    if dialect == "sqlite":
        _check_sqlite_file(url, shown)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    elif dialect in ("postgresql", "mysql", "mssql"):
        kwargs.update(pool_pre_ping=True, pool_recycle=1800, pool_size=POOL_SIZE,
                      max_overflow=POOL_MAX_OVERFLOW, pool_timeout=POOL_TIMEOUT_S)
        driver = url.get_driver_name()
        if driver in ("psycopg2", "psycopg", "pymysql", "mysqldb"):
            kwargs["connect_args"] = {"connect_timeout": _SERVER_CONNECT_TIMEOUT_S}
        if dialect == "postgresql" and driver in ("psycopg2", "psycopg"):
            kwargs["connect_args"]["options"] = _postgresql_session_options(statement_timeout_s())
    else:
        raise UnsupportedURI(
            f"Unsupported database URI {shown!r}: expected sqlite:///, postgresql://, "
            "mysql+pymysql:// or mssql+pyodbc://"
        )
    try:
        engine = sa.create_engine(url, **kwargs)
    except sa.exc.NoSuchModuleError:
        raise UnsupportedURI(
            f"Unknown database driver {url.drivername!r} in {shown!r}: "
            + _DRIVER_HINTS.get(dialect, "use sqlite:///, postgresql://, mysql+pymysql:// or mssql+pyodbc://")
        ) from None
    except ImportError as exc:
        hint = _DRIVER_HINTS.get(dialect, "install the database driver")
        raise UnsupportedURI(
            f"The {url.drivername} driver module {exc.name or ''!s} is not installed, "
            f"needed for {shown!r}: {hint}"
        ) from None
    if dialect == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    elif dialect == "mysql":
        sa.event.listen(engine, "connect", _mysql_session)
    return engine, dialect


def statement_timeout_s() -> float:
    """The statement timeout in seconds from TRACKTUI_SQL_STATEMENT_TIMEOUT (0: none). Read at
    each engine's creation; a value that is no number raises UnsupportedURI, which says so."""
    raw = os.environ.get(STATEMENT_TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_STATEMENT_TIMEOUT_S
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:
        raise UnsupportedURI(f"{STATEMENT_TIMEOUT_ENV}={raw!r}: expected a number of seconds (0 for no timeout)")
    return seconds


def _postgresql_session_options(timeout_s: float) -> str:
    """libpq `options`: every statement is cancelled after the timeout, transactions are
    read-only unless a write transaction asks for READ WRITE, and JIT compilation is off: set
    once per connection, so the read path pays nothing.

    JIT: PostgreSQL compiles a query whose cost estimate passes `jit_above_cost`, as a scan of
    a large `runs`/`params`/`latest_metrics` does; tracktui runs each query once, so the
    compile is not paid back. On the 1M-run bench store (bench_scale.py --explain; load 17 on 2
    cores) the group-by over 500k runs compiled for 4.9 s and took 22.1 s with JIT, 19.3-19.6 s
    without; a metric-sorted page compiled for 0.15 s and was within the noise either way."""
    options = "-c default_transaction_read_only=on -c jit=off"
    if timeout_s:
        options += f" -c statement_timeout={max(1, round(timeout_s * 1000))}"
    return options


def _mysql_session(dbapi_connection, _record) -> None:
    """Once per new connection: MariaDB's `max_statement_time` (seconds, every statement) or
    MySQL's `max_execution_time` (milliseconds, SELECTs only); on MySQL 8 also table statistics
    read from the engine rather than a cache up to a day old (store/sql/runs_path.py sizes
    `runs` with them)."""
    timeout_s = statement_timeout_s()
    server = str(dbapi_connection.get_server_info())
    mariadb = "mariadb" in server.lower()
    cursor = dbapi_connection.cursor()
    if timeout_s and mariadb:
        cursor.execute(f"SET SESSION max_statement_time = {timeout_s:.3f}")
    elif timeout_s:
        cursor.execute(f"SET SESSION max_execution_time = {max(1, round(timeout_s * 1000))}")
    if not mariadb and _major_version(server) >= 8:
        cursor.execute("SET SESSION information_schema_stats_expiry = 0")
    cursor.close()


def _major_version(server: str) -> int:
    match = re.match(r"\d+", server)
    return int(match.group()) if match else 0


#: For a URI without a driver: the installed driver to use, in order of preference. mlflow's
#: `postgresql://` meant psycopg2 (SQLAlchemy 2.1 now defaults to psycopg 3); `mysql://` means
#: MySQLdb, and PyMySQL is what our extra installs.
_DEFAULT_DRIVERS = {
    "postgresql": (("psycopg2", "psycopg2"), ("psycopg", "psycopg")),
    "mysql": (("mysqldb", "MySQLdb"), ("pymysql", "pymysql")),
}


def _default_driver(url, dialect: str):
    """Pick an installed driver for a driver-less URI. None installed: SQLAlchemy's own default
    stays, and its ImportError becomes the install hint."""
    for driver, module in _DEFAULT_DRIVERS.get(dialect, ()):
        if importlib.util.find_spec(module) is not None:
            return url.set(drivername=f"{dialect}+{driver}")
    return url


def _check_sqlite_file(url, shown: str) -> None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        if not database or database == ":memory:":
            raise SchemaError(f"{shown!r} is an empty in-memory database, not an MLflow store")
        return  # a SQLite URI filename: let SQLite resolve it
    path = Path(database).expanduser()
    if not path.is_file():
        raise SchemaError(
            f"No MLflow database at {shown!r}: the file {str(path)!r} does not exist "
            "(tracktui never creates a database when opening one)"
        )


def sqlite_write_refusal(engine: sa.Engine) -> str | None:
    """Why SQLite will refuse writes to this database (a read-only file or folder, a
    `mode=ro` URI), or None. Asked at open, so the status bar says read-only before the
    first write fails: a no-op DELETE needs a write transaction, which SQLite refuses at
    once on a read-only database, and is rolled back (the file is not touched)."""
    database = engine.url.database or ""
    path = Path(database).expanduser()
    if not database.startswith("file:") and path.is_file() and not os.access(path.parent, os.W_OK):
        return f"the folder of the SQLite database {str(path)!r} is not writable (its journal cannot be created); opened read-only"
    with engine.connect() as conn:
        # never wait for another writer here: SQLite checks read-only before it locks, so a
        # busy database is a writable one
        conn.exec_driver_sql("PRAGMA busy_timeout = 0")
        try:
            conn.exec_driver_sql("DELETE FROM experiments WHERE 0 = 1")
        except sa.exc.OperationalError as exc:
            if "readonly" in str(exc.orig).replace(" ", "").lower():
                return f"the SQLite database {database!r} is read-only (file permissions or mode=ro); opened read-only"
            if "locked" not in str(exc.orig) and "busy" not in str(exc.orig):
                raise
        finally:
            conn.rollback()
            conn.exec_driver_sql(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    return None


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """What mlflow sets on every SQLite session: FK cascades, a busy wait instead of instant
    'database is locked', and the case-sensitive LIKE its search relies on."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA case_sensitive_like = true")
    cursor.close()
    # RLIKE in trace filters: SQLite has the REGEXP operator but no function behind it.
    dbapi_connection.create_function("regexp", 2, _regexp, deterministic=True)


def _regexp(pattern: str | None, value: str | None) -> bool:
    """`value REGEXP pattern` as MLflow's SQLite connections define it (Python's re.search;
    a bad pattern or a NULL matches nothing)."""
    if pattern is None or value is None:
        return False
    try:
        return re.search(pattern, value) is not None
    except re.error:
        return False


@contextlib.contextmanager
def translated_errors(display_uri: str, dialect: str):
    """Re-raise SQLAlchemy/driver failures as StoreErrors; StoreErrors pass through."""
    try:
        yield
    except StoreError:
        raise
    except sa.exc.DBAPIError as exc:
        raise database_error(exc, display_uri, dialect) from None
    except sa.exc.TimeoutError:
        raise pool_exhausted(display_uri) from None
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(f"Database error on {display_uri}: {exc}") from None


def database_error(exc: sa.exc.DBAPIError, display_uri: str, dialect: str) -> StoreError:
    """The StoreError a person can act on for a driver error."""
    orig = exc.orig
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    low = str(orig).lower()
    args = getattr(orig, "args", None)
    code = args[0] if args and isinstance(args[0], int) else None
    if _statement_timed_out(orig, code, low):
        return StoreError(
            f"The query on {display_uri} ran past the statement timeout ({statement_timeout_s():g} s) and was "
            f"cancelled: narrow the filter, or raise {STATEMENT_TIMEOUT_ENV} (seconds, 0 = none)"
        )
    if _server_closed(orig, code, low):
        return Unreachable(
            f"The database server closed the connection to {display_uri} (restarted, or the connection "
            f"was killed): {text}; try again"
        )
    if "database is locked" in low or "database table is locked" in low:
        return StoreError(
            f"The SQLite database {display_uri} stayed locked by another process for "
            f"{SQLITE_BUSY_TIMEOUT_MS // 1000} s (a long write in progress?); try again"
        )
    if "unable to open database file" in low:
        return Unreachable(f"Cannot open the SQLite database {display_uri}: {text}")
    if "password authentication failed" in low or code == 1045 or "access denied" in low:
        return AuthFailed(f"The database refused the credentials for {display_uri}: {text}")
    if code == 1049 or ("database" in low and "does not exist" in low):
        return SchemaError(f"No such database at {display_uri}: {text}")
    if (
        code in (2002, 2003, 2005, 2006, 2013)
        or "could not connect" in low
        or "connection refused" in low
        or "could not translate host name" in low
        or "timeout expired" in low
        or "can't connect" in low
        or isinstance(exc, sa.exc.InterfaceError)
    ):
        return Unreachable(f"Cannot reach the database server at {display_uri}: {text}")
    if "no such table" in low or "doesn't exist" in low or "undefinedtable" in low:
        return SchemaError(f"{display_uri} is missing an MLflow table: {text}")
    return StoreError(f"Database error on {display_uri} ({dialect}): {text}")


def pool_exhausted(display_uri: str) -> StoreError:
    """Every pooled connection stayed busy for POOL_TIMEOUT_S (slow queries piling up)."""
    return StoreError(
        f"All {POOL_SIZE + POOL_MAX_OVERFLOW} connections to {display_uri} stayed busy for {POOL_TIMEOUT_S} s "
        "(slow queries?); try again"
    )


#: MySQL's max_execution_time, MariaDB's max_statement_time.
_MYSQL_TIMEOUT_CODES = (3024, 1969)
#: MySQL/MariaDB: server gone away, lost connection, connection killed, server shutdown.
_MYSQL_CLOSED_CODES = (2006, 2013, 1927, 1053)


def _statement_timed_out(orig: object, code: int | None, low: str) -> bool:
    return (
        getattr(orig, "pgcode", None) == "57014" and "statement timeout" in low
    ) or code in _MYSQL_TIMEOUT_CODES


def _server_closed(orig: object, code: int | None, low: str) -> bool:
    # 57P01: terminated by an administrator (pg_terminate_backend); 57P02/57P03: shutting down
    return (
        getattr(orig, "pgcode", None) in ("57P01", "57P02", "57P03")
        or "server closed the connection" in low
        or "terminating connection" in low
        or code in _MYSQL_CLOSED_CODES
    )
