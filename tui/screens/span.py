"""SpanScreen: one span of a trace in detail (opened with Enter on the trace view)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Label, Static

from tracktui.store.traces import Span, Trace

from ..safe_text import plain
from ..widgets.span_detail import SpanDetail
from ..widgets.status_bar import StatusBar
from ..widgets.traces_table import format_duration_ms


def span_facts(trace: Trace, span: Span) -> str:
    """Type, status, duration, self time, offset from the trace start, ids, status message."""
    ms = lambda ns: None if ns is None else ns / 1e6  # noqa: E731
    start = trace.start_ns
    lines = [
        f"{span.span_type or 'UNKNOWN'} · {span.status} · {format_duration_ms(ms(span.duration_ns))}"
        f" (self {format_duration_ms(ms(trace.self_time_ns(span)))})"
        f" · starts at +{format_duration_ms(ms(span.start_ns - start)) if start is not None else '?'}",
        f"span {span.span_id} · parent {span.parent_id or '—'}",
    ]
    if span.status_message:
        lines.append(f"status: {span.status_message}")
    for event in span.exceptions:
        kind = event.attributes.get("exception.type", "exception")
        lines.append(f"{kind}: {event.attributes.get('exception.message', '')}")
    return "\n".join(lines)


class SpanScreen(Screen):
    AREA = "span"
    AUTO_FOCUS = "SpanDetail"
    DEFAULT_CSS = """
    SpanScreen > #span-facts { height: auto; padding: 0 1; color: $text-muted; }
    SpanScreen > #span-facts.-error { color: $text-error; }
    """

    def __init__(self, trace: Trace, span: Span) -> None:
        super().__init__()
        self.trace = trace
        self.span = span

    def compose(self) -> ComposeResult:
        yield Label(plain(f"Span {self.span.name}"), id="span-title", classes="screen-title")
        facts = Static(plain(span_facts(self.trace, self.span), multiline=True), id="span-facts")
        if self.span.is_error:
            facts.add_class("-error")
        yield facts
        yield SpanDetail(self.trace, self.span, id="span-detail")
        yield StatusBar()
        yield Footer()
