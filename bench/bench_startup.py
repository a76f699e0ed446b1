"""Start-up time (issue 25): launch → experiments list painted, launch → runs table painted.

Each sample launches the installed `tracktui` console script of this venv on the 10k-run SQLite
bench store (bench/build_sql_store.py) in a pseudo-terminal, with TRACKTUI_STARTUP_PROBE set
(tui/startup_probe.py): when the first screen has painted its data the app writes the time and
exits. Launch → painted is that time minus the time just before the process was spawned, so
interpreter start, imports, opening the store, the first query and the first frame all count;
the app's own CPU seconds until then are reported beside it (steadier on a shared machine).
Floors for comparison: `python -c pass`, and an empty Textual app that exits after its first
frame (what Textual itself costs).

    python bench/bench_startup.py [--repeat 7] [--importtime]

`--importtime` also prints the modules that cost most to import on the way to the first
screen (`python -X importtime`, cumulative microseconds).
"""

from __future__ import annotations

import argparse
import compileall
import os
import select
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from build_sql_store import DATA_DIR, build  # noqa: E402
from timing import load  # noqa: E402

PROBE_ENV = "TRACKTUI_STARTUP_PROBE"
TERMINAL = {"TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
#: An empty Textual app that records the time after its first frame, as the probe does.
EMPTY_TEXTUAL_APP = """
import os, time
from textual.app import App
from textual.widgets import Label
class Empty(App):
    def compose(self):
        yield Label("empty")
    def on_mount(self):
        def record():
            probe = open(os.environ["TRACKTUI_STARTUP_PROBE"], "w")
            probe.write(f"{time.time()!r} Empty {time.process_time()!r}")
            probe.close()
            self.exit()
        self.call_after_refresh(record)
Empty().run()
"""
#: What the app imports on the way to its first screen (for --importtime).
APP_IMPORTS = (
    "import tracktui.tui.cli; from tracktui.store import open_store; import tracktui.store.sql; "
    "from tracktui.tui.app import TrackApp; import tracktui.tui.screens.experiments; "
    "import tracktui.tui.screens.runs"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--importtime", action="store_true", help="also profile the app's imports")
    args = parser.parse_args()
    info = build(DATA_DIR / "bench10k.db")
    compile_package()
    tracktui = str(Path(sys.executable).parent / "tracktui")
    cases = [
        ("python -c pass (interpreter floor)", [sys.executable, "-c", "pass"], None, None),
        ("empty Textual app, first frame (floor)", [sys.executable, "-c", EMPTY_TEXTUAL_APP], "Empty", None),
        ("launch → experiments list painted", [tracktui, info["uri"]], "ExperimentsScreen", 0.6),
        ("launch → runs table painted (--experiment)", [tracktui, info["uri"], "-e", info["experiment_id"]],
         "RunsScreen", 1.0),
    ]
    print(f"bench_startup: {load()}, 120x40 pty, 10k-run SQLite store, median of {args.repeat} after a cold run\n")
    print("| measurement | wall (median) | min | cold | CPU (median) | target | verdict |")
    print("|---|---|---|---|---|---|---|")
    for label, command, screen, target in cases:
        cold, _ = launch(command, screen)
        samples = [launch(command, screen) for _ in range(args.repeat)]
        walls = sorted(wall for wall, _ in samples)
        median = statistics.median(walls)
        cpu = statistics.median(c for _, c in samples)
        verdict = "—" if target is None else ("OK" if median <= target else "over")
        shown_target = "—" if target is None else f"≤ {target * 1000:.0f} ms"
        shown_cpu = "—" if screen is None else f"{cpu * 1000:.0f} ms"
        print(f"| {label} | {median * 1000:.0f} ms | {walls[0] * 1000:.0f} ms | {cold * 1000:.0f} ms | {shown_cpu} "
              f"| {shown_target} | {verdict} |")
    if args.importtime:
        print_importtime()


def compile_package() -> None:
    """Byte-compile tracktui as an install would: with PYTHONDONTWRITEBYTECODE set (as on the
    project machine) every launch would otherwise compile its ~60 modules again (~90 ms)."""
    root = Path(__file__).resolve().parent.parent
    compileall.compile_file(root / "__init__.py", quiet=1)
    for package in ("store", "tui"):
        compileall.compile_dir(root / package, quiet=1)


def launch(command: list[str], screen: str | None) -> tuple[float, float]:
    """(Seconds from spawning `command` on a pseudo-terminal to its probe, or to its exit when
    `screen` is None; the CPU seconds it reported.) The probe must name `screen`: the right
    screen painted first."""
    import pty

    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "probe"
        env = {**os.environ, **TERMINAL, PROBE_ENV: str(probe)}
        env.pop("MLFLOW_TRACKING_URI", None)
        master, slave = pty.openpty()
        start = time.time()
        process = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True,
                                   start_new_session=True, cwd=tmp)
        os.close(slave)
        output = bytearray()
        try:
            while process.poll() is None:
                if select.select([master], [], [], 0.05)[0]:
                    try:
                        output += os.read(master, 65536)
                    except OSError:
                        break
            process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
            os.close(master)
        if screen is None:
            return time.time() - start, 0.0
        if process.returncode != 0 or not probe.exists():
            raise SystemExit(f"{command[:2]} failed ({process.returncode}): {output[-2000:].decode(errors='replace')}")
        stamp, painted, cpu = probe.read_text().split()
        if painted != screen:
            raise SystemExit(f"{screen} expected first, {painted} painted")
        return float(stamp) - start, float(cpu)


def print_importtime(top: int = 25) -> None:
    """The modules with the largest cumulative import time on the way to the first screen."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", APP_IMPORTS], capture_output=True,
                            text=True, check=True)
    rows = []
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        own, cumulative, name = line[len("import time:"):].split("|")
        rows.append((int(cumulative), int(own), name.rstrip()))
    total = sum(c for c, _, name in rows if not name.startswith("  "))  # one space: top level
    print(f"\nimport time of the app path (top {top} by cumulative µs; top-level total {total / 1000:.0f} ms)\n")
    print("| module | cumulative | self |")
    print("|---|---|---|")
    for cumulative, own, name in sorted(rows, reverse=True)[:top]:
        print(f"| {name.strip()} | {cumulative / 1000:.0f} ms | {own / 1000:.0f} ms |")


if __name__ == "__main__":
    main()
