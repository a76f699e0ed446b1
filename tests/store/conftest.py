"""The contract-suite parametrization: every test using `backend_uri`, `store` or
`mlflow_client` runs once per backend (sqlite, postgres, mysql, file, rest)."""

from __future__ import annotations

import pytest

from fixtures.backends import BACKENDS, require_backend_module


@pytest.fixture(params=BACKENDS)
def backend_kind(request) -> str:
    return request.param


@pytest.fixture
def backend_uri(backend_kind, request):
    """(uri, FixtureInfo) of the populated fixture store for this backend."""
    require_backend_module(backend_kind)
    info = request.getfixturevalue(f"{backend_kind}_backend")
    return info.uri, info


@pytest.fixture
def info(backend_uri):
    return backend_uri[1]


@pytest.fixture
def store(backend_kind, backend_uri, request):
    """tracktui's store over this backend's fixture data (shared for the session: read only)."""
    return request.getfixturevalue(f"{backend_kind}_store")


@pytest.fixture
def mlflow_client(backend_kind, backend_uri, monkeypatch):
    """The real MlflowClient on the same store, for differential comparison."""
    import mlflow

    if backend_kind == "file":
        monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    return mlflow.MlflowClient(backend_uri[0])
