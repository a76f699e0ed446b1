"""Build the 10k-run file-store (mlruns) benchmark tree from the SQLite benchmark store.

The same 10,000 runs as bench/build_sql_store.py (12 params, 6 metrics x 50 steps, 8 tags;
the 1M-point run is left out), written file by file in the layout mlflow 3.17's FileStore
writes. `verify()` proves the layout: it replays one run through the real MlflowClient into a
fresh file store and compares the two run folders file by file. Cached under bench/.data/.

    python bench/build_file_store.py [--verify]
"""

from __future__ import annotations

import itertools
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from build_sql_store import DATA_DIR, build

EXPERIMENT_ID = "418273645506172839"  # mlflow file stores use random 18-digit ids
STATUS = {"RUNNING": 1, "SCHEDULED": 2, "FINISHED": 3, "FAILED": 4, "KILLED": 5}
SOURCE_LOCAL = 4  # what mlflow's client writes for runs created outside a project/notebook
RUN_COLUMNS = "run_uuid, name, status, start_time, end_time, user_id, lifecycle_stage"


def build_tree(root: Path = DATA_DIR / "mlruns10k") -> dict:
    """Write the tree at `root` (if not already complete) and return its uri and ids."""
    done = root / ".complete"
    info = {"uri": f"file://{root}", "root": root, "experiment_id": EXPERIMENT_ID}
    if done.exists():
        return info
    if root.exists():
        shutil.rmtree(root)
    sql = build(DATA_DIR / "bench10k.db")
    con = sqlite3.connect(sql["uri"].removeprefix("sqlite:///"))
    (root / ".trash").mkdir(parents=True)
    now = 1_760_000_000_000
    _write(root / "0" / "meta.yaml", _experiment_meta(root, "0", "Default", now))
    exp_dir = root / EXPERIMENT_ID
    _write(exp_dir / "meta.yaml", _experiment_meta(root, EXPERIMENT_ID, "bench", now))
    skip = (sql["long_run_id"],)
    runs = con.execute(f"SELECT {RUN_COLUMNS} FROM runs WHERE run_uuid != ? ORDER BY run_uuid", skip).fetchall()
    params = _Grouped(con.execute("SELECT run_uuid, key, value FROM params WHERE run_uuid != ? ORDER BY run_uuid", skip))
    tags = _Grouped(con.execute("SELECT run_uuid, key, value FROM tags WHERE run_uuid != ? ORDER BY run_uuid", skip))
    metrics = _Grouped(con.execute("SELECT run_uuid, key, timestamp, value, step, is_nan FROM metrics"
                                   " WHERE run_uuid != ? ORDER BY run_uuid, key, step, timestamp", skip))
    for run in runs:
        run_id = run[0]
        write_run(exp_dir / run_id, run, params.take(run_id), tags.take(run_id), metrics.take(run_id))
    done.write_text(f"{len(runs)} runs\n")
    return info


def write_run(run_dir: Path, run, params, tags, metrics) -> None:
    """One run folder as mlflow's FileStore lays it out: meta.yaml, and one file per param,
    per tag and per metric key (a `timestamp value step` line per point) in sub-folders."""
    run_id, name, status, start, end, user, stage = run
    for sub in ("metrics", "params", "tags", "artifacts"):
        (run_dir / sub).mkdir(parents=True)
    exp = run_dir.parent.name
    _write(run_dir / "meta.yaml", (
        f"artifact_uri: file://{run_dir}/artifacts\n"
        f"end_time: {end if end is not None else 'null'}\n"
        "entry_point_name: ''\n"
        f"experiment_id: '{exp}'\n"
        f"lifecycle_stage: {stage}\n"
        f"run_id: {run_id}\n"
        f"run_name: {name}\n"
        "source_name: ''\n"
        f"source_type: {SOURCE_LOCAL}\n"
        "source_version: ''\n"
        f"start_time: {start}\n"
        f"status: {STATUS[status]}\n"
        "tags: []\n"
        f"user_id: {user}\n"
    ))
    for _, key, value in params:
        _write(run_dir / "params" / key, value)
    for _, key, value in tags:
        _write(run_dir / "tags" / key, value)
    for key, points in itertools.groupby(metrics, key=lambda m: m[1]):
        _write(run_dir / "metrics" / key, "".join(
            f"{ts} {'nan' if is_nan else value} {step}\n" for _, _, ts, value, step, is_nan in points))


def verify(root: Path) -> None:
    """Replay one generated run through the real MlflowClient and compare the folders."""
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    import mlflow
    from mlflow.entities import Metric, Param, RunTag

    exp_dir = root / EXPERIMENT_ID
    ours = next(p for p in sorted(exp_dir.iterdir()) if p.is_dir())
    files = _tree(ours)
    meta = dict(line.split(": ", 1) for line in files["meta.yaml"].splitlines())
    with tempfile.TemporaryDirectory() as tmp:
        client = mlflow.MlflowClient(f"file://{tmp}/mlruns")
        eid = client.create_experiment("bench")
        tags = {k.removeprefix("tags/"): v for k, v in files.items() if k.startswith("tags/")}
        run = client.create_run(eid, start_time=int(meta["start_time"]), tags=tags, run_name=meta["run_name"])
        rid = run.info.run_id
        points = []
        for name, text in files.items():
            if name.startswith("metrics/"):
                for line in text.splitlines():
                    ts, value, step = line.split(" ")
                    points.append(Metric(name.removeprefix("metrics/"), float(value), int(ts), int(step)))
        params = [Param(k.removeprefix("params/"), v) for k, v in files.items() if k.startswith("params/")]
        client.log_batch(rid, metrics=points, params=params, tags=[RunTag(k, v) for k, v in tags.items()])
        status = {v: k for k, v in STATUS.items()}[int(meta["status"])]
        client.set_terminated(rid, status, end_time=int(meta["end_time"]))
        theirs_dir = Path(tmp) / "mlruns" / eid / rid
        theirs = {k: v.replace(rid, ours.name).replace(str(theirs_dir.parent), str(exp_dir)).replace(
            f"'{eid}'", f"'{EXPERIMENT_ID}'") for k, v in _tree(theirs_dir).items()}
        theirs_dirs = sorted(p.name for p in theirs_dir.iterdir() if p.is_dir())
        theirs_exp = (Path(tmp) / "mlruns" / eid / "meta.yaml").read_text().splitlines()
    ours_exp = (exp_dir / "meta.yaml").read_text().splitlines()
    problems = [f"{k}: ours {files.get(k)!r} mlflow {theirs.get(k)!r}"
                for k in sorted(set(files) | set(theirs)) if files.get(k) != theirs.get(k)]
    if sorted(p.name for p in ours.iterdir() if p.is_dir()) != theirs_dirs:
        problems.append(f"sub-folders differ: mlflow has {theirs_dirs}")
    keys = lambda lines: [line.split(":")[0] for line in lines]  # noqa: E731
    if keys(ours_exp) != keys(theirs_exp):
        problems.append(f"experiment meta.yaml keys differ: {keys(ours_exp)} vs {keys(theirs_exp)}")
    if problems:
        raise SystemExit("layout differs from mlflow's:\n  " + "\n  ".join(problems))
    print(f"verified: run {ours.name} ({len(files)} files) is byte-identical to the same run written by mlflow")


def _experiment_meta(root: Path, eid: str, name: str, now: int) -> str:
    return (
        f"artifact_location: file://{root}/{eid}\n"
        f"creation_time: {now}\n"
        "effective_trace_archival_retention: null\n"
        f"experiment_id: '{eid}'\n"
        f"last_update_time: {now}\n"
        "lifecycle_stage: active\n"
        f"name: {name}\n"
        "trace_location: null\n"
        "workspace: default\n"
    )


class _Grouped:
    """Rows grouped by their first column (the run id), streamed in run-id order."""

    def __init__(self, rows):
        self._groups = itertools.groupby(rows, key=lambda row: row[0])
        self._next = next(self._groups, None)

    def take(self, run_id: str) -> list:
        """This run's rows (the runs query shares the run-id order), or none."""
        while self._next is not None and self._next[0] < run_id:
            self._next = next(self._groups, None)
        if self._next is None or self._next[0] != run_id:
            return []
        rows = list(self._next[1])
        self._next = next(self._groups, None)
        return rows


def _tree(run_dir: Path) -> dict[str, str]:
    return {str(p.relative_to(run_dir)): p.read_text() for p in sorted(run_dir.rglob("*")) if p.is_file()}


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


if __name__ == "__main__":
    t0 = time.perf_counter()
    info = build_tree()
    print(info, f"{time.perf_counter() - t0:.1f}s")
    if "--verify" in sys.argv:
        verify(info["root"])
