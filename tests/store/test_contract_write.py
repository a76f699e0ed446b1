"""The write contract, once for every backend: whatever tracktui writes, the real MlflowClient
reads back exactly as if mlflow had written it.

Writes never touch the shared, session-wide read fixtures: each backend gets a private store
for this module (a new SQLite file made by `initialize_sqlite_store`, a new PostgreSQL/MariaDB
database, a new mlruns folder; REST uses the shared live server but only experiments created
here), and every test creates its own experiment and runs. The purge test gets a store of
its own, since purging and `mlflow gc` act on every deleted run in a store.

Backends that do not implement a write yet (the base class refuses with "not supported") are
skipped with that reason, per operation.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from fixtures.backends import require_backend_module
from fixtures.private_stores import Private, make_private
from tracktui.store import open_store
from tracktui.store.base import Store
from tracktui.store.errors import InvalidValue, NotFound, ReadOnlyError
from tracktui.store.model import NOTE_TAG, Dataset, DatasetInput, MetricPoint

SQL_KINDS = ("sqlite", "postgres", "mysql")
MAX_DOUBLE = 1.7976931348623157e308


# -- private stores ----------------------------------------------------------------------------


def requires(store: Store, *methods: str) -> None:
    """Skip when the backend still refuses one of these writes with the base "not supported"."""
    missing = [m for m in methods if getattr(type(store), m) is getattr(Store, m)]
    if missing:
        pytest.skip(f"{type(store).__name__} does not implement {', '.join(missing)} yet")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def fresh_experiment(w: Private) -> str:
    """A new experiment made by mlflow itself, so tests of one write do not rely on another."""
    return w.client.create_experiment(unique("write"))


def fresh_runs(w: Private, experiment_id: str, n: int, **tags: str) -> list[str]:
    return [
        w.client.create_run(experiment_id, run_name=f"r{i}", tags=dict(tags)).info.run_id for i in range(n)
    ]


def ids(runs) -> set[str]:
    return {r.info.run_id for r in runs}


def view(name: str):
    from mlflow.entities import ViewType

    return {"active": ViewType.ACTIVE_ONLY, "deleted": ViewType.DELETED_ONLY, "all": ViewType.ALL}[name]


def deleted_time(w: Private, run_id: str):
    """The run's deleted_time column (SQL backends only), or Ellipsis elsewhere."""
    if w.kind not in SQL_KINDS:
        return ...
    import sqlalchemy as sa

    with w.store.engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT deleted_time FROM runs WHERE run_uuid = :r"), {"r": run_id}
        ).scalar()


# -- creation ---------------------------------------------------------------------------------


def test_create_experiment_reads_back_in_mlflow(w):
    requires(w.store, "create_experiment")
    name = unique("created")
    before = int(time.time() * 1000)
    eid = w.store.create_experiment(name, tags={"team": "vision", "mlflow.note.content": "about"})
    exp = w.client.get_experiment(eid)
    assert exp.name == name
    assert exp.lifecycle_stage == "active"
    assert exp.tags == {"team": "vision", "mlflow.note.content": "about"}
    assert exp.creation_time >= before and exp.last_update_time == exp.creation_time
    assert exp.artifact_location.rstrip("/").endswith(f"/{eid}")
    assert w.client.get_experiment_by_name(name).experiment_id == eid
    if w.kind in SQL_KINDS:
        # Under the root the store's Default experiment was created with (mlflow would use
        # ./mlruns of whatever directory its process runs in).
        default_root = w.client.get_experiment("0").artifact_location.rsplit("/", 1)[0]
        assert exp.artifact_location == f"{default_root}/{eid}"


def test_create_experiment_refuses_a_taken_name(w):
    requires(w.store, "create_experiment")
    name = unique("taken")
    w.client.create_experiment(name)
    count = len(w.client.search_experiments(view_type=view("all"), max_results=50000))
    with pytest.raises(InvalidValue, match="already exists"):
        w.store.create_experiment(name)
    assert len(w.client.search_experiments(view_type=view("all"), max_results=50000)) == count


def test_create_run_writes_what_mlflow_writes(w):
    requires(w.store, "create_run")
    eid = fresh_experiment(w)
    parent = w.client.create_run(eid, run_name="parent").info.run_id
    made = w.store.create_run(
        eid, name="child", start_time=1_700_000_000_000, user_id="alice", tags={"k": "v"}, parent_run_id=parent
    )
    run = w.client.get_run(made.id)
    assert run.info.run_name == "child" == made.name
    assert run.info.status == "RUNNING" and run.info.lifecycle_stage == "active"
    assert run.info.start_time == 1_700_000_000_000 and run.info.end_time is None
    assert run.info.user_id == "alice"
    assert run.info.artifact_uri == f"{w.client.get_experiment(eid).artifact_location}/{made.id}/artifacts"
    assert run.info.artifact_uri == made.artifact_uri
    assert run.data.tags == {
        "k": "v",
        "mlflow.runName": "child",
        "mlflow.user": "alice",
        "mlflow.parentRunId": parent,
    }
    assert made.parent_run_id == parent
    # mlflow's own search sees it as a child of the parent.
    children = w.client.search_runs([eid], f"tags.`mlflow.parentRunId` = '{parent}'")
    assert ids(children) == {made.id}


def test_create_run_without_a_name_gets_one_like_mlflow(w):
    requires(w.store, "create_run")
    eid = fresh_experiment(w)
    made = w.store.create_run(eid)
    run = w.client.get_run(made.id)
    assert run.info.run_name and run.info.run_name == run.data.tags["mlflow.runName"] == made.name
    assert len(made.id) == 32 and int(made.id, 16) >= 0
    assert run.data.tags["mlflow.user"] == run.info.user_id


def test_create_run_keeps_a_given_id_and_refuses_a_duplicate(w):
    requires(w.store, "create_run")
    if w.kind == "rest":
        pytest.skip("the REST API has no way to choose a run id")
    eid = fresh_experiment(w)
    run_id = uuid.uuid4().hex
    w.store.create_run(eid, name="imported", run_id=run_id)
    assert w.client.get_run(run_id).info.run_name == "imported"
    with pytest.raises(InvalidValue, match="already exists"):
        w.store.create_run(eid, name="again", run_id=run_id)


def test_create_run_refused_in_a_deleted_experiment(w):
    requires(w.store, "create_run")
    eid = fresh_experiment(w)
    w.client.delete_experiment(eid)
    with pytest.raises(InvalidValue, match="deleted"):
        w.store.create_run(eid, name="nope")
    assert w.client.search_runs([eid], run_view_type=view("all")) == []


# -- logging ----------------------------------------------------------------------------------


def _snapshot(client, run_id: str, metric_keys) -> dict:
    """What mlflow shows of a run's data, NaN made comparable."""

    def clean(x):
        return "nan" if isinstance(x, float) and math.isnan(x) else x

    run = client.get_run(run_id)
    return {
        "params": run.data.params,
        "metrics": {k: clean(val) for k, val in run.data.metrics.items()},
        "tags": {k: val for k, val in run.data.tags.items() if k != "mlflow.runName"},
        "history": {
            k: sorted((m.step, m.timestamp, clean(m.value)) for m in client.get_metric_history(run_id, k))
            for k in metric_keys
        },
    }


BATCH = [
    ("loss", MetricPoint(1.5, 0, 1000)),
    ("loss", MetricPoint(float("nan"), 1, 1001)),
    ("loss", MetricPoint(0.25, 2, 1002)),
    ("loss", MetricPoint(0.25, 2, 1002)),  # exact duplicate: mlflow keeps one
    ("acc", MetricPoint(float("inf"), 0, 1000)),
    ("neg", MetricPoint(float("-inf"), 3, 1000)),
    ("eval/top 1:x", MetricPoint(0.9, 0, 1000)),
    # latest-metric rule: greater (step, timestamp, value) wins
    ("tie", MetricPoint(5.0, 7, 2000)),
    ("tie", MetricPoint(9.0, 7, 1000)),  # same step, older: loses
    ("tie", MetricPoint(1.0, 7, 2000)),  # same step and time, smaller value: loses
    ("back", MetricPoint(3.0, 10, 1000)),
    ("back", MetricPoint(4.0, 2, 9000)),  # later but a smaller step: loses
]
PARAMS = {"lr": "0.01", "layers": "3", "empty": "", "long": "x" * 6000}
TAGS = {"note": "hello", "quoted": "it's \"q\"", "mlflow.source.type": "LOCAL"}


def test_log_batch_reads_back_exactly_like_mlflow_logging(w):
    """Differential: the same batch logged by tracktui and by mlflow reads back the same."""
    requires(w.store, "log_batch")
    from mlflow.entities import Metric, Param, RunTag

    eid = fresh_experiment(w)
    ours, theirs = fresh_runs(w, eid, 2)
    w.store.log_batch(ours, BATCH, PARAMS, TAGS)
    w.client.log_batch(
        theirs,
        metrics=[Metric(k, p.value, p.timestamp, p.step) for k, p in BATCH],
        params=[Param(k, val) for k, val in PARAMS.items()],
        tags=[RunTag(k, val) for k, val in TAGS.items()],
    )
    keys = sorted({k for k, _ in BATCH})
    assert _snapshot(w.client, ours, keys) == _snapshot(w.client, theirs, keys)
    got = _snapshot(w.client, ours, keys)
    assert got["metrics"]["tie"] == 5.0 and got["metrics"]["back"] == 3.0 and got["metrics"]["loss"] == 0.25
    if w.kind in SQL_KINDS:  # SQL drops an exact duplicate point (primary key); mlflow's file store keeps it
        assert len(got["history"]["loss"]) == 3
        assert got["metrics"]["acc"] == MAX_DOUBLE and got["metrics"]["neg"] == -MAX_DOUBLE


def test_log_batch_in_two_calls_keeps_latest_metric_right(w):
    requires(w.store, "log_batch")
    eid = fresh_experiment(w)
    (run_id,) = fresh_runs(w, eid, 1)
    w.store.log_batch(run_id, [("m", MetricPoint(1.0, 5, 100))])
    w.store.log_batch(run_id, [("m", MetricPoint(2.0, 4, 200))])  # smaller step: not latest
    assert w.client.get_run(run_id).data.metrics["m"] == 1.0
    w.store.log_batch(run_id, [("m", MetricPoint(float("nan"), 6, 50))])
    assert math.isnan(w.client.get_run(run_id).data.metrics["m"])
    assert sorted(m.step for m in w.client.get_metric_history(run_id, "m")) == [4, 5, 6]
    w.store.log_batch(run_id, [("m", MetricPoint(7.0, 9, 1))])
    # mlflow's own search sees the new latest value
    assert ids(w.client.search_runs([eid], "metrics.m = 7")) == {run_id}


def test_params_are_immutable_and_a_failed_batch_writes_nothing(w):
    requires(w.store, "log_batch")
    eid = fresh_experiment(w)
    (run_id,) = fresh_runs(w, eid, 1)
    w.store.log_batch(run_id, params={"lr": "0.1"})
    w.store.log_batch(run_id, params={"lr": "0.1"})  # the same value again is fine
    with pytest.raises(InvalidValue, match="lr"):
        w.store.log_batch(
            run_id, [("written", MetricPoint(1.0, 0, 1))], {"lr": "0.2", "other": "1"}, {"t": "x"}
        )
    run = w.client.get_run(run_id)
    assert run.data.params == {"lr": "0.1"}
    assert "written" not in run.data.metrics and "t" not in run.data.tags
    assert w.client.get_metric_history(run_id, "written") == []


def test_update_run_sets_status_and_end_time(w):
    requires(w.store, "update_run")
    eid = fresh_experiment(w)
    (run_id,) = fresh_runs(w, eid, 1)
    w.store.update_run(run_id, status="FAILED", end_time=1_800_000_000_000)
    info = w.client.get_run(run_id).info
    assert (info.status, info.end_time) == ("FAILED", 1_800_000_000_000)
    with pytest.raises(InvalidValue):
        w.store.update_run(run_id, status="DONE")


# -- lifecycle --------------------------------------------------------------------------------


def test_delete_and_restore_runs_in_bulk(w):
    requires(w.store, "delete_runs", "restore_runs")
    eid = fresh_experiment(w)
    a, b, c = fresh_runs(w, eid, 3)
    before = int(time.time() * 1000)
    w.store.delete_runs([a, b])
    after = int(time.time() * 1000)
    assert ids(w.client.search_runs([eid])) == {c}
    assert ids(w.client.search_runs([eid], run_view_type=view("all"))) == {a, b, c}
    assert ids(w.client.search_runs([eid], run_view_type=view("deleted"))) == {a, b}
    assert w.client.get_run(a).info.lifecycle_stage == "deleted"
    stamp = deleted_time(w, a)
    assert stamp is ... or before <= stamp <= after

    w.store.restore_runs([a, b])
    assert ids(w.client.search_runs([eid])) == {a, b, c}
    assert w.client.get_run(b).info.lifecycle_stage == "active"
    assert deleted_time(w, b) in (None, ...)

    w.store.delete_run(c)
    assert w.client.get_run(c).info.lifecycle_stage == "deleted"
    w.store.restore_run(c)
    assert w.client.get_run(c).info.lifecycle_stage == "active"


def test_bulk_delete_with_an_unknown_run_changes_nothing(w):
    requires(w.store, "delete_runs")
    eid = fresh_experiment(w)
    a, b = fresh_runs(w, eid, 2)
    with pytest.raises(NotFound):
        w.store.delete_runs([a, uuid.uuid4().hex, b])
    assert ids(w.client.search_runs([eid])) == {a, b}


def test_set_tags_on_many_runs_and_delete_tag(w):
    requires(w.store, "set_tags", "delete_tag")
    eid = fresh_experiment(w)
    a, b, c = fresh_runs(w, eid, 3)
    w.client.set_tag(a, "stage", "old")
    w.store.set_tags([a, b], {"stage": "review", "with space/and:colon": "✓ ünï", "empty": ""})
    for run_id in (a, b):
        tags = w.client.get_run(run_id).data.tags
        assert tags["stage"] == "review" and tags["with space/and:colon"] == "✓ ünï" and tags["empty"] == ""
    assert "stage" not in w.client.get_run(c).data.tags
    assert ids(w.client.search_runs([eid], "tags.stage = 'review'")) == {a, b}

    w.store.set_tag(c, "stage", "solo")
    assert w.client.get_run(c).data.tags["stage"] == "solo"

    w.store.delete_tag(a, "stage")
    assert "stage" not in w.client.get_run(a).data.tags
    assert w.client.get_run(b).data.tags["stage"] == "review"
    with pytest.raises(NotFound):
        w.store.delete_tag(a, "stage")


#: Descriptions as people write them: Markdown over many lines, unicode, tabs, CRLF line ends
#: (pasted from Windows), surrounding blanks and a trailing newline, which MLflow keeps as sent.
DESCRIPTIONS = (
    "# Sweep ✓\n\n* lr: 1e-4\n* ünïcode — 日本語 😀\n\n```python\nfit(x)\n```\n",
    "  leading and trailing blanks \t\n\n",
    "windows\r\nline ends\r\n",
    "x" * 7999 + "\n",
)


@pytest.mark.parametrize("text", DESCRIPTIONS, ids=["markdown", "blanks", "crlf", "at-the-limit"])
def test_descriptions_read_back_byte_for_byte(w, text):
    """A run's and an experiment's description (the `mlflow.note.content` tag, as MLflow's UI
    writes it) written by tracktui, read back by MlflowClient unchanged."""
    requires(w.store, "set_tags", "set_experiment_tag")
    eid = fresh_experiment(w)
    (run_id,) = fresh_runs(w, eid, 1)
    w.store.set_tag(run_id, NOTE_TAG, text)
    w.store.set_experiment_tag(eid, NOTE_TAG, text)
    assert w.client.get_run(run_id).data.tags[NOTE_TAG].encode() == text.encode()
    assert w.client.get_experiment(eid).tags[NOTE_TAG].encode() == text.encode()


def test_failed_set_tags_leaves_every_run_as_it_was(w):
    requires(w.store, "set_tags")
    eid = fresh_experiment(w)
    a, b = fresh_runs(w, eid, 2)
    before = {r: w.client.get_run(r).data.tags for r in (a, b)}
    with pytest.raises(InvalidValue):
        w.store.set_tags([a, b], {"good": "1", "bad/../key": "x"})
    with pytest.raises(InvalidValue):
        w.store.set_tags([a, b], {"good": "1", "too long": "x" * 8001})
    with pytest.raises(NotFound):
        w.store.set_tags([a, uuid.uuid4().hex], {"good": "1"})
    w.client.delete_run(b)
    with pytest.raises(InvalidValue, match="deleted"):
        w.store.set_tags([a, b], {"good": "1"})
    assert {r: w.client.get_run(r).data.tags for r in (a, b)} == before


def test_mutations_require_an_active_run(w):
    requires(w.store, "set_tags", "log_batch", "rename_run", "delete_tag")
    eid = fresh_experiment(w)
    (run_id,) = fresh_runs(w, eid, 1, keep="1")
    w.client.delete_run(run_id)
    for attempt in (
        lambda: w.store.set_tag(run_id, "k", "v"),
        lambda: w.store.delete_tag(run_id, "keep"),
        lambda: w.store.rename_run(run_id, "nope"),
        lambda: w.store.log_batch(run_id, params={"p": "1"}),
    ):
        with pytest.raises(InvalidValue, match="deleted"):
            attempt()
    run = w.client.get_run(run_id)
    assert run.data.tags["keep"] == "1" and run.info.run_name == "r0" and run.data.params == {}


def test_rename_run_sets_the_name_and_the_tag(w):
    requires(w.store, "rename_run", "set_tags")
    eid = fresh_experiment(w)
    a, b = fresh_runs(w, eid, 2)
    w.store.rename_run(a, "renamed ünï")
    run = w.client.get_run(a)
    assert run.info.run_name == "renamed ünï" == run.data.tags["mlflow.runName"]
    assert ids(w.client.search_runs([eid], "attributes.run_name = 'renamed ünï'")) == {a}
    # Setting the tag renames too, as it does in mlflow.
    w.store.set_tag(b, "mlflow.runName", "by tag")
    assert w.client.get_run(b).info.run_name == "by tag"
    with pytest.raises(InvalidValue):
        w.store.rename_run(a, "")


def test_delete_and_restore_experiment_cascade_to_runs(w):
    requires(w.store, "delete_experiment", "restore_experiment")
    eid = fresh_experiment(w)
    a, b = fresh_runs(w, eid, 2)
    w.client.delete_run(b)  # deleted on its own before the experiment
    created = w.client.get_experiment(eid).last_update_time
    time.sleep(0.01)
    w.store.delete_experiment(eid)
    exp = w.client.get_experiment(eid)
    assert exp.lifecycle_stage == "deleted" and exp.last_update_time > created
    assert eid not in {e.experiment_id for e in w.client.search_experiments()}
    assert eid in {e.experiment_id for e in w.client.search_experiments(view_type=view("deleted"))}
    assert ids(w.client.search_runs([eid], run_view_type=view("deleted"))) == {a, b}
    assert deleted_time(w, a) is not None
    with pytest.raises(InvalidValue):
        w.store.delete_experiment(eid)  # already deleted, as mlflow refuses

    w.store.restore_experiment(eid)
    assert w.client.get_experiment(eid).lifecycle_stage == "active"
    # As mlflow: every run comes back, including the one deleted before the experiment.
    assert ids(w.client.search_runs([eid])) == {a, b}
    assert deleted_time(w, b) in (None, ...)
    with pytest.raises(InvalidValue):
        w.store.restore_experiment(eid)  # not deleted


def test_undoing_an_experiment_delete_restores_only_the_runs_it_deleted(w):
    requires(w.store, "delete_experiment", "restore_experiment")
    eid = fresh_experiment(w)
    a, b = fresh_runs(w, eid, 2)
    w.client.delete_run(b)  # deleted on its own before the experiment
    b_deleted_at = deleted_time(w, b)
    time.sleep(0.01)
    assert w.store.delete_experiment(eid) == [a]
    assert deleted_time(w, b) == b_deleted_at  # not overwritten by the experiment's delete
    w.store.restore_experiment(eid, run_ids=[a])
    assert w.client.get_experiment(eid).lifecycle_stage == "active"
    assert ids(w.client.search_runs([eid])) == {a}
    assert ids(w.client.search_runs([eid], run_view_type=view("deleted"))) == {b}
    assert deleted_time(w, b) == b_deleted_at and deleted_time(w, a) in (None, ...)


def test_rename_experiment_and_its_tags(w):
    requires(w.store, "rename_experiment", "set_experiment_tag", "delete_experiment_tag")
    eid = fresh_experiment(w)
    other = w.client.get_experiment(fresh_experiment(w)).name
    new = unique("renamed")
    w.store.rename_experiment(eid, new)
    assert w.client.get_experiment(eid).name == new
    assert w.client.get_experiment_by_name(new).experiment_id == eid
    with pytest.raises(InvalidValue, match="already exists"):
        w.store.rename_experiment(eid, other)
    assert w.client.get_experiment(eid).name == new

    w.store.set_experiment_tag(eid, "mlflow.note.content", "the description")
    w.store.set_experiment_tag(eid, "owner", "a")
    w.store.set_experiment_tag(eid, "owner", "b")
    assert w.client.get_experiment(eid).tags == {"mlflow.note.content": "the description", "owner": "b"}
    w.store.delete_experiment_tag(eid, "owner")
    assert w.client.get_experiment(eid).tags == {"mlflow.note.content": "the description"}
    with pytest.raises(NotFound):
        w.store.delete_experiment_tag(eid, "owner")

    w.client.delete_experiment(eid)
    with pytest.raises(InvalidValue, match="deleted"):
        w.store.rename_experiment(eid, unique("nope"))
    with pytest.raises(InvalidValue, match="deleted"):
        w.store.set_experiment_tag(eid, "k", "v")


def test_concurrent_writes_from_worker_threads_all_land(w):
    """The TUI writes from worker threads: racing inserts of the same new tag or metric key on
    one run must neither fail nor lose a point."""
    requires(w.store, "set_tags", "log_batch")
    from concurrent.futures import ThreadPoolExecutor

    eid = fresh_experiment(w)
    (run_id,) = fresh_runs(w, eid, 1)

    def worker(n: int) -> None:
        for i in range(8):
            w.store.set_tags([run_id], {f"shared-{i}": f"w{n}", f"own-{n}": str(i)})
            w.store.log_batch(run_id, [(f"key-{i}", MetricPoint(float(n), n, 1000 + i))])

    with ThreadPoolExecutor(4) as pool:
        for future in [pool.submit(worker, n) for n in range(4)]:
            future.result()
    run = w.client.get_run(run_id)
    for i in range(8):
        assert run.data.tags[f"shared-{i}"] in {"w0", "w1", "w2", "w3"}
        assert run.data.metrics[f"key-{i}"] == 3.0  # the greatest step wins, whoever came last
        assert sorted(m.step for m in w.client.get_metric_history(run_id, f"key-{i}")) == [0, 1, 2, 3]
    assert all(run.data.tags[f"own-{n}"] == "7" for n in range(4))


ASSESSMENTS_WRITER = """
import json, sys
import mlflow
from mlflow.entities import Feedback
from mlflow.tracing.client import TracingClient

uri, experiment_id, run_ids = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
mlflow.set_tracking_uri(uri)
mlflow.set_experiment(experiment_id=experiment_id)
with mlflow.start_span("judged") as span:
    trace_id = span.trace_id
mlflow.flush_trace_async_logging()
for run_id in run_ids:
    TracingClient(uri).log_assessment(
        trace_id, Feedback(name="judge-" + run_id, value=True, metadata={"mlflow.assessment.sourceRunId": run_id})
    )
print(json.dumps({"trace_id": trace_id}))
"""


def test_deleting_a_run_drops_the_assessments_it_produced_as_mlflow_does(w, tmp_path):
    """mlflow deletes the trace assessments an evaluation run produced when the run is deleted."""
    if w.kind not in SQL_KINDS:
        pytest.skip("assessments live in SQL tracking stores")
    import json

    from mlflow.tracing.client import TracingClient

    eid = fresh_experiment(w)
    ours, theirs, kept = fresh_runs(w, eid, 3)
    env = {**os.environ, "MLFLOW_ENABLE_ASYNC_TRACE_LOGGING": "false", "MLFLOW_DISABLE_TELEMETRY": "true"}
    done = subprocess.run(
        [sys.executable, "-c", ASSESSMENTS_WRITER, w.uri, eid, ",".join((ours, theirs, kept))],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    trace_id = json.loads(done.stdout.strip().splitlines()[-1])["trace_id"]

    def judged() -> set[str]:
        return {a.name for a in TracingClient(w.uri).get_trace(trace_id).info.assessments}

    assert judged() == {f"judge-{r}" for r in (ours, theirs, kept)}
    w.store.delete_run(ours)
    w.client.delete_run(theirs)
    assert judged() == {f"judge-{kept}"}


# -- refusals ---------------------------------------------------------------------------------


WRITES = {
    "create_experiment": lambda s, eid, rid: s.create_experiment(unique("ro")),
    "create_run": lambda s, eid, rid: s.create_run(eid),
    "log_batch": lambda s, eid, rid: s.log_batch(rid, params={"p": "1"}),
    "log_inputs": lambda s, eid, rid: s.log_inputs(rid, [DatasetInput(Dataset("d", "1", "local", "{}"))]),
    "update_run": lambda s, eid, rid: s.update_run(rid, status="FINISHED"),
    "delete_runs": lambda s, eid, rid: s.delete_runs([rid]),
    "restore_runs": lambda s, eid, rid: s.restore_runs([rid]),
    "set_tags": lambda s, eid, rid: s.set_tags([rid], {"k": "v"}),
    "delete_tag": lambda s, eid, rid: s.delete_tag(rid, "keep"),
    "rename_run": lambda s, eid, rid: s.rename_run(rid, "x"),
    "delete_experiment": lambda s, eid, rid: s.delete_experiment(eid),
    "restore_experiment": lambda s, eid, rid: s.restore_experiment(eid),
    "rename_experiment": lambda s, eid, rid: s.rename_experiment(eid, unique("x")),
    "set_experiment_tag": lambda s, eid, rid: s.set_experiment_tag(eid, "k", "v"),
    "delete_experiment_tag": lambda s, eid, rid: s.delete_experiment_tag(eid, "k"),
    "purge_deleted_runs": lambda s, eid, rid: s.purge_deleted_runs(),
}


def test_read_only_store_refuses_every_write_and_still_reads(w):
    eid = fresh_experiment(w)
    (run_id,) = fresh_runs(w, eid, 1, keep="1")
    w.client.set_experiment_tag(eid, "k", "v")
    before = w.client.get_run(run_id)
    read_only = open_store(w.uri, read_only=True)
    try:
        assert read_only.read_only
        for name, write in WRITES.items():
            with pytest.raises(ReadOnlyError) as err:
                write(read_only, eid, run_id)
            if getattr(type(read_only), name) is not getattr(Store, name):
                assert "read-only" in str(err.value), name
        assert read_only.get_run(run_id).tags["keep"] == "1"
        assert eid in {e.id for e in read_only.search_experiments(view="all", max_results=50000)}
    finally:
        read_only.close()
    after = w.client.get_run(run_id)
    assert (after.data.to_dictionary(), after.info.status, after.info.run_name) == (
        before.data.to_dictionary(), before.info.status, before.info.run_name
    )
    assert w.client.get_experiment(eid).lifecycle_stage == "active"


@pytest.mark.parametrize(
    "write",
    [
        lambda s, eid, rid: s.set_tag(rid, "bad key!", "v"),
        lambda s, eid, rid: s.set_tag(rid, "../escape", "v"),
        lambda s, eid, rid: s.set_tag(rid, "", "v"),
        lambda s, eid, rid: s.set_tag(rid, "k" * 251, "v"),
        lambda s, eid, rid: s.set_tag(rid, "long", "v" * 8001),
        lambda s, eid, rid: s.log_batch(rid, params={"p": "v" * 6001}),
        lambda s, eid, rid: s.log_batch(rid, [("m", MetricPoint(1.0, 0, -5))]),
        lambda s, eid, rid: s.log_batch(rid, [("bad\tkey", MetricPoint(1.0, 0, 5))]),
        lambda s, eid, rid: s.create_experiment(""),
        lambda s, eid, rid: s.create_experiment("x" * 501),
        lambda s, eid, rid: s.set_experiment_tag(eid, "k", "v" * 20001),
        lambda s, eid, rid: s.rename_run(rid, "n" * 251),
    ],
    ids=[
        "tag-char", "tag-path", "tag-empty", "tag-key-len", "tag-value-len", "param-len",
        "metric-timestamp", "metric-key", "exp-empty", "exp-name-len", "exp-tag-len", "run-name-len",
    ],
)
def test_invalid_values_are_refused_before_writing(w, write):
    eid = fresh_experiment(w)
    (run_id,) = fresh_runs(w, eid, 1)
    before = w.client.get_run(run_id)
    count = len(w.client.search_experiments(view_type=view("all"), max_results=50000))
    try:
        write(w.store, eid, run_id)
    except ReadOnlyError as exc:
        pytest.skip(f"not implemented on this backend: {exc}")
    except InvalidValue as exc:
        assert str(exc)
    else:
        pytest.fail("the invalid write was accepted")
    after = w.client.get_run(run_id)
    assert (after.data.tags, after.data.params, after.data.metrics, after.info.run_name) == (
        before.data.tags, before.data.params, before.data.metrics, before.info.run_name
    )
    assert len(w.client.search_experiments(view_type=view("all"), max_results=50000)) == count
    assert w.client.get_experiment(eid).tags == {}


# -- purge ------------------------------------------------------------------------------------


@pytest.fixture
def purge_store(backend_kind, tmp_path, request, monkeypatch):
    """A store of its own: purging and `mlflow gc` act on every deleted run in it."""
    if backend_kind == "rest":
        pytest.skip("purging over REST would need a private tracking server; the REST API has no purge")
    if backend_kind == "file":
        monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    monkeypatch.chdir(tmp_path)
    private = make_private(backend_kind, tmp_path, request)
    requires(private.store, "purge_deleted_runs")
    yield private
    private.close()


def _mlflow_gc(uri: str, cwd: Path) -> subprocess.CompletedProcess:
    # gc insists on a tracking URI even when given the backend store.
    env = {**os.environ, "MLFLOW_ALLOW_FILE_STORE": "true", "MLFLOW_TRACKING_URI": uri}
    return subprocess.run(
        [sys.executable, "-m", "mlflow", "gc", "--backend-store-uri", uri],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=300,
    )


def _leftover_rows(p: Private, run_ids) -> dict:
    if p.kind not in SQL_KINDS:
        return {}
    import sqlalchemy as sa

    found = {}
    with p.store.engine.connect() as conn:
        for table in ("runs", "metrics", "latest_metrics", "params", "tags"):
            rows = conn.execute(
                sa.text(f"SELECT COUNT(*) FROM {table} WHERE run_uuid IN :ids").bindparams(
                    sa.bindparam("ids", expanding=True)
                ),
                {"ids": list(run_ids)},
            ).scalar()
            if rows:
                found[table] = rows
        rows = conn.execute(
            sa.text("SELECT COUNT(*) FROM inputs WHERE destination_id IN :ids OR source_id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)
            ),
            {"ids": list(run_ids)},
        ).scalar()
        if rows:
            found["inputs"] = rows
    return found


def test_purge_removes_only_deleted_runs_with_their_data_and_artifacts(purge_store, tmp_path):
    from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param
    from mlflow.exceptions import MlflowException

    p = purge_store
    assert p.store.can_purge
    eid = p.client.create_experiment(unique("purge"))
    doomed, kept, restored = (p.client.create_run(eid, run_name=n).info.run_id for n in ("doomed", "kept", "restored"))
    for run_id in (doomed, kept, restored):
        p.client.log_batch(run_id, metrics=[Metric("m", 1.0, 1, 0)], params=[Param("p", "1")])
        p.client.log_text(run_id, "artifact body", "notes/a.txt")
    dataset = Dataset(name="d", digest="abc", source_type="local", source='{"uri": "x"}')
    p.client.log_inputs(doomed, [DatasetInput(dataset, [InputTag("mlflow.data.context", "training")])])
    artifact_dir = Path(p.client.get_run(doomed).info.artifact_uri.removeprefix("file://"))
    assert (artifact_dir / "notes" / "a.txt").is_file()
    p.client.delete_run(doomed)
    p.client.delete_run(restored)
    p.client.restore_run(restored)

    # Deleted just now: not older than an hour.
    assert p.store.purge_deleted_runs(older_than_ms=3_600_000) == []
    assert p.client.get_run(doomed).info.lifecycle_stage == "deleted"

    assert p.store.purge_deleted_runs() == [doomed]
    with pytest.raises(MlflowException, match="(?i)not found|does not exist|no run"):
        p.client.get_run(doomed)
    assert not artifact_dir.exists()
    assert _leftover_rows(p, [doomed]) == {}
    for alive in (kept, restored):
        run = p.client.get_run(alive)
        assert run.data.metrics == {"m": 1.0} and run.data.params == {"p": "1"}
        assert [f.path for f in p.client.list_artifacts(alive, "notes")] == ["notes/a.txt"]
    assert ids(p.client.search_runs([eid], run_view_type=view("all"))) == {kept, restored}

    gc = _mlflow_gc(p.uri, tmp_path)
    assert gc.returncode == 0, gc.stderr[-2000:]
    assert "Run with ID" not in gc.stdout, gc.stdout  # nothing left for mlflow to delete
    assert p.store.purge_deleted_runs() == []


def test_purge_on_sql_spares_unsafe_paths_and_ages_only_dated_deletions(purge_store, tmp_path):
    """A run whose artifact location is not `<...>/<run id>/artifacts` is left alone with its
    files; a run deleted before mlflow recorded deletion times (NULL `deleted_time`) is never
    "older than" anything, as in mlflow gc, but a purge without an age takes it."""
    if purge_store.kind not in SQL_KINDS:
        pytest.skip("only SQL stores keep per-run artifact locations and deletion times to edit")
    import sqlalchemy as sa

    p = purge_store
    eid = p.client.create_experiment(unique("edge"))
    unsafe, undated = (p.client.create_run(eid).info.run_id for _ in range(2))
    victim = tmp_path / "precious"
    victim.mkdir()
    (victim / "keep.txt").write_text("keep")
    p.client.delete_run(unsafe)
    p.client.delete_run(undated)
    # another client tampers (tracktui's own PostgreSQL sessions are read-only outside its writes)
    tamper = sa.create_engine(p.store.engine.url, poolclass=sa.pool.NullPool)
    with tamper.begin() as conn:
        conn.execute(sa.text("UPDATE runs SET artifact_uri = :u WHERE run_uuid = :r"), {"u": str(victim), "r": unsafe})
        conn.execute(sa.text("UPDATE runs SET deleted_time = NULL WHERE run_uuid = :r"), {"r": undated})
    tamper.dispose()

    assert p.store.purge_deleted_runs(older_than_ms=0) == []
    assert p.store.purge_deleted_runs() == [undated]
    assert (victim / "keep.txt").read_text() == "keep"
    assert p.client.get_run(unsafe).info.lifecycle_stage == "deleted"
    assert any(unsafe in line for line in p.store.last_purge_skipped)
    assert _leftover_rows(p, [undated]) == {}


# -- artifact locations ---------------------------------------------------------------------


def test_experiments_created_in_a_servers_database_use_the_servers_artifact_proxy(tracking_server, tmp_path):
    """Written straight into the database an `mlflow server` fronts, a new experiment gets the
    server's `mlflow-artifacts:/<id>` location (not a local folder), so artifacts logged through
    the server land in its artifact store."""
    require_backend_module("sqlite")
    import mlflow

    direct = open_store(tracking_server.backend_uri)
    try:
        eid = direct.create_experiment(unique("via-db"))
        run = direct.create_run(eid, name="artifacts")
    finally:
        direct.close()
    assert run.artifact_uri == f"mlflow-artifacts:/{eid}/{run.id}/artifacts"
    client = mlflow.MlflowClient(tracking_server.url)
    assert client.get_experiment(eid).artifact_location == f"mlflow-artifacts:/{eid}"
    client.log_text(run.id, "through the server", "note.txt")
    assert [f.path for f in client.list_artifacts(run.id)] == ["note.txt"]
    assert (tracking_server.artifacts_dir / eid / run.id / "artifacts" / "note.txt").read_text() == "through the server"


# -- schema guard -----------------------------------------------------------------------------


def test_writes_on_an_older_known_schema_fill_only_its_columns(tmp_path):
    """A store from mlflow < 1.29 (no deletion or experiment times yet) still takes writes."""
    require_backend_module("sqlite")
    import sqlite3

    from tracktui.store.sql.init import initialize_sqlite_store

    path = tmp_path / "old.db"
    uri = initialize_sqlite_store(path)
    with sqlite3.connect(path) as conn:
        conn.execute("DROP INDEX idx_experiments_workspace_creation_time")
        for table, column in (("runs", "deleted_time"), ("experiments", "creation_time"), ("experiments", "last_update_time")):
            conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        conn.execute("UPDATE alembic_version SET version_num = 'bd07f7e963c5'")  # before 0c779009ac13
    opened = open_store(uri)
    try:
        assert not opened.read_only, opened.read_only_reason
        eid = opened.create_experiment("old")
        run = opened.create_run(eid, name="r")
        opened.log_batch(run.id, [("m", MetricPoint(1.0, 0, 1))], {"p": "1"}, {"t": "x"})
        opened.delete_experiment(eid)
        assert opened.get_run(run.id).lifecycle_stage == "deleted"
        opened.restore_experiment(eid)
        opened.delete_run(run.id)
        with pytest.raises(InvalidValue, match="deletion times"):
            opened.purge_deleted_runs(older_than_ms=0)
        assert opened.purge_deleted_runs() == [run.id]
        assert opened.search_runs([eid], view="all").items == ()
    finally:
        opened.close()


def test_unknown_schema_revision_refuses_writes_but_reads(tmp_path):
    """A store from a newer mlflow opens read-only with the reason; reads keep working."""
    require_backend_module("sqlite")
    import sqlite3

    from tracktui.store.sql.init import initialize_sqlite_store

    uri = initialize_sqlite_store(tmp_path / "future.db")
    with sqlite3.connect(tmp_path / "future.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'ffff00000000'")
    opened = open_store(uri)
    try:
        assert opened.read_only
        with pytest.raises(ReadOnlyError, match="ffff00000000"):
            opened.create_experiment("x")
        with pytest.raises(ReadOnlyError, match="ffff00000000"):
            opened.set_tags(["0" * 32], {"k": "v"})
        assert [e.name for e in opened.search_experiments()] == ["Default"]
    finally:
        opened.close()
    with sqlite3.connect(tmp_path / "future.db") as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("ffff00000000",)]
        assert conn.execute("SELECT COUNT(*) FROM experiments").fetchone() == (1,)
