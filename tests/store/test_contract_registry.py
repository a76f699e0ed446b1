"""The registry read contract, once for every backend (sqlite, postgres, mysql, file, rest).

Differential: every read is compared with what the real MlflowClient answers on the same
store — registered models and versions (fields, order, page tokens), aliases, prompts and
their versions, filter errors and NotFound. The registry is made with real mlflow
(tests/fixtures/registry.py).

Deliberate differences (each checked on its own below):
* a version's `aliases` are filled in searches too (MLflow's SQL store leaves them empty
  there and fills them only in get_model_version);
* `model_id` is also read from a `models:/m-…` source where MLflow's SQL tables keep none;
* a prompt's tags leave out the prompt registry's own (`_mlflow_experiment_ids`, and on the
  file store the template tags MLflow copies onto the prompt).
"""

from __future__ import annotations

import sqlite3

import pytest

from fixtures.registry import CHAT, CHAT_MESSAGES, CHURN, EMPTY, FRAUD, MODELS, PROMPTS, SUMMARIZE
from tracktui.store import FilterSyntaxError, InvalidValue, NotFound
from tracktui.store.registry import PROMPT_EXPERIMENT_IDS_TAG, PROMPT_SYSTEM_TAGS

MODEL_FILTERS = [
    None, "name = 'fraud-detector'", "name LIKE '%model%'", "name ILIKE 'FRAUD%'", "tags.team = 'risk'",
    "tags.`domain.area` ILIKE 'PAY%'", "name IN ('churn model', 'empty-model')", "tags.team != 'risk'",
    "name != 'empty-model' AND tags.team LIKE '%'", "tags.`mlflow.prompt.is_prompt` = 'true'",
]
MODEL_ORDERS = [[], ["name DESC"], ["last_updated_timestamp DESC"], ["last_updated_timestamp ASC", "name DESC"]]
VERSION_FILTERS = [
    None, "name = 'fraud-detector'", "version_number > 1", "source_path LIKE 's3%'", "tags.validated = 'true'",
    "name = 'fraud-detector' AND version_number <= 2", "name IN ('churn model')", "run_id != 'nope'",
    "tags.`data.version` = '2'", "name LIKE 'summ%'", "tags.`mlflow.prompt.is_prompt` = 'true'",
]
VERSION_ORDERS = [[], ["version_number ASC"], ["name DESC", "version_number ASC"], ["creation_timestamp DESC"]]
BAD_FILTERS = ["name = 3", "foo = 'x'", "tags.x IN ('a')", "name = 'a' OR name = 'b'", "metrics.a > 1"]


@pytest.fixture
def client(backend_kind, backend_uri, monkeypatch):
    """MlflowClient with its registry on the same store."""
    import mlflow

    if backend_kind == "file":
        monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    uri = backend_uri[0]
    return mlflow.MlflowClient(uri, registry_uri=uri)


@pytest.fixture
def registry(info):
    return info.registry


# -- normalisers ------------------------------------------------------------------------------


def their_version(v, *, aliases: bool = True) -> dict:
    return {
        "name": v.name, "version": str(v.version), "creation_timestamp": v.creation_timestamp,
        "last_updated_timestamp": v.last_updated_timestamp, "description": v.description or None,
        "user_id": v.user_id or None, "current_stage": v.current_stage, "source": v.source,
        "run_id": v.run_id or None, "run_link": v.run_link or None, "status": str(v.status),
        "tags": dict(v.tags), **({"aliases": sorted(v.aliases)} if aliases else {}),
    }


def our_version(v, *, aliases: bool = True) -> dict:
    return {
        "name": v.name, "version": v.version, "creation_timestamp": v.creation_timestamp,
        "last_updated_timestamp": v.last_updated_timestamp, "description": v.description or None,
        "user_id": v.user_id, "current_stage": v.current_stage, "source": v.source, "run_id": v.run_id,
        "run_link": v.run_link, "status": v.status, "tags": dict(v.tags),
        **({"aliases": list(v.aliases)} if aliases else {}),
    }


def their_model(m) -> dict:
    return {
        "name": m.name, "creation_timestamp": m.creation_timestamp, "last_updated_timestamp": m.last_updated_timestamp,
        "description": m.description or None, "tags": dict(m._tags),
        "aliases": {a: str(v) for a, v in m.aliases.items()},
        "latest": sorted((str(v.version), v.current_stage) for v in m.latest_versions or ()),
    }


def our_model(m) -> dict:
    return {
        "name": m.name, "creation_timestamp": m.creation_timestamp, "last_updated_timestamp": m.last_updated_timestamp,
        "description": m.description or None, "tags": dict(m.tags), "aliases": dict(m.aliases),
        "latest": sorted((v.version, v.current_stage) for v in m.latest_versions),
    }


def _pages(search, **kw) -> tuple[list, list]:
    """Every item and every next-page token of a search, page by page."""
    items, tokens, token = [], [], None
    while True:
        page = search(page_token=token, **kw)
        items.extend(page.items if hasattr(page, "items") else page)
        token = page.next_page_token if hasattr(page, "next_page_token") else page.token
        tokens.append(token.decode() if isinstance(token, bytes) else token or None)  # MLflow's SQL store: bytes
        if not token:
            return items, tokens


# -- registered models ------------------------------------------------------------------------


def test_store_has_a_registry(store):
    assert store.supports_model_registry


@pytest.mark.parametrize("filter_string", MODEL_FILTERS)
@pytest.mark.parametrize("order_by", MODEL_ORDERS)
def test_search_registered_models_as_mlflow(store, client, filter_string, order_by):
    ours = store.search_registered_models(filter_string, order_by=order_by)
    theirs = client.search_registered_models(filter_string, order_by=order_by)
    assert [our_model(m) for m in ours.items] == [their_model(m) for m in theirs]
    assert ours.next_page_token is None and not theirs.token


def test_models_leave_prompts_out(store, registry):
    names = [m.name for m in store.search_registered_models().items]
    assert names == sorted(MODELS)
    prompts = store.search_registered_models("tags.`mlflow.prompt.is_prompt` = 'true'").items
    assert sorted(m.name for m in prompts) == sorted(PROMPTS)


def test_registered_model_pages_as_mlflow(store, client):
    ours, our_tokens = _pages(store.search_registered_models, max_results=1)
    theirs, their_tokens = _pages(client.search_registered_models, max_results=1)
    assert [our_model(m) for m in ours] == [their_model(m) for m in theirs]
    assert our_tokens == their_tokens


def test_models_by_creation_time(store, backend_kind):
    """MLflow's SQL store refuses `creation_timestamp` for models (its file store takes it);
    tracktui orders by it on every store it reads directly. A server refuses it as MLflow's
    SQL store does."""
    if backend_kind == "rest":
        with pytest.raises(InvalidValue):
            store.search_registered_models(order_by=["creation_timestamp DESC"])
        return
    models = store.search_registered_models(order_by=["creation_timestamp DESC"]).items
    assert [m.name for m in models] == [m.name for m in sorted(models, key=lambda m: -m.creation_timestamp)]
    assert len({m.creation_timestamp for m in models}) == len(models)  # the order is decided


def test_timestamp_is_last_update(store):
    """`timestamp` (MLflow's SQL store's name, refused by its file store) is the last update."""
    by_alias = store.search_registered_models(order_by=["timestamp DESC"]).items
    assert by_alias == store.search_registered_models(order_by=["last_updated_timestamp DESC"]).items


@pytest.mark.parametrize("name", list(MODELS))
def test_get_registered_model_as_mlflow(store, client, name):
    assert our_model(store.get_registered_model(name)) == their_model(client.get_registered_model(name))


def test_fixture_model_facts(store):
    fraud = store.get_registered_model(FRAUD)
    assert fraud.aliases == {"challenger": "2", "champion": "3"}
    assert fraud.latest_version == "3"
    assert {v.current_stage: v.version for v in fraud.latest_versions} == {"None": "3", "Production": "2", "Staging": "1"}
    assert [v.aliases for v in fraud.latest_versions] == [("champion",), ("challenger",), ()]
    assert "\n" in fraud.description and "🚨" in fraud.description
    empty = store.get_registered_model(EMPTY)
    assert empty.latest_versions == () and empty.latest_version is None


def test_missing_model_is_not_found(store):
    with pytest.raises(NotFound):
        store.get_registered_model("no such model")


@pytest.mark.parametrize("filter_string", BAD_FILTERS)
def test_bad_filters_refused_as_mlflow(store, client, filter_string):
    from mlflow.exceptions import MlflowException

    with pytest.raises(FilterSyntaxError):
        store.search_registered_models(filter_string)
    with pytest.raises(MlflowException):
        client.search_registered_models(filter_string)


# -- model versions ---------------------------------------------------------------------------


@pytest.mark.parametrize("filter_string", VERSION_FILTERS)
@pytest.mark.parametrize("order_by", VERSION_ORDERS)
def test_search_model_versions_as_mlflow(store, client, filter_string, order_by):
    ours = store.search_model_versions(filter_string, order_by=order_by)
    theirs = client.search_model_versions(filter_string, order_by=order_by)
    assert [our_version(v, aliases=False) for v in ours.items] == [their_version(v, aliases=False) for v in theirs]


def test_search_by_run_as_mlflow(store, client, registry):
    for run_id in set(registry.version_runs.values()):
        flt = f"run_id = '{run_id}'"
        ours = [our_version(v, aliases=False) for v in store.search_model_versions(flt).items]
        assert ours == [their_version(v, aliases=False) for v in client.search_model_versions(flt)]
        assert ours


def test_model_version_pages_as_mlflow(store, client):
    ours, our_tokens = _pages(store.search_model_versions, max_results=2)
    theirs, their_tokens = _pages(client.search_model_versions, max_results=2)
    assert [our_version(v, aliases=False) for v in ours] == [their_version(v, aliases=False) for v in theirs]
    assert our_tokens == their_tokens


def test_versions_leave_prompts_and_deleted_out(store, registry):
    found = {(v.name, v.version) for v in store.search_model_versions().items}
    expected = {(name, n) for name in MODELS for n in registry.live_versions(name)}
    assert found == expected
    assert registry.deleted_version not in found


@pytest.mark.parametrize("name", [FRAUD, CHURN])
def test_get_model_version_as_mlflow(store, client, registry, name):
    for number in registry.live_versions(name):
        assert our_version(store.get_model_version(name, number)) == their_version(client.get_model_version(name, number))


def test_search_carries_the_aliases_get_has(store):
    for v in store.search_model_versions().items:
        assert v.aliases == store.get_model_version(v.name, v.version).aliases


def test_version_must_be_a_number(store, client):
    from mlflow.exceptions import MlflowException

    with pytest.raises(InvalidValue):
        store.get_model_version(FRAUD, "three")
    with pytest.raises(MlflowException):
        client.get_model_version(FRAUD, "three")


def test_deleted_and_missing_versions_not_found(store, registry):
    with pytest.raises(NotFound):
        store.get_model_version(*registry.deleted_version)
    with pytest.raises(NotFound):
        store.get_model_version(FRAUD, 99)
    with pytest.raises(NotFound):
        store.get_model_version("no such model", 1)


@pytest.mark.parametrize(("name", "alias"), [(FRAUD, "champion"), (FRAUD, "challenger"), (CHURN, "champion"),
                                             (FRAUD, "latest"), (CHURN, "LATEST")])
def test_version_by_alias_as_mlflow(store, client, name, alias):
    ours = store.get_model_version_by_alias(name, alias)
    assert our_version(ours) == their_version(client.get_model_version_by_alias(name, alias))


def test_missing_alias_not_found(store):
    with pytest.raises(NotFound):
        store.get_model_version_by_alias(FRAUD, "nobody")
    with pytest.raises(NotFound):
        store.get_model_version_by_alias("no such model", "champion")
    with pytest.raises(NotFound):
        store.get_model_version_by_alias(EMPTY, "latest")


def test_logged_model_version_has_its_model_id(store, client, registry):
    ours = store.get_model_version(FRAUD, 3)
    assert ours.model_id == registry.logged_model_id
    theirs = client.get_model_version(FRAUD, 3).model_id
    assert theirs in (None, registry.logged_model_id)  # MLflow's SQL tables keep no model id
    assert store.get_model_version(FRAUD, 1).model_id is None


def test_versions_of_run(store, registry):
    run_id = registry.version_runs[(FRAUD, "1")]
    found = {(v.name, v.version) for v in store.model_versions_of_run(run_id)}
    assert found == {k for k, r in registry.version_runs.items() if r == run_id and k != registry.deleted_version}


@pytest.mark.parametrize("filter_string", BAD_FILTERS[:3] + ["version_number = 1.5", "source_path IN ('a')"])
def test_bad_version_filters_refused(store, filter_string):
    with pytest.raises(FilterSyntaxError):
        store.search_model_versions(filter_string)


# -- prompts ----------------------------------------------------------------------------------


def _their_prompt_tags(tags) -> dict:
    return {k: v for k, v in dict(tags).items() if k not in PROMPT_SYSTEM_TAGS}


def test_search_prompts_as_mlflow(store, client):
    ours = store.search_prompts().items
    theirs = client.search_prompts()
    assert [(p.name, p.description, dict(p.tags), p.creation_timestamp) for p in ours] == [
        (p.name, p.description, _their_prompt_tags(p.tags), p.creation_timestamp) for p in theirs]
    assert [p.name for p in ours] == sorted(PROMPTS)


def test_search_prompts_filter_and_pages(store, client):
    assert [p.name for p in store.search_prompts("name LIKE 'summ%'").items] == [SUMMARIZE]
    assert [p.name for p in store.search_prompts("tags.task = 'qa'").items] == [CHAT]
    ours, tokens = _pages(store.search_prompts, max_results=1)
    theirs, their_tokens = _pages(client.search_prompts, max_results=1)
    assert [p.name for p in ours] == [p.name for p in theirs] and tokens == their_tokens


def test_prompt_facts(store):
    prompt = store.get_prompt(SUMMARIZE)
    assert prompt.aliases == {"production": "1"} and prompt.latest_version == "2"
    assert PROMPT_EXPERIMENT_IDS_TAG not in prompt.tags


@pytest.mark.parametrize("name", list(PROMPTS))
def test_prompt_versions_as_mlflow(store, client, name):
    import json

    ours = store.search_prompt_versions(name).items
    theirs = list(client.search_prompt_versions(name))
    assert [v.version for v in ours] == [str(v.version) for v in theirs]
    for mine, their in zip(ours, theirs, strict=True):
        assert (mine.template if mine.prompt_type == "text" else json.loads(mine.template)) == their.template
        assert mine.commit_message == their.commit_message
        assert (json.loads(mine.model_config) if mine.model_config else None) == (their.model_config or None)
        assert (json.loads(mine.response_format) if mine.response_format else None) == their.response_format
        assert dict(mine.tags) == dict(their.tags)
        got = client.get_prompt_version(name, their.version)
        assert list(store.get_prompt_version(name, mine.version).aliases) == sorted(got.aliases)


def test_chat_prompt_template(store):
    import json

    version = store.get_prompt_version(CHAT, 1)
    assert version.prompt_type == "chat" and json.loads(version.template) == CHAT_MESSAGES
    assert version.variables == ("style", "question")


@pytest.mark.parametrize(("name", "alias"), [(SUMMARIZE, "production"), (CHAT, "champion"), (SUMMARIZE, "latest")])
def test_prompt_version_by_alias_as_mlflow(store, client, name, alias):
    ours = store.get_prompt_version_by_alias(name, alias)
    theirs = client.get_prompt_version_by_alias(name, alias)
    assert ours.version == str(theirs.version) and ours.commit_message == theirs.commit_message


def test_prompts_and_models_do_not_mix(store):
    with pytest.raises(NotFound):
        store.get_prompt(FRAUD)
    with pytest.raises(NotFound):
        store.search_prompt_versions(FRAUD)
    with pytest.raises(NotFound):
        store.get_prompt("no such prompt")
    with pytest.raises(NotFound):
        store.get_prompt_version(SUMMARIZE, 9)
    with pytest.raises(NotFound):
        store.get_prompt_version_by_alias(SUMMARIZE, "nobody")


# -- schemas without a registry ---------------------------------------------------------------


def test_sql_schema_without_registry(sqlite_copy):
    from tracktui.store import open_store

    path = sqlite_copy.uri.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        for table in ("registered_model_aliases", "model_version_tags", "registered_model_tags",
                      "model_versions", "registered_models"):
            conn.execute(f"DROP TABLE {table}")
    store = open_store(sqlite_copy.uri, read_only=True)
    try:
        assert not store.supports_model_registry
        assert store.search_registered_models().items == ()
        assert store.search_model_versions().items == ()
        assert store.search_prompts().items == ()
        with pytest.raises(NotFound):
            store.get_registered_model(FRAUD)
        with pytest.raises(NotFound):
            store.get_model_version_by_alias(FRAUD, "champion")
    finally:
        store.close()
