"""MLflow's search grammar in store/search.py: parser, order_by, Python evaluator, paging.

The differential tests hold tracktui against the installed mlflow (a test dependency): the
same strings must be accepted or refused, parse to the same clauses, and runs must be
filtered and ordered the same way as `SearchUtils.filter` / `SearchUtils.sort`.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tracktui.store.errors import FilterSyntaxError, InvalidValue
from tracktui.store.model import Experiment, MetricPoint, Run
from tracktui.store.paging import check_max_results, decode_page_token, encode_page_token
from tracktui.store.search import (
    Comparison,
    OrderKey,
    experiment_matches,
    parse_experiment_filter,
    parse_experiment_order_by,
    parse_run_filter,
    parse_run_order_by,
    quote_value,
    run_matches,
    sort_experiments,
    sort_runs,
)

NAN = float("nan")

# -- parser: accepted ---------------------------------------------------------------------------

ACCEPT = [
    ("", ()),
    ("metrics.acc > 0.5", (Comparison("metric", "acc", ">", 0.5),)),
    ("metric.acc>=-1", (Comparison("metric", "acc", ">=", -1.0),)),
    ("metrics.acc < 1e5", (Comparison("metric", "acc", "<", 100000.0),)),
    ("metrics.acc <= -2E-3", (Comparison("metric", "acc", "<=", -0.002),)),
    ("metrics.acc != .5", (Comparison("metric", "acc", "!=", 0.5),)),
    ("metrics.acc = 1.", (Comparison("metric", "acc", "=", 1.0),)),
    ("metrics.`a b` = 1", (Comparison("metric", "a b", "=", 1.0),)),
    ('metrics."a/b" = 1', (Comparison("metric", "a/b", "=", 1.0),)),
    ("params.lr = '0.1'", (Comparison("param", "lr", "=", "0.1"),)),
    ('param.lr = "0.1"', (Comparison("param", "lr", "=", "0.1"),)),
    ("parameter.lr like '0.%'", (Comparison("param", "lr", "LIKE", "0.%"),)),
    ("parameters.lr ILIKE '0.%'", (Comparison("param", "lr", "ILIKE", "0.%"),)),
    ("params.lr IS NULL", (Comparison("param", "lr", "IS NULL", None),)),
    ("tags.x is not null", (Comparison("tag", "x", "IS NOT NULL", None),)),
    ("tag.x != ''", (Comparison("tag", "x", "!=", ""),)),
    ("tags.mlflow.runName = 'r'", (Comparison("tag", "mlflow.runName", "=", "r"),)),
    ("tags.`mlflow.runName` = 'r'", (Comparison("tag", "mlflow.runName", "=", "r"),)),
    ("tags.'mlflow.runName' = 'r'", (Comparison("tag", "mlflow.runName", "=", "r"),)),
    ("params.a = 'it''s'", (Comparison("param", "a", "=", "it''s"),)),
    ("params.a = 'a\\'b'", (Comparison("param", "a", "=", "a\\'b"),)),
    ("params.`a``b` = 'x'", (Comparison("param", "a``b", "=", "x"),)),
    ("status = 'FINISHED'", (Comparison("attribute", "status", "=", "FINISHED"),)),
    ("attributes.status != 'FAILED'", (Comparison("attribute", "status", "!=", "FAILED"),)),
    ("attribute.user_id LIKE 'a%'", (Comparison("attribute", "user_id", "LIKE", "a%"),)),
    ("attr.artifact_uri ILIKE '%s3%'", (Comparison("attribute", "artifact_uri", "ILIKE", "%s3%"),)),
    ("run.run_name = 'x'", (Comparison("attribute", "run_name", "=", "x"),)),
    ("`Run name` = 'x'", (Comparison("attribute", "run_name", "=", "x"),)),
    ('"run name" = \'x\'', (Comparison("attribute", "run_name", "=", "x"),)),
    ("attributes.`Run Name` = 'x'", (Comparison("attribute", "run_name", "=", "x"),)),
    ("created > 5", (Comparison("attribute", "start_time", ">", 5),)),
    ("Created > 5", (Comparison("attribute", "start_time", ">", 5),)),
    ("start_time >= 1700000000000", (Comparison("attribute", "start_time", ">=", 1700000000000),)),
    ("end_time < 1.5", (Comparison("attribute", "end_time", "<", 1.5),)),
    ("end_time < 1e3", (Comparison("attribute", "end_time", "<", 1000),)),
    ("run_id IN ('a', \"b\")", (Comparison("attribute", "run_id", "IN", ("a", "b")),)),
    ("run_id not in ('a',)", (Comparison("attribute", "run_id", "NOT IN", ("a",)),)),
    ("dataset.name = 'd'", (Comparison("dataset", "name", "=", "d"),)),
    ("datasets.digest IN ('x','y')", (Comparison("dataset", "digest", "IN", ("x", "y")),)),
    ("dataset.context NOT IN ('train')", (Comparison("dataset", "context", "NOT IN", ("train",)),)),
    (
        "metrics.a = 1 AND params.b = 'x' and tags.c LIKE '%y'",
        (
            Comparison("metric", "a", "=", 1.0),
            Comparison("param", "b", "=", "x"),
            Comparison("tag", "c", "LIKE", "%y"),
        ),
    ),
    ("params.a='x'AND params.b='y'",
     (Comparison("param", "a", "=", "x"), Comparison("param", "b", "=", "y"))),
    ("  metrics.a\t=\n1  ", (Comparison("metric", "a", "=", 1.0),)),
    ("metrics.α = 1", (Comparison("metric", "α", "=", 1.0),)),
]


@pytest.mark.parametrize(("text", "expected"), ACCEPT)
def test_run_filter_accepts(text, expected):
    result = parse_run_filter(text)
    assert result == expected
    for got, want in zip(result, expected):
        assert type(got.value) is type(want.value)  # int stays int, float stays float


def test_none_and_blank_filters_are_empty():
    assert parse_run_filter(None) == ()
    assert parse_run_filter("   ") == ()
    assert parse_experiment_filter(None) == ()


# -- parser: refused, with the position of the problem -----------------------------------------

REJECT = [
    # (text, position, words expected in the `expected` text)
    ("metrics.a = 1 OR metrics.b = 2", 14, "AND"),
    ("(metrics.a = 1)", 0, "field"),
    ("NOT metrics.a = 1", 0, "field"),
    ("metrics.a <> 1", 10, "!="),
    ("metrics.a == 1", 10, "="),
    ("metrics.a = '1'", 12, "number"),
    ("metrics.a = 1e+5", 12, "number"),
    ("metrics.a = 1abc", 12, "number"),
    ("metrics.a = nan", 12, "number"),
    ("metrics.a = - 1", 12, "number"),
    ("metrics.a LIKE 1", 10, "="),
    ("metrics.a IS NULL", 10, "<="),
    ("metrics.a", 9, ">="),
    ("metrics.a =", 11, "number"),
    ("metrics.", 8, "key"),
    ("metrics.a-b = 1", 9, "<="),
    ("METRICS.a = 1", 0, "metrics"),
    ("foo.a = 1", 0, "metrics"),
    ("params.a = 1", 11, "quoted"),
    ("params.a = abc", 11, "quoted"),
    ("params.a = `x`", 11, "quoted"),
    ("params.a > 'x'", 9, "LIKE"),
    ("params.a IN ('x')", 9, "IS NULL"),
    ("params.a = 'x", 11, "closing '"),
    ('params.a = "x', 11, 'closing "'),
    ("params.`a = 'x'", 7, "closing `"),
    ("params.a IS", 11, "NULL"),
    ("params.a IS NOT", 15, "NULL"),
    ("params.a ISNULL", 9, "IS NULL"),
    ("lifecycle_stage = 'active'", 0, "run_id"),
    ("attributes.name = 'x'", 11, "run_name"),
    ("status IS NULL", 7, "LIKE"),
    ("status IN ('a')", 7, "LIKE"),
    ("status > 'a'", 7, "LIKE"),
    ("start_time = '1'", 13, "milliseconds"),
    ("start_time LIKE 1", 11, "<="),
    ("run_id IN ()", 11, "quoted"),
    ("run_id IN (1, 2)", 11, "quoted"),
    ("run_id IN 'a'", 10, "list"),
    ("run_id IN ('a' 'b')", 15, ")"),
    ("run_id IN ('a', 'b'", 19, ")"),
    ("run_id NOT ('a')", 11, "IN"),
    ("dataset.foo = 'x'", 8, "digest"),
    ("dataset.name > 'x'", 13, "IN"),
    ("metrics.a = 1 AND", 17, "condition"),
    ("metrics.a = 1 AND AND metrics.b = 1", 18, "AND"),
    ("metrics.a = 1 metrics.b = 2", 14, "AND"),
    ("metrics.a = 1;", 13, "AND"),
    ("metrics.a = 1 ANDmetrics.b = 2", 14, "AND"),
    ("= 1", 0, "field"),
    ("start_time > " + "9" * 5000, 13, "milliseconds"),
    ("start_time > 1e999", 13, "milliseconds"),
]


def test_unquoted_key_with_space_gets_a_hint():
    with pytest.raises(FilterSyntaxError) as info:
        parse_run_filter("metrics.val loss > 1")
    assert info.value.position == 12
    assert "metrics.`val loss`" in info.value.reason
    with pytest.raises(FilterSyntaxError) as info:
        parse_run_filter("metrics.acc BETWEEN 1 AND 2")
    assert "quote" not in info.value.reason


@pytest.mark.parametrize(("text", "position", "expected"), REJECT)
def test_run_filter_rejects_with_position(text, position, expected):
    with pytest.raises(FilterSyntaxError) as info:
        parse_run_filter(text)
    err = info.value
    assert err.text == text
    assert err.position == position, err
    assert expected in err.expected, err
    assert f"position {position}" in str(err)


# -- differential: accepted exactly when mlflow accepts --------------------------------------

DIFFERENTIAL = [text for text, _ in ACCEPT if text.strip()] + [
    text for text, _, _ in REJECT if len(text) < 100
] + [
    "metrics.a.b = 1",
    "metrics.1a = 1",
    "metrics.a = 01",
    "metrics.and = 1",
    "params.select = 'x'",
    "`tags`.x = 'a'",
    "Attributes.status = 'x'",
    "metrics = 1",
    "metrics.a = 1.5.3",
    "metrics.a = +1",
    "metrics.a = 1.e5",
    "metrics.a = .5e3",
    "metrics.a = -.5e-3",
    "metrics.a = 1.5e3",
    "metrics.a = 0x10",
    "metrics.a = 1_000",
    "status='x''",
    "params.a = 'x\\'",
    "run_id IN ('a', 'b') AND metrics.x > 0",
    "params.a = \"x\"\"y\"",
]

# Where tracktui deliberately differs from mlflow 3.17's sqlparse-based parser (tracktui's
# answer first). Each entry is checked, so a change on mlflow's side shows up here.
DEVIATIONS = {
    # mlflow silently drops a dangling/doubled AND or a missing one; we point at it instead.
    "metrics.a = 1 AND": False,
    "metrics.a = 1 AND AND metrics.b = 1": False,
    "metrics.a = 1 metrics.b = 2": False,
    "AND metrics.a = 1": False,
    # mlflow feeds IN lists to Python's literal_eval, which glues adjacent strings.
    "run_id IN ('a' 'b')": False,
    # sqlparse ends an exponent number right before a letter; we want a space there.
    "start_time >= 1e3AND created < 5": False,
    # mlflow parses a list after = / != / LIKE, then compares a string with a tuple.
    "run_id = ('a')": False,
    "dataset.name LIKE ('a', 'b')": False,
    # An infinite time compares with nothing; PostgreSQL refuses it for a BIGINT column.
    "start_time > 1e999": False,
    # sqlparse reads SQL keywords as keywords even after `tags.`; they are ordinary keys here.
    "tags.from = 'x'": True,
    # sqlparse only knows `IS NOT NULL` with single spaces.
    "params.a IS  NOT  NULL": True,
}


def _mlflow_run_filter(text: str):
    """mlflow's verdict: the parsed clauses, or None if it refuses the filter.

    Parsing alone does not check comparators against the key type; mlflow does that when it
    evaluates a clause, so each clause is also evaluated against an empty run."""
    from mlflow.entities import Run as MlflowRun
    from mlflow.entities import RunData, RunInfo, RunInputs
    from mlflow.exceptions import MlflowException
    from mlflow.utils.search_utils import SearchUtils

    info = RunInfo(run_id="r", experiment_id="0", user_id="u", status="FINISHED", start_time=1,
                   end_time=2, lifecycle_stage="active", run_name="n", artifact_uri="a")
    run = MlflowRun(info, RunData(), RunInputs([]))
    try:
        parsed = SearchUtils.parse_search_filter(text)
        for clause in parsed:
            SearchUtils._does_run_match_clause(run, clause)
    except MlflowException:
        return None
    except TypeError:  # e.g. `run_id LIKE ('a')`: parsed, then a tuple reaches a regex
        return None
    return parsed


_MLFLOW_KIND = {"metric": "metric", "parameter": "param", "tag": "tag", "attribute": "attribute",
                "dataset": "dataset"}


def _from_mlflow(clause) -> Comparison:
    from mlflow.utils.search_utils import SearchUtils

    kind = _MLFLOW_KIND[clause["type"]]
    key = SearchUtils.translate_key_alias(clause["key"]) if kind == "attribute" else clause["key"]
    value = clause["value"]
    if kind == "metric":
        value = float(value)
    return Comparison(kind, key, clause["comparator"].upper(), value)


@pytest.mark.parametrize("text", sorted(set(DIFFERENTIAL) | set(DEVIATIONS)))
def test_run_filter_matches_mlflow(text):
    theirs = _mlflow_run_filter(text)
    try:
        ours = parse_run_filter(text)
    except FilterSyntaxError:
        ours = None
    if text in DEVIATIONS:
        assert (ours is not None) is DEVIATIONS[text]
        assert (theirs is not None) is not DEVIATIONS[text], "mlflow changed: drop the deviation"
        return
    assert (ours is not None) == (theirs is not None), (ours, theirs)
    if ours is not None:
        assert ours == tuple(_from_mlflow(c) for c in theirs)


_IDENTS = ["metrics.acc", "metric.`a b`", "params.lr", 'param."x y"', "tags.t",
           "tags.mlflow.runName", "attributes.status", "status", "run_id", "run_name",
           "`Run name`", "start_time", "created", "end_time", "dataset.name", "datasets.context",
           "user_id", "attr.artifact_uri", "tags.'q'", "lifecycle_stage", "dataset.bogus"]
_OPS = ["=", "!=", "<", "<=", ">", ">=", "LIKE", "ilike", "IN", "NOT IN", "IS NULL",
        "is not null", "<>"]
_VALUES = ["1", "-1.5", "1e3", ".5", "'x'", '"y"', "'a%'", "0", "'it''s'", "5e-2", "('a', 'b')",
           "('a',)", "abc", "'1'"]


@st.composite
def grammar_filters(draw):
    """Clause-shaped filters: any identifier, operator and value, joined by AND."""
    clauses = []
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(_OPS))
        value = "" if "NULL" in op.upper() else draw(st.sampled_from(_VALUES))
        if value.startswith("(") and op.upper() not in ("IN", "NOT IN"):
            value = "'v'"  # mlflow parses `= ('a')`, then compares a string with a tuple
        clauses.append(f"{draw(st.sampled_from(_IDENTS))} {op} {value}".rstrip())
    return draw(st.sampled_from([" AND ", " and "])).join(clauses)


@settings(max_examples=400, deadline=None)
@given(grammar_filters())
def test_fuzz_grammar_shaped_filters_match_mlflow(text):
    theirs = _mlflow_run_filter(text)
    try:
        ours = parse_run_filter(text)
    except FilterSyntaxError:
        ours = None
    assert (ours is None) == (theirs is None)
    if ours is not None:
        assert ours == tuple(_from_mlflow(c) for c in theirs)


def test_differential_table_is_substantial():
    assert len(set(DIFFERENTIAL)) >= 60


# -- experiments ------------------------------------------------------------------------------

EXPERIMENT_ACCEPT = [
    ("name = 'Default'", (Comparison("attribute", "name", "=", "Default"),)),
    ("attribute.name LIKE 'exp%'", (Comparison("attribute", "name", "LIKE", "exp%"),)),
    ("name ILIKE '%EXP%'", (Comparison("attribute", "name", "ILIKE", "%EXP%"),)),
    ("experiment_id = '1'", (Comparison("attribute", "experiment_id", "=", "1"),)),
    ("experiment_id IN ('1', '2')", (Comparison("attribute", "experiment_id", "IN", ("1", "2")),)),
    ("experiment_id NOT IN ('1')", (Comparison("attribute", "experiment_id", "NOT IN", ("1",)),)),
    ("creation_time > 100", (Comparison("attribute", "creation_time", ">", 100),)),
    ("last_update_time <= 100", (Comparison("attribute", "last_update_time", "<=", 100),)),
    ("tags.team = 'a'", (Comparison("tag", "team", "=", "a"),)),
    ("tag.`a b` IS NULL", (Comparison("tag", "a b", "IS NULL", None),)),
    ("tags.x IS NOT NULL AND name != 'y'",
     (Comparison("tag", "x", "IS NOT NULL", None), Comparison("attribute", "name", "!=", "y"))),
]

EXPERIMENT_REJECT = [
    ("attributes.name = 'x'", 0),  # mlflow's experiment search knows attribute/tag/tags only
    ("metrics.a = 1", 0),
    ("params.a = 'x'", 0),
    ("run_name = 'x'", 0),
    ("name IN ('a')", 5),
    ("name IS NULL", 5),
    ("experiment_id LIKE '1%'", 14),  # refused by mlflow's SQL store: an integer column
    ("creation_time > 1.5", 16),  # ditto: integer milliseconds only
    ("creation_time > '1'", 16),
    ("name = 1", 7),
    ("experiment_id = 'abc'", 16),  # the SQL store refuses ids that are not integers
    ("experiment_id IN ('1', '1.0')", 23),
    ("experiment_id = ''", 16),
]


@pytest.mark.parametrize(("text", "expected"), EXPERIMENT_ACCEPT)
def test_experiment_filter_accepts(text, expected):
    assert parse_experiment_filter(text) == expected


@pytest.mark.parametrize(("text", "position"), EXPERIMENT_REJECT)
def test_experiment_filter_rejects(text, position):
    with pytest.raises(FilterSyntaxError) as info:
        parse_experiment_filter(text)
    assert info.value.position == position, info.value


@pytest.mark.parametrize("text", [t for t, _ in EXPERIMENT_ACCEPT] + [t for t, _ in EXPERIMENT_REJECT])
def test_experiment_filter_matches_mlflow_sql_store(text, tmp_path):
    """Same verdict as a real mlflow SQLite store's search_experiments."""
    from mlflow.exceptions import MlflowException
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    store = _mlflow_sql_store(tmp_path)
    try:
        store.search_experiments(filter_string=text)
        theirs = True
    except MlflowException:
        theirs = False
    try:
        parse_experiment_filter(text)
        ours = True
    except FilterSyntaxError:
        ours = False
    assert ours == theirs
    del SqlAlchemyStore


_SQL_STORES: dict = {}


def _mlflow_sql_store(tmp_path):
    """One real mlflow SQLite store per test session (creating one runs all migrations)."""
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    if "store" not in _SQL_STORES:
        _SQL_STORES["store"] = SqlAlchemyStore(f"sqlite:///{tmp_path / 'mlflow.db'}",
                                               str(tmp_path / "artifacts"))
    return _SQL_STORES["store"]


# -- order_by ---------------------------------------------------------------------------------

ORDER_ACCEPT = [
    (["metrics.acc DESC"], (OrderKey("metric", "acc", False),)),
    (["metrics.`a b` desc"], (OrderKey("metric", "a b", False),)),
    (['params."x y" asc'], (OrderKey("param", "x y", True),)),
    (["tags.t"], (OrderKey("tag", "t", True),)),
    (["attributes.start_time"], (OrderKey("attribute", "start_time", True),)),
    (["created DESC"], (OrderKey("attribute", "start_time", False),)),
    (["run_name", "status DESC"],
     (OrderKey("attribute", "run_name", True), OrderKey("attribute", "status", False))),
    (["  end_time   ASC  "], (OrderKey("attribute", "end_time", True),)),
    ([], ()),
]

ORDER_REJECT = [
    (["metrics.acc DESCENDING"], 12),
    (["metrics.acc DESC x"], 17),
    (["foo"], 0),
    (["lifecycle_stage"], 0),
    (["`Run name`"], 0),  # mlflow's order_by knows no `run name` alias
    (["dataset.name"], 0),
    (["metrics."], 8),
    ([""], 0),
    (["metrics.a", "metrics.a DESC"], 0),  # duplicate field
    (["created", "start_time"], 0),
]


@pytest.mark.parametrize(("items", "expected"), ORDER_ACCEPT)
def test_run_order_by_accepts(items, expected):
    assert parse_run_order_by(items) == expected


@pytest.mark.parametrize(("items", "position"), ORDER_REJECT)
def test_run_order_by_rejects(items, position):
    with pytest.raises(FilterSyntaxError) as info:
        parse_run_order_by(items)
    assert info.value.position == position, info.value


# order_by entries where tracktui differs from mlflow on purpose (tracktui's verdict).
ORDER_DEVIATIONS = {
    ("  end_time   ASC  ",): True,  # mlflow refuses surrounding whitespace
    ("metrics.",): False,  # mlflow accepts an empty metric key
}


@pytest.mark.parametrize("items", [i for i, _ in ORDER_ACCEPT] + [i for i, _ in ORDER_REJECT])
def test_run_order_by_matches_mlflow(items):
    from mlflow.exceptions import MlflowException
    from mlflow.utils.search_utils import SearchUtils

    try:
        parsed = [SearchUtils.parse_order_by_for_search_runs(i) for i in items]
        keys = [(t, SearchUtils.translate_key_alias(k)) for t, k, _ in parsed]
        # mlflow's stores refuse dataset ordering and duplicates after parsing.
        theirs = len(set(keys)) == len(keys) and all(t != "dataset" for t, _ in keys)
    except MlflowException:
        theirs = False
    try:
        parse_run_order_by(items)
        ours = True
    except FilterSyntaxError:
        ours = False
    if tuple(items) in ORDER_DEVIATIONS:
        assert ours is ORDER_DEVIATIONS[tuple(items)]
        assert theirs is not ours, "mlflow changed: drop the deviation"
        return
    assert ours == theirs


_ORDER_IDENTS = ["metrics.acc", "metric.`a b`", "params.lr", 'param."x y"', "tags.t",
                 "tags.mlflow.runName", "attributes.status", "status", "run_id", "run_name",
                 "`Run name`", "start_time", "created", "Created", "end_time", "dataset.name",
                 "attr.artifact_uri", "tags.'q'", "lifecycle_stage", "experiment_id",
                 "metrics.`a.b`", "timestamp", "attributes.created"]
_ORDER_DIRS = ["", " ASC", " DESC", " asc", " desc", "  DESC", " Desc", " up"]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_ORDER_IDENTS), st.sampled_from(_ORDER_DIRS))
def test_fuzz_order_by_entries_match_mlflow(ident, direction):
    from mlflow.exceptions import MlflowException
    from mlflow.utils.search_utils import SearchUtils

    entry = ident + direction
    try:
        kind, key, ascending = SearchUtils.parse_order_by_for_search_runs(entry)
        theirs = None if kind == "dataset" else OrderKey(
            _MLFLOW_KIND[kind], SearchUtils.translate_key_alias(key), ascending)
    except MlflowException:
        theirs = None
    try:
        (ours,) = parse_run_order_by([entry])
    except FilterSyntaxError:
        ours = None
    assert ours == theirs


def test_experiment_order_by():
    assert parse_experiment_order_by(["name", "creation_time DESC"]) == (
        OrderKey("attribute", "name", True), OrderKey("attribute", "creation_time", False))
    for bad in (["tags.x"], ["start_time"], ["attributes.name"]):
        with pytest.raises(FilterSyntaxError):
            parse_experiment_order_by(bad)
    # MLflow accepts a repeated experiment key; a repeat cannot reorder, so it is dropped.
    assert parse_experiment_order_by(["name", "name DESC"]) == (OrderKey("attribute", "name", True),)


# -- fuzz: nothing but FilterSyntaxError ever escapes -----------------------------------------

_FRAGMENTS = [
    "metrics", "metric", "params", "tags", "attributes", "attr", "run", "dataset", ".", "`", '"',
    "'", "acc", "a b", "run_id", "run_name", "status", "start_time", "created", "Run name",
    "name", "experiment_id", "creation_time", "tags.", " ", "  ", "=", "!=", "<", "<=", ">", ">=",
    "<>", "==", "LIKE", "ilike", "IN", "NOT", "IS", "NULL", "AND", "and", "OR", "(", ")", ",",
    "1", "-1", "1.5", ".5", "1e5", "1e+5", "-", "'x'", '"y"', "%", "_", "\\", ";", "\n", "ASC",
    "DESC", "é", "\x00",
]
grammar_text = st.lists(st.sampled_from(_FRAGMENTS), max_size=14).map("".join)
any_text = st.one_of(st.text(max_size=60), grammar_text)


def _only_filter_errors(fn, arg, text):
    try:
        fn(arg)
    except FilterSyntaxError as e:
        assert 0 <= e.position <= len(e.text)
        assert e.text == text or text is None
        assert str(e)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(any_text)
@example("metrics.`")
@example("run_id IN ('")
@example("params.a IS NOT")
def test_fuzz_filters_raise_only_filter_syntax_error(text):
    _only_filter_errors(parse_run_filter, text, text)
    _only_filter_errors(parse_experiment_filter, text, text)


@settings(max_examples=800, deadline=None)
@given(st.lists(any_text, max_size=3))
def test_fuzz_order_by_raises_only_filter_syntax_error(items):
    _only_filter_errors(parse_run_order_by, items, None)
    _only_filter_errors(parse_experiment_order_by, items, None)


@pytest.mark.parametrize("bad", [123, b"metrics.a = 1", ["metrics.a = 1"]])
def test_non_string_filter_is_a_filter_syntax_error(bad):
    with pytest.raises(FilterSyntaxError):
        parse_run_filter(bad)


@pytest.mark.parametrize("bad", [123, [None], [b"metrics.a"]])
def test_non_string_order_by_is_a_filter_syntax_error(bad):
    with pytest.raises(FilterSyntaxError):
        parse_run_order_by(bad)


def test_order_by_none_or_a_lone_string():
    assert parse_run_order_by(None) == ()
    assert parse_run_order_by("metrics.a DESC") == (OrderKey("metric", "a", False),)


# -- evaluator --------------------------------------------------------------------------------


def make_run(run_id, *, start=0, name="", status="FINISHED", user="u", metrics=None,
             params=None, tags=None, end=None) -> Run:
    return Run(
        id=run_id, name=name, experiment_id="0", status=status, user_id=user, start_time=start,
        end_time=end, lifecycle_stage="active", artifact_uri=f"file:///a/{run_id}",
        params=params or {}, tags=tags or {},
        metrics={k: MetricPoint(v, 0, 0) for k, v in (metrics or {}).items()},
    )


RUNS = [
    make_run("r1", start=10, name="alpha", metrics={"m": 1.0}, params={"p": "a%b"},
             tags={"t": "Hello"}),
    make_run("r2", start=20, name="beta", metrics={"m": NAN}, params={"p": "axb"},
             tags={"t": "hello"}, status="FAILED"),
    make_run("r3", start=30, name="Alpha.1", metrics={"m": 5.0, "n": -math.inf},
             params={"p": "a.b"}),
    make_run("r4", start=None, name="gamma", params={"p": "a\nb"}, end=40),
]

MATCHES = [
    ("", ["r1", "r2", "r3", "r4"]),
    ("metrics.m > 0", ["r1", "r3"]),
    ("metrics.m = 1", ["r1"]),
    ("metrics.m != 1", ["r2", "r3"]),  # NaN always matches !=, a missing key never
    ("metrics.m <= 5", ["r1", "r3"]),
    ("metrics.n < -1e308", ["r3"]),
    ("params.p LIKE 'a_b'", ["r1", "r2", "r3", "r4"]),  # _ matches any one char, even \n
    ("params.p LIKE 'a.b'", ["r3"]),  # . is not a wildcard
    ("params.p LIKE 'a%%b'", ["r1", "r2", "r3", "r4"]),
    ("params.p = 'a%b'", ["r1"]),
    ("params.p LIKE '%\\%'", []),  # no escape character: backslash is literal
    ("tags.t = 'hello'", ["r2"]),
    ("tags.t LIKE 'h%'", ["r2"]),
    ("tags.t ILIKE 'h%'", ["r1", "r2"]),
    ("tags.t IS NULL", ["r3", "r4"]),
    ("tags.t IS NOT NULL", ["r1", "r2"]),
    ("tags.t != 'Hello'", ["r2"]),
    ("run_name ILIKE 'alpha%'", ["r1", "r3"]),
    ("`Run name` = 'alpha'", ["r1"]),
    ("status = 'FAILED'", ["r2"]),
    ("run_id IN ('r1', 'r4')", ["r1", "r4"]),
    ("run_id NOT IN ('r1', 'r4')", ["r2", "r3"]),
    ("start_time >= 20", ["r2", "r3"]),
    ("created < 20", ["r1"]),
    ("end_time = 40", ["r4"]),
    ("metrics.m > 0 AND params.p LIKE 'a%'", ["r1", "r3"]),
    ("dataset.name = 'd'", []),  # no dataset information: matches nothing
]


@pytest.mark.parametrize(("text", "expected"), MATCHES)
def test_run_matches(text, expected):
    comparisons = parse_run_filter(text)
    assert [r.id for r in RUNS if run_matches(r, comparisons)] == expected


def test_run_matches_datasets():
    comparisons = parse_run_filter("dataset.name = 'd' AND dataset.context IN ('train')")
    run = RUNS[0]
    assert run_matches(run, comparisons, datasets=[("d", "x", "train")])
    assert not run_matches(run, comparisons, datasets=[("d", "x", "eval")])
    assert not run_matches(run, comparisons, datasets=[("d", "x", None)])
    # Each clause may be satisfied by a different dataset, as in mlflow.
    assert run_matches(run, comparisons, datasets=[("d", "x", None), ("e", "y", "train")])


ORDERS = [
    ([], ["r3", "r2", "r1", "r4"]),  # start_time DESC, missing last
    (["metrics.m"], ["r1", "r3", "r2", "r4"]),  # NaN after numbers, missing after NaN
    (["metrics.m DESC"], ["r3", "r1", "r2", "r4"]),
    (["tags.t"], ["r1", "r2", "r3", "r4"]),
    (["tags.t DESC"], ["r2", "r1", "r3", "r4"]),
    (["start_time"], ["r1", "r2", "r3", "r4"]),
    (["end_time"], ["r4", "r3", "r2", "r1"]),  # ties broken by start_time DESC
    (["run_name"], ["r3", "r1", "r2", "r4"]),
    (["params.p DESC", "run_id"], ["r2", "r3", "r1", "r4"]),
]


@pytest.mark.parametrize(("order_by", "expected"), ORDERS)
def test_sort_runs(order_by, expected):
    assert [r.id for r in sort_runs(RUNS, parse_run_order_by(order_by))] == expected


def test_sort_runs_ties_fall_back_to_run_id():
    runs = [make_run(i, start=5) for i in ("c", "a", "b")]
    assert [r.id for r in sort_runs(runs)] == ["a", "b", "c"]
    assert [r.id for r in sort_runs(runs, parse_run_order_by(["status DESC"]))] == ["a", "b", "c"]


# Differential against mlflow's own in-memory filter and sort (the file store's semantics).
_KEYS = ["m", "n"]
_STRINGS = ["a", "ab", "A", "b_c", "a%", ""]
run_strategy = st.builds(
    lambda i, start, m, p, t: (f"r{i:02d}", start, m, p, t),
    st.integers(0, 99),
    st.one_of(st.none(), st.integers(0, 5)),
    st.dictionaries(st.sampled_from(_KEYS),
                    st.one_of(st.sampled_from([0.0, 1.0, -1.0, NAN, math.inf]), st.floats())),
    st.dictionaries(st.sampled_from(_KEYS), st.sampled_from(_STRINGS)),
    st.dictionaries(st.sampled_from(_KEYS), st.sampled_from(_STRINGS)),
)
filter_strategy = st.sampled_from([
    "metrics.m > 0", "metrics.m != 1", "metrics.m = 0", "metrics.n <= -1", "params.m = 'a'",
    "params.m LIKE 'a%'", "params.m ILIKE 'a%'", "params.n LIKE 'b_c'", "tags.m IS NULL",
    "tags.n IS NOT NULL", "tags.m != 'A'", "start_time >= 3", "run_id IN ('r01', 'r02')",
    "metrics.m >= 0 AND params.n != 'a'", "params.m LIKE '%'",
])
order_strategy = st.lists(st.sampled_from([
    "metrics.m", "metrics.m DESC", "metrics.n", "params.m DESC", "params.n", "tags.m",
    "tags.n DESC", "start_time", "run_id DESC",
]), max_size=3, unique_by=lambda item: item.split()[0])


def _mlflow_run(run_id, start, metrics, params, tags):
    from mlflow.entities import Metric, Param, RunData, RunInfo, RunTag
    from mlflow.entities import Run as MlflowRun

    info = RunInfo(run_id=run_id, experiment_id="0", user_id="u", status="FINISHED",
                   start_time=start, end_time=None, lifecycle_stage="active", run_name=run_id,
                   artifact_uri="a")
    data = RunData(metrics=[Metric(k, v, 0, 0) for k, v in metrics.items()],
                   params=[Param(k, v) for k, v in params.items()],
                   tags=[RunTag(k, v) for k, v in tags.items()])
    return MlflowRun(info, data)


@settings(max_examples=300, deadline=None)
@given(st.lists(run_strategy, max_size=8, unique_by=lambda r: r[0]), filter_strategy,
       order_strategy)
def test_filter_and_sort_agree_with_mlflow(specs, text, order_by):
    from mlflow.utils.search_utils import SearchUtils

    # mlflow's in-memory sort negates start_time, so it cannot handle None there.
    specs = [(i, 0 if s is None else s, m, p, t) for i, s, m, p, t in specs]
    ours = [make_run(i, start=s, name=i, metrics=m, params=p, tags=t) for i, s, m, p, t in specs]
    theirs = [_mlflow_run(*spec) for spec in specs]

    comparisons = parse_run_filter(text)
    ours_f = [r.id for r in ours if run_matches(r, comparisons)]
    theirs_f = [r.info.run_id for r in SearchUtils.filter(theirs, text)]
    assert ours_f == theirs_f

    ours_s = [r.id for r in sort_runs(ours, parse_run_order_by(order_by))]
    theirs_s = [r.info.run_id for r in SearchUtils.sort(theirs, order_by)]
    assert ours_s == theirs_s


# -- experiments: evaluator and order -------------------------------------------------------


def make_exp(exp_id, name, created, tags=None) -> Experiment:
    return Experiment(id=exp_id, name=name, artifact_location=None, lifecycle_stage="active",
                      creation_time=created, last_update_time=created, tags=tags or {})


EXPS = [
    make_exp("0", "Default", 100),
    make_exp("2", "exp-b", 300, {"team": "x"}),
    make_exp("10", "exp-a", 300),
    make_exp("7", "Exp-c", None, {"team": "y"}),
]


@pytest.mark.parametrize(("text", "expected"), [
    ("name LIKE 'exp%'", ["2", "10"]),
    ("name ILIKE 'exp%'", ["2", "10", "7"]),
    ("experiment_id = '007'", ["7"]),
    ("experiment_id = ' 2'", ["2"]),  # int() semantics, as the SQL store binds the value
    ("experiment_id IN ('0', '10')", ["0", "10"]),
    ("experiment_id NOT IN ('0', '10')", ["2", "7"]),
    ("experiment_id != '2'", ["0", "10", "7"]),
    ("creation_time >= 300", ["2", "10"]),
    ("tags.team IS NULL", ["0", "10"]),
    ("tags.team = 'y' AND name != 'x'", ["7"]),
])
def test_experiment_matches(text, expected):
    comparisons = parse_experiment_filter(text)
    assert [e.id for e in EXPS if experiment_matches(e, comparisons)] == expected


def test_sort_experiments():
    # Default: creation_time DESC (missing last), then experiment_id ASC numerically.
    assert [e.id for e in sort_experiments(EXPS)] == ["2", "10", "0", "7"]
    assert [e.id for e in sort_experiments(EXPS, parse_experiment_order_by(["name"]))] == [
        "0", "7", "10", "2"]
    # mlflow's SQL store appends experiment_id DESC when the keys do not name it.
    by_time = parse_experiment_order_by(["creation_time"])
    assert [e.id for e in sort_experiments(EXPS, by_time)] == ["0", "10", "2", "7"]


def test_sort_experiments_matches_mlflow_sql_store(tmp_path):
    """Ordering of real experiments in a real mlflow SQLite store."""
    from mlflow.entities import ViewType

    store = _mlflow_sql_store(tmp_path)
    for name in ("sx-b", "sx-a", "sx-c", "sx-d"):
        store.create_experiment(name)
    for order_by in ([], ["name DESC"], ["creation_time"], ["last_update_time DESC", "name"],
                     ["experiment_id DESC"]):
        theirs = store.search_experiments(ViewType.ALL, max_results=1000, order_by=order_by)
        exps = [make_exp(e.experiment_id, e.name, e.creation_time) for e in theirs]
        exps = [Experiment(**{**{f: getattr(e, f) for f in e.__slots__},
                              "last_update_time": t.last_update_time}) for e, t in zip(exps, theirs)]
        ours = sort_experiments(list(reversed(exps)), parse_experiment_order_by(order_by))
        assert [e.id for e in ours] == [e.experiment_id for e in theirs], order_by


# -- paging -----------------------------------------------------------------------------------


def test_page_token_is_mlflows_format():
    assert encode_page_token(1) == "eyJvZmZzZXQiOiAxfQ=="
    assert decode_page_token("eyJvZmZzZXQiOiAxfQ==") == 1
    from mlflow.utils.search_utils import SearchUtils

    assert SearchUtils.create_page_token(250).decode() == encode_page_token(250)
    assert SearchUtils.parse_start_offset_from_page_token(encode_page_token(250)) == 250


@given(st.integers(0, 10**12))
def test_page_token_round_trip(offset):
    assert decode_page_token(encode_page_token(offset)) == offset


def test_empty_page_token_is_first_page():
    assert decode_page_token(None) == 0
    assert decode_page_token("") == 0


@pytest.mark.parametrize("token", [
    "not base64!", "bm90IGpzb24=", "WzFd", "eyJvZmZzZXQiOiAtMX0=", "eyJvZmZzZXQiOiAiYSJ9",
    "e30=", 12,
])
def test_bad_page_token_is_invalid_value(token):
    with pytest.raises(InvalidValue, match="page token"):
        decode_page_token(token)


@pytest.mark.parametrize("token", [b"not base64!" * 10, "not base64!" * 10])
def test_long_bad_page_token_is_invalid_value(token):
    """A long token is shortened for the message, bytes as well as text (not a TypeError)."""
    with pytest.raises(InvalidValue, match=r"page token .*[.]{3}['\"]: not base64"):
        decode_page_token(token)


@given(st.one_of(st.text(max_size=40), st.binary(max_size=40)))
def test_fuzz_page_token_raises_only_invalid_value(token):
    try:
        offset = decode_page_token(token)
    except InvalidValue:
        return
    assert isinstance(offset, int) and offset >= 0


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True])
def test_encode_refuses_bad_offsets(bad):
    with pytest.raises(InvalidValue):
        encode_page_token(bad)


# -- canonical formatting (what the REST backend sends to a server) ---------------------------

from tracktui.store.search import format_filter, format_order_by  # noqa: E402


@pytest.mark.parametrize("text", sorted({t for t, _ in ACCEPT} | {t for t in DEVIATIONS
                                                                   if DEVIATIONS[t]}))
def test_format_filter_round_trips_and_mlflow_agrees(text):
    parsed = parse_run_filter(text)
    canonical = format_filter(parsed)
    assert parse_run_filter(canonical) == parsed
    if canonical:
        theirs = _mlflow_run_filter(canonical)
        assert theirs is not None, canonical
        assert tuple(_from_mlflow(c) for c in theirs) == parsed


@settings(max_examples=500, deadline=None)
@given(grammar_text)
def test_fuzz_format_filter_round_trips(text):
    try:
        parsed = parse_run_filter(text)
    except FilterSyntaxError:
        return
    assert parse_run_filter(format_filter(parsed)) == parsed


@pytest.mark.parametrize("text", [t for t, _ in EXPERIMENT_ACCEPT])
def test_format_experiment_filter_is_accepted_by_mlflow(text, tmp_path):
    parsed = parse_experiment_filter(text)
    canonical = format_filter(parsed, target="experiment")
    assert parse_experiment_filter(canonical) == parsed
    _mlflow_sql_store(tmp_path).search_experiments(filter_string=canonical)  # raises if refused


@pytest.mark.parametrize("items", [i for i, _ in ORDER_ACCEPT])
def test_format_order_by_is_accepted_by_mlflow(items):
    from mlflow.utils.search_utils import SearchUtils

    keys = parse_run_order_by(items)
    canonical = format_order_by(keys)
    assert parse_run_order_by(canonical) == keys
    for entry, key in zip(canonical, keys):
        kind, name, ascending = SearchUtils.parse_order_by_for_search_runs(entry)
        assert (_MLFLOW_KIND[kind], name, ascending) == (key.kind, key.key, key.ascending)


def test_format_refuses_values_no_literal_can_hold():
    with pytest.raises(InvalidValue):
        format_filter([Comparison("param", "p", "=", "'\"")])


# -- quote_value: the one way code builds a filter around a value ------------------------------


@pytest.mark.parametrize("value", [
    "plain", "it's", 'say "hi"', "O\\'Brien says \"hi\"", "both ''quoted'' and \"double\"", "", "a`b",
])
def test_quote_value_round_trips_through_the_parser(value):
    """Values with ' and " come back exactly, also when another quoted clause follows."""
    alone = parse_run_filter(f"tags.`t` = {quote_value(value)}")
    assert alone == (Comparison("tag", "t", "=", value),)
    followed = parse_run_filter(f"tags.`t` = {quote_value(value)} AND params.p = 'x'")
    assert followed == (Comparison("tag", "t", "=", value), Comparison("param", "p", "=", "x"))
    listed = parse_run_filter(f"attributes.run_id IN ({quote_value(value)}, 'other')")
    assert listed == (Comparison("attribute", "run_id", "IN", (value, "other")),)


@pytest.mark.parametrize("value", ["it's \"x\"", "ends in a backslash\\"])
def test_quote_value_refuses_what_no_mlflow_literal_can_hold(value):
    with pytest.raises(InvalidValue, match="cannot be written as one MLflow string literal"):
        quote_value(value)


def test_max_results_is_checked_alike_by_every_backend():
    assert check_max_results(5) == 5
    for bad in (0, -1, True, 2.0, "5"):
        with pytest.raises(InvalidValue, match="max_results must be a positive integer"):
            check_max_results(bad)
