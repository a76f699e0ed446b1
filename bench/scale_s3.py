"""bench_scale.py's s3 part: the artifacts of the scale store's first runs, in moto's S3 server,
read by tracktui's direct PostgreSQL store and by MlflowClient on the same store.

The scale store names `s3://tracktui-scale/<experiment>/<run>/artifacts` for every run
(build_scale_store.py) but holds no objects: the first runs of the first page of the 500k-run
experiment get theirs uploaded here with boto3 (moto keeps them in memory only). Both clients
then run in this process with the environment MLflow reads (MLFLOW_S3_ENDPOINT_URL, AWS_*),
through the public calls the TUI makes (list_artifacts, read_artifact_head/_tail,
download_artifacts), each call starting from the run id as the TUI's does; listings are
compared entry by entry and every download byte by byte with what was uploaded.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from build_scale_store import ARTIFACT_BUCKET, ScaleStore
from moto_s3 import MotoS3
from timing import Timing, measure

from tracktui.store import open_store
from tracktui.tui.screens.runs import PAGE_SIZE

LOG = "logs/train.log"
LOG_BYTES = 4 << 20
MODEL = "model"
MODEL_BINARY_BYTES = 5 << 20
MANY = "predictions"
MANY_FILES = 2000
PREVIEW = 256 * 1024  # the TUI's preview read (store/base.py's default limit)


@dataclass(frozen=True)
class S3Row:
    label: str
    ours: Timing
    theirs: Timing
    ours_server_cpu: float  # moto's CPU seconds per call, mean over the warm-up and the samples
    theirs_server_cpu: float
    load: str


def s3_rows(info: ScaleStore, repeat: int, load: Callable[[], str]) -> tuple[str, list[S3Row]]:
    """(setup line, rows): moto started, the artifacts uploaded, each case measured for both."""
    scratch = Path(tempfile.mkdtemp(prefix="bench-scale-s3-"))
    server = MotoS3(scratch / "moto.log")
    saved = {key: os.environ.get(key) for key in server.env}
    os.environ.update(server.env)
    try:
        with open_store(info.uri, read_only=True) as store:
            first = store.search_runs([info.largest_experiment_id], max_results=PAGE_SIZE).items
            model_run, many_run = first[0], first[1]
            started = time.perf_counter()
            files = upload(server, {model_run.artifact_uri: model_run_files(), many_run.artifact_uri: many_files()})
            setup = (f"moto {server.url}: {files['count']:,} objects ({files['bytes'] / 2**20:.1f} MiB) uploaded in "
                     f"{time.perf_counter() - started:.1f} s to the first two runs of the "
                     f"{info.runs // 2:,}-run experiment ({model_run.id}: model/, {LOG}, small files; "
                     f"{many_run.id}: {MANY}/ of {MANY_FILES:,} files)")
            rows = _measure(store, server, info.uri, model_run.id, many_run.id, scratch, repeat, load)
        return setup, rows
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(scratch, ignore_errors=True)


def _measure(store, server: MotoS3, uri: str, model_run: str, many_run: str, scratch: Path, repeat: int,
             load: Callable[[], str]) -> list[S3Row]:
    import mlflow

    client = mlflow.MlflowClient(uri)
    log = model_run_files()[LOG]
    model = {path: data for path, data in model_run_files().items() if path.startswith(f"{MODEL}/")}

    made: list[Path] = []

    def fresh() -> str:
        made.append(Path(tempfile.mkdtemp(dir=scratch)))
        return str(made[-1])

    _check_listing(store.list_artifacts(model_run), client.list_artifacts(model_run))
    _check_listing(store.list_artifacts(many_run, MANY), client.list_artifacts(many_run, MANY))
    head = store.read_artifact_head(model_run, LOG, PREVIEW)
    tail = store.read_artifact_tail(model_run, LOG, PREVIEW)
    if head.size != len(log) or not log.startswith(head.text.encode()) or not log.endswith(tail.text.encode()):
        raise SystemExit(f"tracktui's preview of {LOG} does not match the uploaded bytes")

    n_root = len(store.list_artifacts(model_run))
    only_log = {LOG.rpartition("/")[2]: log}  # MlflowClient saves a file under its name, not its path
    cases = [
        (f"list the run's artifact root ({n_root} entries)",
         lambda: store.list_artifacts(model_run), lambda: client.list_artifacts(model_run), None),
        (f"list {MANY}/ ({MANY_FILES:,} files)",
         lambda: store.list_artifacts(many_run, MANY), lambda: client.list_artifacts(many_run, MANY), None),
        (f"preview {LOG} ({len(log) >> 20} MiB): read_artifact_head ({PREVIEW >> 10} KiB) vs downloading it",
         lambda: store.read_artifact_head(model_run, LOG, PREVIEW),
         lambda: client.download_artifacts(model_run, LOG, fresh()), only_log),
        (f"preview {LOG}: read_artifact_tail (a log opens at its end) vs downloading it",
         lambda: store.read_artifact_tail(model_run, LOG, PREVIEW),
         lambda: client.download_artifacts(model_run, LOG, fresh()), only_log),
        (f"download {MODEL}/ ({len(model)} files, {sum(map(len, model.values())) / 2**20:.1f} MiB)",
         lambda: store.download_artifacts(model_run, MODEL, fresh()),
         lambda: client.download_artifacts(model_run, MODEL, fresh()), model),
        (f"download {MANY}/ ({MANY_FILES:,} files)",
         lambda: store.download_artifacts(many_run, MANY, fresh()),
         lambda: client.download_artifacts(many_run, MANY, fresh()), many_files()),
    ]
    rows = []
    for label, ours, theirs, expected in cases:
        ours_t, ours_server = _with_server_cpu(server, ours, repeat)
        theirs_t, theirs_server = _with_server_cpu(server, theirs, repeat)
        rows.append(S3Row(label, ours_t, theirs_t, ours_server, theirs_server, load()))
        if expected is not None:
            digests = _digests(expected)
            wrong = [folder for folder in made if _tree(folder) != digests]
            if wrong:
                raise SystemExit(f"{label}: {len(wrong)} of {len(made)} downloads differ from the uploaded bytes")
        made.clear()
        _empty(scratch)
    return rows


def _with_server_cpu(server: MotoS3, call: Callable[[], object], repeat: int) -> tuple[Timing, float]:
    """measure(call, repeat) and moto's CPU seconds per call (its warm-up included)."""
    before = server.cpu_seconds()
    timing = measure(call, repeat)
    return timing, (server.cpu_seconds() - before) / (max(repeat, 1) + 1)


def _check_listing(ours, theirs) -> None:
    """Same names, kinds and sizes (MLflow gives no size for a directory)."""
    mine = [(e.path, e.is_dir, e.size) for e in ours]
    mlflow_side = [(f.path, f.is_dir, f.file_size) for f in sorted(theirs, key=lambda f: f.path)]
    if mine != mlflow_side:
        raise SystemExit(f"listings differ: tracktui {mine[:5]}… vs MlflowClient {mlflow_side[:5]}…")


# -- the artifacts --------------------------------------------------------------------------------


@cache
def model_run_files() -> dict[str, bytes]:
    """A run as a training script leaves it: a few small files, a model folder, a text log."""
    rng = random.Random(25)
    files = {
        "config.yaml": b"model: resnet50\noptimizer: adam\nlr: 0.001\nepochs: 90\nbatch_size: 256\n",
        "metrics.json": b'{"accuracy": 0.7613, "top5": 0.9286, "loss": 0.9617}\n',
        "README.md": b"# resnet50 on imagenet\n\nTrained by bench/scale_s3.py.\n",
        f"{MODEL}/MLmodel": (b"artifact_path: model\nflavors:\n  python_function:\n    loader_module: mlflow.sklearn\n"
                             b"    model_path: model.pkl\n    python_version: 3.11.7\n  sklearn:\n"
                             b"    pickled_model: model.pkl\n    sklearn_version: 1.5.2\n"
                             b"mlflow_version: 3.17.2\nmodel_size_bytes: 5242880\n"),
        f"{MODEL}/conda.yaml": b"channels:\n- conda-forge\ndependencies:\n- python=3.11.7\n- pip\n",
        f"{MODEL}/requirements.txt": b"mlflow==3.17.2\nscikit-learn==1.5.2\n",
        f"{MODEL}/model.pkl": rng.randbytes(MODEL_BINARY_BYTES),
    }
    lines, size, step = [], 0, 0
    while size < LOG_BYTES:
        line = (f"2026-12-07 13:{step // 600 % 60:02d}:{step // 10 % 60:02d} INFO step {step:>7} "
                f"loss {2.5 * 0.9999 ** step:.5f} lr 0.001 throughput {900 + rng.random() * 50:.1f} img/s\n")
        lines.append(line)
        size += len(line)
        step += 1
    files[LOG] = "".join(lines).encode()[:LOG_BYTES]
    return files


@cache
def many_files() -> dict[str, bytes]:
    """One folder of MANY_FILES small JSON files (per-example predictions)."""
    rng = random.Random(26)
    return {f"{MANY}/part-{i:05d}.json": f'{{"id": {i}, "label": {rng.randrange(1000)}, '
                                          f'"score": {rng.random():.6f}}}\n'.encode() * 8
            for i in range(MANY_FILES)}


def upload(server: MotoS3, runs: dict[str, dict[str, bytes]]) -> dict[str, int]:
    """Put every file under its run's artifact URI (s3://tracktui-scale/…) in the bucket."""
    client = server.client()
    client.create_bucket(Bucket=ARTIFACT_BUCKET)
    objects = []
    for artifact_uri, files in runs.items():
        prefix = artifact_uri.removeprefix(f"s3://{ARTIFACT_BUCKET}/").rstrip("/")
        objects += [(f"{prefix}/{path}", data) for path, data in files.items()]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda item: client.put_object(Bucket=ARTIFACT_BUCKET, Key=item[0], Body=item[1]), objects))
    client.close()
    return {"count": len(objects), "bytes": sum(len(data) for _, data in objects)}


def _tree(root: Path) -> dict[str, str]:
    """sha256 of every file under `root`, by path relative to the folder downloaded into it."""
    files = [p for p in root.rglob("*") if p.is_file()]
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def _digests(files: dict[str, bytes]) -> dict[str, str]:
    return {path: hashlib.sha256(data).hexdigest() for path, data in files.items()}


def _empty(scratch: Path) -> None:
    for child in scratch.iterdir():
        if child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
