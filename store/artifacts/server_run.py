"""A run's artifacts as its tracking server resolves them (`artifacts/list` + `get-artifact`),
the way MLflow's web UI reads them. Works for any artifact store the server can reach (its own
local paths, s3 or gs with its credentials), so the REST backend falls back to it whenever the
run's artifact URI is not readable from this machine."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ..errors import StoreError, UnsafePath
from ..rest.transport import RestTransport, ServerError
from .base import PREVIEW_LIMIT, ArtifactEntry, ArtifactRepository, ArtifactStream
from .proxy import HttpStream, int_or_none, read_tail_over_http
from .safety import child_of, clean_relative_path

LIST_API = "/api/2.0/mlflow/artifacts/list"
GET_ARTIFACT = "/get-artifact"


class ServerRunArtifactRepository(ArtifactRepository):
    """`hint` is added to failures: why tracktui asks the server rather than reading a path
    the run names itself (see `repository_for_server_run`)."""

    def __init__(self, transport: RestTransport, run_id: str, artifact_uri: str | None = None, *, hint: str | None = None):
        self._http = transport
        self.run_id = run_id
        self.hint = hint
        self.display_uri = f"{artifact_uri or 'artifacts'} of run {run_id} via {transport.display_uri}"

    def list(self, path: str = "") -> list[ArtifactEntry]:
        path = clean_relative_path(path)
        entries: list[ArtifactEntry] = []
        token = None
        seen_tokens: set[str] = set()
        while True:
            params = {"run_id": self.run_id, "path": path or None, "page_token": token}
            with self._hinted():
                data = self._http.get(LIST_API, params)
            for item in data.get("files") or ():
                rel = child_of(path, str(item.get("path", "")))
                is_dir = bool(item.get("is_dir"))
                entries.append(ArtifactEntry(rel, is_dir, None if is_dir else int_or_none(item.get("file_size"))))
            token = data.get("next_page_token")
            if not token:
                return sorted(entries, key=lambda e: e.path)
            token = str(token)
            if token in seen_tokens:  # a server answering in a circle would be listed forever
                raise ServerError(
                    f"{self._http.display_uri} repeated a page token while listing {path or '/'!r} "
                    f"of run {self.run_id} (after {len(seen_tokens) + 1} pages); the listing stopped"
                )
            seen_tokens.add(token)

    def open(self, path: str) -> ArtifactStream:
        path = clean_relative_path(path)
        with self._hinted():
            return HttpStream(self._http, GET_ARTIFACT, {"path": path, "run_uuid": self.run_id})

    def read_tail(self, path: str, limit: int = PREVIEW_LIMIT) -> tuple[bytes, int | None]:
        path = clean_relative_path(path)
        with self._hinted():
            return read_tail_over_http(self._http, GET_ARTIFACT, {"path": path, "run_uuid": self.run_id}, limit)

    @contextlib.contextmanager
    def _hinted(self) -> Iterator[None]:
        try:
            yield
        except UnsafePath:
            raise
        except StoreError as exc:
            if not self.hint:
                raise
            raise type(exc)(f"{exc.message}. {self.hint}") from None
