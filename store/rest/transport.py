"""HTTP transport to an MLflow tracking server: auth, TLS, timeouts, retries, error mapping.

Behaves like MLflow's own client (`mlflow.utils.rest_utils.http_request`) so a user's existing
environment works unchanged: the same environment variables, the same credential precedence,
the same retry codes and backoff. Everything a server can answer becomes a `StoreError` whose
message a person can act on; credentials never appear in any message or repr.
"""

from __future__ import annotations

import base64
import configparser
import contextlib
import email.utils
import json
import os
import random
import re
import ssl
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import httpx

from .. import interrupt
from ..errors import (
    AuthFailed,
    HostNotAllowed,
    InvalidValue,
    NotFound,
    PermissionDenied,
    ServerError,
    StoreError,
    Unreachable,
    UnsupportedURI,
)
from ..uris import mask_uri

#: Statuses MLflow's client retries (mlflow.utils.request_utils._TRANSIENT_FAILURE_RESPONSE_CODES).
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
#: urllib3's cap on one backoff sleep, which MLflow's client inherits.
MAX_BACKOFF_SECONDS = 120.0
#: What MLflow 3 servers answer when the Host header is not in --allowed-hosts.
INVALID_HOST_MARKER = "Invalid Host header"
#: The largest JSON answer read: a server streaming an endless body must not fill the memory.
#: A 50,000-run search page with many params is a few hundred MB at most.
MAX_JSON_BYTES = 512 << 20
#: An artifact download must bring at least this many bytes in each MLFLOW_HTTP_REQUEST_TIMEOUT
#: window (64 KiB in 120 s by default: 0.5 KiB/s, far below any real link). A whole-download
#: deadline would cut large files on slow links; this cuts only a server trickling bytes.
MIN_BYTES_PER_TIMEOUT = 64 << 10


@dataclass(frozen=True)
class TransportSettings:
    """Connection settings resolved from MLflow's environment variables (or overrides).

    `authorization` is the ready `Authorization` header value; it is excluded from repr so a
    settings object can be logged.
    """

    timeout: float = 120.0
    max_retries: int = 7
    backoff_factor: float = 2.0
    backoff_jitter: float = 1.0
    respect_retry_after: bool = True
    verify: bool | str = True
    client_cert: str | None = None
    auth_kind: str | None = None  # "basic", "bearer" or None — safe to show
    workspace: str | None = None  # MLFLOW_WORKSPACE: sent as X-MLFLOW-WORKSPACE
    authorization: str | None = field(default=None, repr=False)
    secrets: tuple[str, ...] = field(default=(), repr=False)

    @classmethod
    def from_env(
        cls,
        uri: str,
        env: Mapping[str, str] | None = None,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        backoff_factor: float | None = None,
        backoff_jitter: float | None = None,
        credentials_file: Path | None = None,
    ) -> TransportSettings:
        """Resolve settings as MLflow's client does. Explicit arguments win over the environment.

        Credentials, first match wins: user:password in the URI (requests, under MLflow's client,
        lets URL credentials override its header), MLFLOW_TRACKING_USERNAME/PASSWORD (each
        falling back to ~/.mlflow/credentials, section [mlflow]), MLFLOW_TRACKING_TOKEN as a
        bearer token only when no username+password pair is set. Raises StoreError for
        settings MLflow would also reject.
        """
        env = os.environ if env is None else env
        check_server_url(uri)
        parts = urlsplit(uri)
        user = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password else None
        if not (user and password):
            file_user, file_password = _read_credentials_file(
                credentials_file or Path("~/.mlflow/credentials").expanduser()
            )
            user = env.get("MLFLOW_TRACKING_USERNAME") or file_user
            password = env.get("MLFLOW_TRACKING_PASSWORD") or file_password
        token = env.get("MLFLOW_TRACKING_TOKEN") or None
        authorization = auth_kind = None
        secrets: list[str] = []
        if user and password:
            raw = base64.standard_b64encode(f"{user}:{password}".encode()).decode()
            authorization, auth_kind = f"Basic {raw}", "basic"
            secrets += [password, raw]
        elif token:
            authorization, auth_kind = f"Bearer {token}", "bearer"
            secrets.append(token)

        insecure = _env_bool(env, "MLFLOW_TRACKING_INSECURE_TLS", False)
        server_cert = env.get("MLFLOW_TRACKING_SERVER_CERT_PATH") or None
        if insecure and server_cert:
            raise StoreError(
                "MLFLOW_TRACKING_INSECURE_TLS and MLFLOW_TRACKING_SERVER_CERT_PATH are both set; "
                "unset one of them (skip verification, or verify against the given CA bundle)"
            )
        # requests (under MLflow's client) also honours these bundles when nothing else is set.
        bundle = env.get("REQUESTS_CA_BUNDLE") or env.get("CURL_CA_BUNDLE") or None
        verify: bool | str = False if insecure else (server_cert or bundle or True)
        return cls(
            timeout=float(timeout if timeout is not None else _env_number(env, "MLFLOW_HTTP_REQUEST_TIMEOUT", 120)),
            max_retries=int(
                max_retries if max_retries is not None else _env_number(env, "MLFLOW_HTTP_REQUEST_MAX_RETRIES", 7)
            ),
            backoff_factor=float(
                backoff_factor
                if backoff_factor is not None
                else _env_number(env, "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", 2)
            ),
            backoff_jitter=float(
                backoff_jitter
                if backoff_jitter is not None
                else _env_number(env, "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER", 1.0)
            ),
            respect_retry_after=_env_bool(env, "MLFLOW_HTTP_RESPECT_RETRY_AFTER_HEADER", True),
            verify=verify,
            client_cert=env.get("MLFLOW_TRACKING_CLIENT_CERT_PATH") or None,
            auth_kind=auth_kind,
            workspace=(env.get("MLFLOW_WORKSPACE") or "").strip() or None,
            authorization=authorization,
            secrets=tuple(s for s in secrets if s),
        )

    def without_credentials(self) -> TransportSettings:
        """These settings for a server other than the tracking server (an artifact URI the
        server handed out naming another host): same TLS trust and timeouts, but no password,
        token or client certificate, which the user meant for the tracking server only."""
        return replace(self, authorization=None, auth_kind=None, secrets=(), client_cert=None)


class RestTransport:
    """One pooled httpx client to one server. Thread-safe (httpx.Client is)."""

    def __init__(self, uri: str, settings: TransportSettings):
        check_server_url(uri)
        self.display_uri = safe_display_uri(uri)
        self.settings = settings
        self.base_url = _strip_userinfo(uri).rstrip("/")
        headers = {"User-Agent": "tracktui"}
        if settings.workspace:
            headers["X-MLFLOW-WORKSPACE"] = settings.workspace
        if settings.authorization:
            headers["Authorization"] = settings.authorization
        try:
            self._client = httpx.Client(
                headers=headers,
                timeout=httpx.Timeout(settings.timeout),
                verify=ssl_context(settings),
                limits=httpx.Limits(max_connections=16, max_keepalive_connections=8),
                follow_redirects=os.environ.get("MLFLOW_ALLOW_HTTP_REDIRECTS", "true").lower() in ("true", "1"),
                trust_env=True,
            )
        except (OSError, ValueError, ssl.SSLError) as exc:  # unreadable CA bundle or client certificate
            raise StoreError(
                f"Cannot set up TLS for {self.display_uri} (check MLFLOW_TRACKING_SERVER_CERT_PATH and "
                f"MLFLOW_TRACKING_CLIENT_CERT_PATH): {self._scrub(str(exc))}"
            ) from None
        self._closed = False
        self._answered = False  # has the server ever answered this client?
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RestTransport({self.display_uri!r}, auth={self.settings.auth_kind})"

    # -- public ---------------------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict:
        """GET `path` (relative to the server URL) and return the decoded JSON object."""
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Mapping[str, Any]) -> dict:
        return self.request("POST", path, json_body=body)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> dict:
        """Send with retries; return the JSON object. Raises the StoreError matching the answer,
        or Interrupted, sending nothing more, once the caller abandoned the call (store.interrupt)."""
        url = self.base_url + path
        attempt = 0
        while True:
            interrupt.check()
            wait: float | None = None
            try:
                request = self._client.build_request(
                    method, url, params=_clean_params(params), json=json_body, headers=headers
                )
                response, body = self._send_bounded(request, path)
            except httpx.TooManyRedirects:
                raise self._redirect_loop(path) from None
            except httpx.DecodingError:
                raise ServerError(
                    f"{self.display_uri} answered {_short(path)} with a body that cannot be decoded "
                    f"(a broken Content-Encoding)"
                ) from None
            except httpx.TimeoutException as exc:
                if isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout)) and attempt < self.settings.max_retries:
                    wait = self._backoff(attempt + 1)
                else:
                    # A read timeout is not retried: the server is working slowly, and MLflow's
                    # default (7 retries x 120 s) would freeze the UI for a quarter of an hour.
                    raise self._timed_out(path) from None
            except (httpx.TransportError, OSError) as exc:
                # Connection refused/reset, DNS failure, server gone mid-response.
                if attempt < self._connect_retries() and not isinstance(exc, httpx.UnsupportedProtocol):
                    wait = self._backoff(attempt + 1)
                else:
                    raise Unreachable(
                        f"Cannot reach the MLflow server at {self.display_uri}"
                        f"{_after(attempt)}: {self._scrub(_describe(exc))}"
                    ) from None
            else:
                self._answered = True
                if response.status_code in RETRY_STATUSES and attempt < self.settings.max_retries:
                    wait = self._retry_after(response) or self._backoff(attempt + 1)
                else:
                    return self._decode(response, body, path, attempt)
            attempt += 1
            time.sleep(wait)

    @contextlib.contextmanager
    def stream(
        self, path: str, params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None,
        *, also_accept: tuple[int, ...] = (),
    ) -> Iterator[httpx.Response]:
        """GET `path` without reading the body (artifact downloads): yields the 200 (or, for a
        Range request, 206) response, or one whose status is in `also_accept`.

        Connection failures and transient statuses are retried as in `request`; any other answer
        raises the matching StoreError. Errors while reading the body are the caller's."""
        url = self.base_url + path
        attempt = 0
        while True:
            try:
                request = self._client.build_request("GET", url, params=_clean_params(params), headers=headers)
                response = self._client.send(request, stream=True)
            except httpx.TooManyRedirects:
                raise self._redirect_loop(path) from None
            except (httpx.TransportError, OSError) as exc:
                if isinstance(exc, httpx.ReadTimeout):
                    raise self._timed_out(path) from None
                retryable = not isinstance(exc, httpx.UnsupportedProtocol)
                if retryable and attempt < self._connect_retries():
                    attempt += 1
                    time.sleep(self._backoff(attempt))
                    continue
                raise Unreachable(
                    f"Cannot reach the MLflow server at {self.display_uri}"
                    f"{_after(attempt)}: {self._scrub(_describe(exc))}"
                ) from None
            self._answered = True
            if response.status_code in (200, 206) or response.status_code in also_accept:
                try:
                    yield response
                finally:
                    response.close()
                return
            try:
                body = self._read_bounded(response, path, time.monotonic() + self.settings.timeout)
            except (httpx.TransportError, OSError):
                body = b""  # the status says enough
            finally:
                response.close()
            if response.status_code in RETRY_STATUSES and attempt < self.settings.max_retries:
                attempt += 1
                time.sleep(self._retry_after(response) or self._backoff(attempt))
                continue
            self._decode(response, body, path, attempt)
            raise ServerError(f"{self.display_uri} answered {_short(path)} with HTTP {response.status_code}")

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._client.close()

    # -- helpers --------------------------------------------------------------------------------

    def _send_bounded(self, request: httpx.Request, path: str) -> tuple[httpx.Response, bytes]:
        """Send and read the whole answer within one deadline of `settings.timeout` seconds
        and MAX_JSON_BYTES: httpx's timeout is per read, so a server sending a byte every
        few seconds (or bytes without end) would otherwise hold the caller forever."""
        deadline = time.monotonic() + self.settings.timeout
        response = self._client.send(request, stream=True)
        try:
            return response, self._read_bounded(response, path, deadline)
        finally:
            response.close()

    def _read_bounded(self, response: httpx.Response, path: str, deadline: float) -> bytes:
        """The body, or Unreachable past `deadline`, or ServerError past MAX_JSON_BYTES. Checked
        at each network read, so the wait exceeds the deadline by at most one read timeout."""
        limit = MAX_JSON_BYTES
        length = response.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > limit:
            raise self._too_large(path, limit)
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > limit:
                raise self._too_large(path, limit)
            if time.monotonic() > deadline:
                raise httpx.ReadTimeout("total deadline passed")
        return bytes(body)

    def _too_large(self, path: str, limit: int) -> ServerError:
        return ServerError(
            f"{self.display_uri} answered {_short(path)} with more than {limit >> 20} MiB; "
            f"stopped reading (is this URL an MLflow tracking server?)"
        )

    def _redirect_loop(self, path: str) -> ServerError:
        return ServerError(
            f"{self.display_uri} redirected {_short(path)} too many times (a redirect loop?); "
            f"check the URL, including http versus https and any --static-prefix path"
        )

    def _timed_out(self, path: str) -> Unreachable:
        return Unreachable(
            f"{self.display_uri} did not answer {_short(path)}: timed out after "
            f"{self.settings.timeout:g} s (set MLFLOW_HTTP_REQUEST_TIMEOUT to wait longer)"
        )

    def _connect_retries(self) -> int:
        """MLflow's full retry schedule (about 4 minutes by default) once the server has
        answered; before that, one quick retry: a server that never answered is most likely a
        wrong URL or not started, and the user should hear so at once."""
        return self.settings.max_retries if self._answered else min(1, self.settings.max_retries)

    def _backoff(self, retry_number: int) -> float:
        """urllib3's schedule, which MLflow's client uses: the first retry is immediate, then
        factor x 2^(n-1) plus up to `jitter` seconds, capped at 120 s."""
        if retry_number <= 1:
            return 0.0
        value = self.settings.backoff_factor * (2 ** (retry_number - 1))
        if self.settings.backoff_jitter:
            value += random.random() * self.settings.backoff_jitter
        return max(0.0, min(MAX_BACKOFF_SECONDS, value))

    def _retry_after(self, response: httpx.Response) -> float | None:
        if not self.settings.respect_retry_after or response.status_code not in (413, 429, 503):
            return None
        header = response.headers.get("Retry-After")
        if not header:
            return None
        try:
            seconds = float(header)
        except ValueError:
            when = email.utils.parsedate_to_datetime(header) if header else None
            if when is None:
                return None
            seconds = when.timestamp() - time.time()
        return max(0.0, min(MAX_BACKOFF_SECONDS, seconds))

    def _decode(self, response: httpx.Response, body: bytes, path: str, attempt: int) -> dict:
        status = response.status_code
        text = _text(body, response.charset_encoding)
        payload = _json_object(text)
        if status == 200:
            if payload is None:
                if not text.strip():
                    return {}
                raise ServerError(
                    f"The server at {self.display_uri} answered {_short(path)} with something that is "
                    f"not MLflow JSON: {_snippet(self._scrub(text))!r}. Is this URL an MLflow tracking server?"
                )
            return payload
        code = str(payload.get("error_code", "")) if payload else ""
        message = self._scrub(str(payload.get("message", "")) if payload else _snippet(text))
        where = f"{self.display_uri} ({_short(path)})"
        if status == 401 or code in ("UNAUTHENTICATED", "CUSTOMER_UNAUTHORIZED"):
            raise AuthFailed(self._auth_message(where, message))
        if status == 403 and INVALID_HOST_MARKER.lower() in text.lower():
            host = urlsplit(self.base_url).netloc
            raise HostNotAllowed(
                f"The MLflow server at {self.display_uri} refused the Host header {host!r} "
                f"(its DNS-rebinding guard answered 403 {INVALID_HOST_MARKER!r}). Restart the server "
                f"with --allowed-hosts '{host}' (or set MLFLOW_SERVER_ALLOWED_HOSTS='{host}' where "
                f"the server runs); wildcards such as '*.example.com' are accepted"
            )
        if status == 403 or code == "PERMISSION_DENIED":
            raise PermissionDenied(
                f"Permission denied by {where}: {message or 'no details'}. "
                f"The {self._who()} may not perform this operation"
            )
        if status == 404 or code in ("RESOURCE_DOES_NOT_EXIST", "NOT_FOUND"):
            if payload is None or code == "ENDPOINT_NOT_FOUND":
                raise ServerError(
                    f"{where} has no such endpoint (HTTP 404). Check that the URL points at an MLflow "
                    f"tracking server, including any --static-prefix path"
                )
            raise NotFound(message or f"Not found at {where}")
        if payload is None and status < 500:
            raise ServerError(
                f"{where} answered HTTP {status} with something that is not MLflow JSON: "
                f"{_snippet(self._scrub(text))!r}"
            )
        if 400 <= status < 500:
            raise InvalidValue(f"The server rejected the request ({code or status}): {message}")
        raise ServerError(
            f"The MLflow server at {where} failed with HTTP {status}{_after(attempt)}"
            f"{' (' + code + ')' if code else ''}: {message or 'no details'}"
        )

    def _auth_message(self, where: str, message: str) -> str:
        if self.settings.auth_kind is None:
            hint = (
                "No credentials were sent: set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD "
                "(or ~/.mlflow/credentials), or MLFLOW_TRACKING_TOKEN"
            )
        else:
            hint = f"The {self._who()} was refused; check the credentials"
        detail = f" Server said: {_snippet(message)}" if message else ""
        return f"Authentication failed at {where}. {hint}.{detail}"

    def _who(self) -> str:
        return {"basic": "user (basic auth)", "bearer": "bearer token"}.get(
            self.settings.auth_kind or "", "anonymous client"
        )

    def _scrub(self, text: str) -> str:
        for secret in self.settings.secrets:
            text = text.replace(secret, "***")
        return text


class TrickleGuard:
    """Fails a body that arrives slower than MIN_BYTES_PER_TIMEOUT per `timeout` seconds.
    Call `received(n)` after each network read."""

    def __init__(self, timeout: float, describe: str):
        self._timeout = timeout
        self._describe = describe
        self._window_start = time.monotonic()
        self._window_bytes = 0

    def received(self, count: int) -> None:
        self._window_bytes += count
        now = time.monotonic()
        if now - self._window_start < self._timeout:
            return
        if self._window_bytes < MIN_BYTES_PER_TIMEOUT:
            raise Unreachable(
                f"{self._describe} is too slow: {self._window_bytes} bytes in the last "
                f"{now - self._window_start:.0f} s (set MLFLOW_HTTP_REQUEST_TIMEOUT to allow slower links)"
            )
        self._window_start, self._window_bytes = now, 0


def check_server_url(uri: str) -> None:
    """Raise UnsupportedURI unless `uri` is http(s)://host[:port][/path]."""
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number, as in
        # `http://user:pass/word@host`, where an unencoded `/` ends the host at "user:pass"
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        valid = False
    if not valid:
        raise UnsupportedURI(
            f"{safe_display_uri(uri)!r} is not a valid tracking server URL; expected http(s)://host[:port][/path]"
        )


def same_origin(a: str, b: str) -> bool:
    """True when URLs `a` and `b` share scheme, host and port (the browser's and httpx's rule
    for sending credentials along on a redirect)."""
    try:
        pa, pb = urlsplit(a), urlsplit(b)
        return (pa.scheme.lower(), pa.hostname, _port(pa)) == (pb.scheme.lower(), pb.hostname, _port(pb))
    except ValueError:
        return False


def _port(parts) -> int | None:
    return parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())


def safe_display_uri(uri: str) -> str:
    """mask_uri, plus a textual mask for URIs too broken to parse (they can hold a password too)."""
    return re.sub(r"(//[^/@:]*):[^/@]*@", r"\1:***@", mask_uri(uri))


def ssl_context(settings: TransportSettings) -> ssl.SSLContext:
    """Verification as MLflow's client does it: system CAs, a CA bundle, or none; plus an
    optional client certificate (one PEM file holding certificate and key, or the certificate
    alone when the key is built in)."""
    if settings.verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif isinstance(settings.verify, str):
        path = Path(settings.verify)
        context = ssl.create_default_context(
            cafile=str(path) if not path.is_dir() else None, capath=str(path) if path.is_dir() else None
        )
    else:
        context = ssl.create_default_context()
    if settings.client_cert:
        context.load_cert_chain(settings.client_cert)
    return context


def _strip_userinfo(uri: str) -> str:
    parts = urlsplit(uri)
    if "@" not in parts.netloc:
        return uri
    return urlunsplit((parts.scheme, parts.netloc.rsplit("@", 1)[1], parts.path, parts.query, parts.fragment))


def _read_credentials_file(path: Path) -> tuple[str | None, str | None]:
    if not path.is_file():
        return None, None
    config = configparser.ConfigParser()
    try:
        config.read(path)
    except (configparser.Error, OSError):
        return None, None
    if "mlflow" not in config:
        return None, None
    section = config["mlflow"]
    return section.get("mlflow_tracking_username"), section.get("mlflow_tracking_password")


def _env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise StoreError(f"{name} must be one of true, false, 1, 0 (got {raw!r})")


def _env_number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise StoreError(f"{name} must be a number (got {raw!r})") from None
    if value < 0:
        raise StoreError(f"{name} must not be negative (got {raw!r})")
    return value


def _clean_params(params: Mapping[str, Any] | None) -> dict | None:
    """Drop None values; booleans as MLflow spells them."""
    if params is None:
        return None
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else value
    return out


def _text(body: bytes, charset: str | None) -> str:
    try:
        return body.decode(charset or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        return body.decode("utf-8", errors="replace")


def _json_object(text: str) -> dict | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"the connection closed before a full answer arrived ({text or 'no details'})"
    if "refused" in text.lower():
        return "connection refused (is the server running, and on this port?)"
    return text or type(exc).__name__


def _after(attempt: int) -> str:
    return f" after {attempt + 1} attempts" if attempt else ""


def _short(path: str) -> str:
    return path.split("?", 1)[0]


def _snippet(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
