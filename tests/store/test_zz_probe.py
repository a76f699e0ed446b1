import pytest, json, base64

def _try(f):
    try:
        r = f()
        if hasattr(r, "token"): return ("ok", len(r), r.token)
        if hasattr(r, "next_page_token"): return ("ok", len(r.items), r.next_page_token)
        if isinstance(r, list): return ("ok", len(r))
        return ("ok", type(r).__name__)
    except Exception as e:
        return ("err", type(e).__name__, str(e)[:150])

def test_probe(store, mlflow_client, info, backend_kind):
    alpha = info.experiments["alpha"]
    out = {}
    for mr in [0, -1, 50001]:
        out[f"runs mr={mr}"] = (_try(lambda: mlflow_client.search_runs([alpha], max_results=mr)), _try(lambda: store.search_runs([alpha], max_results=mr)))
        out[f"exps mr={mr}"] = (_try(lambda: mlflow_client.search_experiments(max_results=mr)), _try(lambda: store.search_experiments(max_results=mr)))
        out[f"traces mr={mr}"] = (_try(lambda: mlflow_client.search_traces(locations=[alpha], max_results=mr)), _try(lambda: store.search_traces([alpha], max_results=mr)))
    out["runs order None"] = (_try(lambda: mlflow_client.search_runs([alpha], order_by=None)), _try(lambda: store.search_runs([alpha], order_by=None)))
    out["runs filter None"] = (_try(lambda: mlflow_client.search_runs([alpha], filter_string=None)), _try(lambda: store.search_runs([alpha], filter_string=None)))
    out["exps order None"] = (_try(lambda: mlflow_client.search_experiments(order_by=None)), _try(lambda: store.search_experiments(order_by=None)))
    out["traces order None"] = (_try(lambda: mlflow_client.search_traces(locations=[alpha], order_by=None)), _try(lambda: store.search_traces([alpha], order_by=None)))
    out["traces filter None"] = (_try(lambda: mlflow_client.search_traces(locations=[alpha], filter_string=None)), _try(lambda: store.search_traces([alpha], filter_string=None)))
    tok = base64.b64encode(json.dumps({"offset": 1.5}).encode()).decode()
    out["runs tok 1.5"] = (_try(lambda: mlflow_client.search_runs([alpha], page_token=tok)), _try(lambda: store.search_runs([alpha], page_token=tok)))
    out["exps tok 1.5"] = (_try(lambda: mlflow_client.search_experiments(page_token=tok)), _try(lambda: store.search_experiments(page_token=tok)))
    out["exps rep order"] = (_try(lambda: mlflow_client.search_experiments(order_by=["name DESC", "name"])), _try(lambda: store.search_experiments(order_by=["name DESC", "name"])))
    out["runs rep order"] = (_try(lambda: mlflow_client.search_runs([alpha], order_by=["attributes.start_time DESC", "attributes.start_time"])), _try(lambda: store.search_runs([alpha], order_by=["attributes.start_time DESC", "attributes.start_time"])))
    out["runs exp abc"] = (_try(lambda: mlflow_client.search_runs(["abc"])), _try(lambda: store.search_runs(["abc"])))
    n = len(mlflow_client.search_traces(locations=[alpha], max_results=1000))
    out[f"traces full page n={n}"] = (_try(lambda: mlflow_client.search_traces(locations=[alpha], max_results=n)), _try(lambda: store.search_traces([alpha], max_results=n)))
    with open(f"/tmp/probe/{backend_kind}.json", "w") as f:
        json.dump(out, f, indent=1, default=str)
