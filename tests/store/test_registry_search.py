"""The registry grammar (store.search.registry) against MLflow's own parsers.

Each filter is accepted or refused as MLflow 3.17's SQL store does: its parser
(`SearchModelUtils` / `SearchModelVersionUtils`) plus the checks the SQL store adds (numeric
version numbers, IN only on name and run_id). DEVIATIONS are sqlparse accidents refused
here, as for runs (tests/store/test_search.py).
"""

from __future__ import annotations

import pytest

from tracktui.store.errors import FilterSyntaxError
from tracktui.store.registry import ModelVersion, RegisteredModel
from tracktui.store.search import Comparison
from tracktui.store.search.registry import (
    model_version_matches,
    parse_model_version_filter,
    parse_model_version_order_by,
    parse_registered_model_filter,
    parse_registered_model_order_by,
    registered_model_matches,
    split_prompt_clauses,
)

BOTH_ACCEPT = [
    "name = 'a'", "name LIKE 'a%'", "name ILIKE 'A%'", "name IN ('a','b')", "name NOT IN ('a')",
    "tags.x = 'y'", "tag.`a b` != 'y'", "attribute.name = 'x'", 'name = "dq"',
    "name = 'a' AND tags.t ILIKE '%x%'", "tags.`mlflow.prompt.is_prompt` = 'true'", "",
]
BOTH_REFUSE = [
    "tags.x IN ('a')", "name = 3", "metrics.a > 1", "name = 'a' OR name = 'b'",
    "creation_timestamp > 1", "tags.x IS NULL", "foo = 'x'", "version_number LIKE '1'", "name",
]
MODEL_ONLY_REFUSE = ["version_number = 3", "run_id IN ('a')", "source_path LIKE 's3%'"]
VERSION_ACCEPT = [
    "version_number = 3", "version_number > '2'", "version_number != -1", "run_id IN ('a')",
    "source_path LIKE 's3%'", "run_id = 'x' and name = 'y'",
]
VERSION_REFUSE = ["version_number = 1.5", "source_path IN ('a')", "version_number = 'x'"]
DEVIATIONS = ["tags.x = 'y' AND"]  # MLflow ignores the dangling AND


def _mlflow_accepts(util, text: str) -> bool:
    from mlflow.exceptions import MlflowException

    try:
        parsed = util.parse_search_filter(text)
    except (MlflowException, ValueError):
        return False
    for f in parsed:  # what the SQL store refuses after parsing
        if f["key"] == "version_number" and (isinstance(f["value"], float) or f["comparator"] in ("LIKE", "ILIKE")):
            return False
        if f["key"] == "version_number" and not str(f["value"]).lstrip("-").isdigit():
            return False
        if f["comparator"] in ("IN", "NOT IN") and f["key"] not in ("name", "run_id"):
            return False
        if f["type"] == "attribute" and util.__name__ == "SearchModelUtils" and f["key"] != "name":
            return False
    return True


def _accepts(parse, text: str) -> bool:
    try:
        parse(text)
    except FilterSyntaxError:
        return False
    return True


@pytest.mark.parametrize("text", BOTH_ACCEPT + BOTH_REFUSE + MODEL_ONLY_REFUSE)
def test_model_filters_as_mlflow(text):
    from mlflow.utils.search_utils import SearchModelUtils

    assert _accepts(parse_registered_model_filter, text) == _mlflow_accepts(SearchModelUtils, text)
    assert _accepts(parse_registered_model_filter, text) == (text in BOTH_ACCEPT)


@pytest.mark.parametrize("text", BOTH_ACCEPT + BOTH_REFUSE + VERSION_ACCEPT + VERSION_REFUSE)
def test_version_filters_as_mlflow(text):
    from mlflow.utils.search_utils import SearchModelVersionUtils

    ours = _accepts(parse_model_version_filter, text)
    assert ours == _mlflow_accepts(SearchModelVersionUtils, text)
    assert ours == (text in BOTH_ACCEPT + VERSION_ACCEPT)


@pytest.mark.parametrize("text", DEVIATIONS)
def test_deviations_refused_here(text):
    assert not _accepts(parse_registered_model_filter, text)
    assert not _accepts(parse_model_version_filter, text)


def test_values_parsed():
    assert parse_model_version_filter("version_number >= '2' AND run_id IN ('a', 'b')") == (
        Comparison("attribute", "version_number", ">=", 2), Comparison("attribute", "run_id", "IN", ("a", "b")),
    )
    assert parse_registered_model_filter("tags.`a b` LIKE 'x%'") == (Comparison("tag", "a b", "LIKE", "x%"),)


def test_order_by():
    keys = parse_registered_model_order_by(["timestamp DESC"])
    assert [(k.key, k.ascending) for k in keys] == [("last_updated_timestamp", False), ("name", True)]
    keys = parse_model_version_order_by(None)
    assert [(k.key, k.ascending) for k in keys] == [
        ("last_updated_timestamp", False), ("name", True), ("version_number", False)]
    keys = parse_model_version_order_by(["version_number ASC"])
    assert [(k.key, k.ascending) for k in keys] == [("version_number", True), ("name", True)]
    for bad in (["name", "name DESC"], ["tags.x"], ["run_id"], ["name UP"]):
        with pytest.raises(FilterSyntaxError):
            parse_model_version_order_by(bad)
    with pytest.raises(FilterSyntaxError):
        parse_registered_model_order_by(["version_number"])


def test_prompt_clauses_decide_what_is_searched():
    wants, rest = split_prompt_clauses(parse_registered_model_filter("tags.`mlflow.prompt.is_prompt` = 'true'"))
    assert wants and rest == ()
    wants, rest = split_prompt_clauses(parse_registered_model_filter("tags.`mlflow.prompt.is_prompt` = 'false' AND name = 'a'"))
    assert not wants and rest == (Comparison("attribute", "name", "=", "a"),)


def test_python_evaluation():
    model = RegisteredModel("Fraud", 1, 2, tags={"team": "risk"})
    assert registered_model_matches(model, parse_registered_model_filter("name LIKE 'F%' AND tags.team = 'risk'"))
    assert not registered_model_matches(model, parse_registered_model_filter("name LIKE 'f%'"))
    assert registered_model_matches(model, parse_registered_model_filter("name ILIKE 'f%'"))
    assert not registered_model_matches(model, parse_registered_model_filter("tags.other != 'x'"))
    version = ModelVersion("Fraud", "3", 1, 2, run_id="r1", source="s3://b/m", tags={"k": "v"})
    assert model_version_matches(version, parse_model_version_filter("version_number > 2 AND source_path LIKE 's3:%'"))
    assert not model_version_matches(version, parse_model_version_filter("run_id NOT IN ('r1')"))
