"""MLflow's logged-model filter and order_by grammar (docs/logged-models.md), parsed locally.

The same scanner as runs (store.search.parser) with the namespaces MLflow 3.17's SQL store
knows (`mlflow.utils.search_logged_model_utils`): exactly `attributes.`, `metrics.`,
`params.`, `tags.` (plural, lower case) or a bare attribute. Attributes: `name`, `model_id`,
`model_type`, `status`, `source_run_id` (strings: `= != LIKE ILIKE IN NOT IN`) and
`creation_timestamp` / `last_updated_timestamp` (aliases `creation_time`,
`last_updated_time`; numeric). Params and tags take the string operators; metrics the numeric
ones. `status` compares the status name (`READY`, `PENDING`, `FAILED`, `UNSPECIFIED`).

Semantics (the SQL store's, used on every backend): a metric clause holds when ANY point of
that metric (on one of the `datasets`, if given) satisfies it; with `datasets` and no metric
clause, a model needs some metric on one of them. order_by entries are structured
(`LoggedModelOrder`); metric ordering uses each model's latest point (timestamp, then step)
on the named dataset; missing values sort last; the tail order is `creation_timestamp DESC,
model_id ASC`. Deleted models are never searched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..errors import FilterSyntaxError, InvalidValue
from ..logged_models import STATUS_TO_INT, DatasetFilter, LoggedModel, LoggedModelOrder
from . import Comparison, Kind
from .evaluate import compare_number, compare_string
from .format import _quote_key, quote_value
from .parser import NUMERIC_OPS, Parser

STRING_ATTRIBUTES = ("name", "model_id", "model_type", "status", "source_run_id")
NUMERIC_ATTRIBUTES = ("creation_timestamp", "last_updated_timestamp")
_ALIASES = {"creation_time": "creation_timestamp", "last_updated_time": "last_updated_timestamp"}
_PREFIXES: dict[str, Kind] = {
    "attributes": "attribute", "metrics": "metric", "params": "param", "tags": "tag",
}
_STRING_OPS = ("=", "!=", "LIKE", "ILIKE", "IN", "NOT IN")
DEFAULT_ORDER = (LoggedModelOrder("creation_timestamp", False), LoggedModelOrder("model_id", True))


def parse_logged_model_filter(text: str | None) -> tuple[Comparison, ...]:
    """Parse a logged-model filter. Empty/None → (). Raises FilterSyntaxError (only)."""
    text = text or ""
    try:
        return _LoggedModelParser(text).filter()
    except FilterSyntaxError:
        raise
    except Exception as exc:
        raise FilterSyntaxError(f"Could not parse filter ({exc!r})", text=text, position=0) from exc


def parse_logged_model_order_by(
    items: Sequence[LoggedModelOrder | Mapping[str, Any] | str] | None,
) -> tuple[LoggedModelOrder, ...]:
    """order_by entries as MLflow takes them (dicts with `field_name`, `ascending`,
    `dataset_name`, `dataset_digest`), LoggedModelOrder values, or "field [ASC|DESC]" strings.
    Raises FilterSyntaxError for an unknown field or a digest without a dataset name."""
    out = []
    for item in items or ():
        if isinstance(item, str):
            item = _order_from_text(item)
        elif isinstance(item, Mapping):
            if not item.get("field_name"):
                raise FilterSyntaxError("order_by needs a field_name", text=str(dict(item)), position=0)
            ascending = item.get("ascending", True)
            if ascending not in (True, False):
                raise FilterSyntaxError("order_by ascending must be true or false",
                                        text=str(dict(item)), position=0)
            item = LoggedModelOrder(str(item["field_name"]), bool(ascending),
                                    item.get("dataset_name"), item.get("dataset_digest"))
        elif not isinstance(item, LoggedModelOrder):
            raise FilterSyntaxError(f"order_by entries must be dicts, got {type(item).__name__}",
                                    text="", position=0)
        out.append(_checked_order(item))
    return tuple(out)


def parse_datasets(datasets: Sequence[DatasetFilter | Mapping[str, Any]] | None) -> tuple[DatasetFilter, ...]:
    """The `datasets` argument as DatasetFilter values. Raises InvalidValue without a name."""
    out = []
    for d in datasets or ():
        if isinstance(d, Mapping):
            d = DatasetFilter(d.get("dataset_name") or "", d.get("dataset_digest"))
        if not d.dataset_name:
            raise InvalidValue("`dataset_name` in the `datasets` clause must be specified.")
        out.append(d)
    return tuple(out)


def format_logged_model_filter(comparisons: Iterable[Comparison]) -> str:
    """Canonical MLflow text for parsed comparisons (what the REST backend sends)."""
    parts = []
    for c in comparisons:
        ident = c.key if c.kind == "attribute" else f"{_PREFIX_OF[c.kind]}.{_quote_key(c.key)}"
        if isinstance(c.value, tuple):
            parts.append(f"{ident} {c.op} (" + ", ".join(quote_value(v) for v in c.value) + ")")
        elif isinstance(c.value, str):
            parts.append(f"{ident} {c.op} {quote_value(c.value)}")
        else:
            parts.append(f"{ident} {c.op} {c.value!r}")
    return " AND ".join(parts)


_PREFIX_OF = {"metric": "metrics", "param": "params", "tag": "tags"}


def order_to_json(order: LoggedModelOrder) -> dict[str, Any]:
    """The dict MLflow's API takes for one order_by entry."""
    out: dict[str, Any] = {"field_name": order.field_name, "ascending": order.ascending}
    if order.dataset_name:
        out["dataset_name"] = order.dataset_name
    if order.dataset_digest:
        out["dataset_digest"] = order.dataset_digest
    return out


def full_order(orders: Sequence[LoggedModelOrder]) -> tuple[LoggedModelOrder, ...]:
    """The given order plus MLflow's tail (creation_timestamp DESC, model_id ASC) unless given."""
    names = {o.field_name for o in orders}
    return (*orders, *(o for o in DEFAULT_ORDER if o.field_name not in names))


def metric_key(order: LoggedModelOrder) -> str | None:
    """The metric key of a `metrics.<key>` order, else None."""
    return order.field_name.split(".", 1)[1] if order.field_name.startswith("metrics.") else None


# -- Python evaluation (the file store) ---------------------------------------------------------


def logged_model_matches(
    model: LoggedModel, comparisons: Sequence[Comparison], datasets: Sequence[DatasetFilter] = ()
) -> bool:
    """True when the model satisfies every comparison (module docstring for the semantics)."""
    if datasets and not any(c.kind == "metric" for c in comparisons):
        if not any(_on_datasets(m.dataset_name, m.dataset_digest, datasets) for m in model.metrics):
            return False
    for c in comparisons:
        if c.kind == "metric":
            points = (m for m in model.metrics if m.key == c.key
                      and (not datasets or _on_datasets(m.dataset_name, m.dataset_digest, datasets)))
            if not any(compare_number(m.value, c.op, c.value) for m in points):
                return False
            continue
        value = attribute_value(model, c.kind, c.key)
        if value is None:
            return False
        ok = compare_string(value, c.op, c.value) if isinstance(value, str) else compare_number(value, c.op, c.value)
        if not ok:
            return False
    return True


def sort_logged_models(models: Iterable[LoggedModel], orders: Sequence[LoggedModelOrder] = ()) -> list[LoggedModel]:
    """Models in MLflow's order: the given keys, then creation_timestamp DESC, model_id ASC;
    missing values last in either direction."""
    out = list(models)
    for order in reversed(full_order(orders)):
        values = {m.model_id: _order_value(m, order) for m in out}
        present = [m for m in out if values[m.model_id] is not None]
        missing = [m for m in out if values[m.model_id] is None]
        present.sort(key=lambda m: values[m.model_id], reverse=not order.ascending)
        out = present + missing
    return out


def attribute_value(model: LoggedModel, kind: str, key: str) -> Any:
    if kind == "param":
        return model.params.get(key)
    if kind == "tag":
        return model.tags.get(key)
    return {
        "name": model.name, "model_id": model.model_id, "model_type": model.model_type,
        "status": model.status, "source_run_id": model.source_run_id,
        "creation_timestamp": model.creation_timestamp,
        "last_updated_timestamp": model.last_updated_timestamp,
    }.get(key)


def _order_value(model: LoggedModel, order: LoggedModelOrder) -> Any:
    key = metric_key(order)
    if key is None:
        if order.field_name == "status":
            return STATUS_TO_INT.get(model.status, 0)  # SQL orders the integer column
        return attribute_value(model, "attribute", order.field_name)
    points = [m for m in model.metrics if m.key == key
              and (not order.dataset_name or m.dataset_name == order.dataset_name)
              and (not order.dataset_digest or m.dataset_digest == order.dataset_digest)]
    if not points:
        return None
    return max(points, key=lambda m: (m.timestamp, m.step)).value


def _on_datasets(name: str | None, digest: str | None, datasets: Sequence[DatasetFilter]) -> bool:
    return any(name == d.dataset_name and (d.dataset_digest is None or digest == d.dataset_digest)
               for d in datasets)


def _order_from_text(text: str) -> LoggedModelOrder:
    parts = text.strip().rsplit(None, 1)
    if len(parts) == 2 and parts[1].upper() in ("ASC", "DESC"):
        return LoggedModelOrder(parts[0], parts[1].upper() == "ASC")
    return LoggedModelOrder(text.strip())


def _checked_order(order: LoggedModelOrder) -> LoggedModelOrder:
    name = order.field_name.strip()
    if "." in name:
        entity, key = name.split(".", 1)
        if entity != "metrics" or not key.strip("`"):
            raise FilterSyntaxError(f"Invalid order by field name: {entity}, only `metrics.<name>` is allowed",
                                    text=name, position=0, expected="metrics.<key> or an attribute")
        name = f"metrics.{key.strip('`')}"
    else:
        name = _ALIASES.get(name, name)
        if name not in STRING_ATTRIBUTES + NUMERIC_ATTRIBUTES:
            raise FilterSyntaxError(f"Invalid order by field name: {name}", text=name, position=0,
                                    expected="one of " + ", ".join(STRING_ATTRIBUTES + NUMERIC_ATTRIBUTES))
    if order.dataset_digest and not order.dataset_name:
        raise FilterSyntaxError("`dataset_digest` can only be specified if `dataset_name` is also specified.",
                                text=name, position=0)
    return LoggedModelOrder(name, order.ascending, order.dataset_name or None, order.dataset_digest or None)


class _LoggedModelParser(Parser):
    def __init__(self, text: str):
        super().__init__(text, "logged_model")  # type: ignore[arg-type]

    def _prefixes(self):
        return _PREFIXES

    def _attribute_key(self, key: str, key_start: int, order: bool) -> str:
        key = _ALIASES.get(key, key)
        valid = self._attribute_keys()
        if key not in valid:
            self._fail(f"Unknown logged model attribute '{key}'", "one of " + ", ".join(valid), key_start)
        return key

    def _attribute_keys(self):
        return STRING_ATTRIBUTES + NUMERIC_ATTRIBUTES

    def _allowed_ops(self, ident):
        return NUMERIC_OPS if self._is_numeric(ident) else _STRING_OPS

    def _is_numeric(self, ident) -> bool:
        return ident.kind == "metric" or (ident.kind == "attribute" and ident.key in NUMERIC_ATTRIBUTES)
