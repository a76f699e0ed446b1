"""store.validation mirrors mlflow.utils.validation (3.17): the same keys, names and values are
accepted and refused, checked against the installed mlflow itself. Where mlflow would silently
truncate a long param or tag value, we refuse instead (a TUI should not alter what was typed)."""

from __future__ import annotations

import math

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tracktui.store import validation as v
from tracktui.store.errors import InvalidValue

KEY_ALPHABET = st.sampled_from(list("ab/._- :") + ["..", "é", "名", "!", "\t", "\\", "*", "1"])
keys = st.lists(KEY_ALPHABET, min_size=0, max_size=8).map("".join)


def mlflow_accepts(check, *args) -> bool:
    from mlflow.exceptions import MlflowException

    try:
        check(*args)
    except MlflowException:
        return False
    return True


def ours_accepts(check, *args) -> bool:
    try:
        check(*args)
    except InvalidValue:
        return False
    return True


@settings(max_examples=400, deadline=None)
@given(key=keys)
@example(key="")
@example(key=".")
@example(key="a/../b")
@example(key="/abs")
@example(key="a/")
@example(key="a//b")
@example(key="./a")
@example(key="..a")
@example(key="a..b")
@example(key="eval/top 1:x")
def test_key_rules_match_mlflow(key):
    from mlflow.utils import validation as mv

    assert ours_accepts(v.validate_run_tag, key, "x") == mlflow_accepts(mv._validate_tag, key, "x")
    assert ours_accepts(v.validate_param, key, "x") == mlflow_accepts(mv._validate_param, key, "x")
    assert ours_accepts(v.validate_metric, key, 1.0, 0, 0) == mlflow_accepts(mv._validate_metric, key, 1.0, 0, 0)
    assert ours_accepts(v.validate_experiment_tag, key, "x") == mlflow_accepts(mv._validate_experiment_tag, key, "x")


@pytest.mark.parametrize("length", [249, 250, 251])
def test_key_length_limit_matches_mlflow(length):
    from mlflow.utils import validation as mv

    key = "k" * length
    assert ours_accepts(v.validate_run_tag, key, "x") == mlflow_accepts(mv._validate_tag, key, "x") == (length <= 250)
    assert ours_accepts(v.validate_metric, key, 1.0, 0, 0) == mlflow_accepts(mv._validate_metric, key, 1.0, 0, 0)


@pytest.mark.parametrize(
    "check, limit",
    [
        (v.validate_param, v.MAX_PARAM_VALUE_LENGTH),
        (v.validate_run_tag, v.MAX_TAG_VALUE_LENGTH),
        (v.validate_experiment_tag, v.MAX_EXPERIMENT_TAG_VALUE_LENGTH),
    ],
)
def test_value_limits_refuse_instead_of_truncating(check, limit):
    check("k", "v" * limit)
    with pytest.raises(InvalidValue, match=str(limit)):
        check("k", "v" * (limit + 1))


def test_value_limits_are_mlflows():
    from mlflow.utils import validation as mv

    assert v.MAX_PARAM_VALUE_LENGTH == mv.MAX_PARAM_VAL_LENGTH
    assert v.MAX_TAG_VALUE_LENGTH == mv.MAX_TAG_VAL_LENGTH
    assert v.MAX_EXPERIMENT_TAG_VALUE_LENGTH == mv.MAX_EXPERIMENT_TAG_VAL_LENGTH
    assert v.MAX_EXPERIMENT_NAME_LENGTH == mv.MAX_EXPERIMENT_NAME_LENGTH
    assert v.MAX_KEY_LENGTH == mv.MAX_ENTITY_KEY_LENGTH
    assert (v.MAX_METRICS_PER_BATCH, v.MAX_PARAMS_TAGS_PER_BATCH, v.MAX_ENTITIES_PER_BATCH) == (
        mv.MAX_METRICS_PER_BATCH, mv.MAX_PARAMS_TAGS_PER_BATCH, mv.MAX_ENTITIES_PER_BATCH,
    )


@pytest.mark.parametrize(
    "value, timestamp, step",
    [
        (1.0, 0, 0), (math.nan, 5, -3), (math.inf, 5, 2**62), (-math.inf, 1, 0), (3, 1, 1),
        (True, 1, 1), ("1.0", 1, 1), (None, 1, 1), (1.0, -1, 0), (1.0, 1.5, 0), (1.0, 1, "2"),
    ],
)
def test_metric_values_match_mlflow(value, timestamp, step):
    from mlflow.utils import validation as mv

    ours = ours_accepts(v.validate_metric, "m", value, timestamp, step)
    theirs = mlflow_accepts(mv._validate_metric, "m", value, timestamp, step)
    if isinstance(timestamp, float):  # mlflow takes any number; a timestamp is an int column
        assert theirs and not ours
    else:
        assert ours == theirs


@pytest.mark.parametrize("name", ["", "x", "x" * 500, "x" * 501, "  spaced  ", "名前"])
def test_experiment_names_match_mlflow(name):
    from mlflow.utils import validation as mv

    assert ours_accepts(v.validate_experiment_name, name) == mlflow_accepts(mv._validate_experiment_name, name)


@pytest.mark.parametrize("run_id", ["0123456789abcdef0123456789abcdef", "a", "-a", "a b", "", "a" * 257, "ab_c-d"])
def test_run_ids_match_mlflow(run_id):
    from mlflow.utils import validation as mv

    assert ours_accepts(v.validate_run_id, run_id) == mlflow_accepts(mv._validate_run_id, run_id)


@pytest.mark.parametrize("location", ["runs:/abc/model", "s3://b/p", "/abs/path", "x" * 2049])
def test_artifact_locations_match_mlflow(location):
    from mlflow.utils import validation as mv

    def theirs(loc):
        mv._validate_experiment_artifact_location(loc)
        mv._validate_experiment_artifact_location_length(loc)

    assert ours_accepts(v.validate_artifact_location, location) == mlflow_accepts(theirs, location)


def test_batch_limits():
    v.validate_batch_limits(1000, 0, 0)
    v.validate_batch_limits(800, 100, 100)
    for counts in ((1001, 0, 0), (0, 101, 0), (0, 0, 101), (900, 100, 1)):
        with pytest.raises(InvalidValue, match="at most"):
            v.validate_batch_limits(*counts)


def test_messages_say_what_is_wrong():
    with pytest.raises(InvalidValue, match=r"tag key 'a!b'.*letters, digits"):
        v.validate_run_tag("a!b", "x")
    with pytest.raises(InvalidValue, match=r"resolves to 'b'"):
        v.validate_param("a/../b", "x")
    with pytest.raises(InvalidValue, match=r"value of param 'p' is 6001 characters long; the limit is 6000"):
        v.validate_param("p", "x" * 6001)
    with pytest.raises(InvalidValue, match="must be a string"):
        v.validate_run_tag("k", 5)


def test_run_names_fit_the_column():
    v.validate_run_name("n" * 250)
    for bad in ("", "   ", "n" * 251, None):
        with pytest.raises(InvalidValue):
            v.validate_run_name(bad)


def test_reserved_tags_are_warned_about_not_refused():
    assert v.reserved_tag_warning("team") is None
    warning = v.reserved_tag_warning("mlflow.runName")
    assert "reserved" in warning and "name" in warning
    assert "reserved" in v.reserved_tag_warning("mlflow.something.new")
    v.validate_run_tag("mlflow.note.content", "allowed")
