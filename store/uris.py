"""Tracking-URI resolution exactly as MLflow does it, and the backend registry.

A new backend is one module plus one line in `_BACKENDS`.
"""

from __future__ import annotations

import importlib
import os
import re
from pathlib import Path

from .base import Store
from .errors import UnsupportedURI

#: scheme → "module:Class". DB schemes may carry a driver (`mysql+pymysql`).
_BACKENDS = {
    "sqlite": "tracktui.store.sql:SqlStore",
    "postgresql": "tracktui.store.sql:SqlStore",
    "postgres": "tracktui.store.sql:SqlStore",
    "mysql": "tracktui.store.sql:SqlStore",
    "mssql": "tracktui.store.sql:SqlStore",
    "file": "tracktui.store.files:FileStore",
    "http": "tracktui.store.rest:RestStore",
    "https": "tracktui.store.rest:RestStore",
}

_EXPECTED = (
    "sqlite:///path.db, postgresql://…, mysql+pymysql://…, mssql+pyodbc://…, "
    "file:///path/mlruns or a plain path, http(s)://host:port"
)


def default_tracking_uri(cwd: Path | None = None) -> str:
    """MLflow 3.7+'s default: `./mlruns` if it already holds experiments, else `sqlite:///mlflow.db`."""
    cwd = cwd or Path.cwd()
    mlruns = cwd / "mlruns"
    if mlruns.is_dir() and any((child / "meta.yaml").is_file() for child in mlruns.iterdir()):
        return str(mlruns)
    return "sqlite:///mlflow.db"


def resolve_tracking_uri(uri: str | None = None) -> str:
    """Explicit argument, else MLFLOW_TRACKING_URI, else the default local store."""
    if uri:
        return uri
    env = os.environ.get("MLFLOW_TRACKING_URI", "").strip()
    return env or default_tracking_uri()


def uri_scheme(uri: str) -> str:
    """The backend scheme of a URI: `mysql+pymysql://` → `mysql`; a plain path → `file`."""
    if re.match(r"^[A-Za-z]:[\\/]", uri):  # Windows drive letter
        return "file"
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.\-]*):", uri)
    if not match:
        return "file"
    return match.group(1).split("+", 1)[0].lower()


def mask_uri(uri: str) -> str:
    """The URI with the password in its user-info replaced by `***`: safe to show, log, and
    keep as a key in saved settings.

    Read from the raw text, not through a URL parser: a password holding an unencoded `/`,
    `@`, `?`, `#` or `:` (`postgresql://postgres:Pass/word99@host/db`) is exactly what
    parsers split wrongly, and each would show part of it. Whatever lies between `//` and the
    last `@` counts as `user:password` when its user part holds no `/`; this can also hide a
    host and port in the rare URI whose path holds an `@` (`http://h:5000/a@b` shows as
    `http://h:***@b`), which is the safe side to err on.
    """
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.\-]*://)(.*)$", uri, re.DOTALL)
    if not match:
        return uri
    prefix, rest = match.groups()
    userinfo, at, after = rest.rpartition("@")
    user, colon, _ = userinfo.partition(":")
    if not at or not colon or any(ch in user for ch in "/?#"):
        return uri  # no user-info, or a user name alone (no secret)
    return f"{prefix}{user}:***@{after}"


def open_store(uri: str | None = None, *, read_only: bool = False) -> Store:
    """Open the store a tracking URI names. Raises UnsupportedURI for anything else."""
    resolved = resolve_tracking_uri(uri)
    scheme = uri_scheme(resolved)
    target = _BACKENDS.get(scheme)
    if target is None:
        raise UnsupportedURI(
            f"Unsupported tracking URI {mask_uri(resolved)!r} (scheme {scheme!r}); expected one of: {_EXPECTED}"
        )
    module_name, class_name = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise UnsupportedURI(f"Backend for {scheme!r} URIs is not available yet ({exc.name})") from exc
    backend = getattr(module, class_name)
    return backend(resolved, read_only=read_only)
