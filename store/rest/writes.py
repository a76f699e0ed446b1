"""Write operations of the REST backend, as a mixin on RestStore (see store/rest.py).

The server applies each request on its own, so there is no transaction across requests.
What can be checked first is: every value is validated locally (store.validation), and every
run or experiment a write touches is fetched before the first write request, so a bad id, a
deleted run or a changed param fails before anything is written. After that, a failure half
way (the server going away) can leave earlier requests applied; the error says so.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .. import validation as v
from ..batching import chunked
from ..errors import InvalidValue, NotFound, ReadOnlyError, StoreError
from ..model import RUN_NAME_TAG, RUN_STATUSES, Experiment, MetricPoint, Run, ViewType
from ..new_run import prepare_new_run
from .decode import run_from_json

if TYPE_CHECKING:
    from .host import RestHost
else:
    RestHost = object  # the host is a type-checking contract only (see host.py)

API = "/api/2.0/mlflow"


class RestWrites(RestHost):
    """Writes through MLflow's REST API, exactly the requests MlflowClient would send."""

    can_purge = False

    # -- experiments ------------------------------------------------------------------------------

    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: Mapping[str, str] | None = None
    ) -> str:
        self._check_writable()
        v.validate_experiment_name(name)
        if artifact_location is not None:
            v.validate_artifact_location(artifact_location)
        tags = dict(tags or {})
        for key, value in tags.items():
            v.validate_experiment_tag(key, value)
        if self.get_experiment_by_name(name) is not None:
            raise InvalidValue(f"Experiment '{name}' already exists (it may be deleted: restore or rename it)")
        body: dict[str, Any] = {"name": name, "tags": _key_values(tags)}
        if artifact_location:
            body["artifact_location"] = artifact_location
        data = self._http.post(f"{API}/experiments/create", body)
        return str(data.get("experiment_id", ""))

    def delete_experiment(self, experiment_id: str) -> list[str]:
        self._check_writable()
        self._experiment_in_stage(experiment_id, "active", "is already deleted")
        active = self._run_ids_in(experiment_id, "active")
        self._http.post(f"{API}/experiments/delete", {"experiment_id": str(experiment_id)})
        return active

    def restore_experiment(self, experiment_id: str, run_ids: Sequence[str] | None = None) -> None:
        """The server restores every run: with `run_ids`, the others that were deleted are
        deleted again (their deletion time becomes now; the REST API does not show it)."""
        self._check_writable()
        self._experiment_in_stage(experiment_id, "deleted", "is not deleted")
        keep_deleted = []
        if run_ids is not None:
            wanted = set(map(str, run_ids))
            keep_deleted = [r for r in self._run_ids_in(experiment_id, "deleted") if r not in wanted]
        self._http.post(f"{API}/experiments/restore", {"experiment_id": str(experiment_id)})
        if keep_deleted:
            self.delete_runs(keep_deleted)

    def _run_ids_in(self, experiment_id: str, view: ViewType) -> list[str]:
        out: list[str] = []
        token = None
        while True:
            page = self.search_runs([str(experiment_id)], view=view, max_results=1000, page_token=token)
            out.extend(run.id for run in page.items)
            token = page.next_page_token
            if not token:
                return out

    def rename_experiment(self, experiment_id: str, name: str) -> None:
        self._check_writable()
        v.validate_experiment_name(name)
        self._experiment_in_stage(experiment_id, "active", "is deleted; restore it before renaming")
        other = self.get_experiment_by_name(name)
        if other is not None and other.id != str(experiment_id):
            raise InvalidValue(f"Experiment '{name}' already exists")
        self._http.post(f"{API}/experiments/update", {"experiment_id": str(experiment_id), "new_name": name})

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        self._check_writable()
        v.validate_experiment_tag(key, value)
        self._experiment_in_stage(experiment_id, "active", "is deleted; restore it before tagging")
        self._http.post(
            f"{API}/experiments/set-experiment-tag",
            {"experiment_id": str(experiment_id), "key": key, "value": value},
        )

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self._check_writable()
        v.validate_key(key, "experiment tag key")
        experiment = self._experiment_in_stage(experiment_id, "active", "is deleted; restore it before editing tags")
        if key not in experiment.tags:
            raise NotFound(f"Experiment '{experiment_id}' has no tag {key!r}")
        self._http.post(
            f"{API}/experiments/delete-experiment-tag", {"experiment_id": str(experiment_id), "key": key}
        )

    # -- runs -------------------------------------------------------------------------------------

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
        self._check_writable()
        if run_id is not None:
            raise ReadOnlyError("The MLflow REST API cannot create a run with a chosen id")
        new = prepare_new_run(name, start_time, user_id, tags, parent_run_id)
        name, start_time, user_id, tags = new.name, new.start_time, new.user_id, new.tags
        v.validate_batch_limits(0, 0, len(tags))
        self._experiment_in_stage(experiment_id, "active", "is deleted; restore it before adding runs")
        data = self._http.post(
            f"{API}/runs/create",
            {
                "experiment_id": str(experiment_id),
                "user_id": user_id,
                "run_name": name,
                "start_time": start_time,
                "tags": _key_values(tags),
            },
        )
        return run_from_json(data.get("run") or {})

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[tuple[str, MetricPoint]] = (),
        params: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        """Sent in requests of at most 1000 metrics / 100 params / 100 tags (the server's limits)."""
        self._check_writable()
        metrics = list(metrics)
        params, tags = v.validate_batch(metrics, params, tags)
        run = self._active_run(run_id, "logging to it")
        changed = [k for k, val in params.items() if k in run.params and run.params[k] != val]
        if changed:
            key = changed[0]
            raise InvalidValue(
                f"Param {key!r} of run '{run_id}' is already {run.params[key]!r}; MLflow params cannot "
                f"change (tried {params[key]!r})"
            )
        metric_json = [_metric_json(k, p) for k, p in metrics]
        param_json = _key_values(params)
        tag_json = _key_values(tags)
        first = True
        while first or metric_json or param_json or tag_json:
            # The server allows 100 params+tags and 1000 entities in all per request.
            n_params = min(len(param_json), v.MAX_PARAMS_TAGS_PER_BATCH)
            n_tags = min(len(tag_json), v.MAX_PARAMS_TAGS_PER_BATCH - n_params)
            n_metrics = min(len(metric_json), v.MAX_METRICS_PER_BATCH - n_params - n_tags)
            body = {
                "run_id": run_id,
                "metrics": metric_json[:n_metrics],
                "params": param_json[:n_params],
                "tags": tag_json[:n_tags],
            }
            metric_json = metric_json[n_metrics:]
            param_json = param_json[n_params:]
            tag_json = tag_json[n_tags:]
            if first and not (body["metrics"] or body["params"] or body["tags"]):
                return
            self._partial(first, functools.partial(self._http.post, f"{API}/runs/log-batch", body), "logging")
            first = False

    def update_run(self, run_id: str, *, status: str | None = None, end_time: int | None = None) -> None:
        self._check_writable()
        if status is not None and status not in RUN_STATUSES:
            raise InvalidValue(f"Unknown run status {status!r}; expected one of {', '.join(RUN_STATUSES)}")
        if end_time is not None and (isinstance(end_time, bool) or not isinstance(end_time, int) or end_time < 0):
            raise InvalidValue(f"end_time must be a non-negative integer (epoch ms), got {end_time!r}")
        self._active_run(run_id, "updating it")
        body: dict[str, Any] = {"run_id": run_id}
        if status is not None:
            body["status"] = status
        if end_time is not None:
            body["end_time"] = end_time
        self._http.post(f"{API}/runs/update", body)

    def delete_runs(self, run_ids: Sequence[str]) -> None:
        self._check_writable()
        run_ids = v.validate_run_ids(run_ids)
        for run_id in run_ids:
            self.get_run(run_id)  # every id must exist before the first delete
        for n, run_id in enumerate(run_ids):
            self._partial(n == 0, functools.partial(self._http.post, f"{API}/runs/delete", {"run_id": run_id}), "deleting runs")

    def restore_runs(self, run_ids: Sequence[str]) -> None:
        self._check_writable()
        run_ids = v.validate_run_ids(run_ids)
        for run_id in run_ids:
            self.get_run(run_id)
        for n, run_id in enumerate(run_ids):
            self._partial(n == 0, functools.partial(self._http.post, f"{API}/runs/restore", {"run_id": run_id}), "restoring runs")

    def set_tags(self, run_ids: Sequence[str], tags: Mapping[str, str]) -> None:
        """One log-batch request per run (tags only), after checking every run is active."""
        self._check_writable()
        run_ids = v.validate_run_ids(run_ids)
        tags = dict(tags)
        v.validate_run_tags(tags)
        if RUN_NAME_TAG in tags:
            v.validate_run_name(tags[RUN_NAME_TAG])
        if not tags:
            return
        for run_id in run_ids:
            self._active_run(run_id, "tagging it")
        for n, run_id in enumerate(run_ids):
            self._partial(n == 0, functools.partial(self._tag_one, run_id, tags), "tagging runs")

    def delete_tag(self, run_id: str, key: str) -> None:
        self._check_writable()
        v.validate_key(key, "tag key")
        run = self._active_run(run_id, "editing its tags")
        if key not in run.tags:
            raise NotFound(f"Run '{run_id}' has no tag {key!r}")
        self._http.post(f"{API}/runs/delete-tag", {"run_id": run_id, "key": key})

    def rename_run(self, run_id: str, name: str) -> None:
        """runs/update with run_name: the server sets the name column and `mlflow.runName`."""
        self._check_writable()
        v.validate_run_name(name)
        v.validate_run_tag(RUN_NAME_TAG, name)
        self._active_run(run_id, "renaming it")
        # No status in the request: the server keeps the run's own (a finishing run stays finished).
        self._http.post(f"{API}/runs/update", {"run_id": run_id, "run_name": name})

    def purge_deleted_runs(self, older_than_ms: int | None = None, *, dry_run: bool = False) -> list[str]:
        self._check_writable()
        raise ReadOnlyError(
            f"The tracking server at {self.display_uri} offers no purge over its REST API; "
            "run `mlflow gc --backend-store-uri <its database>` on the server's host instead"
        )

    # -- helpers ----------------------------------------------------------------------------------

    def _tag_one(self, run_id: str, tags: dict[str, str]) -> None:
        items = _key_values(tags)
        for chunk in chunked(items, v.MAX_PARAMS_TAGS_PER_BATCH):
            self._http.post(f"{API}/runs/log-batch", {"run_id": run_id, "tags": chunk})

    def _active_run(self, run_id: str, doing: str) -> Run:
        v.validate_run_id(run_id)
        run = self.get_run(run_id)
        if run.lifecycle_stage != "active":
            raise InvalidValue(f"Run '{run_id}' is deleted; restore it before {doing}")
        return run

    def _experiment_in_stage(self, experiment_id: str, stage: str, otherwise: str) -> Experiment:
        v.validate_experiment_id(str(experiment_id))
        experiment = self.get_experiment(str(experiment_id))
        if experiment.lifecycle_stage != stage:
            raise InvalidValue(f"Experiment '{experiment_id}' {otherwise}")
        return experiment

    def _partial(self, first: bool, send: Callable[[], object], doing: str) -> None:
        """Run one write request; when earlier requests of the same operation already went
        through, say so in the error instead of implying nothing changed."""
        try:
            send()
        except StoreError as exc:
            if first:
                raise
            raise type(exc)(f"{exc.message} (while {doing}: earlier requests were already applied)") from None


def _key_values(values: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": val} for k, val in values.items()]


def _metric_json(key: str, point: MetricPoint) -> dict[str, Any]:
    return {"key": key, "value": _json_float(float(point.value)), "timestamp": int(point.timestamp), "step": int(point.step)}


def _json_float(value: float) -> float | str:
    """JSON has no NaN or infinity; MLflow's server reads them as these strings."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value

