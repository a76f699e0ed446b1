"""MLflow's trace filter and order_by grammar (docs/formats.md §4.3), parsed locally.

The same scanner as runs/experiments (store.search_parser) with the trace namespaces:
`trace.`/`attribute(s).` or bare attributes, `tags.`/`tag.`, `metadata.`/`request_metadata.`,
`span.name`/`span.type`/`span.status`/`span.content` (kind "span": a trace matches when ONE of
its spans satisfies every span clause together, as MLflow's SQL store does).
Attributes: request_id (alias trace_id), client_request_id, status (alias state), name (the
`mlflow.traceName` tag), prompt (the `mlflow.linkedPrompts` tag), run_id (metadata
`mlflow.sourceRun`), text (LIKE/ILIKE over span contents, i.e. `span.content`), and the numeric
timestamp_ms, execution_time_ms, end_time_ms (aliases without `_ms`; a quoted number is read
as the number, as MLflow does). `name`/`prompt`/`run_id`/`text` come out of the parser as the
tag/metadata/span comparison they stand for, so backends only see attribute, tag, metadata
and span kinds. `span.attributes.<key>` is span key `attributes.<key>`. RLIKE (a regular
expression, Python's `re.search` semantics) applies to string attributes, tags, metadata and
span fields. `feedback.<name>` / `expectation.<name>` (kinds "feedback"/"expectation") match
traces with a valid assessment of that name, as MLflow's SQL store: =, !=, LIKE, ILIKE, RLIKE
take a quoted string compared with the value's JSON text, <, <=, >, >= an unquoted number,
IS [NOT] NULL whether there is one (store.traces.assessments); `issue.`/`assessment.` are refused.
The trace_id/state aliases, `name IN (...)` and ordering by client_request_id are tracktui's
extensions (docs/differences-from-mlflow.md).

Also here: the Python evaluation the file store uses, and the default order (newest first).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..errors import FilterSyntaxError, InvalidValue
from ..search import Comparison, OrderKey, quote_value
from ..search.evaluate import compare_number, compare_string
from ..search.parser import NUMERIC_OPS, Parser
from . import SOURCE_RUN_METADATA, TRACE_NAME_TAG, Span, TraceInfo
from .assessments import assessments_match

log = logging.getLogger(__name__)

STRING_ATTRIBUTES = ("request_id", "client_request_id", "status", "name", "run_id", "prompt", "text")
NUMERIC_ATTRIBUTES = ("timestamp_ms", "execution_time_ms", "end_time_ms")
ORDER_ONLY_ATTRIBUTES = ("experiment_id",)
_ALIASES = {
    "trace_id": "request_id", "state": "status", "timestamp": "timestamp_ms",
    "execution_time": "execution_time_ms", "end_time": "end_time_ms",
}
_PREFIXES = {
    "trace": "attribute", "attribute": "attribute", "attributes": "attribute",
    "tag": "tag", "tags": "tag", "metadata": "metadata", "request_metadata": "metadata",
    "span": "span", "feedback": "feedback", "expectation": "expectation",
}
_SERVER_ONLY_PREFIXES = ("issue", "assessment")
ASSESSMENT_KINDS = ("feedback", "expectation")
_ASSESSMENT_OPS = ("=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "RLIKE", "IS NULL", "IS NOT NULL")
SPAN_KEYS = ("name", "type", "status", "content")
_STRING_OPS = ("=", "!=", "LIKE", "ILIKE", "RLIKE", "IN", "NOT IN")
_KV_OPS = ("=", "!=", "LIKE", "ILIKE", "RLIKE", "IS NULL", "IS NOT NULL")
_CONTENT_OPS = ("LIKE", "ILIKE")
#: The tag MLflow links a trace's prompts in (the `prompt` filter key).
LINKED_PROMPTS_TAG = "mlflow.linkedPrompts"
SPAN_ATTRIBUTE_PREFIX = "attributes."
_RESERVED_METADATA = {"mlflow.trace.tokenUsage", "mlflow.trace.cost"}
DEFAULT_ORDER = (OrderKey("attribute", "timestamp_ms", False), OrderKey("attribute", "request_id", True))


def parse_trace_filter(text: str | None) -> tuple[Comparison, ...]:
    """Parse a trace filter. Empty/None → (). Raises FilterSyntaxError (only)."""
    text = text or ""
    try:
        parsed = _TraceParser(text).filter()
    except FilterSyntaxError:
        raise
    except Exception as exc:
        log.exception("Parser bug on trace filter %r", text)
        raise FilterSyntaxError(f"Could not parse filter ({exc!r})", text=text, position=0) from exc
    for c in parsed:
        if c.kind == "attribute" and c.key == "prompt" and str(c.value).count("/") != 1:
            raise FilterSyntaxError(
                f"Invalid prompt filter value {c.value!r}", text=text, position=text.find(str(c.value)),
                expected="prompt = 'name/version'",
            )
    return tuple(_canonical(c) for c in parsed)


def parse_trace_order_by(items: Sequence[str] | None) -> tuple[OrderKey, ...]:
    """Parse trace order_by entries like "timestamp_ms DESC". Raises FilterSyntaxError."""
    keys = []
    for item in items or ():
        if not isinstance(item, str):
            raise FilterSyntaxError("order_by entries must be strings", text="", position=0)
        key = _TraceParser(item).order_key()
        if key.kind == "attribute" and key.key == "name":
            key = OrderKey("tag", TRACE_NAME_TAG, key.ascending)
        elif key.kind == "attribute" and key.key == "run_id":
            key = OrderKey("metadata", SOURCE_RUN_METADATA, key.ascending)
        keys.append(key)
    return tuple(keys)


def format_trace_filter(comparisons: Sequence[Comparison]) -> str:
    """Canonical MLflow text for parsed trace comparisons (what the REST backend sends)."""
    parts = []
    for c in comparisons:
        prefix = {"attribute": "trace", "tag": "tags", "metadata": "metadata", "span": "span",
                  "feedback": "feedback", "expectation": "expectation"}[c.kind]
        if c.kind == "span" and c.key.startswith(SPAN_ATTRIBUTE_PREFIX):
            ident = f"span.attributes.`{c.key[len(SPAN_ATTRIBUTE_PREFIX):]}`"
        elif c.kind in ("attribute", "span"):
            ident = f"{prefix}.{c.key}"
        else:
            ident = f"{prefix}.`{c.key}`"
        if c.value is None:
            parts.append(f"{ident} {c.op}")
        elif isinstance(c.value, tuple):
            parts.append(f"{ident} {c.op} (" + ", ".join(quote_value(v) for v in c.value) + ")")
        elif isinstance(c.value, str):
            parts.append(f"{ident} {c.op} {quote_value(c.value)}")
        else:
            parts.append(f"{ident} {c.op} {c.value}")
    return " AND ".join(parts)


def format_trace_order_by(keys: Sequence[OrderKey]) -> list[str]:
    out = []
    for k in keys:
        ident = k.key if k.kind == "attribute" else f"{'tags' if k.kind == 'tag' else 'metadata'}.`{k.key}`"
        out.append(f"{ident} {'ASC' if k.ascending else 'DESC'}")
    return out


def _canonical(c: Comparison) -> Comparison:
    if c.kind == "attribute" and c.key == "name":
        return Comparison("tag", TRACE_NAME_TAG, c.op, c.value)
    if c.kind == "attribute" and c.key == "prompt":
        return Comparison("tag", LINKED_PROMPTS_TAG, c.op, c.value)
    if c.kind == "attribute" and c.key == "run_id":
        return Comparison("metadata", SOURCE_RUN_METADATA, c.op, c.value)
    if c.kind == "attribute" and c.key == "text":
        return Comparison("span", "content", c.op, c.value)
    return c


class _TraceParser(Parser):
    def __init__(self, text: str):
        super().__init__(text, "trace")  # type: ignore[arg-type]
        self._last_op = ""

    def _operator(self, ident):
        op, start = super()._operator(ident)
        self._last_op = op  # an assessment compares with a number only under <, <=, >, >=
        return op, start

    def _prefixes(self):
        return _PREFIXES

    def _identifier(self, *, order: bool):
        word = self._peek_word()
        if word in _SERVER_ONLY_PREFIXES and self.text.startswith(".", self.pos + len(word)):
            self._fail(
                f"'{word}.' (assessment) filters are not supported by tracktui",
                "trace., tags., metadata. or span.",
            )
        ident = super()._identifier(order=order)
        if ident.kind in ASSESSMENT_KINDS and order:
            self._fail("Traces cannot be ordered by assessments", "an attribute, tags. or metadata.", ident.start)
        if ident.kind == "span":
            if order:
                self._fail("Traces cannot be ordered by span fields", "an attribute, tags. or metadata.",
                           ident.start)
            if ident.key == "attributes" and self._peek() == ".":  # span.attributes.`a.b`
                self.pos += 1
                ident = type(ident)("span", SPAN_ATTRIBUTE_PREFIX + self._key(), ident.start, ident.key_start)
            if ident.key.startswith(SPAN_ATTRIBUTE_PREFIX):
                if ident.key == SPAN_ATTRIBUTE_PREFIX:
                    self._fail("A span attribute needs a name", "span.attributes.<name>", ident.key_start)
            elif ident.key not in SPAN_KEYS:
                self._fail(f"Unknown or unsupported span field '{ident.key}'",
                           "one of " + ", ".join(SPAN_KEYS) + " or attributes.<name>", ident.key_start)
        if order and ident.kind == "attribute" and ident.key in ("prompt", "text"):
            self._fail(f"Traces cannot be ordered by '{ident.key}'", "an attribute, tags. or metadata.",
                       ident.key_start)
        if ident.kind == "attribute" and ident.key in ORDER_ONLY_ATTRIBUTES and not order:
            self._fail(f"Traces cannot be filtered by '{ident.key}'",
                       "one of " + ", ".join(STRING_ATTRIBUTES + NUMERIC_ATTRIBUTES), ident.key_start)
        return ident

    def _clause(self):
        """A clause; an RLIKE pattern must compile (every backend then agrees: SQLite's REGEXP
        would match nothing, PostgreSQL and MySQL would fail mid-query)."""
        start = self.pos
        clause = super()._clause()
        if clause.op == "RLIKE":
            try:
                re.compile(str(clause.value))
            except re.error as exc:
                at = self.text.find(str(clause.value), start)
                self._fail(f"Invalid regular expression {clause.value!r} ({exc})",
                           "a regular expression such as '^chat'", max(at - 1, start))
        return clause

    def _attribute_key(self, key: str, key_start: int, order: bool) -> str:
        key = _ALIASES.get(key, key)
        valid = self._attribute_keys()
        if key not in valid:
            self._fail(f"Unknown trace attribute '{key}'", "one of " + ", ".join(valid), key_start)
        return key

    def _attribute_keys(self):
        return STRING_ATTRIBUTES + NUMERIC_ATTRIBUTES + ORDER_ONLY_ATTRIBUTES

    def _allowed_ops(self, ident):
        if ident.kind in ASSESSMENT_KINDS:
            return _ASSESSMENT_OPS
        if ident.kind == "span":
            return _CONTENT_OPS if ident.key == "content" else _STRING_OPS
        if ident.kind == "attribute" and ident.key == "text":
            return _CONTENT_OPS
        if ident.kind == "attribute" and ident.key == "prompt":
            return ("=",)  # MLflow: only `prompt = "name/version"`
        if self._is_numeric(ident):
            return NUMERIC_OPS
        if ident.kind == "attribute":
            return _STRING_OPS
        if ident.kind == "metadata" and ident.key in _RESERVED_METADATA:
            return ("=", "!=", "IS NULL", "IS NOT NULL")
        return _KV_OPS

    def _is_numeric(self, ident) -> bool:
        if ident.kind in ASSESSMENT_KINDS:
            return self._last_op in ("<", "<=", ">", ">=")
        return ident.kind == "attribute" and ident.key in NUMERIC_ATTRIBUTES

    def _number(self, ident):
        """A number, or a quoted one (`timestamp_ms > '1700000000000'`), which MLflow reads as
        the number it spells."""
        quote = self._peek()
        if quote not in ("'", '"') or ident.kind in ASSESSMENT_KINDS:  # MLflow: unquoted there
            return super()._number(ident)
        start = self.pos
        text = self._quoted(quote, what="value").strip()
        try:
            value = float(text)
        except ValueError:
            self._fail(f"{self._describe_ident(ident)} compares with a number, not {text!r}",
                       "a number such as 1700000000000", start)
        if value != value or value in (float("inf"), float("-inf")):
            self._fail(f"Number out of range for {self._describe_ident(ident)}", "a finite number", start)
        return int(value) if value.is_integer() else value


# -- Python evaluation (file store) -------------------------------------------------------------


def trace_matches(info: TraceInfo, comparisons: Iterable[Comparison], spans: Callable[[], Sequence[Span]] | None = None) -> bool:
    """True when the trace satisfies every comparison (MLflow semantics: a missing tag or
    metadata key matches only IS NULL; a missing number matches nothing). `spans` loads the
    trace's spans, called only when span clauses remain after the cheap ones passed."""
    span_clauses = []
    for c in comparisons:
        if c.kind == "span":
            span_clauses.append(c)
            continue
        if c.kind in ASSESSMENT_KINDS:
            if not assessments_match(info.assessments, c.kind, c.key, c.op, c.value):
                return False
            continue
        if c.kind == "tag" and c.key == LINKED_PROMPTS_TAG and c.op == "=":
            if not links_prompt(info, str(c.value)):
                return False
            continue
        value = trace_value(info, c.kind, c.key)
        if c.op == "IS NULL":
            ok = value is None
        elif c.op == "IS NOT NULL":
            ok = value is not None
        elif value is None:
            ok = False
        elif isinstance(value, str):
            ok = compare_string(value, c.op, c.value)
        else:
            ok = compare_number(value, c.op, c.value)
        if not ok:
            return False
    if not span_clauses:
        return True
    if spans is None:
        return False
    return any(all(_span_clause(s, c) for c in span_clauses) for s in spans())


def links_prompt(info: TraceInfo, name_version: str) -> bool:
    """Whether the trace's `mlflow.linkedPrompts` tag (a JSON list of {name, version}) names
    this `name/version` (the file store has no entity_associations table to ask)."""
    import json

    try:
        linked = json.loads(info.tags.get(LINKED_PROMPTS_TAG) or "[]")
    except ValueError:
        return False
    name, _, version = name_version.partition("/")
    return isinstance(linked, list) and any(
        isinstance(p, dict) and str(p.get("name")) == name and str(p.get("version")) == version for p in linked
    )


def _span_clause(span: Span, c: Comparison) -> bool:
    if c.key == "content" or c.key.startswith(SPAN_ATTRIBUTE_PREFIX):
        what = "trace.text and span.content" if c.key == "content" else "span.attributes"
        raise InvalidValue(f"{what} filters need a SQL store or a tracking server")
    value = {"name": span.name, "type": span.span_type, "status": span.status}[c.key]
    return compare_string(value, c.op, c.value)


def trace_value(info: TraceInfo, kind: str, key: str) -> Any:
    if kind == "tag":
        return info.tags.get(key)
    if kind == "metadata":
        return info.metadata.get(key)
    return {
        "request_id": info.trace_id,
        "client_request_id": info.client_request_id,
        "status": info.state,
        "timestamp_ms": info.request_time,
        "execution_time_ms": info.execution_duration,
        "end_time_ms": info.end_time,
        "experiment_id": info.experiment_id,
    }.get(key)


def sort_traces(infos: Iterable[TraceInfo], order_keys: Sequence[OrderKey] = ()) -> list[TraceInfo]:
    """Traces ordered by the keys, then newest first, then trace id; missing values last."""
    out = list(infos)
    for key in reversed((*order_keys, *DEFAULT_ORDER)):
        present = [i for i in out if trace_value(i, key.kind, key.key) is not None]
        missing = [i for i in out if trace_value(i, key.kind, key.key) is None]
        present.sort(key=lambda i: trace_value(i, key.kind, key.key), reverse=not key.ascending)
        out = present + missing
    return out
