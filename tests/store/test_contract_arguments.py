"""Every argument the protocol's types allow gets an answer or a StoreError, on every backend:
never a TypeError or another exception from deep inside a backend (MlflowClient's defaults, such
as `order_by=None`, included)."""

from __future__ import annotations

import pytest

from tracktui.store import StoreError


def _calls(info):
    alpha = info.experiments["alpha"]
    run = info.runs["baseline"]
    return {
        "search_runs order_by=None": lambda s: s.search_runs([alpha], order_by=None),
        "search_runs filter_string=None": lambda s: s.search_runs([alpha], filter_string=None),
        "search_runs page_token=''": lambda s: s.search_runs([alpha], page_token=""),
        "search_runs tuple ids": lambda s: s.search_runs((alpha,), order_by=("metrics.loss",)),
        "search_runs no experiments": lambda s: s.search_runs([]),
        "search_experiments order_by=None": lambda s: s.search_experiments(order_by=None),
        "search_experiments filter_string=None": lambda s: s.search_experiments(filter_string=None),
        "search_traces order_by=None": lambda s: s.search_traces([alpha], order_by=None),
        "search_traces filter_string=None": lambda s: s.search_traces([alpha], filter_string=None),
        "list_keys tuple": lambda s: s.list_keys((alpha,)),
        "count_runs_by_experiment empty": lambda s: s.count_runs_by_experiment([]),
        "get_metric_history max_points=None": lambda s: s.get_metric_history(run, "loss", max_points=None),
        "get_metric_history max_points=0": lambda s: s.get_metric_history(run, "loss", max_points=0),
        "get_child_runs": lambda s: s.get_child_runs(run),
        "get_experiment_by_name quotes": lambda s: s.get_experiment_by_name("it's \"both\""),
        "list_artifacts path=None": lambda s: s.list_artifacts(run, None),
    }




@pytest.mark.parametrize(
    "name",
    [
        "search_runs order_by=None",
        "search_runs filter_string=None",
        "search_runs page_token=''",
        "search_runs tuple ids",
        "search_runs no experiments",
        "search_experiments order_by=None",
        "search_experiments filter_string=None",
        "search_traces order_by=None",
        "search_traces filter_string=None",
        "list_keys tuple",
        "count_runs_by_experiment empty",
        "get_metric_history max_points=None",
        "get_metric_history max_points=0",
        "get_child_runs",
        "get_experiment_by_name quotes",
        "list_artifacts path=None",
    ],
)
def test_protocol_arguments_answer_or_raise_store_error(store, info, name):
    call = _calls(info)[name]
    try:
        call(store)
    except StoreError:
        pass
