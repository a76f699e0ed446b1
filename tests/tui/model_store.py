"""A small deterministic SQLite store with logged models, for Models-view pilot and snapshot tests.

MLflow's client makes random run/model ids and wall-clock times, so its output cannot be
snapshotted. Here the real mlflow SQL store makes the schema, the experiment and the runs, and
the models are rows written through mlflow's own ORM classes (`SqlLoggedModel`, ...) with fixed
ids and times; the run ids are then fixed in place. Experiment `models`:
* runs `train-bert` (source of two models and logger of their metrics) and `eval-sweep`
  (logged an eval metric to `bert-small`);
* `bert-small` READY, `bert-large` READY, `tree` FAILED (with a message), `draft` PENDING.
"""

from __future__ import annotations

from pathlib import Path

T0 = 1_767_225_600_000  # 2026-01-01 00:00:00 UTC
TRAIN_RUN = "a" * 32
EVAL_RUN = "b" * 32
MODEL_IDS = {name: f"m-{i:032d}" for i, name in enumerate(("bert-small", "bert-large", "tree", "draft"), 1)}

# name -> (status int, type, source run, params, tags, [(key, value, step, run, dataset)], message)
_MODELS = {
    "bert-small": (2, "transformer", TRAIN_RUN, {"lr": "0.01", "layers": "4"}, {"stage": "prod"},
                   [("acc", 0.91, 0, TRAIN_RUN, "train"), ("acc", 0.87, 0, EVAL_RUN, "eval"),
                    ("loss", 0.21, 0, TRAIN_RUN, "train")], None),
    "bert-large": (2, "transformer", TRAIN_RUN, {"lr": "0.001", "layers": "24"}, {"stage": "dev"},
                   [("acc", 0.95, 0, TRAIN_RUN, "train"), ("acc", 0.89, 0, TRAIN_RUN, "eval")], None),
    "tree": (3, "sklearn", EVAL_RUN, {"depth": "5"}, {"note": "[b]not markup[/b]"},
             [("acc", 0.7, 0, EVAL_RUN, None)], "upload interrupted"),
    "draft": (1, None, None, {}, {}, [], None),
}


def create_model_store(directory: Path) -> str:
    from mlflow.store.tracking.dbmodels.models import (
        SqlLoggedModel,
        SqlLoggedModelMetric,
        SqlLoggedModelParam,
        SqlLoggedModelTag,
    )
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    uri = f"sqlite:///{directory / 'mlflow.db'}"
    store = SqlAlchemyStore(uri, str(directory / "artifacts"))
    eid = store.create_experiment("models")
    made = {}
    for run_id, name, offset in ((TRAIN_RUN, "train-bert", 0), (EVAL_RUN, "eval-sweep", 5)):
        run = store.create_run(eid, user_id="ann", start_time=T0 + offset * 60_000, tags=[], run_name=name)
        made[run_id] = run.info.run_id
    with store.ManagedSessionMaker(read_only=False) as session:
        for i, (name, (status, model_type, source, params, tags, metrics, message)) in enumerate(_MODELS.items()):
            mid = MODEL_IDS[name]
            session.add(SqlLoggedModel(
                model_id=mid, experiment_id=int(eid), name=name,
                artifact_location=f"s3://team-bucket/mlflow/{eid}/models/{mid}/artifacts",  # fixed: snapshots
                creation_timestamp_ms=T0 + i * 60_000, last_updated_timestamp_ms=T0 + i * 60_000 + 1000,
                status=status, lifecycle_stage="active", model_type=model_type,
                source_run_id=made.get(source), status_message=message,
            ))
            session.flush()
            session.add_all(SqlLoggedModelParam(model_id=mid, experiment_id=int(eid), param_key=k, param_value=v)
                            for k, v in params.items())
            session.add_all(SqlLoggedModelTag(model_id=mid, experiment_id=int(eid), tag_key=k, tag_value=v)
                            for k, v in tags.items())
            session.add_all(
                SqlLoggedModelMetric(model_id=mid, metric_name=key, metric_timestamp_ms=T0 + j * 1000, metric_step=step,
                                     metric_value=value, experiment_id=int(eid), run_id=made[run], dataset_uuid=None,
                                     dataset_name=dataset, dataset_digest=f"d-{dataset}" if dataset else None)
                for j, (key, value, step, run, dataset) in enumerate(metrics))
    store.engine.dispose()
    _fix_run_ids(directory / "mlflow.db", {random: fixed for fixed, random in made.items()})
    return uri


def _fix_run_ids(db: Path, ids: dict[str, str]) -> None:
    """Give the runs fixed ids everywhere they are referenced (foreign keys off meanwhile)."""
    import sqlite3

    conn = sqlite3.connect(db)
    conn.execute("PRAGMA foreign_keys = OFF")
    for old, new in ids.items():
        for table, column in (("runs", "run_uuid"), ("tags", "run_uuid"), ("params", "run_uuid"),
                              ("metrics", "run_uuid"), ("latest_metrics", "run_uuid"),
                              ("logged_models", "source_run_id"), ("logged_model_metrics", "run_id")):
            conn.execute(f"UPDATE {table} SET {column} = ? WHERE {column} = ?", (new, old))
        conn.execute("UPDATE runs SET artifact_uri = replace(artifact_uri, ?, ?)", (old, new))
    conn.commit()
    conn.close()
