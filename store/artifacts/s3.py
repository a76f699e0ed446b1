"""Artifacts in S3 or any S3-compatible store (MinIO, moto…), via boto3 (`tracktui[s3]`).

Configuration is MLflow's: boto3's usual credential chain (AWS_* variables, ~/.aws, instance
roles), `MLFLOW_S3_ENDPOINT_URL` for a non-AWS endpoint and `MLFLOW_S3_IGNORE_TLS` to skip
certificate checks.

A boto3 client costs 80-250 ms of CPU to create (it loads S3's service model), more than a
listing or a preview read itself (bench_scale.py's s3 part: a run's root listed in 124 ms with
a client per call, 28 ms shared): repositories share one client per configuration, made again
when the configuration changes and at least every CLIENT_REUSE_SECONDS (a changed ~/.aws file
is read then).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from ..errors import AuthFailed, NotFound, StoreError, Unreachable, UnsupportedURI
from .base import CHUNK_SIZE, PREVIEW_LIMIT, ArtifactEntry, ArtifactRepository, ArtifactStream
from .safety import child_of, clean_relative_path, join_under

INSTALL_HINT = "pip install 'tracktui[s3]' (boto3)"
CLIENT_REUSE_SECONDS = 600
MAX_CLIENTS = 8
_clients: dict[tuple, Any] = {}
_clients_lock = threading.Lock()


class S3ArtifactRepository(ArtifactRepository):
    def __init__(self, uri: str):
        try:
            import boto3
            import botocore.config
            import botocore.exceptions
        except ImportError:
            raise UnsupportedURI(f"Reading s3:// artifacts needs boto3: {INSTALL_HINT}") from None
        parts = urlsplit(uri)
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/")
        self.display_uri = uri
        self._botocore = botocore.exceptions
        self._client = _shared_client(boto3, botocore.config)

    def list(self, path: str = "") -> list[ArtifactEntry]:
        path = clean_relative_path(path)
        key_prefix = join_under(self.prefix, path)
        key_prefix = f"{key_prefix}/" if key_prefix else ""
        entries: list[ArtifactEntry] = []
        kwargs = {"Bucket": self.bucket, "Prefix": key_prefix, "Delimiter": "/"}
        while True:
            page = self._call(lambda: self._client.list_objects_v2(**kwargs), key_prefix)
            for common in page.get("CommonPrefixes") or ():
                rel = self._relative(common["Prefix"].rstrip("/"), path)
                entries.append(ArtifactEntry(rel, True, None))
            for obj in page.get("Contents") or ():
                if obj["Key"] == key_prefix:  # a "directory marker" object
                    continue
                entries.append(ArtifactEntry(self._relative(obj["Key"], path), False, int(obj["Size"])))
            if not page.get("IsTruncated"):
                return sorted(entries, key=lambda e: e.path)
            kwargs["ContinuationToken"] = page["NextContinuationToken"]

    def open(self, path: str) -> ArtifactStream:
        path = clean_relative_path(path)
        key = join_under(self.prefix, path)
        answer = self._call(lambda: self._client.get_object(Bucket=self.bucket, Key=key), key)
        return _BodyStream(answer["Body"], int(answer.get("ContentLength") or 0), self)

    def read_head(self, path: str, limit: int = 256 * 1024) -> tuple[bytes, int | None]:
        path = clean_relative_path(path)
        key = join_under(self.prefix, path)
        answer = self._call(
            lambda: self._client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes=0-{max(limit, 1) - 1}"), key
        )
        data = answer["Body"].read()[:limit]
        total = answer.get("ContentRange", "").rpartition("/")[2]
        return data, int(total) if total.isdigit() else int(answer.get("ContentLength") or len(data))

    def read_tail(self, path: str, limit: int = PREVIEW_LIMIT) -> tuple[bytes, int | None]:
        path = clean_relative_path(path)
        key = join_under(self.prefix, path)
        try:
            answer = self._call(
                lambda: self._client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes=-{max(limit, 1)}"), key
            )
        except StoreError as exc:
            if "InvalidRange" not in exc.message:
                raise
            return b"", 0  # S3 refuses any range of an empty object
        data = answer["Body"].read()[-limit:] if limit else b""
        total = answer.get("ContentRange", "").rpartition("/")[2]
        return data, int(total) if total.isdigit() else int(answer.get("ContentLength") or len(data))

    def close(self) -> None:
        """Nothing to release: the client is shared (_shared_client) and thread-safe."""

    def _relative(self, key: str, parent: str) -> str:
        prefix = f"{self.prefix}/" if self.prefix else ""
        if not key.startswith(prefix):
            raise StoreError(f"s3 listed {key!r} outside {self.display_uri}")
        return child_of(parent, key[len(prefix):])

    def _call(self, fn, key: str):
        exc_mod = self._botocore
        try:
            return fn()
        except exc_mod.ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            where = f"s3://{self.bucket}/{key}"
            if code in ("NoSuchKey", "404", "NotFound"):
                raise NotFound(f"No artifact at {where}") from None
            if code == "NoSuchBucket":
                raise NotFound(f"The bucket {self.bucket!r} does not exist ({self.display_uri})") from None
            if code in ("AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken"):
                raise AuthFailed(
                    f"S3 refused access to {where} ({code}). Check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY "
                    f"or the AWS profile, and MLFLOW_S3_ENDPOINT_URL for non-AWS stores"
                ) from None
            raise StoreError(f"S3 failed on {where}: {code} {error.get('Message', '')}".strip()) from None
        except exc_mod.NoCredentialsError:
            raise AuthFailed(
                "No AWS credentials found for s3:// artifacts: set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY or configure an AWS profile"
            ) from None
        except (exc_mod.EndpointConnectionError, exc_mod.ConnectionError) as exc:
            raise Unreachable(f"Cannot reach the S3 endpoint for {self.display_uri}: {type(exc).__name__}") from None
        except exc_mod.BotoCoreError as exc:
            raise StoreError(f"S3 failed on s3://{self.bucket}/{key}: {type(exc).__name__}") from None


def _shared_client(boto3, botocore_config) -> Any:
    """The S3 client for the current configuration: MLFLOW_S3_ENDPOINT_URL, MLFLOW_S3_IGNORE_TLS
    and every AWS_* variable (credentials, profile, region, config files), within the current
    CLIENT_REUSE_SECONDS window. boto3 clients are thread-safe; their creation is serialized.
    A replaced client is dropped, not closed: a download may still be reading through it."""
    endpoint = os.environ.get("MLFLOW_S3_ENDPOINT_URL") or None
    verify = os.environ.get("MLFLOW_S3_IGNORE_TLS", "").lower() not in ("true", "1")
    window = int(time.time() // CLIENT_REUSE_SECONDS)
    aws = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("AWS_")))
    key = (endpoint, verify, aws, window)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = boto3.session.Session().client(
                "s3",
                endpoint_url=endpoint,
                verify=verify,
                config=botocore_config.Config(max_pool_connections=32, retries={"max_attempts": 3}),
            )
            for old in [k for k in _clients if k[3] != window]:
                del _clients[old]
            while len(_clients) >= MAX_CLIENTS:
                del _clients[next(iter(_clients))]  # the oldest configuration
            _clients[key] = client
        return client


class _BodyStream(ArtifactStream):
    def __init__(self, body, size: int, repo: S3ArtifactRepository):
        self._body = body
        self.size = size
        self._repo = repo

    def chunks(self, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        iterator = self._body.iter_chunks(chunk_size)
        while True:
            chunk = self._repo._call(lambda: next(iterator, None), "(download)")
            if chunk is None:
                return
            yield chunk

    def close(self) -> None:
        self._body.close()
