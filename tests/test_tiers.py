"""tests/conftest.py marks `slow` what needs a live mlflow server, moto or the databases, so that
`pytest -m "not slow"` is a quick loop that still runs everything else."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest


@pytest.fixture
def is_slow(request):
    root_conftest = request.config.pluginmanager.get_plugin(str(Path(__file__).with_name("conftest.py")))
    return root_conftest.is_slow


def _item(*fixtures: str, **params: str) -> SimpleNamespace:
    return SimpleNamespace(fixturenames=["request", *fixtures], callspec=SimpleNamespace(params=params) if params else None)


@pytest.mark.parametrize("fixture", ["tracking_server_url", "rest_backend", "auth_server", "s3_case", "postgres_store"])
def test_a_test_using_a_server_or_database_fixture_is_slow(is_slow, fixture):
    assert is_slow(_item("tmp_path", fixture))


@pytest.mark.parametrize("param, value", [("backend_kind", "rest"), ("backend_kind", "mysql"), ("case", "s3"),
                                          ("case", "rest-server"), ("kind", "postgres")])
def test_a_test_picking_a_slow_backend_by_parameter_is_slow(is_slow, param, value):
    assert is_slow(_item("tmp_path", **{param: value}))


@pytest.mark.parametrize("item", [_item("tmp_path"), _item("sqlite_store", backend_kind="sqlite"),
                                  _item("file_backend", case="file"), _item(scheme="rest")])
def test_everything_else_stays_in_the_quick_loop(is_slow, item):
    assert not is_slow(item)


def test_not_slow_deselects_them_at_collection():
    """End to end, through pytest itself: the marker is on before `-m` filters."""
    import subprocess
    import sys

    tests = Path(__file__).parent
    listed = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", "not slow", "-p", "no:cacheprovider",
         str(tests / "cli" / "test_download_cli.py")],
        cwd=tests.parent, capture_output=True, text=True, timeout=300,
    ).stdout
    assert "test_download_through_the_server_proxy" not in listed  # uses rest_backend
    assert "test_download_cli.py::" in listed  # the rest of the file is still collected
