"""The contract-suite parametrization: every test using `backend_uri`, `store` or
`mlflow_client` runs once per backend (sqlite, postgres, mysql, file, rest)."""

from __future__ import annotations

import pytest

from fixtures.backends import BACKENDS, require_backend_module
from fixtures.private_stores import Private, make_private


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


@pytest.fixture(scope="module")
def _privates():
    made: dict[str, Private] = {}
    yield made
    for private in made.values():
        private.close()


@pytest.fixture
def w(backend_kind, _privates, tmp_path_factory, request, monkeypatch) -> Private:
    """The module's private store for this backend (built on first use). The test runs in the
    store's folder: mlflow puts a SQL store's artifacts under ./mlruns of the cwd."""
    if backend_kind == "file":
        monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    if backend_kind not in _privates:
        _privates[backend_kind] = make_private(backend_kind, tmp_path_factory.mktemp(f"w-{backend_kind}"), request)
    monkeypatch.chdir(_privates[backend_kind].home)
    return _privates[backend_kind]
