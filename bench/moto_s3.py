"""moto's S3 server on a free loopback port, for benches whose artifacts live in S3.

moto keeps its objects in memory, so a bench uploads what it reads each time it runs. `env`
is the configuration MLflow and tracktui both read (store/artifacts/s3.py): the endpoint in
MLFLOW_S3_ENDPOINT_URL, moto's dummy credentials and region in the AWS_* variables.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


class MotoS3:
    """`python -m moto.server` in its own process group; stopped by `stop()` or `with`."""

    def __init__(self, log: Path, timeout: float = 60.0):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/moto-api/", timeout=2):
                    return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"moto's S3 server did not start (see {log})")
            time.sleep(0.2)

    @property
    def env(self) -> dict[str, str]:
        return {**CREDENTIALS, "MLFLOW_S3_ENDPOINT_URL": self.url}

    def client(self):
        import boto3

        return boto3.session.Session().client(
            "s3", endpoint_url=self.url, region_name=CREDENTIALS["AWS_DEFAULT_REGION"],
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def cpu_seconds(self) -> float:
        """CPU time the server has used so far (user + system, from /proc; Linux)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)

    def __enter__(self) -> MotoS3:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
