"""Logged models travel with export, import and copy (after the experiment's runs).

Each active model of a copied experiment is written with `Store.import_logged_model`: params,
tags, metric points (their run ids re-pointed to the runs' destination ids), status, source
run; SQL and file stores keep the model id, a tracking server makes a new one (and finds it
again by the `tracktui.source_model_id` tag, so a re-run duplicates nothing). The model's
artifact files follow, skipping files already there with the same size. Export directories
hold `experiments/<exp id>/models/<model id>/model.json` (written last) and `artifacts/`.

A model a destination cannot take is named in `report.skipped` ("logged model 'name' (id):
why") — never dropped silently.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import NotFound, StoreError
from ..logged_models import LoggedModel, LoggedModelImport, LoggedModelMetric, sorted_metrics
from .format import _safe_name, read_json, write_json

MODEL_JSON = "model.json"
MODELS_DIR = "models"
CHUNK = 1024 * 1024


def copy_logged_models(source, sink, exp, dest_exp: str, report, options) -> None:
    """Copy the experiment's logged models (module docstring) and record what happened."""
    try:
        models = _models_of(source, exp)
    except StoreError as exc:
        report.warnings.append(f"experiment {exp.name!r}: logged models not listed: {exc.message}")
        return
    if not models:
        return
    refusal = _refusal(sink)
    for model in models:
        label = f"logged model {model.name!r} ({model.model_id})"
        if refusal:
            report.skipped.append(f"{label}: {refusal}")
            continue
        try:
            result = _import(sink, model, dest_exp, report.run_ids)
            report.logged_model_ids[model.model_id] = result.model_id
            report.warnings.extend(result.notes)
            if result.created:
                report.logged_models += 1
            if options.artifacts:
                _copy_files(source, sink, model, result.model_id, dest_exp, report)
            if _is_dir_sink(sink):
                write_json(_model_dir(sink, dest_exp, model.model_id) / MODEL_JSON, model_to_json(model))
        except (StoreError, OSError) as exc:
            reason = exc.message if isinstance(exc, StoreError) else f"{exc.strerror or exc}"
            report.skipped.append(f"{label}: {reason}")


# -- export directory format --------------------------------------------------------------------


def model_to_json(model: LoggedModel) -> dict[str, Any]:
    return {
        "model_id": model.model_id, "experiment_id": model.experiment_id, "name": model.name,
        "artifact_location": model.artifact_location, "creation_timestamp": model.creation_timestamp,
        "last_updated_timestamp": model.last_updated_timestamp, "status": model.status,
        "status_message": model.status_message, "model_type": model.model_type,
        "source_run_id": model.source_run_id, "lifecycle_stage": model.lifecycle_stage,
        "params": dict(model.params), "tags": dict(model.tags),
        "metrics": [
            {"key": m.key, "value": _encode(m.value), "step": m.step, "timestamp": m.timestamp,
             "run_id": m.run_id, "dataset_name": m.dataset_name, "dataset_digest": m.dataset_digest}
            for m in model.metrics
        ],
    }


def model_from_json(data: dict[str, Any]) -> LoggedModel:
    return LoggedModel(
        model_id=str(data["model_id"]), experiment_id=str(data.get("experiment_id", "")),
        name=str(data.get("name", "")), artifact_location=data.get("artifact_location"),
        creation_timestamp=data.get("creation_timestamp"), last_updated_timestamp=data.get("last_updated_timestamp"),
        status=str(data.get("status") or "UNSPECIFIED"), status_message=data.get("status_message"),
        model_type=data.get("model_type"), source_run_id=data.get("source_run_id"),
        lifecycle_stage=str(data.get("lifecycle_stage") or "active"),
        params=dict(data.get("params") or {}), tags=dict(data.get("tags") or {}),
        metrics=sorted_metrics([
            LoggedModelMetric(key=m["key"], value=float(m["value"]), step=int(m["step"]),
                              timestamp=int(m["timestamp"]), run_id=m.get("run_id"),
                              dataset_name=m.get("dataset_name"), dataset_digest=m.get("dataset_digest"))
            for m in data.get("metrics") or ()
        ]),
    )


# -- sources ------------------------------------------------------------------------------------


def _models_of(source, exp) -> list[LoggedModel]:
    if hasattr(source, "dir"):  # an export directory
        folder = source.dir.experiment_dir(exp.id) / MODELS_DIR
        if not folder.is_dir():
            return []
        return [model_from_json(read_json(p / MODEL_JSON)) for p in sorted(folder.iterdir()) if (p / MODEL_JSON).is_file()]
    store = source.store
    if not store.supports_logged_models:
        return []
    out: list[LoggedModel] = []
    token = None
    while True:
        page = store.search_logged_models([exp.id], max_results=1000, page_token=token)
        out.extend(page.items)
        token = page.next_page_token
        if not token:  # oldest first, so a re-run meets them in the same order
            return sorted(out, key=lambda m: (m.creation_timestamp or 0, m.model_id))


def _files_of(source, model: LoggedModel) -> list[tuple[str, int | None]]:
    if hasattr(source, "dir"):
        base = source.dir.experiment_dir(model.experiment_id) / MODELS_DIR / _safe_name(model.model_id) / "artifacts"
        if not base.is_dir():
            return []
        return sorted((p.relative_to(base).as_posix(), p.stat().st_size) for p in base.rglob("*") if p.is_file())
    if not model.artifact_location:
        return []
    from . import _walk

    try:
        with source.store.logged_model_artifact_repository(model) as repo:
            return list(_walk(repo, ""))
    except NotFound:
        return []


def _open(source, model: LoggedModel, path: str) -> Iterator[bytes]:
    if hasattr(source, "dir"):
        base = source.dir.experiment_dir(model.experiment_id) / MODELS_DIR / _safe_name(model.model_id) / "artifacts"
        with open(base / path, "rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk
        return
    with source.store.logged_model_artifact_repository(model) as repo, repo.open(path) as stream:
        yield from stream.chunks(CHUNK)


# -- sinks --------------------------------------------------------------------------------------


def _is_dir_sink(sink) -> bool:
    return not hasattr(sink, "store")


def _refusal(sink) -> str | None:
    if _is_dir_sink(sink):
        return None
    if not sink.store.supports_logged_models:
        return f"{sink.description} cannot hold logged models (its schema predates MLflow 3)"
    return None


def _model_dir(sink, experiment_id: str, model_id: str) -> Path:
    return sink.dir.experiment_dir(experiment_id) / MODELS_DIR / _safe_name(model_id)


def _import(sink, model: LoggedModel, dest_exp: str, run_ids: dict[str, str]) -> LoggedModelImport:
    if _is_dir_sink(sink):
        done = (_model_dir(sink, dest_exp, model.model_id) / MODEL_JSON).is_file()
        return LoggedModelImport(model.model_id, not done)
    return sink.store.import_logged_model(model, dest_exp, run_ids)


def _copy_files(source, sink, model: LoggedModel, dest_id: str, dest_exp: str, report) -> None:
    files = _files_of(source, model)
    if not files:
        return
    from . import _LocalTarget, _report_lock

    if _is_dir_sink(sink):
        target: Any = _LocalTarget(_model_dir(sink, dest_exp, dest_id) / "artifacts")
    else:
        target = _store_target(sink.store, dest_id)
        if target is None:
            report.warnings.append(
                f"logged model {model.name!r}: {len(files)} artifact file(s) not copied: "
                f"{sink.description} cannot write model artifacts")
            return
    for path, size in files:
        if target.exists(path, size):
            continue
        written = target(path, size, _open(source, model, path))
        with _report_lock:
            report.artifact_files += 1
            report.artifact_bytes += written or 0


def _store_target(store, model_id: str):
    from ..artifacts import artifact_scheme
    from ..artifacts.local import local_path_of
    from . import _LocalTarget, _walk

    model = store.get_logged_model(model_id, allow_deleted=True)
    uri = model.artifact_location or ""
    if artifact_scheme(uri) == "file":
        return _LocalTarget(local_path_of(uri))
    upload = getattr(store, "upload_logged_model_artifact", None)
    if upload is None:
        return None
    try:
        with store.logged_model_artifact_repository(model) as repo:
            present = dict(_walk(repo, ""))
    except NotFound:
        present = {}
    return _ModelUpload(upload, model_id, present)


class _ModelUpload:
    def __init__(self, upload, model_id: str, present: dict[str, int | None]):
        self.upload, self.model_id, self.present = upload, model_id, present

    def exists(self, path: str, size: int | None) -> bool:
        return path in self.present and size is not None and self.present[path] == size

    def __call__(self, path: str, size: int | None, chunks: Iterator[bytes]) -> int:
        return self.upload(self.model_id, path, chunks)


def _encode(value: float) -> float | str:
    return value if math.isfinite(value) else repr(value)
