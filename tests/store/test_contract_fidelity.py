"""Where MLflow's own backends answer an unusual request in their own way, tracktui answers as
MLflow does on the same kind of store: differential against MlflowClient on every backend.
Intentional differences are listed in docs/differences-from-mlflow.md."""

from __future__ import annotations

import pytest

from tracktui.store import StoreError


def _mlflow_answer(call):
    """('ok', result) or ('refused', None) when MLflow raises."""
    from mlflow.exceptions import MlflowException

    try:
        return "ok", call()
    except MlflowException:
        return "refused", None


@pytest.mark.parametrize("experiment_id", ["abc", "1.5", "-x"])
def test_search_runs_with_a_non_integer_experiment_id_as_mlflow(store, mlflow_client, experiment_id):
    """MLflow's SQL store refuses a non-integer experiment id; its file store finds no runs."""
    verdict, theirs = _mlflow_answer(lambda: mlflow_client.search_runs([experiment_id]))
    if verdict == "refused":
        with pytest.raises(StoreError, match="experiment"):
            store.search_runs([experiment_id])
    else:
        assert [r.id for r in store.search_runs([experiment_id])] == [r.info.run_id for r in theirs]


def test_a_run_without_artifact_uri_reads_as_mlflow_reads_it_over_rest(tracking_server, rest_store):
    """A run row whose artifact_uri is NULL: MlflowClient over REST gets '' (protobuf's empty
    string), and so does tracktui."""
    import secrets

    import sqlalchemy as sa
    from mlflow import MlflowClient

    client = MlflowClient(tracking_server.url)
    experiment_id = client.create_experiment(f"null-artifact-uri-{secrets.token_hex(4)}")
    run_id = client.create_run(experiment_id).info.run_id
    engine = sa.create_engine(tracking_server.backend_uri)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE runs SET artifact_uri = NULL WHERE run_uuid = :r"), {"r": run_id})
    engine.dispose()
    theirs = client.get_run(run_id).info.artifact_uri
    assert theirs == ""
    assert rest_store.get_run(run_id).artifact_uri == theirs
    assert [r.artifact_uri for r in rest_store.search_runs([experiment_id])] == [theirs]


def test_a_full_last_page_of_traces_has_a_token_where_mlflow_gives_one(store, mlflow_client, info):
    """MLflow's SQL store hands out a next_page_token whenever a page is full (the next page is
    then empty); its file store only when more traces follow. Walking the pages gives the same
    traces either way."""
    alpha = info.experiments["alpha"]
    everything = mlflow_client.search_traces(locations=[alpha], max_results=100)
    n = len(everything)
    assert n > 1
    theirs = mlflow_client.search_traces(locations=[alpha], max_results=n)
    ours = store.search_traces([alpha], max_results=n)
    assert bool(ours.next_page_token) == bool(theirs.token)
    walked, token = [], None
    for _ in range(n + 2):
        page = store.search_traces([alpha], max_results=2, page_token=token)
        walked += [t.trace_id for t in page]
        token = page.next_page_token
        if not token:
            break
    assert walked == [t.info.trace_id for t in everything]


@pytest.mark.parametrize("max_results", [0, -1, 50_000, 50_001])
@pytest.mark.parametrize("what", ["runs", "experiments", "traces"])
def test_max_results_bounds_as_mlflow(store, mlflow_client, info, what, max_results):
    """Above 50,000 MLflow refuses on every backend, and so does tracktui; 50,000 is answered.
    A page size below 1 is refused on every backend (MLflow's SQL store answers 0 with an empty
    page: docs/differences-from-mlflow.md)."""
    alpha = info.experiments["alpha"]
    ours = {
        "runs": lambda: store.search_runs([alpha], max_results=max_results),
        "experiments": lambda: store.search_experiments(max_results=max_results),
        "traces": lambda: store.search_traces([alpha], max_results=max_results),
    }[what]
    theirs = {
        "runs": lambda: mlflow_client.search_runs([alpha], max_results=max_results),
        "experiments": lambda: mlflow_client.search_experiments(max_results=max_results),
        "traces": lambda: mlflow_client.search_traces(locations=[alpha], max_results=max_results),
    }[what]
    if max_results < 1 or max_results > 50_000:
        with pytest.raises(StoreError):
            ours()
        if max_results > 50_000:
            assert _mlflow_answer(theirs)[0] == "refused"
        return
    verdict, answer = _mlflow_answer(theirs)
    if verdict == "ok":  # (a server caps traces at 500 a page and refuses more)
        assert len(ours()) == len(answer)
