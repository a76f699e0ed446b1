"""Stores whose fixture run holds artifacts in each kind of artifact store, for the artifact
contract suite: local paths (sqlite), file: URIs (file store), the server's artifact proxy
(rest), the server's own artifacts/list + get-artifact (rest-server), and s3 (moto's server
mode on a loopback port; skipped loudly when moto or boto3 is missing or does not start)."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
import urllib.request
import warnings
from pathlib import Path

import pytest

from fixtures.backends import free_port, working_directory
from fixtures.data import ARTIFACT_RUN, log_fixture_artifacts

ARTIFACT_BACKENDS = ("sqlite", "file", "rest", "rest-server", "s3")
S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@dataclasses.dataclass
class ArtifactCase:
    """A tracktui store, the run holding the fixture artifacts, and the tracking URI the real
    mlflow client uses for the same run (the reference)."""

    kind: str
    store: object
    run_id: str
    mlflow_uri: str


class S3Server:
    def __init__(self, tmp: Path):
        try:
            import boto3  # noqa: F401
            import moto  # noqa: F401
        except ImportError as exc:
            _skip_loudly(f"s3 artifact tests did NOT run: {exc.name} is not installed (pip install 'moto[server]' boto3)")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        log = open(tmp / "moto.log", "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/moto-api/", timeout=2):
                    return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                _skip_loudly(f"s3 artifact tests did NOT run: moto's server did not start ({tmp / 'moto.log'})")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)


def _skip_loudly(reason: str):
    warnings.warn(reason, UserWarning, stacklevel=2)
    pytest.skip(reason)


def build_s3_store(tmp: Path, server: S3Server) -> tuple[str, str]:
    """A sqlite tracking store whose experiment keeps artifacts in s3://tracktui-test/…; the
    fixture artifacts are logged there by the real mlflow client. Returns (uri, run_id)."""
    import boto3
    import mlflow

    boto3.client("s3", endpoint_url=server.url).create_bucket(Bucket="tracktui-test")
    uri = f"sqlite:///{tmp / 's3.db'}"
    with working_directory(tmp):
        client = mlflow.MlflowClient(uri)
        exp = client.create_experiment("s3 artifacts", artifact_location="s3://tracktui-test/prefix")
        run_id = client.create_run(exp, run_name=ARTIFACT_RUN).info.run_id
        log_fixture_artifacts(client, run_id)
        other = client.create_run(exp, run_name="no images").info.run_id  # a run without log_image images
        client.log_text(other, "no pictures here\n", "notes.txt")
    return uri, run_id
