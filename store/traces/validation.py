"""MLflow's rules for trace tags (mlflow.utils.validation: key ≤ 250, value ≤ 8000), checked
before any backend writes so every store refuses the same things with the same message."""

from __future__ import annotations

from ..errors import InvalidValue
from ..validation import MAX_TAG_VALUE_LENGTH, validate_key


def validate_trace_tag(key: str, value: object) -> None:
    validate_key(key, "trace tag key")
    if not isinstance(value, str):
        raise InvalidValue(f"A trace tag value must be a string, got {type(value).__name__}")
    if len(value) > MAX_TAG_VALUE_LENGTH:
        raise InvalidValue(
            f"Trace tag '{key}' value has {len(value)} characters; MLflow allows at most {MAX_TAG_VALUE_LENGTH}"
        )
