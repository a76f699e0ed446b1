"""`tracktui watch`: its help, and experiments resolved (by name or id) before the app opens."""

from __future__ import annotations

import pytest
from test_cli import tracktui

from tracktui.store import open_store
from tracktui.store.errors import NotFound
from tracktui.store.sql.init import initialize_sqlite_store
from tracktui.tui.cli.watch import resolve_experiments


@pytest.fixture
def uri(tmp_path) -> str:
    uri = initialize_sqlite_store(tmp_path / "mlflow.db", artifact_root=str(tmp_path / "mlruns"))
    with open_store(uri) as store:
        store.create_experiment("train")
    return uri


def test_watch_is_listed_with_its_options():
    assert "\n    watch " in tracktui("--help").stdout
    result = tracktui("watch", "--help")
    assert result.returncode == 0 and "--no-bell" in result.stdout and "EXPERIMENT" in result.stdout


def test_an_unknown_experiment_fails_in_one_line_before_the_app_opens(uri):
    result = tracktui("watch", "no-such-experiment", "--uri", uri, timeout=60)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == ["tracktui: No experiment named or numbered 'no-such-experiment'"]


def test_experiments_are_named_by_name_or_id(uri):
    with open_store(uri, read_only=True) as store:
        train = store.get_experiment_by_name("train")
        assert train is not None
        assert resolve_experiments(store, ["train", "0"]) == {train.id: "train", "0": "Default"}
        with pytest.raises(NotFound):
            resolve_experiments(store, ["42"])
