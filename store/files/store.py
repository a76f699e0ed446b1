"""The legacy `./mlruns` file store, read directly (no mlflow), tolerant of old and damaged trees.

Answers as mlflow's own FileStore does for the same tree (run names, statuses, lifecycle,
NaN/inf values), with these differences on purpose:

* a corrupt or half-written file (invalid YAML, an empty meta.yaml of a run being created, a
  truncated metric line) is skipped and named in `warnings`; it never aborts a listing;
* trees written by mlflow 1.x/2.x are read even when optional fields are missing;
* 5-field metric lines (logged with a dataset) keep their step;
* search reads only what the filter and order need for every run, and everything else only
  for the runs of the requested page; latest metric values come from the end of the file
  (see files_metrics for the exact rule); a full listing reads each run in one pass and
  keeps it while unchanged (files_rundata), and the next page reuses the previous ordering
  while no run changed.

Writes live in files_writes.FileWrites.
"""

from __future__ import annotations

import logging
import operator
import os
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import islice
from urllib.parse import unquote, urlsplit

from ..base import Store, not_found_experiment, not_found_run
from ..counts import capped, check_at_most
from ..downsample import minmax_indices
from ..errors import InvalidValue, NotFound, StoreError
from ..model import (
    NO_INPUTS,
    NO_OUTPUTS,
    PARENT_RUN_TAG,
    RUN_NAME_TAG,
    VIEW_TYPES,
    Experiment,
    Keys,
    MetricPoint,
    Page,
    Run,
    ViewType,
)
from ..nogc import gc_paused
from ..paging import check_max_results, decode_page_token, encode_page_token
from ..search import (
    experiment_matches,
    parse_experiment_filter,
    parse_experiment_order_by,
    parse_run_filter,
    parse_run_order_by,
    run_matches,
    sort_experiments,
    sort_runs,
)
from .assessments import FileAssessments
from .cache import TreeCache
from .inputs import FileInputs, read_run_inputs
from .layout import (
    META,
    METRICS,
    NON_EXPERIMENT_FOLDERS,
    PARAMS,
    RESERVED_EXPERIMENT_FOLDERS,
    TAGS,
    TRASH,
    decode_value,
    is_run_folder_name,
    is_safe_id,
    iter_key_files,
    key_names,
    key_path,
    list_dirs,
    read_value,
    read_values,
)
from .logged_models import FileLoggedModels
from .meta import MetaError, as_id, as_millis, parse_meta, run_status
from .metrics import LatestCache, read_columns, read_tail
from .registry import FileRegistry
from .registry_writes import FileRegistryWrites
from .rundata import RunData, RunDataCache
from .trace_writes import FileTraceWrites
from .traces import FileTraces
from .writes import FileWrites

log = logging.getLogger(__name__)
# A library never prints: without this, Python's last-resort handler writes warnings to stderr.
log.addHandler(logging.NullHandler())

#: Pauses between attempts to read a run's meta.yaml that is being rewritten (None: give up).
RETRY_DELAYS = (0.02, 0.1, None)
#: At most this many distinct warnings are kept (a huge damaged tree must not eat memory).
MAX_WARNINGS = 500


@dataclass(slots=True)
class RunRef:
    """A run as listed: its meta-only Run, its directory and its experiment's directory."""

    run: Run
    path: str
    experiment_path: str


class FileStore(FileRegistry, FileRegistryWrites, FileLoggedModels, FileTraces, FileAssessments, FileTraceWrites, FileInputs, FileWrites, Store):
    """An `mlruns` directory opened from `file:///path`, `file:path` or a plain path."""

    def __init__(self, uri: str, read_only: bool = False):
        self.root = uri_to_path(uri)
        self.trash = os.path.join(self.root, TRASH)
        self.display_uri = uri
        self.read_only_reason = "the store was opened read-only" if read_only else None
        self._warnings: dict[str, None] = {}
        self._warned_paths: dict[str, set[str]] = {}
        self._lock = threading.Lock()
        self._latest = LatestCache()
        self._cache = TreeCache()
        self._run_data = RunDataCache(self._latest)
        #: run folder -> (its meta.yaml mapping, the Run built from it): reused while the
        #: cache hands back the same mapping, so an unchanged run is the same object
        self._runs_by_meta: dict[str, tuple[dict, Run]] = {}
        #: last ordered result per query, reused by the next page while its input is the same
        self._ordered: dict[tuple, tuple[list[Run], list[RunRef]]] = {}
        if not os.path.isdir(self.root):
            if os.path.exists(self.root):
                raise NotFound(f"{self.root} is not a directory; a file store is an mlruns folder")
            if read_only:
                raise NotFound(f"No mlruns directory at {self.root}")
            self._warn(f"{self.root}: does not exist yet; it will be created on the first write")

    # -- warnings ----------------------------------------------------------------------------

    @property
    def warnings(self) -> tuple[str, ...]:  # type: ignore[override]
        with self._lock:
            return tuple(self._warnings)

    def _warn(self, message: str) -> None:
        """Record a warning; every message starts with the path it is about ("path: what")."""
        path = message.split(": ", 1)[0]
        with self._lock:
            if message in self._warnings or len(self._warnings) >= MAX_WARNINGS:
                return
            self._warnings[message] = None
            self._warned_paths.setdefault(path, set()).add(message)
        log.warning("%s", message)

    def _resolved(self, path: str) -> None:
        """A file that was warned about reads fine now (a live run finished writing it)."""
        with self._lock:
            for message in self._warned_paths.pop(path, ()):
                self._warnings.pop(message, None)

    def _warn_all(self, problems: Iterable[str]) -> None:
        for problem in problems:
            self._warn(problem)

    # -- experiments -------------------------------------------------------------------------

    def search_experiments(
        self,
        filter_string: str | None = None,
        view: ViewType = "active",
        max_results: int = 1000,
        page_token: str | None = None,
        order_by: Sequence[str] = (),
    ) -> Page[Experiment]:
        comparisons = parse_experiment_filter(filter_string)
        order_keys = parse_experiment_order_by(order_by)
        _check_view(view)
        check_max_results(max_results)
        offset = decode_page_token(page_token)
        experiments = [
            exp
            for exp in self._list_experiments(view)
            if not comparisons or experiment_matches(exp, comparisons)
        ]
        return _page(sort_experiments(experiments, order_keys), offset, max_results)

    def get_experiment(self, experiment_id: str) -> Experiment:
        path = self._experiment_path(experiment_id)
        if path is None:
            raise not_found_experiment(experiment_id)
        try:
            return self._load_experiment(str(experiment_id), path)
        except MetaError as exc:
            raise StoreError(
                f"Experiment '{experiment_id}' cannot be read: {os.path.join(path, META)}: {exc}"
            ) from None

    def _experiment_dirs(self, view: ViewType) -> list[tuple[str, str]]:
        """(experiment id, directory) for the view: active ones at the root, deleted in .trash."""
        out: list[tuple[str, str]] = []
        problems: list[str] = []
        if view in ("active", "all"):
            out += [
                (name, path)
                for name, path in list_dirs(self._cache, self.root, problems)
                if name not in NON_EXPERIMENT_FOLDERS and not name.startswith(".")
            ]
        if view in ("deleted", "all"):
            out += [(n, p) for n, p in list_dirs(self._cache, self.trash, problems) if not n.startswith(".")]
        self._warn_all(problems)
        return out

    def _experiment_path(self, experiment_id: str) -> str | None:
        experiment_id = str(experiment_id)
        if not is_safe_id(experiment_id) or experiment_id in NON_EXPERIMENT_FOLDERS:
            return None
        for parent in (self.root, self.trash):
            path = os.path.join(parent, experiment_id)
            if os.path.isdir(path):
                return path
        return None

    def _list_experiments(self, view: ViewType) -> list[Experiment]:
        out = []
        for experiment_id, path in self._experiment_dirs(view):
            meta_path = os.path.join(path, META)
            try:
                out.append(self._load_experiment(experiment_id, path))
            except MetaError as exc:
                self._warn(f"{meta_path}: experiment skipped: {exc}")
                continue
            if self._warned_paths and meta_path in self._warned_paths:
                self._resolved(meta_path)
        return out

    def _load_experiment(self, experiment_id: str, path: str) -> Experiment:
        meta = self._read_meta(os.path.join(path, META))
        recorded = as_id(meta.get("experiment_id"))
        if recorded is not None and recorded != experiment_id:
            raise MetaError(f"experiment_id {recorded!r} does not match the folder name")
        problems: list[str] = []
        tags = read_values(self._cache, os.path.join(path, TAGS), None, problems)
        self._warn_all(problems)
        name = meta.get("name")
        return Experiment(
            id=experiment_id,
            name="" if name is None else str(name),
            artifact_location=_opt_str(meta.get("artifact_location")),
            lifecycle_stage=str(meta.get("lifecycle_stage") or "active"),
            creation_time=as_millis(meta.get("creation_time")),
            last_update_time=as_millis(meta.get("last_update_time")),
            tags=tags,
        )

    # -- runs --------------------------------------------------------------------------------

    @gc_paused()  # a listing builds ~17 lasting objects a run, none in a cycle (store/nogc.py)
    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        order_by: Sequence[str] = (),
        view: ViewType = "active",
        max_results: int = 100,
        page_token: str | None = None,
        include_keys: Keys | None = None,
    ) -> Page[Run]:
        comparisons = parse_run_filter(filter_string)
        order_keys = parse_run_order_by(order_by)
        _check_view(view)
        check_max_results(max_results)
        offset = decode_page_token(page_token)
        needed = _needed_keys(comparisons, order_keys)  # what every run's filter/order reads
        refs = self._list_runs(experiment_ids, view)
        if needed is not None:
            refs = [
                RunRef(self._with_data(ref, needed, parent_link=False, with_inputs=False), ref.path, ref.experiment_path)
                for ref in refs
            ]
        query = (tuple(map(str, experiment_ids)), filter_string, tuple(order_by or ()), view)
        inputs = [ref.run for ref in refs]
        ordered = self._reusable_order(query, inputs)
        if ordered is None:
            ordered = self._filter_and_sort(refs, comparisons, order_keys)
            if len(self._ordered) >= 16:
                self._ordered.clear()
            if not any(c.kind == "dataset" for c in comparisons):  # datasets are not in `inputs`
                self._ordered[query] = (inputs, ordered)
        page = _page(ordered, offset, max_results)
        items = tuple(self._with_data(ref, include_keys) for ref in page.items)
        return Page(items, page.next_page_token)

    def _reusable_order(self, query: tuple, inputs: list[Run]) -> list[RunRef] | None:
        """The ordered runs of the same query computed before, when every run it was computed
        from is the same (an unchanged run is the very same object: one identity check each;
        runs loaded with filter/order data compare by value). Page N+1 then costs its page."""
        hit = self._ordered.get(query)
        if hit is None or len(hit[0]) != len(inputs):
            return None
        if all(a is b or a == b for a, b in zip(hit[0], inputs)):
            return hit[1]
        return None

    def _filter_and_sort(self, refs: list[RunRef], comparisons, order_keys) -> list[RunRef]:
        if comparisons:
            wants_datasets = any(c.kind == "dataset" for c in comparisons)
            refs = [
                ref
                for ref in refs
                if run_matches(
                    ref.run, comparisons, self._run_datasets(ref) if wants_datasets else None
                )
            ]
        by_identity = {id(ref.run): ref for ref in refs}
        return [by_identity[id(run)] for run in sort_runs([r.run for r in refs], order_keys)]

    def get_run(self, run_id: str) -> Run:
        ref = self._find_run(run_id)
        return self._with_data(ref, None)

    def _find_run(self, run_id: str) -> RunRef:
        run_id = str(run_id)
        if not is_safe_id(run_id):
            raise not_found_run(run_id)
        for experiment_id, experiment_path in self._experiment_dirs("all"):
            path = os.path.join(experiment_path, run_id)
            if run_id in RESERVED_EXPERIMENT_FOLDERS or not os.path.isdir(path):
                continue
            for delay in RETRY_DELAYS:
                try:
                    run = self._load_run_meta(experiment_id, path)
                    break
                except MetaError as exc:
                    # mlflow rewrites meta.yaml in place: a live run's file can be caught
                    # empty or half-written for an instant. Retry briefly, as mlflow does.
                    if delay is None:
                        raise StoreError(
                            f"Run '{run_id}' cannot be read: {os.path.join(path, META)}: {exc}"
                        ) from None
                    time.sleep(delay)
            return RunRef(run, path, experiment_path)
        raise not_found_run(run_id)

    def _list_runs(self, experiment_ids: Sequence[str], view: ViewType) -> list[RunRef]:
        refs: list[RunRef] = []
        for experiment_id in dict.fromkeys(str(e) for e in experiment_ids):
            experiment_path = self._experiment_path(experiment_id)
            if experiment_path is None:
                continue
            problems: list[str] = []
            for name, path in list_dirs(self._cache, experiment_path, problems):
                if not is_run_folder_name(name):
                    continue
                try:
                    run = self._load_run_meta(experiment_id, path)
                except MetaError as exc:
                    self._warn(f"{path}/{META}: run skipped: {exc}")
                    continue
                if self._warned_paths and f"{path}/{META}" in self._warned_paths:
                    self._resolved(f"{path}/{META}")
                if view == "all" or run.lifecycle_stage == view:
                    refs.append(RunRef(run, path, experiment_path))
            self._warn_all(problems)
        return refs

    def _load_run_meta(self, experiment_id: str, path: str) -> Run:
        """The run as its meta.yaml describes it (no params, metrics or tags yet)."""
        meta = self._read_meta(f"{path}/{META}")
        known = self._runs_by_meta.get(path)
        if known is not None and known[0] is meta and known[1].experiment_id == experiment_id:
            return known[1]
        run = self._run_from_meta(experiment_id, path, meta)
        if meta.get("run_name"):  # else the name came from a tag file, which may change
            if len(self._runs_by_meta) >= 500_000:
                self._runs_by_meta.clear()
            self._runs_by_meta[path] = (meta, run)
        return run

    def _run_from_meta(self, experiment_id: str, path: str, meta: dict) -> Run:
        folder = os.path.basename(path)
        run_id = as_id(meta.get("run_id") or meta.get("run_uuid")) or folder
        if run_id != folder:
            raise MetaError(f"run_id {run_id!r} does not match the folder name")
        recorded = as_id(meta.get("experiment_id"))
        if recorded is not None and recorded != experiment_id:
            raise MetaError(f"experiment_id {recorded!r} does not match the experiment folder")
        name = meta.get("run_name")
        if not name:  # runs logged by mlflow <= 1.29 keep their name only in the tag
            try:
                name = read_value(os.path.join(path, TAGS, RUN_NAME_TAG))
            except OSError:
                name = ""
        user = meta.get("user_id")
        return Run(
            id=run_id,
            name=str(name),
            experiment_id=experiment_id,
            status=run_status(meta.get("status")),
            user_id=None if user is None else str(user),
            start_time=as_millis(meta.get("start_time")),
            end_time=as_millis(meta.get("end_time")),
            lifecycle_stage=str(meta.get("lifecycle_stage") or "active"),
            artifact_uri=_opt_str(meta.get("artifact_uri")),
        )

    def _with_data(self, ref: RunRef, keys: Keys | None, parent_link: bool = True, with_inputs: bool = True) -> Run:
        """The run with its params, latest metrics and tags: all, or just `keys` (plus the
        parent run id unless `parent_link` is False), and its inputs and outputs unless
        `with_inputs` is False."""
        problems: list[str] = []
        path = ref.path
        cache = self._cache
        data: RunData | None = None
        if keys is None and not self._warned_under(path):
            data = self._run_data.get(path) or self._run_data.read(path)
        if data is not None:  # the fast path: every file of the run read fine
            params, tags, metrics = dict(data.params), dict(data.tags), dict(data.metrics)
        else:
            if keys is None:  # params are written once: one stat per folder, not per file
                params = cache.write_once_values(f"{path}/{PARAMS}", decode_value, problems)
            else:
                params = read_values(cache, f"{path}/{PARAMS}", keys.params, problems)
            tags = read_values(cache, f"{path}/{TAGS}", None if keys is None else keys.tags, problems)
            metrics = self._latest_metrics(
                f"{path}/{METRICS}", None if keys is None else keys.metrics, problems
            )
            self._warn_all(problems)
        parent = tags.get(PARENT_RUN_TAG)
        if parent is None and parent_link and keys is not None and PARENT_RUN_TAG not in keys.tags:
            try:
                parent = cache.content(f"{path}/{TAGS}/{PARENT_RUN_TAG}", decode_value)
            except OSError:
                parent = None
        run = ref.run
        inputs, outputs = (
            read_run_inputs(self._cache, path, ref.experiment_path, self._warn) if with_inputs else (NO_INPUTS, NO_OUTPUTS)
        )
        return Run(
            id=run.id,
            name=run.name,
            experiment_id=run.experiment_id,
            status=run.status,
            user_id=run.user_id,
            start_time=run.start_time,
            end_time=run.end_time,
            lifecycle_stage=run.lifecycle_stage,
            artifact_uri=run.artifact_uri,
            parent_run_id=parent,
            params=params,
            metrics=metrics,
            tags=tags,
            inputs=inputs,
            outputs=outputs,
        )

    def _warned_under(self, path: str) -> bool:
        """True when a file of this run folder was warned about (the general path then reads
        it, and clears the warning once the file reads fine)."""
        if not self._warned_paths:
            return False
        inside = path + "/"
        with self._lock:
            return any(p.startswith(inside) for p in self._warned_paths)

    def _latest_metrics(
        self, base: str, keys: Sequence[str] | None, problems: list[str]
    ) -> dict[str, MetricPoint]:
        if keys is None:
            pairs: Iterable[tuple[str, str]] = iter_key_files(self._cache, base, problems)
        else:
            pairs = ((k, p) for k in keys if (p := key_path(base, k)) is not None)
        out: dict[str, MetricPoint] = {}
        for key, path in pairs:
            try:
                point, found = self._latest.latest(path)
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                continue
            except OSError as exc:
                problems.append(f"{path}: unreadable metric file ({exc.strerror or exc})")
                continue
            if found:
                problems.extend(f"{path}: {p}" for p in found)
            elif self._warned_paths and path in self._warned_paths:
                self._resolved(path)
            if point is not None:
                out[key] = point
        return out

    def _run_datasets(self, ref: RunRef) -> list[tuple[str, str, str | None]]:
        """(name, digest, context) of the datasets the run logged as inputs."""
        inputs, _ = read_run_inputs(self._cache, ref.path, ref.experiment_path, self._warn)
        return [(i.dataset.name, i.dataset.digest, i.context) for i in inputs.dataset_inputs]

    def _read_meta(self, path: str) -> dict:
        """A meta.yaml's mapping (cached while unchanged). Raises MetaError."""
        try:
            return self._cache.content(path, parse_meta)
        except FileNotFoundError:
            raise MetaError("missing meta.yaml") from None
        except OSError as exc:
            raise MetaError(f"unreadable meta.yaml ({exc.strerror or exc})") from None

    # -- counts, keys, histories -------------------------------------------------------------

    def list_keys(self, experiment_ids: Sequence[str]) -> Keys:
        metrics: set[str] = set()
        params: set[str] = set()
        tags: set[str] = set()
        problems: list[str] = []
        for ref in self._list_runs(experiment_ids, "all"):
            metrics.update(key_names(self._cache, f"{ref.path}/{METRICS}", problems))
            params.update(key_names(self._cache, f"{ref.path}/{PARAMS}", problems))
            tags.update(key_names(self._cache, f"{ref.path}/{TAGS}", problems))
        self._warn_all(problems)
        return Keys(tuple(sorted(metrics)), tuple(sorted(params)), tuple(sorted(tags)))

    def count_runs(self, experiment_id: str, view: ViewType = "active", at_most: int | None = None) -> int:
        _check_view(view)
        check_at_most(at_most)
        return capped(len(self._list_runs([experiment_id], view)), at_most)

    def count_runs_by_experiment(
        self, experiment_ids: Sequence[str], view: ViewType = "active", at_most: int | None = None
    ) -> dict[str, int]:
        _check_view(view)
        check_at_most(at_most)
        counts = {str(e): 0 for e in experiment_ids}
        for ref in self._list_runs(list(counts), view):
            counts[ref.run.experiment_id] += 1
        return {eid: capped(n, at_most) for eid, n in counts.items()}

    def get_metric_history(
        self, run_id: str, key: str, max_points: int | None = None
    ) -> list[MetricPoint]:
        ref = self._find_run(run_id)
        path = key_path(os.path.join(ref.path, METRICS), key)
        if path is None or not os.path.isfile(path):
            return []
        try:
            timestamps, values, steps, problems = read_columns(path)
        except OSError as exc:
            raise StoreError(f"Cannot read metric file {path}: {exc.strerror or exc}") from None
        self._warn_all(f"{path}: {p}" for p in problems)
        if max_points is None:  # MLflow's file store: the points as they were logged
            return [MetricPoint(v, s, t) for v, s, t in zip(values, steps, timestamps)]
        if not _in_step_order(steps, timestamps):
            order = sorted(range(len(steps)), key=lambda i: (steps[i], timestamps[i]))
            timestamps = [timestamps[i] for i in order]
            values = [values[i] for i in order]
            steps = [steps[i] for i in order]
        keep: Iterable[int] = range(len(values))
        if max_points is not None and len(values) > max_points:
            keep = minmax_indices(values, max_points)
        return [MetricPoint(values[i], steps[i], timestamps[i]) for i in keep]

    def get_metric_tail(self, run_id: str, key: str, n: int, *, last_step: int | None = None) -> list[MetricPoint]:
        ref = self._find_run(run_id)
        path = key_path(os.path.join(ref.path, METRICS), key)
        if n <= 0 or path is None or not os.path.isfile(path):
            return []
        try:
            points, problems = read_tail(path, n)
        except OSError as exc:
            raise StoreError(f"Cannot read metric file {path}: {exc.strerror or exc}") from None
        self._warn_all(f"{path}: {p}" for p in problems)
        return points


# -- helpers ---------------------------------------------------------------------------------


def uri_to_path(uri: str) -> str:
    """The absolute local path of a `file:` URI or a plain path (as mlflow resolves them)."""
    if uri.lower().startswith("file:"):
        parts = urlsplit(uri)
        if parts.netloc not in ("", "localhost"):
            raise InvalidValue(
                f"Cannot open {uri!r}: file URIs on another host ({parts.netloc}) are not supported"
            )
        path = unquote(parts.path)
    else:
        path = uri
    return os.path.abspath(os.path.expanduser(path))


def _opt_str(value) -> str | None:
    return None if value is None else str(value)


def _check_view(view: str) -> None:
    if view not in VIEW_TYPES:
        raise InvalidValue(f"Unknown view {view!r}; expected one of {', '.join(VIEW_TYPES)}")


def _page(items: list, offset: int, max_results: int) -> Page:
    end = offset + max_results
    token = encode_page_token(end) if end < len(items) else None
    return Page(tuple(items[offset:end]), token)


def _in_step_order(steps: list[int], timestamps: list[int]) -> bool:
    """True when the points are already ordered by (step, timestamp): the usual history,
    checked at C speed (strictly increasing steps) before the tuple comparison."""
    if all(map(operator.lt, steps, islice(steps, 1, None))):
        return True
    pairs = list(zip(steps, timestamps))
    return all(map(operator.le, pairs, islice(pairs, 1, None)))


def _needed_keys(comparisons, order_keys) -> Keys | None:
    """The metric/param/tag keys a filter and ordering read, or None if they read none."""
    wanted: dict[str, dict[str, None]] = {"metric": {}, "param": {}, "tag": {}}
    for item in (*comparisons, *order_keys):
        if item.kind in wanted:
            wanted[item.kind][item.key] = None
    if not any(wanted.values()):
        return None
    return Keys(tuple(wanted["metric"]), tuple(wanted["param"]), tuple(wanted["tag"]))


__all__ = ["FileStore", "uri_to_path"]
