"""Span and TraceInfo encodings older writers used, which fresh fixture data cannot produce:
V2 span dicts, the 3.5.0 hex-id dicts, a damaged `spans.content` row, V2 TraceInfo, and the
timestamp/duration spellings of protobuf JSON (docs/formats.md §3.1, §5.2–5.4). The current
encodings are covered end to end by the contract suite against real mlflow data."""

from __future__ import annotations

import json

from tracktui.store.traces.decode import (
    duration_ms,
    span_from_dict,
    span_from_otlp,
    span_id_hex,
    spans_from_contents,
    timestamp_ms,
    trace_info_from_json,
)

# §5.3, observed from mlflow 3.17 (shortened).
CURRENT = {
    "trace_id": "1qBg0aJYXrNWAb4VszeOeQ==", "span_id": "g0OVvF9r6Lc=", "parent_span_id": "70qg73kLGXo=",
    "name": "g", "start_time_unix_nano": 1795562889309042010, "end_time_unix_nano": 1795562889309330812,
    "events": [{"name": "ev1", "time_unix_nano": 1795562889309827072, "attributes": {"a": 1}}],
    "status": {"code": "STATUS_CODE_OK", "message": ""},
    "attributes": {"mlflow.traceRequestId": "\"tr-d6a060d1a2585eb35601be15b3378e79\"",
                   "mlflow.spanType": "\"TOOL\"", "mlflow.spanInputs": "{\"x\": 3}",
                   "mlflow.spanOutputs": "6", "custom": "{\"k\": [1, 2]}"},
    "links": [],
}


def test_current_span_dict():
    span = span_from_dict(CURRENT)
    assert span.span_id == "834395bc5f6be8b7"
    assert span.parent_id == span_id_hex("70qg73kLGXo=") and len(span.parent_id) == 16
    assert (span.span_type, span.status, span.inputs, span.outputs) == ("TOOL", "OK", {"x": 3}, 6)
    assert span.attributes["custom"] == {"k": [1, 2]}
    assert "mlflow.spanInputs" not in span.attributes
    assert span.events[0].attributes == {"a": 1} and span.duration_ns == 288802


def test_v2_span_dict():
    span = span_from_dict({
        "name": "old", "context": {"span_id": "0x834395bc5f6be8b7", "trace_id": "0x1"},
        "parent_id": None, "start_time": 10, "end_time": 25, "status_code": "ERROR",
        "status_message": "boom", "events": [{"name": "exception", "timestamp": 20,
                                              "attributes": {"exception.message": "boom"}}],
        "attributes": {"mlflow.spanType": "\"LLM\"", "mlflow.spanInputs": "\"hi\""},
    })
    assert (span.span_id, span.parent_id, span.start_ns, span.end_ns) == ("834395bc5f6be8b7", None, 10, 25)
    assert (span.status, span.status_message, span.span_type, span.inputs) == ("ERROR", "boom", "LLM", "hi")
    assert span.exceptions[0].time_ns == 20


def test_mlflow_350_hex_ids_and_bare_status():
    d = dict(CURRENT, span_id="834395bc5f6be8b7", parent_span_id=None, status={"code": "ERROR"})
    span = span_from_dict(d)
    assert (span.span_id, span.parent_id, span.status) == ("834395bc5f6be8b7", None, "ERROR")


def test_in_progress_span_has_no_end():
    span = span_from_dict(dict(CURRENT, end_time_unix_nano=None))
    assert span.end_ns is None and span.duration_ns is None


def test_a_damaged_content_row_is_skipped_not_fatal():
    good = json.dumps(CURRENT)
    spans = spans_from_contents([good, '{"span_id": ', "", good.replace("g0OVvF9r6Lc=", "AAAAAAAAAAE=")])
    assert [s.span_id for s in spans] == ["834395bc5f6be8b7", "0000000000000001"]


def test_otlp_span_values_are_typed():
    span = span_from_otlp({
        "span_id": "g0OVvF9r6Lc=", "name": "f", "start_time_unix_nano": 5, "end_time_unix_nano": "9",
        "status": {"code": "STATUS_CODE_ERROR", "message": "bad"},
        "attributes": [
            {"key": "mlflow.spanType", "value": {"string_value": "UNKNOWN"}},
            {"key": "mlflow.spanInputs", "value": {"kvlist_value": {"values": [
                {"key": "x", "value": {"int_value": "3"}},
                {"key": "l", "value": {"array_value": {"values": [{"bool_value": True}, {"double_value": 1.5}]}}},
            ]}}},
        ],
        "events": [{"name": "e", "time_unix_nano": 7, "attributes": [{"key": "n", "value": {"int_value": 1}}]}],
    })
    assert (span.parent_id, span.end_ns, span.status, span.status_message) == (None, 9, "ERROR", "bad")
    assert span.span_type == "UNKNOWN" and span.inputs == {"x": 3, "l": [True, 1.5]}
    assert span.events[0].attributes == {"n": 1}


def test_trace_info_v3_and_v2():
    v3 = trace_info_from_json({
        "trace_id": "tr-1", "trace_location": {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": "2"}},
        "request_time": "2026-11-24T23:29:07.110Z", "execution_duration": "0.051s", "state": "OK",
        "trace_metadata": {"mlflow.trace.tokenUsage": "{\"total_tokens\": 7}"}, "tags": {"mlflow.traceName": "root"},
    })
    assert (v3.experiment_id, v3.request_time, v3.execution_duration) == ("2", 1795562947110, 51)
    assert (v3.name, v3.total_tokens, v3.input_tokens) == ("root", 7, None)
    v2 = trace_info_from_json({
        "request_id": "tr-2", "experiment_id": "3", "timestamp_ms": 100, "execution_time_ms": 5,
        "status": "TRACE_STATUS_UNSPECIFIED", "tags": [{"key": "a", "value": "b"}],
        "request_metadata": [{"key": "mlflow.sourceRun", "value": "r1"}],
    })
    assert (v2.trace_id, v2.state, v2.tags, v2.run_id, v2.end_time) == ("tr-2", "STATE_UNSPECIFIED", {"a": "b"}, "r1", 105)


def test_protobuf_times():
    assert timestamp_ms("2026-11-24T23:29:01Z") == 1795562941000
    assert timestamp_ms("2026-11-24T23:29:01.5+01:00") == 1795562941000 - 3_600_000 + 500
    assert timestamp_ms(123) == timestamp_ms("123") == 123
    assert (duration_ms("1s"), duration_ms("1.500s"), duration_ms(7), duration_ms(None)) == (1000, 1500, 7, None)


# -- Trace helpers on partial or broken span sets ----------------------------------------------


def _span(span_id, parent, start, end, status="OK"):
    from tracktui.store.traces import Span

    return Span(span_id, parent, span_id, "UNKNOWN", status, start, end)


def test_tree_of_a_partial_trace_keeps_orphans_as_roots_and_survives_cycles():
    from tracktui.store.traces import Trace, TraceInfo
    from tracktui.store.traces.decode import build_trace

    info = TraceInfo("tr-x", "1", 0, None, "IN_PROGRESS")
    # "b" lost its parent (not exported yet); "c" and "d" point at each other.
    trace = build_trace(info, [
        _span("a", None, 0, 100), _span("b", "gone", 10, None), _span("c", "d", 20, 30),
        _span("d", "c", 25, 28, "ERROR"), _span("e", "a", 40, 90),
    ])
    assert isinstance(trace, Trace)
    assert [s.span_id for s in trace.roots] == ["a", "b"]
    assert sorted(s.span_id for s, _ in trace.tree) == ["a", "b", "c", "d", "e"]
    assert trace.first_error_span().span_id == "d"
    assert trace.slowest_span().span_id == "e"
    assert trace.bounds(trace.by_id["b"]) == (0.1, 1.0)  # still running: to the trace's end
    assert trace.self_time_ns(trace.by_id["a"]) == 50


def test_first_error_follows_a_propagated_error_down_to_where_it_began():
    from tracktui.store.traces import Trace, TraceInfo

    info = TraceInfo("tr-x", "1", 0, 100, "ERROR")
    trace = Trace(info, (
        _span("root", None, 0, 100, "ERROR"), _span("ok", "root", 1, 10), _span("mid", "root", 20, 90, "ERROR"),
        _span("fine", "mid", 21, 30), _span("cause", "mid", 40, 80, "ERROR"), _span("later", "root", 91, 99, "ERROR"),
    ))
    assert trace.first_error_span().span_id == "cause"
    alone = Trace(info, (_span("root", None, 0, 100, "ERROR"), _span("ok", "root", 1, 10)))
    assert alone.first_error_span().span_id == "root"
