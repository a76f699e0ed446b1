"""A private, writable copy of the demo store per test, and the real MlflowClient on it."""

from __future__ import annotations

import shutil
from pathlib import Path

from tracktui.store import open_store
from tracktui.tui.app import TrackApp
from tracktui.tui.config import Config


def writable_copy(demo_store_uri: str, tmp_path: Path) -> str:
    """Copy the demo database (artifacts stay where they are: their URIs are absolute)."""
    source = Path(demo_store_uri.removeprefix("sqlite:///"))
    target = tmp_path / "store" / "mlflow.db"
    target.parent.mkdir(parents=True)
    shutil.copyfile(source, target)
    return f"sqlite:///{target}"


def app_on_copy(uri: str, tmp_path: Path) -> TrackApp:
    store = open_store(uri)
    store.display_uri = "sqlite:///demo/mlflow.db"  # stable status bar for snapshots
    return TrackApp(store, config=Config(path=tmp_path / "tracktui.json"))


def mlflow_client(uri: str):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri)
