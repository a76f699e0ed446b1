"""The file store's listing caches never serve stale data (files_rundata, the reused order).

Files are aged first (mtimes an hour back, as in any tree not being written), so that what a
listing reads is remembered; then the tree is changed the way mlflow changes it (a tag file
rewritten in place, a metric line appended, a param added, a run renamed) and the next
listing must show the change. Trees are real mlflow-written ones (test_files_tolerance).
"""

# ruff: noqa: F811 (the fixtures imported from test_files_tolerance are test arguments)
from __future__ import annotations

import gc
import os
import time

import pytest
from test_files_tolerance import pristine, run_dir, tree  # noqa: F401 (fixtures)

from tracktui.store.errors import StoreError
from tracktui.store.files.store import FileStore


def _age(root) -> None:
    old = time.time() - 3600
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            os.utime(os.path.join(folder, name), (old, old))
        os.utime(folder, (old, old))


def _listed(store, tree) -> dict:
    return {r.name: r for r in store.search_runs([tree["exp"]], max_results=1000)}


def test_remembered_run_data_follows_in_place_changes(tree):
    _age(tree["root"])
    store = FileStore(str(tree["root"]))
    before = _listed(store, tree)["first"]
    assert _listed(store, tree)["first"] == before  # served from what was remembered
    folder = run_dir(tree, "first")
    (folder / "tags" / "k").write_text("changed")  # in place, same size class as mlflow's
    with open(folder / "metrics" / "loss", "a") as f:
        f.write("1700000000099 0.5 99\n")
    (folder / "params" / "new").write_text("p")
    after = _listed(store, tree)["first"]
    assert after.tags["k"] == "changed"
    assert after.metrics["loss"].step == 99 and after.metrics["loss"].value == 0.5
    assert after.params == {**before.params, "new": "p"}
    assert store.warnings == ()


def test_next_page_sees_a_run_renamed_since_the_first(tree):
    _age(tree["root"])
    store = FileStore(str(tree["root"]))
    first = store.search_runs([tree["exp"]], max_results=1)
    assert [r.name for r in first.items] == ["second"]  # newest start_time first
    meta = run_dir(tree, "first") / "meta.yaml"
    meta.write_text(meta.read_text().replace("run_name: first", "run_name: renamed"))
    second = store.search_runs([tree["exp"]], max_results=1, page_token=first.next_page_token)
    assert [r.name for r in second.items] == ["renamed"]


def test_order_by_a_metric_follows_an_appended_point(tree):
    _age(tree["root"])
    store = FileStore(str(tree["root"]))
    order = ["metrics.loss DESC"]
    # equal latest losses: the tie falls to start_time DESC
    assert [r.name for r in store.search_runs([tree["exp"]], order_by=order).items] == ["second", "first"]
    with open(run_dir(tree, "first") / "metrics" / "loss", "a") as f:
        f.write("1700000000099 50.0 99\n")
    with open(run_dir(tree, "second") / "metrics" / "loss", "a") as f:
        f.write("1700000000099 -50.0 99\n")
    assert [r.name for r in store.search_runs([tree["exp"]], order_by=order).items] == ["first", "second"]


def test_listing_leaves_the_garbage_collector_as_it_found_it(tree):
    """search_runs pauses the cyclic GC while it builds its results (store/nogc.py), and only
    then: enabled again after a listing and after a failed one, still off if it was off."""
    store = FileStore(str(tree["root"]))
    assert gc.isenabled()
    assert len(store.search_runs([tree["exp"]]).items) == 2
    assert gc.isenabled()
    with pytest.raises(StoreError):
        store.search_runs([tree["exp"]], "metrics.loss >>> 1")
    assert gc.isenabled()
    gc.disable()
    try:
        store.search_runs([tree["exp"]])
        assert not gc.isenabled()
    finally:
        gc.enable()
