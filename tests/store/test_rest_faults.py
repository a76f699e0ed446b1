"""What the REST backend does when the server, or the network, misbehaves.

Each test runs a real HTTP server on a loopback port that answers as scripted (see
fake_http_server) and checks that tracktui raises the specific StoreError a user can act on,
retries exactly what MLflow's client retries, and never hangs (timeouts of a fraction of a
second, retries without backoff).
"""

from __future__ import annotations

import socket

import pytest
from fake_http_server import FakeServer, Reply, run_json

from tracktui.store import HostNotAllowed, PermissionDenied, ServerError
from tracktui.store.errors import (
    AuthFailed,
    FilterSyntaxError,
    InvalidValue,
    NotFound,
    StoreError,
    Unreachable,
)
from tracktui.store.rest.store import RestStore

EXPERIMENT = {"experiment": {"experiment_id": "1", "name": "e", "lifecycle_stage": "active"}}
RUN_ID = "0123456789abcdef0123456789abcdef"


@pytest.fixture(autouse=True)
def _no_user_credentials(monkeypatch, tmp_path):
    """The developer's own MLflow credentials must not leak into these requests."""
    for name in (
        "MLFLOW_TRACKING_USERNAME",
        "MLFLOW_TRACKING_PASSWORD",
        "MLFLOW_TRACKING_TOKEN",
        "MLFLOW_HTTP_REQUEST_TIMEOUT",
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES",
        "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR",
        "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))


def open_rest(url: str, **overrides) -> RestStore:
    settings = {"timeout": 5.0, "max_retries": 2, "backoff_factor": 0, "backoff_jitter": 0}
    settings.update(overrides)
    return RestStore(url, **settings)


def test_slow_server_times_out_with_the_timeout_in_the_message():
    with FakeServer(Reply(body=EXPERIMENT, delay=30)) as server:
        store = open_rest(server.url, timeout=0.3)
        with pytest.raises(Unreachable, match=r"timed out after 0\.3 s"):
            store.get_experiment("1")
        # a slow server is not hammered: read timeouts are not retried
        assert len(server.requests) == 1


def test_timeout_comes_from_mlflow_environment_variable(monkeypatch):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "1")
    with FakeServer(Reply(body=EXPERIMENT, delay=30)) as server:
        store = RestStore(server.url, max_retries=0)
        with pytest.raises(Unreachable, match=r"timed out after 1 s"):
            store.get_experiment("1")


def test_500_then_200_is_retried_and_succeeds():
    def script(n, req):
        return Reply(500, {"error_code": "INTERNAL_ERROR", "message": "boom"}) if n == 0 else Reply(body=EXPERIMENT)

    with FakeServer(script) as server:
        experiment = open_rest(server.url).get_experiment("1")
        assert experiment.name == "e"
        assert len(server.requests) == 2


@pytest.mark.parametrize("status", [408, 429, 502, 503, 504])
def test_transient_statuses_are_retried(status):
    def script(n, req):
        return Reply(status, "busy") if n < 2 else Reply(body=EXPERIMENT)

    with FakeServer(script) as server:
        assert open_rest(server.url, max_retries=2).get_experiment("1").id == "1"
        assert len(server.requests) == 3


def test_retry_after_header_is_honoured():
    def script(n, req):
        return Reply(429, "slow down", headers={"Retry-After": "0"}) if n == 0 else Reply(body=EXPERIMENT)

    with FakeServer(script) as server:
        assert open_rest(server.url, backoff_factor=100).get_experiment("1").id == "1"
        assert len(server.requests) == 2


def test_persistent_500_gives_server_error_after_all_retries(monkeypatch):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "3")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_JITTER", "0")
    reply = Reply(500, {"error_code": "INTERNAL_ERROR", "message": "database is on fire"})
    with FakeServer(reply) as server:
        with pytest.raises(ServerError, match="HTTP 500 after 4 attempts.*database is on fire"):
            RestStore(server.url, timeout=5).get_experiment("1")
        assert len(server.requests) == 4


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409])
def test_client_errors_are_never_retried(status):
    reply = Reply(status, {"error_code": "INVALID_PARAMETER_VALUE", "message": "no"})
    with FakeServer(reply) as server:
        with pytest.raises(StoreError):
            open_rest(server.url, max_retries=5).get_experiment("1")
        assert len(server.requests) == 1


def test_401_is_auth_failed_and_says_how_to_send_credentials():
    reply = Reply(401, "You are not authenticated.", headers={"WWW-Authenticate": 'Basic realm="mlflow"'})
    with FakeServer(reply) as server:
        with pytest.raises(AuthFailed, match="MLFLOW_TRACKING_USERNAME") as caught:
            open_rest(server.url).search_experiments()
        assert not isinstance(caught.value, HostNotAllowed)


def test_403_invalid_host_names_the_server_option_that_fixes_it():
    # mlflow 3.17's exact answer (test_rest_auth checks it against a real server too)
    with FakeServer(Reply(403, "Invalid Host header - possible DNS rebinding attack detected")) as server:
        with pytest.raises(HostNotAllowed) as caught:
            open_rest(server.url).search_experiments()
    message = str(caught.value)
    assert "--allowed-hosts" in message and "MLFLOW_SERVER_ALLOWED_HOSTS" in message
    assert f"127.0.0.1:{server.port}" in message


def test_403_permission_denied_is_auth_failed_with_the_servers_reason():
    with FakeServer(Reply(403, "Permission denied")) as server:
        with pytest.raises(PermissionDenied, match="Permission denied") as caught:
            open_rest(server.url).get_experiment("1")
        assert not isinstance(caught.value, HostNotAllowed)
        assert isinstance(caught.value, AuthFailed)


def test_mlflow_error_json_becomes_a_specific_error():
    not_found = Reply(404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": f"Run '{RUN_ID}' not found"})
    with FakeServer(not_found) as server:
        with pytest.raises(NotFound, match=RUN_ID):
            open_rest(server.url).get_run(RUN_ID)
    bad = Reply(400, {"error_code": "INVALID_PARAMETER_VALUE", "message": "max_results must be between 1 and 50000"})
    with FakeServer(bad) as server:
        with pytest.raises(InvalidValue, match="INVALID_PARAMETER_VALUE.*max_results must be"):
            open_rest(server.url).search_experiments()


def test_html_404_means_wrong_url_not_missing_object():
    with FakeServer(Reply(404, "<html><body>Not Found</body></html>", headers={"Content-Type": "text/html"})) as server:
        with pytest.raises(ServerError, match="no such endpoint.*--static-prefix"):
            open_rest(server.url).search_experiments()


def test_garbage_instead_of_json_is_reported_as_not_mlflow():
    with FakeServer(Reply(200, "<html>captive portal</html>")) as server:
        with pytest.raises(ServerError, match="not MLflow JSON") as caught:
            open_rest(server.url).search_experiments()
    assert "captive portal" in str(caught.value)
    with FakeServer(Reply(200, b"\x00\xff{not json")) as server:
        with pytest.raises(ServerError, match="not MLflow JSON"):
            open_rest(server.url).get_run(RUN_ID)


def test_connection_refused_is_unreachable_naming_the_masked_url():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # A server that never answered gets one quick retry, not MLflow's four-minute schedule.
    store = open_rest(f"http://alice:hunter2-secret@127.0.0.1:{port}", max_retries=7, backoff_factor=100)
    with pytest.raises(Unreachable) as caught:
        store.search_experiments()
    message = str(caught.value)
    assert f"http://alice:***@127.0.0.1:{port}" in message
    assert "refused" in message and "after 2 attempts" in message
    assert "hunter2" not in message and "hunter2" not in repr(store) and "hunter2" not in store.display_uri


def test_server_killed_mid_listing_fails_the_second_page():
    page_one = {"runs": [run_json(RUN_ID, "first")], "next_page_token": "eyJvZmZzZXQiOiAxfQ=="}
    with FakeServer(Reply(body=page_one)) as server:
        store = open_rest(server.url, max_retries=3)
        first = store.search_runs(["1"], max_results=1)
        assert [r.name for r in first] == ["first"] and first.next_page_token
        server.stop()
        # once the server has answered, a lost connection gets MLflow's full retry count
        with pytest.raises(Unreachable, match="Cannot reach.* after 4 attempts"):
            store.search_runs(["1"], max_results=1, page_token=first.next_page_token)


def test_connection_dropped_mid_answer_is_retried_then_unreachable():
    page = {"runs": [run_json(RUN_ID, "first")]}
    with FakeServer(Reply(body=page, drop=True)) as server:
        with pytest.raises(Unreachable, match="closed before a full answer"):
            open_rest(server.url, max_retries=1).search_runs(["1"])
        assert len(server.requests) == 2


def test_bad_filter_fails_locally_before_any_request():
    with FakeServer(Reply(body={"runs": []})) as server:
        store = open_rest(server.url)
        with pytest.raises(FilterSyntaxError) as caught:
            store.search_runs(["1"], "metrics.acc >")
        assert caught.value.position == len("metrics.acc >")
        with pytest.raises(FilterSyntaxError):
            store.search_experiments("name = 'a' OR name = 'b'")
        with pytest.raises(FilterSyntaxError):
            store.search_runs(["1"], order_by=["metrics.acc sideways"])
        assert server.requests == []


def test_filter_is_sent_canonical_with_page_token_and_one_request_per_page():
    filter_string = "metrics.`a b`>0.5 and tags.`mlflow.runName` LIKE 'x%'"
    with FakeServer(Reply(body={"runs": [run_json(RUN_ID)] * 3})) as server:
        page = open_rest(server.url).search_runs(
            ["1", "2"], filter_string, ["  metrics.`a b`   desc "], "all", 3, "tok"
        )
        assert len(page) == 3 and page.next_page_token is None
        (sent,) = server.requests
    assert sent.path == "/api/2.0/mlflow/runs/search"
    assert sent.body == {
        "experiment_ids": ["1", "2"],
        "filter": "metrics.`a b` > 0.5 AND tags.`mlflow.runName` LIKE 'x%'",
        "order_by": ["metrics.`a b` DESC"],
        "run_view_type": "ALL",
        "max_results": 3,
        "page_token": "tok",
    }


def test_max_results_is_kept_within_the_servers_limit():
    """MLflow's limit is 50,000 a page: asked for, it goes to the server; more is refused
    before any request, as MLflow refuses it."""
    from tracktui.store import InvalidValue

    with FakeServer(Reply(body={})) as server:
        store = open_rest(server.url)
        store.search_experiments(max_results=50_000)
        store.search_runs(["1"], max_results=50_000)
        for call in (lambda: store.search_experiments(max_results=10**6),
                     lambda: store.search_runs(["1"], max_results=50_001)):
            with pytest.raises(InvalidValue, match="at most 50000"):
                call()
    assert [r.body["max_results"] for r in server.requests] == [50000, 50000]


def test_static_prefix_in_the_uri_is_kept():
    with FakeServer(Reply(body=EXPERIMENT)) as server:
        open_rest(server.url + "/mlflow/").get_experiment("1")
        assert server.requests[0].path.startswith("/mlflow/api/2.0/mlflow/experiments/get?")


@pytest.mark.parametrize("uri", ["http://", "https://:80", "http://u:hunter2@[::1", "ftp://host"])
def test_malformed_server_urls_are_refused_up_front_without_the_password(uri):
    from tracktui.store.errors import UnsupportedURI

    with pytest.raises(UnsupportedURI, match="not a valid tracking server URL") as caught:
        RestStore(uri)
    assert "hunter2" not in str(caught.value)


# -- a hostile or broken server cannot hold the client -------------------------------------------


def test_endless_json_body_stops_at_the_size_cap_with_a_clear_error(monkeypatch):
    import tracktui.store.rest.transport as transport

    monkeypatch.setattr(transport, "MAX_JSON_BYTES", 1 << 20)
    sent_at_most = 64 << 20  # bounds the test on a client that would read forever

    def endless():
        yield b'{"experiment": {"name": "'
        for _ in range(sent_at_most >> 16):
            yield b"a" * (1 << 16)

    with FakeServer(Reply(chunks=endless)) as server:
        with pytest.raises(ServerError, match="more than 1 MiB") as caught:
            open_rest(server.url).get_experiment("1")
        assert len(server.requests) == 1  # not retried
    assert "\n" not in str(caught.value)
    assert server.bytes_streamed < 16 << 20  # stopped reading early, not at the end of the flood


def test_announced_huge_json_body_is_refused_before_reading(monkeypatch):
    import tracktui.store.rest.transport as transport

    monkeypatch.setattr(transport, "MAX_JSON_BYTES", 1 << 20)
    reply = Reply(chunks=lambda: [b"{}"], headers={"Content-Length": str(10 << 30)})
    with FakeServer(reply) as server:
        with pytest.raises(ServerError, match="more than 1 MiB"):
            open_rest(server.url).get_experiment("1")


def test_slowloris_answer_hits_a_total_deadline(monkeypatch):
    """One byte every 0.2 s never trips httpx's per-read timeout; the request as a whole must."""
    import time

    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "1")
    body = b" " * 40 + b'{"experiment": {"experiment_id": "1", "name": "e"}}'

    def trickle():
        for byte in body:  # 40 pauses of 0.2 s: 8 s before the JSON even starts
            yield bytes([byte])
            yield 0.2

    with FakeServer(Reply(chunks=trickle, headers={"Content-Length": str(len(body))})) as server:
        store = RestStore(server.url, max_retries=0)
        started = time.monotonic()
        with pytest.raises(Unreachable, match=r"timed out after 1 s"):
            store.get_experiment("1")
        assert time.monotonic() - started < 3


def test_redirect_loop_is_one_line_error_not_a_traceback():
    loop = Reply(302, "", headers={"Location": "/api/2.0/mlflow/experiments/get?experiment_id=1"})
    with FakeServer(loop) as server:
        with pytest.raises(ServerError, match="redirected .* too many times") as caught:
            open_rest(server.url).get_experiment("1")
    assert "\n" not in str(caught.value)
