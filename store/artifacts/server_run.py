"""A run's artifacts as its tracking server resolves them (`artifacts/list` + `get-artifact`),
the way MLflow's web UI reads them. Works for any artifact store the server can reach (its own
local paths, s3 or gs with its credentials), so the REST backend falls back to it whenever the
run's artifact URI is not readable from this machine."""

from __future__ import annotations

from ..rest.transport import RestTransport
from .base import ArtifactEntry, ArtifactRepository, ArtifactStream
from .proxy import HttpStream, int_or_none
from .safety import child_of, clean_relative_path

LIST_API = "/api/2.0/mlflow/artifacts/list"
GET_ARTIFACT = "/get-artifact"


class ServerRunArtifactRepository(ArtifactRepository):
    def __init__(self, transport: RestTransport, run_id: str, artifact_uri: str | None = None):
        self._http = transport
        self.run_id = run_id
        self.display_uri = f"{artifact_uri or 'artifacts'} of run {run_id} via {transport.display_uri}"

    def list(self, path: str = "") -> list[ArtifactEntry]:
        path = clean_relative_path(path)
        entries: list[ArtifactEntry] = []
        token = None
        while True:
            params = {"run_id": self.run_id, "path": path or None, "page_token": token}
            data = self._http.get(LIST_API, params)
            for item in data.get("files") or ():
                rel = child_of(path, str(item.get("path", "")))
                is_dir = bool(item.get("is_dir"))
                entries.append(ArtifactEntry(rel, is_dir, None if is_dir else int_or_none(item.get("file_size"))))
            token = data.get("next_page_token")
            if not token:
                return sorted(entries, key=lambda e: e.path)

    def open(self, path: str) -> ArtifactStream:
        path = clean_relative_path(path)
        return HttpStream(self._http, GET_ARTIFACT, {"path": path, "run_uuid": self.run_id})
