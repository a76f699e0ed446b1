"""Auth and TLS of the REST backend, as MLflow's client does them.

Two kinds of server: a scripted HTTP(S) server that records the headers it receives (exact
credential precedence, TLS verification), and a real `mlflow server --app-name basic-auth`
(real 401s, 403s and the real "Invalid Host header" guard).
"""

from __future__ import annotations

import base64
import datetime
import importlib.util
import ipaddress
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from fake_http_server import FakeServer, Reply

from fixtures.backends import free_port
from tracktui.store import HostNotAllowed, PermissionDenied
from tracktui.store.errors import AuthFailed, StoreError, Unreachable
from tracktui.store.rest.store import RestStore
from tracktui.store.rest.transport import TransportSettings

EXPERIMENT = {"experiment": {"experiment_id": "0", "name": "Default", "lifecycle_stage": "active"}}
SECRET = "pa:ss wörd-7f3k"  # colon, space and non-ASCII: all must survive basic auth
TOKEN = "tok-9a8b7c6d5e"
AUTH_ENV = (
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_TRACKING_PASSWORD",
    "MLFLOW_TRACKING_TOKEN",
    "MLFLOW_TRACKING_INSECURE_TLS",
    "MLFLOW_TRACKING_SERVER_CERT_PATH",
    "MLFLOW_TRACKING_CLIENT_CERT_PATH",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "MLFLOW_WORKSPACE",
    "MLFLOW_TRACKING_AUTH",
    "MLFLOW_TRACKING_AWS_SIGV4",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in AUTH_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.mlflow/credentials unless a test writes one
    return monkeypatch


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def authorization_sent(uri: str | None = None, **store_args) -> str | None:
    """The Authorization header a scripted server receives for one request."""
    with FakeServer(Reply(body=EXPERIMENT)) as server:
        target = uri.format(port=server.port) if uri else server.url
        RestStore(target, max_retries=0, timeout=5, **store_args).get_experiment("0")
        (seen,) = server.requests
    return {k.lower(): v for k, v in seen.headers.items()}.get("authorization")


# -- which credentials are sent ------------------------------------------------------------------


def test_no_credentials_sends_no_authorization():
    assert authorization_sent() is None


def test_username_and_password_from_environment_are_basic_auth(clean_env):
    clean_env.setenv("MLFLOW_TRACKING_USERNAME", "alice")
    clean_env.setenv("MLFLOW_TRACKING_PASSWORD", SECRET)
    assert authorization_sent() == basic("alice", SECRET)


def test_token_is_bearer_only_without_username_and_password(clean_env):
    clean_env.setenv("MLFLOW_TRACKING_TOKEN", TOKEN)
    assert authorization_sent() == f"Bearer {TOKEN}"
    clean_env.setenv("MLFLOW_TRACKING_USERNAME", "alice")
    assert authorization_sent() == f"Bearer {TOKEN}"  # a username alone is not basic auth
    clean_env.setenv("MLFLOW_TRACKING_PASSWORD", SECRET)
    assert authorization_sent() == basic("alice", SECRET)  # basic wins, as in MLflow's code


def test_credentials_file_is_read_and_environment_wins_per_field(clean_env, tmp_path):
    folder = tmp_path / ".mlflow"
    folder.mkdir()
    (folder / "credentials").write_text(
        "[mlflow]\nmlflow_tracking_username = filebob\nmlflow_tracking_password = file-pw\n"
    )
    assert authorization_sent() == basic("filebob", "file-pw")
    clean_env.setenv("MLFLOW_TRACKING_PASSWORD", SECRET)
    assert authorization_sent() == basic("filebob", SECRET)


def test_credentials_in_the_uri_are_used_and_never_shown(clean_env):
    clean_env.setenv("MLFLOW_TRACKING_USERNAME", "alice")
    clean_env.setenv("MLFLOW_TRACKING_PASSWORD", "env-pw")
    assert authorization_sent("http://carol:uri%40secret@127.0.0.1:{port}") == basic("carol", "uri@secret")
    store = RestStore("http://carol:uri%40secret@127.0.0.1:1", max_retries=0)
    assert "secret" not in store.display_uri and "secret" not in repr(store)
    assert store.display_uri == "http://carol:***@127.0.0.1:1"


def test_settings_repr_hides_the_secret(clean_env):
    clean_env.setenv("MLFLOW_TRACKING_TOKEN", TOKEN)
    settings = TransportSettings.from_env("http://h")
    assert settings.auth_kind == "bearer"
    assert TOKEN not in repr(settings)


def test_rejected_credentials_never_appear_in_the_error(clean_env):
    clean_env.setenv("MLFLOW_TRACKING_USERNAME", "alice")
    clean_env.setenv("MLFLOW_TRACKING_PASSWORD", SECRET)
    encoded = basic("alice", SECRET).split()[1]
    # A careless proxy echoing the Authorization header back in its 401 body.
    def echo(n, req):
        return Reply(401, f"bad credentials: {req.headers.get('Authorization')} / {SECRET}")

    with FakeServer(echo) as server:
        with pytest.raises(AuthFailed) as caught:
            RestStore(server.url, max_retries=0).get_experiment("0")
    message = str(caught.value)
    assert "check the credentials" in message
    assert SECRET not in message and encoded not in message and "***" in message


def test_unreadable_ca_bundle_is_a_clear_error(clean_env, tmp_path):
    clean_env.setenv("MLFLOW_TRACKING_SERVER_CERT_PATH", str(tmp_path / "missing.pem"))
    with pytest.raises(StoreError, match="MLFLOW_TRACKING_SERVER_CERT_PATH"):
        RestStore("https://127.0.0.1:1")


def test_insecure_tls_and_server_cert_together_are_refused(clean_env, tmp_path):
    clean_env.setenv("MLFLOW_TRACKING_INSECURE_TLS", "true")
    clean_env.setenv("MLFLOW_TRACKING_SERVER_CERT_PATH", str(tmp_path / "ca.pem"))
    with pytest.raises(StoreError, match="unset one of them"):
        RestStore("https://127.0.0.1:1")


# -- TLS -------------------------------------------------------------------------------------


def make_certificate(folder: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / f"{name}.crt", folder / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_server_context(tmp_path):
    cert, key = make_certificate(tmp_path, "server")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context, cert


def test_self_signed_server_is_refused_by_default(tls_server_context):
    context, _ = tls_server_context
    with FakeServer(Reply(body=EXPERIMENT), tls=context) as server:
        with pytest.raises(Unreachable, match="(?i)certificate"):
            RestStore(server.url, max_retries=0, timeout=5).get_experiment("0")


def test_server_cert_path_verifies_against_that_bundle(clean_env, tls_server_context):
    context, cert = tls_server_context
    clean_env.setenv("MLFLOW_TRACKING_SERVER_CERT_PATH", str(cert))
    with FakeServer(Reply(body=EXPERIMENT), tls=context) as server:
        assert RestStore(server.url, max_retries=0, timeout=5).get_experiment("0").name == "Default"


def test_insecure_tls_skips_verification(clean_env, tls_server_context):
    context, _ = tls_server_context
    clean_env.setenv("MLFLOW_TRACKING_INSECURE_TLS", "true")
    with FakeServer(Reply(body=EXPERIMENT), tls=context) as server:
        assert RestStore(server.url, max_retries=0, timeout=5).get_experiment("0").name == "Default"


def test_client_certificate_is_presented(clean_env, tls_server_context, tmp_path):
    context, server_cert = tls_server_context
    client_cert, client_key = make_certificate(tmp_path, "client")
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(client_cert)
    bundle = tmp_path / "client.pem"  # MLflow's client takes one file holding cert and key
    bundle.write_bytes(client_cert.read_bytes() + client_key.read_bytes())
    clean_env.setenv("MLFLOW_TRACKING_SERVER_CERT_PATH", str(server_cert))
    with FakeServer(Reply(body=EXPERIMENT), tls=context) as server:
        with pytest.raises(Unreachable):
            RestStore(server.url, max_retries=0, timeout=5).get_experiment("0")
        clean_env.setenv("MLFLOW_TRACKING_CLIENT_CERT_PATH", str(bundle))
        assert RestStore(server.url, max_retries=0, timeout=5).get_experiment("0").name == "Default"


# -- a real `mlflow server --app-name basic-auth` ---------------------------------------------

ADMIN, ADMIN_PASSWORD = "admin", "admin-Passw0rd-long"
#: The PBKDF2 password check is slow on a loaded machine: be patient with the real server.
REAL_TIMEOUT = 90.0


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory):
    """A basic-auth mlflow server that allows only the Host `localhost:<port>`, so that the
    same server answers `http://127.0.0.1:<port>` with its real 'Invalid Host header' 403."""
    if importlib.util.find_spec("flask_wtf") is None:
        pytest.skip("Flask-WTF (mlflow[auth]) is not installed: the basic-auth server tests did NOT run")
    tmp = tmp_path_factory.mktemp("auth-server")
    port = free_port()
    (tmp / "auth.ini").write_text(
        "[mlflow]\ndefault_permission = NO_PERMISSIONS\n"
        f"database_uri = sqlite:///{tmp / 'auth.db'}\nadmin_username = {ADMIN}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
    )
    env = {
        **os.environ,
        "MLFLOW_AUTH_CONFIG_PATH": str(tmp / "auth.ini"),
        "MLFLOW_AUTH_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "MLFLOW_FLASK_SERVER_SECRET_KEY": "tracktui-test",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",  # no job runner and huey workers to start
    }
    for name in AUTH_ENV:
        env.pop(name, None)
    log = open(tmp / "server.log", "wb")
    process = subprocess.Popen(
        [
            sys.executable, "-m", "mlflow", "server", "--app-name", "basic-auth",
            "--backend-store-uri", f"sqlite:///{tmp / 'mlflow.db'}",
            "--default-artifact-root", str(tmp / "art"),
            "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
            "--allowed-hosts", f"localhost:{port}",
        ],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp, start_new_session=True,
    )
    log.close()
    url = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                pytest.fail(f"basic-auth server exited:\n{(tmp / 'server.log').read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                    break
            except urllib.error.HTTPError:  # any HTTP answer (403 for this Host): it is up
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("basic-auth server did not start within 180 s")
                time.sleep(0.5)
        _create_user(url, "bob", "bob-Passw0rd-long")
        yield url, port
    finally:  # the server has children (uvicorn, job runners): stop its whole group
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)


def _create_user(url: str, user: str, password: str) -> None:
    import httpx

    response = httpx.post(
        f"{url}/api/2.0/mlflow/users/create",
        json={"username": user, "password": password},
        auth=(ADMIN, ADMIN_PASSWORD),
        timeout=REAL_TIMEOUT,
    )
    assert response.status_code == 200, response.text


def open_real(url: str) -> RestStore:
    return RestStore(url, timeout=REAL_TIMEOUT, max_retries=0)


def test_real_server_with_right_credentials_answers_like_mlflow(auth_server, clean_env):
    url, _ = auth_server
    clean_env.setenv("MLFLOW_TRACKING_USERNAME", ADMIN)
    clean_env.setenv("MLFLOW_TRACKING_PASSWORD", ADMIN_PASSWORD)
    from mlflow import MlflowClient

    expected = MlflowClient(url).get_experiment("0")
    got = open_real(url).get_experiment("0")
    assert (got.id, got.name, got.artifact_location, got.creation_time) == (
        expected.experiment_id, expected.name, expected.artifact_location, expected.creation_time,
    )
    assert [e.name for e in open_real(url).search_experiments()] == ["Default"]


def test_real_server_without_credentials_is_auth_failed(auth_server):
    url, _ = auth_server
    with pytest.raises(AuthFailed, match="No credentials were sent"):
        open_real(url).get_experiment("0")


def test_real_server_with_wrong_password_is_auth_failed_without_the_password(auth_server, clean_env):
    url, _ = auth_server
    clean_env.setenv("MLFLOW_TRACKING_USERNAME", ADMIN)
    clean_env.setenv("MLFLOW_TRACKING_PASSWORD", "wrong-" + SECRET)
    with pytest.raises(AuthFailed, match="check the credentials") as caught:
        open_real(url).search_experiments()
    assert SECRET not in str(caught.value)


def test_real_server_denies_a_user_without_permission(auth_server, clean_env):
    url, _ = auth_server
    with pytest.raises(PermissionDenied, match="Permission denied") as caught:
        open_real(url.replace("//", "//bob:bob-Passw0rd-long@")).get_experiment("0")
    assert not isinstance(caught.value, HostNotAllowed)
    assert "bob-Passw0rd" not in str(caught.value)


def test_real_server_refusing_the_host_header_names_the_fix(auth_server, clean_env):
    _, port = auth_server
    clean_env.setenv("MLFLOW_TRACKING_USERNAME", ADMIN)
    clean_env.setenv("MLFLOW_TRACKING_PASSWORD", ADMIN_PASSWORD)
    with pytest.raises(HostNotAllowed, match=f"--allowed-hosts '127.0.0.1:{port}'"):
        open_real(f"http://127.0.0.1:{port}").search_experiments()


def test_requests_ca_bundle_is_honoured_like_mlflows_client(clean_env, tls_server_context):
    context, cert = tls_server_context
    clean_env.setenv("REQUESTS_CA_BUNDLE", str(cert))
    with FakeServer(Reply(body=EXPERIMENT), tls=context) as server:
        assert RestStore(server.url, max_retries=0, timeout=5).get_experiment("0").name == "Default"


def test_mlflow_workspace_is_sent_as_mlflows_header(clean_env):
    clean_env.setenv("MLFLOW_WORKSPACE", "team-a")
    with FakeServer(Reply(body=EXPERIMENT)) as server:
        RestStore(server.url, max_retries=0, timeout=5).get_experiment("0")
    assert server.requests[0].headers.get("X-MLFLOW-WORKSPACE") == "team-a"


def test_auth_plugins_tracktui_cannot_use_are_warned_about(clean_env):
    assert RestStore("http://127.0.0.1:1").warnings == ()
    clean_env.setenv("MLFLOW_TRACKING_AUTH", "my_plugin")
    clean_env.setenv("MLFLOW_TRACKING_AWS_SIGV4", "true")
    warnings = RestStore("http://127.0.0.1:1").warnings
    assert any("my_plugin" in w for w in warnings) and any("SigV4" in w for w in warnings)
