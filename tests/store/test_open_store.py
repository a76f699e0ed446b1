"""Tracking-URI resolution and backend choice, as MLflow does them, and credential masking."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from fixtures.backends import require_backend_module
from tracktui.store import UnsupportedURI, mask_uri, open_store, resolve_tracking_uri
from tracktui.store.uris import default_tracking_uri, uri_scheme


def _location(uri: str, cwd: Path) -> tuple[str, Path]:
    """Where a local tracking URI points: ('sqlite'|'file', absolute path)."""
    if uri.startswith("sqlite:///"):
        return "sqlite", (cwd / uri[len("sqlite:///"):]).resolve()
    if uri.startswith("file:"):
        return "file", (cwd / urlsplit(uri).path).resolve()
    return "file", (cwd / uri).resolve()


def _mlflow_default_uri(cwd: Path) -> str:
    """What the real mlflow picks with no URI and no MLFLOW_TRACKING_URI in that directory."""
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    code = (
        "from mlflow.tracking._tracking_service import utils; print(utils.get_tracking_uri())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.strip().splitlines()[-1]


# -- resolution order ---------------------------------------------------------------------------


def test_explicit_uri_wins_over_environment(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///from-env.db")
    assert resolve_tracking_uri("sqlite:///explicit.db") == "sqlite:///explicit.db"


def test_environment_used_without_explicit_uri(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5999")
    assert resolve_tracking_uri(None) == "http://127.0.0.1:5999"
    assert resolve_tracking_uri("") == "http://127.0.0.1:5999"


@pytest.mark.parametrize(
    "layout, expected_kind",
    [
        ({}, "sqlite"),  # nothing here: the 3.7+ default database
        ({"mlruns/0/meta.yaml": "name: Default\n"}, "file"),  # a legacy tree with experiments
        ({"mlruns/.trash/": None}, "sqlite"),  # an mlruns dir without experiments
        ({"mlruns/0/": None}, "sqlite"),  # an experiment dir without meta.yaml
    ],
    ids=["empty", "mlruns-with-meta", "mlruns-trash-only", "mlruns-no-meta"],
)
def test_default_uri_matches_mlflow(tmp_path, monkeypatch, layout, expected_kind):
    for rel, content in layout.items():
        path = tmp_path / rel
        if content is None:
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    ours = resolve_tracking_uri(None)
    assert ours == default_tracking_uri(tmp_path)
    assert _location(ours, tmp_path) == _location(_mlflow_default_uri(tmp_path), tmp_path)
    assert _location(ours, tmp_path)[0] == expected_kind


@pytest.mark.parametrize(
    "uri, scheme",
    [
        ("sqlite:///mlflow.db", "sqlite"),
        ("postgresql://u@h/db", "postgresql"),
        ("postgresql+psycopg2://u@h/db", "postgresql"),
        ("mysql+pymysql://u@h/db", "mysql"),
        ("mssql+pyodbc://u@h/db", "mssql"),
        ("file:///tmp/mlruns", "file"),
        ("/tmp/mlruns", "file"),
        ("./mlruns", "file"),
        ("mlruns", "file"),
        ("C:\\Users\\me\\mlruns", "file"),
        ("http://host:5000", "http"),
        ("HTTPS://host", "https"),
    ],
)
def test_uri_scheme(uri, scheme):
    assert uri_scheme(uri) == scheme


# -- opening --------------------------------------------------------------------------------------


def test_open_store_from_environment(sqlite_backend, monkeypatch):
    require_backend_module("sqlite")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", sqlite_backend.uri)
    with open_store() as store:
        assert store.get_experiment_by_name("alpha").id == sqlite_backend.experiments["alpha"]


def test_open_store_read_only_flag(sqlite_backend):
    require_backend_module("sqlite")
    with open_store(sqlite_backend.uri, read_only=True) as store:
        assert store.read_only and store.read_only_reason
    with open_store(sqlite_backend.uri) as store:
        assert not store.read_only


@pytest.mark.parametrize("form", ["plain path", "file uri"])
def test_open_mlruns_by_plain_path_and_file_uri(file_backend, form):
    require_backend_module("file")
    path = urlsplit(file_backend.uri).path
    uri = path if form == "plain path" else file_backend.uri
    with open_store(uri) as store:
        assert store.get_experiment_by_name("alpha").id == file_backend.experiments["alpha"]


def test_open_mlruns_from_cwd_default(file_backend, monkeypatch):
    """`tracktui` with no URI inside a directory holding `mlruns/` opens that tree."""
    require_backend_module("file")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(Path(urlsplit(file_backend.uri).path).parent)
    with open_store() as store:
        assert store.get_experiment_by_name("alpha").id == file_backend.experiments["alpha"]


@pytest.mark.parametrize("kind, bare", [("postgres", "postgresql"), ("mysql", "mysql")])
def test_driverless_database_uri_opens(kind, bare, request):
    """`postgresql://` and `mysql://` (no `+driver`) open with whatever driver is installed."""
    require_backend_module(kind)
    info = request.getfixturevalue(f"{kind}_backend")
    uri = bare + "://" + info.uri.split("://", 1)[1]
    with open_store(uri) as store:
        assert store.get_experiment_by_name("alpha").id == info.experiments["alpha"]


# -- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "uri", ["ftp://host/mlruns", "s3://bucket/mlruns", "databricks://profile", "redis://h"]
)
def test_unsupported_scheme_names_what_was_expected(uri):
    with pytest.raises(UnsupportedURI) as caught:
        open_store(uri)
    message = str(caught.value)
    assert uri.split(":")[0] in message
    for expected in ("sqlite:///", "postgresql://", "mysql", "file", "http"):
        assert expected in message


def test_unsupported_uri_error_hides_password():
    with pytest.raises(UnsupportedURI) as caught:
        open_store("ftp://alice:hunter2@host/path")
    assert "hunter2" not in str(caught.value)
    assert "alice" in str(caught.value)


# -- masking ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "uri, secret",
    [
        ("postgresql://mlflow:s3cr3t@db.example.org:5432/mlflow", "s3cr3t"),
        ("mysql+pymysql://root:p%40ss@127.0.0.1:3306/mlflow", "p%40ss"),
        ("https://user:tok3n@mlflow.example.org/", "tok3n"),
        ("postgresql://:onlypass@host/db", "onlypass"),
    ],
)
def test_mask_uri_hides_passwords(uri, secret):
    masked = mask_uri(uri)
    assert secret not in masked
    assert "***" in masked
    assert urlsplit(masked).hostname == urlsplit(uri).hostname
    assert urlsplit(masked).path == urlsplit(uri).path


@pytest.mark.parametrize(
    "uri",
    ["sqlite:///mlflow.db", "/tmp/mlruns", "http://127.0.0.1:5000", "postgresql://user@host/db"],
)
def test_mask_uri_leaves_uris_without_password_alone(uri):
    assert mask_uri(uri) == uri


#: Passwords parsers split wrongly (unencoded `/`, `@`, `?`, `#`, a port that is no number):
#: each must still be masked whole, and opening such a URI fails in one line without it.
AWKWARD_PASSWORDS = [
    ("postgresql://postgres:Pass/word99@host/db", "word99"),
    ("postgresql://postgres:p@ss99@127.0.0.1:1/db", "ss99"),
    ("mysql+pymysql://root:Sec/ret@127.0.0.1:abc/db", "ret"),
    ("postgresql://postgres:Secret99@127.0.0.1:port/db", "Secret99"),
    ("http://alice:to/k3n@127.0.0.1:1/", "k3n"),
    ("https://alice:q?uery#frag99@127.0.0.1:1/", "frag99"),
]


@pytest.mark.parametrize("uri, secret", AWKWARD_PASSWORDS)
def test_mask_uri_hides_passwords_with_unencoded_special_characters(uri, secret):
    masked = mask_uri(uri)
    assert secret not in masked and ":***@" in masked


@pytest.mark.parametrize("uri, secret", AWKWARD_PASSWORDS)
def test_uris_with_unencoded_passwords_fail_in_one_line_without_the_secret(uri, secret):
    from tracktui.store import StoreError

    try:
        with open_store(uri, read_only=True) as store:
            store.search_experiments()
    except StoreError as exc:
        message = str(exc)
    else:  # pragma: no cover - nothing listens on these hosts and ports
        pytest.fail(f"{uri} opened")
    assert secret not in message and "\n" not in message


@pytest.mark.parametrize("uri", ["s3://bucket/key:v@x", "file:///tmp/a:b@c", "sqlite:////tmp/a@b:c.db"])
def test_mask_uri_leaves_paths_holding_at_and_colon_alone(uri):
    assert mask_uri(uri) == uri


def test_sqlite_opened_with_mode_ro_says_read_only_at_open(sqlite_backend):
    """The status bar reads `read_only_reason`: it must say so before the first write fails."""
    path = sqlite_backend.uri.removeprefix("sqlite:///")
    with open_store(f"sqlite:///file:{path}?mode=ro&uri=true") as store:
        assert store.read_only and "read-only" in store.read_only_reason
        assert store.search_experiments().items  # reading works
    with open_store(sqlite_backend.uri) as store:
        assert not store.read_only
