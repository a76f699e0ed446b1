"""App lifecycle: quitting while a store call is stuck, and store warnings found after start-up."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time

import pytest
from pilot_helpers import settle

from tracktui.store import open_store
from tracktui.tui.app import TrackApp
from tracktui.tui.config import Config

#: `tracktui URI` as typed (tui.cli.main), the app run headless, pressing q once the first
#: listing is stuck.
QUIT_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from tracktui.tui import app as app_module
    from tracktui.tui.cli import main

    async def press_q(pilot):
        await asyncio.sleep(1.0)  # the experiments listing now waits on the silent server
        print("pressing q", flush=True)
        await pilot.press("q")

    run = app_module.TrackApp.run
    app_module.TrackApp.run = lambda self, **kw: run(self, headless=True, auto_pilot=press_q)
    code = main([sys.argv[1], "--read-only"])
    print("returned", code, flush=True)
    sys.exit(code)
    """
)


def test_q_quits_at_once_while_a_store_call_is_blocked(tmp_path):
    """A server that accepts connections and never answers (the kernel completes the
    handshake from the listen backlog): the listing's request would wait out the 120 s
    timeout. The process must end within seconds of q, without a traceback."""
    with socket.create_server(("127.0.0.1", 0), backlog=16) as silent:
        port = silent.getsockname()[1]
        env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")}
        env.pop("MLFLOW_TRACKING_URI", None)
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-c", QUIT_SCRIPT, f"http://127.0.0.1:{port}"],
            capture_output=True, text=True, timeout=60, env=env,
        )
        elapsed = time.monotonic() - started
    assert "pressing q" in result.stdout, result.stderr
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "returned 0" in result.stdout
    assert elapsed < 15, f"the process took {elapsed:.1f}s to end after q"


def _file_store_with_runs(root) -> str:
    """A small mlruns tree written through tracktui's file store: one experiment, two runs."""
    store = open_store(root.as_uri())
    try:
        exp = store.create_experiment("lifecycle")
        for name in ("first", "second"):
            store.create_run(exp, name=name, start_time=1_700_000_000_000)
    finally:
        store.close()
    return exp


@pytest.mark.anyio
async def test_a_file_skipped_after_start_up_is_notified(tmp_path):
    root = tmp_path / "mlruns"
    exp = _file_store_with_runs(root)
    store = open_store(root.as_uri(), read_only=True)
    app = TrackApp(store, config=Config(path=tmp_path / "tracktui.json"))
    try:
        async with app.run_test(size=(120, 30)) as pilot:
            await settle(pilot)
            assert not [n for n in app._notifications if n.title == "Store warning"]
            run_folder = next(p for p in (root / exp).iterdir() if p.is_dir() and p.name != "tags")
            (run_folder / "meta.yaml").write_bytes(b"a: &x [1]\nb: *x\n")  # damaged while open
            await pilot.press("ctrl+r")
            await settle(pilot)
            shown = [n.message for n in app._notifications if n.title == "Store warning"]
            assert len(shown) == 1 and str(run_folder) in shown[0] and "run skipped" in shown[0]
            await pilot.press("ctrl+r")  # the same warning again: not notified twice
            await settle(pilot)
            assert len([n for n in app._notifications if n.title == "Store warning"]) == 1
    finally:
        store.close()


def test_a_call_running_at_quit_gets_a_short_grace_then_is_left():
    """A write made just before q still completes; a stuck call holds the exit no longer
    than the grace."""
    import threading

    from tracktui.tui.abandonable import Abandoned, call_abandonable, finish_pending

    release, written = threading.Event(), threading.Event()

    def slow_write() -> None:
        release.wait(5)
        written.set()

    with pytest.raises(Abandoned):
        call_abandonable(slow_write, lambda: True)  # the worker was cancelled: quitting
    threading.Timer(0.3, release.set).start()
    assert finish_pending(3.0) == 0 and written.is_set()

    stuck = threading.Event()
    with pytest.raises(Abandoned):
        call_abandonable(lambda: stuck.wait(30), lambda: True)
    started = time.monotonic()
    assert finish_pending(0.5) == 1
    assert time.monotonic() - started < 2
    stuck.set()
    assert call_abandonable(lambda: 42, lambda: False) == 42
