"""MLflow's input rules (mlflow.utils.validation, 3.17), checked before any backend writes.

Every backend calls these first, so a bad key or an over-long value is refused with the same
clear `InvalidValue` whatever the store, and nothing is half-written. Where mlflow would
silently truncate a long param or tag value we refuse instead: a TUI should never change what
the user typed without saying so.
"""

from __future__ import annotations

import numbers
import posixpath
import re
from collections.abc import Iterable, Mapping

from .errors import InvalidValue

MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_METRICS_PER_BATCH = 1000
MAX_ENTITIES_PER_BATCH = 1000
MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
MAX_EXPERIMENT_NAME_LENGTH = 500
MAX_EXPERIMENT_TAG_KEY_LENGTH = 250
MAX_EXPERIMENT_TAG_VALUE_LENGTH = 20000
MAX_ARTIFACT_LOCATION_LENGTH = 2048
#: The `runs.name` column is VARCHAR(250); mlflow lets PostgreSQL/MySQL fail on longer names.
MAX_RUN_NAME_LENGTH = 250

RESERVED_PREFIX = "mlflow."

_RUN_ID = re.compile(r"^[a-zA-Z0-9][\w\-]{0,255}$")
_EXPERIMENT_ID = re.compile(r"^[a-zA-Z0-9][\w\-]{0,63}$")
# Slashes, word characters (unicode letters/digits/_), periods, dashes, spaces and colons.
_KEY = re.compile(r"^[/\w.\- :]*$")
_KEY_CHARACTERS = (
    "names may only contain letters, digits, underscores (_), dashes (-), periods (.), "
    "spaces ( ), colons (:) and slashes (/)"
)


def validate_key(key: object, what: str) -> str:
    """A metric, param or tag key as mlflow accepts it: allowed characters, not a path that
    resolves to another name, at most 250 characters."""
    if not isinstance(key, str) or key == "":
        raise InvalidValue(f"{what} must be a non-empty string, got {key!r}")
    if not _KEY.match(key):
        raise InvalidValue(f"Invalid {what} {key!r}: {_KEY_CHARACTERS}")
    normalized = posixpath.normpath(key)
    if normalized != key or normalized == "." or normalized.startswith(("..", "/")):
        raise InvalidValue(
            f"Invalid {what} {key!r}: names are used as file paths and must not resolve to "
            f"another name (this one resolves to {normalized!r})"
        )
    _check_length(key, MAX_KEY_LENGTH, what)
    return key


def validate_param(key: str, value: object) -> None:
    validate_key(key, "param key")
    what = f"value of param {key!r}"
    _check_length(_checked_string(value, what), MAX_PARAM_VALUE_LENGTH, what)


def validate_run_tag(key: str, value: object) -> None:
    validate_key(key, "tag key")
    what = f"value of tag {key!r}"
    _check_length(_checked_string(value, what), MAX_TAG_VALUE_LENGTH, what)


def validate_run_tags(tags: Mapping[str, str]) -> None:
    for key, value in tags.items():
        validate_run_tag(key, value)


def validate_batch(metrics, params, tags) -> tuple[dict[str, str], dict[str, str]]:
    """Every metric point, param and tag of a `log_batch` call, checked before anything is
    written (a `mlflow.runName` tag must also be a valid run name); returns params and tags
    as plain dicts."""
    params = dict(params or {})
    tags = dict(tags or {})
    for key, point in metrics:
        validate_metric(key, point.value, point.timestamp, point.step)
    for key, value in params.items():
        validate_param(key, value)
    validate_run_tags(tags)
    if "mlflow.runName" in tags:
        validate_run_name(tags["mlflow.runName"])
    return params, tags


def validate_metric(key: str, value: object, timestamp: object, step: object) -> None:
    """A metric point: numeric value (NaN and ±inf allowed), non-negative int timestamp, int step."""
    validate_key(key, "metric key")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidValue(f"Value of metric {key!r} must be a number, got {value!r}")
    if isinstance(timestamp, bool) or not isinstance(timestamp, numbers.Integral) or timestamp < 0:
        raise InvalidValue(
            f"Timestamp of metric {key!r} must be a non-negative integer (epoch ms), got {timestamp!r}"
        )
    if isinstance(step, bool) or not isinstance(step, numbers.Integral):
        raise InvalidValue(f"Step of metric {key!r} must be an integer, got {step!r}")
    if not -(2**63) <= int(step) < 2**63 or int(timestamp) >= 2**63:
        raise InvalidValue(f"Step and timestamp of metric {key!r} must fit in 64 bits")


def validate_batch_limits(n_metrics: int, n_params: int, n_tags: int) -> None:
    """mlflow's per-request limits for log_batch."""
    for what, count, limit in (
        ("metrics", n_metrics, MAX_METRICS_PER_BATCH),
        ("params", n_params, MAX_PARAMS_TAGS_PER_BATCH),
        ("tags", n_tags, MAX_PARAMS_TAGS_PER_BATCH),
        ("metrics, params and tags", n_metrics + n_params + n_tags, MAX_ENTITIES_PER_BATCH),
    ):
        if count > limit:
            raise InvalidValue(
                f"A batch can hold at most {limit} {what}, got {count}: split it into smaller batches"
            )


def validate_experiment_name(name: object) -> str:
    if not isinstance(name, str) or name == "":
        raise InvalidValue(f"Experiment name must be a non-empty string, got {name!r}")
    _check_length(name, MAX_EXPERIMENT_NAME_LENGTH, "experiment name")
    return name


def validate_experiment_tag(key: str, value: object) -> None:
    validate_key(key, "experiment tag key")
    _check_length(key, MAX_EXPERIMENT_TAG_KEY_LENGTH, "experiment tag key")
    what = f"value of experiment tag {key!r}"
    _check_length(_checked_string(value, what), MAX_EXPERIMENT_TAG_VALUE_LENGTH, what)


def validate_artifact_location(location: object) -> None:
    if not isinstance(location, str) or location == "":
        raise InvalidValue(f"Artifact location must be a non-empty string, got {location!r}")
    if location.startswith("runs:"):
        raise InvalidValue(f"Artifact location cannot be a runs:/ URI, got {location!r}")
    _check_length(location, MAX_ARTIFACT_LOCATION_LENGTH, "artifact location")


def validate_run_name(name: object) -> str:
    if not isinstance(name, str) or name.strip() == "":
        raise InvalidValue(f"Run name must be a non-empty string, got {name!r}")
    _check_length(name, MAX_RUN_NAME_LENGTH, "run name")
    return name


def validate_run_id(run_id: object) -> str:
    if not isinstance(run_id, str) or not _RUN_ID.match(run_id):
        raise InvalidValue(f"Invalid run id {run_id!r}: expected letters, digits, '_' or '-'")
    return run_id


def validate_run_ids(run_ids: Iterable[str]) -> list[str]:
    return [validate_run_id(run_id) for run_id in run_ids]


def validate_experiment_id(experiment_id: object) -> str:
    if not isinstance(experiment_id, str) or not _EXPERIMENT_ID.match(experiment_id):
        raise InvalidValue(f"Invalid experiment id {experiment_id!r}")
    return experiment_id


def validate_older_than(older_than_ms: object) -> None:
    if older_than_ms is None:
        return
    if isinstance(older_than_ms, bool) or not isinstance(older_than_ms, numbers.Integral) or older_than_ms < 0:
        raise InvalidValue(f"older_than_ms must be a non-negative integer, got {older_than_ms!r}")


def reserved_tag_warning(key: str) -> str | None:
    """A warning to show before a user sets or deletes an `mlflow.*` tag, or None.

    These keys drive mlflow's own behaviour (run name, parent run, source, notes...). Writing
    them is allowed, as in mlflow, but a user should know what it changes.
    """
    if not key.startswith(RESERVED_PREFIX):
        return None
    known = _RESERVED_EFFECTS.get(key)
    effect = f" ({known})" if known else ""
    return f"{key!r} is a reserved MLflow tag{effect}; mlflow and its UI interpret it"


_RESERVED_EFFECTS = {
    "mlflow.runName": "the run's name; renaming the run also sets it",
    "mlflow.parentRunId": "makes this run a child of another run",
    "mlflow.note.content": "the description shown in mlflow's UI",
    "mlflow.user": "who created the run",
    "mlflow.source.name": "the code that created the run",
    "mlflow.source.type": "the kind of source",
    "mlflow.log-model.history": "the models logged by the run",
    "mlflow.traceName": "the trace's name",
    "mlflow.artifactLocation": "where a trace's spans are stored; changing it loses them",
    "mlflow.trace.spansLocation": "which store holds a trace's spans",
}


def _checked_string(value: object, what: str) -> str:
    """The value, once it is known to be a string. Raises InvalidValue."""
    if not isinstance(value, str):
        raise InvalidValue(f"The {what} must be a string, got {type(value).__name__}")
    return value


def _check_length(value: str, limit: int, what: str) -> None:
    if len(value) > limit:
        raise InvalidValue(f"The {what} is {len(value)} characters long; the limit is {limit}")
