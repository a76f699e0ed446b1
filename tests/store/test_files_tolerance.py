"""File-store behaviours the contract suite cannot express: damaged and half-written trees,
trees from old mlflow versions, metric-line variants, the meta.yaml fast path and caches.

Trees start as real mlflow-written `mlruns` directories; each test then damages or ages its
own copy the way a crashed writer, an rsync in progress or an old mlflow would leave it.
"""

from __future__ import annotations

import math
import os
import shutil
import string
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from fixtures.data import allow_file_store
from tracktui.store import NotFound
from tracktui.store.files.meta import MetaError, parse_meta
from tracktui.store.files.metrics import EXACT_LIMIT, LatestCache, latest_point
from tracktui.store.files.store import FileStore

T0 = 1_700_000_000_000


# -- a small real tree ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> dict:
    """An mlruns tree written by real mlflow: two runs in one experiment, one with a dataset."""
    root = tmp_path_factory.mktemp("pristine") / "mlruns"
    with allow_file_store():
        import mlflow
        import pandas as pd
        from mlflow.entities import Metric, Param

        client = mlflow.MlflowClient(root.as_uri())
        exp = client.create_experiment("tolerance", tags={"team": "x"})
        ids = {}
        for i, name in enumerate(("first", "second")):
            run = client.create_run(exp, run_name=name, start_time=T0 + i * 1000, tags={"k": name})
            ids[name] = run.info.run_id
            client.log_batch(
                run.info.run_id,
                metrics=[Metric("loss", 1.0 / (s + 1), T0 + s, s) for s in range(5)],
                params=[Param("lr", "0.1")],
            )
            client.set_terminated(run.info.run_id, end_time=T0 + 5000)
        # a metric logged with a dataset: mlflow writes 5-field lines
        mlflow.set_tracking_uri(root.as_uri())
        with mlflow.start_run(run_id=ids["second"]):
            ds = mlflow.data.from_pandas(pd.DataFrame({"a": [1.0]}), name="ds")
            mlflow.log_metric("ds_metric", 3.0, step=7, timestamp=T0 + 7, dataset=ds)
            mlflow.log_metric("ds_metric", 2.0, step=4, timestamp=T0 + 9, dataset=ds)
        mlflow.set_tracking_uri(None)
    return {"root": root, "exp": exp, **ids}


@pytest.fixture
def tree(pristine, tmp_path) -> dict:
    """A private copy of the pristine tree, free to damage."""
    root = tmp_path / "mlruns"
    shutil.copytree(pristine["root"], root)
    return {**pristine, "root": root, "exp_dir": root / pristine["exp"]}


def run_dir(tree, name) -> Path:
    return tree["exp_dir"] / tree[name]


def names(store, tree, view="active"):
    return sorted(r.name for r in store.search_runs([tree["exp"]], view=view, max_results=1000))


def warned(store, path) -> bool:
    return any(str(path) in w for w in store.warnings)


# -- damaged and half-written files -------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [b"", b"artifact_uri: [unclosed\n", b"just a string\n", b"- a list\n", b"run_id: x\n\tbad: tab\n"],
    ids=["empty", "invalid-yaml", "scalar", "list", "tab"],
)
def test_bad_run_meta_skips_that_run_with_a_warning(tree, content):
    meta = run_dir(tree, "first") / "meta.yaml"
    meta.write_bytes(content)
    store = FileStore(str(tree["root"]))
    assert names(store, tree) == ["second"]
    assert warned(store, meta)
    assert store.count_runs(tree["exp"]) == 1


def test_run_dir_without_meta_is_skipped_with_warning(tree):
    (run_dir(tree, "first") / "meta.yaml").unlink()
    half = tree["exp_dir"] / "0123456789abcdef0123456789abcdef"
    (half / "metrics").mkdir(parents=True)  # a run directory being created right now
    store = FileStore(tree["root"].as_uri())
    assert names(store, tree) == ["second"]
    assert warned(store, run_dir(tree, "first") / "meta.yaml")
    assert warned(store, half / "meta.yaml")


def test_run_meta_naming_another_run_or_experiment_is_skipped(tree):
    first = run_dir(tree, "first") / "meta.yaml"
    first.write_text(first.read_text().replace(tree["first"], "f" * 32))
    second = run_dir(tree, "second") / "meta.yaml"
    second.write_text(second.read_text().replace(f"experiment_id: '{tree['exp']}'", "experiment_id: '42'"))
    store = FileStore(str(tree["root"]))
    assert names(store, tree) == []
    assert warned(store, first) and warned(store, second)


def test_get_run_of_corrupt_run_raises_store_error_naming_the_file(tree):
    from tracktui.store.errors import StoreError

    meta = run_dir(tree, "first") / "meta.yaml"
    meta.write_bytes(b"{{{")
    store = FileStore(str(tree["root"]))
    with pytest.raises(StoreError, match="meta.yaml"):
        store.get_run(tree["first"])
    assert store.get_run(tree["second"]).name == "second"


def test_bad_experiment_meta_skips_that_experiment(tree):
    meta = tree["exp_dir"] / "meta.yaml"
    meta.write_bytes(b"name: [\n")
    (tree["root"] / "stray-folder").mkdir()
    store = FileStore(str(tree["root"]))
    listed = [e.name for e in store.search_experiments(view="all")]
    assert listed == ["Default"]
    assert warned(store, meta)
    assert warned(store, tree["root"] / "stray-folder" / "meta.yaml")


def test_unterminated_last_metric_line_is_ignored_with_warning(tree):
    metric = run_dir(tree, "first") / "metrics" / "loss"
    with open(metric, "ab") as f:
        f.write(f"{T0 + 99} 0.001 9".encode())  # a point being appended right now
    store = FileStore(str(tree["root"]))
    run = store.get_run(tree["first"])
    assert run.metrics["loss"].step == 4
    assert [p.step for p in store.get_metric_history(tree["first"], "loss")] == [0, 1, 2, 3, 4]
    assert warned(store, metric)


def test_malformed_metric_lines_are_skipped_not_fatal(tree):
    metric = run_dir(tree, "first") / "metrics" / "loss"
    lines = metric.read_bytes().splitlines(keepends=True)
    lines.insert(2, b"garbage line here now\n")
    lines.insert(3, b"123 not-a-number 5\n")
    lines.append(b"\n")
    metric.write_bytes(b"".join(lines))
    store = FileStore(str(tree["root"]))
    assert store.get_run(tree["first"]).metrics["loss"].step == 4
    assert len(store.get_metric_history(tree["first"], "loss")) == 5
    assert warned(store, metric)
    assert names(store, tree) == ["first", "second"]


def test_empty_metric_file_gives_no_metric(tree):
    (run_dir(tree, "first") / "metrics" / "empty").write_bytes(b"")
    store = FileStore(str(tree["root"]))
    assert "empty" not in store.get_run(tree["first"]).metrics
    assert store.get_metric_history(tree["first"], "empty") == []


def test_temp_files_of_atomic_writes_are_not_keys(tree):
    tags = run_dir(tree, "first") / "tags"
    (tags / ".tracktui-abc.tmp").write_text("half")
    store = FileStore(str(tree["root"]))
    assert ".tracktui-abc.tmp" not in store.get_run(tree["first"]).tags
    assert ".tracktui-abc.tmp" not in store.list_keys([tree["exp"]]).tags


# -- trees from old mlflow versions -----------------------------------------------------------


def test_mlflow_1x_run_meta_without_optional_fields(tree):
    """mlflow 1.x: no run_name (name only in the tag), run_uuid, int experiment id, no
    lifecycle_stage, no deleted_time, no status."""
    exp_dir = tree["root"] / "7"
    exp_dir.mkdir()
    (exp_dir / "meta.yaml").write_text(
        f"artifact_location: {exp_dir.as_uri()}\nexperiment_id: 7\nlifecycle_stage: active\nname: old one\n"
    )
    rid = "0ld" + "0" * 29
    shutil.copytree(run_dir(tree, "first"), exp_dir / rid)
    (exp_dir / rid / "meta.yaml").write_text(
        f"artifact_uri: {exp_dir.as_uri()}/{rid}/artifacts\nend_time: null\nentry_point_name: ''\n"
        f"experiment_id: 7\nrun_id: {rid}\nrun_uuid: {rid}\nsource_name: ''\nsource_type: 4\n"
        f"source_version: ''\nstart_time: {T0}\ntags: []\nuser_id: old\n"
    )
    (exp_dir / rid / "tags" / "mlflow.runName").write_text("named by tag")
    store = FileStore(str(tree["root"]))
    exp = store.get_experiment("7")
    assert (exp.name, exp.creation_time, exp.last_update_time, exp.lifecycle_stage) == ("old one", None, None, "active")
    run = store.get_run(rid)
    assert (run.name, run.status, run.lifecycle_stage, run.experiment_id, run.end_time) == (
        "named by tag", "RUNNING", "active", "7", None)
    assert [r.id for r in store.search_runs(["7"], "attributes.run_name = 'named by tag'")] == [rid]


def test_legacy_two_field_metric_lines_have_step_zero(tree):
    (run_dir(tree, "first") / "metrics" / "old").write_bytes(b"100 1.5\n200 0.5\n")
    store = FileStore(str(tree["root"]))
    point = store.get_run(tree["first"]).metrics["old"]
    assert (point.value, point.step, point.timestamp) == (0.5, 0, 200)


def test_five_field_metric_lines_keep_their_step(tree):
    """mlflow 3.17 reads step 0 from lines logged with a dataset; the step is in field 3."""
    lines = (run_dir(tree, "second") / "metrics" / "ds_metric").read_bytes().splitlines()
    assert all(len(line.split()) == 5 for line in lines)  # what mlflow really wrote
    store = FileStore(str(tree["root"]))
    point = store.get_run(tree["second"]).metrics["ds_metric"]
    assert (point.value, point.step, point.timestamp) == (3.0, 7, T0 + 7)
    history = store.get_metric_history(tree["second"], "ds_metric")
    assert [(p.step, p.value) for p in history] == [(7, 3.0), (4, 2.0)]  # as logged, as mlflow
    by_step = store.get_metric_history(tree["second"], "ds_metric", max_points=10)
    assert [(p.step, p.value) for p in by_step] == [(4, 2.0), (7, 3.0)]


def test_dataset_filter_on_file_store(tree):
    store = FileStore(str(tree["root"]))
    found = store.search_runs([tree["exp"]], "dataset.name = 'ds'")
    assert [r.id for r in found] == [tree["second"]]
    assert list(store.search_runs([tree["exp"]], "dataset.name = 'other'")) == []


# -- latest metric values -----------------------------------------------------------------------


def write_points(path: Path, points) -> None:
    path.write_bytes(b"".join(f"{ts} {value!r} {step}\n".encode() for ts, value, step in points))


def test_latest_is_greatest_step_then_timestamp_then_value_not_last_line(tmp_path):
    path = tmp_path / "m"
    write_points(path, [(10, 1.0, 5), (20, 2.0, 3), (5, 0.5, 5), (10, 0.7, 5)])
    point, _ = latest_point(str(path))
    assert (point.value, point.step, point.timestamp) == (1.0, 5, 10)


def test_latest_nan_never_wins_a_tie_on_value_like_mlflow(tmp_path):
    path = tmp_path / "m"
    write_points(path, [(10, 1.0, 2), (10, math.nan, 2)])
    assert latest_point(str(path))[0].value == 1.0
    write_points(path, [(10, math.nan, 2), (10, 1.0, 2)])
    assert math.isnan(latest_point(str(path))[0].value)


def test_latest_cache_follows_appends_exactly(tmp_path):
    path = tmp_path / "m"
    write_points(path, [(1, 0.1, 1), (2, 0.2, 9)])
    cache = LatestCache()
    assert cache.latest(str(path))[0].step == 9
    with open(path, "ab") as f:
        f.write(b"3 0.3 4\n")  # out of order: step 9 stays latest
    assert cache.latest(str(path))[0].step == 9
    with open(path, "ab") as f:
        f.write(b"4 0.4 10\n5 0.5")  # new latest, plus a line being written
    point, problems = cache.latest(str(path))
    assert (point.step, point.value) == (10, 0.4) and problems
    with open(path, "ab") as f:
        f.write(b" 11\n")
    assert cache.latest(str(path))[0].step == 11


def test_big_metric_file_latest_from_its_end(tmp_path):
    path = tmp_path / "m"
    n = EXACT_LIMIT // 10
    write_points(path, [(T0 + s, s / 7, s) for s in range(n)])
    assert path.stat().st_size > EXACT_LIMIT
    point, problems = latest_point(str(path))
    assert (point.step, point.value, point.timestamp, problems) == (n - 1, (n - 1) / 7, T0 + n - 1, [])


def test_inf_and_nan_values_read_as_mlflow_file_store_returns_them(tree):
    write_points(run_dir(tree, "first") / "metrics" / "inf", [(1, math.inf, 0)])
    write_points(run_dir(tree, "first") / "metrics" / "ninf", [(1, -math.inf, 0)])
    write_points(run_dir(tree, "first") / "metrics" / "nan", [(1, math.nan, 0)])
    metrics = FileStore(str(tree["root"])).get_run(tree["first"]).metrics
    assert metrics["inf"].value == math.inf and metrics["ninf"].value == -math.inf
    assert math.isnan(metrics["nan"].value)


# -- caches -----------------------------------------------------------------------------------


def test_changed_tag_with_same_size_is_seen_after_cache(tree):
    tag = run_dir(tree, "first") / "tags" / "k"
    old = 1_600_000_000
    os.utime(tag, (old, old))  # old enough to be cached
    store = FileStore(str(tree["root"]))
    assert store.get_run(tree["first"]).tags["k"] == "first"
    tag.write_text("FIRST")  # same size, new mtime
    os.utime(tag, (old + 1, old + 1))
    assert store.get_run(tree["first"]).tags["k"] == "FIRST"


def test_new_run_dir_is_listed_after_cache(tree):
    store = FileStore(str(tree["root"]))
    old = 1_600_000_000
    os.utime(tree["exp_dir"], (old, old))
    assert names(store, tree) == ["first", "second"]
    shutil.copytree(run_dir(tree, "first"), tree["exp_dir"] / ("a" * 32))
    meta = tree["exp_dir"] / ("a" * 32) / "meta.yaml"
    meta.write_text(meta.read_text().replace(tree["first"], "a" * 32).replace("run_name: first", "run_name: third"))
    assert names(store, tree) == ["first", "second", "third"]


# -- opening ------------------------------------------------------------------------------------


def test_missing_root_read_only_raises_not_found(tmp_path):
    with pytest.raises(NotFound, match="No mlruns directory"):
        FileStore(str(tmp_path / "nope"), read_only=True)


def test_missing_root_writable_warns_and_lists_nothing(tmp_path):
    store = FileStore(str(tmp_path / "nope"))
    assert list(store.search_experiments()) == []
    assert any("does not exist yet" in w for w in store.warnings)


def test_unsafe_ids_are_not_found(tree):
    store = FileStore(str(tree["root"]))
    for bad in ("..", "../x", ".trash", "a/b", ""):
        with pytest.raises(NotFound):
            store.get_run(bad)
        with pytest.raises(NotFound):
            store.get_experiment(bad)


# -- the meta.yaml fast path equals YAML ----------------------------------------------------------


_text = st.text(
    alphabet=st.sampled_from(string.ascii_letters + string.digits + " _-./:'\"#@+!%&*?,[]{}|>~=\\é中\t\n"),
    max_size=20,
)
_values = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**63), _text,
    st.sampled_from(["yes", "No", "on", "null", "~", "1e5", "1_000", "0x1f", "12:30", "2001-12-14",
                     "0123", ".inf", "-.nan", "1.5", "run-1", "5e10", "a: b", "a #b", "- x", "", " x", "x "]),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.sampled_from("ab"), st.integers(), max_size=2),
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.from_regex(r"[a-z_]{1,12}", fullmatch=True), _values, min_size=1, max_size=8))
def test_fast_meta_parser_equals_yaml_for_what_yaml_dumps(data):
    dumped = yaml.safe_dump(data, default_flow_style=False, allow_unicode=True, sort_keys=True).encode()
    assert parse_meta(dumped) == yaml.safe_load(dumped)


@pytest.mark.parametrize(
    "text",
    ["k: 0x1f\n", "k: 1_000\n", "k: 12:30\n", "k: yes\n", "k: 1.5\n", "k: 2001-12-14\n", "k: ~\n",
     "k:\n", "k: 007\n", "k: -3\n", "k: +3\n", "k: a #c\n", "k: .inf\n", "k: 'it''s'\n",
     "k: 'multi\n  line'\n", "k: \"esc\\tx\"\n", "k: x\nk: y\n", "k: [1, 2]\n", "a: 1\nb:\n  c: 2\n",
     "k: plain words here\n", "k: file:///a/b\n", "k: a:b\n", "# comment\nk: v\n"],
)
def test_fast_meta_parser_equals_yaml_for_hand_edited_lines(text):
    assert parse_meta(text.encode()) == yaml.safe_load(text)


def test_parse_meta_rejects_non_mappings():
    for bad in (b"", b"   \n", b"- 1\n", b"scalar\n", b"a: [\n"):
        with pytest.raises(MetaError):
            parse_meta(bad)


# -- writes: what lands on disk -----------------------------------------------------------------


def leftovers(root: Path) -> list[str]:
    return [str(p) for p in root.rglob(".tracktui-*")]


def test_writes_keep_unknown_meta_fields_and_leave_no_temp_files(tree):
    meta = run_dir(tree, "first") / "meta.yaml"
    meta.write_text(meta.read_text() + f"run_uuid: {tree['first']}\nfuture_field: kept\n")
    store = FileStore(str(tree["root"]))
    store.rename_run(tree["first"], "renamed")
    store.set_tags([tree["first"], tree["second"]], {"a/b": "nested", "k": "new"})
    store.delete_run(tree["first"])
    data = yaml.safe_load(meta.read_text())
    assert data["future_field"] == "kept" and data["run_uuid"] == tree["first"]
    assert data["run_name"] == "renamed" and data["lifecycle_stage"] == "deleted"
    assert isinstance(data["deleted_time"], int) and data["status"] == 3
    store.restore_run(tree["first"])
    assert "deleted_time" not in yaml.safe_load(meta.read_text())  # as mlflow's rewrite drops it
    assert (run_dir(tree, "second") / "tags" / "a" / "b").read_bytes() == b"nested"
    assert leftovers(tree["root"]) == []


def test_failed_atomic_replace_leaves_the_old_file(tree, monkeypatch):
    tag = run_dir(tree, "first") / "tags" / "k"
    store = FileStore(str(tree["root"]))

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        store.set_tag(tree["first"], "k", "never written")
    monkeypatch.undo()
    assert tag.read_text() == "first"
    assert leftovers(tree["root"]) == []


def test_delete_experiment_moves_it_to_trash_and_restore_brings_it_back(tree):
    store = FileStore(str(tree["root"]))
    store.delete_run(tree["second"])
    second_deleted_at = yaml.safe_load((run_dir(tree, "second") / "meta.yaml").read_text())["deleted_time"]
    store.delete_experiment(tree["exp"])
    trashed = tree["root"] / ".trash" / tree["exp"]
    assert trashed.is_dir() and not tree["exp_dir"].exists()
    metas = {n: yaml.safe_load((trashed / tree[n] / "meta.yaml").read_text()) for n in ("first", "second")}
    assert all(m["lifecycle_stage"] == "deleted" for m in metas.values())
    # as mlflow's file store: only the runs that were active get the experiment's time
    assert metas["second"]["deleted_time"] == second_deleted_at
    store.restore_experiment(tree["exp"])
    assert tree["exp_dir"].is_dir() and not trashed.exists()
    assert names(store, tree) == ["first", "second"]


def test_create_experiment_in_a_new_folder_makes_a_store_mlflow_reads(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    root = tmp_path / "new" / "mlruns"
    store = FileStore(str(root))
    eid = store.create_experiment("made here", tags={"t": "1"})
    run = store.create_run(eid, name="r", tags={"x": "y"})
    store.log_batch(run.id, [("m", __import__("store").model.MetricPoint(0.5, 1, 10))], {"p": "1"})
    import mlflow

    client = mlflow.MlflowClient(root.as_uri())
    assert {e.name for e in client.search_experiments()} == {"Default", "made here"}
    got = client.get_run(run.id)
    assert (got.info.run_name, got.data.params, got.data.metrics, got.data.tags["x"]) == ("r", {"p": "1"}, {"m": 0.5}, "y")
    assert leftovers(root) == []
    assert store.warnings == ()


def test_purge_skips_a_run_whose_outside_artifact_path_looks_unsafe(tree):
    victim = tree["root"].parent / "precious"
    victim.mkdir()
    (victim / "keep.txt").write_text("keep")
    meta = run_dir(tree, "first") / "meta.yaml"
    data = yaml.safe_load(meta.read_text())
    data["artifact_uri"] = victim.as_uri()
    meta.write_text(yaml.safe_dump(data))
    store = FileStore(str(tree["root"]))
    store.delete_runs([tree["first"], tree["second"]])
    assert store.purge_deleted_runs() == [tree["second"]]
    assert (victim / "keep.txt").read_text() == "keep"
    assert run_dir(tree, "first").is_dir() and not run_dir(tree, "second").exists()
    assert any(tree["first"] in line for line in store.last_purge_skipped)


def test_purge_dry_run_names_what_would_go_and_touches_nothing(tree):
    store = FileStore(str(tree["root"]))
    store.delete_runs([tree["second"]])
    assert store.purge_deleted_runs(dry_run=True) == [tree["second"]]
    assert run_dir(tree, "second").is_dir()
    assert store.purge_deleted_runs() == [tree["second"]]
    assert not run_dir(tree, "second").exists()


def test_purge_counts_a_deleted_run_without_deleted_time_as_old_enough(tree):
    """mlflow's file-store gc does the same (trees from before deleted_time existed)."""
    store = FileStore(str(tree["root"]))
    store.delete_run(tree["first"])
    meta = run_dir(tree, "first") / "meta.yaml"
    data = yaml.safe_load(meta.read_text())
    del data["deleted_time"]
    meta.write_text(yaml.safe_dump(data))
    assert store.purge_deleted_runs(older_than_ms=10**12) == [tree["first"]]


# -- a live mlflow process writing while we read --------------------------------------------------

_TRAINER = r"""
import os, sys
os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
import mlflow
client = mlflow.MlflowClient(sys.argv[1])
exp = sys.argv[2]
for r in range(4):
    run = client.create_run(exp, run_name=f"live-{r}")
    rid = run.info.run_id
    client.log_param(rid, "r", str(r))
    for step in range(60):
        client.log_metric(rid, "loss", 1.0 / (step + 1), step=step, timestamp=1000 + step)
        if step % 20 == 0:
            client.set_tag(rid, "progress", str(step))
    client.set_terminated(rid)
print("done", flush=True)
"""


def test_reading_while_real_mlflow_logs_never_fails(tmp_path, monkeypatch):
    """A training process writes runs, metrics, tags and status rewrites through real mlflow;
    tracktui lists and opens runs throughout. Nothing raises, latest values only move forward,
    and the final state equals what mlflow itself reads."""
    import subprocess
    import sys

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    import mlflow

    root = tmp_path / "mlruns"
    client = mlflow.MlflowClient(root.as_uri())
    exp = client.create_experiment("live")
    store = FileStore(str(root))
    trainer = subprocess.Popen([sys.executable, "-c", _TRAINER, root.as_uri(), exp], stdout=subprocess.PIPE, text=True)
    seen_steps: dict[str, int] = {}
    polls = 0
    try:
        while trainer.poll() is None or polls == 0:
            polls += 1
            for run in store.search_runs([exp], max_results=100, order_by=["metrics.loss"]):
                point = run.metrics.get("loss")
                if point is not None:
                    assert point.step >= seen_steps.get(run.id, -1)
                    seen_steps[run.id] = point.step
                store.get_run(run.id)
                store.get_metric_history(run.id, "loss", max_points=20)
            store.count_runs(exp)
    finally:
        out, _ = trainer.communicate(timeout=300)
    assert trainer.returncode == 0 and "done" in out
    assert polls > 1
    ours = {r.id: (r.name, r.status, r.params, r.tags, r.metrics["loss"].step) for r in store.search_runs([exp])}
    theirs = {
        r.info.run_id: (r.info.run_name, r.info.status, r.data.params, r.data.tags, 59)
        for r in client.search_runs([exp])
    }
    assert ours == theirs and len(ours) == 4


def test_warning_about_a_half_written_file_goes_away_once_it_is_complete(tree):
    meta = run_dir(tree, "first") / "meta.yaml"
    content = meta.read_bytes()
    meta.write_bytes(b"")
    metric = run_dir(tree, "second") / "metrics" / "loss"
    with open(metric, "ab") as f:
        f.write(b"9 0.5")
    store = FileStore(str(tree["root"]))
    assert names(store, tree) == ["second"]
    assert warned(store, meta) and warned(store, metric)
    meta.write_bytes(content)
    with open(metric, "ab") as f:
        f.write(b" 9\n")
    assert names(store, tree) == ["first", "second"]
    assert store.warnings == ()


@pytest.mark.parametrize("folder", ["params", "tags", "metrics"])
def test_unreadable_folder_of_a_run_is_warned_about_not_fatal(tree, folder):
    """A symlink loop stands in for any folder the OS refuses to open (tests run as root,
    so permissions cannot be used)."""
    target = run_dir(tree, "first") / folder
    shutil.rmtree(target)
    target.symlink_to(target)  # ELOOP on every access
    store = FileStore(str(tree["root"]))
    runs = {r.name: r for r in store.search_runs([tree["exp"]])}
    assert set(runs) == {"first", "second"}
    assert runs["second"].params == {"lr": "0.1"} and runs["second"].metrics["loss"].step == 4
    store.get_run(tree["first"])
    store.list_keys([tree["exp"]])
    assert warned(store, target)


def test_unreadable_experiment_meta_is_warned_about_not_fatal(tree):
    meta = tree["exp_dir"] / "meta.yaml"
    meta.unlink()
    meta.symlink_to(meta)
    store = FileStore(str(tree["root"]))
    assert [e.name for e in store.search_experiments()] == ["Default"]
    assert warned(store, meta)


# -- hostile files: aliases, FIFOs, symlink loops ------------------------------------------------

ALIAS_BOMB = b"".join(
    [b"a: &a ['lol','lol','lol','lol','lol','lol','lol','lol','lol']\n"]
    + [
        f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n".encode()
        for i in range(8)
    ]
)


def finishes(call, seconds: float = 10.0):
    """call()'s result, failing the test (instead of hanging the suite) if it blocks."""
    import threading

    result: list = []
    worker = threading.Thread(target=lambda: result.append(call()), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still blocked after {seconds}s"
    return result[0]


def test_yaml_alias_bomb_in_run_meta_skips_that_run_with_a_warning(tree):
    meta = run_dir(tree, "first") / "meta.yaml"
    meta.write_bytes(ALIAS_BOMB)
    store = FileStore(str(tree["root"]))
    assert names(store, tree) == ["second"]
    assert any(str(meta) in w and "aliases" in w for w in store.warnings)


def test_meta_yaml_with_any_anchor_or_alias_is_refused():
    with pytest.raises(MetaError, match="aliases"):
        parse_meta(b"name: &n x\nother: *n\n")
    with pytest.raises(MetaError, match="aliases"):
        parse_meta(b"tags: &t\n  a: b\n")
    assert parse_meta(b"name: 'a & b * c'\n") == {"name": "a & b * c"}


def test_fifo_as_metric_file_is_skipped_with_a_warning_not_a_hang(tree):
    fifo = run_dir(tree, "first") / "metrics" / "stuck"
    os.mkfifo(fifo)
    store = FileStore(str(tree["root"]))
    runs = finishes(lambda: {r.name: r for r in store.search_runs([tree["exp"]])})
    assert set(runs) == {"first", "second"}
    assert runs["first"].metrics["loss"].step == 4 and "stuck" not in runs["first"].metrics
    assert warned(store, fifo)
    assert finishes(lambda: store.get_metric_history(tree["first"], "stuck")) == []


@pytest.mark.parametrize("folder", ["params", "tags"])
def test_fifo_as_param_or_tag_file_is_skipped_with_a_warning_not_a_hang(tree, folder):
    fifo = run_dir(tree, "first") / folder / "stuck"
    os.mkfifo(fifo)
    store = FileStore(str(tree["root"]))
    run = finishes(lambda: store.get_run(tree["first"]))
    assert "stuck" not in getattr(run, folder) and run.params["lr"] == "0.1"
    assert warned(store, fifo)


def test_fifo_as_meta_yaml_skips_that_run_with_a_warning(tree):
    meta = run_dir(tree, "first") / "meta.yaml"
    meta.unlink()
    os.mkfifo(meta)
    store = FileStore(str(tree["root"]))
    assert finishes(lambda: names(store, tree)) == ["second"]
    assert warned(store, meta)


@pytest.mark.parametrize("kind", ["loop", "dangling"])
def test_symlink_run_folder_that_cannot_be_followed_is_warned_about(tree, kind):
    link = tree["exp_dir"] / ("f" * 32)
    link.symlink_to(link if kind == "loop" else tree["exp_dir"] / "nowhere")
    store = FileStore(str(tree["root"]))
    assert names(store, tree) == ["first", "second"]
    assert warned(store, link)
    assert names(store, tree) == ["first", "second"]  # from the cached listing: still warned
    assert warned(store, link)
