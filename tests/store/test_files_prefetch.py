"""The file store's helper process (files_prefetch) changes how fast a big listing is, never
what it says: with the helper doing all, some or none of the work, or broken in any way, a
listing equals the listing made without it. The trees are written by real mlflow; the helper
is a real subprocess (MIN_RUNS lowered so a small tree uses one).
"""

from __future__ import annotations

import os
import sys

import pytest
from fixtures.data import allow_file_store

from store import files_prefetch
from store.files import FileStore
from store.files_metrics import EXACT_LIMIT
from store.files_rundata import RunDataCache

T0 = 1_700_000_000_000
N_RUNS = 24


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> dict:
    """24 runs: nested param/metric/tag keys, a metric longer than an exact read, unicode;
    every file aged."""
    root = tmp_path_factory.mktemp("prefetch") / "mlruns"
    with allow_file_store():
        import mlflow
        from mlflow.entities import Metric, Param, RunTag

        client = mlflow.MlflowClient(root.as_uri())
        exp = client.create_experiment("prefetch")
        ids = []
        for i in range(N_RUNS):
            run = client.create_run(exp, run_name=f"run-{i:02d}-ü", start_time=T0 + i)
            rid = run.info.run_id
            metrics = [Metric("loss", 1.0 / (s + 1) + i, T0 + s, s) for s in range(3)]
            metrics.append(Metric("nested/acc", float(i), T0, 0))
            if i % 5 == 0:  # a long history: read by tail, not exactly
                metrics += [Metric("long", float(s), T0 + s, s) for s in range(EXACT_LIMIT // 20 + 50)]
            client.log_batch(rid, metrics=metrics, params=[Param("lr", str(i)), Param("a/b", "x" * i)],
                             tags=[RunTag("team", "é"), RunTag("deep/tag", str(i))])
            client.set_terminated(rid, end_time=T0 + 100 + i)
            ids.append(rid)
    old = T0 / 1000  # aged, as a tree not being written: what a listing reads is remembered
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            os.utime(os.path.join(folder, name), (old, old))
    return {"root": root, "exp": exp, "ids": ids}


@pytest.fixture
def helper(monkeypatch):
    """Helpers for every listing (however small), their Prefetch objects recorded."""
    monkeypatch.setattr(files_prefetch, "MIN_RUNS", 1)
    monkeypatch.setenv(files_prefetch.ENV_SWITCH, "1")
    made: list[files_prefetch.Prefetch] = []
    original = files_prefetch.Prefetch.__init__

    def recording_init(self):
        original(self)
        made.append(self)

    monkeypatch.setattr(files_prefetch.Prefetch, "__init__", recording_init)
    return made


@pytest.fixture
def reads_here(monkeypatch) -> list[str]:
    """Run folders this process read itself (the helper's reads are in another process)."""
    seen: list[str] = []
    original = RunDataCache.read

    def counting_read(self, path):
        seen.append(path)
        return original(self, path)

    monkeypatch.setattr(RunDataCache, "read", counting_read)
    return seen


def listing(root, exp) -> list:
    return list(FileStore(str(root)).search_runs([exp], max_results=1000).items)


def without_helper(root, exp, monkeypatch) -> list:
    with monkeypatch.context() as m:
        m.setenv(files_prefetch.ENV_SWITCH, "0")
        return listing(root, exp)


def wait_for_helper(monkeypatch, timeout: float | None = None) -> None:
    """Make each helper finish all its folders (or give up after `timeout` seconds) before
    the listing reads any."""
    original = files_prefetch.Prefetch.send

    def waiting_send(self, paths):
        original(self, paths)
        if self._thread is not None:
            self._thread.join(timeout)

    monkeypatch.setattr(files_prefetch.Prefetch, "send", waiting_send)


def test_listing_read_by_the_helper_equals_the_listing_without(tree, helper, reads_here, monkeypatch):
    expected = without_helper(tree["root"], tree["exp"], monkeypatch)
    assert len(expected) == N_RUNS and expected[-1].metrics["long"].step == EXACT_LIMIT // 20 + 49
    reads_here.clear()
    wait_for_helper(monkeypatch)
    got = listing(tree["root"], tree["exp"])
    assert got == expected
    assert len(helper) == 1 and len(helper[0].results) == N_RUNS
    assert reads_here == []  # every run's data came from the helper


def test_listing_shared_with_a_running_helper_equals_the_listing_without(tree, helper, monkeypatch):
    expected = without_helper(tree["root"], tree["exp"], monkeypatch)
    for _ in range(3):
        assert listing(tree["root"], tree["exp"]) == expected
    assert len(helper) == 3
    assert all(p._proc is None for p in helper)  # each helper stopped with its listing


def test_pages_smaller_than_the_experiment_send_the_helper_only_their_own_runs(tree, helper, reads_here,
                                                                              monkeypatch):
    def pages(store) -> list[list]:
        out, token = [], None
        while True:
            page = store.search_runs([tree["exp"]], max_results=10, page_token=token)
            out.append(list(page.items))
            token = page.next_page_token
            if not token:
                return out

    with monkeypatch.context() as m:
        m.setenv(files_prefetch.ENV_SWITCH, "0")
        expected = pages(FileStore(str(tree["root"])))
    reads_here.clear()
    wait_for_helper(monkeypatch)
    monkeypatch.setattr(files_prefetch, "MIN_RUNS", 5)
    got = pages(FileStore(str(tree["root"])))
    assert got == expected and [len(p) for p in got] == [10, 10, 4]
    # a helper per page while 5+ runs are unread; each sent exactly its page's folders
    assert len(helper) == 2
    for made, page in zip(helper, got):
        assert sorted(os.path.basename(p) for p in made.paths) == sorted(r.id for r in page)
    assert len(reads_here) == 4  # the last page, too small for a helper, read here


def test_what_the_helper_read_is_remembered_for_the_next_listing(tree, helper, reads_here, monkeypatch):
    wait_for_helper(monkeypatch)
    store = FileStore(str(tree["root"]))
    first = store.search_runs([tree["exp"]], max_results=1000).items
    assert store.search_runs([tree["exp"]], max_results=1000).items == first
    assert reads_here == [] and len(helper) == 1  # the second listing: all remembered, no helper


def test_a_run_the_helper_finds_unusual_is_read_here_and_warned_about(tree, tmp_path, helper, monkeypatch):
    import shutil

    root = tmp_path / "mlruns"
    shutil.copytree(tree["root"], root)
    bad = root / tree["exp"] / tree["ids"][3] / "metrics" / "loss"
    with open(bad, "a") as f:
        f.write("not a metric line\n")
    expected = without_helper(root, tree["exp"], monkeypatch)
    wait_for_helper(monkeypatch)
    store = FileStore(str(root))
    assert list(store.search_runs([tree["exp"]], max_results=1000).items) == expected
    assert tree["ids"][3] not in helper[0].results
    assert any(str(bad) in w for w in store.warnings)


@pytest.mark.parametrize(
    "argv",
    [
        [sys.executable, "-c", "import sys; sys.exit(3)"],
        [sys.executable, "-c", "import sys; sys.stdout.buffer.write(b'\\x05\\x00\\x00\\x00hello')"],
        [sys.executable, "-c", "import marshal, sys; sys.stdin.buffer.read(); b = marshal.dumps([('x', 1)]);"
                               " sys.stdout.buffer.write(len(b).to_bytes(4, 'little') + b)"],
        [sys.executable, "-c", "import marshal, sys; sys.stdin.buffer.read(); b = marshal.dumps([('/elsewhere', (1, {}, {}, [], {}))]);"
                               " sys.stdout.buffer.write(len(b).to_bytes(4, 'little') + b)"],
        [sys.executable, "-c", "import sys; sys.stdin.buffer.read(); sys.stdout.buffer.write(b'\\xff\\xff')"],
        [sys.executable, "-c", "import time; time.sleep(600)"],
        [os.path.join(os.sep, "no", "such", "python")],
    ],
    ids=["exits", "garbage", "wrong-shape", "unasked-folder", "truncated", "hangs", "cannot-start"],
)
def test_a_broken_helper_changes_nothing(tree, helper, monkeypatch, argv):
    expected = without_helper(tree["root"], tree["exp"], monkeypatch)
    monkeypatch.setattr(files_prefetch, "HELPER_ARGV", argv)
    wait_for_helper(monkeypatch, timeout=3)  # whatever it sends arrives before the listing reads
    assert listing(tree["root"], tree["exp"]) == expected
    assert helper[0].results == {}
    assert helper[0]._proc is None  # stopped (the hanging one killed)


def test_no_helper_when_switched_off_or_for_a_small_page(tree, monkeypatch):
    made: list = []
    monkeypatch.setattr(files_prefetch, "Prefetch", lambda: made.append(1))
    monkeypatch.setattr(files_prefetch, "MIN_RUNS", 1)
    monkeypatch.setenv(files_prefetch.ENV_SWITCH, "0")
    assert len(listing(tree["root"], tree["exp"])) == N_RUNS
    monkeypatch.setenv(files_prefetch.ENV_SWITCH, "1")
    monkeypatch.setattr(files_prefetch, "MIN_RUNS", N_RUNS + 1)
    assert len(listing(tree["root"], tree["exp"])) == N_RUNS
    store = FileStore(str(tree["root"]))  # a page smaller than MIN_RUNS needs no helper
    assert len(store.search_runs([tree["exp"]], max_results=5).items) == 5
    assert made == []
