"""A training process and tracktui on the same SQLite file, both at full speed, with no
"database is locked" on either side.

Two real processes: a subprocess logs metric batches through real mlflow as fast as it can for
a few seconds, while this process (tracktui's store) polls search_runs and metric history and
writes tags on the very run being trained. Counts are printed for the record (`-s` shows them).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from fixtures.backends import require_backend_module

TRAIN_SECONDS = 5.0

TRAINER = textwrap.dedent(
    """
    import json, sys, time
    import mlflow
    from mlflow.entities import Metric

    uri, run_id, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    client = mlflow.MlflowClient(uri)
    client.get_run(run_id)  # warm up: engine, schema check
    print("ready", flush=True)
    sys.stdin.readline()  # start together
    batches = points = errors = locked = 0
    messages = []
    step = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        now = int(time.time() * 1000)
        metrics = [Metric(key, step * 0.5 + i, now, step) for i, key in enumerate(("loss", "acc", "lr"))]
        try:
            client.log_batch(run_id, metrics=metrics)
            batches += 1
            points += len(metrics)
        except Exception as exc:
            errors += 1
            locked += "database is locked" in str(exc)
            messages.append(str(exc)[:300])
        step += 1
    print(json.dumps({"batches": batches, "points": points, "last_step": step - 1,
                      "errors": errors, "locked": locked, "messages": messages[:5]}), flush=True)
    """
)


def test_training_process_and_tracktui_never_see_database_is_locked(tmp_path):
    require_backend_module("sqlite")
    import mlflow

    from tracktui.store import open_store
    from tracktui.store.errors import StoreError

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    os.chdir(tmp_path)
    client = mlflow.MlflowClient(uri)  # real mlflow creates the database
    eid = client.create_experiment("concurrency")
    run_id = client.create_run(eid, run_name="training").info.run_id
    others = [client.create_run(eid, run_name=f"other-{i}").info.run_id for i in range(3)]

    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    env.pop("MLFLOW_TRACKING_URI", None)
    trainer = subprocess.Popen(
        [sys.executable, "-c", TRAINER, uri, run_id, str(TRAIN_SECONDS)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
    )
    try:
        assert trainer.stdout.readline().strip() == "ready", trainer.stderr.read()
        store = open_store(uri)
        reads = writes = 0
        errors: list[str] = []
        trainer.stdin.write("go\n")
        trainer.stdin.flush()
        i = 0
        while trainer.poll() is None:
            i += 1
            try:
                page = store.search_runs([eid], order_by=["metrics.loss DESC"], max_results=50)
                assert len(page) == 4
                store.get_metric_history(run_id, "loss", max_points=500)
                store.get_run(run_id)
                reads += 3
                store.set_tags([run_id], {"tracktui.poll": str(i)})
                store.set_tags(others, {"tracktui.poll": str(i), "reviewed": "yes"})
                writes += 2
            except StoreError as exc:
                errors.append(str(exc))
        out, err = trainer.communicate(timeout=60)
    finally:
        if trainer.poll() is None:
            trainer.kill()
            trainer.wait()
    assert trainer.returncode == 0, err[-3000:]
    result = json.loads(out.strip().splitlines()[-1])
    print(
        f"\nSQLite concurrency over {TRAIN_SECONDS:.0f} s: mlflow trainer logged {result['batches']} batches "
        f"({result['points']} points), errors {result['errors']} (locked {result['locked']}); "
        f"tracktui did {reads} reads and {writes} tag writes, errors {len(errors)} "
        f"(locked {sum('locked' in e for e in errors)})"
    )
    assert result["errors"] == 0, result["messages"]
    assert errors == [], errors[:5]
    assert result["batches"] > 0 and reads > 0 and writes > 0

    # Nothing was lost on either side.
    history = client.get_metric_history(run_id, "loss")
    assert len(history) == result["batches"]
    run = client.get_run(run_id)
    assert run.data.metrics["loss"] == result["last_step"] * 0.5
    assert run.data.tags["tracktui.poll"] == str(i)
    assert all(client.get_run(o).data.tags["reviewed"] == "yes" for o in others)
    store.close()


@pytest.fixture(autouse=True)
def _restore_cwd():
    old = os.getcwd()
    yield
    os.chdir(old)
