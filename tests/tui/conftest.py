"""TUI fixtures: one small deterministic demo store per session, apps opened on it, settling.

The demo store is written by `tui.demo` through the store layer with a fixed seed and base
time. The store stamps experiments with the wall clock, so the build runs under a frozen
`time.time` (the only thing patched; the data is real SQLite written by the real backend).
Times are shown in local time, so every TUI test runs with TZ=UTC.
"""

from __future__ import annotations

import time
from pathlib import Path
from unittest import mock

import pytest

from tracktui.store import open_store
from tracktui.tui.app import TrackApp
from tracktui.tui.config import Config
from tracktui.tui.demo import BASE_TIME_MS, create_demo_store

#: Small enough to build in seconds, big enough for a sweep, failures and paging.
DEMO_RUNS = 60
DEMO_SEED = 7
#: "Now" while the demo store is built: three days after the first run.
FROZEN_NOW_S = (BASE_TIME_MS + 3 * 86_400_000) / 1000


@pytest.fixture(scope="session")
def demo_store_uri(tmp_path_factory) -> str:
    directory = tmp_path_factory.mktemp("tui-demo")
    with mock.patch("time.time", return_value=FROZEN_NOW_S):
        return create_demo_store(directory, runs=DEMO_RUNS, seed=DEMO_SEED)


@pytest.fixture(autouse=True)
def _utc_and_private_config(monkeypatch, tmp_path):
    """Same clock and image rendering everywhere; never read or write the user's real config."""
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("TRACKTUI_IMAGE_RENDERER", "halfcell")  # deterministic pictures, any terminal
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def make_app(demo_store_uri, tmp_path):
    """`make_app(uri=None)` → a TrackApp on the demo store (read-only), closed afterwards."""
    stores = []

    def make(uri: str | None = None, **kwargs) -> TrackApp:
        store = open_store(uri or demo_store_uri, read_only=True)
        if uri is None:  # the temp path differs per run; snapshots need a stable status bar
            store.display_uri = "sqlite:///demo/mlflow.db"
        stores.append(store)
        kwargs.setdefault("config", Config(path=Path(tmp_path) / "tracktui.json"))
        return TrackApp(store, **kwargs)

    yield make
    for store in stores:
        store.close()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
