"""`tracktui export|import|copy` as a user types them: subprocesses on fixture stores written by
the real mlflow client."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tracktui.tui.cli.transfer import parse_time

TRACKTUI = str(Path(sys.executable).with_name("tracktui"))


def tracktui(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [TRACKTUI, *args], capture_output=True, text=True, cwd=cwd, timeout=300,
        env={**os.environ, **(env or {})},
    )


def _run_ids(uri: str, experiment: str) -> set[str]:
    from tracktui.store import open_store

    with open_store(uri) as store:
        exp = store.get_experiment_by_name(experiment)
        return {r.id for r in store.search_runs([exp.id], view="all", max_results=1000)}


def test_export_then_import_keeps_runs_and_says_what_it_did(sqlite_backend, tmp_path):
    dump = tmp_path / "dump"
    result = tracktui("export", "--uri", sqlite_backend.uri, "alpha", "-o", str(dump))
    assert result.returncode == 0, result.stderr
    alpha_runs = _run_ids(sqlite_backend.uri, "alpha")
    assert result.stdout.startswith(f"{len(alpha_runs)} runs in 1 experiment → {dump}: {len(alpha_runs)} new")
    assert result.stderr == ""  # no bar when stderr is not a terminal

    again = tracktui("export", "--uri", sqlite_backend.uri, "alpha", "-o", str(dump))
    assert f"0 new, 0 updated, {len(alpha_runs)} unchanged" in again.stdout

    dest = f"sqlite:///{tmp_path / 'imported.db'}"  # does not exist: created as a new store
    result = tracktui("import", str(dump), "--uri", dest, "--experiment-name", "alpha imported")
    assert result.returncode == 0, result.stderr
    assert _run_ids(dest, "alpha imported") == alpha_runs


def test_copy_migrates_a_legacy_mlruns_tree_into_sqlite(file_backend, tmp_path):
    """The documented way off the file store: copy mlruns into sqlite:///mlflow.db."""
    result = tracktui("copy", "--from", file_backend.uri, "--to", "sqlite:///mlflow.db", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "mlflow.db").is_file()
    dest = f"sqlite:///{tmp_path / 'mlflow.db'}"
    for name in file_backend.experiments:
        assert _run_ids(dest, name) == _run_ids(file_backend.uri, name), name
    again = tracktui("copy", "--from", file_backend.uri, "--to", "sqlite:///mlflow.db", cwd=tmp_path)
    assert " 0 new, 0 updated," in again.stdout


def test_copy_selected_runs_and_unknown_run_fails_with_exit_1(sqlite_backend, tmp_path):
    run_id = sqlite_backend.runs["baseline"]
    dest = f"sqlite:///{tmp_path / 'd.db'}"
    result = tracktui("copy", "--from", sqlite_backend.uri, "--to", dest, "--runs", run_id, "0" * 32)
    assert result.returncode == 1
    assert f"failed {'0' * 32}: no such run" in result.stdout
    assert result.stderr.strip() == "tracktui: 1 run(s) failed; the others were copied"
    from tracktui.store import open_store

    with open_store(dest) as store:
        assert store.get_run(run_id).id == run_id


@pytest.mark.parametrize(
    "args, message",
    [
        (("export", "no such experiment", "-o", "out"), "No experiment named or numbered 'no such experiment'"),
        (("import", "missing-dir", "--uri", "sqlite:///x.db"), "missing-dir is not a tracktui export"),
        (("copy", "--to", "sqlite:///x.db", "--since", "yesterday"), "--since 'yesterday' is not a date/time"),
    ],
)
def test_failures_are_one_line_and_nonzero(args, message, sqlite_backend, tmp_path):
    full = [a if a != "out" else str(tmp_path / "out") for a in args]
    if args[0] == "export":
        full += ["--uri", sqlite_backend.uri]
    if args[0] == "copy":
        full += ["--from", sqlite_backend.uri]
    result = tracktui(*full, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("tracktui: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists() and not (tmp_path / "x.db").exists()


def test_parse_time():
    assert parse_time("1700000000000") == 1_700_000_000_000
    assert parse_time("2023-11-14T22:13:20") == 1_700_000_000_000
    assert parse_time("2023-11-14T23:13:20+01:00") == 1_700_000_000_000
    with pytest.raises(ValueError):
        parse_time("soon")


def test_copy_from_a_damaged_tree_lists_what_it_skipped_and_exits_1(file_backend, tmp_path):
    """Two runs and two experiments the source cannot read: the summary counts and names
    them and the exit status says the copy is incomplete (it used to say "0 failed", exit 0)."""
    import shutil

    from tracktui.store.files.layout import is_run_folder_name

    root = tmp_path / "mlruns"
    shutil.copytree(Path(file_backend.uri.removeprefix("file://")), root)

    def runs_of(experiment: Path) -> list[Path]:
        return sorted(p for p in experiment.iterdir() if p.is_dir() and is_run_folder_name(p.name))

    experiments = sorted((p for p in root.iterdir() if p.is_dir() and p.name.isdigit()), key=lambda p: len(runs_of(p)))
    damaged = [experiments[0] / "meta.yaml", experiments[1] / "meta.yaml"]
    damaged += [run / "meta.yaml" for run in runs_of(experiments[-1])[:2]]
    for meta in damaged:
        meta.write_bytes(b"name: [unclosed\n")
    result = tracktui("copy", "--from", str(root), "--to", f"sqlite:///{tmp_path / 'd.db'}")
    assert result.returncode == 1, result.stderr
    assert " 0 failed, 4 skipped;" in result.stdout
    for meta in damaged:
        assert f"  skipped {meta}: " in result.stdout
    assert result.stderr.strip() == "tracktui: 4 item(s) skipped (listed above); the others were copied"


def test_copy_into_an_unknown_schema_database_is_refused_up_front(sqlite_backend, tmp_path):
    import sqlite3

    path = tmp_path / "unknown.db"
    assert tracktui("copy", "--from", sqlite_backend.uri, "--to", f"sqlite:///{path}", "--runs", "0" * 32).returncode == 1
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM alembic_version")
    result = tracktui("copy", "--from", sqlite_backend.uri, "--to", f"sqlite:///{path}")
    assert result.returncode == 2
    assert result.stderr.startswith("tracktui: Cannot copy into ") and "schema version is unknown" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


def test_when_every_run_fails_the_summary_says_nothing_was_copied(sqlite_backend, tmp_path):
    result = tracktui("copy", "--from", sqlite_backend.uri, "--to", f"sqlite:///{tmp_path / 'd.db'}", "--runs", "0" * 32)
    assert result.returncode == 1
    assert result.stderr.strip() == "tracktui: 1 run(s) failed; nothing was copied"


def test_copy_carries_the_registry_and_says_so(sqlite_backend, tmp_path):
    import mlflow

    dest = f"sqlite:///{tmp_path / 'all.db'}"
    result = tracktui("copy", "--from", sqlite_backend.uri, "--to", dest)
    assert result.returncode == 0, result.stderr
    assert "5 registered models or prompts and 8 versions copied, 0 skipped" in result.stdout
    names = {m.name for m in mlflow.MlflowClient(dest).search_registered_models()}
    assert names == set(sqlite_backend.registry.models)
    again = tracktui("copy", "--from", sqlite_backend.uri, "--to", dest)
    assert "registered model" not in again.stdout  # nothing new to say

    bare = f"sqlite:///{tmp_path / 'bare.db'}"
    result = tracktui("copy", "--from", sqlite_backend.uri, "--to", bare, "--registry", "none", "alpha")
    assert result.returncode == 0 and "registered model" not in result.stdout
    assert mlflow.MlflowClient(bare).search_registered_models() == []
