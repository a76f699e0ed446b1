"""AssessmentPanel: a trace's feedback and expectations, one line each, under its span tree.

Each line says what was judged and how (name and value, or the judge's error), who judged
(source type and id), where (the span, by name) and why (the rationale). An overridden
assessment stays listed, dimmed and marked, so a reviewer sees what the override replaced.
Every piece of store text goes through `plain` (assessment values and rationales are written
by LLM judges: they are data, never markup).
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from tracktui.store.traces import Assessment, Trace

#: Markers by kind (feedback, expectation, issue).
_MARKS = {"feedback": "◆", "expectation": "◇", "issue": "!"}


def assessment_line(assessment: Assessment, trace: Trace) -> Text:
    """One assessment as one line of inert text."""
    from ..safe_text import plain

    a = assessment
    line = Text()
    line.append_text(plain(f"{_MARKS.get(a.kind, '?')} {a.name}", "bold"))
    if a.error is not None:
        line.append_text(plain(f" error {a.error.code}" + (f": {a.error.message}" if a.error.message else ""), "red"))
    else:
        line.append_text(plain(f" = {a.value_text}"))
    who = a.source_type + (f" {a.source_id}" if a.source_id else "")
    line.append_text(plain(f" · {who}", "dim"))
    if a.span_id:
        span = trace.by_id.get(a.span_id)
        line.append_text(plain(f" · span {span.name if span else a.span_id}", "dim"))
    if a.rationale:
        line.append_text(plain(f" · {a.rationale}", "italic"))
    if not a.valid:
        line.stylize("dim strike")
        line.append_text(plain(" (overridden)", "dim"))
    return line


def assessments_text(trace: Trace) -> Text:
    """Every assessment of the trace, one per line, valid ones first (newest override on top)."""
    ordered = sorted(trace.info.assessments, key=lambda a: (not a.valid, -a.create_time, a.name))
    return Text("\n").join(assessment_line(a, trace) for a in ordered)


class AssessmentPanel(Static):
    """The assessments of one trace; hidden while the trace has none."""

    DEFAULT_CSS = """
    AssessmentPanel {
        height: auto; max-height: 8; padding: 0 1; overflow-y: auto;
        border-top: solid $primary 40%;
    }
    AssessmentPanel.-empty { display: none; }
    """

    def show(self, trace: Trace) -> None:
        self.set_class(not trace.info.assessments, "-empty")
        self.border_title = f"Assessments ({len(trace.info.assessments)})"
        self.update(assessments_text(trace))
