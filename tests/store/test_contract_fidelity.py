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
