"""The watch board with a real mlflow process logging into the same SQLite file while the board
is open: a run that starts appears, a NaN turns its row unhealthy with the reason, a run killed
mid-training stays on the board as ended, a run whose logging stopped is flagged stalled.
Snapshots at 80×24 and 120×40 use a fixed clock and fixed data."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from action_helpers import writable_copy
from pilot_helpers import settle

from tracktui.store import open_store
from tracktui.store.model import MetricPoint
from tracktui.store.sql.init import initialize_sqlite_store
from tracktui.tui.config import Config
from tracktui.tui.screens.watch import WatchScreen, watch_app
from tracktui.tui.watch import board

pytestmark = pytest.mark.anyio
LOGGER = Path(__file__).with_name("mlflow_logger.py")


@pytest.fixture(autouse=True)
def fast_refresh(monkeypatch):
    monkeypatch.setattr(board, "MIN_DELAY_S", 0.2)


class Logger:
    """The mlflow subprocess: `send(op=..., ...)` runs one command and returns its answer."""

    def __init__(self, uri: str):
        self.process = subprocess.Popen(
            [sys.executable, str(LOGGER), uri], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def send(self, **command) -> dict:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        answer = json.loads(self.process.stdout.readline())
        assert "error" not in answer, answer
        return answer

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.fixture
def store_copy(demo_store_uri, tmp_path) -> str:
    return writable_copy(demo_store_uri, tmp_path)


@pytest.fixture
def logger(store_copy):
    process = Logger(store_copy)
    yield process
    process.close()


def open_board(uri: str, tmp_path, **kwargs):
    store = open_store(uri, read_only=True)
    app = watch_app(store, **kwargs)
    app.config = Config(path=tmp_path / "tracktui.json")
    return app, store


async def wait_until(pilot, condition, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "the board did not show it in time"
        await pilot.pause(0.1)


def reasons(app) -> str:
    return str(app.screen.query_one("#watch-reasons").render())


async def move_to(pilot, run_id: str) -> None:
    screen = pilot.app.screen
    table = screen.query_one("#watch-table")
    table.move_cursor(row=list(screen.states).index(run_id))
    await pilot.pause()


@pytest.mark.parametrize("bell", [True, False], ids=["bell", "no-bell"])
async def test_a_run_that_starts_appears_and_a_nan_turns_it_unhealthy(logger, store_copy, tmp_path, bell):
    app, store = open_board(store_copy, tmp_path, bell=bell)
    rings: list[None] = []
    app.bell = lambda: rings.append(None)  # type: ignore[method-assign]
    with store:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, WatchScreen)
            run_id = logger.send(op="start", experiment="train", name="resnet")["run_id"]
            logger.send(op="log", run_id=run_id, key="loss", values=[1.0, 0.8, 0.7])
            await wait_until(pilot, lambda: run_id in screen.states and screen.states[run_id].tail)
            state = screen.states[run_id]
            assert state.experiment_name == "train" and state.metric == "loss" and not state.flags
            assert state.last_step == 2
            await move_to(pilot, run_id)
            assert "healthy" in reasons(app)

            logger.send(op="log", run_id=run_id, key="loss", values=[float("nan")], start_step=3)
            await wait_until(pilot, lambda: screen.states[run_id].flags)
            assert [f.kind for f in screen.states[run_id].flags] == ["non-finite"]
            await move_to(pilot, run_id)
            assert "loss is NaN at step 3" in reasons(app)
            row = screen.query_one("#watch-table").get_row(run_id)
            assert row[1].plain == "⚠ non-finite" and row[0].style  # drawn in the error style
            alerts = [n.message for n in app._notifications if n.title == "Watch: run unhealthy"]
            if bell:
                assert len(rings) == 1 and alerts == ["resnet: loss is NaN at step 3"]
            else:
                assert rings == [] and alerts == []


async def test_a_run_killed_mid_training_stays_as_ended_until_dismissed(logger, store_copy, tmp_path):
    app, store = open_board(store_copy, tmp_path)
    run_id = logger.send(op="start", experiment="train", name="victim")["run_id"]
    logger.send(op="log", run_id=run_id, key="loss", values=[1.0, 0.9])
    with store:
        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.screen
            await wait_until(pilot, lambda: run_id in screen.states)
            logger.send(op="end", run_id=run_id, status="KILLED")
            await wait_until(pilot, lambda: run_id in screen.ended)
            assert not screen.states[run_id].running
            assert screen.states[run_id].flags[0].reason.startswith("ended KILLED")
            await pilot.pause(1.0)  # later refreshes keep it
            assert run_id in screen.states
            await move_to(pilot, run_id)
            assert "ended KILLED" in reasons(app)
            await pilot.press("x")
            assert run_id not in screen.states


async def test_a_run_that_stopped_logging_is_flagged_stalled(logger, store_copy, tmp_path):
    app, store = open_board(store_copy, tmp_path)
    run_id = logger.send(op="start", experiment="train", name="stuck")["run_id"]
    ten_minutes_ago = int(time.time() * 1000) - 600_000
    logger.send(op="log", run_id=run_id, key="loss", values=[1.0, 0.9, 0.8, 0.7],
                timestamps=[ten_minutes_ago + 1000 * i for i in range(4)])
    with store:
        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.screen
            await wait_until(pilot, lambda: run_id in screen.states)
            assert [f.kind for f in screen.states[run_id].flags] == ["stalled"]
            await move_to(pilot, run_id)
            assert "nothing logged for 9m" in reasons(app) and "usually every 1s" in reasons(app)


async def test_the_board_counts_its_store_calls_and_reads_only_running_runs(store_copy, tmp_path):
    """One experiments listing, one search, one read of the running runs' tails (SQL: one statement)."""
    app, store = open_board(store_copy, tmp_path)
    with store:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            screen = app.screen
            assert all(s.running for s in screen.states.values())
            assert len(screen.states) > 1  # several running runs, still one read of their tails
            assert screen.last_calls == 3


# -- snapshots: fixed data, fixed clock -------------------------------------------------------

NOW_MS = 1_700_000_000_000


def snapshot_store(tmp_path) -> str:
    """Three running runs written by tracktui's own store: healthy with system metrics, NaN,
    stalled; every time fixed relative to NOW_MS."""
    uri = initialize_sqlite_store(tmp_path / "snap.db", artifact_root=str(tmp_path / "mlruns"))
    with open_store(uri) as store:
        exp = store.create_experiment("vision")
        specs = [("healthy", [1.0 - 0.05 * i for i in range(20)], 5_000),
                 ("diverged", [1.0, 0.9, float("nan")], 5_000),
                 ("stuck", [1.0, 0.95, 0.9, 0.85], 1_000)]
        for n, (name, values, gap) in enumerate(specs):
            start = NOW_MS - 3_600_000 + n * 60_000
            run = store.create_run(exp, name=name, start_time=start, user_id="ada")
            last = NOW_MS - (900_000 if name == "stuck" else 2_000)
            first = last - gap * (len(values) - 1)
            points = [("loss", MetricPoint(v, i, first + gap * i)) for i, v in enumerate(values)]
            if name == "healthy":
                points += [("system/gpu_0_utilization_percentage", MetricPoint(87.0, 0, last)),
                           ("system/cpu_utilization_percentage", MetricPoint(41.0, 0, last)),
                           ("system/system_memory_usage_percentage", MetricPoint(63.0, 0, last))]
            store.log_batch(run.id, metrics=points)
    return uri


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_snapshot_watch_board(snap_compare, tmp_path, size):
    uri = snapshot_store(tmp_path)
    store = open_store(uri, read_only=True)
    store.display_uri = "sqlite:///watch/mlflow.db"
    app = watch_app(store, clock=lambda: NOW_MS / 1000)
    app.config = Config(path=tmp_path / "tracktui.json")

    async def run_before(pilot):
        await settle(pilot)
        screen = pilot.app.screen
        if screen._timer is not None:  # nothing moves while the picture is taken
            screen._timer.stop()
        await pilot.press("j")
        await pilot.pause()

    try:
        assert snap_compare(app, terminal_size=size, run_before=run_before)
    finally:
        store.close()


async def test_w_on_the_experiments_screen_opens_the_board_of_all_experiments(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, WatchScreen) and screen.experiments is None
        names = {s.experiment_name for s in screen.states.values()}
        assert "mnist-classifier" in names and len(names) > 1  # the demo's running runs, across experiments
        assert all(s.run.status == "RUNNING" for s in screen.states.values())
        await pilot.press("escape")
        assert not isinstance(app.screen, WatchScreen)
