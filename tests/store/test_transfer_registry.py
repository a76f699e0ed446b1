"""The model and prompt registry travels with export, import and copy: the fixture registry
(tests/fixtures/registry.py, made by real mlflow) goes from SQLite to a file store and to a live
`mlflow server`, from the file store to SQLite, and through an export directory; the real
MlflowClient on the destination must see the same models and prompts (descriptions, tags,
aliases, versions with their stages, descriptions, tags) with each version re-linked to the
copied run, and the same version numbers. SQL and file destinations keep the times too.
"""

from __future__ import annotations

import pytest

from fixtures.data import BETA
from fixtures.registry import CHURN, FRAUD, PROMPTS
from tracktui.store import open_store
from tracktui.store.transfer import (
    TransferOptions,
    copy_between,
    export_experiments,
    import_directory,
    open_destination,
)


def _client(uri: str):
    import mlflow

    return mlflow.MlflowClient(uri, registry_uri=uri)


def _run_names(client) -> dict[str, str]:
    """run id -> "experiment name/run name" over the whole store."""
    out = {}
    for exp in client.search_experiments():
        for run in client.search_runs([exp.experiment_id], max_results=1000):
            out[run.info.run_id] = f"{exp.name}/{run.info.run_name}"
    return out


def _registry(uri: str, times: bool) -> dict:
    """What a user sees of every model and prompt, run ids replaced by run names."""
    client = _client(uri)
    names = _run_names(client)
    out: dict = {}
    models = [m.name for m in client.search_registered_models()]
    prompts = [p.name for p in client.search_prompts()]
    for name in models + prompts:
        model = client.get_registered_model(name) if name in models else client.get_prompt(name)
        versions = {}
        for v in client.search_model_versions(f"name = '{name}'") if name in models else []:
            versions[str(v.version)] = _version(v, names, times)
        for p in client.search_prompt_versions(name) if name in prompts else []:
            versions[str(p.version)] = {
                "template": p.template, "message": p.commit_message, "tags": dict(p.tags),
                "model_config": p.model_config, "response_format": p.response_format, "aliases": _prompt_aliases(client, name, p.version),
                **({"created": p.creation_timestamp} if times else {}),
            }
        out[name] = {
            "description": model.description or None, "tags": dict(model.tags),
            "aliases": {k: str(v) for k, v in (getattr(model, "aliases", None) or {}).items()}, "versions": versions,
            **({"created": model.creation_timestamp} if times else {}),
        }
    return out


def _prompt_aliases(client, name: str, version) -> list[str]:
    """The fixture's aliases of the prompt that point at `version` (MLflow's SQL store leaves a
    searched prompt version's aliases empty, its file store fills them: ask each alias)."""
    aliases = PROMPTS[name][1] if name in PROMPTS else {}
    return sorted(a for a in aliases if str(client.get_prompt_version_by_alias(name, a).version) == str(version))


def _version(v, names: dict[str, str], times: bool) -> dict:
    run = names.get(v.run_id or "", v.run_id or None)
    source = v.source.replace(v.run_id, "<run>") if v.run_id else v.source
    return {
        "description": v.description or None, "tags": dict(v.tags), "stage": v.current_stage,
        "run": run, "source": source if not source.startswith("models:/m-") else "models:/<logged model>",
        **({"created": v.creation_timestamp, "updated": v.last_updated_timestamp} if times else {}),
    }


def _same_registry(src_uri: str, dst_uri: str, times: bool) -> dict:
    expected, got = _registry(src_uri, times), _registry(dst_uri, times)
    assert got == expected
    return got


def _copy_twice(src_uri: str, dest, options=None):
    with open_store(src_uri) as src:
        report = copy_between(src, dest, options or TransferOptions())
        assert report.ok, report.skipped
        assert report.registered_models == 5 and report.model_versions == 8, report
        assert not report.version_numbers
        again = copy_between(src, dest, options or TransferOptions())
        assert again.ok and again.registered_models == 0 and again.model_versions == 0
    return report


@pytest.mark.parametrize("kind", ["file", "sqlite"])
def test_copy_keeps_models_prompts_numbers_and_times(sqlite_backend, tmp_path, kind, file_store_allowed):
    dest_uri = str(tmp_path / "mlruns") if kind == "file" else f"sqlite:///{tmp_path / 'dest.db'}"
    with open_destination(dest_uri) as dest:
        _copy_twice(sqlite_backend.uri, dest)
    got = _same_registry(sqlite_backend.uri, dest_uri, times=True)
    assert got[FRAUD]["versions"]["1"]["run"].endswith("/baseline") and "4" not in got[FRAUD]["versions"]
    assert got[FRAUD]["versions"]["1"]["source"] == "runs:/<run>/model"


def test_copy_from_a_file_store_to_sqlite(file_backend, tmp_path, file_store_allowed):
    dest_uri = f"sqlite:///{tmp_path / 'dest.db'}"
    with open_destination(dest_uri) as dest:
        _copy_twice(file_backend.uri, dest)
    _same_registry(file_backend.uri, dest_uri, times=True)


def test_copy_to_a_tracking_server_relinks_versions(sqlite_backend, tmp_path):
    """A private server: the registry is store-wide, so the shared one would collide."""
    from fixtures.backends import start_tracking_server

    server = start_tracking_server(tmp_path)
    try:
        with open_store(server.url) as dest:
            report = _copy_twice(sqlite_backend.uri, dest)
        assert any("times" in w for w in report.warnings)  # the server chooses times: said once per model
        got = _same_registry(sqlite_backend.uri, server.url, times=False)
        assert got[CHURN]["versions"]["1"]["run"] == f"{BETA}/beta-1"
        assert got[FRAUD]["versions"]["3"]["source"] == "models:/<logged model>"
    finally:
        server.stop()


def test_export_then_import_carries_the_registry(sqlite_backend, tmp_path, file_store_allowed):
    out = tmp_path / "dump"
    with open_store(sqlite_backend.uri) as src:
        report = export_experiments(src, out, TransferOptions())
    assert report.ok and report.registered_models == 5
    assert (out / "registry" / FRAUD / "model.json").is_file()
    dest_uri = str(tmp_path / "mlruns")
    with open_destination(dest_uri) as dest:
        report = import_directory(out, dest)
    assert report.ok and report.registered_models == 5 and report.model_versions == 8
    _same_registry(sqlite_backend.uri, dest_uri, times=True)


def test_named_experiments_take_no_registry_unless_asked(sqlite_backend, tmp_path):
    dest_uri = f"sqlite:///{tmp_path / 'dest.db'}"
    with open_store(sqlite_backend.uri) as src, open_destination(dest_uri) as dest:
        report = copy_between(src, dest, TransferOptions(experiments=[BETA]))
    assert report.ok and report.registered_models == 0
    assert _client(dest_uri).search_registered_models() == []


def test_related_takes_only_the_models_of_the_copied_runs(sqlite_backend, tmp_path):
    dest_uri = f"sqlite:///{tmp_path / 'dest.db'}"
    with open_store(sqlite_backend.uri) as src, open_destination(dest_uri) as dest:
        report = copy_between(src, dest, TransferOptions(experiments=[BETA], registry="related"))
    assert report.ok
    copied = {m.name for m in _client(dest_uri).search_registered_models()}
    expected = {v.name for v in _client(sqlite_backend.uri).search_model_versions() if v.run_id in report.run_ids}
    assert copied == expected and CHURN in copied
    not_copied = {v.run_id for v in _client(sqlite_backend.uri).search_model_versions()
                  if v.name in copied and v.run_id and v.run_id not in report.run_ids}
    assert all(any(run in w for w in report.warnings) for run in not_copied)  # named, kept as is
    assert _client(dest_uri).search_prompts() == []  # prompts belong to no experiment
