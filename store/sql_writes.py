"""Write operations of the SQL backend, as a mixin on SqlStore (see store/sql.py)."""

from __future__ import annotations


class SqlWrites:
    """Writes on MLflow's tables, exactly as mlflow would write them."""
