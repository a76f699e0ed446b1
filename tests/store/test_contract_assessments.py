"""The assessment contract, once for every backend (sqlite, postgres, mysql, file, rest).

Differential against the real MlflowClient on the same store: the assessments `get_trace`
returns (feedback, expectations, overrides, errors, span feedback), the `feedback.` /
`expectation.` filters (where MLflow answers them: its file store refuses them, tracktui
evaluates them there in Python with the SQL store's semantics), and writes made by tracktui
as MlflowClient reads them back. Assessments are made with real mlflow
(tests/fixtures/traces.py `populate_assessments`) in an experiment of the module's own.
"""

from __future__ import annotations

import uuid

import pytest

from fixtures.traces import JUDGE, JUDGE_ERROR, JUDGE_RATIONALE, REVIEWER, populate_assessments
from tracktui.store import FilterSyntaxError, NotFound
from tracktui.store.traces import Assessment

_POPULATED: dict[str, object] = {}


@pytest.fixture
def judged(backend_kind, backend_uri, mlflow_client):
    """The assessment fixture in this backend (made once per backend, then read only)."""
    if backend_kind not in _POPULATED:
        eid = mlflow_client.create_experiment(f"assessments-{uuid.uuid4().hex[:8]}")
        _POPULATED[backend_kind] = populate_assessments(backend_uri[0], eid)
    return _POPULATED[backend_kind]


def mlflow_assessment(a) -> dict:
    error = getattr(a, "error", None)
    return {
        "assessment_id": a.assessment_id,
        "trace_id": a.trace_id,
        "name": a.name,
        "kind": "feedback" if a.feedback is not None else "expectation" if a.expectation is not None else "issue",
        "value": a.value,
        "source": (a.source.source_type, a.source.source_id),
        "rationale": a.rationale,
        "span_id": a.span_id,
        "run_id": a.run_id,
        "error": (error.error_code, error.error_message) if error else None,
        "overrides": a.overrides,
        "valid": a.valid is not False,
        "times": (a.create_time_ms, a.last_update_time_ms),
        "metadata": dict(a.metadata or {}),
    }


def our_assessment(a: Assessment) -> dict:
    return {
        "assessment_id": a.assessment_id,
        "trace_id": a.trace_id,
        "name": a.name,
        "kind": a.kind,
        "value": a.value,
        "source": (a.source_type, a.source_id),
        "rationale": a.rationale,
        "span_id": a.span_id,
        "run_id": a.run_id,
        "error": (a.error.code, a.error.message) if a.error else None,
        "overrides": a.overrides,
        "valid": a.valid,
        "times": (a.create_time, a.last_update_time),
        "metadata": dict(a.metadata),
    }


def _by_id(items) -> dict[str, dict]:
    return {i["assessment_id"]: i for i in items}


# -- reads ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["judged", "overridden", "failed_judge", "plain"])
def test_get_trace_assessments_equal_mlflow(store, mlflow_client, judged, name):
    ours = store.get_trace(judged[name]).info.assessments
    theirs = mlflow_client.get_trace(judged[name]).info.assessments
    assert _by_id(our_assessment(a) for a in ours) == _by_id(mlflow_assessment(a) for a in theirs)
    assert (len(ours) == 0) == (name == "plain")


def test_assessments_say_who_what_why_and_where(store, judged):
    made = judged.assessment_ids
    judged_info = store.get_trace(judged["judged"]).info
    by_id = {a.assessment_id: a for a in judged_info.assessments}
    quality = by_id[made["judge_quality"]]
    assert (quality.kind, quality.name, quality.value, quality.rationale) == ("feedback", "quality", "yes", JUDGE_RATIONALE)
    assert (quality.source_type, quality.source_id) == JUDGE
    expected = by_id[made["expected_answer"]]
    assert expected.kind == "expectation" and expected.value == {"text": "42", "sources": ["doc"]}
    assert (expected.source_type, expected.source_id) == REVIEWER
    trace = store.get_trace(judged["judged"])
    on_span = by_id[made["span_feedback"]]
    assert on_span.value is True and trace.by_id[on_span.span_id].name == "tool"
    overridden = {a.assessment_id: a for a in store.get_trace(judged["overridden"]).info.assessments}
    assert overridden[made["judge_wrong"]].valid is False
    assert overridden[made["human_override"]].overrides == made["judge_wrong"]
    assert overridden[made["human_override"]].valid is True
    failed = store.get_trace(judged["failed_judge"]).info.assessments[0]
    assert failed.error is not None and (failed.error.code, failed.error.message) == JUDGE_ERROR


def test_search_results_carry_assessments(store, judged):
    infos = {i.trace_id: i for i in store.search_traces([judged.experiment_id])}
    assert {a.assessment_id for a in infos[judged["judged"]].assessments} == {
        a.assessment_id for a in store.get_trace(judged["judged"]).info.assessments}


# -- filters ----------------------------------------------------------------------------------

FILTERS = [
    ("feedback.quality = 'yes'", {"judged", "overridden"}),  # the override counts, not the judge
    ("feedback.quality = 'no'", set()),  # overridden: no longer valid
    ("feedback.quality != 'yes'", {"failed_judge"}),
    ("feedback.quality IS NULL", {"plain"}),
    ("feedback.quality IS NOT NULL", {"judged", "overridden", "failed_judge"}),
    ("feedback.score > 0.5", {"judged"}),
    ("feedback.score <= 0.5", {"overridden"}),
    ("feedback.score >= 0.3", {"judged", "overridden"}),
    ("feedback.tool_ok = 'true'", {"judged"}),
    ("feedback.quality LIKE '%ye%'", {"judged", "overridden"}),
    ("feedback.quality ILIKE '%YES%'", {"judged", "overridden"}),
    ("feedback.quality RLIKE '^.ye'", {"judged", "overridden"}),
    ("expectation.answer IS NOT NULL", {"judged"}),
    ("expectation.answer LIKE '%42%'", {"judged"}),
    ("expectation.answer IS NULL AND feedback.quality = 'yes'", {"overridden"}),
    ("feedback.missing IS NULL", {"judged", "overridden", "failed_judge", "plain"}),
]


@pytest.mark.parametrize(("filter_string", "expected"), FILTERS)
def test_assessment_filters_pick_the_expected_traces(store, judged, filter_string, expected):
    found = {i.trace_id for i in store.search_traces([judged.experiment_id], filter_string)}
    assert found == {judged[n] for n in expected}


@pytest.mark.parametrize(("filter_string", "_expected"), FILTERS)
def test_assessment_filters_equal_mlflow(store, mlflow_client, backend_kind, judged, filter_string, _expected):
    if backend_kind == "file":
        pytest.skip("MLflow's file store refuses assessment filters (docs/differences-from-mlflow.md)")
    ours = [i.trace_id for i in store.search_traces([judged.experiment_id], filter_string)]
    theirs = [t.info.trace_id for t in mlflow_client.search_traces(
        locations=[judged.experiment_id], filter_string=filter_string, include_spans=False)]
    assert ours == theirs


@pytest.mark.parametrize("filter_string", [
    "feedback.score > '0.5'", "feedback.quality = yes", "feedback.quality IN ('yes')",
    "issue.x = 'a'",
])
def test_bad_assessment_filters_are_syntax_errors(store, judged, filter_string):
    with pytest.raises(FilterSyntaxError):
        store.search_traces([judged.experiment_id], filter_string)


# -- writes (on traces of the test's own) -----------------------------------------------------


@pytest.fixture
def own_trace(backend_uri, mlflow_client):
    from fixtures.traces import _tracing_into

    eid = mlflow_client.create_experiment(f"assess-writes-{uuid.uuid4().hex[:8]}")
    with _tracing_into(backend_uri[0], eid) as mlflow:
        with mlflow.start_span(name="reviewed") as span:
            span.set_inputs({"q": 1})
        return mlflow.get_last_active_trace_id()


def _feedback(trace_id: str, value, **kw) -> Assessment:
    return Assessment(assessment_id="", trace_id=trace_id, name=kw.pop("name", "helpful"), kind=kw.pop("kind", "feedback"),
                      value=value, source_type="HUMAN", source_id="tester", **kw)


def test_logged_feedback_reads_back_through_mlflow(store, mlflow_client, own_trace):
    made = store.log_assessment(_feedback(own_trace, "yes", rationale="clear answer"))
    assert made.assessment_id.startswith("a-")
    theirs = mlflow_client.get_trace(own_trace).info.assessments
    assert [mlflow_assessment(a) for a in theirs] == [our_assessment(made)]
    expectation = store.log_assessment(_feedback(own_trace, {"answer": 2}, name="expected", kind="expectation"))
    theirs = {a.assessment_id: a for a in mlflow_client.get_trace(own_trace).info.assessments}
    assert theirs[expectation.assessment_id].value == {"answer": 2}
    found = [i.trace_id for i in store.search_traces([store.get_trace(own_trace).info.experiment_id],
                                                     "feedback.helpful = 'yes'")]
    assert found == [own_trace]


def test_override_and_delete_as_mlflow_sees_them(store, mlflow_client, own_trace):
    first = store.log_assessment(_feedback(own_trace, "no"))
    second = store.override_feedback(own_trace, first.assessment_id, _feedback(own_trace, "yes", rationale="on review"))
    assert (second.overrides, second.name) == (first.assessment_id, "helpful")
    theirs = {a.assessment_id: a for a in mlflow_client.get_trace(own_trace).info.assessments}
    assert theirs[first.assessment_id].valid is False
    assert theirs[second.assessment_id].overrides == first.assessment_id
    store.delete_assessment(own_trace, second.assessment_id)
    theirs = {a.assessment_id: a for a in mlflow_client.get_trace(own_trace).info.assessments}
    assert list(theirs) == [first.assessment_id] and theirs[first.assessment_id].valid is True
    store.delete_assessment(own_trace, second.assessment_id)  # gone already: no error, as MLflow


def test_assessment_writes_name_what_is_missing(store, own_trace):
    with pytest.raises(NotFound):
        store.log_assessment(_feedback("tr-" + "0" * 32, "yes"))
    with pytest.raises(NotFound):
        store.delete_assessment("tr-" + "0" * 32, "a-" + "0" * 32)
    with pytest.raises(NotFound):
        store.log_assessment(_feedback(own_trace, "yes", overrides="a-" + "0" * 32))
    with pytest.raises(NotFound):
        store.override_feedback(own_trace, "a-" + "0" * 32, _feedback(own_trace, "yes"))
