"""The Store protocol over an MLflow tracking server's REST API.

One request per page of runs or experiments (the server returns each run whole, so there is
no N+1). Filters and order_by are parsed locally first, so a syntax error shows with its
position before any round trip; the server then gets the canonical spelling of what was
parsed (MLflow's own parser refuses a few spellings tracktui accepts, such as padded order_by
entries), or the text as typed when no canonical spelling exists.
Transport, auth, retries and error mapping live in `rest_transport`.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal

from ..base import Store, not_found_experiment, not_found_run
from ..counts import capped, check_at_most
from ..errors import InvalidValue, NotFound
from ..model import Experiment, Keys, MetricPoint, Page, Run, ViewType
from ..paging import check_max_results
from ..search import (
    format_filter,
    format_order_by,
    parse_experiment_filter,
    parse_experiment_order_by,
    parse_run_filter,
    parse_run_order_by,
)
from .assessments import RestAssessments
from .decode import VIEW_TYPE, experiment_from_json, metric_point, run_from_json
from .inputs import RestInputs
from .logged_models import RestLoggedModels
from .registry import RestRegistry
from .registry_writes import RestRegistryWrites
from .trace_writes import RestTraceWrites
from .traces import RestTraces
from .transport import RestTransport, TransportSettings
from .writes import RestWrites

log = logging.getLogger(__name__)

API = "/api/2.0/mlflow"
#: get-history-bulk-interval's max_results cap (the server's MAX_RESULTS_PER_RUN), and how
#: many step ranges a tail tries before taking what it has.
TAIL_LIMIT = 2500
TAIL_ATTEMPTS = 6
#: The server's limit for runs/search and experiments/search (SEARCH_MAX_RESULTS_THRESHOLD).
SERVER_MAX_RESULTS = 50000
#: Page size MLflow's client uses for metric history (GET_METRIC_HISTORY_MAX_RESULTS).
HISTORY_PAGE = 25000
#: Page size when a listing has to walk every run (list_keys, counting fallback).
SCAN_PAGE = 5000
#: Experiments counted at once by count_runs_by_experiment. Each probe is a query on the
#: server; a server with one worker serves them one by one anyway, and more in flight would
#: only queue ahead of whatever the user asks for next.
COUNT_THREADS = 2
#: How much further each galloping count probe reaches than the last. Passing n takes
#: log_8(n) probes and leaves a range a few probes longer to bisect than doubling would: about
#: log_8(n) + log2(n) probes in all instead of 2·log2(n) (a 500k-run count ~29 instead of ~37).
GALLOP = 8


class RestStore(RestRegistry, RestRegistryWrites, RestLoggedModels, RestTraceWrites, RestTraces, RestAssessments, RestInputs, RestWrites, Store):
    """An MLflow tracking server at `http(s)://host[:port][/static-prefix]`.

    Timeouts and retries come from MLflow's environment variables unless given here (tests
    and the TUI pass small values to stay responsive).
    """

    #: No count endpoint: a count is a series of one-run searches (count_runs).
    counting_is_costly = True

    def __init__(
        self,
        uri: str,
        read_only: bool = False,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        backoff_factor: float | None = None,
        backoff_jitter: float | None = None,
    ):
        settings = TransportSettings.from_env(
            uri,
            timeout=timeout,
            max_retries=max_retries,
            backoff_factor=backoff_factor,
            backoff_jitter=backoff_jitter,
        )
        self._http = RestTransport(uri, settings)
        self.display_uri = self._http.display_uri
        if read_only:
            self.read_only_reason = "the store was opened read-only (--read-only)"
        self._offset_tokens: bool | None = None  # does the server use {"offset": N} tokens?
        self.warnings = _unsupported_auth_warnings()

    def __repr__(self) -> str:
        return f"RestStore({self.display_uri!r})"

    def close(self) -> None:
        self._http.close()

    def artifact_repository(self, run: Run):
        """mlflow-artifacts: through this server's proxy with this store's auth; anything this
        machine cannot read through the server's own artifact endpoints."""
        from ..artifacts import repository_for_server_run

        return repository_for_server_run(run, self._http, self._http.base_url)

    def upload_artifact(self, run_id: str, path: str, chunks: Iterator[bytes]) -> int:
        """Upload one artifact file of the run through the server's artifact proxy (used by
        store.transfer); returns the bytes sent. Only `mlflow-artifacts:` roots can be written."""
        self._check_writable()
        return self._upload_under(self.get_run(run_id).artifact_uri or "", path, chunks)

    def upload_logged_model_artifact(self, model_id: str, path: str, chunks: Iterator[bytes]) -> int:
        """Upload one artifact file of the logged model (as upload_artifact does for runs)."""
        self._check_writable()
        return self._upload_under(self.get_logged_model(model_id).artifact_location or "", path, chunks)

    def _upload_under(self, uri: str, path: str, chunks: Iterator[bytes]) -> int:
        from urllib.parse import quote, urlsplit

        import httpx

        from ..artifacts.proxy import PROXY_API
        from ..artifacts.safety import clean_relative_path, join_under
        from ..errors import ReadOnlyError, StoreError

        if not uri.startswith("mlflow-artifacts:") or urlsplit(uri).netloc:
            raise ReadOnlyError(
                f"Cannot upload artifacts to {uri or 'a run without an artifact location'}: only the "
                f"server's own artifact proxy (mlflow-artifacts:/…, mlflow server --serve-artifacts) is supported"
            )
        root = "/".join(p for p in urlsplit(uri).path.split("/") if p)
        data = b"".join(chunks)
        target = f"{self._http.base_url}{PROXY_API}/{quote(join_under(root, clean_relative_path(path)), safe='/')}"
        try:
            response = self._http._client.put(target, content=data)
        except Exception as exc:  # httpx transport errors, expected; anything else is logged
            if not isinstance(exc, httpx.HTTPError):
                log.exception("Unexpected failure uploading %s", path)
            raise StoreError(f"Uploading {path} to {self.display_uri} failed: {self._http._scrub(str(exc))}") from None
        if response.status_code != 200:
            raise StoreError(f"Uploading {path} to {self.display_uri} failed: HTTP {response.status_code}")
        return len(data)

    # -- experiments ------------------------------------------------------------------------------

    def search_experiments(
        self,
        filter_string: str | None = None,
        view: ViewType = "active",
        max_results: int = 1000,
        page_token: str | None = None,
        order_by: Sequence[str] = (),
    ) -> Page[Experiment]:
        filter_string = _server_filter(filter_string, parse_experiment_filter(filter_string), "experiment")
        order_by = format_order_by(parse_experiment_order_by(order_by))
        body: dict[str, Any] = {
            "max_results": _clamp(max_results),
            "view_type": _view(view),
        }
        if filter_string:
            body["filter"] = filter_string
        if order_by:
            body["order_by"] = list(order_by)
        if page_token:
            body["page_token"] = page_token
        data = self._http.post(f"{API}/experiments/search", body)
        return Page(
            tuple(experiment_from_json(e) for e in data.get("experiments") or ()),
            data.get("next_page_token") or None,
        )

    def get_experiment(self, experiment_id: str) -> Experiment:
        try:
            data = self._http.get(f"{API}/experiments/get", {"experiment_id": str(experiment_id)})
        except (NotFound, InvalidValue):  # SQL servers answer 400 for a non-numeric id
            raise not_found_experiment(experiment_id) from None
        return experiment_from_json(data.get("experiment") or {})

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        try:
            data = self._http.get(f"{API}/experiments/get-by-name", {"experiment_name": name})
        except NotFound:
            return None
        return experiment_from_json(data.get("experiment") or {})

    # -- runs -------------------------------------------------------------------------------------

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
        filter_string = _server_filter(filter_string, parse_run_filter(filter_string), "run")
        order_by = format_order_by(parse_run_order_by(order_by))
        if not experiment_ids:
            return Page(())
        data = self._search_runs_raw(experiment_ids, filter_string, order_by, view, max_results, page_token)
        return Page(
            tuple(run_from_json(r, include_keys) for r in data.get("runs") or ()),
            data.get("next_page_token") or None,
        )

    def get_run(self, run_id: str) -> Run:
        try:
            data = self._http.get(f"{API}/runs/get", {"run_id": run_id})
        except (NotFound, InvalidValue):  # a malformed id is answered with 400
            raise not_found_run(run_id) from None
        return run_from_json(data.get("run") or {})

    def list_keys(self, experiment_ids: Sequence[str]) -> Keys:
        """Walks every run (all lifecycle stages) page by page: the API has no keys endpoint."""
        metrics: set[str] = set()
        params: set[str] = set()
        tags: set[str] = set()
        for raw in self._scan_runs(experiment_ids, "all"):
            body = raw.get("data") or {}
            metrics.update(m.get("key", "") for m in body.get("metrics") or ())
            params.update(p.get("key", "") for p in body.get("params") or ())
            tags.update(t.get("key", "") for t in body.get("tags") or ())
        return Keys(tuple(sorted(metrics)), tuple(sorted(params)), tuple(sorted(tags)))

    def count_runs(self, experiment_id: str, view: ViewType = "active", at_most: int | None = None) -> int:
        """The API has no count endpoint. Cheapest way found: probe offsets with one-run pages
        (the server runs OFFSET/LIMIT in SQL; a page also says whether a run follows it),
        galloping (GALLOP) then bisecting — about log8(n) + log2(n) tiny requests instead of
        downloading every run. Each is still a full query on the server (on PostgreSQL a scan
        of every run), so with `at_most` the first probe is at offset at_most - 1: one request
        tells "more than at_most" for a big experiment; a smaller one pays that request more
        (at most ~18 in all under 10,000 runs).
        MLflow calls its offset page token unstable, so the format is checked on the first
        count and, if it differs, runs are counted by paging through them."""
        at_most = check_at_most(at_most)
        eid = str(experiment_id)
        if self._offset_tokens and at_most:
            return self._count_by_offsets(eid, view, at_most, low=-1)
        first = self._search_runs_raw([eid], "", (), view, 1, None)
        if not first.get("runs"):
            return 0
        token = first.get("next_page_token")
        if not token or at_most == 0:
            return capped(2 if token else 1, at_most)
        if not self._uses_offset_tokens(token):
            return capped(sum(1 for _ in self._scan_runs([eid], view)), at_most)
        return self._count_by_offsets(eid, view, at_most, low=1)

    def _count_by_offsets(self, eid: str, view: ViewType, at_most: int | None, low: int) -> int:
        """The count (capped at `at_most` + 1) from one-run probes, knowing that runs exist at
        every offset up to `low` (-1: none known)."""
        high = None  # an offset known to hold no run
        if at_most is not None:
            if low >= at_most:
                return at_most + 1
            exists, more = self._probe(eid, view, at_most - 1)
            if exists:
                return at_most + 1 if more else at_most
            high = at_most - 1
        step = 1
        while high is None or low + step < high:  # gallop up from what is known
            probe = low + step
            exists, more = self._probe(eid, view, probe)
            if exists and not more:
                return probe + 1
            if not exists:
                high = probe
                break
            low, step = probe + 1, step * GALLOP
        while high - low > 1:  # then bisect
            probe = (low + high) // 2
            exists, more = self._probe(eid, view, probe)
            if exists and not more:
                return probe + 1
            if exists:
                low = probe + 1
            else:
                high = probe
        return low + 1

    def count_runs_by_experiment(
        self, experiment_ids: Sequence[str], view: ViewType = "active", at_most: int | None = None
    ) -> dict[str, int]:
        """Counts probed COUNT_THREADS at a time over the pooled connections (each count is
        a few tiny requests, each a query on the server)."""
        import contextvars
        from concurrent.futures import ThreadPoolExecutor

        check_at_most(at_most)
        ids = list(dict.fromkeys(str(e) for e in experiment_ids))
        if len(ids) <= 1:
            return {eid: self.count_runs(eid, view, at_most) for eid in ids}
        with ThreadPoolExecutor(max_workers=min(COUNT_THREADS, len(ids))) as pool:
            # each in a copy of this context: an interruptible caller's stop reaches the probes
            futures = [pool.submit(contextvars.copy_context().run, self.count_runs, eid, view, at_most) for eid in ids]
            return {eid: future.result() for eid, future in zip(ids, futures)}

    def get_metric_history(
        self, run_id: str, key: str, max_points: int | None = None
    ) -> list[MetricPoint]:
        """Full history in pages of 25000, in the server's order; with `max_points`, ordered by
        step and downsampled here keeping each bucket's min and max. (The server's get-history-bulk-interval samples evenly by row and
        can drop a spike, so it is not used.)"""
        points: list[MetricPoint] = []
        token = None
        while True:
            params = {"run_id": run_id, "metric_key": key, "max_results": HISTORY_PAGE, "page_token": token}
            try:
                data = self._http.get(f"{API}/metrics/get-history", params)
            except (NotFound, InvalidValue):
                raise not_found_run(run_id) from None
            points.extend(metric_point(m) for m in data.get("metrics") or ())
            next_token = data.get("next_page_token") or None
            if not next_token or next_token == token:
                break
            token = next_token
        if not points:
            self.get_run(run_id)  # unknown run → NotFound; unknown key → []
            return []
        if max_points is None:
            return points  # in the server's own order, as MlflowClient gets them
        points.sort(key=lambda p: (p.step, p.timestamp))
        if len(points) > max_points:
            from ..downsample import downsample_minmax

            points = list(downsample_minmax(points, max_points))
        return points

    def get_metric_tail(self, run_id: str, key: str, n: int, *, last_step: int | None = None) -> list[MetricPoint]:
        """The API has no tail, but `metrics/get-history-bulk-interval` returns every point of
        a step range (or of the whole history) holding fewer than `max_results` points. So:
        with `last_step`, the `n` steps up to it (one request for a run logging a point per
        step); else, or when that range holds too few points, the whole history if it is short
        (one more request), else step ranges ending at its last step, narrowed while they may
        have been sampled and widened while they hold too few points."""
        if n <= 0:
            self.get_run(run_id)
            return []
        limit = min(TAIL_LIMIT, 4 * n)
        if last_step is not None:
            points = self._bulk_interval(run_id, key, limit, last_step - (n - 1), last_step)
            if n <= len(points) < limit:
                return _tail(points, n)
        points = self._bulk_interval(run_id, key, limit)  # every point, when fewer than limit
        if len(points) < limit:
            if not points:
                self.get_run(run_id)  # unknown run → NotFound; unknown key → []
            return _tail(points, n)
        last = max(p.step for p in points)
        span = n - 1
        for _ in range(TAIL_ATTEMPTS):
            ranged = self._bulk_interval(run_id, key, limit, last - span, last)
            if len(ranged) >= limit and span > 0:  # perhaps sampled: a narrower range
                span //= 4
            elif len(ranged) >= n:
                return _tail(ranged, n)
            else:
                span = span * 4 + 3
        return _tail(points, n)  # steps too irregular: the tail of the sampled history

    def _bulk_interval(self, run_id: str, key: str, max_results: int,
                       start_step: int | None = None, end_step: int | None = None) -> list[MetricPoint]:
        params = {"run_ids": [run_id], "metric_key": key, "max_results": max_results,
                  "start_step": start_step, "end_step": end_step}
        try:
            data = self._http.get(f"{API}/metrics/get-history-bulk-interval", params)
        except (NotFound, InvalidValue):
            raise not_found_run(run_id) from None
        return [metric_point(m) for m in data.get("metrics") or ()]

    # -- helpers ----------------------------------------------------------------------------------

    def _search_runs_raw(
        self,
        experiment_ids: Sequence[str],
        filter_string: str,
        order_by: Sequence[str],
        view: ViewType,
        max_results: int,
        page_token: str | None,
    ) -> dict:
        body: dict[str, Any] = {
            "experiment_ids": [str(e) for e in experiment_ids],
            "run_view_type": _view(view),
            "max_results": _clamp(max_results),
        }
        if filter_string:
            body["filter"] = filter_string
        if order_by:
            body["order_by"] = list(order_by)
        if page_token:
            body["page_token"] = page_token
        return self._http.post(f"{API}/runs/search", body)

    def _scan_runs(self, experiment_ids: Sequence[str], view: ViewType) -> Iterator[Mapping[str, Any]]:
        if not experiment_ids:
            return
        token = None
        while True:
            data = self._search_runs_raw(experiment_ids, "", (), view, SCAN_PAGE, token)
            yield from data.get("runs") or ()
            next_token = data.get("next_page_token") or None
            if not next_token or next_token == token:
                return
            token = next_token

    def _uses_offset_tokens(self, token: str) -> bool:
        if self._offset_tokens is None:
            self._offset_tokens = _decode_offset(token) == 1
        return self._offset_tokens

    def _probe(self, experiment_id: str, view: ViewType, offset: int) -> tuple[bool, bool]:
        """(a run exists at `offset`, another follows it)."""
        token = _offset_token(offset) if offset else None  # MLflow refuses {"offset": 0}
        data = self._search_runs_raw([experiment_id], "", (), view, 1, token)
        return bool(data.get("runs")), bool(data.get("next_page_token"))


def _server_filter(text: str | None, parsed, target: Literal["run", "experiment"]) -> str:
    if not parsed:
        return ""
    try:
        return format_filter(parsed, target=target)
    except InvalidValue:
        return text or ""


def _unsupported_auth_warnings() -> tuple[str, ...]:
    """MLflow client auth plugins tracktui does not implement: say so instead of a bare 401."""
    import os

    found = []
    if os.environ.get("MLFLOW_TRACKING_AUTH"):
        found.append(
            f"MLFLOW_TRACKING_AUTH={os.environ['MLFLOW_TRACKING_AUTH']!r} names an MLflow auth plugin, "
            "which tracktui cannot load; only basic auth and bearer tokens are sent"
        )
    if os.environ.get("MLFLOW_TRACKING_AWS_SIGV4", "").strip().lower() in ("true", "1"):
        found.append("MLFLOW_TRACKING_AWS_SIGV4 is set, but tracktui does not sign requests with AWS SigV4")
    return tuple(found)


def _view(view: ViewType) -> str:
    try:
        return VIEW_TYPE[view]
    except KeyError:
        raise InvalidValue(f"Unknown view {view!r}; expected one of {', '.join(VIEW_TYPE)}") from None


def _clamp(max_results: int) -> int:
    return min(check_max_results(max_results), SERVER_MAX_RESULTS)


def _offset_token(offset: int) -> str:
    return base64.b64encode(json.dumps({"offset": offset}).encode()).decode()


def _decode_offset(token: str) -> int | None:
    try:
        value = json.loads(base64.b64decode(token))
    except (ValueError, TypeError):
        return None
    if isinstance(value, dict) and set(value) == {"offset"} and isinstance(value["offset"], int):
        return value["offset"]
    return None


def _tail(points: list[MetricPoint], n: int) -> list[MetricPoint]:
    return sorted(points, key=lambda p: (p.step, p.timestamp))[-n:]
