"""What every backend's `log_inputs` checks and keeps before writing: MLflow 3.17's limits on a
dataset and its input tags, and its rule that a batch names each (name, digest) once (the
first wins). One place, so the SQL, file and REST writers refuse and dedupe alike."""

from __future__ import annotations

from collections.abc import Sequence

from .errors import InvalidValue
from .model import DatasetInput

MAX_DATASETS_PER_BATCH = 1000
_LIMITS = (("name", 500), ("digest", 36), ("source", 65535), ("schema", 1048575), ("profile", 16777215))
MAX_INPUT_TAG_KEY = 255
MAX_INPUT_TAG_VALUE = 500


def checked_dataset_inputs(datasets: Sequence[DatasetInput]) -> list[DatasetInput]:
    """The inputs to write, first of each (name, digest) only. Raises InvalidValue for a
    dataset or tag MLflow would refuse, before anything is written."""
    if len(datasets) > MAX_DATASETS_PER_BATCH:
        raise InvalidValue(f"At most {MAX_DATASETS_PER_BATCH} dataset inputs per call, got {len(datasets)}")
    kept: dict[tuple[str, str], DatasetInput] = {}
    for item in datasets:
        dataset = item.dataset
        for field_name, limit in _LIMITS:
            value = getattr(dataset, field_name)
            if value is None and field_name in ("schema", "profile"):
                continue
            if not isinstance(value, str):
                raise InvalidValue(f"Dataset {field_name} must be a string, got {value!r}")
            if len(value) > limit:
                raise InvalidValue(f"Dataset {field_name} exceeds the maximum length of {limit}")
        if not isinstance(dataset.source_type, str):
            raise InvalidValue(f"Dataset source_type must be a string, got {dataset.source_type!r}")
        for key, value in item.tags.items():
            if not key or len(key) > MAX_INPUT_TAG_KEY:
                raise InvalidValue(f"Input tag key {key!r} must be 1 to {MAX_INPUT_TAG_KEY} characters")
            if len(value) > MAX_INPUT_TAG_VALUE:
                raise InvalidValue(f"Input tag {key!r}: value exceeds the maximum length of {MAX_INPUT_TAG_VALUE}")
        kept.setdefault((dataset.name, dataset.digest), item)
    return list(kept.values())
