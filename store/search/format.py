"""Parsed filters and order_by keys back to canonical MLflow strings.

Why: the REST backend sends filters to a tracking server, and MLflow's sqlparse-based parser
refuses a few spellings tracktui accepts (surrounding whitespace in order_by, SQL keywords
such as `from` as bare keys, `IS  NOT  NULL` with extra spaces, a blank filter). Sending the
canonical form of what we parsed makes the server see exactly what we checked.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Literal

from ..errors import FilterSyntaxError, InvalidValue
from . import Comparison, OrderKey

_PREFIX = {"metric": "metrics", "param": "params", "tag": "tags", "attribute": "attributes",
           "dataset": "dataset"}


def format_filter(
    comparisons: Iterable[Comparison], *, target: Literal["run", "experiment"] = "run"
) -> str:
    """`clause AND clause ...` in MLflow's syntax; () → "".

    The result is checked to parse back to the same comparisons; InvalidValue if it cannot
    (a hand-built value no MLflow string literal can hold), so callers may fall back to the
    text the user typed."""
    from .parser import parse_filter

    comparisons = tuple(comparisons)
    text = " AND ".join(_clause(c) for c in comparisons)
    try:
        same = parse_filter(text, target=target) == comparisons
    except FilterSyntaxError:
        same = False
    if not same:
        raise InvalidValue(f"These conditions cannot be written as one MLflow filter: {text!r}")
    return text


def format_order_by(keys: Iterable[OrderKey]) -> list[str]:
    """order_by strings MLflow's parser accepts, e.g. ["metrics.`a b` DESC"]."""
    return [f"{_identifier(k.kind, k.key)} {'ASC' if k.ascending else 'DESC'}" for k in keys]


def _clause(c: Comparison) -> str:
    ident = _identifier(c.kind, c.key)
    if c.value is None:
        return f"{ident} {c.op}"
    if isinstance(c.value, tuple):
        return f"{ident} {c.op} ({', '.join(quote_value(v) for v in c.value)})"
    if isinstance(c.value, str):
        return f"{ident} {c.op} {quote_value(c.value)}"
    return f"{ident} {c.op} {_number(c.value)}"


def _identifier(kind: str, key: str) -> str:
    if kind == "attribute":
        return key  # canonical attribute keys are plain identifiers, valid bare everywhere
    return f"{_PREFIX[kind]}.{_quote_key(key)}"


def _quote_key(key: str) -> str:
    # Always quoted: sqlparse reads SQL keywords (from, order, ...) as keywords even as keys.
    if "`" not in key:
        return f"`{key}`"
    if '"' not in key:
        return f'"{key}"'
    return quote_value(key)


def quote_value(value: str) -> str:
    """`value` as an MLflow string literal, for filters built in code: f"run_id = {quote_value(x)}".

    MLflow's grammar has no escapes: quoted text is taken verbatim, and a doubled quote or a
    backslash-quote does not end it. So the value is put in single quotes, else double quotes,
    whichever the parser's scanning reads back as exactly `value` — even when more quoted text
    follows in the filter. Raises InvalidValue when neither can (e.g. `it's "x"`)."""
    from .parser import QUOTED

    for quote in ("'", '"'):
        candidate = f"{quote}{value}{quote}"
        # A later quote in the filter must not extend the literal past its end.
        followed = QUOTED[quote].match(f"{candidate} {quote}{quote}")
        if followed is not None and followed.end() == len(candidate):
            return candidate
    raise InvalidValue(f"{value!r} cannot be written as one MLflow string literal")


def _number(value: float | int) -> str:
    if isinstance(value, int):
        return str(value)
    if math.isinf(value):
        return "1e999" if value > 0 else "-1e999"
    # MLflow's parser knows exponents without '+' only.
    return repr(value).replace("e+", "e")
