"""MLflow's search grammar, once: filter and order_by strings → small AST, plus the Python
evaluator the file store uses. The SQL backend compiles the same AST to SQL; the REST backend
parses locally (so syntax errors show before a round trip) and should send
`format_filter(...)` / `format_order_by(...)` of what it parsed, which MLflow always accepts.

Grammar (see docs/formats.md §4): `clause [AND clause]...`, no OR/NOT/parentheses. The parser
(parser.py) accepts what MLflow 3.17 accepts, except a few sqlparse accidents listed
in tests/store/test_search.py (DEVIATIONS): a dangling or missing AND is an error here,
whitespace around order_by entries and SQL keywords as bare keys are fine here.

Modules: parser.py (text → AST), evaluate.py (AST → Python predicate and order),
format.py (AST → canonical text and `quote_value`), ../paging.py (page tokens).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from ..model import Experiment, Run

#: "metadata", "span", "feedback" and "expectation" occur in trace filters only (store.traces.filter).
Kind = Literal["metric", "param", "tag", "attribute", "dataset", "metadata", "span", "feedback", "expectation"]

#: Canonical run attribute keys (aliases like `created`, `run name` map onto these).
#: (MLflow does not let filters or order_by use `lifecycle_stage`: that is the `view` argument.)
RUN_STRING_ATTRIBUTES = ("run_id", "run_name", "status", "user_id", "artifact_uri")
RUN_NUMERIC_ATTRIBUTES = ("start_time", "end_time")
EXPERIMENT_STRING_ATTRIBUTES = ("name", "experiment_id")
EXPERIMENT_NUMERIC_ATTRIBUTES = ("creation_time", "last_update_time")


@dataclass(frozen=True, slots=True)
class Comparison:
    """One `identifier op value` clause.

    kind: which namespace the key lives in. key: the metric/param/tag name or a canonical
    attribute key. op: one of `= != < <= > >= LIKE ILIKE IN NOT IN IS NULL IS NOT NULL`
    (upper case). value: float for metrics and numeric attributes, str for strings,
    tuple[str, ...] for IN / NOT IN, None for IS [NOT] NULL.
    """

    kind: Kind
    key: str
    op: str
    value: float | int | str | tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class OrderKey:
    """One order_by entry: kind and canonical key as in Comparison; ascending unless DESC."""

    kind: Kind
    key: str
    ascending: bool = True


def parse_run_filter(text: str | None) -> tuple[Comparison, ...]:
    """Parse a run filter. Empty/None → (). Raises FilterSyntaxError (only)."""
    from .parser import parse_filter

    return parse_filter(text or "", target="run")


def parse_experiment_filter(text: str | None) -> tuple[Comparison, ...]:
    """Parse an experiment filter (attributes name, experiment_id, creation_time,
    last_update_time; tags). Raises FilterSyntaxError (only)."""
    from .parser import parse_filter

    return parse_filter(text or "", target="experiment")


def parse_run_order_by(items: Sequence[str]) -> tuple[OrderKey, ...]:
    """Parse run order_by clauses like "metrics.`a b` DESC". Raises FilterSyntaxError."""
    from .parser import parse_order_by

    return parse_order_by(items, target="run")


def parse_experiment_order_by(items: Sequence[str]) -> tuple[OrderKey, ...]:
    """Parse experiment order_by clauses (attributes only). Raises FilterSyntaxError."""
    from .parser import parse_order_by

    return parse_order_by(items, target="experiment")


# -- Python evaluation (the file store, and anything else that filters in memory) ------------
# Thin wrappers so `store.search` stays the one public entry; the work is in search_eval.py.


def run_matches(
    run: Run,
    comparisons: Sequence[Comparison],
    datasets: Sequence[tuple[str, str, str | None]] | None = None,
) -> bool:
    """True when the Run satisfies every comparison, with MLflow's semantics (see
    store/search_eval.py). `datasets`: the run's (name, digest, context) inputs, if known."""
    from .evaluate import run_matches as _impl

    return _impl(run, comparisons, datasets)


def sort_runs(runs: Sequence[Run], order_keys: Sequence[OrderKey] = ()) -> list[Run]:
    """Runs ordered by the keys, then start_time DESC, then run id; missing values last."""
    from .evaluate import sort_runs as _impl

    return _impl(runs, order_keys)


def experiment_matches(exp: Experiment, comparisons: Sequence[Comparison]) -> bool:
    """True when the Experiment satisfies every comparison of an experiment filter."""
    from .evaluate import experiment_matches as _impl

    return _impl(exp, comparisons)


def sort_experiments(
    exps: Sequence[Experiment], order_keys: Sequence[OrderKey] = ()
) -> list[Experiment]:
    """Experiments ordered as MLflow's SQL store does (default creation_time DESC, id ASC)."""
    from .evaluate import sort_experiments as _impl

    return _impl(exps, order_keys)


def format_filter(comparisons: Sequence[Comparison], *, target: Literal["run", "experiment"] = "run") -> str:
    """Canonical MLflow filter text for parsed comparisons (what the REST backend sends).
    Raises InvalidValue if no MLflow literal can express them."""
    from .format import format_filter as _impl

    return _impl(comparisons, target=target)


def quote_value(value: str) -> str:
    """`value` as an MLflow string literal for a filter built in code, e.g.
    f"tags.`mlflow.parentRunId` = {quote_value(run_id)}". Raises InvalidValue when no MLflow
    literal can hold it (the grammar has no escapes)."""
    from .format import quote_value as _impl

    return _impl(value)


def format_order_by(keys: Sequence[OrderKey]) -> list[str]:
    """Canonical MLflow order_by strings, e.g. ["metrics.`a b` DESC"]."""
    from .format import format_order_by as _impl

    return _impl(keys)
