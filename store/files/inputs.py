"""Run inputs and outputs in an `mlruns` tree, read and written as mlflow 3.17's FileStore does.

A dataset lives once per experiment in `<exp>/datasets/<md5(name, digest)>/meta.yaml`; a run
names it in `<run>/inputs/<md5(dataset id, run id)>/meta.yaml` (source_type DATASET, the
input's tags). Model inputs are `inputs/<id>` with source_type MODEL; model outputs are
`outputs/<model id>/meta.yaml` with the step. A damaged file is skipped and named in the
store's warnings, as everywhere in the file store.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from .. import validation as v
from ..atomic import write_atomic
from ..dataset_inputs import checked_dataset_inputs
from ..errors import InvalidValue
from ..model import (
    NO_INPUTS,
    NO_OUTPUTS,
    Dataset,
    DatasetInput,
    ModelInput,
    ModelOutput,
    RunInputs,
    RunOutputs,
    sorted_dataset_inputs,
)
from .cache import TreeCache
from .layout import META, list_dirs
from .meta import MetaError, dump_meta, parse_meta

if TYPE_CHECKING:
    from .host import FileHost
else:
    FileHost = object

INPUTS = "inputs"
OUTPUTS = "outputs"
DATASETS = "datasets"


def read_run_inputs(
    cache: TreeCache, run_path: str, experiment_path: str, warn: Callable[[str], None]
) -> tuple[RunInputs, RunOutputs]:
    """The run's dataset inputs (with tags), model inputs and model outputs."""
    datasets: list[DatasetInput] = []
    models: list[ModelInput] = []
    for _, input_path in list_dirs(cache, f"{run_path}/{INPUTS}"):
        meta = _meta(cache, f"{input_path}/{META}", warn)
        if meta is None:
            continue
        kind, source_id = meta.get("source_type"), str(meta.get("source_id"))
        if kind == "MODEL":
            models.append(ModelInput(source_id))
        elif kind == "DATASET":
            found = _meta(cache, f"{experiment_path}/{DATASETS}/{source_id}/{META}", warn)
            if found is not None:
                tags = meta.get("tags")
                datasets.append(DatasetInput(_dataset(found), _str_map(tags)))
    outputs = []
    for name, output_path in list_dirs(cache, f"{run_path}/{OUTPUTS}"):
        meta = _meta(cache, f"{output_path}/{META}", warn)
        if meta is not None and meta.get("source_type") == "RUN_OUTPUT":
            step = meta.get("step")
            outputs.append(ModelOutput(str(meta.get("source_id") or name), step if isinstance(step, int) else 0))
    inputs = RunInputs(sorted_dataset_inputs(datasets), tuple(models)) if datasets or models else NO_INPUTS
    return inputs, (RunOutputs(tuple(outputs)) if outputs else NO_OUTPUTS)


def dataset_id(name: str, digest: str) -> str:
    """The folder name mlflow gives a dataset: md5 of its name, then its digest."""
    md5 = hashlib.md5(name.encode("utf-8"), usedforsecurity=False)
    md5.update(digest.encode("utf-8"))
    return md5.hexdigest()


def dataset_input_id(dataset: str, run_id: str) -> str:
    """The folder name mlflow gives a run's dataset input: md5 of the dataset id, then the run id."""
    md5 = hashlib.md5(dataset.encode("utf-8"), usedforsecurity=False)
    md5.update(run_id.encode("utf-8"))
    return md5.hexdigest()


class FileInputs(FileHost):
    """`log_inputs` on an `mlruns` tree, laid out as mlflow's FileStore lays it out."""

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput]) -> None:
        self._check_writable()
        v.validate_run_id(run_id)
        wanted = checked_dataset_inputs(datasets)
        from .writes import _write_lock  # one lock for every write of this process

        with _write_lock:
            ref = self._find_run(run_id)
            if ref.run.lifecycle_stage != "active":
                raise InvalidValue(f"Run '{run_id}' is deleted; restore it before you log inputs to it")
            for item in wanted:
                ds = item.dataset
                folder = dataset_id(ds.name, ds.digest)
                dataset_dir = os.path.join(ref.experiment_path, DATASETS, folder)
                if not os.path.exists(dataset_dir):
                    os.makedirs(dataset_dir, exist_ok=True)
                    write_atomic(os.path.join(dataset_dir, META), dump_meta({
                        "name": ds.name, "digest": ds.digest, "source_type": ds.source_type,
                        "source": ds.source, "schema": ds.schema, "profile": ds.profile,
                    }))
                input_dir = os.path.join(ref.path, INPUTS, dataset_input_id(folder, run_id))
                if not os.path.exists(input_dir):
                    os.makedirs(input_dir, exist_ok=True)
                    write_atomic(os.path.join(input_dir, META), dump_meta({
                        "source_type": "DATASET", "source_id": folder, "destination_type": "RUN",
                        "destination_id": run_id, "tags": dict(item.tags),
                    }))


def _meta(cache: TreeCache, path: str, warn: Callable[[str], None]) -> dict | None:
    try:
        found = cache.content(path, parse_meta)
    except FileNotFoundError:
        warn(f"{path}: missing meta.yaml; input skipped")
        return None
    except (OSError, MetaError) as exc:
        warn(f"{path}: input skipped: {exc}")
        return None
    return found if isinstance(found, dict) else None


def _dataset(meta: dict) -> Dataset:
    return Dataset(
        name=str(meta.get("name", "")), digest=str(meta.get("digest", "")),
        source_type=str(meta.get("source_type", "")), source=str(meta.get("source", "")),
        schema=_opt(meta.get("schema")), profile=_opt(meta.get("profile")),
    )


def _opt(value) -> str | None:
    return None if value is None else str(value)


def _str_map(value) -> dict[str, str]:
    return {str(k): str(val) for k, val in value.items()} if isinstance(value, dict) else {}
