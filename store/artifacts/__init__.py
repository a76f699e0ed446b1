"""Run artifacts in every artifact store: one repository module per URI scheme.

`repository_for(artifact_uri)` picks the repository; a new scheme is one module plus one line
in `_SCHEMES`. The Store protocol's `list_artifacts`, `read_artifact_head` and
`download_artifacts` are built on top of this (store/base.py).
"""

from __future__ import annotations

import importlib
import os
import re
from typing import TYPE_CHECKING

from ..errors import UnsupportedURI
from ..uris import mask_uri
from .base import (
    PREVIEW_LIMIT,
    ArtifactEntry,
    ArtifactPreview,
    ArtifactRepository,
    ArtifactStream,
    ImageInfo,
)

if TYPE_CHECKING:
    from ..model import Run
    from ..rest.transport import RestTransport

#: scheme → "module:factory(uri, tracking_uri, transport)".
_SCHEMES = {
    "file": "tracktui.store.artifacts.local:LocalArtifactRepository",
    "mlflow-artifacts": "tracktui.store.artifacts.proxy:for_mlflow_artifacts_uri",
    "http": "tracktui.store.artifacts.proxy:for_http_uri",
    "https": "tracktui.store.artifacts.proxy:for_http_uri",
    "s3": "tracktui.store.artifacts.s3:S3ArtifactRepository",
}

#: Set to 1 to let a tracking server's `file:` artifact URIs be read from this machine's disk.
ALLOW_SERVER_LOCAL_ENV = "TRACKTUI_ALLOW_SERVER_LOCAL_ARTIFACTS"

#: Schemes MLflow supports that tracktui cannot read directly, and what to do instead.
_NOT_SUPPORTED = {
    "gs": "Google Cloud Storage (gs://)",
    "wasbs": "Azure Blob Storage (wasbs://)",
    "abfss": "Azure Data Lake (abfss://)",
    "hdfs": "HDFS (hdfs://)",
    "viewfs": "HDFS (viewfs://)",
    "ftp": "FTP (ftp://)",
    "sftp": "SFTP (sftp://)",
    "dbfs": "Databricks DBFS (dbfs:/)",
    "runs": "runs:/ URIs",
    "models": "models:/ URIs",
}

__all__ = [
    "PREVIEW_LIMIT",
    "ArtifactEntry",
    "ArtifactPreview",
    "ArtifactRepository",
    "ArtifactStream",
    "ImageInfo",
    "artifact_scheme",
    "repository_for",
    "repository_for_server_run",
]


def artifact_scheme(uri: str) -> str:
    """`s3://b/k` → `s3`; a plain path (POSIX or with a drive letter) → `file`."""
    if re.match(r"^[A-Za-z]:[\\/]", uri):
        return "file"
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.\-]*):", uri)
    return match.group(1).lower() if match else "file"


def repository_for(
    artifact_uri: str | None,
    *,
    tracking_uri: str | None = None,
    transport: RestTransport | None = None,
) -> ArtifactRepository:
    """The repository reading `artifact_uri`. `tracking_uri`/`transport` resolve
    `mlflow-artifacts:` URIs against a tracking server (with its auth). Raises UnsupportedURI."""
    if not artifact_uri:
        raise UnsupportedURI("This run has no artifact location")
    scheme = artifact_scheme(artifact_uri)
    target = _SCHEMES.get(scheme)
    if target is None:
        what = _NOT_SUPPORTED.get(scheme, f"'{scheme}:' artifact URIs")
        raise UnsupportedURI(
            f"{what} cannot be read by tracktui directly ({mask_uri(artifact_uri)}); only local paths, "
            f"mlflow-artifacts:, http(s) proxies and s3:// (extra: pip install 'tracktui[s3]') are. "
            f"Open the store through its tracking server (tracktui http://host:port): the server "
            f"fetches these artifacts for you"
        )
    module_name, factory_name = target.split(":")
    factory = getattr(importlib.import_module(module_name), factory_name)
    if scheme == "mlflow-artifacts":
        return factory(artifact_uri, tracking_uri, transport)
    if scheme in ("http", "https"):
        return factory(artifact_uri, transport)
    return factory(artifact_uri)


def repository_for_server_run(run: Run, transport: RestTransport, tracking_uri: str) -> ArtifactRepository:
    """The repository for a run read through a tracking server: the artifact proxy for
    `mlflow-artifacts:` runs, the run's own store when this machine can read it, else the
    server's `artifacts/list` + `get-artifact` (which reach any store the server can).

    A local path is the server's word, not the user's: a hostile server could name
    `file:///home/you/.ssh` and have `download` or `copy` read it (and upload it elsewhere).
    So local paths are read through the server, unless the user opts in with
    TRACKTUI_ALLOW_SERVER_LOCAL_ARTIFACTS=1 (faster when server and client share a disk)."""
    from .local import local_path_of
    from .server_run import ServerRunArtifactRepository

    uri = run.artifact_uri or ""
    scheme = artifact_scheme(uri) if uri else ""
    hint = None
    try:
        if scheme in ("mlflow-artifacts", "http", "https"):
            return repository_for(uri, tracking_uri=tracking_uri, transport=transport)
        if scheme == "file" and local_path_of(uri).is_dir():
            if server_local_artifacts_allowed():
                return repository_for(uri)
            hint = (
                f"The server names the local directory {mask_uri(uri)}, which tracktui reads only "
                f"through the server unless {ALLOW_SERVER_LOCAL_ENV}=1 is set"
            )
        if scheme == "s3":
            return repository_for(uri)
    except UnsupportedURI:
        pass
    return ServerRunArtifactRepository(transport, run.id, uri, hint=hint)


def server_local_artifacts_allowed() -> bool:
    """Has the user opted in to reading local artifact paths a tracking server names?"""
    return os.environ.get(ALLOW_SERVER_LOCAL_ENV, "").strip().lower() in ("1", "true", "yes")
