"""Logged models in a file store (docs/logged-models.md): a mixin for FileStore.

Layout: `<experiment>/models/<model_id>/meta.yaml` (status an integer; `lifecycle_stage` may
be missing — MLflow's finalize rewrites the file without it — and then means active), one file
per param under `params/` and per tag under `tags/`, and `metrics/<key>` with one line per
point: `<timestamp> <value> <step> <run_id> [<dataset_name> <dataset_digest>]`. Reads go to
the files each time (models are few per experiment); filters run in Python
(store.search.logged_models) with the SQL store's semantics, so every backend answers alike.
"""

from __future__ import annotations

import math
import os
import shutil
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .. import validation as v
from ..atomic import write_atomic
from ..errors import InvalidValue, NotFound
from ..logged_models import (
    STATUS_TO_INT,
    DatasetFilter,
    LoggedModel,
    LoggedModelImport,
    LoggedModelMetric,
    LoggedModelOrder,
    sorted_metrics,
    status_name,
)
from ..model import Page
from ..paging import check_max_results, decode_page_token, encode_page_token
from ..search.logged_models import (
    logged_model_matches,
    parse_datasets,
    parse_logged_model_filter,
    parse_logged_model_order_by,
    sort_logged_models,
)
from .layout import decode_value, is_safe_id, key_path
from .meta import MetaError, dump_meta, parse_meta, read_bytes
from .writes import write_value

if TYPE_CHECKING:
    from .host import FileHost
else:
    FileHost = object  # the host is a type-checking contract only (see host.py)

MODELS = "models"
META = "meta.yaml"


class FileLoggedModels(FileHost):
    """Mixin for FileStore (what it uses of the store: host.FileHost)."""

    supports_logged_models = True
    can_restore_logged_models = True

    # -- reads ----------------------------------------------------------------------------------

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        order_by: Sequence[LoggedModelOrder | Mapping[str, Any] | str] | None = None,
        max_results: int = 100,
        page_token: str | None = None,
        datasets: Sequence[DatasetFilter | Mapping[str, Any]] | None = None,
    ) -> Page[LoggedModel]:
        comparisons = parse_logged_model_filter(filter_string)
        orders = parse_logged_model_order_by(order_by)
        wanted = parse_datasets(datasets)
        offset = decode_page_token(page_token)
        check_max_results(max_results, limit=None)  # (MLflow sets no page limit for models)
        found = []
        for eid in dict.fromkeys(str(e) for e in experiment_ids):
            exp_path = self._experiment_path(eid)
            if exp_path is None:
                continue
            for model_dir in _model_dirs(exp_path):
                model = self._load_model(model_dir)
                if model is None or model.lifecycle_stage == "deleted" or model.experiment_id != eid:
                    continue
                if logged_model_matches(model, comparisons, wanted):
                    found.append(model)
        ordered = sort_logged_models(found, orders)
        page = ordered[offset: offset + max_results]
        more = offset + max_results < len(ordered)
        return Page(tuple(page), encode_page_token(offset + max_results) if more else None)

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        model = self._load_model(self._find_model(model_id))
        if model is None or (model.lifecycle_stage == "deleted" and not allow_deleted):
            raise NotFound(f"Logged model '{model_id}' not found")
        return model

    # -- writes ---------------------------------------------------------------------------------

    def delete_logged_model(self, model_id: str) -> None:
        self._set_model_stage(model_id, "deleted")

    def restore_logged_model(self, model_id: str) -> None:
        self._set_model_stage(model_id, "active")

    def set_logged_model_tag(self, model_id: str, key: str, value: str) -> None:
        self._check_writable()
        v.validate_run_tag(key, value)
        write_value(os.path.join(self._find_model(model_id), "tags"), key, value)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        self._check_writable()
        path = key_path(os.path.join(self._find_model(model_id), "tags"), key)
        if path is None or not os.path.isfile(path):
            raise NotFound(f"No tag with key {key!r} found for model with ID {model_id!r}.")
        os.unlink(path)

    def import_logged_model(
        self, model: LoggedModel, experiment_id: str, run_ids: Mapping[str, str] | None = None
    ) -> LoggedModelImport:
        self._check_writable()
        run_ids = run_ids or {}
        if not is_safe_id(model.model_id):
            raise InvalidValue(f"Logged model id {model.model_id!r} cannot be a folder name")
        try:
            self._find_model(model.model_id)
            return LoggedModelImport(model.model_id, False)
        except NotFound:
            pass
        exp_path = self._experiment_path(str(experiment_id))
        if exp_path is None:
            raise NotFound(f"Experiment '{experiment_id}' not found")
        experiment = self.get_experiment(str(experiment_id))
        model_dir = os.path.join(exp_path, MODELS, model.model_id)
        building = model_dir + ".tracktui-import"
        shutil.rmtree(building, ignore_errors=True)
        os.makedirs(os.path.join(building, "metrics"))
        os.makedirs(os.path.join(building, "params"))
        for key, value in model.params.items():
            write_value(os.path.join(building, "params"), key, value)
        for key, value in model.tags.items():
            write_value(os.path.join(building, "tags"), key, value)
        lines: dict[str, list[str]] = {}
        dropped = 0
        for m in model.metrics:
            rid = run_ids.get(m.run_id or "", m.run_id)
            if not rid:
                dropped += 1
                continue
            line = f"{m.timestamp} {_number(m.value)} {m.step} {rid}"
            if m.dataset_name is not None and m.dataset_digest is not None:
                line += f" {m.dataset_name} {m.dataset_digest}"
            lines.setdefault(m.key, []).append(line + "\n")
        for key, text in lines.items():
            path = key_path(os.path.join(building, "metrics"), key)
            if path is None:
                raise InvalidValue(f"Metric key {key!r} cannot be a file name")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            write_atomic(path, "".join(text).encode("utf-8"))
        location = (experiment.artifact_location or exp_path).rstrip("/")
        meta = {
            "artifact_location": f"{location}/{MODELS}/{model.model_id}/artifacts",
            "creation_timestamp": model.creation_timestamp, "experiment_id": str(experiment_id),
            "last_updated_timestamp": model.last_updated_timestamp,
            "lifecycle_stage": model.lifecycle_stage, "model_id": model.model_id,
            "model_type": model.model_type, "name": model.name,
            "source_run_id": run_ids.get(model.source_run_id or "", model.source_run_id),
            "status": STATUS_TO_INT.get(model.status, 0), "status_message": model.status_message,
        }
        write_atomic(os.path.join(building, META), dump_meta(meta))
        os.rename(building, model_dir)  # the model appears whole or not at all
        notes = (f"{dropped} metric point(s) of model '{model.name}' skipped: no run",) if dropped else ()
        return LoggedModelImport(model.model_id, True, notes)

    # -- helpers --------------------------------------------------------------------------------

    def _find_model(self, model_id: str) -> str:
        """The model's folder (in any experiment, active or deleted). Raises NotFound."""
        if not isinstance(model_id, str) or not is_safe_id(model_id):
            raise NotFound(f"Logged model '{model_id}' not found")
        for view in ("active", "deleted"):
            for _eid, exp_path in self._experiment_dirs(view):
                candidate = os.path.join(exp_path, MODELS, model_id)
                if os.path.isfile(os.path.join(candidate, META)):
                    return candidate
        raise NotFound(f"Logged model '{model_id}' not found")

    def _set_model_stage(self, model_id: str, stage: str) -> None:
        self._check_writable()
        model_dir = self._find_model(model_id)
        path = os.path.join(model_dir, META)
        meta = parse_meta(read_bytes(path))
        meta["lifecycle_stage"] = stage
        meta["last_updated_timestamp"] = int(time.time() * 1000)
        write_atomic(path, dump_meta(meta))

    def _load_model(self, model_dir: str) -> LoggedModel | None:
        """The model in `model_dir`, or None (with a warning) when its meta.yaml is damaged."""
        path = os.path.join(model_dir, META)
        try:
            meta = parse_meta(read_bytes(path))
            model_id = str(meta["model_id"])
        except (OSError, MetaError, KeyError, TypeError) as exc:
            self._warn(f"{path}: unreadable logged model ({exc})")
            return None
        return LoggedModel(
            model_id=model_id, experiment_id=str(meta.get("experiment_id", "")),
            name=str(meta.get("name") or ""), artifact_location=meta.get("artifact_location"),
            creation_timestamp=_int(meta.get("creation_timestamp")),
            last_updated_timestamp=_int(meta.get("last_updated_timestamp")),
            status=status_name(meta.get("status")), status_message=meta.get("status_message"),
            model_type=meta.get("model_type"), source_run_id=meta.get("source_run_id"),
            lifecycle_stage=meta.get("lifecycle_stage") or "active",
            params=_values(os.path.join(model_dir, "params")),
            tags=_values(os.path.join(model_dir, "tags")),
            metrics=sorted_metrics(self._points(os.path.join(model_dir, "metrics"))),
        )

    def _points(self, base: str) -> list[LoggedModelMetric]:
        out = []
        for key, path in _key_files(base):
            try:
                text = read_bytes(path).decode("utf-8", errors="replace")
            except OSError:
                continue
            for line in text.splitlines():
                parts = line.split(" ")
                if len(parts) not in (4, 6):
                    if line.strip():
                        self._warn(f"{path}: malformed logged model metric line {line[:80]!r}")
                    continue
                try:
                    out.append(LoggedModelMetric(
                        key=key, value=float(parts[1]), step=int(parts[2]), timestamp=int(parts[0]),
                        run_id=parts[3], dataset_name=parts[4] if len(parts) == 6 else None,
                        dataset_digest=parts[5] if len(parts) == 6 else None,
                    ))
                except ValueError:
                    self._warn(f"{path}: malformed logged model metric line {line[:80]!r}")
        return out


def _model_dirs(exp_path: str) -> list[str]:
    base = os.path.join(exp_path, MODELS)
    try:
        names = sorted(os.listdir(base))
    except OSError:
        return []
    return [os.path.join(base, n) for n in names
            if not n.startswith(".") and is_safe_id(n) and os.path.isfile(os.path.join(base, n, META))]


def _key_files(base: str) -> list[tuple[str, str]]:
    """(key, path) of every value file under `base`; keys with `/` are nested folders."""
    out = []
    for folder, _dirs, files in os.walk(base):
        for name in files:
            if name.startswith(".tracktui-"):
                continue
            path = os.path.join(folder, name)
            out.append((os.path.relpath(path, base).replace(os.sep, "/"), path))
    return sorted(out)


def _values(base: str) -> dict[str, str]:
    out = {}
    for key, path in _key_files(base):
        try:
            out[key] = decode_value(read_bytes(path))
        except OSError:
            continue
    return out


def _int(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def _number(value: float) -> str:
    """The value as MLflow writes it (`nan`, `inf` parse back with float())."""
    return repr(value) if math.isfinite(value) else str(value)
