"""The store protocol: what every backend (SQL, file store, REST) must do.

Method names follow MlflowClient where it has them. Every method documents its result and the
`StoreError` children it raises; nothing else should escape a backend. Optional abilities have
a capability flag the UI checks before offering the action.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .errors import InvalidValue, NotFound, ReadOnlyError
from .logged_models import DatasetFilter, LoggedModel, LoggedModelImport, LoggedModelOrder
from .model import PARENT_RUN_TAG, DatasetInput, Experiment, Keys, MetricPoint, Page, Run, RunGroup, ViewType
from .paging import every_item
from .registry import ModelVersion, Prompt, PromptVersion, RegisteredModel, RegistryImport
from .search import quote_value

if TYPE_CHECKING:
    from pathlib import Path

    from .artifacts import ArtifactEntry, ArtifactPreview, ArtifactRepository
    from .artifacts.logged_images import LoggedImage
    from .traces import Assessment, Trace, TraceInfo
    from .traces.writes import TraceImport


class Store(ABC):
    """A tracking store opened from a URI. Thread-safe: the TUI calls it from worker threads."""

    #: The URI as opened, with credentials masked; safe to show and log.
    display_uri: str = ""
    #: Why writes are refused, or None when writes are allowed.
    read_only_reason: str | None = None
    #: Warnings about the store a user should see (unknown schema revision, skipped files...).
    warnings: tuple[str, ...] = ()
    #: Whether a run count costs the backend more than one query. True over REST: the API has
    #: no count endpoint, so a count is a series of one-run searches, each a full query on the
    #: server. A caller that only shows a count then asks for a bounded one (`at_most`).
    counting_is_costly: bool = False

    @property
    def read_only(self) -> bool:
        return self.read_only_reason is not None

    def _check_writable(self) -> None:
        if self.read_only_reason is not None:
            raise ReadOnlyError(f"Refusing to write: {self.read_only_reason}")

    # -- experiments -------------------------------------------------------------------------

    @abstractmethod
    def search_experiments(
        self,
        filter_string: str | None = None,
        view: ViewType = "active",
        max_results: int = 1000,
        page_token: str | None = None,
        order_by: Sequence[str] = (),
    ) -> Page[Experiment]:
        """Experiments matching MLflow's experiment filter grammar, default order
        `creation_time DESC, experiment_id ASC`. Raises FilterSyntaxError."""

    @abstractmethod
    def get_experiment(self, experiment_id: str) -> Experiment:
        """The experiment (active or deleted). Raises NotFound."""

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """The experiment with exactly this name, or None (as MlflowClient does)."""
        try:
            literal = quote_value(name)
        except InvalidValue:  # MLflow's grammar has no escapes: scan instead
            token = None
            while True:
                page = self.search_experiments(view="all", page_token=token)
                found = next((e for e in page if e.name == name), None)
                if found or not page.next_page_token:
                    return found
                token = page.next_page_token
        page = self.search_experiments(f"name = {literal}", view="all", max_results=10)
        return next((e for e in page if e.name == name), None)

    # -- runs --------------------------------------------------------------------------------

    @abstractmethod
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
        """Runs of the experiments matching MLflow's run filter grammar, ordered as MLflow
        orders them (given keys, then `start_time DESC`, then run id).

        `include_keys` limits which params/metrics/tags are loaded into each Run (None: all).
        Raises FilterSyntaxError for a bad filter or order_by."""

    @abstractmethod
    def get_run(self, run_id: str) -> Run:
        """The run with all its params, latest metrics and tags. Raises NotFound."""

    def get_child_runs(self, run_id: str, view: ViewType = "all") -> list[Run]:
        """Runs whose `mlflow.parentRunId` tag names this run, in default order."""
        parent = self.get_run(run_id)
        wanted = f"tags.`{PARENT_RUN_TAG}` = {quote_value(run_id)}"
        return every_item(lambda token: self.search_runs(
            [parent.experiment_id], wanted, view=view, max_results=1000, page_token=token))

    @abstractmethod
    def list_keys(self, experiment_ids: Sequence[str]) -> Keys:
        """Distinct metric, param and tag keys over the experiments' runs, sorted."""

    @abstractmethod
    def count_runs(self, experiment_id: str, view: ViewType = "active", at_most: int | None = None) -> int:
        """Number of runs in the experiment. With `at_most`, a count above it comes back as
        `at_most + 1`, meaning "more than at_most" (store.counts), and a backend that counts by
        probing stops there. Raises InvalidValue for a negative `at_most`."""

    def count_runs_by_experiment(
        self, experiment_ids: Sequence[str], view: ViewType = "active", at_most: int | None = None
    ) -> dict[str, int]:
        """`count_runs` of each experiment (same `at_most`); backends override with one
        grouped query."""
        return {eid: self.count_runs(eid, view, at_most) for eid in experiment_ids}

    def group_runs(
        self,
        experiment_ids: Sequence[str],
        group_by: str,
        aggregates: Sequence[tuple[str, str]] = (),
        filter_string: str = "",
        view: ViewType = "active",
    ) -> list[RunGroup]:
        """Every run of the experiments matching the filter, grouped by `group_by`
        (`params.<key>`, `tags.<key>` or `parent`), with each (metric key, aggregate) of
        `aggregates` (aggregate: mean, min, max, last or count) per group; definitions and
        group order in store.groups. Raises FilterSyntaxError, InvalidValue (bad group key
        or aggregate). This default pages through search_runs; SQL overrides it with one
        GROUP BY."""
        from .groups import group_runs_from_pages

        return group_runs_from_pages(self, experiment_ids, group_by, aggregates, filter_string, view)

    @abstractmethod
    def get_metric_history(
        self, run_id: str, key: str, max_points: int | None = None
    ) -> list[MetricPoint]:
        """Every point of the metric in the order MLflow's own store of this kind returns it
        (SQL: timestamp, step, value; file store: as logged; REST: as the server sends it), or,
        with `max_points`, at most that many ordered by step, timestamp, value and chosen so
        each bucket's min and max survive (spikes stay visible).
        Raises NotFound for an unknown run; an unknown key gives []."""

    def get_metric_histories(
        self, run_ids: Sequence[str], key: str, max_points: int
    ) -> dict[str, list[MetricPoint]]:
        """One metric's history for many runs at once, each as `get_metric_history(run_id, key,
        max_points=max_points)` gives it (step order, downsampled keeping extremes): what a
        page of sparklines needs. Every id asked for is in the result; a run without the key,
        or unknown (deleted or purged since the page was read), maps to [] rather than failing
        the whole page. This default asks run by run; SQL overrides it with one query for the
        short histories."""
        out: dict[str, list[MetricPoint]] = {}
        for run_id in dict.fromkeys(run_ids):
            try:
                out[run_id] = self.get_metric_history(run_id, key, max_points=max_points)
            except NotFound:
                out[run_id] = []
        return out

    def get_metric_tail(self, run_id: str, key: str, n: int, *, last_step: int | None = None) -> list[MetricPoint]:
        """The latest `n` points of the metric (greatest step, then timestamp), in step order:
        what a live board needs, at a cost that does not grow with the history (SQL: one index
        range read backwards; file store: the file's end, which is the latest points whenever
        steps are logged in increasing order, as training loops log them; REST: step ranges
        ending at `last_step`). `last_step`, the metric's latest step when the caller knows it
        (`Run.metrics[key].step`), saves a REST backend the request that finds it.
        This default reads the whole history.
        Raises NotFound for an unknown run; an unknown key or n <= 0 gives []."""
        if n <= 0:
            self.get_run(run_id)
            return []
        history = self.get_metric_history(run_id, key)
        return sorted(history, key=_step_order)[-n:]

    def get_metric_tails(
        self, requests: Sequence[tuple[str, str, int | None]], n: int
    ) -> dict[tuple[str, str], list[MetricPoint]]:
        """`get_metric_tail(run_id, key, n, last_step=last_step)` of every (run id, key, last
        step) in `requests` at once: what one refresh of a live board needs. Every (run id,
        key) asked for is in the result; an unknown run or key maps to [] rather than failing
        the board. This default asks one by one; SQL overrides it with one statement."""
        out: dict[tuple[str, str], list[MetricPoint]] = {}
        for run_id, key, last_step in requests:
            if (run_id, key) in out:
                continue
            try:
                out[run_id, key] = self.get_metric_tail(run_id, key, n, last_step=last_step)
            except NotFound:
                out[run_id, key] = []
        return out

    # -- writes -----------------------------------------------------------------------------
    # Backends override these; the defaults refuse clearly. Every write calls
    # `_check_writable()` first and validates (store.validation) before touching anything.

    #: True when `purge_deleted_runs` can work on this backend.
    can_purge: bool = False

    def _unsupported(self, what: str):
        return ReadOnlyError(f"{what} is not supported by the {type(self).__name__} backend")

    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: Mapping[str, str] | None = None
    ) -> str:
        """Create an active experiment; returns its id. Raises InvalidValue if the name is taken."""
        raise self._unsupported("Creating experiments")

    def create_run(
        self,
        experiment_id: str,
        *,
        name: str | None = None,
        start_time: int | None = None,
        user_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        parent_run_id: str | None = None,
        run_id: str | None = None,
    ) -> Run:
        """Create a RUNNING run as mlflow does (name column + `mlflow.runName`, `mlflow.user`,
        `mlflow.parentRunId` tags). `run_id` lets import keep ids where the backend can."""
        raise self._unsupported("Creating runs")

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[tuple[str, MetricPoint]] = (),
        params: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        """Log metric points, params and tags, keeping `latest_metrics` (or its equivalent) right."""
        raise self._unsupported("Logging")

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput]) -> None:
        """Record datasets as inputs of an active run, as mlflow's `log_inputs` does: a dataset
        already in the experiment (same name and digest) is reused, an input the run already
        has is left as it is. Raises NotFound, InvalidValue (deleted run)."""
        raise self._unsupported("Logging dataset inputs")

    def update_run(self, run_id: str, *, status: str | None = None, end_time: int | None = None) -> None:
        raise self._unsupported("Updating runs")

    def delete_runs(self, run_ids: Sequence[str]) -> None:
        """Soft-delete runs (lifecycle `deleted`, `deleted_time` set) in one transaction/batch."""
        raise self._unsupported("Deleting runs")

    def restore_runs(self, run_ids: Sequence[str]) -> None:
        raise self._unsupported("Restoring runs")

    def delete_run(self, run_id: str) -> None:
        self.delete_runs([run_id])

    def restore_run(self, run_id: str) -> None:
        self.restore_runs([run_id])

    def set_tags(self, run_ids: Sequence[str], tags: Mapping[str, str]) -> None:
        """Set the same tags on many runs in one transaction/batch."""
        raise self._unsupported("Tagging runs")

    def set_tag(self, run_id: str, key: str, value: str) -> None:
        self.set_tags([run_id], {key: value})

    def delete_tag(self, run_id: str, key: str) -> None:
        """Raises NotFound when the run has no such tag (as mlflow does)."""
        raise self._unsupported("Deleting tags")

    def rename_run(self, run_id: str, name: str) -> None:
        """Set the name column and the `mlflow.runName` tag, as mlflow does."""
        raise self._unsupported("Renaming runs")

    def delete_experiment(self, experiment_id: str) -> list[str]:
        """Soft-delete the experiment and its active runs, as mlflow does; runs deleted before
        keep their deletion time. Returns the ids of the runs this delete deleted (what an
        undo passes to `restore_experiment`)."""
        raise self._unsupported("Deleting experiments")

    def restore_experiment(self, experiment_id: str, run_ids: Sequence[str] | None = None) -> None:
        """Restore a deleted experiment. `run_ids` None restores every run in it, as mlflow
        does; otherwise only those runs come back (an undo: runs deleted before the
        experiment stay deleted)."""
        raise self._unsupported("Restoring experiments")

    def rename_experiment(self, experiment_id: str, name: str) -> None:
        raise self._unsupported("Renaming experiments")

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        raise self._unsupported("Tagging experiments")

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        raise self._unsupported("Deleting experiment tags")

    def set_experiment_times(
        self, experiment_id: str, *, creation_time: int | None = None, last_update_time: int | None = None
    ) -> None:
        """Set an experiment's creation/last-update times (epoch ms), so an import keeps the
        source's. Backends that cannot choose times (REST) refuse with ReadOnlyError."""
        raise self._unsupported("Setting experiment times")

    def purge_deleted_runs(self, older_than_ms: int | None = None, *, dry_run: bool = False) -> list[str]:
        """Permanently remove deleted runs (deleted at least `older_than_ms` ago), their data and
        local artifacts, as `mlflow gc` does. Returns the ids removed; with `dry_run`, the ids
        that would be removed, touching nothing (what a confirmation names)."""
        raise self._unsupported("Purging runs")

    # -- artifacts --------------------------------------------------------------------------
    # Implemented once here on top of the run's artifact_uri; backends only choose the
    # repository (the REST backend resolves mlflow-artifacts: through its server).

    def artifact_repository(self, run: Run) -> ArtifactRepository:
        """The repository holding `run`'s artifacts. Raises UnsupportedURI."""
        from .artifacts import repository_for

        return repository_for(run.artifact_uri)

    def list_artifacts(self, run_id: str, path: str = "") -> list[ArtifactEntry]:
        """Direct children of directory `path` of the run's artifacts (one level), sorted.
        Raises NotFound (run), UnsafePath, UnsupportedURI, transport errors."""
        with self.artifact_repository(self.get_run(run_id)) as repo:
            return repo.list(path)

    def read_artifact_head(self, run_id: str, path: str, limit: int = 256 * 1024) -> ArtifactPreview:
        """A typed preview of the first `limit` bytes of file `path`. Raises NotFound."""
        from .artifacts.preview import build_preview

        with self.artifact_repository(self.get_run(run_id)) as repo:
            head, size = repo.read_head(path, limit)
        return build_preview(path, head, size, limit)

    def read_artifact_bytes(self, run_id: str, path: str, limit: int) -> tuple[bytes, int | None]:
        """The first `limit` bytes of file `path` and its whole size (None when the store does not
        say). Image previews read this way so a huge file is never read whole. Raises NotFound."""
        with self.artifact_repository(self.get_run(run_id)) as repo:
            return repo.read_head(path, limit)

    def list_logged_images(self, run_id: str) -> dict[str, list[LoggedImage]]:
        """Images logged with `log_image(key=…, step=…)`, by key, each key's sorted by step
        (store.artifacts.logged_images). One listing of `images/`; {} when there is none."""
        from .artifacts.logged_images import IMAGES_FOLDER, logged_images

        return logged_images(self.list_artifacts(run_id, IMAGES_FOLDER))

    def read_artifact_tail(self, run_id: str, path: str, limit: int = 256 * 1024) -> ArtifactPreview:
        """A typed preview of the last `limit` bytes of file `path`, from its first whole line
        (`from_end`): a growing log opens at its end without reading the rest. A store that
        cannot fetch the end alone (a server ignoring Range requests) gives the head instead,
        with `note` saying so. Raises NotFound."""
        from .artifacts.base import RangesNotSupported
        from .artifacts.preview import build_preview, build_tail_preview

        with self.artifact_repository(self.get_run(run_id)) as repo:
            try:
                tail, size = repo.read_tail(path, limit)
            except RangesNotSupported as exc:
                head, size = repo.read_head(path, limit)
                preview = build_preview(path, head, size, limit)
                return dataclasses.replace(preview, note=f"{exc}: showing the start of the file, not its end")
        return build_tail_preview(path, tail, size, limit)

    def download_artifacts(
        self, run_id: str, path: str, dest, progress=None, overwrite: bool = False, cancel=None,
        workers: int | None = None,
    ) -> Path:
        """Download file or directory `path` ("" for all) under `dest`, keeping its relative
        path; returns where it landed. `progress` gets `store.downloads.DownloadProgress`
        updates from worker threads; setting the `cancel` threading.Event stops it (raising
        DownloadCancelled); `workers` caps the files fetched at once (default: the engine's).
        The one way the TUI and the CLI download. See store.downloads for the guarantees and
        errors (NotFound, DestinationExists, UnsafePath, DownloadCancelled)."""
        from .downloads import download

        with self.artifact_repository(self.get_run(run_id)) as repo:
            return download(
                repo, path, dest, progress=progress, overwrite=overwrite, cancel=cancel, workers=workers
            )

    # -- traces (store.traces; docs/formats.md §1.4, §2.4, §3.6, §5) ----------------------------
    # Backends with trace storage set `supports_traces` and override these (store/*_traces.py).

    @property
    def supports_traces(self) -> bool:
        """True when this store can hold traces (False for SQL schemas older than trace tables).
        Read-only: backends answer it with a class attribute or a property."""
        return False

    def search_traces(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        max_results: int = 100,
        page_token: str | None = None,
        order_by: Sequence[str] = (),
    ) -> Page[TraceInfo]:
        """Traces of the experiments matching MLflow's trace filter grammar (store.traces_filter),
        newest first (`timestamp_ms DESC, request_id ASC`) unless `order_by` says otherwise.
        Raises FilterSyntaxError; a store without traces gives an empty page."""
        from .traces.filter import parse_trace_filter, parse_trace_order_by

        parse_trace_filter(filter_string)
        parse_trace_order_by(order_by)
        return Page(())

    def get_trace(self, trace_id: str) -> Trace:
        """The trace's info and all its spans. Raises NotFound."""
        raise NotFound(f"Trace '{trace_id}' not found")

    def delete_traces(self, experiment_id: str, trace_ids: Sequence[str]) -> int:
        """Delete these traces of the experiment (permanently, as mlflow does); returns how many."""
        raise self._unsupported("Deleting traces")

    def set_trace_tag(self, trace_id: str, key: str, value: str) -> None:
        raise self._unsupported("Tagging traces")

    def delete_trace_tag(self, trace_id: str, key: str) -> None:
        """Raises NotFound when the trace has no such tag."""
        raise self._unsupported("Deleting trace tags")

    def import_trace(self, trace: Trace, experiment_id: str) -> TraceImport:
        """Write a whole trace (as `get_trace` of any store returns it) into `experiment_id`,
        keeping its id, request time, duration, state, previews, tags, metadata and spans.
        A trace whose id is already here is left alone (`created` False): re-runs never
        duplicate. Parts a backend cannot keep are named in the result's `notes`
        (store.trace_writes). Raises InvalidValue for ids MLflow V3 cannot hold."""
        raise self._unsupported("Importing traces")

    # -- assessments on traces (store.traces.assessments; docs/formats.md §1.4a, §2.5, §3.7) ------

    def log_assessment(self, assessment: Assessment) -> Assessment:
        """Add a feedback or expectation to its trace (`assessment.trace_id`), as MLflow's
        `create_assessment`: the store gives it an id (when empty) and fresh times, and when it
        `overrides` another one, that one becomes invalid. Returns it as stored. Raises
        NotFound (trace, or the overridden assessment), InvalidValue, ReadOnlyError."""
        raise self._unsupported("Logging assessments")

    def delete_assessment(self, trace_id: str, assessment_id: str) -> None:
        """Remove an assessment; the one it overrode becomes valid again. Deleting one that
        is not there is no error (as MLflow). Raises NotFound for an unknown trace."""
        raise self._unsupported("Deleting assessments")

    def override_feedback(self, trace_id: str, assessment_id: str, assessment: Assessment) -> Assessment:
        """Replace a feedback with `assessment` (its value, rationale and source; the name and
        span stay the old one's), as MLflow's `override_feedback`. Raises NotFound, InvalidValue."""
        old = next((a for a in self.get_trace(trace_id).info.assessments if a.assessment_id == assessment_id), None)
        if old is None:
            raise NotFound(f"Assessment '{assessment_id}' not found on trace '{trace_id}'")
        if old.kind != "feedback":
            raise InvalidValue(f"The assessment with ID {assessment_id} is not a feedback assessment.")
        return self.log_assessment(dataclasses.replace(
            assessment, trace_id=trace_id, name=old.name, span_id=old.span_id, kind="feedback",
            overrides=old.assessment_id, assessment_id=""))

    # -- logged models (store.logged_models; docs/logged-models.md) ----------
    # Backends with logged-model storage set `supports_logged_models` and override these
    # (store/<backend>/logged_models.py).

    @property
    def supports_logged_models(self) -> bool:
        """True when this store can hold MLflow 3 logged models (False for SQL schemas older
        than the logged_models tables)."""
        return False

    #: True when deleted logged models can be restored (MLflow's API has no restore: SQL and
    #: file stores do it directly, a tracking server cannot).
    can_restore_logged_models: bool = False

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        order_by: Sequence[LoggedModelOrder | Mapping[str, Any] | str] | None = None,
        max_results: int = 100,
        page_token: str | None = None,
        datasets: Sequence[DatasetFilter | Mapping[str, Any]] | None = None,
    ) -> Page[LoggedModel]:
        """Active logged models of the experiments matching MLflow's logged-model grammar
        (store.search.logged_models), ordered by `order_by` (MLflow's dicts) then
        `creation_timestamp DESC, model_id ASC`. Raises FilterSyntaxError, InvalidValue;
        a store without logged models gives an empty page."""
        from .search.logged_models import (
            parse_datasets,
            parse_logged_model_filter,
            parse_logged_model_order_by,
        )

        parse_logged_model_filter(filter_string)
        parse_logged_model_order_by(order_by)
        parse_datasets(datasets)
        return Page(())

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        """The model with its params, tags and every metric point. A deleted model is
        NotFound unless `allow_deleted` (as MLflow). Raises NotFound."""
        raise NotFound(f"Logged model '{model_id}' not found")

    def logged_models_of_run(self, run_id: str) -> list[LoggedModel]:
        """Active models the run produced (`source_run_id`), in default order. Raises NotFound
        for an unknown run."""
        run = self.get_run(run_id)
        if not self.supports_logged_models:
            return []
        wanted = f"source_run_id = {quote_value(run.id)}"
        return every_item(lambda token: self.search_logged_models(
            [run.experiment_id], wanted, max_results=1000, page_token=token))

    def logged_model_artifact_repository(self, model: LoggedModel) -> ArtifactRepository:
        """The repository holding the model's artifacts (its `artifact_location`), reached the
        way this backend reaches run artifacts. Raises UnsupportedURI."""
        stand_in = Run(
            id=model.model_id, name=model.name, experiment_id=model.experiment_id, status="FINISHED",
            user_id=None, start_time=None, end_time=None, lifecycle_stage="active",
            artifact_uri=model.artifact_location,
        )
        return self.artifact_repository(stand_in)

    def delete_logged_model(self, model_id: str) -> None:
        """Soft-delete (lifecycle `deleted`, last update time bumped), as MLflow does."""
        raise self._unsupported("Deleting logged models")

    def restore_logged_model(self, model_id: str) -> None:
        """Make a deleted model active again (see `can_restore_logged_models`)."""
        raise self._unsupported("Restoring logged models")

    def set_logged_model_tag(self, model_id: str, key: str, value: str) -> None:
        """Set one tag (validated as MLflow validates tags). Raises NotFound."""
        raise self._unsupported("Tagging logged models")

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        """Raises NotFound when the model has no such tag (as MLflow does)."""
        raise self._unsupported("Deleting logged model tags")

    def import_logged_model(
        self, model: LoggedModel, experiment_id: str, run_ids: Mapping[str, str] | None = None
    ) -> LoggedModelImport:
        """Write a whole model (as any store's `get_logged_model` returns it) into
        `experiment_id`: params, tags, metric points (their run ids re-pointed through
        `run_ids`), status, source run. The model id is kept where the backend can choose ids
        (SQL, file); a model already here is left alone. Points whose run is unknown here are
        dropped and named in the result's `notes`."""
        raise self._unsupported("Importing logged models")

    # -- model registry and prompt registry (store.registry; docs/formats.md §8) -----------
    # Backends with a registry set `supports_model_registry` and override these
    # (store/<backend>/registry.py). Prompts are registered models MLflow tags as prompts:
    # the model calls leave them out and the prompt calls see only them, as MlflowClient's.

    @property
    def supports_model_registry(self) -> bool:
        """True when this store holds a model registry (and so a prompt registry)."""
        return False

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] = (),
        page_token: str | None = None,
    ) -> Page[RegisteredModel]:
        """Registered models (prompts left out, unless the filter asks for them with
        ``tags.`mlflow.prompt.is_prompt` = 'true'``, as MLflow) matching MLflow's
        registered-model grammar (`name` with =, !=, LIKE, ILIKE, IN, NOT IN; `tags.<key>` with
        =, !=, LIKE, ILIKE), ordered by `order_by` (`name`, `last_updated_timestamp` or its alias
        `timestamp`, `creation_timestamp`, each ASC/DESC) then name ascending. Raises
        FilterSyntaxError, InvalidValue (max_results above 1000); a store without a registry
        gives an empty page."""
        return Page(())

    def get_registered_model(self, name: str) -> RegisteredModel:
        """The model with its tags, aliases and latest versions. Raises NotFound."""
        raise NotFound(f"Registered Model with name={name} not found")

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = 10_000,
        order_by: Sequence[str] = (),
        page_token: str | None = None,
    ) -> Page[ModelVersion]:
        """Versions (of models, not prompts) matching MLflow's model-version grammar (`name`,
        `version_number`, `run_id` with = and IN, `source_path`, `tags.<key>`), newest
        first by default (`last_updated_timestamp DESC, name ASC, version_number DESC`).
        Raises FilterSyntaxError."""
        return Page(())

    def get_model_version(self, name: str, version: str | int) -> ModelVersion:
        """Raises NotFound (also for a deleted version), InvalidValue for a version that is
        not an integer (as MLflow)."""
        raise NotFound(f"Model Version (name={name}, version={version}) not found")

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version the alias points at. Raises NotFound."""
        raise NotFound(f"Registered model alias {alias} not found.")

    def model_versions_of_run(self, run_id: str) -> list[ModelVersion]:
        """Registered versions made from the run (`run_id`), newest first."""
        if not self.supports_model_registry:
            return []
        wanted = f"run_id = {quote_value(run_id)}"
        return every_item(lambda token: self.search_model_versions(wanted, page_token=token))

    def search_prompts(
        self, filter_string: str | None = None, max_results: int = 100, page_token: str | None = None
    ) -> Page[Prompt]:
        """Prompts matching the registered-model grammar, by name. Raises FilterSyntaxError."""
        return Page(())

    def get_prompt(self, name: str) -> Prompt:
        """Raises NotFound (also for a registered model that is not a prompt)."""
        raise NotFound(f"Prompt '{name}' not found")

    def search_prompt_versions(
        self, name: str, max_results: int = 100, page_token: str | None = None
    ) -> Page[PromptVersion]:
        """The prompt's versions, newest (highest number) first. Raises NotFound."""
        raise NotFound(f"Prompt '{name}' not found")

    def get_prompt_version(self, name: str, version: str | int) -> PromptVersion:
        """Raises NotFound."""
        raise NotFound(f"Prompt (name={name}, version={version}) not found")

    def get_prompt_version_by_alias(self, name: str, alias: str) -> PromptVersion:
        """Raises NotFound."""
        raise NotFound(f"Prompt alias {alias} not found")

    # Registry writes: each as MLflow does it (last-update times bumped where MLflow bumps
    # them), refused with ReadOnlyError on a read-only store. They serve prompts too (a
    # prompt is a registered model), so moving a prompt's alias is `set_registered_model_alias`.

    def set_registered_model_alias(self, name: str, alias: str, version: str | int) -> None:
        """Point `alias` at `version` (moving it if it pointed elsewhere). Raises NotFound,
        InvalidValue (alias names MLflow refuses: `latest`, `v<number>`)."""
        raise self._unsupported("Setting model aliases")

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        raise self._unsupported("Deleting model aliases")

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        raise self._unsupported("Tagging registered models")

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        raise self._unsupported("Deleting registered model tags")

    def set_model_version_tag(self, name: str, version: str | int, key: str, value: str) -> None:
        raise self._unsupported("Tagging model versions")

    def delete_model_version_tag(self, name: str, version: str | int, key: str) -> None:
        raise self._unsupported("Deleting model version tags")

    def update_registered_model(self, name: str, description: str) -> None:
        """Set the model's description."""
        raise self._unsupported("Editing registered models")

    def update_model_version(self, name: str, version: str | int, description: str) -> None:
        """Set the version's description."""
        raise self._unsupported("Editing model versions")

    def rename_registered_model(self, name: str, new_name: str) -> None:
        """Rename the model and everything that names it (versions, tags, aliases). Raises
        NotFound, InvalidValue (name taken)."""
        raise self._unsupported("Renaming registered models")

    def transition_model_version_stage(
        self, name: str, version: str | int, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        """Move the version to a stage (deprecated in MLflow, still supported); with
        `archive_existing_versions`, other versions in that stage become Archived."""
        raise self._unsupported("Transitioning model version stages")

    def delete_model_version(self, name: str, version: str | int) -> None:
        """Delete the version for good (aliases pointing at it go too), as MLflow does."""
        raise self._unsupported("Deleting model versions")

    def delete_registered_model(self, name: str) -> None:
        """Delete the model with all its versions, tags and aliases, for good."""
        raise self._unsupported("Deleting registered models")

    def import_registered_model(self, model: RegisteredModel, versions: Sequence[ModelVersion]) -> RegistryImport:
        """Write a registered model (or prompt) as another store holds it: its description,
        tags and times, the `versions` (run ids and sources already pointing where they should
        here) with their tags, and its aliases. Incremental: a model already here keeps what
        it has and gets the versions and aliases it lacks. Version numbers and times are kept
        where the backend can choose them (SQL, file); a server numbers versions itself, so
        the result maps each number there to the number here. An alias whose version is not
        here is named in the result's `notes`."""
        raise self._unsupported("Importing registered models")

    def close(self) -> None:
        """Release connections. Safe to call twice."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _step_order(point: MetricPoint) -> tuple[int, int]:
    return point.step, point.timestamp


def not_found_run(run_id: str) -> NotFound:
    return NotFound(f"Run '{run_id}' not found")


def not_found_experiment(experiment_id: str) -> NotFound:
    return NotFound(f"Experiment '{experiment_id}' not found")


def find_experiment(store: Store, name_or_id: str) -> Experiment | None:
    """The experiment with that exact name, else with that id, else None (how the CLI names
    one: `--experiment`, `export`). A name wins: an experiment may well be named "2"."""
    found = store.get_experiment_by_name(name_or_id)
    if found is not None:
        return found
    try:
        return store.get_experiment(name_or_id)
    except (NotFound, InvalidValue):
        return None
