"""Build the 10k-run SQLite benchmark store: schema created by real mlflow, rows bulk-inserted.

10,000 runs × (12 params, 6 metrics × 50 steps, 6 tags) in one experiment, plus one run with a
1,000,000-point metric history. Cached under bench/.data/ (rebuilt when missing).
"""

from __future__ import annotations

import math
import random
import sqlite3
import sys
import time
import uuid
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / ".data"
N_RUNS = 10_000
N_PARAMS = 12
N_METRICS = 6
N_STEPS = 50
N_TAGS = 6
LONG_POINTS = 1_000_000
BASE_TIME = 1_760_000_000_000


def build(path: Path, n_runs: int = N_RUNS, long_points: int = LONG_POINTS) -> dict:
    """Create the store at `path` (if missing) and return ids the benchmarks need."""
    meta = path.with_suffix(".ids")
    if path.exists() and meta.exists():
        exp_id, long_run = meta.read_text().split()
        return {"uri": f"sqlite:///{path}", "experiment_id": exp_id, "long_run_id": long_run}
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    import mlflow  # the schema comes from real mlflow

    client = mlflow.MlflowClient(f"sqlite:///{path}")
    exp_id = client.create_experiment("bench", artifact_location=str(path.parent / "artifacts"))
    # make mlflow release its engine before we write in bulk
    del client
    rng = random.Random(42)
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    runs, params, tags, metrics, latest = [], [], [], [], []
    for i in range(n_runs):
        run_id = uuid.UUID(int=rng.getrandbits(128)).hex
        start = BASE_TIME + i * 1000
        name = f"run-{i:05d}"
        runs.append((run_id, name, "UNKNOWN", "", "", "bench", rng.choice(["FINISHED", "FAILED", "RUNNING"]),
                     start, start + 500, "", "active", f"{path.parent}/artifacts/{run_id}/artifacts", exp_id))
        params += [(f"p{j}", str(rng.choice(["a", "b", "c", rng.randint(0, 100)])), run_id) for j in range(N_PARAMS)]
        tags += [(f"t{j}", f"v{rng.randint(0, 9)}", run_id) for j in range(N_TAGS)]
        tags += [("mlflow.runName", name, run_id), ("mlflow.user", "bench", run_id)]
        for k in range(N_METRICS):
            base = rng.random()
            for step in range(N_STEPS):
                value = base + step * 0.01
                metrics.append((f"m{k}", value, start + step, run_id, step, 0))
            latest.append((f"m{k}", value, start + N_STEPS - 1, run_id, N_STEPS - 1, 0))
    con.executemany(
        "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status,"
        " start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", runs)
    con.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?,?,?)", params)
    con.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?,?,?)", tags)
    con.executemany("INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?,?,?,?,?,?)", metrics)
    con.executemany("INSERT INTO latest_metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?,?,?,?,?,?)", latest)
    # one run with a very long history, with spikes the downsampler must keep
    long_run = uuid.UUID(int=rng.getrandbits(128)).hex
    con.execute(
        "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status,"
        " start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (long_run, "long-history", "UNKNOWN", "", "", "bench", "FINISHED", BASE_TIME - 1, BASE_TIME,
         "", "active", f"{path.parent}/artifacts/{long_run}/artifacts", exp_id))
    con.execute("INSERT INTO tags (key, value, run_uuid) VALUES ('mlflow.runName', 'long-history', ?)", (long_run,))

    def long_points_iter():
        for step in range(long_points):
            value = math.sin(step / 1000.0) + (50.0 if step == 777_777 % long_points else 0.0)
            yield ("loss", value, BASE_TIME + step, long_run, step, 0)

    con.executemany("INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?,?,?,?,?,?)", long_points_iter())
    last = long_points - 1
    con.execute("INSERT INTO latest_metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?,?,?,?,?,?)",
                ("loss", math.sin(last / 1000.0), BASE_TIME + last, long_run, last, 0))
    con.commit()
    con.execute("PRAGMA journal_mode=DELETE")
    con.close()
    meta.write_text(f"{exp_id} {long_run}")
    return {"uri": f"sqlite:///{path}", "experiment_id": exp_id, "long_run_id": long_run}


if __name__ == "__main__":
    t0 = time.perf_counter()
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DATA_DIR / "bench10k.db"
    info = build(target)
    print(info, f"{time.perf_counter() - t0:.1f}s")
