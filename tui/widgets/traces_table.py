"""TracesTable: one row per trace (time, name, status, duration, tokens, request/response).

A plain DataTable: a page of traces is small (100) and rows are only ever appended, which is
what DataTable does well. The table only displays; the view that owns it fetches pages and
is told `NeedMore` when the cursor nears the last loaded row.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from tracktui.store.traces import TraceInfo

from ..safe_text import inert, plain
from .runs_table import MARK_GLYPH

#: Ask for the next page when the cursor is this close to the last loaded row.
PREFETCH_ROWS = 20
#: Fits the whole row in 120 columns; the trace view shows everything.
PREVIEW_CHARS = 22

#: (key, title, width): fixed widths, so a page never reflows the columns.
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("time", "Time", 19),
    ("name", "Name", 16),
    ("status", "Status", 11),
    ("duration", "Duration", 8),
    ("tokens", "Tokens", 7),
    ("request", "Request", PREVIEW_CHARS),
    ("response", "Response", PREVIEW_CHARS),
)


def format_time_ms(ms: int | None) -> str:
    if ms is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ms / 1000))


def format_duration_ms(ms: float | None) -> str:
    """A duration the way people read it: 850 ms, 2.3 s, 4m 05s."""
    if ms is None:
        return "running"
    if ms < 1:
        return f"{ms * 1000:.0f} µs"
    if ms < 1000:
        return f"{ms:.0f} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m {secs:02d}s"


def one_line(text: str | None, width: int = PREVIEW_CHARS) -> Text:
    """A preview on one line, cut to `width` with an ellipsis; inert text, never markup."""
    flat = inert(" ".join((text or "").split()))
    return Text(flat if len(flat) <= width else flat[: width - 1] + "…")


def token_text(info: TraceInfo) -> str:
    if info.input_tokens is None and info.output_tokens is None:
        return "" if info.total_tokens is None else str(info.total_tokens)
    return f"{info.input_tokens or 0}/{info.output_tokens or 0}"


class TracesTable(DataTable):
    """Traces as rows keyed by trace id; Enter posts `Chosen`."""

    DEFAULT_CSS = """
    TracesTable { height: 1fr; }
    TracesTable > .traces-table--error { color: $text-error; }
    """
    COMPONENT_CLASSES = {"traces-table--error"}

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="traces_table.down"),
        Binding("k", "cursor_up", "Up", show=False, id="traces_table.up"),
        Binding("enter", "choose", "Open trace", id="traces_table.open"),
    ]

    class Chosen(Message):
        def __init__(self, trace_id: str) -> None:
            super().__init__()
            self.trace_id = trace_id

    class NeedMore(Message):
        """The cursor is near the last loaded row: load the next page if there is one."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.traces: list[TraceInfo] = []
        #: ids of the traces marked with `m` (cleared when the list reloads)
        self.marked: set[str] = set()

    def on_mount(self) -> None:
        for key, label, width in COLUMNS:
            self.add_column(label, width=width, key=key)

    def reset(self) -> None:
        self.clear()
        self.traces = []
        self.marked = set()

    def _name_cell(self, info: TraceInfo) -> Text:
        name = info.name or info.trace_id
        return one_line(MARK_GLYPH + name, 16) if info.trace_id in self.marked else one_line(name, 16)

    def toggle_mark(self) -> None:
        """Mark or unmark the trace under the cursor, then move down (as `m` on runs does)."""
        if (info := self.current) is None:
            return
        self.marked ^= {info.trace_id}
        self.update_cell(info.trace_id, "name", self._name_cell(info))
        self.action_cursor_down()

    def targets(self) -> list[TraceInfo]:
        """The marked traces (in the table's order), else the one under the cursor."""
        if self.marked:
            return [t for t in self.traces if t.trace_id in self.marked]
        return [self.current] if self.current is not None else []

    def append(self, traces: list[TraceInfo]) -> None:
        error_style = self.get_component_rich_style("traces-table--error", partial=True)
        for info in traces:
            status = plain(info.state, style=error_style if info.state == "ERROR" else "")
            self.add_row(
                format_time_ms(info.request_time),
                self._name_cell(info),
                status,
                Text(format_duration_ms(info.execution_duration), justify="right"),
                Text(token_text(info), justify="right"),
                one_line(info.request_preview),
                one_line(info.response_preview),
                key=info.trace_id,
            )
        self.traces.extend(traces)

    @property
    def current(self) -> TraceInfo | None:
        if not self.traces or not 0 <= self.cursor_row < len(self.traces):
            return None
        return self.traces[self.cursor_row]

    def action_choose(self) -> None:
        if (info := self.current) is not None:
            self.post_message(self.Chosen(info.trace_id))

    def watch_cursor_coordinate(self, old, new) -> None:
        super().watch_cursor_coordinate(old, new)
        if self.traces and new.row >= len(self.traces) - PREFETCH_ROWS:
            self.post_message(self.NeedMore())
