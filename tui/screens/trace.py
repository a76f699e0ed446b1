"""TraceScreen: one trace as a span tree with a waterfall; Enter opens a span's detail.

The trace (all its spans) is loaded once in a worker; the tree then renders only the rows on
screen (widgets/span_waterfall.py), so opening a 5,000-span trace stays quick.
"""

from __future__ import annotations

from textual import getters, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Label, Static, Tree

from tracktui.store.errors import StoreError
from tracktui.store.traces import Trace

from ..app import TrackApp
from ..safe_text import plain
from ..widgets.assessment_panel import AssessmentPanel
from ..widgets.span_waterfall import SpanTree, header_text
from ..widgets.status_bar import StatusBar
from ..widgets.traces_table import format_duration_ms, format_time_ms, token_text


def trace_summary(trace: Trace) -> str:
    """One line: when, how long, status, spans, tokens, the run it belongs to."""
    info = trace.info
    parts = [format_time_ms(info.request_time), format_duration_ms(info.execution_duration),
             info.state, f"{len(trace.spans)} span{'' if len(trace.spans) == 1 else 's'}"]
    if tokens := token_text(info):
        parts.append(f"tokens {tokens}")
    if info.run_id:
        parts.append(f"run {info.run_id}")
    return " · ".join(parts)


class TraceScreen(Screen):
    AREA = "trace"
    AUTO_FOCUS = "SpanTree"
    DEFAULT_CSS = """
    TraceScreen > #trace-summary { height: 1; padding: 0 1; color: $text-muted; }
    TraceScreen > #trace-header { height: 1; padding: 0; text-style: bold; color: $text-secondary; }
    TraceScreen > #trace-body { height: 1fr; }
    TraceScreen > #trace-error { color: $text-error; }
    """
    app = getters.app(TrackApp)

    BINDINGS = [
        Binding("enter", "open_span", "Span detail", id="trace.open_span"),
        Binding("s", "slowest", "Slowest span", show=False, id="trace.slowest"),  # 80 columns: in ? help
        Binding("e", "first_error", "First error", id="trace.first_error"),
        Binding("E", "expand_all", "Expand all", show=False, id="trace.expand_all"),
        Binding("z", "collapse_all", "Collapse all", show=False, id="trace.collapse_all"),
        Binding("t", "edit_tags", "Edit trace tags", show=False, id="trace.tags"),
        Binding("d", "delete_trace", "Delete trace", show=False, id="trace.delete"),
        Binding("y", "copy", "Copy…", show=False, id="trace.copy"),
        Binding("f", "add_feedback", "Feedback", id="trace.feedback"),
        Binding("x", "add_expectation", "Add expectation", show=False, id="trace.expectation"),
    ]

    def __init__(self, trace_id: str) -> None:
        super().__init__()
        self.trace_id = trace_id
        self.trace: Trace | None = None

    def compose(self) -> ComposeResult:
        yield Label(plain(f"Trace {self.trace_id}"), id="trace-title", classes="screen-title")
        yield Static("Loading trace…", id="trace-summary")
        yield Static("", id="trace-header")
        yield Static("", id="trace-body")
        yield AssessmentPanel(id="trace-assessments", classes="-empty")
        yield StatusBar()
        yield Footer(compact=True, show_command_palette=False)  # 80 columns: ^p is listed by ? help

    def on_mount(self) -> None:
        store, trace_id = self.app.store, self.trace_id
        self.app.run_store_call(self, lambda: store.get_trace(trace_id), self._show, group="trace",
                                loading=self.query_one("#trace-body"), on_error=self._failed)

    def _failed(self, error: StoreError) -> bool:
        self.query_one("#trace-summary", Static).update(plain(f"Could not load the trace: {error.message}"))
        return False

    def _show(self, trace: Trace) -> None:
        self.trace = trace
        self._show_info(trace)
        body = self.query_one("#trace-body")
        tree = SpanTree(trace, id="span-tree")
        self.mount(tree, after=body)
        body.remove()
        tree.focus()
        self.call_after_refresh(self._update_header)

    def _show_info(self, trace: Trace) -> None:
        name = trace.info.name or (trace.root.name if trace.root else "")
        self.query_one("#trace-title", Label).update(plain(f"Trace {name} · {self.trace_id}"))
        self.query_one("#trace-summary", Static).update(plain(trace_summary(trace)))
        self.query_one(AssessmentPanel).show(trace)

    def _update_header(self) -> None:
        if (tree := self.span_tree) is not None:
            self.query_one("#trace-header", Static).update(header_text(tree.scrollable_content_region.width))

    def on_resize(self) -> None:
        self._update_header()

    @property
    def span_tree(self) -> SpanTree | None:
        found = self.query(SpanTree)
        return found.first() if found else None

    # -- actions -----------------------------------------------------------------------------

    @on(Tree.NodeSelected)
    def _node_selected(self, event: Tree.NodeSelected) -> None:
        event.stop()
        self.action_open_span()

    def action_open_span(self) -> None:
        tree = self.span_tree
        if tree is None or self.trace is None or (span := tree.current_span) is None:
            return
        from .span import SpanScreen

        self.app.push_screen(SpanScreen(self.trace, span))

    def action_slowest(self) -> None:
        if self.trace is not None and self.span_tree is not None:
            if (span := self.trace.slowest_span()) is not None:
                self.span_tree.select_span(span)

    def action_first_error(self) -> None:
        if self.trace is None or self.span_tree is None:
            return
        span = self.trace.first_error_span()
        if span is None:
            self.notify("No span in this trace failed.", timeout=3)
        else:
            self.span_tree.select_span(span)

    def action_expand_all(self) -> None:
        if self.span_tree is not None:
            self.span_tree.expand_all()

    def action_collapse_all(self) -> None:
        if self.span_tree is not None:
            self.span_tree.collapse_all()

    # -- writes (tui/trace_actions.py) -------------------------------------------------------

    def action_copy(self) -> None:
        if self.trace is not None:
            from ..trace_actions import copy_trace

            copy_trace(self, self.trace.info, self.trace)

    def action_add_feedback(self) -> None:
        self._add_assessment("feedback")

    def action_add_expectation(self) -> None:
        self._add_assessment("expectation")

    def _add_assessment(self, kind: str) -> None:
        if self.trace is None:
            return
        from ..trace_actions import add_assessment

        add_assessment(self, self.trace, kind, self._reload_info)

    def action_edit_tags(self) -> None:
        if self.trace is None:
            return
        from ..trace_actions import edit_trace_tags

        edit_trace_tags(self, [self.trace.info], self._reload_info)

    def _reload_info(self) -> None:
        """The trace again (its tags and name changed), keeping the span tree as it is."""
        store, trace_id = self.app.store, self.trace_id

        def shown(trace: Trace) -> None:
            self.trace = trace
            self._show_info(trace)
            _reload_lists_below(self)

        self.app.run_store_call(self, lambda: store.get_trace(trace_id), shown, group="trace",
                                on_error=self._failed)

    def action_delete_trace(self) -> None:
        if self.trace is None:
            return
        from ..trace_actions import delete_traces

        def deleted(_count: int) -> None:
            if self.is_current:
                self.app.pop_screen()
            _reload_lists_below(self)

        delete_traces(self, self.trace.info.experiment_id, [self.trace.info], deleted)


def _reload_lists_below(screen: Screen) -> None:
    """Reload the traces lists of the screens under `screen` (the list it was opened from)."""
    from .traces import TracesView

    for below in screen.app.screen_stack:
        if below is not screen:
            for view in below.query(TracesView):
                view.reload()
