"""Session-wide fixtures: one populated fixture store per backend, built lazily.

`<kind>_backend` (kind in BACKENDS) builds the store the first time a test asks for it and
returns its `FixtureInfo`; `<kind>_store` opens it with tracktui's `open_store` once per session.
`tracking_server` / `tracking_server_url` expose the live `mlflow server` the REST backend uses.
Tests that write must not touch these shared stores: use `sqlite_copy` (a fresh copy) or
create their own experiments.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import pytest

#: Fixture traces are written when their span ends, not by mlflow's background exporter: a
#: flush under load could return before the last trace was stored (the transfer tests then
#: exported two of three). Set before mlflow builds its exporter.
os.environ.setdefault("MLFLOW_ENABLE_ASYNC_TRACE_LOGGING", "false")

from fixtures import backends  # noqa: E402
from fixtures.backends import BACKENDS, require_backend_module
from fixtures.data import FixtureInfo

# Hermetic: never talk to a user's tracking server, never phone home.
os.environ.pop("MLFLOW_TRACKING_URI", None)
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")

_SERVER_ENV = {"postgres": backends.POSTGRES_ENV, "mysql": backends.MYSQL_ENV}
_NOT_RUN: dict[str, str] = {}  # kind -> reason, repeated in the terminal summary


def _server_url_or_skip(kind: str) -> str:
    env = _SERVER_ENV[kind]
    url = os.environ.get(env, "").strip()
    if not url:
        reason = f"{env} is not set: the {kind} contract tests did NOT run"
        if kind not in _NOT_RUN:
            _NOT_RUN[kind] = reason
            warnings.warn(reason, UserWarning, stacklevel=1)
        pytest.skip(reason)
    return url


def pytest_terminal_summary(terminalreporter):
    for reason in _NOT_RUN.values():
        terminalreporter.write_line(f"WARNING: {reason}", yellow=True, bold=True)


# -- populated backends -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_backend(tmp_path_factory) -> FixtureInfo:
    return backends.build_sqlite(tmp_path_factory.mktemp("sqlite"))


@pytest.fixture(scope="session")
def file_backend(tmp_path_factory) -> FixtureInfo:
    return backends.build_file(tmp_path_factory.mktemp("file"))


@pytest.fixture(scope="session")
def postgres_backend(tmp_path_factory):
    url = _server_url_or_skip("postgres")
    info, drop = backends.build_server_db(tmp_path_factory.mktemp("postgres"), "postgres", url)
    yield info
    drop()


@pytest.fixture(scope="session")
def mysql_backend(tmp_path_factory):
    url = _server_url_or_skip("mysql")
    info, drop = backends.build_server_db(tmp_path_factory.mktemp("mysql"), "mysql", url)
    yield info
    drop()


@pytest.fixture(scope="session")
def tracking_server(tmp_path_factory):
    """A live `mlflow server` (sqlite backend, `--serve-artifacts`), killed at session end."""
    early = _EARLY_SERVERS.pop() if _EARLY_SERVERS else None
    server = early or backends.launch_tracking_server(tmp_path_factory.mktemp("server"))
    try:
        server = backends.wait_until_healthy(server)
    except BaseException:
        server.stop()
        raise
    yield server
    server.stop()
    if early is not None:  # its directory came from tempfile, not tmp_path_factory
        shutil.rmtree(early.log_path.parent, ignore_errors=True)


# The server takes a minute to boot on a busy machine: when the collected tests will need it,
# launch it right after collection so it boots while the other backends' tests run.
_EARLY_SERVERS: list[backends.TrackingServer] = []


# -- test tiers: `pytest -m "not slow"` skips what needs a live server or database ---------------

#: Fixtures that start a live `mlflow server` or moto, or need the PostgreSQL/MariaDB databases.
SLOW_FIXTURES = frozenset({
    "tracking_server", "tracking_server_url", "rest_backend", "rest_store", "server_resolved_store",
    "auth_server", "s3_case", "postgres_backend", "postgres_store", "mysql_backend", "mysql_store",
})
#: Parameters that pick a backend at run time (through request.getfixturevalue), and the
#: backends among their values that are slow in the same way.
BACKEND_PARAMS = ("backend_kind", "case", "kind")
SLOW_BACKENDS = frozenset({"rest", "rest-server", "postgres", "mysql", "s3"})


def is_slow(item) -> bool:
    """Whether a collected test uses a slow fixture, directly or through its backend parameter."""
    if SLOW_FIXTURES.intersection(getattr(item, "fixturenames", ())):
        return True
    callspec = getattr(item, "callspec", None)
    params = callspec.params if callspec else {}
    return any(params.get(name) in SLOW_BACKENDS for name in BACKEND_PARAMS)


def pytest_itemcollected(item):
    # Marked as each test is collected, so `-m "not slow"` (applied after collection) sees it.
    if is_slow(item):
        item.add_marker(pytest.mark.slow)


def _needs_tracking_server(item) -> bool:
    if "tracking_server" in getattr(item, "fixturenames", ()):
        return True
    callspec = getattr(item, "callspec", None)
    return bool(callspec) and callspec.params.get("backend_kind") == "rest"


@pytest.hookimpl(trylast=True)  # after -k/-m deselection: only the tests that will run
def pytest_collection_modifyitems(session, config, items):
    if config.option.collectonly or _EARLY_SERVERS:
        return
    if any(_needs_tracking_server(item) for item in items):
        tmp = Path(tempfile.mkdtemp(prefix="tracktui-server-"))
        _EARLY_SERVERS.append(backends.launch_tracking_server(tmp))


def pytest_sessionfinish(session, exitstatus):
    while _EARLY_SERVERS:  # launched early but never used (e.g. stopped by -x first)
        server = _EARLY_SERVERS.pop()
        server.stop()
        shutil.rmtree(server.log_path.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def tracking_server_url(tracking_server) -> str:
    return tracking_server.url


@pytest.fixture(scope="session")
def rest_backend(tracking_server) -> FixtureInfo:
    """The fixture data written into the live server through its REST API."""
    return backends.build_rest(tracking_server)


# -- tracktui stores over them, opened once per session -----------------------------------------


def _make_store_fixture(kind: str):
    @pytest.fixture(scope="session", name=f"{kind}_store")
    def _store(request):
        require_backend_module(kind)
        info = request.getfixturevalue(f"{kind}_backend")
        from tracktui.store import open_store

        opened = open_store(info.uri)
        yield opened
        opened.close()

    return _store


for _kind in BACKENDS:
    globals()[f"_{_kind}_store_fixture"] = _make_store_fixture(_kind)


@pytest.fixture
def sqlite_copy(sqlite_backend, tmp_path) -> FixtureInfo:
    """A private, writable copy of the populated SQLite store (same ids) for write tests."""
    src = sqlite_backend.uri.removeprefix("sqlite:///")
    dst = tmp_path / "mlflow.db"
    shutil.copyfile(src, dst)
    return dataclasses.replace(sqlite_backend, uri=f"sqlite:///{dst}")


@pytest.fixture
def file_store_allowed(monkeypatch):
    """Let the real mlflow client read/write file stores in this test."""
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")

