"""Logged-model benchmark (issue 19): a 1,000-model experiment, tracktui vs MlflowClient vs the
raw-SQL floor, on the same SQLite store.

Builds one experiment with --models logged models (each with 5 params, 3 tags, and `acc` /
`loss` on two datasets, 3 steps each: 12 points) — the schema and one model through real
mlflow, the rest as rows in MLflow's own tables (logging 12,000 points through the client
would take minutes and measure nothing of interest) — then times:
  * first page: the Models view's first page (100 models, default order, with their params,
    tags and metrics);
  * by metric: `metrics.acc > 0.9` ordered by `acc` on the eval dataset, descending (100);
for tracktui's `search_logged_models` on an open store, `MlflowClient.search_logged_models`,
and the floor: the same SQL tracktui sends, run through the sqlite3 module into plain tuples
(no entity objects). Every answer is checked to be the same model ids in the same order.
Targets: tracktui at most 2x the floor and faster than MlflowClient. Not a test.

    python bench/bench_logged_models.py [--models 1000] [--repeat 7] [--keep DIR]

Measured 2026-12-07 (2 shared cores, load average ~7 from other jobs, mlflow 3.17.2, median
of 11; the load makes single runs vary by 2x, ratios are steadier):

                  tracktui     floor    mlflow   vs floor vs mlflow
    first page      22.3ms    16.4ms    91.3ms     1.36x    0.24x
    by metric       30.8ms    48.7ms   117.8ms     0.63x    0.26x

Before building points with slot setters, one sort per page and statements built once
(store/sql/logged_models.py), the first page took 3.05x the floor (75.7 vs 24.8 ms).
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from tracktui.store import open_store

sys.path.insert(0, str(Path(__file__).resolve().parent))
import timing  # noqa: E402

PAGE = 100
FILTER = "metrics.acc > 0.9"
ORDER = [{"field_name": "metrics.acc", "ascending": False, "dataset_name": "eval"}]
DATASETS = (("train", "d1a2b3c4"), ("eval", "e5f6a7b8"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--keep", help="build the store in this directory and keep it")
    args = parser.parse_args()
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    workdir = Path(args.keep or tempfile.mkdtemp(prefix="bench-models-"))
    workdir.mkdir(parents=True, exist_ok=True)
    os.chdir(workdir)
    db = workdir / "models.db"
    uri = f"sqlite:///{db}"
    experiment_id = build(uri, db, args.models) if not db.exists() else "1"

    import mlflow

    client = mlflow.MlflowClient(uri)
    store = open_store(uri)
    cases = {
        "first page": dict(filter_string=None, order_by=None),
        "by metric": dict(filter_string=FILTER, order_by=ORDER),
    }
    print(f"{args.models} logged models, page {PAGE}, median of {args.repeat}; {timing.load()}")
    print(f"{'':12} {'tracktui':>9} {'floor':>9} {'mlflow':>9}   {'vs floor':>8} {'vs mlflow':>9}")
    for name, kw in cases.items():
        ours = [m.model_id for m in store.search_logged_models([experiment_id], max_results=PAGE, **kw)]
        theirs = [m.model_id for m in client.search_logged_models([experiment_id], max_results=PAGE, **kw)]
        floor_ids = [r[0] for r in floor(db, experiment_id, kw["filter_string"] is not None)]
        assert ours == theirs == floor_ids, name
        t_ours = timing.measure(lambda kw=kw: store.search_logged_models([experiment_id], max_results=PAGE, **kw), args.repeat)
        t_floor = timing.measure(lambda kw=kw: floor(db, experiment_id, kw["filter_string"] is not None), args.repeat)
        t_mlflow = timing.measure(lambda kw=kw: client.search_logged_models([experiment_id], max_results=PAGE, **kw), args.repeat)
        print(f"{name:12} {t_ours.wall * 1000:7.1f}ms {t_floor.wall * 1000:7.1f}ms {t_mlflow.wall * 1000:7.1f}ms  "
              f"{timing.ratio(t_ours.wall, t_floor.wall)} {timing.ratio(t_ours.wall, t_mlflow.wall)}")
    store.close()


def build(uri: str, db: Path, n: int) -> str:
    """The experiment, one model through mlflow (so the schema is mlflow's), the rest as rows."""
    import mlflow

    client = mlflow.MlflowClient(uri)
    eid = client.create_experiment("models")
    run_id = client.create_run(eid).info.run_id
    first = client.create_logged_model(eid, name="model-0", source_run_id=run_id, params={"p0": "0"})
    client.log_metric(run_id, "acc", 0.5, step=0, dataset_name="eval", dataset_digest="e5f6a7b8", model_id=first.model_id)
    client.finalize_logged_model(first.model_id, "READY")
    rng = random.Random(19)
    conn = sqlite3.connect(db)
    base = int(time.time() * 1000)
    location = client.get_experiment(eid).artifact_location
    models, params, tags, metrics = [], [], [], []
    for i in range(1, n):
        mid = f"m-{rng.getrandbits(128):032x}"
        models.append((mid, int(eid), f"model-{i}", f"{location}/models/{mid}/artifacts", base + i, base + i,
                       2, "active", "sklearn" if i % 3 else "transformer", run_id, None))
        params += [(mid, int(eid), f"p{k}", str(rng.random())) for k in range(5)]
        tags += [(mid, int(eid), k, v) for k, v in (("stage", rng.choice(("dev", "prod"))), ("owner", f"u{i % 7}"), ("i", str(i)))]
        for d, (d_name, d_digest) in enumerate(DATASETS):
            for key in ("acc", "loss"):
                for step in range(3):  # the primary key has no dataset: times differ per dataset
                    metrics.append((mid, key, base + 10 * step + d, step, rng.random(), int(eid), run_id, None, d_name, d_digest))
    conn.executemany("INSERT INTO logged_models (model_id, experiment_id, name, artifact_location, "
                     "creation_timestamp_ms, last_updated_timestamp_ms, status, lifecycle_stage, model_type, "
                     "source_run_id, status_message) VALUES (?,?,?,?,?,?,?,?,?,?,?)", models)
    conn.executemany("INSERT INTO logged_model_params VALUES (?,?,?,?)", params)
    conn.executemany("INSERT INTO logged_model_tags VALUES (?,?,?,?)", tags)
    conn.executemany("INSERT INTO logged_model_metrics (model_id, metric_name, metric_timestamp_ms, metric_step, "
                     "metric_value, experiment_id, run_id, dataset_uuid, dataset_name, dataset_digest) "
                     "VALUES (?,?,?,?,?,?,?,?,?,?)", metrics)
    conn.commit()
    conn.close()
    return eid


_PAGE_SQL = """
SELECT lm.* FROM logged_models lm
WHERE lm.lifecycle_stage != 'deleted' AND lm.experiment_id IN (?)
ORDER BY CASE WHEN lm.creation_timestamp_ms IS NULL THEN 1 ELSE 0 END, lm.creation_timestamp_ms DESC,
         CASE WHEN lm.model_id IS NULL THEN 1 ELSE 0 END, lm.model_id ASC
LIMIT ? OFFSET 0
"""
_FILTERED_SQL = """
SELECT lm.* FROM logged_models lm
LEFT OUTER JOIN (
  SELECT model_id, metric_value FROM (
    SELECT model_id, metric_value, row_number() OVER (PARTITION BY model_id
      ORDER BY metric_timestamp_ms DESC, metric_step DESC, run_id) AS row_num
    FROM logged_model_metrics WHERE metric_name = 'acc' AND dataset_name = 'eval') WHERE row_num = 1
) latest ON latest.model_id = lm.model_id
WHERE lm.lifecycle_stage != 'deleted' AND lm.experiment_id IN (?)
  AND EXISTS (SELECT 1 FROM logged_model_metrics m WHERE m.model_id = lm.model_id
              AND m.metric_name = 'acc' AND m.metric_value > 0.9)
ORDER BY CASE WHEN latest.metric_value IS NULL THEN 1 ELSE 0 END, latest.metric_value DESC,
         CASE WHEN lm.creation_timestamp_ms IS NULL THEN 1 ELSE 0 END, lm.creation_timestamp_ms DESC,
         CASE WHEN lm.model_id IS NULL THEN 1 ELSE 0 END, lm.model_id ASC
LIMIT ? OFFSET 0
"""


def floor(db: Path, experiment_id: str, filtered: bool) -> list[tuple]:
    """The page and its params, tags and metrics in four plain queries, as tuples."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(_FILTERED_SQL if filtered else _PAGE_SQL, (int(experiment_id), PAGE + 1)).fetchall()[:PAGE]
        ids = [r[0] for r in rows]
        marks = ",".join("?" * len(ids))
        for table in ("logged_model_params", "logged_model_tags", "logged_model_metrics"):
            conn.execute(f"SELECT * FROM {table} WHERE model_id IN ({marks})", ids).fetchall()
        return rows
    finally:
        conn.close()


if __name__ == "__main__":
    main()
