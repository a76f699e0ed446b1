"""Writes to an `mlruns` tree, as mlflow's FileStore makes them (filled in by issue 4)."""

from __future__ import annotations


class FileWrites:
    """Mixin of FileStore's write operations."""
