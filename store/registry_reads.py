"""The registry read methods of the Store protocol, once, over two primitives per backend.

A backend with a registry subclasses `RegistryReads` and implements `_registry_models` and
`_registry_versions` (one page of registered models or versions for parsed clauses, prompts or
not, in a full order) plus the three point reads (`get_registered_model`, `get_model_version`,
`get_model_version_by_alias`). Everything else — parsing, page tokens, limits, keeping prompts
apart from models, and turning models into prompts — happens here the same way for every
backend (docs/formats.md §8).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .base import Store
from .errors import InvalidValue, NotFound
from .model import Page
from .paging import check_max_results, decode_page_token, encode_page_token
from .registry import (
    ModelVersion,
    Prompt,
    PromptVersion,
    RegisteredModel,
    is_prompt,
    prompt_from_model,
    prompt_version_from_model_version,
)
from .search import Comparison, OrderKey
from .search.registry import (
    parse_model_version_filter,
    parse_model_version_order_by,
    parse_registered_model_filter,
    parse_registered_model_order_by,
    split_prompt_clauses,
)

#: MLflow's page limits for registered models and for model versions.
MODELS_MAX_RESULTS = 1000
VERSIONS_MAX_RESULTS = 200_000
_BY_NAME = (OrderKey("attribute", "name", True),)
_NEWEST_VERSION_FIRST = (OrderKey("attribute", "version_number", False),)


if TYPE_CHECKING:
    _Host = Store
else:
    # A Store only for the type checker, as the backends' mixin hosts (store/sql/host.py): at
    # run time a Store base would put Store's refusing defaults ahead of the other mixins'
    # methods in the store classes' MRO (SqlStore.purge_deleted_runs came out as Store's).
    _Host = object


class RegistryReads(_Host):
    """Registry reads for a backend that provides the primitives below."""

    @property
    def supports_model_registry(self) -> bool:
        return True

    # -- what a backend provides ----------------------------------------------------------------

    @abstractmethod
    def _registry_models(
        self, comparisons: tuple[Comparison, ...], prompts: bool, order: tuple[OrderKey, ...], offset: int, limit: int
    ) -> tuple[list[RegisteredModel], bool]:
        """Up to `limit` registered models from `offset` on, matching `comparisons` (never a
        clause on the prompt tag) and being prompts or not as `prompts` says, in `order` (full:
        it ends with a unique key); and whether more follow."""

    @abstractmethod
    def _registry_versions(
        self, comparisons: tuple[Comparison, ...], prompts: bool, order: tuple[OrderKey, ...], offset: int, limit: int
    ) -> tuple[list[ModelVersion], bool]:
        """The same for live (not deleted) model versions; `prompts` looks at version tags."""

    # -- the protocol ---------------------------------------------------------------------------

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] = (),
        page_token: str | None = None,
    ) -> Page[RegisteredModel]:
        comparisons = parse_registered_model_filter(filter_string)
        order = parse_registered_model_order_by(order_by)
        offset = decode_page_token(page_token)
        check_max_results(max_results, MODELS_MAX_RESULTS)
        prompts, rest = split_prompt_clauses(comparisons)
        if not self.supports_model_registry:
            return Page(())
        return _page(*self._registry_models(rest, prompts, order, offset, max_results), offset, max_results)

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = 10_000,
        order_by: Sequence[str] = (),
        page_token: str | None = None,
    ) -> Page[ModelVersion]:
        comparisons = parse_model_version_filter(filter_string)
        order = parse_model_version_order_by(order_by)
        offset = decode_page_token(page_token)
        check_max_results(max_results, VERSIONS_MAX_RESULTS)
        prompts, rest = split_prompt_clauses(comparisons)
        if not self.supports_model_registry:
            return Page(())
        return _page(*self._registry_versions(rest, prompts, order, offset, max_results), offset, max_results)

    def search_prompts(
        self, filter_string: str | None = None, max_results: int = 100, page_token: str | None = None
    ) -> Page[Prompt]:
        _prompts, rest = split_prompt_clauses(parse_registered_model_filter(filter_string))
        offset = decode_page_token(page_token)
        check_max_results(max_results, MODELS_MAX_RESULTS)
        if not self.supports_model_registry:
            return Page(())
        order = parse_registered_model_order_by(())
        models, more = self._registry_models(rest, True, order, offset, max_results)
        return _page([prompt_from_model(m) for m in models], more, offset, max_results)

    def get_prompt(self, name: str) -> Prompt:
        return prompt_from_model(self._prompt_model(name))

    def search_prompt_versions(
        self, name: str, max_results: int = 100, page_token: str | None = None
    ) -> Page[PromptVersion]:
        offset = decode_page_token(page_token)
        check_max_results(max_results, VERSIONS_MAX_RESULTS)
        self._prompt_model(name)
        clause = (Comparison("attribute", "name", "=", name),)
        order = parse_model_version_order_by(["version_number DESC"])
        versions, more = self._registry_versions(clause, True, order, offset, max_results)
        return _page([prompt_version_from_model_version(v) for v in versions], more, offset, max_results)

    def get_prompt_version(self, name: str, version: str | int) -> PromptVersion:
        self._prompt_model(name)
        try:
            found = self.get_model_version(name, version)
        except NotFound:
            raise NotFound(f"Prompt (name={name}, version={version}) not found") from None
        return prompt_version_from_model_version(found)

    def get_prompt_version_by_alias(self, name: str, alias: str) -> PromptVersion:
        self._prompt_model(name)
        try:
            found = self.get_model_version_by_alias(name, alias)
        except NotFound:
            raise NotFound(f"Prompt alias {alias} not found for prompt {name}") from None
        return prompt_version_from_model_version(found)

    def _prompt_model(self, name: str) -> RegisteredModel:
        """The registered model behind a prompt. Raises NotFound (also for a model that is not
        a prompt, where MLflow says so)."""
        try:
            model = self.get_registered_model(name)
        except NotFound:
            raise NotFound(f"Prompt '{name}' not found") from None
        if not is_prompt(model.tags):
            raise NotFound(f"'{name}' is a registered model, not a prompt")
        return model


def version_number(version: str | int) -> int:
    """A version number as MLflow takes one (an integer, or text holding one). Raises
    InvalidValue."""
    if isinstance(version, bool):
        raise InvalidValue(f"Model version must be an integer, got {version!r}")
    try:
        return int(str(version).strip())
    except ValueError:
        raise InvalidValue(f"Model version must be an integer, got {version!r}") from None


def latest_alias(alias: str) -> bool:
    """`latest` (any case) is no stored alias: it names the highest live version."""
    return alias.lower() == "latest"


def _page(items: list, more: bool, offset: int, max_results: int) -> Page:
    return Page(tuple(items), encode_page_token(offset + max_results) if more else None)
