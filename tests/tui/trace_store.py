"""A small deterministic SQLite store with traces, for trace snapshot and pilot tests.

`@mlflow.trace` makes random ids and wall-clock times, so its traces cannot be snapshotted.
Here the real mlflow SQL store writes them instead — `SqlAlchemyStore.start_trace` with a
fixed TraceInfo and `log_spans` with spans built by mlflow's own `Span.from_dict` — with
fixed ids and times. The database is real mlflow output; only the values are chosen.

Traces (experiment `agents`):
* `tr-00…01` "support-agent": AGENT root → retrieve (RETRIEVER), plan (CHAIN) → search (TOOL,
  fails with an exception event, ERROR), chat_model (LLM, token usage, big nested outputs);
* `tr-00…02` "summarise": one OK span, logged under run `RUN_NAME` (metadata mlflow.sourceRun).

Experiment `reviews` holds `tr-00…03`, the support-agent spans again, assessed: a judge's
feedback a human overrode, a code score, an expectation, a feedback on the `search` span and a
judge's error (`REVIEW_ASSESSMENTS`, fixed ids and times, written by mlflow's create_assessment).
"""

from __future__ import annotations

import json
from pathlib import Path

T0_NS = 1_767_225_600_000_000_000  # 2026-01-01 00:00:00 UTC
MS = 1_000_000
AGENT_TRACE = "tr-" + "0" * 31 + "1"
RUN_TRACE = "tr-" + "0" * 31 + "2"
RUN_NAME = "agent-eval"
SEARCH_ERROR = "search backend timed out after 800 ms"
REVIEW_TRACE = "tr-" + "0" * 31 + "3"
#: (assessment id, kind, name, value, source type, source id, rationale, span id, overrides, error code)
REVIEW_ASSESSMENTS = [
    ("a-01", "feedback", "quality", "no", "LLM_JUDGE", "gpt-judge", "[bold]too short[/bold]", None, None, None),
    ("a-02", "feedback", "quality", "yes", "HUMAN", "ada", "Short, but it is right.", None, "a-01", None),
    ("a-03", "feedback", "score", 0.75, "CODE", "length_check", None, None, None, None),
    ("a-04", "expectation", "answer", {"steps": ["Settings", "Security"]}, "HUMAN", "ada", None, None, None, None),
    ("a-05", "feedback", "search_ok", False, "LLM_JUDGE", "gpt-judge", "The search timed out.",
     "a000000000000004", None, None),
    ("a-06", "feedback", "toxicity", None, "LLM_JUDGE", "gpt-judge", None, None, None, "RATE_LIMIT_EXCEEDED"),
]

# (span id, parent, name, type, start ms, end ms, status, inputs, outputs, extra attributes, events)
_AGENT_SPANS = [
    ("a000000000000001", None, "support-agent", "AGENT", 0, 2400, "OK",
     {"question": "How do I reset my password?", "user": {"id": 42, "plan": "pro"}},
     {"answer": "Open Settings → Security → Reset password.", "sources": 2}, {}, []),
    ("a000000000000002", "a000000000000001", "retrieve", "RETRIEVER", 20, 320, "OK",
     {"query": "reset password"}, [{"doc": "kb/security.md", "score": 0.91}, {"doc": "kb/faq.md", "score": 0.72}],
     {}, []),
    ("a000000000000003", "a000000000000001", "plan", "CHAIN", 340, 2380, "OK",
     {"question": "How do I reset my password?"}, "Open Settings → Security → Reset password.", {}, []),
    ("a000000000000004", "a000000000000003", "search", "TOOL", 360, 1160, "ERROR",
     {"q": "password reset settings"}, None, {}, [
         ("exception", 1160, {"exception.type": "TimeoutError", "exception.message": SEARCH_ERROR,
                              "exception.stacktrace": "Traceback (most recent call last):\n  ...\nTimeoutError"}),
     ]),
    ("a000000000000005", "a000000000000003", "chat_model", "LLM", 1200, 2360, "OK",
     {"messages": [{"role": "system", "content": "You are a support agent."},
                   {"role": "user", "content": "How do I reset my password?"}], "temperature": 0.2},
     {"choices": [{"message": {"role": "assistant", "content": "Open Settings → Security → Reset password."},
                   "finish_reason": "stop"}], "model": "gpt-demo"},
     {"mlflow.chat.tokenUsage": {"input_tokens": 120, "output_tokens": 48, "total_tokens": 168},
      "temperature": 0.2}, [("first_token", 1450, {"latency_ms": 250})]),
]
_RUN_SPANS = [
    ("b000000000000001", None, "summarise", "CHAIN", 0, 90, "OK", {"text": "long report"}, "short report", {}, []),
]


def _span(trace_id: str, start_offset_ms: int, row) -> dict:
    span_id, parent, name, span_type, start, end, status, inputs, outputs, extra, events = row
    attributes = {"mlflow.traceRequestId": trace_id, "mlflow.spanType": span_type,
                  "mlflow.spanInputs": inputs, "mlflow.spanOutputs": outputs, **extra}
    base = T0_NS + start_offset_ms * MS
    return {
        "trace_id": trace_id,
        "span_id": span_id,
        "parent_span_id": parent,
        "name": name,
        "start_time_unix_nano": base + start * MS,
        "end_time_unix_nano": base + end * MS,
        "status": {"code": "STATUS_CODE_ERROR" if status == "ERROR" else "STATUS_CODE_OK",
                   "message": SEARCH_ERROR if status == "ERROR" else ""},
        "attributes": {k: json.dumps(v) for k, v in attributes.items()},
        "events": [{"name": n, "time_unix_nano": base + t * MS, "attributes": a} for n, t, a in events],
    }


def create_trace_store(directory: Path) -> str:
    """Write the store under `directory`; returns its tracking URI."""
    from mlflow.entities import Span, TraceInfo, TraceLocation, TraceState
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    directory.mkdir(parents=True, exist_ok=True)
    uri = f"sqlite:///{directory / 'mlflow.db'}"
    store = SqlAlchemyStore(uri, str(directory / "artifacts"))
    try:
        experiment_id = store.create_experiment("agents")
        run = store.create_run(experiment_id, user_id="demo", start_time=T0_NS // MS, tags=[], run_name=RUN_NAME)
        for trace_id, offset_ms, rows, name, run_id in (
            (AGENT_TRACE, 0, _AGENT_SPANS, "support-agent", None),
            (RUN_TRACE, 60_000, _RUN_SPANS, "summarise", run.info.run_id),
        ):
            root = rows[0]
            metadata = {"mlflow.sourceRun": run_id} if run_id else {}
            info = TraceInfo(
                trace_id=trace_id,
                trace_location=TraceLocation.from_experiment_id(experiment_id),
                request_time=T0_NS // MS + offset_ms,
                execution_duration=root[5] - root[4],
                state=TraceState.OK,
                request_preview=json.dumps(root[7], ensure_ascii=False),
                response_preview=json.dumps(root[8], ensure_ascii=False),
                trace_metadata=metadata,
                tags={"mlflow.traceName": name},
            )
            store.start_trace(info)
            store.log_spans(experiment_id, [Span.from_dict(_span(trace_id, offset_ms, row)) for row in rows])
        _assessed_trace(store)
    finally:
        store.engine.dispose()
    return uri


def _assessed_trace(store) -> None:
    """Experiment `reviews` with REVIEW_TRACE and its REVIEW_ASSESSMENTS."""
    from mlflow.entities import (
        AssessmentError,
        AssessmentSource,
        Expectation,
        Feedback,
        Span,
        TraceInfo,
        TraceLocation,
        TraceState,
    )

    experiment_id = store.create_experiment("reviews")
    offset_ms = 120_000
    root = _AGENT_SPANS[0]
    store.start_trace(TraceInfo(
        trace_id=REVIEW_TRACE, trace_location=TraceLocation.from_experiment_id(experiment_id),
        request_time=T0_NS // MS + offset_ms, execution_duration=root[5] - root[4], state=TraceState.OK,
        request_preview=json.dumps(root[7], ensure_ascii=False), response_preview=json.dumps(root[8], ensure_ascii=False),
        tags={"mlflow.traceName": "support-agent"},
    ))
    store.log_spans(experiment_id, [Span.from_dict(_span(REVIEW_TRACE, offset_ms, row)) for row in _AGENT_SPANS])
    for i, (aid, kind, name, value, source_type, source_id, rationale, span_id, overrides, error) in enumerate(
            REVIEW_ASSESSMENTS):
        at = T0_NS // MS + offset_ms + 10_000 + i * 1000
        source = AssessmentSource(source_type=source_type, source_id=source_id)
        if kind == "expectation":
            made = Expectation(name=name, value=value, source=source, trace_id=REVIEW_TRACE, span_id=span_id,
                               create_time_ms=at, last_update_time_ms=at)
        else:
            made = Feedback(name=name, value=value, source=source, trace_id=REVIEW_TRACE, rationale=rationale,
                            span_id=span_id, overrides=overrides, create_time_ms=at, last_update_time_ms=at,
                            error=AssessmentError(error_code=error) if error else None)
        made.assessment_id = aid
        store.create_assessment(made)
