"""MySQL/MariaDB (TRACKTUI_TEST_MYSQL_URL): the access path store/sql/runs_path.py chooses for
the runs of some experiments — a walk of MLflow's `(experiment_id)` index, or one pass over
`runs` (`IGNORE INDEX`) — changes the plan only. Every filter and ordering of the read contract
gives the same runs in the same order both ways, pages and counts too; the pass is forced with a
bound of one run, the walk with a bound no experiment reaches, and each test checks which one
the page query really used.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from test_contract_read import BIG, RUN_FILTERS, RUN_ORDERINGS, _ids, expand, our_run

from fixtures.data import ALPHA, BETA
from tracktui.store.sql import runs_path

PASS = "IGNORE INDEX"


@pytest.fixture
def store(mysql_store):
    return mysql_store


@pytest.fixture
def info(mysql_backend):
    return mysql_backend


def _both_ways(store, monkeypatch, call):
    """(walk's answer, pass's answer) of `call()`, after checking the SQL of each."""
    answers = []
    for bound, share, hinted in ((10**12, 0.0, False), (1, 0.0, True)):
        monkeypatch.setattr(runs_path, "MIN_SCAN_RUNS", bound)
        monkeypatch.setattr(runs_path, "SCAN_SHARE", share)
        statements: list[str] = []

        def capture(conn, cursor, statement, parameters, context, executemany, seen=statements):
            seen.append(statement)

        sa.event.listen(store.engine, "before_cursor_execute", capture)
        try:
            answers.append(call())
        finally:
            sa.event.remove(store.engine, "before_cursor_execute", capture)
        on_runs = [s for s in statements if "FROM runs" in s and "information_schema" not in s]
        assert on_runs and any(PASS in s for s in on_runs) == hinted, on_runs
    return answers


def _runs(page) -> list[dict]:
    return [our_run(r) for r in page]


def test_the_foreign_keys_index_is_found_with_the_tables_size(store, info):
    with store.engine.connect() as conn:
        estimate, indexes = runs_path.RunsPath(store.tables.runs).table(conn)
    assert indexes == ("experiment_id",)  # the name InnoDB gives the index of MLflow's key
    assert estimate >= 0


@pytest.mark.parametrize("filter_template", RUN_FILTERS, ids=_ids)
def test_filters_give_the_same_runs_both_ways(store, info, monkeypatch, filter_template):
    exps = [info.experiments[ALPHA], info.experiments[BETA]]
    text = expand(filter_template, info)
    walk, scan = _both_ways(store, monkeypatch, lambda: store.search_runs(exps, text, max_results=BIG))
    assert _runs(walk) == _runs(scan)


@pytest.mark.parametrize("order_by", RUN_ORDERINGS, ids=lambda o: _ids(",".join(o)))
def test_orderings_give_the_same_runs_both_ways(store, info, monkeypatch, order_by):
    exps = [info.experiments[ALPHA], info.experiments[BETA]]
    walk, scan = _both_ways(store, monkeypatch, lambda: store.search_runs(exps, order_by=order_by, max_results=BIG))
    assert len(walk) > 3
    assert _runs(walk) == _runs(scan)


@pytest.mark.parametrize("order_by", [[], ["metrics.loss DESC"], ["params.lr", "run_name"]])
def test_pages_are_the_same_both_ways(store, info, monkeypatch, order_by):
    exps = list(info.experiments.values())

    def pages():
        out, token = [], None
        while True:
            page = store.search_runs(exps, order_by=order_by, view="all", max_results=3, page_token=token)
            out.append([r.id for r in page])
            token = page.next_page_token
            if not token:
                return out

    walk, scan = _both_ways(store, monkeypatch, pages)
    assert len(walk) > 2
    assert walk == scan


@pytest.mark.parametrize("view", ["active", "deleted", "all"])
def test_counts_are_the_same_both_ways(store, info, monkeypatch, view):
    exps = list(info.experiments.values())
    walk, scan = _both_ways(store, monkeypatch, lambda: store.count_runs_by_experiment(exps, view))
    assert walk == scan
    assert sum(walk.values()) > 0


def test_a_large_share_reads_the_table_and_a_small_one_walks_the_index(store, info, monkeypatch):
    """The bound is max(MIN_SCAN_RUNS, SCAN_SHARE × the table's estimated rows), counted off
    the index: an experiment with fewer runs than the bound is walked."""
    alpha = int(info.experiments[ALPHA])
    path = runs_path.RunsPath(store.tables.runs)
    with store.engine.connect() as conn:
        n = conn.execute(sa.select(sa.func.count()).where(store.tables.runs.c.experiment_id == alpha)).scalar()
        monkeypatch.setattr(runs_path, "SCAN_SHARE", 0.0)
        monkeypatch.setattr(runs_path, "MIN_SCAN_RUNS", n)
        assert path.large_share(conn, [alpha], estimate=10 * n)
        monkeypatch.setattr(runs_path, "MIN_SCAN_RUNS", n + 1)
        assert not path.large_share(conn, [alpha], estimate=10 * n)
        monkeypatch.setattr(runs_path, "MIN_SCAN_RUNS", 1)
        monkeypatch.setattr(runs_path, "SCAN_SHARE", 0.1)
        assert path.large_share(conn, [alpha], estimate=10 * n)
        assert not path.large_share(conn, [alpha], estimate=10 * n + 10)


@pytest.fixture(scope="module")
def private(tmp_path_factory, request):
    """A MariaDB/MySQL store of this module's own (its schema is changed), with 6 runs."""
    from fixtures.private_stores import make_private

    made = make_private("mysql", tmp_path_factory.mktemp("runs-path"), request)
    experiment = made.client.create_experiment("runs-path")
    for n in range(6):
        made.client.create_run(experiment, run_name=f"run-{n}", start_time=1_700_000_000_000 + n)
    yield made, experiment
    made.close()


def test_an_index_an_administrator_adds_replaces_the_foreign_keys_and_breaks_nothing(private, monkeypatch):
    """docs/scale.md's runs index makes InnoDB drop the foreign key's `(experiment_id)`
    index; a store already open must not name the dropped index in a hint (an error), and
    leaves the new index to the optimizer."""
    made, experiment = private
    store = made.store
    monkeypatch.setattr(runs_path, "MIN_SCAN_RUNS", 1)
    monkeypatch.setattr(runs_path, "SCAN_SHARE", 0.0)
    before = [r.id for r in store.search_runs([experiment])]
    assert len(before) == 6
    with store.engine.connect() as conn:
        assert store._runs_path.table(conn)[1] == ("experiment_id",)
        conn.exec_driver_sql(
            "CREATE INDEX runs_experiment_stage_start ON runs (experiment_id, lifecycle_stage, start_time DESC, run_uuid)")
        assert store._runs_path.table(conn)[1] == ()  # InnoDB dropped the key's own index
    assert [r.id for r in store.search_runs([experiment])] == before
    assert store.count_runs(experiment) == 6
