"""MLflow's input rules for registry writes (mlflow.utils.validation, 3.17), checked before any
backend writes, so every store refuses the same inputs with the same `InvalidValue`.

Alias names: letters, digits, `_` and `-`, at most 255 characters, and neither `latest` (any
case) nor `v<digits>` — MLflow resolves those itself (`models:/m@latest`, `models:/m/3`).
Tag keys follow the run-tag key rules (at most 250 characters); values at most 100,000.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence

from . import validation as v
from .errors import InvalidValue
from .registry import STAGES, ModelVersion, RegisteredModel

MAX_ALIAS_LENGTH = 255
MAX_REGISTRY_TAG_VALUE_LENGTH = 100_000
#: Stages `archive_existing_versions` may be used with (MLflow's "active" stages).
ACTIVE_STAGES = ("Staging", "Production")
#: The stage MLflow's SQL and file stores give a deleted version (its row/folder stays).
STAGE_DELETED_INTERNAL = "Deleted_Internal"

_ALIAS = re.compile(r"^[\w\-]*$")
_VERSION_ALIAS = re.compile(r"^[vV]\d+$")
_STAGE_BY_LOWER = {stage.lower(): stage for stage in STAGES}


def validate_model_name(name: object, what: str = "name") -> str:
    """A registered model name: not blank, no `/` or `:`, not a path that resolves to another."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidValue(f"Missing value for required parameter '{what}'.")
    if "/" in name or ":" in name:
        raise InvalidValue(f"Invalid model name '{name}'. Names cannot contain '/' or ':'.")
    normalized = posixpath.normpath(name)
    if normalized != name or normalized == "." or normalized.startswith(".."):
        raise InvalidValue(f"Invalid model name '{name}': it would resolve to '{normalized}' as a path.")
    return name


def validate_alias(alias: object) -> str:
    """An alias name a user may set (reserved names refused)."""
    if not isinstance(alias, str) or alias == "":
        raise InvalidValue("Registered model alias name cannot be empty.")
    if not _ALIAS.match(alias):
        raise InvalidValue(
            f"Invalid alias name: '{alias}'. Names may only contain alphanumerics, underscores (_) "
            "and dashes (-)."
        )
    if len(alias) > MAX_ALIAS_LENGTH:
        raise InvalidValue(f"Registered model alias name exceeds the maximum length of {MAX_ALIAS_LENGTH}")
    if alias.lower() == "latest":
        raise InvalidValue("'latest' alias name (case insensitive) is reserved.")
    if _VERSION_ALIAS.match(alias):
        raise InvalidValue(f"Version alias name '{alias}' is reserved.")
    return alias


def validate_tag(key: object, value: object) -> None:
    """A registered-model or model-version tag."""
    v.validate_key(key, "tag key")
    if not isinstance(value, str):
        raise InvalidValue(f"Tag value must be a string, got {type(value).__name__}")
    if len(value) > MAX_REGISTRY_TAG_VALUE_LENGTH:
        raise InvalidValue(f"value of tag {key!r} exceeds the maximum length of {MAX_REGISTRY_TAG_VALUE_LENGTH}")


def validate_import(model: RegisteredModel, versions: Sequence[ModelVersion]) -> None:
    """What `import_registered_model` checks before writing anything: the model's name and
    every tag of the model and its versions."""
    validate_model_name(model.name)
    for key, value in model.tags.items():
        validate_tag(key, value)
    for version in versions:
        for key, value in version.tags.items():
            validate_tag(key, value)


def validate_version(version: object) -> int:
    """A version number (`3` or `"3"`)."""
    try:
        return int(str(version))
    except ValueError:
        raise InvalidValue(f"Parameter 'version' must be an integer, got '{version}'.") from None


def canonical_stage(stage: object, archive_existing_versions: bool = False) -> str:
    """The stage as MLflow spells it (`staging` → `Staging`); archiving others is only allowed
    when moving to an active stage."""
    found = _STAGE_BY_LOWER.get(str(stage).lower())
    if found is None:
        raise InvalidValue(f"Invalid Model Version stage: {stage}. Value must be one of {', '.join(STAGES)}.")
    if archive_existing_versions and found not in ACTIVE_STAGES:
        raise InvalidValue(
            f"Model version transition cannot archive existing model versions because '{stage}' "
            f"is not an Active stage. Valid stages are {list(ACTIVE_STAGES)}"
        )
    return found
