"""The SQL backend: SQLAlchemy Core on MLflow's own tables (SQLite, PostgreSQL, MySQL/MariaDB, MSSQL).

`store.py` is the Store; the other modules each hold one part of it (connecting, schema
checks, filters compiled to SQL, metric histories, writes, traces). The DDL mlflow itself
writes for a new database lies in `ddl/`.
"""

from .store import SqlStore

__all__ = ["SqlStore"]
