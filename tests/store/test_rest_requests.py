"""The requests the REST backend sends: how many, how big, in what shape.

The contract suite proves the answers equal MlflowClient's on a live server; these tests pin
what it costs to get them (no N+1, counting without downloading every run, server-sized
batches) using a scripted server that records each request.
"""

from __future__ import annotations

import base64
import json
import math

import pytest
from fake_http_server import FakeServer, Reply, run_json

from tracktui.store.errors import InvalidValue, NotFound, ReadOnlyError
from tracktui.store.model import MetricPoint
from tracktui.store.rest.store import RestStore

RUN_ID = "0123456789abcdef0123456789abcdef"


def open_rest(url: str, **kw) -> RestStore:
    return RestStore(url, timeout=5, max_retries=0, **kw)


def offset_of(token: str | None) -> int:
    return json.loads(base64.b64decode(token))["offset"] if token else 0


def token_for(offset: int) -> str:
    return base64.b64encode(json.dumps({"offset": offset}).encode()).decode()


def runs_server(total: int, opaque_tokens: bool = False):
    """Answers runs/search like MLflow's SQL store over `total` runs (offset page tokens)."""
    opaque: dict[str, int] = {}

    def script(n, req):
        body = req.body or {}
        token = body.get("page_token")
        if token and not opaque_tokens and offset_of(token) == 0:  # as MLflow's SearchUtils does
            return Reply(status=400, body={"error_code": "INVALID_PARAMETER_VALUE", "message": "Invalid page token"})
        start = opaque[token] if opaque_tokens and token else offset_of(token)
        end = min(total, start + body["max_results"])
        page = {"runs": [run_json(f"{i:032x}", f"r{i}") for i in range(start, end)]}
        if end < total:
            if opaque_tokens:
                key = f"opaque-{end}"
                opaque[key] = end
                page["next_page_token"] = key
            else:
                page["next_page_token"] = token_for(end)
        return Reply(body=page)

    return script


@pytest.mark.parametrize("total", [0, 1, 2, 3, 4, 7, 8, 9, 100, 1000, 4097])
def test_count_runs_probes_with_one_run_pages(total):
    with FakeServer(runs_server(total)) as server:
        assert open_rest(server.url).count_runs("1") == total
    assert all(r.body["max_results"] == 1 for r in server.requests)
    assert len(server.requests) <= 2 * math.log2(total + 2) + 2


@pytest.mark.parametrize("total", [0, 1, 2, 3, 9, 10, 11, 12, 100, 4097])
@pytest.mark.parametrize("at_most", [0, 1, 10, 1000])
def test_bounded_count_stops_probing_at_the_bound(total, at_most):
    """More than `at_most` runs: two requests on a store's first count (the first page, whose
    token shows offsets, then the probe at at_most - 1), one afterwards; fewer: exact, in
    about as many probes as an exact count plus that one."""
    with FakeServer(runs_server(total)) as server:
        store = open_rest(server.url)
        first = store.count_runs("1", at_most=at_most)
        on_first = len(server.requests)
        again = store.count_runs("1", at_most=at_most)
        on_again = len(server.requests) - on_first
    assert first == again == min(total, at_most + 1)
    assert all(r.body["max_results"] == 1 for r in server.requests)
    if total > at_most:
        assert (on_first, on_again) == ((1, 1) if at_most <= 1 else (2, 1))
        assert offset_of(server.requests[-1].body.get("page_token")) == max(at_most - 1, 0)
    else:
        assert on_again <= 2 * math.log2(total + 2) + 3


def test_bounded_counts_of_many_experiments_two_at_a_time():
    """Each probe is a query on the server: at most COUNT_THREADS (2) wait there at once."""
    import threading
    import time

    totals = {"1": 0, "2": 5, "3": 50_000, "4": 300, "5": 7, "6": 40}
    scripts = {eid: runs_server(n) for eid, n in totals.items()}
    lock, in_flight, most = threading.Lock(), [0], [0]

    def script(n, req):
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        time.sleep(0.02)
        with lock:
            in_flight[0] -= 1
        return scripts[req.body["experiment_ids"][0]](n, req)

    with FakeServer(script) as server:
        counts = open_rest(server.url).count_runs_by_experiment(list(totals), at_most=100)
    assert counts == {eid: min(n, 101) for eid, n in totals.items()}
    assert max(r.body["max_results"] for r in server.requests) == 1
    assert most[0] == 2


def test_an_interrupted_count_sends_no_further_request():
    """The caller abandons the count (store.interrupt): the probe under way is the last one."""
    import threading

    from tracktui.store.interrupt import Interrupted, interruptible

    stop = threading.Event()
    script = runs_server(100_000)

    def stop_after_third(n, req):
        if n == 2:
            stop.set()
        return script(n, req)

    with FakeServer(stop_after_third) as server, interruptible(stop):
        with pytest.raises(Interrupted):
            open_rest(server.url).count_runs("1")
    assert len(server.requests) == 3


def test_count_runs_falls_back_to_paging_when_tokens_are_not_offsets():
    with FakeServer(runs_server(12_000, opaque_tokens=True)) as server:
        assert open_rest(server.url).count_runs("1", view="all") == 12_000
    assert [r.body["max_results"] for r in server.requests] == [1, 5000, 5000, 5000]
    assert {r.body["run_view_type"] for r in server.requests} == {"ALL"}


def test_a_page_of_runs_is_one_request():
    with FakeServer(runs_server(250)) as server:
        store = open_rest(server.url)
        page = store.search_runs(["1"], max_results=100)
        assert len(page) == 100 and len(server.requests) == 1
        page = store.search_runs(["1"], max_results=100, page_token=page.next_page_token)
        assert page.items[0].name == "r100" and len(server.requests) == 2


def test_list_keys_walks_pages_of_all_runs():
    def script(n, req):
        page = {"runs": [run_json(RUN_ID, "a")]}
        page["runs"][0]["data"].update(
            metrics=[{"key": f"m{n}", "value": "NaN", "step": 0, "timestamp": 0}],
            params=[{"key": "p", "value": "1"}],
        )
        if n == 0:
            page["next_page_token"] = token_for(5000)
        return Reply(body=page)

    with FakeServer(script) as server:
        keys = open_rest(server.url).list_keys(["1", "2"])
    assert keys.metrics == ("m0", "m1") and keys.params == ("p",) and keys.tags == ("mlflow.runName",)
    assert [r.body["run_view_type"] for r in server.requests] == ["ALL", "ALL"]


def test_metric_history_pages_and_keeps_the_servers_order():
    pages = [
        {"metrics": [{"key": "m", "value": 2.0, "step": 2, "timestamp": 5}, {"key": "m", "value": "NaN", "step": 1, "timestamp": 9}],
         "next_page_token": "p2"},
        {"metrics": [{"key": "m", "value": "-Infinity", "step": 0, "timestamp": 10}, {"key": "m", "value": 1, "timestamp": 11}]},
    ]
    with FakeServer(lambda n, req: Reply(body=pages[n % 2])) as server:
        store = open_rest(server.url)
        points = store.get_metric_history(RUN_ID, "m")
        by_step = store.get_metric_history(RUN_ID, "m", max_points=100)
    # a whole history comes as the server sent it (as MlflowClient gets it)...
    assert [(p.step, p.timestamp) for p in points] == [(2, 5), (1, 9), (0, 10), (0, 11)]
    assert points[2].value == -math.inf and math.isnan(points[1].value)
    # ...and by step, then time, when downsampling is asked for (what plots use)
    assert [(p.step, p.timestamp) for p in by_step] == [(0, 10), (0, 11), (1, 9), (2, 5)]
    assert "max_results=25000" in server.requests[0].path and "page_token=p2" in server.requests[1].path


def test_log_batch_is_split_into_server_sized_requests():
    metrics = [("m", MetricPoint(float(i), i, i)) for i in range(2500)]
    metrics.append(("odd", MetricPoint(float("nan"), 0, 1)))
    params = {f"p{i}": str(i) for i in range(150)}

    def script(n, req):
        if req.path.startswith("/api/2.0/mlflow/runs/get"):
            return Reply(body={"run": run_json(RUN_ID)})
        return Reply(body={})

    with FakeServer(script) as server:
        open_rest(server.url).log_batch(RUN_ID, metrics, params, {"t": "v"})
    batches = [r.body for r in server.requests if r.path.endswith("/runs/log-batch")]
    assert [(len(b["metrics"]), len(b["params"]), len(b["tags"])) for b in batches] == [
        (900, 100, 0), (949, 50, 1), (652, 0, 0)
    ]
    # the server refuses more than 100 params+tags or 1000 entities in all per request
    assert all(len(b["params"]) + len(b["tags"]) <= 100 for b in batches)
    assert all(len(b["metrics"]) + len(b["params"]) + len(b["tags"]) <= 1000 for b in batches)
    assert batches[2]["metrics"][-1] == {"key": "odd", "value": "NaN", "timestamp": 1, "step": 0}


def test_writes_check_the_run_before_sending_anything():
    deleted = run_json(RUN_ID)
    deleted["info"]["lifecycle_stage"] = "deleted"
    with FakeServer(Reply(body={"run": deleted})) as server:
        store = open_rest(server.url)
        with pytest.raises(InvalidValue, match="deleted"):
            store.set_tags([RUN_ID], {"k": "v"})
        with pytest.raises(InvalidValue, match="deleted"):
            store.rename_run(RUN_ID, "new")
    assert all("/runs/get" in r.path for r in server.requests)
    missing = Reply(404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "nope"})
    with FakeServer(missing) as server:
        with pytest.raises(NotFound):
            open_rest(server.url).delete_runs([RUN_ID])
        assert len(server.requests) == 1


def test_purge_is_refused_with_the_alternative():
    with FakeServer(Reply(body={})) as server:
        store = open_rest(server.url)
        assert store.can_purge is False
        with pytest.raises(ReadOnlyError, match="mlflow gc"):
            store.purge_deleted_runs()
        with pytest.raises(ReadOnlyError, match="read-only"):
            open_rest(server.url, read_only=True).purge_deleted_runs()
    assert server.requests == []


def test_counts_for_many_experiments_each_use_their_own_probes():
    totals = {"1": 0, "2": 1, "3": 17, "4": 300}
    scripts = {eid: runs_server(n) for eid, n in totals.items()}
    with FakeServer(lambda n, req: scripts[req.body["experiment_ids"][0]](n, req)) as server:
        counts = open_rest(server.url).count_runs_by_experiment(["1", "2", "3", "4"], view="deleted")
    assert counts == totals
    assert {r.body["run_view_type"] for r in server.requests} == {"DELETED_ONLY"}


def test_sparse_json_of_older_servers_is_tolerated():
    """mlflow 1.x servers: run_uuid only, no run_name (the tag holds it), int64 as strings,
    empty fields omitted, no `data` at all for a bare run."""
    old_run = {
        "info": {"run_uuid": RUN_ID, "experiment_id": 3, "status": "FINISHED", "start_time": "1700000000000",
                 "lifecycle_stage": "active"},
        "data": {"metrics": [{"key": "acc", "value": "Infinity", "timestamp": "5"}],
                 "tags": [{"key": "mlflow.runName", "value": "legacy"}, {"key": "empty"}]},
    }
    bare = {"info": {"run_id": RUN_ID}}
    answers = [{"run": old_run}, {"run": bare}, {"experiment": {"experiment_id": 7, "name": "e"}}]
    with FakeServer(lambda n, req: Reply(body=answers[n])) as server:
        store = open_rest(server.url)
        run, bare_run, experiment = store.get_run(RUN_ID), store.get_run(RUN_ID), store.get_experiment("7")
    assert (run.id, run.name, run.experiment_id, run.start_time, run.end_time) == (RUN_ID, "legacy", "3", 1_700_000_000_000, None)
    assert run.metrics["acc"] == MetricPoint(math.inf, 0, 5) and run.tags["empty"] == ""
    assert (bare_run.name, bare_run.params, bare_run.metrics, bare_run.lifecycle_stage) == ("", {}, {}, "active")
    assert (experiment.id, experiment.tags, experiment.creation_time) == ("7", {}, None)


def bulk_interval_server(steps: range):
    """Answers metrics/get-history-bulk-interval like MLflow 3.17 over one point per step:
    every point of the range when fewer than max_results, else max_results evenly sampled
    (first and last kept)."""
    from urllib.parse import parse_qs, urlsplit

    def script(n, req):
        query = parse_qs(urlsplit(req.path).query)
        assert urlsplit(req.path).path.endswith("/metrics/get-history-bulk-interval"), req.path
        limit = int(query["max_results"][0])
        inside = [s for s in steps if "start_step" not in query
                  or int(query["start_step"][0]) <= s <= int(query["end_step"][0])]
        if len(inside) > limit:
            inside = [inside[i * (len(inside) - 1) // (limit - 1)] for i in range(limit)]
        metrics = [{"key": "loss", "value": s / 2, "step": s, "timestamp": 1000 + s, "run_id": RUN_ID} for s in inside]
        return Reply(body={"metrics": metrics})

    return script


@pytest.mark.parametrize("hint, requests", [(True, 1), (False, 2)], ids=["last_step-known", "last_step-unknown"])
def test_metric_tail_asks_for_a_step_range_not_the_history(hint, requests):
    """A 10,000-point history: the tail costs one small request when the caller knows the last
    step (as the watch board does from the run's latest metrics), two when it does not."""
    steps = range(10_000)
    with FakeServer(bulk_interval_server(steps)) as server:
        with open_rest(server.url) as store:
            tail = store.get_metric_tail(RUN_ID, "loss", 60, last_step=9_999 if hint else None)
        assert [p.step for p in tail] == list(range(9_940, 10_000))
        assert len(server.requests) == requests


def test_metric_tail_of_a_short_history_is_the_history():
    with FakeServer(bulk_interval_server(range(5))) as server:
        with open_rest(server.url) as store:
            tail = store.get_metric_tail(RUN_ID, "loss", 60, last_step=4)
        assert [p.step for p in tail] == [0, 1, 2, 3, 4]
        assert len(server.requests) == 2  # the range held too few: the whole (short) history
