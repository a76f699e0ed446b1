"""WatchScreen: every RUNNING run (of some experiments, or all) on one live board, with its
health flags. `tracktui watch [EXPERIMENT…]` opens it; `w` on the experiments screen too.

The store calls and the rules live in `tui/watch/` (board, health); this screen schedules
refreshes, draws rows, remembers runs that ended badly until dismissed, and rings the bell
when a run turns unhealthy. Refreshes never overlap: the next is scheduled when one finishes,
later when the store is slow or failing (`board.next_delay`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path

from rich.style import Style
from rich.text import Text
from textual import getters
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Label, Static

from tracktui.store.errors import StoreError

from .. import app as app_module
from ..app import TrackApp
from ..clipboard import copy_text
from ..live import LIVE_LABEL
from ..safe_text import plain
from ..watch.board import Board, RunState, next_delay, read_board
from ..watch.health import duration
from ..watch.sparkline import sparkline
from ..widgets.status_bar import StatusBar

SPARK_WIDTH = 12
COLUMNS = (
    ("Run", "run"), ("Health", "health"), ("Experiment", "experiment"), ("User", "user"), ("Elapsed", "elapsed"),
    ("Step", "step"), ("Last log", "last"), ("Steps/min", "rate"), ("Metric", "metric"),
    ("System", "system"),
)


class WatchTable(DataTable):
    BINDINGS = [
        Binding("k", "cursor_up", "Up", show=False, id="watch.up"),
        Binding("j", "cursor_down", "Down", show=False, id="watch.down"),
    ]


class WatchScreen(Screen):
    """`WatchScreen(experiments)`: `experiments` maps id -> name (None: every experiment);
    `bell` rings and notifies when a run turns unhealthy; `clock` gives epoch seconds."""

    AREA = "watch"
    AUTO_FOCUS = "WatchTable"
    app = getters.app(TrackApp)
    BINDINGS = [
        Binding("enter", "open_run", "Open run", id="watch.open"),
        Binding("m", "mark", "Mark", id="watch.mark"),
        Binding("c", "compare", "Compare", id="watch.compare"),
        Binding("y", "copy_id", "Copy id", id="watch.copy"),
        Binding("x", "dismiss_ended", "Dismiss ended", id="watch.dismiss"),
        Binding("ctrl+r,f5", "refresh", "Refresh", show=False, id="watch.refresh"),
    ]

    def __init__(
        self,
        experiments: Mapping[str, str] | None = None,
        *,
        bell: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.experiments = dict(experiments) if experiments is not None else None
        self.bell = bell
        self.clock = clock
        self.states: dict[str, RunState] = {}  # shown rows by run id: running, then ended
        self.ended: dict[str, RunState] = {}  # ended FAILED/KILLED while watched, until dismissed
        self.refreshes = 0
        self.last_calls = 0
        self._failures = 0
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Label(self._title(), id="watch-title", classes="screen-title")
        yield WatchTable(id="watch-table", cursor_type="row", zebra_stripes=False)
        yield Static(id="watch-reasons")
        yield StatusBar()
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        table = self.query_one(WatchTable)
        for label, key in COLUMNS:
            table.add_column(label, key=key)
        self.action_refresh()

    def on_unmount(self) -> None:
        if self._timer is not None:
            self._timer.stop()

    # -- data --------------------------------------------------------------------------------

    def action_refresh(self) -> None:
        """Read the board now (the scheduled read is replaced by the one after this)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        store = self.app.store
        experiments = self.experiments
        watched = [rid for rid, s in self.states.items() if s.running]
        now_ms = int(self.clock() * 1000)
        started = time.monotonic()

        def fetch() -> tuple[Board, float]:
            board = read_board(store, experiments, watched, now_ms)
            return board, time.monotonic() - started

        def failed(error: StoreError) -> bool:
            self._failures += 1
            self._schedule(time.monotonic() - started)
            return self._failures > 1  # the first failure is notified, repeats are not

        self.app.run_store_call(self, fetch, self._show, group="watch", on_error=failed)

    def _show(self, result: tuple[Board, float]) -> None:
        board, took = result
        self._failures = 0
        self.refreshes += 1
        self.last_calls = board.calls
        first = self.refreshes == 1
        alerts: list[str] = []
        running = {s.run.id: s for s in board.running}
        for state in board.stopped:
            if state.flags:  # FAILED or KILLED: kept (greyed) until dismissed
                self.ended[state.run.id] = state
                alerts.append(f"{state.run.name}: {state.flags[0].reason}")
        for rid, state in running.items():
            before = {f.kind for f in self.states[rid].flags} if rid in self.states else set()
            alerts.extend(f"{state.run.name}: {f.reason}" for f in state.flags if f.kind not in before)
        self.states = {**running, **{rid: s for rid, s in self.ended.items() if rid not in running}}
        self._draw()
        if alerts and not first:
            self._alert(alerts)
        self._schedule(took)

    def _schedule(self, took: float) -> None:
        if self.is_attached:
            self._timer = self.set_timer(next_delay(took, self._failures), self.action_refresh)

    def _alert(self, alerts: list[str]) -> None:
        if not self.bell:
            return
        self.app.bell()
        self.notify("\n".join(alerts), title="Watch: run unhealthy", severity="error", timeout=10)

    # -- drawing ------------------------------------------------------------------------------

    def _draw(self) -> None:
        table = self.query_one(WatchTable)
        current = self.cursor_state()
        cursor_id = current.run.id if current is not None else None
        now_ms = int(self.clock() * 1000)
        variables = self.app.get_css_variables()
        bad = Style(color=variables.get("error"), bold=True)
        table.clear()
        for rid, state in self.states.items():
            style: Style | str = "dim" if not state.running else (bad if state.flags else "")
            table.add_row(*self._cells(state, now_ms, style), key=rid)
        if cursor_id in self.states:
            table.move_cursor(row=list(self.states).index(cursor_id))
        self.query_one("#watch-title", Label).update(self._title())
        self._explain()

    def _cells(self, state: RunState, now_ms: int, style: Style | str) -> list[Text]:
        run = state.run
        marked = "● " if run.id in self.app.run_marks else ""
        elapsed = duration(((run.end_time if not state.running and run.end_time else now_ms)) - run.start_time) if run.start_time else ""
        last = f"{duration(now_ms - state.last_logged_ms)} ago" if state.last_logged_ms else ""
        rate = f"{state.steps_per_minute:.1f}" if state.steps_per_minute is not None else ""
        metric = ""
        if state.metric is not None and state.metric in run.metrics:
            latest = run.metrics[state.metric].value
            spark = sparkline([p.value for p in state.tail], SPARK_WIDTH)
            metric = f"{state.metric} {spark} {latest:.4g}"
        system = "  ".join(f"{name} {value:.0f}%" for name, value in
                           (("GPU", state.gpu), ("CPU", state.cpu), ("MEM", state.memory)) if value is not None)
        if state.flags:
            health = f"⚠ {state.flags[0].kind}" + (f" +{len(state.flags) - 1}" if len(state.flags) > 1 else "")
        else:
            health = "ok"
        values = (marked + run.name, health, state.experiment_name, run.user_id or "", elapsed,
                  "" if state.last_step is None else str(state.last_step), last, rate, metric, system)
        return [plain(v, style) for v in values]

    def _title(self) -> Text:
        running = sum(1 for s in self.states.values() if s.running)
        scope = "all experiments" if self.experiments is None else ", ".join(self.experiments.values())
        return plain(f"Watch — {running} running in {scope}  {LIVE_LABEL}")

    def _explain(self) -> None:
        state = self.cursor_state()
        lines = [f.reason for f in state.flags] if state is not None else []
        if state is not None and not lines:
            lines = ["healthy" if state.running else state.run.status]
        self.query_one("#watch-reasons", Static).update(plain("\n".join(lines), multiline=True))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._explain()

    # -- actions -----------------------------------------------------------------------------

    def cursor_state(self) -> RunState | None:
        table = self.query_one(WatchTable)
        if not self.states or table.row_count == 0:
            return None
        row = min(table.cursor_row, len(self.states) - 1)
        return list(self.states.values())[row]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open_run()

    def action_open_run(self) -> None:
        from .run import RunScreen

        state = self.cursor_state()
        if state is not None:
            self.app.push_screen(RunScreen(state.run.id))

    def action_mark(self) -> None:
        state = self.cursor_state()
        if state is not None:
            self.app.run_marks.toggle(state.run, state.experiment_name)
            self._draw()

    def action_compare(self) -> None:
        """Compare the marked runs on the board (else the cursor's run) live."""
        from .compare import CompareScreen

        states = [s for s in self.states.values() if s.run.id in self.app.run_marks]
        if not states and (state := self.cursor_state()) is not None:
            states = [state]
        if states:
            self.app.push_screen(CompareScreen([s.run.id for s in states], [s.run.experiment_id for s in states]))

    def action_copy_id(self) -> None:
        state = self.cursor_state()
        if state is not None:
            copy_text(self.app, state.run.id, "run id")

    def action_dismiss_ended(self) -> None:
        """Take the selected ended run (else every ended run) off the board."""
        state = self.cursor_state()
        gone = [state.run.id] if state is not None and not state.running else list(self.ended)
        for rid in gone:
            self.ended.pop(rid, None)
            self.states.pop(rid, None)
        self._draw()


def watch_app(store, experiments: Mapping[str, str] | None = None, *, bell: bool = True,
              clock: Callable[[], float] = time.time) -> TrackApp:
    """The app opening on the board (what `tracktui watch` runs; Escape goes nowhere)."""

    class WatchApp(TrackApp):
        CSS_PATH = str(Path(app_module.__file__).with_name(TrackApp.CSS_PATH))  # relative to app.py

        def get_default_screen(self) -> Screen:
            return WatchScreen(experiments, bell=bell, clock=clock)

    return WatchApp(store)
