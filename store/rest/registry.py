"""The model registry and prompt registry over a tracking server's REST API: a mixin for RestStore.

Endpoints (docs/formats.md §8.3), all GET with query parameters: `registered-models/search`
(`filter`, `max_results`, `order_by` repeated, `page_token`) → `registered_models`,
`next_page_token`; `registered-models/get?name=` → `registered_model`;
`model-versions/search` → `model_versions`; `model-versions/get?name=&version=` and
`registered-models/alias?name=&alias=` → `model_version`. Prompts go through the same
endpoints, as MlflowClient's OSS registry does: a prompt search sends the prompt-tag clause,
a model search leaves it out and the server leaves prompts out.

Filters are parsed locally (store.search.registry) so errors show before a round trip; the
server gets the canonical text of what was parsed. Pages are MLflow's offset tokens, so a
page here is the same page on every backend.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import InvalidValue, NotFound
from ..paging import encode_page_token
from ..registry import IS_PROMPT_TAG, ModelVersion, RegisteredModel, model_id_from_source
from ..registry_reads import RegistryReads, version_number
from ..search import Comparison, OrderKey
from ..search.registry import format_registry_filter, format_registry_order_by
from .decode import key_values

if TYPE_CHECKING:
    from .host import RestHost
else:
    RestHost = object  # the host is a type-checking contract only (see host.py)

API = "/api/2.0/mlflow"
_PROMPTS_ONLY = Comparison("tag", IS_PROMPT_TAG, "=", "true")
#: Model names per registered-models search when filling in aliases.
_NAMES_PER_SEARCH = 100


class RestRegistry(RegistryReads, RestHost):
    """Mixin for RestStore (what it uses of the store: host.RestHost)."""

    @property
    def supports_model_registry(self) -> bool:
        return True

    # -- the primitives RegistryReads builds on ---------------------------------------------------

    def _registry_models(
        self, comparisons: tuple[Comparison, ...], prompts: bool, order: tuple[OrderKey, ...], offset: int, limit: int
    ) -> tuple[list[RegisteredModel], bool]:
        data = self._http.get(f"{API}/registered-models/search", _search_params(comparisons, prompts, order, offset, limit))
        models = [registered_model_from_json(m) for m in data.get("registered_models") or ()]
        return models, bool(data.get("next_page_token"))

    def _registry_versions(
        self, comparisons: tuple[Comparison, ...], prompts: bool, order: tuple[OrderKey, ...], offset: int, limit: int
    ) -> tuple[list[ModelVersion], bool]:
        data = self._http.get(f"{API}/model-versions/search", _search_params(comparisons, prompts, order, offset, limit))
        versions = [model_version_from_json(v) for v in data.get("model_versions") or ()]
        return self._with_aliases(versions, prompts), bool(data.get("next_page_token"))

    def _with_aliases(self, versions: list[ModelVersion], prompts: bool) -> list[ModelVersion]:
        """Versions with their aliases: a SQL-backed server's search leaves them out, so the
        models' aliases are read in one registered-models search per 100 names."""
        if not versions or any(v.aliases for v in versions):
            return versions
        names = sorted({v.name for v in versions})
        aliases: dict[str, Mapping[str, str]] = {}
        by_name = (OrderKey("attribute", "name", True),)
        for start in range(0, len(names), _NAMES_PER_SEARCH):
            chunk = tuple(names[start:start + _NAMES_PER_SEARCH])
            try:
                models, _ = self._registry_models((Comparison("attribute", "name", "IN", chunk),), prompts, by_name,
                                                  0, len(chunk))
            except InvalidValue:  # a name no MLflow literal can hold: those versions go without
                continue
            aliases.update((m.name, m.aliases) for m in models)
        return [_with_model_aliases(v, aliases.get(v.name, {})) for v in versions]

    # -- point reads --------------------------------------------------------------------------------

    def get_registered_model(self, name: str) -> RegisteredModel:
        data = self._http.get(f"{API}/registered-models/get", {"name": name})
        return registered_model_from_json(data.get("registered_model") or {})

    def get_model_version(self, name: str, version: str | int) -> ModelVersion:
        number = version_number(version)
        data = self._http.get(f"{API}/model-versions/get", {"name": name, "version": str(number)})
        return model_version_from_json(data.get("model_version") or {})

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        try:
            data = self._http.get(f"{API}/registered-models/alias", {"name": name, "alias": alias})
        except InvalidValue as exc:  # MLflow answers 400 for an alias it does not have
            raise NotFound(exc.message) from None
        return model_version_from_json(data.get("model_version") or {})


def _search_params(
    comparisons: tuple[Comparison, ...], prompts: bool, order: tuple[OrderKey, ...], offset: int, limit: int
) -> dict[str, Any]:
    sent = (_PROMPTS_ONLY, *comparisons) if prompts else comparisons
    params: dict[str, Any] = {"max_results": limit, "order_by": format_registry_order_by(order)}
    if sent:
        params["filter"] = format_registry_filter(sent)
    if offset:
        params["page_token"] = encode_page_token(offset)
    return params


def registered_model_from_json(data: Mapping[str, Any]) -> RegisteredModel:
    """A RegisteredModel from the API's JSON (tags as key/value objects, aliases as
    alias/version objects)."""
    aliases = {str(a.get("alias")): str(a.get("version")) for a in data.get("aliases") or ()}
    return RegisteredModel(
        name=str(data.get("name", "")), creation_timestamp=_int(data.get("creation_timestamp")),
        last_updated_timestamp=_int(data.get("last_updated_timestamp")), description=data.get("description"),
        tags=key_values(data.get("tags")), aliases=dict(sorted(aliases.items())),
        latest_versions=tuple(sorted(
            (_with_model_aliases(model_version_from_json(v), aliases) for v in data.get("latest_versions") or ()),
            key=lambda v: -int(v.version))),
    )


def model_version_from_json(data: Mapping[str, Any]) -> ModelVersion:
    """A ModelVersion from the API's JSON (version numbers arrive as text)."""
    return ModelVersion(
        name=str(data.get("name", "")), version=str(data.get("version", "")),
        creation_timestamp=_int(data.get("creation_timestamp")),
        last_updated_timestamp=_int(data.get("last_updated_timestamp")), description=data.get("description"),
        user_id=data.get("user_id") or None, current_stage=data.get("current_stage") or "None",
        source=data.get("source"), run_id=data.get("run_id") or None, run_link=data.get("run_link") or None,
        status=data.get("status") or "READY", status_message=data.get("status_message") or None,
        tags=key_values(data.get("tags")), aliases=tuple(sorted(str(a) for a in data.get("aliases") or ())),
        model_id=data.get("model_id") or model_id_from_source(data.get("source")),
    )


def _with_model_aliases(version: ModelVersion, aliases: Mapping[str, str]) -> ModelVersion:
    """The version with the aliases its model points at it (latest versions, and versions a
    SQL-backed server's search returns, arrive without them)."""
    own = tuple(sorted(a for a, v in aliases.items() if v == version.version))
    return dataclasses.replace(version, aliases=own)


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
