"""Evaluate parsed filters and order_by keys in Python, with MLflow's semantics.

Used by backends that cannot push the search into a database (the `mlruns` file store) so
that they answer exactly as the SQL backend does:

* metric filters compare the latest value; NaN matches only `!=` (always);
* a run without the key matches nothing but `IS NULL`;
* `=` and `LIKE` are case-sensitive, `ILIKE` is not; `%` and `_` are the only wildcards
  (no escape character, as on SQLite);
* ordering puts missing values last in both directions, and for metrics NaN after numbers
  but before missing values; the tail order is `start_time DESC` (unless ordered by it),
  then run id ascending.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any, cast

from ..model import Experiment, Run
from . import Comparison, OrderKey

#: One logged dataset of a run as the evaluator sees it: (name, digest, context or None).
DatasetRef = tuple[str, str, "str | None"]

_NUMERIC = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}

_MISSING = object()


def like_regex(pattern: str, *, case_sensitive: bool) -> re.Pattern[str]:
    """The regex equivalent of SQL `LIKE pattern`: `%` → any run, `_` → one character."""
    return _like_regex(pattern, case_sensitive)


@lru_cache(maxsize=256)
def _like_regex(pattern: str, case_sensitive: bool) -> re.Pattern[str]:
    parts = []
    for ch in pattern:
        if ch == "%":
            parts.append(".*")
        elif ch == "_":
            parts.append(".")
        else:
            parts.append(re.escape(ch))
    flags = re.DOTALL if case_sensitive else re.DOTALL | re.IGNORECASE
    return re.compile("".join(parts), flags)


def compare_string(lhs: str, op: str, value: Any) -> bool:
    """`lhs op value` for a present string value (value per Comparison's conventions)."""
    if op == "=":
        return lhs == value
    if op == "!=":
        return lhs != value
    if op == "LIKE":
        return like_regex(value, case_sensitive=True).fullmatch(lhs) is not None
    if op == "ILIKE":
        return like_regex(value, case_sensitive=False).fullmatch(lhs) is not None
    if op == "IN":
        return lhs in value
    if op == "NOT IN":
        return lhs not in value
    if op == "RLIKE":
        return regex_search(value, lhs)
    raise ValueError(f"operator {op} does not apply to strings")


def regex_search(pattern: str, text: str) -> bool:
    """RLIKE as MLflow evaluates it: Python's re.search; a bad pattern matches nothing."""
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return False


def compare_number(lhs: float | int, op: str, value: Any) -> bool:
    """`lhs op value` with IEEE semantics: NaN fails everything but `!=`."""
    return _NUMERIC[op](lhs, value)


# -- runs ------------------------------------------------------------------------------------


def run_matches(
    run: Run,
    comparisons: Iterable[Comparison],
    datasets: Sequence[DatasetRef] | None = None,
) -> bool:
    """True when `run` satisfies every comparison (an empty filter matches every run).

    `datasets` lists the run's logged dataset inputs for `dataset.*` clauses; a backend
    that does not know them passes None and such clauses match nothing."""
    for c in comparisons:
        if not _run_clause(run, c, datasets):
            return False
    return True


def _run_clause(run: Run, c: Comparison, datasets: Sequence[DatasetRef] | None) -> bool:
    kind, op = c.kind, c.op
    if kind == "metric":
        point = run.metrics.get(c.key)
        return point is not None and compare_number(point.value, op, c.value)
    if kind in ("param", "tag"):
        lhs = (run.params if kind == "param" else run.tags).get(c.key)
        if op == "IS NULL":
            return lhs is None
        if op == "IS NOT NULL":
            return lhs is not None
        return lhs is not None and compare_string(lhs, op, c.value)
    if kind == "attribute":
        attribute = run_attribute(run, c.key)
        if attribute is None:
            return False
        if isinstance(attribute, str):
            return compare_string(attribute, op, c.value)
        return compare_number(attribute, op, c.value)
    if kind == "dataset":
        if not datasets:
            return False
        field = ("name", "digest", "context").index(c.key)
        # As MLflow: the run matches if any of its datasets does.
        return any((value := d[field]) is not None and compare_string(value, op, c.value) for d in datasets)
    return False


def run_attribute(run: Run, key: str) -> str | int | None:
    """A run's value for a canonical attribute key (`run_name` is `Run.name`)."""
    if key == "run_id":
        return run.id
    if key == "run_name":
        return run.name
    return getattr(run, key)


def sort_runs(runs: Iterable[Run], order_keys: Sequence[OrderKey] = ()) -> list[Run]:
    """Runs in MLflow's order: the given keys, then `start_time DESC`, then run id."""
    tail: list[OrderKey] = []
    if not any(k.kind == "attribute" and k.key == "start_time" for k in order_keys):
        tail.append(OrderKey("attribute", "start_time", ascending=False))
    return _multi_sort(list(runs), list(order_keys) + tail, _run_sort_values,
                       tiebreak=lambda r: r.id)


def _run_sort_values(runs: list[Run], key: OrderKey) -> list[Any]:
    """The key's value for every run (one comprehension per key: this runs on 10k runs)."""
    k = key.key
    if key.kind == "metric":
        return [_MISSING if (p := r.metrics.get(k)) is None else p.value for r in runs]
    if key.kind == "param":
        return [r.params.get(k, _MISSING) for r in runs]
    if key.kind == "tag":
        return [r.tags.get(k, _MISSING) for r in runs]
    return [_MISSING if (v := run_attribute(r, k)) is None else v for r in runs]


# -- experiments -----------------------------------------------------------------------------


def experiment_matches(exp: Experiment, comparisons: Iterable[Comparison]) -> bool:
    """True when `exp` satisfies every comparison of an experiment filter."""
    for c in comparisons:
        if not _experiment_clause(exp, c):
            return False
    return True


def _experiment_clause(exp: Experiment, c: Comparison) -> bool:
    if c.kind == "tag":
        lhs = exp.tags.get(c.key)
        if c.op == "IS NULL":
            return lhs is None
        if c.op == "IS NOT NULL":
            return lhs is not None
        return lhs is not None and compare_string(lhs, c.op, c.value)
    if c.kind != "attribute":
        return False
    if c.key == "experiment_id":
        # An integer column in MLflow's SQL store: '007' names experiment 7.
        id_key = _id_key(exp.id)
        if c.op in ("IN", "NOT IN"):
            found = id_key in {_id_key(v) for v in cast("tuple[str, ...]", c.value)}
            return found if c.op == "IN" else not found
        equal = id_key == _id_key(c.value)
        return equal if c.op == "=" else not equal
    if c.key == "name":
        return compare_string(exp.name, c.op, c.value)
    lhs = getattr(exp, c.key)
    return lhs is not None and compare_number(lhs, c.op, c.value)


DEFAULT_EXPERIMENT_ORDER = (
    OrderKey("attribute", "creation_time", ascending=False),
    OrderKey("attribute", "experiment_id", ascending=True),
)


def sort_experiments(exps: Iterable[Experiment], order_keys: Sequence[OrderKey] = ()) -> list[Experiment]:
    """Experiments in MLflow's SQL-store order.

    No keys: `creation_time DESC, experiment_id ASC`. Given keys without experiment_id get
    `experiment_id DESC` appended as tie-breaker (what MLflow's SQL store does). Ids compare
    as integers when both are digit strings."""
    keys = list(order_keys) or list(DEFAULT_EXPERIMENT_ORDER)
    if not any(k.key == "experiment_id" for k in keys):
        keys.append(OrderKey("attribute", "experiment_id", ascending=False))
    return _multi_sort(list(exps), keys, _experiment_sort_values, tiebreak=None)


def _experiment_sort_values(exps: list[Experiment], key: OrderKey) -> list[Any]:
    return [_experiment_sort_value(e, key) for e in exps]


def _experiment_sort_value(exp: Experiment, key: OrderKey) -> Any:
    if key.kind == "tag":
        return exp.tags.get(key.key, _MISSING)
    if key.key == "experiment_id":
        return _id_key(exp.id)
    if key.key == "name":
        return exp.name
    value = getattr(exp, key.key)
    return _MISSING if value is None else value


def _id_key(experiment_id: object) -> tuple[int, int | str]:
    """Integer ids compare as integers (MLflow's SQL column is an INTEGER), others as text."""
    s = str(experiment_id)
    try:
        return (0, int(s))
    except ValueError:
        return (1, s)


# -- shared ----------------------------------------------------------------------------------


def _multi_sort(
    items: list,
    keys: Sequence[OrderKey],
    values_of: Callable[[list, OrderKey], list[Any]],
    tiebreak: Callable[[Any], Any] | None,
) -> list:
    """Stable sorts from the last key to the first, so earlier keys dominate."""
    if tiebreak is not None:
        items.sort(key=tiebreak)
    for key in reversed(keys):
        ranks = _ranks(values_of(items, key), key.ascending)
        order = sorted(range(len(items)), key=ranks.__getitem__, reverse=not key.ascending)
        items = [items[i] for i in order]
    return items


def _ranks(values: list[Any], ascending: bool) -> list[tuple]:
    """Sort keys that put values first, then NaN, then missing, in either direction.

    Descending sorts use reverse=True, so there the group ranks are negated to keep NaN and
    missing values at the end. `v != v` is true only for NaN."""
    if ascending:
        return [(2, 0) if v is _MISSING else (1, 0) if v != v else (0, v) for v in values]
    return [(-2, 0) if v is _MISSING else (-1, 0) if v != v else (0, v) for v in values]
