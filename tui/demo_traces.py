"""Traces for the demo store: an LLM-judged evaluation of the sentiment model.

Each trace is one review going through `evaluate_review` (CHAIN): `tokenize` (PARSER), `bert_forward`,
then `llm_judge` (LLM, with token usage and a first-token event) that checks the label — and
sometimes a `lookup_guidelines` tool call (RETRIEVER). A few judges time out (an ERROR span
with an exception event, the trace ERROR). Each trace carries the judge's verdict as a
feedback on its span (an error when it timed out) and the expected label; a reviewer overrode
the judge on some. Some traces name the run they were logged under
(`mlflow.sourceRun`), so a run's Traces tab has something to show. Written with the store's
own `import_trace`, so the rows are what mlflow writes; ids and times derive from the seed.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import replace

from tracktui.store.base import Store
from tracktui.store.traces import (
    INPUTS_ATTRIBUTE,
    OUTPUTS_ATTRIBUTE,
    SOURCE_RUN_METADATA,
    TOKEN_USAGE_METADATA,
    TRACE_NAME_TAG,
    Assessment,
    AssessmentError,
    Span,
    SpanEvent,
    Trace,
    TraceInfo,
)

_MS = 1_000_000  # ns
_REVIEWS = (
    ("The plot drags, but the last act is superb.", "positive"),
    ("Two hours I will never get back.", "negative"),
    ("Not bad at all, if a little long.", "positive"),
    ("The acting was wooden and the jokes fell flat.", "negative"),
    ("A quiet, beautiful film about growing old.", "positive"),
    ("I wanted to like it. I did not.", "negative"),
    ("Funny, sharp and never cruel.", "positive"),
    ("The sequel nobody asked for, and it shows.", "negative"),
)


def write_demo_traces(store: Store, experiment_id: str, run_ids: Sequence[str], start_ms: int,
                      seed: int, count: int = 24) -> int:
    """Write `count` traces into the experiment, about one a minute from `start_ms`; every
    third names one of `run_ids` as its run. Returns how many were written."""
    if not store.supports_traces:
        return 0
    rng = random.Random(f"{seed}-traces")
    written = 0
    for index in range(count):
        run_id = run_ids[index // 3 % len(run_ids)] if run_ids and index % 3 == 0 else None
        trace = _trace(rng, experiment_id, index, start_ms + index * 60_000 + rng.randint(0, 20_000), run_id)
        written += bool(store.import_trace(trace, experiment_id).created)
    return written


def _trace(rng: random.Random, experiment_id: str, index: int, start_ms: int, run_id: str | None) -> Trace:
    trace_id = "tr-" + rng.getrandbits(128).to_bytes(16, "big").hex()
    review, truth = _REVIEWS[index % len(_REVIEWS)]
    predicted = truth if rng.random() > 0.2 else ("negative" if truth == "positive" else "positive")
    judge_fails = index % 7 == 5
    t0 = start_ms * _MS
    spans: list[Span] = []
    ids = iter(rng.getrandbits(64).to_bytes(8, "big").hex() for _ in range(8))
    root_id = next(ids)

    def span(name: str, kind: str, start: int, end: int, inputs, outputs, parent: str = root_id,
             status: str = "OK", extra: dict | None = None, events: tuple[SpanEvent, ...] = (),
             message: str = "") -> Span:
        attributes = {"mlflow.spanType": kind, INPUTS_ATTRIBUTE: inputs, OUTPUTS_ATTRIBUTE: outputs, **(extra or {})}
        return Span(next(ids), parent, name, kind, status, t0 + start * _MS, t0 + end * _MS, message, events,
                    attributes, attributes_encoded=False)

    tokens_in, tokens_out = rng.randint(180, 420), rng.randint(20, 90)
    t_tok = rng.randint(2, 6)
    t_bert = t_tok + rng.randint(15, 40)
    spans.append(span("tokenize", "PARSER", 1, t_tok, {"text": review},
                      {"input_ids": rng.randint(12, 40), "truncated": False}))
    spans.append(span("bert_forward", "UNKNOWN", t_tok + 1, t_bert, {"max_len": 256},
                      {"label": predicted, "score": round(rng.uniform(0.55, 0.99), 3)}))
    t = t_bert
    if index % 4 == 1:
        t_end = t + rng.randint(40, 120)
        spans.append(span("lookup_guidelines", "RETRIEVER", t + 1, t_end, {"query": f"sentiment rubric: {truth}"},
                          [{"doc": "rubric/sentiment.md", "score": round(rng.uniform(0.7, 0.95), 2)}]))
        t = t_end
    judge_end = t + (30_000 if judge_fails else rng.randint(600, 2400))
    judge_in = {"messages": [{"role": "system", "content": "You check sentiment labels."},
                             {"role": "user", "content": f"Review: {review}\nLabel: {predicted}"}]}
    if judge_fails:
        error = "judge request timed out after 30 s"
        spans.append(span("llm_judge", "LLM", t + 1, judge_end, judge_in, None, status="ERROR", message=error,
                          events=(SpanEvent("exception", t0 + judge_end * _MS, {
                              "exception.type": "TimeoutError", "exception.message": error,
                              "exception.stacktrace": "Traceback (most recent call last):\n  ...\nTimeoutError"}),)))
        verdict = None
    else:
        verdict = {"agrees": predicted == truth, "expected": truth}
        usage = {"input_tokens": tokens_in, "output_tokens": tokens_out, "total_tokens": tokens_in + tokens_out}
        spans.append(span("llm_judge", "LLM", t + 1, judge_end, judge_in, verdict,
                          extra={"mlflow.chat.tokenUsage": usage, "model": "judge-small"},
                          events=(SpanEvent("first_token", t0 + (t + 1 + rng.randint(150, 400)) * _MS, {}),)))
    end = judge_end + 2
    outputs = {"label": predicted, "judge": verdict}
    state = "ERROR" if judge_fails else "OK"
    root = Span(root_id, None, "evaluate_review", "CHAIN", state, t0, t0 + end * _MS,
                "judge request timed out after 30 s" if judge_fails else "", (),
                {"mlflow.spanType": "CHAIN", INPUTS_ATTRIBUTE: {"review": review}, OUTPUTS_ATTRIBUTE: outputs},
                attributes_encoded=False)
    metadata = {"mlflow.trace_schema.version": "3", "mlflow.user": "demo"}
    if not judge_fails:
        metadata[TOKEN_USAGE_METADATA] = json.dumps(
            {"input_tokens": tokens_in, "output_tokens": tokens_out, "total_tokens": tokens_in + tokens_out})
    if run_id:
        metadata[SOURCE_RUN_METADATA] = run_id
    info = TraceInfo(
        trace_id=trace_id, experiment_id=experiment_id, request_time=start_ms, execution_duration=end,
        state=state, request_preview=json.dumps({"review": review})[:1000],
        response_preview=json.dumps(outputs)[:1000], tags={TRACE_NAME_TAG: "evaluate_review"},
        metadata=metadata,
        assessments=_judgement(trace_id, index, start_ms + end, predicted, truth, judge_fails,
                               spans[-1].span_id),
    )
    return Trace(info, (root, *spans))


def _judgement(trace_id: str, index: int, at_ms: int, predicted: str, truth: str, failed: bool,
               judge_span: str) -> tuple[Assessment, ...]:
    """The judge's feedback on its span (an error when it timed out), the expected label, and
    now and then a reviewer overriding the judge. Ids derive from the trace id (the seeded
    random stream stays as it was)."""
    def judge(suffix: str, value: object, **more) -> Assessment:
        return Assessment("a-" + trace_id[3:34] + suffix, trace_id, "label_correct", "feedback", value, "LLM_JUDGE",
                          "judge-small", at_ms + 500, at_ms + 500, span_id=judge_span, **more)

    expected = Assessment("a-" + trace_id[3:34] + "e", trace_id, "label", "expectation", truth, "HUMAN", "curator",
                          at_ms + 100, at_ms + 100)
    if failed:
        return (expected, judge("j", None, error=AssessmentError("TIMEOUT", "judge request timed out after 30 s")))
    verdict = judge("j", predicted == truth, rationale=f"The review reads {truth}; the model said {predicted}.")
    if index % 5 != 3:
        return (expected, verdict)
    review = Assessment("a-" + trace_id[3:34] + "h", trace_id, "label_correct", "feedback", not verdict.value,
                        "HUMAN", "demo", at_ms + 90_000, at_ms + 90_000,
                        rationale="Sarcasm: the judge read it literally.", overrides=verdict.assessment_id)
    return (expected, replace(verdict, valid=False), review)
