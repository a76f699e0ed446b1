"""Deleting traces, editing their tags and copying their ids and payloads, from the traces
list and from one trace's view.

mlflow deletes traces for good (there is no deleted view and no restore), so the confirmation
says so and there is no undo. Tags are edited in the run tag editor, checked against the
trace tag limits; the tags shown are those the list (or the trace view) loaded, and both
reload after a write. Like every write, nothing is opened on a read-only store.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from tracktui.store.traces import Trace, TraceInfo
from tracktui.store.traces.validation import validate_trace_tag

from .actions import (
    edit_tags,
    open_copy_menu,
    plural,
    refuse_if_read_only,
    write_in_worker,
)
from .safe_text import inert
from .widgets.traces_table import format_time_ms


def trace_label(info: TraceInfo) -> str:
    return info.name or info.trace_id


def delete_traces(node, experiment_id: str, traces: Sequence[TraceInfo],
                  after: Callable[[int], None]) -> None:
    """Ask, then delete `traces` of the experiment; `after(deleted count)` on the UI thread."""
    if refuse_if_read_only(node) or not traces:
        return
    from .screens.confirm import ConfirmScreen

    ids = [t.trace_id for t in traces]
    what = plural(len(ids), "trace")
    # Traces of one app often share a name: each line says when it ran too.
    lines = [f"{inert(trace_label(t))} · {format_time_ms(t.request_time)}" for t in traces[:5]]  # one line each
    if len(traces) > 5:
        lines.append(f"… and {plural(len(traces) - 5, 'more trace')}")
    body = "\n".join(lines) + "\n\nmlflow deletes traces for good: they cannot be restored."
    store = node.app.store

    def confirmed(yes: bool | None) -> None:
        if not yes:
            return

        def deleted(result: int | None) -> None:
            count = int(result or 0)
            node.notify(f"Deleted {plural(count, 'trace')}", title="Deleted", timeout=4)
            after(count)

        write_in_worker(node, lambda: store.delete_traces(experiment_id, ids), deleted, "delete-traces")

    node.app.push_screen(ConfirmScreen(f"Delete {what} permanently?", body), confirmed)


def edit_trace_tags(node, traces: Sequence[TraceInfo], after: Callable[[], None]) -> None:
    """Edit the tags of one trace or of several marked ones; apply with set/delete_trace_tag."""
    if refuse_if_read_only(node) or not traces:
        return
    store = node.app.store
    subject = f"trace '{trace_label(traces[0])}'" if len(traces) == 1 else f"{len(traces)} marked traces"

    def write(changes) -> None:
        for info in traces:
            for key, value in changes.set.items():
                store.set_trace_tag(info.trace_id, key, value)
            for key in changes.delete:
                if key in info.tags:
                    store.delete_trace_tag(info.trace_id, key)

    edit_tags(node, subject, [dict(t.tags) for t in traces], write, after, validate_trace_tag)


def copy_trace(node, info: TraceInfo, trace: Trace | None = None) -> None:
    """The copy menu for one trace: its id, name and run, and its request and response — whole
    (the root span's inputs and outputs as JSON) when the trace is loaded, else the previews."""
    request, response = info.request_preview, info.response_preview
    if trace is not None and trace.root is not None:
        request, response = _json(trace.root.inputs) or request, _json(trace.root.outputs) or response
    open_copy_menu(node, [
        ("i", "trace ID", info.trace_id),
        ("n", "trace name", info.name),
        ("q", "request", request),
        ("a", "response", response),
        ("r", "run ID", info.run_id),
    ])


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, indent=2)


def add_assessment(node, trace: Trace, kind: str, after: Callable[[], None]) -> None:
    """Ask for a feedback or expectation (screens.assessment_dialog) and log it on the trace as
    the person at the keyboard (source HUMAN, their login name); `after()` once it is stored."""
    if refuse_if_read_only(node):
        return
    import getpass

    from tracktui.store.traces import Assessment

    from .screens.assessment_dialog import AssessmentDialog, AssessmentEntry

    store = node.app.store
    info = trace.info

    def entered(entry: AssessmentEntry | None) -> None:
        if entry is None:
            return
        assessment = Assessment(
            assessment_id="", trace_id=info.trace_id, name=entry.name, kind=entry.kind, value=entry.value,
            source_type="HUMAN", source_id=_reviewer(getpass), rationale=entry.rationale,
        )

        def done(_: object) -> None:
            node.notify(f"Added {entry.kind} '{inert(entry.name)}' to trace '{inert(trace_label(info))}'", timeout=4)
            after()

        write_in_worker(node, lambda: store.log_assessment(assessment), done, "assessment")

    node.app.push_screen(AssessmentDialog(kind, f"trace '{inert(trace_label(info))}'"), entered)


def _reviewer(getpass) -> str | None:
    try:
        return getpass.getuser()
    except Exception:  # no login name (a container without a passwd entry)
        return None
