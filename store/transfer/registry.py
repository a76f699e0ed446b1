"""The model and prompt registry travels with export, import and copy (after the experiments).

Every registered model and prompt is written with `Store.import_registered_model`: its
description, tags, times, versions (with their tags, stages, descriptions) and aliases, as
mlflow-export-import's `export-model`/`import-model` carry them. Each version is re-linked to
the copied run: its `run_id` becomes the run's destination id, and a `source` inside the run's
artifacts (`<artifact uri>/…` or `runs:/<run id>/…`) is rewritten to the same path under the
destination run. SQL and file stores keep version numbers and times; a server numbers versions
itself (store.rest.registry_writes keeps the numbers where it can), and every number that
changed is recorded in `report.version_numbers` ("name/old" → new) and the warnings.

What travels (`TransferOptions.registry`): "all" is the whole registry, models and prompts;
"related" the models with a version made from a copied run (prompts belong to no experiment);
"none" nothing; "auto" (the default) is "all" when every experiment is copied and "none" when
experiments are named — as mlflow-export-import's export-all carries models and its
export-experiment does not. With `--runs`, nothing. Incremental: a model already at the destination gets
only the versions and aliases it lacks. A model a destination cannot take is named in
`report.skipped`. Export directories hold `registry/<name>/model.json`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import NotFound, StoreError
from ..registry import ModelVersion, RegisteredModel, RegistryImport, is_prompt
from ..search import quote_value
from .format import _safe_name, read_json, write_json

REGISTRY_DIR = "registry"
MODEL_JSON = "model.json"
_PAGE = 1000


def copy_registry(source, sink, report, options, artifact_uris: dict[str, str]) -> None:
    """Copy the registry (module docstring); `artifact_uris` maps each copied source run id to
    its artifact URI at the source."""
    mode = registry_mode(options)
    if mode == "none":
        return
    try:
        entries = list(_registry_of(source))
    except StoreError as exc:
        report.warnings.append(f"registry not read: {exc.message}")
        return
    if mode == "related":
        entries = [(m, vs) for m, vs in entries
                   if not is_prompt(m.tags) and any(v.run_id in artifact_uris for v in vs)]
    if not entries:
        return
    refusal = _refusal(sink)
    destination_uri = _destination_uris(sink)
    for model, versions in entries:
        label = f"{'prompt' if is_prompt(model.tags) else 'registered model'} {model.name!r}"
        if refusal:
            report.skipped.append(f"{label}: {refusal}")
            continue
        try:
            relinked = [_relink(v, report, artifact_uris, destination_uri) for v in versions]
            result = _import(sink, model, relinked)
        except (StoreError, OSError) as exc:
            reason = exc.message if isinstance(exc, StoreError) else f"{exc.strerror or exc}"
            report.skipped.append(f"{label}: {reason}")
            continue
        report.registered_models += int(result.created)
        report.model_versions += len(result.versions)
        for old, new in result.versions.items():
            if old != new:
                report.version_numbers[f"{model.name}/{old}"] = new
        report.warnings.extend(result.notes)


def registry_mode(options) -> str:
    """"all", "related" or "none": what `options.registry` asks for, "auto" resolved."""
    if options.registry == "auto":
        return "none" if options.experiments else "all"
    return options.registry


# -- export directory format --------------------------------------------------------------------


def model_to_json(model: RegisteredModel, versions: Sequence[ModelVersion]) -> dict[str, Any]:
    return {
        "name": model.name, "creation_timestamp": model.creation_timestamp,
        "last_updated_timestamp": model.last_updated_timestamp, "description": model.description,
        "tags": dict(model.tags), "aliases": dict(model.aliases),
        "versions": [_version_to_json(v) for v in versions],
    }


def model_from_json(data: dict[str, Any]) -> tuple[RegisteredModel, list[ModelVersion]]:
    model = RegisteredModel(
        name=str(data["name"]), creation_timestamp=data.get("creation_timestamp"),
        last_updated_timestamp=data.get("last_updated_timestamp"), description=data.get("description"),
        tags=dict(data.get("tags") or {}), aliases={k: str(v) for k, v in (data.get("aliases") or {}).items()},
    )
    return model, [_version_from_json(model.name, v) for v in data.get("versions") or ()]


_VERSION_FIELDS = ("version", "creation_timestamp", "last_updated_timestamp", "description", "user_id",
                   "current_stage", "source", "run_id", "run_link", "status", "status_message", "model_id")


def _version_to_json(v: ModelVersion) -> dict[str, Any]:
    return {**{f: getattr(v, f) for f in _VERSION_FIELDS}, "tags": dict(v.tags)}


def _version_from_json(name: str, data: dict[str, Any]) -> ModelVersion:
    fields: dict[str, Any] = {f: data.get(f) for f in _VERSION_FIELDS}
    fields["version"] = str(fields["version"])
    fields["current_stage"] = fields["current_stage"] or "None"
    fields["status"] = fields["status"] or "READY"
    return ModelVersion(name=name, tags=dict(data.get("tags") or {}), **fields)


# -- sources ------------------------------------------------------------------------------------


def _registry_of(source):
    """(model, its live versions oldest first) for every registered model, then every prompt."""
    if hasattr(source, "dir"):  # an export directory
        folder = source.dir.root / REGISTRY_DIR
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                if (path / MODEL_JSON).is_file():
                    yield model_from_json(read_json(path / MODEL_JSON))
        return
    store = source.store
    if not store.supports_model_registry:
        return
    for model in _all(store.search_registered_models):
        versions = _all(store.search_model_versions, f"name = {quote_value(model.name)}")
        yield model, sorted(versions, key=lambda v: int(v.version))
    for prompt in _all(store.search_prompts):
        numbers = sorted((p.version for p in _all(store.search_prompt_versions, prompt.name)), key=int)
        yield store.get_registered_model(prompt.name), [store.get_model_version(prompt.name, n) for n in numbers]


def _all(search: Callable[..., Any], *args: Any) -> list:
    """Every item of a paged search."""
    out: list = []
    token = None
    while True:
        page = search(*args, max_results=_PAGE, page_token=token)
        out.extend(page.items)
        token = page.next_page_token
        if not token:
            return out


# -- relinking ----------------------------------------------------------------------------------


def _relink(version: ModelVersion, report, artifact_uris: dict[str, str],
            destination_uri: Callable[[str], str | None]) -> ModelVersion:
    """The version pointing at the copied run: run id mapped, a source inside the run's
    artifacts moved under the destination run's; a logged model's id mapped too."""
    version = _relink_logged_model(version, report.logged_model_ids)
    old = version.run_id
    if not old or old not in report.run_ids:
        if old:
            report.warnings.append(f"{version.name} version {version.version}: its run {old} was not copied; "
                                   f"the version keeps that run id and source")
        return version
    new = report.run_ids[old]
    source = version.source or ""
    if source.startswith(f"runs:/{old}/") or source == f"runs:/{old}":
        source = f"runs:/{new}" + source[len(f"runs:/{old}"):]
    else:
        before, after = artifact_uris.get(old), destination_uri(new)
        if before and after is not None and _inside(source, before):
            source = after.rstrip("/") + source[len(before.rstrip("/")):]
    return replace(version, run_id=new, source=source)


def _relink_logged_model(version: ModelVersion, model_ids: dict[str, str]) -> ModelVersion:
    """`models:/<id>` sources and `model_id` re-pointed at the copied logged model (a server
    gives copies new ids)."""
    new_id = model_ids.get(version.model_id or "")
    source = version.source or ""
    if source.startswith("models:/m-"):
        old_id = source[len("models:/"):].split("/", 1)[0]
        if model_ids.get(old_id, old_id) != old_id:
            source = f"models:/{model_ids[old_id]}" + source[len(f"models:/{old_id}"):]
    if new_id is None and source == version.source:
        return version
    return replace(version, model_id=new_id or version.model_id, source=source)


def _inside(path: str, root: str) -> bool:
    root = root.rstrip("/")
    return path == root or path.startswith(root + "/")


# -- sinks --------------------------------------------------------------------------------------


def _is_dir_sink(sink) -> bool:
    return not hasattr(sink, "store")


def _refusal(sink) -> str | None:
    if _is_dir_sink(sink) or sink.store.supports_model_registry:
        return None
    return f"{sink.description} cannot hold a model registry"


def _destination_uris(sink) -> Callable[[str], str | None]:
    """Destination run id → its artifact URI (an export directory keeps the source's)."""
    if _is_dir_sink(sink):
        return lambda _run_id: None
    known: dict[str, str | None] = {}

    def uri(run_id: str) -> str | None:
        if run_id not in known:
            try:
                known[run_id] = sink.store.get_run(run_id).artifact_uri
            except NotFound:
                known[run_id] = None
        return known[run_id]

    return uri


def _model_file(sink, name: str) -> Path:
    return sink.dir.root / REGISTRY_DIR / _safe_name(name) / MODEL_JSON


def _import(sink, model: RegisteredModel, versions: list[ModelVersion]) -> RegistryImport:
    if not _is_dir_sink(sink):
        return sink.store.import_registered_model(model, versions)
    path = _model_file(sink, model.name)
    created = not path.is_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, model_to_json(model, versions))
    return RegistryImport(model.name, created, {v.version: v.version for v in versions} if created else {})
