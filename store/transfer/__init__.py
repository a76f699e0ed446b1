"""Export, import and copy experiments between any two stores, through the Store protocol only.

One engine, `transfer(source, sink, ...)`, moves experiments and runs from a *source* (a Store
or an export directory) to a *sink* (a Store or an export directory), so export, import and
copy are the same code:

- Fidelity: SQL and file-store sinks keep run ids, start/end times, statuses, user ids and
  experiment creation times. A REST sink cannot choose ids: each new run carries the tags
  `tracktui.source_run_id`, `tracktui.source_start_time`, `tracktui.source_end_time`, and the
  old→new ids are returned (and written to a mapping file if asked). `mlflow.parentRunId` is
  rewritten to the parent's destination id; parents are written before their children.
- Incremental and resumable: a run already at the destination (same id, or same source-id tag
  over REST) whose fingerprint (status, end time, params, tags, latest metric steps/times) is
  unchanged is skipped; a changed or half-written one gets only what it lacks (missing metric
  points, params, tags, status). A run is never created twice.
- A failing run is recorded in the report and the others continue. Whatever is left out on
  purpose is named in the report's `skipped`: runs and experiments the source store could not
  read (a damaged `mlruns` tree), artifact files whose names tracktui refuses as paths, and
  symlinks in an export directory that point outside it (an import never uploads their
  targets).
- Dataset inputs travel with their run (dataset fields and input tags, e.g. the
  `mlflow.data.context`); a re-copy adds only the inputs the destination run lacks. A run's
  model inputs and outputs (its links to logged models) are not copied: each is listed in the
  report's `skipped`, never dropped silently.
- Logged models themselves follow their experiment's runs (store.transfer.models); one a
  destination cannot take is named in `skipped` too.
- The model and prompt registry follows the experiments (store.transfer.registry): versions
  re-linked to the copied runs, numbers kept where the destination allows, else recorded.
- Traces keep their ids everywhere (MLflow V3 ids are chosen by the writer): each store
  writes them with `Store.import_trace`; one already at the destination is skipped. What a
  destination cannot keep is listed in the report's warnings. Their assessments (feedback,
  expectations, overrides) travel with them; one a destination cannot take (a SQL schema
  without the `assessments` table) is named in `skipped`.

A library: no printing. Progress arrives through a callback, from worker threads.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..base import Store, find_experiment
from ..batching import chunked
from ..errors import InvalidValue, NotFound, ReadOnlyError, StoreError, UnsafePath
from ..model import PARENT_RUN_TAG, RUN_NAME_TAG, DatasetInput, Experiment, MetricPoint, Run
from .format import (
    ARTIFACTS_DIR,
    EXPERIMENT_JSON,
    MANIFEST,
    METRICS_CSV,
    RUN_JSON,
    ExportDir,
    experiment_from_json,
    experiment_to_json,
    manifest_json,
    read_json,
    read_metrics_csv,
    run_from_json,
    run_to_json,
    trace_from_json,
    trace_to_json,
    write_json,
    write_metrics_csv,
)

SOURCE_RUN_TAG = "tracktui.source_run_id"
SOURCE_START_TAG = "tracktui.source_start_time"
SOURCE_END_TAG = "tracktui.source_end_time"
SOURCE_EXPERIMENT_TAG = "tracktui.source_experiment_id"
SOURCE_CREATION_TAG = "tracktui.source_creation_time"
DEFAULT_WORKERS = 4
METRICS_PER_WRITE = 10_000
CHUNK = 1024 * 1024


# -- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TransferEvent:
    """One progress step: a run finished (`outcome` created/updated/unchanged/failed) or the
    total became known (`outcome` "planned")."""

    outcome: str
    runs_total: int
    runs_done: int
    run_id: str = ""
    experiment: str = ""


@dataclass
class TransferReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # source run id -> reason
    experiments: dict[str, str] = field(default_factory=dict)  # source id -> destination id
    run_ids: dict[str, str] = field(default_factory=dict)  # source id -> destination id
    artifact_files: int = 0
    artifact_bytes: int = 0
    traces: int = 0  # traces written (skipped ones already there are not counted)
    logged_models: int = 0  # logged models written (ones already there are not counted)
    logged_model_ids: dict[str, str] = field(default_factory=dict)  # source id -> destination id
    registered_models: int = 0  # registered models and prompts created (store.transfer.registry)
    model_versions: int = 0  # their versions written (ones already there are not counted)
    #: "model name/version there" -> version here, for each version whose number changed
    version_numbers: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: what was left out, each named: unreadable source runs/experiments, refused files,
    #: logged models the destination cannot take ("logged model 'name' (id): why")
    skipped: list[str] = field(default_factory=list)
    ids_kept: bool = True

    @property
    def ok(self) -> bool:
        """Everything selected was copied: nothing failed and nothing was skipped."""
        return not self.failed and not self.skipped

    @property
    def copied_any(self) -> bool:
        return bool(self.created or self.updated or self.unchanged)


@dataclass
class RunData:
    run: Run
    histories: dict[str, list[MetricPoint]]


def fingerprint(run: Run) -> str:
    """What decides whether a copied run changed since: independent of the run's id, of tags
    tracktui adds and of the parent id (rewritten over REST)."""
    tags = {k: v for k, v in run.tags.items() if not k.startswith("tracktui.") and k != PARENT_RUN_TAG}
    data: list[object] = [
        run.status, run.end_time, run.lifecycle_stage, sorted(run.params.items()), sorted(tags.items()),
        sorted((k, p.step, p.timestamp) for k, p in run.metrics.items()),
    ]
    if run.inputs.dataset_inputs:  # only then: fingerprints of runs without inputs stay as they were
        data.append(sorted(_dataset_key(i) for i in run.inputs.dataset_inputs))
    return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode()).hexdigest()[:32]


def _dataset_key(item: DatasetInput) -> list:
    """What identifies a dataset input for fingerprints and for "already there"."""
    ds = item.dataset
    return [ds.name, ds.digest, ds.source_type, ds.source, ds.schema, ds.profile, sorted(item.tags.items())]


def _point_key(p: MetricPoint) -> tuple:
    return (p.step, p.timestamp, "nan" if p.value != p.value else p.value)


# -- sources -----------------------------------------------------------------------------------


class StoreSource:
    """Reads experiments and runs from a Store."""

    def __init__(self, store: Store):
        self.store = store
        self.description = store.display_uri
        self._warned_before = set(store.warnings)

    def skipped(self) -> list[str]:
        """What the store skipped while it was read for this transfer (its new warnings:
        runs and experiments of a damaged tree, unreadable files), each naming its path."""
        return [w for w in self.store.warnings if w not in self._warned_before]

    def experiments(self, selectors: Sequence[str]) -> list[Experiment]:
        if not selectors:
            out: list[Experiment] = []
            token: str | None = None
            while True:
                page = self.store.search_experiments(view="all", page_token=token)
                out.extend(page.items)
                token = page.next_page_token
                if not token:
                    return sorted(out, key=lambda e: _id_order(e.id))
        found = []
        for sel in selectors:
            exp = find_experiment(self.store, sel)
            if exp is None:
                raise NotFound(f"No experiment named or numbered {sel!r} in {self.description}")
            found.append(exp)
        return found

    def runs(self, experiment: Experiment) -> list[Run]:
        out: list[Run] = []
        token: str | None = None
        while True:
            page = self.store.search_runs([experiment.id], view="all", max_results=1000, page_token=token)
            out.extend(page.items)
            token = page.next_page_token
            if not token:
                return out

    def load(self, run: Run) -> RunData:
        return RunData(run, {k: self.store.get_metric_history(run.id, k) for k in sorted(run.metrics)})

    def artifact_files(self, run: Run, skipped: list[str]) -> list[tuple[str, int | None]]:
        if not run.artifact_uri:
            return []
        try:
            with self.store.artifact_repository(run) as repo:
                files = list(_walk(repo, ""))
                skipped.extend(f"run {run.id}: {why}" for why in getattr(repo, "skipped", ()))
                return files
        except NotFound:
            return []

    def open_artifact(self, run: Run, path: str) -> Iterator[bytes]:
        with self.store.artifact_repository(run) as repo, repo.open(path) as stream:
            yield from stream.chunks(CHUNK)

    def trace(self, trace_id: str, experiment_id: str = ""):
        return self.store.get_trace(trace_id)

    def trace_ids(self, experiment: Experiment) -> list[str]:
        if not getattr(self.store, "supports_traces", False):
            return []
        out: list[str] = []
        token: str | None = None
        while True:
            page = self.store.search_traces([experiment.id], max_results=500, page_token=token)
            out.extend(t.trace_id for t in page)
            token = page.next_page_token
            if not token:
                return out


def _walk(repo, path: str):
    for entry in repo.list(path):
        if entry.is_dir:
            yield from _walk(repo, entry.path)
        else:
            yield entry.path, entry.size


def _id_order(experiment_id: str):
    return (0, int(experiment_id), "") if experiment_id.isdigit() else (1, 0, experiment_id)


class DirSource:
    """Reads an export directory (format in store.transfer_format)."""

    def __init__(self, root: str | os.PathLike):
        self.dir = ExportDir(root)
        self.dir.check_manifest()
        self.description = str(self.dir.root)
        self._exp_of: dict[str, str] = {}

    def skipped(self) -> list[str]:
        return []

    def experiments(self, selectors: Sequence[str]) -> list[Experiment]:
        all_exps = [experiment_from_json(read_json(self.dir.experiment_dir(i) / EXPERIMENT_JSON))
                    for i in self.dir.experiment_ids()]
        if not selectors:
            return all_exps
        out = []
        for sel in selectors:
            match = next((e for e in all_exps if e.name == sel), None) or next((e for e in all_exps if e.id == sel), None)
            if match is None:
                raise NotFound(f"No experiment named or numbered {sel!r} in the export {self.description}")
            out.append(match)
        return out

    def runs(self, experiment: Experiment) -> list[Run]:
        out = []
        for run_id in self.dir.run_ids(experiment.id):
            out.append(run_from_json(read_json(self.dir.run_dir(experiment.id, run_id) / RUN_JSON)))
        return out

    def load(self, run: Run) -> RunData:
        return RunData(run, read_metrics_csv(self.dir.run_dir(run.experiment_id, run.id) / METRICS_CSV))

    def artifact_files(self, run: Run, skipped: list[str]) -> list[tuple[str, int | None]]:
        """The run's artifact files under the export directory. A symlink is followed only
        when its target stays inside the export directory; one that leaves it (an `id_rsa`
        linked into `artifacts/`) or cannot be resolved is named in `skipped`, never read.
        Symlinked folders are not descended into (a loop, or a second copy of a tree)."""
        base = self.dir.run_dir(run.experiment_id, run.id) / ARTIFACTS_DIR
        if not base.is_dir() or base.is_symlink():
            return []
        out = []
        for folder, dirs, files in os.walk(base, onerror=lambda exc: skipped.append(
                f"run {run.id}: artifact folder {exc.filename}: unreadable ({exc.strerror or exc})")):
            for name in sorted(dirs):
                if os.path.islink(os.path.join(folder, name)):
                    skipped.append(f"run {run.id}: {os.path.join(folder, name)}: symlinked folder not followed")
            for name in files:
                path = os.path.join(folder, name)
                why = self._why_not_copied(path)
                if why:
                    skipped.append(f"run {run.id}: {path}: {why}")
                    continue
                out.append((Path(path).relative_to(base).as_posix(), os.stat(path).st_size))
        return sorted(out)

    def _why_not_copied(self, path: str) -> str | None:
        """Why an artifact file of the export is left out, or None to copy it."""
        if os.path.islink(path):
            target = os.path.realpath(path)
            if not _inside(target, os.path.realpath(self.dir.root)):
                return f"symlink to {target}, outside the export directory: not copied"
        try:
            mode = os.stat(path).st_mode
        except OSError as exc:
            return f"unreadable ({exc.strerror or exc})"
        if not stat.S_ISREG(mode):
            return "not a regular file (a FIFO, device, socket or broken link)"
        return None

    def trace_ids(self, experiment: Experiment) -> list[str]:
        folder = self.dir.experiment_dir(experiment.id) / "traces"
        return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []

    def trace(self, trace_id: str, experiment_id: str = ""):
        return trace_from_json(read_json(self.dir.trace_file(experiment_id, trace_id)))

    def open_artifact(self, run: Run, path: str) -> Iterator[bytes]:
        full = self.dir.run_dir(run.experiment_id, run.id) / ARTIFACTS_DIR / path
        # checked again at open: a link swapped in after the listing must not leak either
        if not _inside(os.path.realpath(full), os.path.realpath(self.dir.root)):
            raise UnsafePath(f"Refusing {full}: it resolves outside the export directory")
        with open(full, "rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


# -- sinks -------------------------------------------------------------------------------------


@dataclass
class Existing:
    """A run already at the destination: its id there and its fingerprint."""

    id: str
    fingerprint: str
    run: Run | None = None


class StoreSink:
    """Writes into a Store. Keeps ids and times where the backend can choose them."""

    def __init__(self, store: Store):
        """Raises ReadOnlyError up front when the store refuses writes (opened read-only, or
        a database whose schema tracktui does not know): every run would fail otherwise."""
        if store.read_only_reason:
            raise ReadOnlyError(f"Cannot copy into {store.display_uri}: {store.read_only_reason}")
        self.store = store
        self.description = store.display_uri
        from ..uris import uri_scheme

        self.keeps_ids = uri_scheme(store.display_uri) not in ("http", "https")  # REST picks ids
        # Two runs logging the same new dataset at once race on MLflow's (experiment, name,
        # digest) key: the tracking server answers one of them with a UNIQUE failure.
        self._inputs_lock = threading.Lock()

    def experiment(self, source: Experiment, name: str, report: TransferReport) -> str:
        exp = self.store.get_experiment_by_name(name)
        if exp is not None:
            if exp.lifecycle_stage == "deleted" and source.lifecycle_stage == "active":
                self.store.restore_experiment(exp.id)
                exp = self.store.get_experiment(exp.id)
            if exp.lifecycle_stage == "active":  # tags set at the source since the last copy
                for key, value in source.tags.items():
                    if exp.tags.get(key) != value:
                        self.store.set_experiment_tag(exp.id, key, value)
            return exp.id
        exp_id = self.store.create_experiment(name, tags=dict(source.tags))
        try:
            self.store.set_experiment_times(
                exp_id, creation_time=source.creation_time, last_update_time=source.last_update_time
            )
        except ReadOnlyError:
            if source.creation_time is not None:
                self.store.set_experiment_tag(exp_id, SOURCE_CREATION_TAG, str(source.creation_time))
            self.store.set_experiment_tag(exp_id, SOURCE_EXPERIMENT_TAG, source.id)
        return exp_id

    def existing(self, experiment_id: str) -> dict[str, Existing]:
        out: dict[str, Existing] = {}
        token = None
        while True:
            page = self.store.search_runs([experiment_id], view="all", max_results=1000, page_token=token)
            for run in page:
                source_id = run.id if self.keeps_ids else run.tags.get(SOURCE_RUN_TAG)
                if source_id:
                    out[source_id] = Existing(run.id, fingerprint(run), run)
            token = page.next_page_token
            if not token:
                return out

    def find_run(self, source_id: str) -> Existing | None:
        """A run with this id anywhere at the destination (id-keeping stores only)."""
        if not self.keeps_ids:
            return None
        try:
            run = self.store.get_run(source_id)
        except (NotFound, InvalidValue):
            return None
        return Existing(run.id, fingerprint(run), run)

    def write_run(self, experiment_id: str, data: RunData, parent: str | None, existing: Existing | None) -> tuple[str, bool]:
        run = data.run
        tags = {k: v for k, v in run.tags.items() if k != PARENT_RUN_TAG}
        if parent:
            tags[PARENT_RUN_TAG] = parent
        if existing is None:
            first_tags = {} if self.keeps_ids else {SOURCE_RUN_TAG: run.id}
            created = self.store.create_run(
                experiment_id, name=run.name or tags.get(RUN_NAME_TAG) or None, start_time=run.start_time,
                user_id=run.user_id or None, tags=first_tags, run_id=run.id if self.keeps_ids else None,
            )
            if not self.keeps_ids:
                tags[SOURCE_RUN_TAG] = run.id
                if run.start_time is not None:
                    tags[SOURCE_START_TAG] = str(run.start_time)
                if run.end_time is not None:
                    tags[SOURCE_END_TAG] = str(run.end_time)
            dest, have_params, have_tags, have_points = created.id, {}, dict(created.tags), {}
            status, end_time, stage = created.status, created.end_time, "active"
            have_datasets: set[tuple[str, str]] = set()
            # create_run adds the tags mlflow's client sets (`mlflow.user`, `mlflow.runName`);
            # a copy carries exactly the source's tags, so drop what the source did not have.
            for key in [k for k in have_tags if k not in tags and k not in first_tags]:
                self.store.delete_tag(dest, key)
                del have_tags[key]
        else:
            dest, current = existing.id, existing.run or self.store.get_run(existing.id)
            have_params, have_tags = dict(current.params), dict(current.tags)
            status, end_time, stage = current.status, current.end_time, current.lifecycle_stage
            have_datasets = {(i.dataset.name, i.dataset.digest) for i in current.inputs.dataset_inputs}
            if stage == "deleted":
                self.store.restore_runs([dest])
            have_points = {
                k: Counter(_point_key(p) for p in self.store.get_metric_history(dest, k))
                for k in data.histories if k in current.metrics
            }
        params = {k: v for k, v in run.params.items() if k not in have_params}
        new_tags = {k: v for k, v in tags.items() if have_tags.get(k) != v}
        points = []
        for key, history in data.histories.items():
            have = have_points.get(key, Counter())
            for p in history:
                pk = _point_key(p)
                if have[pk]:
                    have[pk] -= 1
                else:
                    points.append((key, p))
        wrote = existing is None
        if params or new_tags:  # apart from metrics: a REST batch holds at most 1000 entities in all
            self.store.log_batch(dest, (), params, new_tags)
            wrote = True
        for chunk in chunked(points, METRICS_PER_WRITE):
            self.store.log_batch(dest, chunk)
            wrote = True
        if status != run.status or end_time != run.end_time:
            self.store.update_run(
                dest, status=run.status if status != run.status else None,
                end_time=run.end_time if end_time != run.end_time else None,
            )
            wrote = True
        datasets = [i for i in run.inputs.dataset_inputs if (i.dataset.name, i.dataset.digest) not in have_datasets]
        if datasets:  # while the run is active: a deleted run takes no inputs
            with self._inputs_lock:
                self.store.log_inputs(dest, datasets)
            wrote = True
        if run.lifecycle_stage == "deleted":
            self.store.delete_runs([dest])
            wrote = wrote or stage != "deleted"
        return dest, wrote

    def artifact_target(self, dest_run_id: str):
        """A callable writing one artifact file of the destination run, or None if this
        destination's artifact store cannot be written (the caller warns)."""
        run = self.store.get_run(dest_run_id)
        uri = run.artifact_uri or ""
        from ..artifacts import artifact_scheme
        from ..artifacts.local import local_path_of

        if artifact_scheme(uri) == "file":
            return _LocalTarget(local_path_of(uri))
        upload = getattr(self.store, "upload_artifact", None)
        if upload is None:
            return None
        try:
            with self.store.artifact_repository(run) as repo:
                present = dict(_walk(repo, ""))
        except NotFound:
            present = {}
        return _UploadTarget(upload, dest_run_id, present)

    def trace_ids(self, experiment_id: str) -> set[str]:
        """Ids of the traces already in the destination experiment (skipped without a read)."""
        if not getattr(self.store, "supports_traces", False):
            return set()
        out: set[str] = set()
        token: str | None = None
        while True:
            page = self.store.search_traces([experiment_id], max_results=500, page_token=token)
            out.update(t.trace_id for t in page)
            token = page.next_page_token
            if not token:
                return out

    def import_trace(self, trace, experiment_id: str):
        return self.store.import_trace(trace, experiment_id)

    def make_writable(self, experiment_id: str) -> None:
        """A deleted experiment (copied from a deleted source) takes no runs: restore it for now."""
        if self.store.get_experiment(experiment_id).lifecycle_stage == "deleted":
            self.store.restore_experiment(experiment_id, run_ids=())  # its runs stay as they are

    def finish_experiment(self, experiment_id: str, source: Experiment) -> None:
        if source.lifecycle_stage == "deleted":
            if self.store.get_experiment(experiment_id).lifecycle_stage != "deleted":
                self.store.delete_experiment(experiment_id)

    def close(self) -> None:
        pass


class _UploadTarget:
    """Uploads artifact files through the destination store; files already there with the same
    size are taken as copied (resume)."""

    def __init__(self, upload, run_id: str, present: dict[str, int | None]):
        self.upload, self.run_id, self.present = upload, run_id, present

    def exists(self, path: str, size: int | None) -> bool:
        return path in self.present and size is not None and self.present[path] == size

    def __call__(self, path: str, size: int | None, chunks: Iterator[bytes]) -> int:
        return self.upload(self.run_id, path, chunks)


class _LocalTarget:
    """Writes artifact files under a local directory; a file already there with the same size
    is taken as copied (resume)."""

    def __init__(self, root: Path):
        self.root = root

    def exists(self, path: str, size: int | None) -> bool:
        target = self.root / path
        return target.is_file() and size is not None and target.stat().st_size == size

    def __call__(self, path: str, size: int | None, chunks: Iterator[bytes]) -> int:
        from ..artifacts.safety import clean_relative_path

        target = self.root / clean_relative_path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tracktui-part")
        written = 0
        try:
            with open(tmp, "wb") as handle:
                for chunk in chunks:
                    handle.write(chunk)
                    written += len(chunk)
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return written


class DirSink:
    """Writes an export directory. A run's run.json is written last: its presence means the
    run is complete."""

    keeps_ids = True

    def __init__(self, root: str | os.PathLike, source_description: str):
        self.dir = ExportDir(root)
        self.description = str(self.dir.root)
        self._source = source_description
        if (self.dir.root / MANIFEST).exists():
            self.dir.check_manifest()

    def experiment(self, source: Experiment, name: str, report: TransferReport) -> str:
        if not (self.dir.root / MANIFEST).exists():  # created on first use: a failed start leaves nothing
            self.dir.root.mkdir(parents=True, exist_ok=True)
            write_json(self.dir.root / MANIFEST, manifest_json(self._source, int(time.time() * 1000)))
        data = experiment_to_json(source)
        data["name"] = name
        write_json(self.dir.experiment_dir(source.id) / EXPERIMENT_JSON, data)
        return source.id

    def existing(self, experiment_id: str) -> dict[str, Existing]:
        out = {}
        for run_id in self.dir.run_ids(experiment_id):
            data = read_json(self.dir.run_dir(experiment_id, run_id) / RUN_JSON)
            out[run_id] = Existing(run_id, data.get("fingerprint", ""))
        return out

    def find_run(self, source_id: str) -> Existing | None:
        return None

    def write_run(self, experiment_id: str, data: RunData, parent: str | None, existing: Existing | None) -> tuple[str, bool]:
        folder = self.dir.run_dir(experiment_id, data.run.id)
        (folder / RUN_JSON).unlink(missing_ok=True)  # incomplete until rewritten
        write_metrics_csv(folder / METRICS_CSV, data.histories)
        return data.run.id, True

    def complete_run(self, experiment_id: str, run: Run, files: list[str]) -> None:
        write_json(self.dir.run_dir(experiment_id, run.id) / RUN_JSON, run_to_json(run, fingerprint(run), files))

    def artifact_target(self, dest_run_id: str, experiment_id: str = ""):
        return _LocalTarget(self.dir.run_dir(experiment_id, dest_run_id) / ARTIFACTS_DIR)

    def make_writable(self, experiment_id: str) -> None:
        pass

    def finish_experiment(self, experiment_id: str, source: Experiment) -> None:
        pass

    def close(self) -> None:
        pass


# -- the engine --------------------------------------------------------------------------------


@dataclass
class TransferOptions:
    experiments: Sequence[str] = ()  # names or ids; empty: every experiment
    run_ids: Sequence[str] = ()  # only these runs (and nothing else)
    since: int | None = None  # only runs started or ended at/after this epoch ms (or running)
    experiment_name: str | None = None  # rename the (single) experiment at the destination
    artifacts: bool = True
    traces: bool = True  # copy the experiments' traces too (ids kept)
    logged_models: bool = True  # copy the experiments' logged models too (store.transfer.models)
    #: registered models and prompts: "all", "related" (registered from the copied runs),
    #: "none", or "auto": all when no experiment is named, else none (store.transfer.registry)
    registry: str = "auto"
    workers: int = DEFAULT_WORKERS
    mapping_file: Path | None = None  # where to merge old→new ids (always when ids change)


def transfer(source, sink, options: TransferOptions | None = None,
             progress: Callable[[TransferEvent], None] | None = None) -> TransferReport:
    """Copy the selected experiments and runs from `source` to `sink`; see the module docstring."""
    options = options or TransferOptions()
    report = TransferReport(ids_kept=sink.keeps_ids)
    experiments = source.experiments(options.experiments)
    if options.experiment_name and len(experiments) != 1:
        raise InvalidValue("--experiment-name needs exactly one experiment to import")
    plan = []
    for exp in experiments:
        runs = [r for r in source.runs(exp) if _selected(r, options)]
        plan.append((exp, _parents_first(runs)))
    total = sum(len(runs) for _, runs in plan)
    planned = {r.id for _, runs in plan for r in runs}
    for run_id in options.run_ids:
        if run_id not in planned:
            report.failed[run_id] = f"no such run in the selected experiments of {source.description}"
    done = [0]
    lock = threading.Lock()

    def tick(outcome: str, run_id: str, exp_name: str) -> None:
        with lock:
            done[0] += 1
            event = TransferEvent(outcome, total, done[0], run_id, exp_name)
        if progress:
            progress(event)

    if progress:
        progress(TransferEvent("planned", total, 0))
    workers = max(1, options.workers)
    run_pool = ThreadPoolExecutor(workers, thread_name_prefix="tracktui-transfer")
    file_pool = ThreadPoolExecutor(workers, thread_name_prefix="tracktui-artifacts")
    try:
        _run_plan(plan, source, sink, report, options, run_pool, file_pool, tick)
    except BaseException:  # interrupted: queued work is dropped, a re-run resumes
        run_pool.shutdown(wait=False, cancel_futures=True)
        file_pool.shutdown(wait=False, cancel_futures=True)
        raise
    run_pool.shutdown()
    file_pool.shutdown()
    if options.registry != "none" and not options.run_ids:  # --runs: those runs and nothing else
        from .registry import copy_registry

        copy_registry(source, sink, report, options, {r.id: r.artifact_uri or "" for _, runs in plan for r in runs})
    report.skipped[:0] = source.skipped()  # read while planning and copying: listed first
    if options.mapping_file is not None and (report.run_ids or report.experiments):
        _merge_mapping(options.mapping_file, source.description, sink.description, report)
    return report


def _run_plan(plan, source, sink, report, options, run_pool, file_pool, tick) -> None:
    """Experiments in order; within one, runs level by level (parents first) on the pool."""
    for exp, runs in plan:
        if options.run_ids and not runs:
            continue
        name = options.experiment_name or exp.name
        try:
            dest_exp = sink.experiment(exp, name, report)
        except StoreError as exc:
            for run in runs:
                report.failed[run.id] = f"experiment {exp.name!r}: {exc.message}"
                tick("failed", run.id, exp.name)
            continue
        report.experiments[exp.id] = dest_exp
        existing = sink.existing(dest_exp)
        if any(r.id not in existing or existing[r.id].fingerprint != fingerprint(r) for r in runs):
            try:
                sink.make_writable(dest_exp)
            except StoreError as exc:
                report.warnings.append(f"experiment {exp.name!r}: {exc.message}")
        for level in _levels(runs):
            futures = [
                (run, run_pool.submit(_copy_run, source, sink, dest_exp, run, existing, report, options, file_pool))
                for run in level
            ]
            for run, future in futures:
                try:
                    outcome, dest_id = future.result()
                except StoreError as exc:
                    outcome, dest_id = "failed", None
                    report.failed[run.id] = exc.message
                except OSError as exc:
                    outcome, dest_id = "failed", None
                    report.failed[run.id] = f"{exc.strerror or exc}"
                if dest_id:
                    report.run_ids[run.id] = dest_id
                    existing.setdefault(run.id, Existing(dest_id, ""))
                    getattr(report, outcome).append(run.id)
                tick(outcome, run.id, exp.name)
        if options.traces and not options.run_ids:  # --runs: those runs and nothing else
            _copy_traces(source, sink, exp, dest_exp, report)
        if options.logged_models and not options.run_ids:
            from .models import copy_logged_models

            copy_logged_models(source, sink, exp, dest_exp, report, options)
        try:
            sink.finish_experiment(dest_exp, exp)
        except StoreError as exc:
            report.warnings.append(f"experiment {exp.name!r}: {exc.message}")


def _copy_run(source, sink, dest_exp: str, run: Run, existing: dict[str, Existing], report: TransferReport,
              options: TransferOptions, file_pool: ThreadPoolExecutor) -> tuple[str, str]:
    have = existing.get(run.id) or sink.find_run(run.id)
    if have is not None and have.run is not None and have.run.experiment_id != dest_exp:
        raise InvalidValue(f"run {run.id} already exists at the destination in experiment {have.run.experiment_id}")
    changed = have is None or have.fingerprint != fingerprint(run)
    parent_src = run.parent_run_id or run.tags.get(PARENT_RUN_TAG)
    parent = None
    if parent_src:
        known = report.run_ids.get(parent_src) or (existing[parent_src].id if parent_src in existing else None)
        parent = known or parent_src
    wrote = False
    dest_id = have.id if have else run.id
    if changed:
        dest_id, wrote = sink.write_run(dest_exp, source.load(run), parent, have)
    if not isinstance(sink, DirSink):
        _report_model_links(run, report)
    copied, files = _copy_artifacts(source, sink, run, dest_id, dest_exp, report, options, file_pool)
    wrote = wrote or copied > 0
    if isinstance(sink, DirSink) and changed:
        sink.complete_run(dest_exp, run, files)
    if have is None:
        return "created", dest_id
    return ("updated" if wrote else "unchanged"), dest_id


def _report_model_links(run: Run, report: TransferReport) -> None:
    """Model inputs and outputs link runs to logged models; the links are not carried (the
    models are: store.transfer.models): list each."""
    for model in run.inputs.model_inputs:
        report.skipped.append(f"run {run.id}: model input {model.model_id} (run-model links are not copied)")
    for output in run.outputs.model_outputs:
        report.skipped.append(f"run {run.id}: model output {output.model_id} (run-model links are not copied)")


def _copy_artifacts(source, sink, run, dest_id, dest_exp, report, options, pool) -> tuple[int, list[str]]:
    """Copy the run's artifact files not yet at the destination, on the file pool; returns how
    many were copied and every file's path."""
    if not options.artifacts:
        return 0, []
    skipped: list[str] = []
    try:
        files = _copyable(run, source.artifact_files(run, skipped), skipped)
    except StoreError as exc:
        report.warnings.append(f"run {run.id}: artifacts not listed: {exc.message}")
        return 0, []
    finally:
        with _report_lock:
            report.skipped.extend(skipped)
    if not files:
        return 0, []
    target = sink.artifact_target(dest_id, dest_exp) if isinstance(sink, DirSink) else sink.artifact_target(dest_id)
    if target is None:
        raise ReadOnlyError(f"cannot write artifacts to {sink.description}")
    exists = getattr(target, "exists", None)
    todo = [(p, s) for p, s in files if not (exists and exists(p, s))]
    results = [pool.submit(target, p, s, _held_to_size(source.open_artifact(run, p), s, p)) for p, s in todo]
    copied = 0
    for f in results:
        written = f.result()
        with _report_lock:
            report.artifact_files += 1
            report.artifact_bytes += written or 0
        copied += 1
    return copied, [p for p, _ in files]


_report_lock = threading.Lock()


def _held_to_size(chunks: Iterator[bytes], size: int | None, path: str) -> Iterator[bytes]:
    """`chunks`, failing once they pass the size the listing gave (a server listing 5 bytes
    must not stream gigabytes into the destination) or end short of it."""
    received = 0
    for chunk in chunks:
        received += len(chunk)
        if size is not None and received > size:
            raise StoreError(f"The source sent more than the {size} bytes its listing gave for {path!r}")
        yield chunk
    if size is not None and received != size:
        raise StoreError(f"The source sent {received} bytes of {path!r}, but its listing said {size}")


def _copyable(run: Run, files: list[tuple[str, int | None]], skipped: list[str]) -> list[tuple[str, int | None]]:
    """The files whose names are safe artifact paths; the others (a tab, CR or ESC in a name
    MLflow accepted) are named in `skipped`, and the rest of the run is still copied."""
    from ..artifacts.safety import clean_relative_path

    out = []
    for path, size in files:
        try:
            clean_relative_path(path)
        except UnsafePath as exc:
            skipped.append(f"run {run.id}: artifact {path!r} not copied: {exc.message}")
            continue
        out.append((path, size))
    return out


def _copy_traces(source, sink, exp: Experiment, dest_exp: str, report: TransferReport) -> None:
    """Traces not yet at the destination, one by one, ids kept: export directories get one
    JSON file each; stores get `Store.import_trace` (store.trace_writes). A trace already
    there is skipped, so a re-run copies only new traces. Its `mlflow.sourceRun` metadata
    follows the run to its destination id."""
    ids = source.trace_ids(exp)
    if not ids:
        return
    if isinstance(sink, DirSink):
        for trace_id in ids:
            target = sink.dir.trace_file(dest_exp, trace_id)
            if target.exists():
                continue
            try:
                write_json(target, trace_to_json(source.trace(trace_id, exp.id)))
                report.traces += 1
            except StoreError as exc:
                report.warnings.append(f"trace {trace_id}: {exc.message}")
        return
    try:
        present = sink.trace_ids(dest_exp)
    except StoreError as exc:
        report.warnings.append(f"experiment {exp.name!r}: {len(ids)} trace(s) not copied: {exc.message}")
        return
    for trace_id in ids:
        if trace_id in present:
            continue
        try:
            trace = source.trace(trace_id, exp.id)
            result = sink.import_trace(_with_run_ids(trace, report.run_ids), dest_exp)
        except StoreError as exc:
            report.warnings.append(f"trace {trace_id}: not copied: {exc.message}")
            continue
        report.warnings.extend(result.notes)
        report.skipped.extend(result.skipped)
        if result.created:
            report.traces += 1


def _with_run_ids(trace, run_ids: dict[str, str]):
    """The trace with its `mlflow.sourceRun` metadata pointing at the run's destination id."""
    from dataclasses import replace

    from ..traces import SOURCE_RUN_METADATA

    source_run = trace.info.metadata.get(SOURCE_RUN_METADATA)
    if not source_run or run_ids.get(source_run, source_run) == source_run:
        return trace
    metadata = {**trace.info.metadata, SOURCE_RUN_METADATA: run_ids[source_run]}
    return replace(trace, info=replace(trace.info, metadata=metadata))


def _selected(run: Run, options: TransferOptions) -> bool:
    if options.run_ids and run.id not in options.run_ids:
        return False
    if options.since is not None:
        started = run.start_time or 0
        ended = run.end_time
        return started >= options.since or ended is None or ended >= options.since
    return True


def _parents_first(runs: list[Run]) -> list[Run]:
    return sorted(runs, key=lambda r: (r.start_time or 0, r.id))


def _levels(runs: list[Run]) -> list[list[Run]]:
    """Runs grouped so each run's parent (if copied too) is in an earlier group."""
    by_id = {r.id: r for r in runs}
    depth: dict[str, int] = {}

    def depth_of(run: Run, seen=()) -> int:
        if run.id in depth:
            return depth[run.id]
        parent = run.parent_run_id or run.tags.get(PARENT_RUN_TAG)
        d = 0
        if parent in by_id and parent not in seen:
            d = depth_of(by_id[parent], seen + (run.id,)) + 1
        depth[run.id] = d
        return d

    levels: dict[int, list[Run]] = {}
    for run in runs:
        levels.setdefault(depth_of(run), []).append(run)
    return [levels[d] for d in sorted(levels)]


def _merge_mapping(path: Path, source: str, dest: str, report: TransferReport) -> None:
    data: dict[str, Any] = {"source": source, "destination": dest, "experiments": {}, "runs": {}}
    if path.exists():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
            if old.get("source") == source and old.get("destination") == dest:
                data["experiments"].update(old.get("experiments") or {})
                data["runs"].update(old.get("runs") or {})
        except ValueError:
            pass
    data["experiments"].update(report.experiments)
    data["runs"].update(report.run_ids)
    write_json(path, data)


# -- front doors -------------------------------------------------------------------------------


def export_experiments(store: Store, directory, options: TransferOptions | None = None, progress=None) -> TransferReport:
    """Write the experiments of `store` to the export directory (created, or updated in place)."""
    return transfer(StoreSource(store), DirSink(directory, store.display_uri), options, progress)


def import_directory(directory, store: Store, options: TransferOptions | None = None, progress=None) -> TransferReport:
    """Write an export directory's experiments and runs into `store`."""
    return transfer(DirSource(directory), StoreSink(store), options, progress)


def copy_between(source: Store, dest: Store, options: TransferOptions | None = None, progress=None) -> TransferReport:
    """Copy experiments and runs from one store to another directly."""
    return transfer(StoreSource(source), StoreSink(dest), options, progress)


def open_destination(uri: str) -> Store:
    """Open a destination store; a `sqlite:///` file that does not exist yet is created as a new
    MLflow store (the way off the legacy file store: copy `mlruns` into `sqlite:///mlflow.db`)."""
    from ..uris import open_store, uri_scheme

    if uri_scheme(uri) == "sqlite":
        path = uri.removeprefix("sqlite:///") if uri.startswith("sqlite:///") else None
        if path and path != ":memory:" and not Path(path).exists():
            from ..sql.init import initialize_sqlite_store

            uri = initialize_sqlite_store(path)
    return open_store(uri)


__all__ = [
    "DirSink", "DirSource", "StoreSink", "StoreSource", "TransferEvent", "TransferOptions", "TransferReport",
    "copy_between", "export_experiments", "fingerprint", "import_directory", "open_destination", "transfer",
]
