"""SQL-only trace storage cases the contract suite cannot reach with fresh mlflow data:
traces written before mlflow 3.6 (spans in `traces.json`, no spansLocation tag) and schemas
older than the trace tables. Each test works on a private copy of the SQLite fixture store.
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from tracktui.store import FilterSyntaxError, NotFound, open_store


def _as_pre_36_trace(db: str, trace_id: str, spans_doc: dict, artifacts) -> None:
    """Rewrite one trace the way mlflow < 3.6 stored it: spans only in traces.json under
    its artifact location, no `mlflow.trace.spansLocation` tag, no `spans` rows."""
    artifacts.mkdir(parents=True)
    (artifacts / "traces.json").write_text(json.dumps(spans_doc))
    con = sqlite3.connect(db)
    with con:
        con.execute("DELETE FROM spans WHERE trace_id = ?", (trace_id,))
        con.execute("DELETE FROM trace_tags WHERE request_id = ? AND key = 'mlflow.trace.spansLocation'", (trace_id,))
        con.execute(
            "UPDATE trace_tags SET value = ? WHERE request_id = ? AND key = 'mlflow.artifactLocation'",
            (str(artifacts), trace_id),
        )
    con.close()


def test_spans_from_traces_json_when_not_in_the_tracking_store(sqlite_copy, tmp_path):
    import mlflow

    uri = sqlite_copy.uri
    db = uri.removeprefix("sqlite:///")
    trace_id = sqlite_copy.traces["agent"]
    client = mlflow.MlflowClient(uri)
    original = client.get_trace(trace_id)
    _as_pre_36_trace(db, trace_id, original.data.to_dict(), tmp_path / "art" / trace_id / "artifacts")

    with open_store(uri) as store:
        ours = store.get_trace(trace_id)
    theirs = client.get_trace(trace_id)  # mlflow reads the traces.json too
    assert "mlflow.trace.spansLocation" not in ours.info.tags
    assert len(theirs.data.spans) == len(ours.spans) == 5
    theirs_by_id = {s.span_id: s for s in theirs.data.spans}
    for span in ours.spans:
        other = theirs_by_id[span.span_id]
        assert (span.name, span.parent_id, span.start_ns, span.end_ns) == (
            other.name, other.parent_id, other.start_time_ns, other.end_time_ns)
        assert span.inputs == other.inputs and span.outputs == other.outputs
    assert [s.name for s, _ in ours.tree] == ["agent", "retrieve", "plan", "lookup", "chat_model"]


def test_missing_traces_json_is_a_clear_not_found(sqlite_copy, tmp_path):
    db = sqlite_copy.uri.removeprefix("sqlite:///")
    trace_id = sqlite_copy.traces["tagged"]
    artifacts = tmp_path / "gone" / "artifacts"
    _as_pre_36_trace(db, trace_id, {"spans": []}, artifacts)
    (artifacts / "traces.json").unlink()
    with open_store(sqlite_copy.uri) as store, pytest.raises(NotFound, match="traces.json"):
        store.get_trace(trace_id)


_TRACE_TABLES = (
    "span_metrics", "trace_metrics", "assessments", "spans", "trace_tags",
    "trace_request_metadata", "entity_associations", "trace_info",
)


def test_schema_without_trace_tables_has_no_traces(sqlite_copy):
    db = sqlite_copy.uri.removeprefix("sqlite:///")
    con = sqlite3.connect(db)
    with con:
        for table in _TRACE_TABLES:
            con.execute(f"DROP TABLE IF EXISTS {table}")
    con.close()
    with open_store(sqlite_copy.uri) as store:
        assert store.supports_traces is False
        assert list(store.search_traces([sqlite_copy.traces.experiment_id])) == []
        with pytest.raises(NotFound):
            store.get_trace(sqlite_copy.traces["agent"])
        with pytest.raises(FilterSyntaxError):
            store.search_traces([sqlite_copy.traces.experiment_id], "status >")


def test_read_only_store_refuses_trace_writes(sqlite_backend):
    from tracktui.store import ReadOnlyError

    with open_store(sqlite_backend.uri, read_only=True) as store:
        with pytest.raises(ReadOnlyError):
            store.set_trace_tag(sqlite_backend.traces["agent"], "k", "v")
        with pytest.raises(ReadOnlyError):
            store.delete_traces(sqlite_backend.traces.experiment_id, [sqlite_backend.traces["agent"]])
