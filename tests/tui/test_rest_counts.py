"""Run counts over a live `mlflow server` (no count endpoint: each count is a series of one-run
searches): bounded and shown as "N+", counted one experiment at a time, and the list's counting
paused while another screen covers it. The bound is patched down to 2 so a few runs pass it."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from action_helpers import mlflow_client
from pilot_helpers import settle

from tracktui.store import open_store
from tracktui.tui import run_counts
from tracktui.tui.app import TrackApp
from tracktui.tui.config import Config
from tracktui.tui.screens.experiments import ExperimentsScreen, ExperimentsTable
from tracktui.tui.screens.runs import RunsScreen

pytestmark = pytest.mark.anyio

CAP = 2


def make_experiment(client, name: str, runs: int, children: int = 0) -> str:
    """An experiment with `runs` top-level runs, the first with `children` nested runs."""
    experiment_id = client.create_experiment(name)
    parent = None
    for i in range(runs):
        run = client.create_run(experiment_id, run_name=f"run-{i}")
        client.set_terminated(run.info.run_id)
        parent = parent or run.info.run_id
    for i in range(children):
        child = client.create_run(experiment_id, run_name=f"child-{i}", tags={"mlflow.parentRunId": parent})
        client.set_terminated(child.info.run_id)
    return experiment_id


def cell(app, experiment_id: str) -> str:
    table = app.screen.query_one(ExperimentsTable)
    return str(table.get_cell(experiment_id, "runs"))


def record_probes(store, delay: float = 0.0) -> list[str]:
    """The experiment id of every one-run search (count probe) the server answers; `delay`
    holds each one back before it is sent, as a busy server's queue would."""
    probes: list[str] = []
    real = store._http.request

    def request(method, path, **kwargs):
        body = kwargs.get("json_body") or {}
        probe = path.endswith("/runs/search") and body.get("max_results") == 1
        if probe:
            time.sleep(delay)
        answer = real(method, path, **kwargs)
        if probe:
            probes.append(body["experiment_ids"][0])
        return answer

    store._http.request = request
    return probes


async def test_counts_past_the_bound_read_n_plus(tracking_server_url, tmp_path, monkeypatch):
    monkeypatch.setattr(run_counts, "COUNT_CAP", CAP)
    client = mlflow_client(tracking_server_url)
    tag = uuid.uuid4().hex[:8]
    nested = make_experiment(client, f"count-nested-{tag}", runs=1, children=3)  # 4 runs, 1 top-level
    at_cap = make_experiment(client, f"count-two-{tag}", runs=2)
    one = make_experiment(client, f"count-one-{tag}", runs=1)
    store = open_store(tracking_server_url)
    app = TrackApp(store, config=Config(path=tmp_path / "tracktui.json"))
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            assert cell(app, nested) == "2+"
            assert cell(app, at_cap) == "2"  # at the bound: exact
            assert cell(app, one) == "1"
            screen = app.screen
            assert isinstance(screen, ExperimentsScreen)
            screen.query_one(ExperimentsTable).move_cursor(row=screen.query_one(ExperimentsTable).get_row_index(nested))
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, RunsScreen)
            title = str(app.screen.query_one("#runs-title").render())
            assert "1 top-level run loaded · 2+ in all" in title
            await pilot.press("T")  # flat: every run loaded, more than the bound
            await settle(pilot)
            title = str(app.screen.query_one("#runs-title").render())
            assert "4 of 4+ runs" in title
    finally:
        store.close()


async def test_covering_the_list_stops_its_counting_until_it_is_shown_again(tracking_server_url, tmp_path,
                                                                          monkeypatch):
    """Open an experiment while the list is counting another: the count under way sends no
    further probe, no other experiment is counted while the runs screen is shown, and the rest
    are counted, in list order, once the list is back."""
    monkeypatch.setattr(run_counts, "COUNT_CAP", 1000)  # exact here: several probes per count
    client = mlflow_client(tracking_server_url)
    tag = uuid.uuid4().hex[:8]
    ids = [make_experiment(client, f"count-cover-{tag}-{i}", runs=9) for i in range(4)]
    newest, opened = ids[-1], ids[-2]
    store = open_store(tracking_server_url)
    probes = record_probes(store, delay=0.2)
    app = TrackApp(store, config=Config(path=tmp_path / "tracktui.json"))
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.screen
            assert isinstance(screen, ExperimentsScreen)
            for _ in range(1000):
                await pilot.pause(0.01)
                if newest in probes:  # its count is under way: a few probes to go
                    break
            assert screen._counting == newest and screen.current_id == newest  # newest first
            await pilot.press("j", "enter")
            assert isinstance(app.screen, RunsScreen) and app.screen.experiment.id == opened
            at_cover = [p for p in probes if p != opened]
            assert screen._counting is None
            assert all(w.is_cancelled or w.is_finished for w in screen.workers if w.group == "counts")
            await settle(pilot)
            await asyncio.sleep(1.0)
            await settle(pilot)
            after = [p for p in probes if p != opened]
            assert len(after) <= len(at_cover) + 1  # at most the probe already on the wire
            assert set(after) == {newest} and newest not in screen.counts
            await pilot.press("escape")
            await settle(pilot)
            assert app.screen is screen
            assert set(screen.counts) == {e.id for e in screen.experiments}
            assert [cell(app, eid) for eid in ids] == ["9"] * 4
            counted = list(dict.fromkeys(probes))
            assert counted[: len(ids)] == [newest, opened, ids[1], ids[0]]  # list order (opened's by its runs screen)
    finally:
        store.close()
