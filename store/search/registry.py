"""MLflow's registered-model and model-version filter and order_by grammar (docs/formats.md §8.3).

The scanner of runs (store.search.parser) with the namespaces of MLflow 3.17's
`SearchModelUtils` / `SearchModelVersionUtils`: a bare key or `attribute.` for attributes,
`tag.`/`tags.` for tags; clauses joined by AND; every value a quoted string.

* Registered models: attribute `name` (`= != LIKE ILIKE IN NOT IN`), tags (`= != LIKE ILIKE`).
* Model versions: `name`, `run_id` (`= != LIKE ILIKE IN NOT IN`), `source_path` (the version's
  source; `= != LIKE ILIKE`), `version_number` (`= != < <= > >=` with an integer, bare or
  quoted), tags (`= != LIKE ILIKE`).
* order_by: models by `name`, `last_updated_timestamp` (alias `timestamp`) and
  `creation_timestamp`, then name ascending; versions by `name`, `version_number`,
  `creation_timestamp`, `last_updated_timestamp`, then name ascending and version descending.
  Naming a field twice is refused. (MLflow's SQL store refuses `creation_timestamp` for models
  and its file store refuses `timestamp`; tracktui takes both everywhere, with their meaning.)

Prompts: a search leaves prompts out unless it asks for them with
"tags.`mlflow.prompt.is_prompt` = 'true'" (or `!= 'false'`), as MLflow's stores do; a clause on
that tag otherwise only decides this, it filters nothing else (`split_prompt_clauses`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TypeVar

from ..errors import FilterSyntaxError
from ..registry import IS_PROMPT_TAG, ModelVersion, RegisteredModel
from . import Comparison, Kind, OrderKey
from .evaluate import compare_number, compare_string
from .format import _quote_key, quote_value
from .parser import NUMERIC_OPS, Parser

MODEL_ATTRIBUTES = ("name",)
VERSION_STRING_ATTRIBUTES = ("name", "run_id", "source_path")
VERSION_NUMERIC_ATTRIBUTES = ("version_number",)
MODEL_ORDER_KEYS = ("name", "last_updated_timestamp", "creation_timestamp")
VERSION_ORDER_KEYS = ("name", "version_number", "creation_timestamp", "last_updated_timestamp")
_ORDER_ALIASES = {"timestamp": "last_updated_timestamp"}
_PREFIXES: dict[str, Kind] = {"attribute": "attribute", "tag": "tag", "tags": "tag"}
_STRING_OPS = ("=", "!=", "LIKE", "ILIKE")
_LIST_OPS = ("IN", "NOT IN")
_LIST_KEYS = ("name", "run_id")

#: MLflow's default version order; every version order ends with name ASC, version DESC.
DEFAULT_VERSION_ORDER = (
    OrderKey("attribute", "last_updated_timestamp", False),
    OrderKey("attribute", "name", True),
    OrderKey("attribute", "version_number", False),
)

T = TypeVar("T")


def parse_registered_model_filter(text: str | None) -> tuple[Comparison, ...]:
    """Parse a registered-model (or prompt) filter. Empty/None → (). Raises FilterSyntaxError."""
    return _parse(_RegistryParser(text or "", versions=False))


def parse_model_version_filter(text: str | None) -> tuple[Comparison, ...]:
    """Parse a model-version filter. Empty/None → (). Raises FilterSyntaxError."""
    return _parse(_RegistryParser(text or "", versions=True))


def parse_registered_model_order_by(items: Sequence[str] | None) -> tuple[OrderKey, ...]:
    """The full model order: the given keys, then name ascending. Raises FilterSyntaxError."""
    keys = _parse_order(items, versions=False)
    if not any(k.key == "name" for k in keys):
        keys += (OrderKey("attribute", "name", True),)
    return keys


def parse_model_version_order_by(items: Sequence[str] | None) -> tuple[OrderKey, ...]:
    """The full version order: the given keys (MLflow's default when none), then name
    ascending and version descending. Raises FilterSyntaxError."""
    keys = _parse_order(items, versions=True) or DEFAULT_VERSION_ORDER
    named = {k.key for k in keys}
    return keys + tuple(k for k in DEFAULT_VERSION_ORDER[1:] if k.key not in named)


def split_prompt_clauses(comparisons: Sequence[Comparison]) -> tuple[bool, tuple[Comparison, ...]]:
    """(wants prompts, the clauses not on the prompt tag). MLflow reads the first clause on
    the prompt tag: `= 'true'` or `!= 'false'` asks for prompts; anything else, or no such
    clause, asks for models. Either way the prompt-tag clauses then say nothing more."""
    wants = False
    for c in comparisons:
        if c.kind == "tag" and c.key == IS_PROMPT_TAG:
            value = str(c.value).lower()
            wants = (c.op == "=" and value == "true") or (c.op == "!=" and value == "false")
            break
    return wants, tuple(c for c in comparisons if not (c.kind == "tag" and c.key == IS_PROMPT_TAG))


def format_registry_filter(comparisons: Iterable[Comparison]) -> str:
    """Canonical MLflow text for parsed registry comparisons (what the REST backend sends)."""
    parts = []
    for c in comparisons:
        ident = c.key if c.kind == "attribute" else f"tags.{_quote_key(c.key)}"
        if isinstance(c.value, tuple):
            parts.append(f"{ident} {c.op} (" + ", ".join(quote_value(v) for v in c.value) + ")")
        elif isinstance(c.value, str):
            parts.append(f"{ident} {c.op} {quote_value(c.value)}")
        else:
            parts.append(f"{ident} {c.op} {c.value}")
    return " AND ".join(parts)


def format_registry_order_by(keys: Iterable[OrderKey]) -> list[str]:
    """order_by strings MLflow's stores take for parsed keys."""
    return [f"{k.key} {'ASC' if k.ascending else 'DESC'}" for k in keys]


# -- Python evaluation (the file store) ---------------------------------------------------------


def registered_model_matches(model: RegisteredModel, comparisons: Sequence[Comparison]) -> bool:
    """True when the model (its tags including the prompt tag) satisfies every clause."""
    return all(_matches({"name": model.name}, None, model.tags, c) for c in comparisons)


def model_version_matches(version: ModelVersion, comparisons: Sequence[Comparison]) -> bool:
    """True when the version satisfies every clause."""
    attrs = {"name": version.name, "run_id": version.run_id, "source_path": version.source}
    return all(_matches(attrs, int(version.version), version.tags, c) for c in comparisons)


def sort_registered_models(models: Iterable[T], keys: Sequence[OrderKey], get=None) -> list[T]:
    """Models (or anything `get` maps to a RegisteredModel) in the order of full `keys`."""
    return _sort(models, keys, get or (lambda m: m), {
        "name": lambda m: m.name,
        "last_updated_timestamp": lambda m: m.last_updated_timestamp or 0,
        "creation_timestamp": lambda m: m.creation_timestamp or 0,
    })


def sort_model_versions(versions: Iterable[ModelVersion], keys: Sequence[OrderKey]) -> list[ModelVersion]:
    """Versions in the order of full `keys`."""
    return _sort(versions, keys, lambda v: v, {
        "name": lambda v: v.name,
        "version_number": lambda v: int(v.version),
        "last_updated_timestamp": lambda v: v.last_updated_timestamp or 0,
        "creation_timestamp": lambda v: v.creation_timestamp or 0,
    })


def _sort(items, keys, get, value_of) -> list:
    out = list(items)
    for key in reversed(keys):  # stable sorts, last key first
        out.sort(key=lambda item: value_of[key.key](get(item)), reverse=not key.ascending)
    return out


def _matches(attrs: Mapping[str, str | None], version_number: int | None, tags: Mapping[str, str], c: Comparison) -> bool:
    if c.kind == "tag":
        lhs = tags.get(c.key)
        if lhs is None and c.key == IS_PROMPT_TAG:  # a model lacks the tag: it "is" 'false'
            return (c.op == "=" and c.value == "false") or (c.op == "!=" and c.value == "true")
        return lhs is not None and compare_string(lhs, c.op, c.value)
    if c.key == "version_number":
        return version_number is not None and compare_number(version_number, c.op, c.value)
    lhs = attrs.get(c.key)
    return lhs is not None and compare_string(lhs, c.op, c.value)


# -- parsing ------------------------------------------------------------------------------------


def _parse(parser: _RegistryParser) -> tuple[Comparison, ...]:
    try:
        return parser.filter()
    except FilterSyntaxError:
        raise
    except Exception as exc:
        raise FilterSyntaxError(f"Could not parse filter ({exc!r})", text=parser.text, position=0) from exc


def _parse_order(items: Sequence[str] | None, *, versions: bool) -> tuple[OrderKey, ...]:
    if isinstance(items, str):
        items = (items,)
    keys: list[OrderKey] = []
    for item in items or ():
        if not isinstance(item, str):
            raise FilterSyntaxError(f"order_by entries must be strings, got {type(item).__name__}",
                                    text="", position=0)
        try:
            key = _RegistryParser(item, versions=versions, order=True).order_key()
        except FilterSyntaxError:
            raise
        except Exception as exc:
            raise FilterSyntaxError(f"Could not parse order_by ({exc!r})", text=item, position=0) from exc
        if any(k.key == key.key for k in keys):
            raise FilterSyntaxError(f"order_by names '{key.key}' twice", text=item, position=0,
                                    expected="each field at most once")
        keys.append(key)
    return tuple(keys)


class _RegistryParser(Parser):
    def __init__(self, text: str, *, versions: bool, order: bool = False):
        super().__init__(text, "registry")  # type: ignore[arg-type]
        self.versions = versions
        self.order = order

    def _prefixes(self):
        return _PREFIXES

    def _identifier(self, *, order: bool):
        ident = super()._identifier(order=order)
        if order and ident.kind != "attribute":
            self._fail("Registry searches can only be ordered by attributes",
                       "one of " + ", ".join(self._attribute_keys()), ident.start)
        return ident

    def _attribute_key(self, key: str, key_start: int, order: bool) -> str:
        if order:
            key = _ORDER_ALIASES.get(key, key) if not self.versions else key
        valid = self._attribute_keys()
        if key not in valid:
            what = "model version" if self.versions else "registered model"
            hint = "" if order or key_start != self._ident_start else f" (tags need a prefix: tags.{key})"
            self._fail(f"Unknown {what} attribute '{key}'{hint}", "one of " + ", ".join(valid), key_start)
        return key

    def _attribute_keys(self):
        if self.order:
            return VERSION_ORDER_KEYS if self.versions else MODEL_ORDER_KEYS
        return VERSION_STRING_ATTRIBUTES + VERSION_NUMERIC_ATTRIBUTES if self.versions else MODEL_ATTRIBUTES

    def _allowed_ops(self, ident):
        if ident.kind == "tag":
            return _STRING_OPS
        if ident.key in VERSION_NUMERIC_ATTRIBUTES:
            return NUMERIC_OPS
        return _STRING_OPS + _LIST_OPS if ident.key in _LIST_KEYS else _STRING_OPS

    def _is_numeric(self, ident) -> bool:
        return ident.kind == "attribute" and ident.key in VERSION_NUMERIC_ATTRIBUTES

    def _number(self, ident):
        """An integer version number, bare or quoted (MLflow's stores take `'3'` too)."""
        start = self.pos
        if self._peek() in ("'", '"'):
            text = self._quoted(self._peek(), what="value")
        else:
            word = self._peek_word() or ""
            text = word if self.text.startswith(word, self.pos) else ""
            if self._peek() == "-":
                rest = self._peek_word(self.pos + 1) or ""
                text = "-" + rest
            self.pos += len(text)
        try:
            return int(text.strip())
        except ValueError:
            self.pos = start
            self._fail(f"version_number compares with an integer, found {self._describe_here()}",
                       "an integer such as 3", start)
