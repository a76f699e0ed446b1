"""The registry-write contract, once for every backend: every write tracktui makes to the model
and prompt registry, read back with the real MlflowClient.

Each test registers its own model (with uniquely named runs) through MlflowClient in the
module's private store (conftest `w`), so tests do not depend on one another. Last-update
times are checked where MLflow bumps them (docs/formats.md §8.4): the SQL store and the
server behind REST bump as MLflow's SqlAlchemyStore; the file store as MLflow's FileStore.
"""

from __future__ import annotations

import time
import uuid

import pytest

from tracktui.store import open_store
from tracktui.store.base import Store
from tracktui.store.errors import InvalidValue, NotFound, ReadOnlyError

#: A long version tag value every backend holds (MySQL's TEXT column stops at 65,535 bytes,
#: below MLflow's 100,000-character limit).
LONG = "x" * 60_000
DESCRIPTION = "first line\nsecond — ünïcödé ✓\n\n  indented  \ttab"


def requires(store: Store, *methods: str) -> None:
    missing = [m for m in methods if getattr(type(store), m) is getattr(Store, m)]
    if missing:
        pytest.skip(f"{type(store).__name__} does not implement {', '.join(missing)} yet")


def registered(w, versions: int = 2, prompt: bool = False) -> str:
    """A new registered model with `versions` versions (each from its own run), by MLflow."""
    name = f"reg-{uuid.uuid4().hex[:10]}"
    if prompt:
        for i in range(versions):
            w.client.register_prompt(name, f"hello {{{{ who }}}} #{i}", commit_message=f"c{i}")
        return name
    w.client.create_registered_model(name, description="made by mlflow")
    eid = w.client.create_experiment(f"regw-{uuid.uuid4().hex[:10]}")
    for i in range(versions):
        run = w.client.create_run(eid, run_name=f"r{i}")
        w.client.create_model_version(name, f"{run.info.artifact_uri}/model", run.info.run_id, tags={"k": f"v{i + 1}"})
    time.sleep(0.005)  # later writes get later times than the creation
    return name


def model(w, name):
    return w.client.get_registered_model(name)


def aliases(w, name) -> dict[str, str]:
    """alias → version number as text (MLflow's SQL store hands the number as an int)."""
    return {k: str(v) for k, v in model(w, name).aliases.items()}


def version(w, name, number):
    return w.client.get_model_version(name, str(number))


# -- aliases ----------------------------------------------------------------------------------


def test_set_alias_then_move_it_promotes(w):
    requires(w.store, "set_registered_model_alias")
    name = registered(w)
    w.store.set_registered_model_alias(name, "champion", 1)
    assert aliases(w, name) == {"champion": "1"}
    w.store.set_registered_model_alias(name, "champion", "2")
    assert aliases(w, name) == {"champion": "2"}
    assert version(w, name, 2).aliases == ["champion"] and version(w, name, 1).aliases == []
    assert str(w.client.get_model_version_by_alias(name, "champion").version) == "2"
    assert w.store.get_registered_model(name).aliases == {"champion": "2"}  # our own reads see it
    assert w.store.get_model_version_by_alias(name, "champion").version == "2"


def test_delete_alias(w):
    requires(w.store, "delete_registered_model_alias")
    name = registered(w)
    w.client.set_registered_model_alias(name, "keep", "1")
    w.client.set_registered_model_alias(name, "go", "2")
    w.store.delete_registered_model_alias(name, "go")
    assert aliases(w, name) == {"keep": "1"}
    w.store.delete_registered_model_alias(name, "never-set")  # MLflow ignores a missing alias
    assert aliases(w, name) == {"keep": "1"}


@pytest.mark.parametrize("alias", ["latest", "LATEST", "v1", "V12", "has space", "a/b", "x" * 256, ""])
def test_alias_names_mlflow_refuses_are_refused(w, alias):
    requires(w.store, "set_registered_model_alias")
    name = registered(w, versions=1)
    with pytest.raises(InvalidValue):
        w.store.set_registered_model_alias(name, alias, 1)
    assert aliases(w, name) == {}


def test_alias_to_a_missing_or_deleted_version_is_not_found(w):
    requires(w.store, "set_registered_model_alias")
    name = registered(w)
    w.client.delete_model_version(name, "2")
    for number in (2, 9):
        with pytest.raises(NotFound):
            w.store.set_registered_model_alias(name, "champion", number)
    with pytest.raises(NotFound):
        w.store.set_registered_model_alias(f"missing-{uuid.uuid4().hex}", "champion", 1)


def test_a_prompt_alias_moves_like_a_model_alias(w):
    requires(w.store, "set_registered_model_alias")
    name = registered(w, prompt=True)
    w.store.set_registered_model_alias(name, "production", 2)
    assert str(w.client.get_prompt_version_by_alias(name, "production").version) == "2"
    w.store.set_registered_model_alias(name, "production", 1)
    assert w.client.get_prompt_version_by_alias(name, "production").template == "hello {{ who }} #0"


# -- tags and descriptions ----------------------------------------------------------------------


def test_model_tags_set_overwrite_delete(w):
    requires(w.store, "set_registered_model_tag", "delete_registered_model_tag")
    name = registered(w, versions=1)
    before = model(w, name).last_updated_timestamp
    w.store.set_registered_model_tag(name, "team", "vision")
    w.store.set_registered_model_tag(name, "note", DESCRIPTION)
    w.store.set_registered_model_tag(name, "team", "nlp")
    assert model(w, name).tags == {"team": "nlp", "note": DESCRIPTION}
    w.store.delete_registered_model_tag(name, "team")
    w.store.delete_registered_model_tag(name, "absent")
    after = model(w, name)
    assert after.tags == {"note": DESCRIPTION} == dict(w.store.get_registered_model(name).tags)
    if w.kind == "file":  # MLflow's file store bumps the model's time; its SQL store does not
        assert after.last_updated_timestamp > before
    else:
        assert after.last_updated_timestamp == before


def test_version_tags_set_overwrite_delete(w):
    requires(w.store, "set_model_version_tag", "delete_model_version_tag")
    name = registered(w)
    before = version(w, name, 2).last_updated_timestamp
    w.store.set_model_version_tag(name, 2, "k", "changed")
    w.store.set_model_version_tag(name, "2", "long", LONG)
    assert version(w, name, 2).tags == {"k": "changed", "long": LONG}
    w.store.delete_model_version_tag(name, 2, "k")
    assert version(w, name, 2).tags == {"long": LONG}
    assert version(w, name, 1).tags == {"k": "v1"}
    assert version(w, name, 2).last_updated_timestamp == before


@pytest.mark.parametrize("key,value", [("bad\nkey", "v"), ("../up", "v"), ("k" * 251, "v"), ("k", "x" * 100_001)])
def test_tags_mlflow_refuses_are_refused(w, key, value):
    requires(w.store, "set_registered_model_tag", "set_model_version_tag")
    name = registered(w, versions=1)
    with pytest.raises(InvalidValue):
        w.store.set_registered_model_tag(name, key, value)
    with pytest.raises(InvalidValue):
        w.store.set_model_version_tag(name, 1, key, value)
    assert model(w, name).tags == {} and version(w, name, 1).tags == {"k": "v1"}


def test_descriptions_byte_for_byte_and_times(w):
    requires(w.store, "update_registered_model", "update_model_version")
    name = registered(w)
    m0, v0 = model(w, name), version(w, name, 1)
    w.store.update_registered_model(name, DESCRIPTION)
    m1 = model(w, name)
    assert m1.description == DESCRIPTION and m1.last_updated_timestamp > m0.last_updated_timestamp
    time.sleep(0.005)
    w.store.update_model_version(name, 1, DESCRIPTION + "\r\n")
    v1, m2 = version(w, name, 1), model(w, name)
    assert v1.description == DESCRIPTION + "\r\n" and v1.last_updated_timestamp > v0.last_updated_timestamp
    assert m2.last_updated_timestamp == m1.last_updated_timestamp  # a version edit leaves the model
    assert version(w, name, 2).description in (None, "")


def test_writes_to_unknown_models_and_versions_are_not_found(w):
    requires(w.store, "set_registered_model_tag", "update_model_version", "delete_registered_model")
    missing = f"missing-{uuid.uuid4().hex}"
    name = registered(w, versions=1)
    for write in (
        lambda: w.store.set_registered_model_tag(missing, "k", "v"),
        lambda: w.store.update_registered_model(missing, "d"),
        lambda: w.store.delete_registered_model(missing),
        lambda: w.store.rename_registered_model(missing, missing + "-x"),
        lambda: w.store.update_model_version(name, 7, "d"),
        lambda: w.store.set_model_version_tag(name, 7, "k", "v"),
        lambda: w.store.transition_model_version_stage(name, 7, "Staging"),
        lambda: w.store.delete_model_version(name, 7),
    ):
        with pytest.raises(NotFound):
            write()


# -- rename, stages, deletes -------------------------------------------------------------------


def test_rename_carries_versions_tags_and_aliases(w):
    requires(w.store, "rename_registered_model")
    name = registered(w)
    w.client.set_registered_model_tag(name, "team", "vision")
    w.client.set_registered_model_alias(name, "champion", "2")
    before = model(w, name)
    new = name + "-renamed ✓"
    w.store.rename_registered_model(name, new)
    with pytest.raises(Exception, match="not found|RESOURCE_DOES_NOT_EXIST"):
        model(w, name)
    after = model(w, new)
    assert after.tags == {"team": "vision"} and aliases(w, new) == {"champion": "2"}
    assert after.description == before.description
    assert after.last_updated_timestamp > before.last_updated_timestamp
    assert [version(w, new, n).tags for n in (1, 2)] == [{"k": "v1"}, {"k": "v2"}]
    assert str(w.client.get_model_version_by_alias(new, "champion").version) == "2"
    assert version(w, new, 1).last_updated_timestamp == after.last_updated_timestamp


def test_rename_onto_a_taken_name_is_refused(w):
    requires(w.store, "rename_registered_model")
    a, b = registered(w, versions=1), registered(w, versions=1)
    with pytest.raises(InvalidValue):
        w.store.rename_registered_model(a, b)
    with pytest.raises(InvalidValue):
        w.store.rename_registered_model(a, "has/slash")
    assert model(w, a).name == a and version(w, b, 1).name == b


def test_transition_stage_archives_the_others(w):
    requires(w.store, "transition_model_version_stage")
    name = registered(w, versions=3)
    w.store.transition_model_version_stage(name, 1, "production")
    w.store.transition_model_version_stage(name, 2, "Production")
    assert [version(w, name, n).current_stage for n in (1, 2, 3)] == ["Production"] * 2 + ["None"]
    before = model(w, name).last_updated_timestamp
    time.sleep(0.005)
    result = w.store.transition_model_version_stage(name, 3, "Production", archive_existing_versions=True)
    assert (result.name, result.version, result.current_stage) == (name, "3", "Production")
    stages = [version(w, name, n).current_stage for n in (1, 2, 3)]
    assert stages == ["Archived", "Archived", "Production"]
    assert model(w, name).last_updated_timestamp > before
    assert {str(v.version): v.current_stage for v in w.client.get_latest_versions(name)} == {"2": "Archived", "3": "Production"}


@pytest.mark.parametrize("stage,archive", [("Retired", False), ("Archived", True), ("None", True)])
def test_stages_mlflow_refuses_are_refused(w, stage, archive):
    requires(w.store, "transition_model_version_stage")
    name = registered(w, versions=1)
    with pytest.raises(InvalidValue):
        w.store.transition_model_version_stage(name, 1, stage, archive_existing_versions=archive)
    assert version(w, name, 1).current_stage == "None"


def test_delete_version_takes_its_aliases_and_keeps_the_numbering(w):
    requires(w.store, "delete_model_version")
    name = registered(w, versions=3)
    w.client.set_registered_model_alias(name, "champion", "2")
    w.client.set_registered_model_alias(name, "other", "1")
    w.store.delete_model_version(name, 2)
    with pytest.raises(Exception, match="not found|RESOURCE_DOES_NOT_EXIST"):
        version(w, name, 2)
    assert aliases(w, name) == {"other": "1"}
    assert sorted(str(v.version) for v in w.client.search_model_versions(f"name = '{name}'")) == ["1", "3"]
    with pytest.raises(NotFound):
        w.store.delete_model_version(name, 2)  # already gone
    run = w.client.create_run(w.client.create_experiment(f"regw-{uuid.uuid4().hex[:8]}"))
    source = f"{run.info.artifact_uri}/model"
    assert str(w.client.create_model_version(name, source, run.info.run_id).version) == "4"  # 2 stays used


def test_delete_version_redacts_like_mlflow_on_sql(w):
    if w.kind not in ("sqlite", "postgres", "mysql"):
        pytest.skip("the redaction is in the SQL row")
    import sqlalchemy as sa

    name = registered(w, versions=1)
    w.client.set_model_version_tag(name, "1", "kept", "yes")
    w.store.delete_model_version(name, 1)
    with w.store.engine.connect() as conn:
        row = conn.execute(sa.text("SELECT current_stage, source, run_id, run_link, description FROM model_versions "
                                   "WHERE name = :n"), {"n": name}).one()
        tags = [r._mapping["key"] for r in conn.execute(sa.text("SELECT * FROM model_version_tags WHERE name = :n"),
                                                         {"n": name})]
    assert tuple(row) == ("Deleted_Internal", "REDACTED-SOURCE-PATH", "REDACTED-RUN-ID", "REDACTED-RUN-LINK", None)
    assert "kept" in tags


def test_delete_model_removes_everything(w):
    requires(w.store, "delete_registered_model")
    name = registered(w)
    w.client.set_registered_model_alias(name, "champion", "1")
    w.client.set_registered_model_tag(name, "t", "1")
    w.store.delete_registered_model(name)
    assert w.client.search_registered_models(f"name = '{name}'") == []
    assert w.client.search_model_versions(f"name = '{name}'") == []
    w.client.create_registered_model(name)  # the name is free again, with nothing left over
    assert model(w, name).tags == {} and aliases(w, name) == {}
    assert w.client.search_model_versions(f"name = '{name}'") == []


# -- read-only stores --------------------------------------------------------------------------


def test_read_only_store_refuses_every_registry_write(w):
    requires(w.store, "set_registered_model_alias")
    name = registered(w, versions=1)
    read_only = open_store(w.uri, read_only=True)
    try:
        for write in (
            lambda s: s.set_registered_model_alias(name, "champion", 1),
            lambda s: s.delete_registered_model_alias(name, "champion"),
            lambda s: s.set_registered_model_tag(name, "k", "v"),
            lambda s: s.delete_registered_model_tag(name, "k"),
            lambda s: s.set_model_version_tag(name, 1, "k", "v"),
            lambda s: s.delete_model_version_tag(name, 1, "k"),
            lambda s: s.update_registered_model(name, "d"),
            lambda s: s.update_model_version(name, 1, "d"),
            lambda s: s.rename_registered_model(name, name + "-x"),
            lambda s: s.transition_model_version_stage(name, 1, "Staging"),
            lambda s: s.delete_model_version(name, 1),
            lambda s: s.delete_registered_model(name),
        ):
            with pytest.raises(ReadOnlyError):
                write(read_only)
    finally:
        read_only.close()
    m = model(w, name)
    assert (aliases(w, name), m.tags, m.description) == ({}, {}, "made by mlflow")
    assert version(w, name, 1).current_stage == "None"


# -- import (the transfer's primitive) ----------------------------------------------------------


def _imported(name: str, run_id: str, source: str):
    from tracktui.store.registry import ModelVersion, RegisteredModel

    model = RegisteredModel(name=name, creation_timestamp=1_600_000_000_000, last_updated_timestamp=1_600_000_500_000,
                            description=DESCRIPTION, tags={"team": "vision", "k.with dot": "✓"},
                            aliases={"champion": "3", "old": "1", "lost": "2"})
    versions = [
        ModelVersion(name=name, version=n, creation_timestamp=1_600_000_000_000 + int(n),
                     last_updated_timestamp=1_600_000_100_000 + int(n), description=f"v{n}\nline",
                     current_stage=stage, source=source, run_id=run_id, tags={"n": n})
        for n, stage in (("1", "Archived"), ("3", "Production"))  # 2 was deleted at the source
    ]
    return model, versions


def test_import_keeps_numbers_and_is_incremental(w):
    requires(w.store, "import_registered_model")
    name = f"imp-{uuid.uuid4().hex[:10]}"
    run = w.client.create_run(w.client.create_experiment(f"regw-{uuid.uuid4().hex[:10]}"))
    model, versions = _imported(name, run.info.run_id, f"{run.info.artifact_uri}/model")
    result = w.store.import_registered_model(model, versions[:1])
    assert result.created and result.versions == {"1": "1"}
    again = w.store.import_registered_model(model, versions)  # a re-run adds only what is missing
    assert not again.created and again.versions == {"3": "3"}
    assert any("lost" in note for note in result.notes + again.notes)  # its version is not here
    assert w.store.import_registered_model(model, versions).versions == {}
    got = model_read = w.client.get_registered_model(name)
    assert (model_read.description, model_read.tags) == (DESCRIPTION, model.tags)
    assert aliases(w, name) == {"champion": "3", "old": "1"}
    found = {str(v.version): v for v in w.client.search_model_versions(f"name = '{name}'")}
    assert sorted(found) == ["1", "3"]
    for v in versions:
        mine = found[v.version]
        assert (mine.description, mine.current_stage, mine.run_id, mine.tags) == (
            v.description, v.current_stage, v.run_id, dict(v.tags))
        if w.kind != "rest":  # a server chooses its own times
            assert (mine.creation_timestamp, mine.last_updated_timestamp) == (
                v.creation_timestamp, v.last_updated_timestamp)
    if w.kind != "rest":
        assert (got.creation_timestamp, got.last_updated_timestamp) == (1_600_000_000_000, 1_600_000_500_000)
    source = f"{run.info.artifact_uri}/model"
    assert str(w.client.create_model_version(name, source, run.info.run_id).version) == "4"
    w.client.delete_model_version(name, "3")  # deleted here: a re-run says so instead of reviving it
    last = w.store.import_registered_model(model, versions)
    if w.kind == "rest":  # a server cannot take number 3 back: the version comes in under a new one
        assert last.versions == {"3": "5"} and any("version 3 is version 5" in n for n in last.notes)
    else:
        assert last.versions == {} and any("version 3: deleted here" in n for n in last.notes)


def test_import_refused_on_a_read_only_store(w):
    requires(w.store, "import_registered_model")
    model, versions = _imported(f"imp-{uuid.uuid4().hex[:10]}", "0" * 32, "s3://b/m")
    read_only = open_store(w.uri, read_only=True)
    try:
        with pytest.raises(ReadOnlyError):
            read_only.import_registered_model(model, versions)
    finally:
        read_only.close()
    assert w.client.search_registered_models(f"name = '{model.name}'") == []
