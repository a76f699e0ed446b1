"""Hand-written scanner + recursive-descent parser for MLflow's filter and order_by strings.

Why not sqlparse (what MLflow uses): we need the exact character position of every problem
so the TUI can put a caret under it, and a guarantee that nothing but FilterSyntaxError
escapes. The accepted language follows docs/formats.md §4.1/§4.2 and MLflow 3.17's
`SearchUtils` / `SearchExperimentsUtils` (checked by tests/store/test_search.py).

Scanning is driven by the parser (scannerless), so what a character means depends on where
it appears: `.5` is a number in value position, `.` separates prefix and key in an
identifier.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, NoReturn

from ..errors import FilterSyntaxError
from . import (
    EXPERIMENT_NUMERIC_ATTRIBUTES,
    EXPERIMENT_STRING_ATTRIBUTES,
    RUN_NUMERIC_ATTRIBUTES,
    RUN_STRING_ATTRIBUTES,
    Comparison,
    Kind,
    OrderKey,
)

log = logging.getLogger(__name__)

Target = Literal["run", "experiment"]

# Prefix spellings (case-sensitive, as in MLflow) → kind.
_RUN_PREFIXES: dict[str, Kind] = {
    "metric": "metric", "metrics": "metric",
    "param": "param", "params": "param", "parameter": "param", "parameters": "param",
    "tag": "tag", "tags": "tag",
    "attribute": "attribute", "attributes": "attribute", "attr": "attribute", "run": "attribute",
    "dataset": "dataset", "datasets": "dataset",
}
# MLflow's experiment search knows exactly these three prefixes.
_EXPERIMENT_PREFIXES: dict[str, Kind] = {"attribute": "attribute", "tag": "tag", "tags": "tag"}

_RUN_ATTRIBUTE_ALIASES = {
    "created": "start_time", "Created": "start_time",
    "run name": "run_name", "Run name": "run_name", "Run Name": "run_name",
}
# MLflow accepts `run name` aliases in filters but not in order_by.
_RUN_ORDER_ALIASES = {"created": "start_time", "Created": "start_time"}
DATASET_KEYS = ("name", "digest", "context")

NUMERIC_OPS = ("=", "!=", "<", "<=", ">", ">=")
_STRING_OPS = ("=", "!=", "LIKE", "ILIKE")
_NULL_OPS = ("IS NULL", "IS NOT NULL")
_LIST_OPS = ("IN", "NOT IN")

_WS = " \t\n\r\f\v"
_WORD = re.compile(r"\w+")
# A number literal as sqlparse reads one: an exponent only after digits with an optional
# complete fraction (1e5, 1.5E-3; not 1.e5, .5e3, 1e+5); else 1, 1., 1.5 or .5. It must not
# run into a word character or another dot.
_NUMBER = re.compile(r"-?(?:\d+(?:\.\d+)?[eE]-?\d+|\d+\.\d*|\.\d+|\d+)(?![\w.])")
#: A quoted literal per quote character, ending where sqlparse ends it (search.format checks with it too).
QUOTED = {
    "'": re.compile(r"'(?:''|\\'|[^'])*'"),
    '"': re.compile(r'"(?:""|\\"|[^"])*"'),
    "`": re.compile(r"`(?:``|[^`])*`"),
}
# Further dotted parts of a bare key must start like a name (`tags.mlflow.runName`).
_KEY_PART = re.compile(r"[^\W\d]\w*")
_SYMBOL_OPS = ("!=", "<=", ">=", "<>", "==", "=", "<", ">")


@dataclass(frozen=True, slots=True)
class _Ident:
    kind: Kind
    key: str  # canonical
    start: int  # where the identifier starts
    key_start: int  # where the key starts


def parse_filter(text: str, *, target: Target) -> tuple[Comparison, ...]:
    """Parse `clause [AND clause]...`; whitespace-only → (). Raises FilterSyntaxError only."""
    try:
        return Parser(text, target).filter()
    except FilterSyntaxError:
        raise
    except Exception as exc:  # a parser bug must still surface as the one promised error
        log.exception("Parser bug on filter %r", text)
        raise FilterSyntaxError(f"Could not parse filter ({exc!r})", text=text, position=0) from exc


def parse_order_by(items: Sequence[str], *, target: Target) -> tuple[OrderKey, ...]:
    """Parse order_by entries `<identifier> [ASC|DESC]`.

    A field named twice is an error for runs (as MLflow refuses it); for experiments MLflow
    accepts it, and since a later key can never reorder what an earlier one on the same field
    decided, the repeat is dropped. Errors carry the offending entry as `text`."""
    if items is None:
        return ()
    if isinstance(items, str):  # a lone string is a common slip; treat it as one entry
        items = (items,)
    try:
        items = tuple(items)
    except TypeError:
        raise FilterSyntaxError(
            f"order_by must be a list of strings, got {type(items).__name__}", text="", position=0
        ) from None
    keys: list[OrderKey] = []
    seen: set[tuple[str, str]] = set()
    for item in items:
        if not isinstance(item, str):
            raise FilterSyntaxError(
                f"order_by entries must be strings, got {type(item).__name__}", text="", position=0
            )
        try:
            key = Parser(item, target).order_key()
        except FilterSyntaxError:
            raise
        except Exception as exc:
            log.exception("Parser bug on order_by %r", item)
            raise FilterSyntaxError(
                f"Could not parse order_by ({exc!r})", text=item, position=0
            ) from exc
        if (key.kind, key.key) in seen and target == "experiment":
            continue
        if (key.kind, key.key) in seen:
            raise FilterSyntaxError(
                f"order_by names {key.kind} '{key.key}' twice",
                text=item,
                position=len(item) - len(item.lstrip()),
                expected="each field at most once",
            )
        seen.add((key.kind, key.key))
        keys.append(key)
    return tuple(keys)


class Parser:
    """A recursive-descent parser over one filter or order_by text (trace filters extend it)."""

    def __init__(self, text: str, target: Target):
        if not isinstance(text, str):
            raise FilterSyntaxError(
                f"A filter must be a string, got {type(text).__name__}", text="", position=0
            )
        self.text = text
        self.pos = 0
        self.target = target
        self._ident_start = 0

    # -- entry points ------------------------------------------------------------------------

    def filter(self) -> tuple[Comparison, ...]:
        self._skip_ws()
        if self._at_end():
            return ()
        clauses = [self._clause()]
        while True:
            self._skip_ws()
            if self._at_end():
                return tuple(clauses)
            start = self.pos
            word = self._peek_word()
            if word is not None and word.upper() == "AND":
                self.pos += len(word)
                self._skip_ws()
                if self._at_end():
                    self._fail("Filter ends after AND", "another condition")
                clauses.append(self._clause())
                continue
            if word is not None and word.upper() == "OR":
                self._fail("OR is not supported; MLflow filters only combine conditions with AND",
                           "AND", start)
            self._fail(f"Unexpected {self._describe_here()} after a complete condition",
                       "AND or the end of the filter", start)

    def order_key(self) -> OrderKey:
        self._skip_ws()
        if self._at_end():
            self._fail("Empty order_by entry", "a field such as metrics.acc or start_time")
        ident = self._identifier(order=True)
        self._skip_ws()
        ascending = True
        if not self._at_end():
            start = self.pos
            word = self._peek_word()
            if word is None or word.upper() not in ("ASC", "DESC"):
                self._fail(f"Unexpected {self._describe_here()} in order_by",
                           "ASC, DESC or the end", start)
            ascending = word.upper() == "ASC"
            self.pos += len(word)
            self._skip_ws()
            if not self._at_end():
                self._fail(f"Unexpected {self._describe_here()} after the sort direction",
                           "the end of the order_by entry")
        return OrderKey(ident.kind, ident.key, ascending)

    # -- grammar -----------------------------------------------------------------------------

    def _clause(self) -> Comparison:
        self._skip_ws()
        ident = self._identifier(order=False)
        self._skip_ws()
        op, op_start = self._operator(ident)
        allowed = self._allowed_ops(ident)
        if op not in allowed:
            self._fail(
                f"{op} is not supported for {self._describe_ident(ident)}",
                "one of " + ", ".join(allowed),
                op_start,
            )
        if op in _NULL_OPS:
            return Comparison(ident.kind, ident.key, op, None)
        self._skip_ws()
        if op in _LIST_OPS:
            return Comparison(ident.kind, ident.key, op, self._string_list(ident))
        if self._is_numeric(ident):
            return Comparison(ident.kind, ident.key, op, self._number(ident))
        start = self.pos
        value = self._string(ident)
        self._check_experiment_id(ident, value, start)
        return Comparison(ident.kind, ident.key, op, value)

    def _identifier(self, *, order: bool) -> _Ident:
        start = self._ident_start = self.pos
        prefixes = self._prefixes()
        first, first_quoted = self._name_part(start)
        if self._peek() == ".":  # `prefix.key`
            if first not in prefixes:
                valid = sorted(set(prefixes))
                self._fail(f"Unknown prefix '{first}'", "one of " + ", ".join(valid), start)
            kind = prefixes[first]
            self.pos += 1
            key_start = self.pos
            key = self._key()
        else:
            if not first_quoted and first.upper() in ("NOT", "OR"):
                self._fail(f"{first.upper()} is not supported; combine conditions with AND",
                           "a field such as metrics.acc", start)
            if not first_quoted and first.upper() == "AND" and not order:
                self._fail("AND must stand between two conditions",
                           "a condition such as metrics.acc > 0, not another AND", start)
            kind, key, key_start = "attribute", first, start
        if kind == "attribute":
            key = self._attribute_key(key, key_start, order)
        elif kind == "dataset":
            if order:
                self._fail("Runs cannot be ordered by dataset fields",
                           "metrics., params., tags. or an attribute", start)
            if key not in DATASET_KEYS:
                self._fail(f"Unknown dataset field '{key}'", "one of " + ", ".join(DATASET_KEYS),
                           key_start)
        elif order and self.target == "experiment":
            self._fail("Experiments can only be ordered by attributes",
                       "one of " + ", ".join(self._attribute_keys()), start)
        return _Ident(kind, key, start, key_start)

    def _prefixes(self) -> dict[str, Kind]:
        """Prefix spellings of this target (a subclass for another target overrides it)."""
        return _RUN_PREFIXES if self.target == "run" else _EXPERIMENT_PREFIXES

    def _name_part(self, start: int) -> tuple[str, bool]:
        """A bare word or a `backticked`/"double-quoted" name. Returns (name, was_quoted)."""
        ch = self._peek()
        if ch in ("`", '"'):
            return self._quoted(ch, what="name"), True
        word = self._peek_word()
        if word is None:
            if ch == "(":
                self._fail("Parentheses are not supported; combine conditions with AND",
                           "a field such as metrics.acc", start)
            self._fail(f"Unexpected {self._describe_here()}",
                       "a field such as metrics.acc, params.lr or status", start)
        self.pos += len(word)
        return word, False

    def _key(self) -> str:
        """The key after `prefix.`: quoted, or bare words joined by dots (tags.mlflow.runName)."""
        ch = self._peek()
        if ch in ("`", '"', "'"):
            return self._quoted(ch, what="key")
        parts = []
        while True:
            word = self._peek_word()
            if word is None:
                self._fail(f"Expected a key name, found {self._describe_here()}",
                           "a key name (quote keys with special characters in `backticks`)")
            self.pos += len(word)
            parts.append(word)
            if self._peek() == "." and _KEY_PART.match(self.text, self.pos + 1):
                self.pos += 1
                continue
            return ".".join(parts)

    def _attribute_key(self, key: str, key_start: int, order: bool) -> str:
        if self.target == "run":
            aliases = _RUN_ORDER_ALIASES if order else _RUN_ATTRIBUTE_ALIASES
            key = aliases.get(key, key)
        valid = self._attribute_keys()
        if key not in valid:
            message = f"Unknown attribute '{key}'"
            if key_start == self._ident_start:  # bare: probably a logged key without prefix
                logged = ("metrics", "params", "tags") if self.target == "run" else ("tags",)
                message += " (logged keys need a prefix: " + ", ".join(
                    f"{p}.{key}" if _KEY_PART.fullmatch(key) else f"{p}.`{key}`"
                    for p in logged) + ")"
            self._fail(message, "one of " + ", ".join(valid), key_start)
        return key

    def _attribute_keys(self) -> tuple[str, ...]:
        if self.target == "run":
            return RUN_STRING_ATTRIBUTES + RUN_NUMERIC_ATTRIBUTES
        return EXPERIMENT_STRING_ATTRIBUTES + EXPERIMENT_NUMERIC_ATTRIBUTES

    def _allowed_ops(self, ident: _Ident) -> tuple[str, ...]:
        kind, key = ident.kind, ident.key
        if kind == "metric":
            return NUMERIC_OPS
        if kind in ("param", "tag"):
            return _STRING_OPS + _NULL_OPS
        if kind == "dataset":
            return _STRING_OPS + _LIST_OPS
        if self._is_numeric(ident):
            return NUMERIC_OPS
        if self.target == "run":
            return _STRING_OPS + _LIST_OPS if key == "run_id" else _STRING_OPS
        # Experiments: MLflow's SQL store allows only these on the integer id column.
        return ("=", "!=") + _LIST_OPS if key == "experiment_id" else _STRING_OPS

    def _is_numeric(self, ident: _Ident) -> bool:
        if ident.kind == "metric":
            return True
        if ident.kind != "attribute":
            return False
        numeric = RUN_NUMERIC_ATTRIBUTES if self.target == "run" else EXPERIMENT_NUMERIC_ATTRIBUTES
        return ident.key in numeric

    def _operator(self, ident: _Ident) -> tuple[str, int]:
        start = self.pos
        expected = "one of " + ", ".join(self._allowed_ops(ident))
        for sym in _SYMBOL_OPS:
            if self.text.startswith(sym, start):
                if sym in ("<>", "=="):
                    self._fail(f"Operator {sym} is not supported",
                               "= or !=" if sym == "==" else "!=", start)
                self.pos += len(sym)
                return sym, start
        word = self._peek_word()
        if word is None:
            if self._at_end():
                self._fail("Condition is missing its comparison", expected)
            self._fail(f"Expected an operator, found {self._describe_here()}", expected, start)
        upper = word.upper()
        if upper in ("LIKE", "ILIKE", "RLIKE", "IN"):
            self.pos += len(word)
            return upper, start
        if upper == "NOT":
            self.pos += len(word)
            self._skip_ws()
            nxt = self._peek_word()
            if nxt is None or nxt.upper() != "IN":
                self._fail("NOT is only supported as NOT IN", "IN")
            self.pos += len(nxt)
            return "NOT IN", start
        if upper == "IS":
            self.pos += len(word)
            self._skip_ws()
            nxt = self._peek_word()
            negate = nxt is not None and nxt.upper() == "NOT"
            if nxt is not None and negate:
                self.pos += len(nxt)
                self._skip_ws()
                nxt = self._peek_word()
            if nxt is None or nxt.upper() != "NULL":
                self._fail("IS must be followed by NULL or NOT NULL",
                           "NULL" if negate else "NULL or NOT NULL")
            self.pos += len(nxt)
            return ("IS NOT NULL" if negate else "IS NULL"), start
        message = f"Unknown operator '{word}'"
        if self._looks_like_unquoted_space(ident, word):
            prefix = self.text[ident.start:ident.key_start]
            message += f" (quote keys with spaces: {prefix}`{ident.key} {word}`)"
        self._fail(message, expected, start)

    def _looks_like_unquoted_space(self, ident: _Ident, word: str) -> bool:
        """`metrics.val loss > 1`: a bare key, a space, one word, then an operator."""
        if ident.kind == "attribute" or self.text[ident.key_start] in "`\"'":
            return False
        after = self.pos + len(word)
        while after < len(self.text) and self.text[after] in _WS:
            after += 1
        if self.text.startswith(_SYMBOL_OPS, after):
            return True
        nxt = _WORD.match(self.text, after)
        return nxt is not None and nxt.group().upper() in ("LIKE", "ILIKE", "IN", "NOT", "IS")

    def _number(self, ident: _Ident) -> float | int:
        start = self.pos
        m = _NUMBER.match(self.text, start)
        what = self._describe_ident(ident)
        if m is None:
            example = ("a number such as 0.5 or -1e3" if ident.kind == "metric"
                       else "epoch milliseconds such as 1700000000000")
            if self._peek() in ("'", '"'):
                self._fail(f"{what} compares with a number, not a quoted string",
                           f"unquoted {example}", start)
            self._fail(f"Expected a number for {what}, found {self._describe_here()}",
                       example, start)
        literal = m.group()
        self.pos = m.end()
        value = float(literal)
        if ident.kind == "metric":
            return value
        is_int_literal = re.fullmatch(r"-?\d+", literal) is not None
        if self.target == "experiment" and not is_int_literal:
            # MLflow's SQL store rejects non-integer times for experiments.
            self._fail(f"{what} takes an integer (epoch milliseconds)",
                       "an integer such as 1700000000000", start)
        if value != value or value in (float("inf"), float("-inf")):
            self._fail(f"Number out of range for {what}", "a time in epoch milliseconds", start)
        try:
            if is_int_literal:
                return int(literal)
            return int(value) if value.is_integer() else value
        except (ValueError, OverflowError):  # thousands of digits, or 1e999 as an integer
            self._fail(f"Number out of range for {what}", "a time in epoch milliseconds", start)

    def _string(self, ident: _Ident) -> str:
        ch = self._peek()
        if ch in ("'", '"'):
            return self._quoted(ch, what="value")
        what = self._describe_ident(ident)
        if self._at_end():
            self._fail(f"Missing value for {what}", "a quoted string such as 'value'")
        self._fail(f"{what} compares with a quoted string, found {self._describe_here()}",
                   "a quoted string such as 'value'")

    def _check_experiment_id(self, ident: _Ident, value: str, start: int) -> None:
        """Experiment ids are integers in MLflow's SQL store, which refuses anything else."""
        if self.target != "experiment" or ident.key != "experiment_id":
            return
        try:
            int(value)
        except ValueError:
            self._fail(f"Experiment id {value!r} is not an integer", "an id such as '1'", start)

    def _string_list(self, ident: _Ident) -> tuple[str, ...]:
        if self._peek() != "(":
            self._fail(f"Expected a list after IN, found {self._describe_here()}",
                       "a parenthesised list such as ('a', 'b')")
        self.pos += 1
        values: list[str] = []
        while True:
            self._skip_ws()
            ch = self._peek()
            if ch == ")" and values:  # a trailing comma is fine, as in Python
                self.pos += 1
                return tuple(values)
            if ch not in ("'", '"'):
                if ch == ")":
                    self._fail("Empty list", "at least one quoted string")
                self._fail(f"Expected a quoted string in the list, found {self._describe_here()}",
                           "a quoted string such as 'a'")
            start = self.pos
            values.append(self._quoted(ch, what="value"))
            self._check_experiment_id(ident, values[-1], start)
            self._skip_ws()
            ch = self._peek()
            if ch == ",":
                self.pos += 1
                continue
            if ch == ")":
                self.pos += 1
                return tuple(values)
            self._fail(f"Unexpected {self._describe_here()} in the list", ", or )")

    # -- scanning ----------------------------------------------------------------------------

    def _quoted(self, quote: str, *, what: str) -> str:
        """Text between quotes, verbatim (no escape processing, as MLflow).

        Quoted text ends where sqlparse's would: a doubled quote (and for ' and ", a
        backslash-quote, unless no later quote closes the text) does not end it."""
        m = QUOTED[quote].match(self.text, self.pos)
        if m is None:
            self._fail(f"Unterminated {quote}-quoted {what}", f"a closing {quote}")
        self.pos = m.end()
        return m.group()[1:-1]

    def _skip_ws(self) -> None:
        text, n, i = self.text, len(self.text), self.pos
        while i < n and text[i] in _WS:
            i += 1
        self.pos = i

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _peek_word(self, at: int | None = None) -> str | None:
        m = _WORD.match(self.text, self.pos if at is None else at)
        return m.group() if m else None

    def _at_end(self) -> bool:
        return self.pos >= len(self.text)

    def _describe_here(self) -> str:
        if self._at_end():
            return "the end of the text"
        word = self._peek_word()
        if word:
            return f"'{word}'"
        return f"'{self.text[self.pos]}'"

    @staticmethod
    def _describe_ident(ident: _Ident) -> str:
        return f"{ident.kind} '{ident.key}'"

    def _fail(self, message: str, expected: str = "", position: int | None = None) -> NoReturn:
        raise FilterSyntaxError(
            message, text=self.text, position=self.pos if position is None else position,
            expected=expected,
        )
