"""What every backend's `create_run` settles before writing anything, decided once: the run's
name, tags, user and start time, as mlflow settles them (name column and `mlflow.runName` tag
agree, `mlflow.user` and `mlflow.parentRunId` tags set)."""

from __future__ import annotations

import getpass
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass

from . import validation as v
from .errors import InvalidValue
from .model import PARENT_RUN_TAG, RUN_NAME_TAG
from .run_names import random_run_name

USER_TAG = "mlflow.user"


@dataclass(frozen=True, slots=True)
class NewRun:
    name: str
    start_time: int
    user_id: str
    tags: dict[str, str]


def prepare_new_run(
    name: str | None,
    start_time: int | None,
    user_id: str | None,
    tags: Mapping[str, str] | None,
    parent_run_id: str | None,
) -> NewRun:
    """Validated fields for a new run. Raises InvalidValue before anything is written."""
    tags = dict(tags or {})
    v.validate_run_tags(tags)
    tag_name = tags.get(RUN_NAME_TAG)
    if name and tag_name and name != tag_name:
        raise InvalidValue(
            f"The run name {name!r} and the {RUN_NAME_TAG} tag {tag_name!r} differ; give one of them"
        )
    name = v.validate_run_name(name or tag_name or random_run_name())
    if parent_run_id is not None:
        tags[PARENT_RUN_TAG] = v.validate_run_id(parent_run_id)
    user_id = user_id or tags.get(USER_TAG) or current_user()
    tags.setdefault(RUN_NAME_TAG, name)
    tags.setdefault(USER_TAG, user_id)
    if start_time is None:
        start_time = int(time.time() * 1000)
    elif isinstance(start_time, bool) or not isinstance(start_time, int) or start_time < 0:
        raise InvalidValue(f"start_time must be a non-negative integer (epoch ms), got {start_time!r}")
    return NewRun(name, start_time, user_id, tags)


def current_user() -> str:
    """The login name mlflow would record, or a placeholder where the environment has none."""
    try:
        return getpass.getuser()
    except Exception:  # containers without a passwd entry
        return os.environ.get("USER") or "unknown"
