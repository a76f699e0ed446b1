"""`tracktui purge` as a user types it: names the deleted runs, asks, and only then removes
them; checked with the real MlflowClient."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tracktui.store.transfer import open_destination
from tracktui.tui.cli.purge import parse_age

TRACKTUI = str(Path(sys.executable).with_name("tracktui"))


def tracktui(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    return subprocess.run([TRACKTUI, *args], input=stdin, capture_output=True, text=True, timeout=180, env=env)


@pytest.fixture
def store_with_a_deleted_run(tmp_path) -> tuple[str, str, str]:
    """(uri, deleted run id, kept run id) of a new SQLite store."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with open_destination(uri) as store:
        exp = store.create_experiment("purge me")
        gone = store.create_run(exp, name="old attempt").id
        kept = store.create_run(exp, name="keeper").id
        store.delete_runs([gone])
    return uri, gone, kept


def _exists(uri: str, run_id: str) -> bool:
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    try:
        MlflowClient(tracking_uri=uri).get_run(run_id)
    except MlflowException:
        return False
    return True


def test_without_confirmation_it_names_the_runs_and_purges_nothing(store_with_a_deleted_run):
    uri, gone, kept = store_with_a_deleted_run
    result = tracktui("purge", "--uri", uri)
    assert result.returncode == 1
    assert result.stdout.startswith("1 deleted run will be removed for good")
    assert f"  {gone}  'old attempt'  in experiment 'purge me'" in result.stdout
    assert kept not in result.stdout
    assert "pass --yes" in result.stderr and "Nothing purged." in result.stderr
    assert _exists(uri, gone) and _exists(uri, kept)


def test_with_yes_the_named_runs_are_gone_for_good(store_with_a_deleted_run):
    uri, gone, kept = store_with_a_deleted_run
    assert "No deleted runs to purge." in tracktui("purge", "--uri", uri, "--older-than", "30d", "--yes").stdout
    assert _exists(uri, gone)
    result = tracktui("purge", "--uri", uri, "--yes")
    assert result.returncode == 0, result.stderr
    assert f"  {gone}  'old attempt'" in result.stdout and "Purged 1 run." in result.stdout
    assert not _exists(uri, gone) and _exists(uri, kept)


def test_read_only_store_is_refused_in_one_line(store_with_a_deleted_run):
    uri, gone, _ = store_with_a_deleted_run
    path = uri.removeprefix("sqlite:///")
    result = tracktui("purge", "--uri", f"sqlite:///file:{path}?mode=ro&uri=true", "--yes")
    assert result.returncode == 2 and result.stderr.startswith("tracktui: cannot purge ")
    assert _exists(uri, gone)


def test_parse_age_reads_mlflow_gc_durations():
    assert parse_age("30d") == 30 * 86_400_000
    assert parse_age("1d2h30m4s") == 86_400_000 + 2 * 3_600_000 + 30 * 60_000 + 4000
    for bad in ("", "soon", "5 days", "1w"):
        with pytest.raises(ValueError):
            parse_age(bad)
