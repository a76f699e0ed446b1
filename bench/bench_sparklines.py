"""Sparkline-page benchmark (issue 22): a runs page of 50 rows with two sparkline columns, on
the 10k-run bench store (build_sql_store.py; 50 points per metric history).

Each row computes the same thing, the 50 × 2 sparklines of the first page of runs:
- tracktui: `search_runs` (50 runs, the two metrics' latest values) + one `get_metric_histories`
  per column (store/sql/histories.py: the short histories of the page in one query), drawn
  through the runs screen's SparklineCache — the app's own store calls;
- tracktui run by run: the same page through the protocol's default (one
  `get_metric_history(max_points=…)` per run and key), what the batch path replaces;
- mlflow: `MlflowClient.search_runs` (50) + `get_metric_history` per run and key, downsampled
  and drawn the same way.
The three must draw the same sparklines (checked). Target: tracktui < 150 ms.
Not a test: run it by hand from the repo root.

    python bench/bench_sparklines.py [--repeat 5] [--mlflow-repeat 3]
"""

from __future__ import annotations

import argparse

from build_sql_store import DATA_DIR, build
from timing import load, measure, ratio

from tracktui.store import Keys, open_store
from tracktui.store.base import Store
from tracktui.store.downsample import downsample_minmax
from tracktui.store.model import MetricPoint
from tracktui.tui.columns import SPARKLINE_CELLS
from tracktui.tui.sparkline_cache import SparklineCache
from tracktui.tui.watch.sparkline import sparkline

PAGE = 50
KEYS = ("m0", "m1")


def tracktui_page(store, experiment_id: str, batch: bool) -> dict[tuple[str, str], str]:
    runs = store.search_runs([experiment_id], max_results=PAGE, include_keys=Keys(metrics=KEYS)).items
    cache = SparklineCache(SPARKLINE_CELLS)
    ids = [run.id for run in runs]
    for key in KEYS:
        if batch:
            histories = store.get_metric_histories(ids, key, SPARKLINE_CELLS)
        else:
            histories = Store.get_metric_histories(store, ids, key, SPARKLINE_CELLS)  # the loop
        cache.put(runs, key, histories)
    return {(run.id, key): cache.line(run, key) or "" for run in runs for key in KEYS}


def mlflow_page(client, experiment_id: str) -> dict[tuple[str, str], str]:
    runs = client.search_runs([experiment_id], max_results=PAGE)
    out = {}
    for run in runs:
        for key in KEYS:
            history = sorted(client.get_metric_history(run.info.run_id, key), key=lambda m: (m.step, m.timestamp, m.value))
            points = downsample_minmax([MetricPoint(m.value, m.step, m.timestamp) for m in history], SPARKLINE_CELLS)
            out[(run.info.run_id, key)] = sparkline([p.value for p in points], SPARKLINE_CELLS)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--mlflow-repeat", type=int, default=3)
    args = parser.parse_args()
    info = build(DATA_DIR / "bench10k.db")
    uri, exp = info["uri"], info["experiment_id"]
    import mlflow

    client = mlflow.MlflowClient(uri)
    with open_store(uri, read_only=True) as store:
        ours = tracktui_page(store, exp, batch=True)
        assert ours == tracktui_page(store, exp, batch=False) == mlflow_page(client, exp), "different sparklines"
        assert len(ours) == PAGE * len(KEYS) and all(len(line) > 1 for line in ours.values())
        rows = [
            ("tracktui (get_metric_histories)", measure(lambda: tracktui_page(store, exp, True), args.repeat)),
            ("tracktui run by run (default)", measure(lambda: tracktui_page(store, exp, False), args.repeat)),
            ("MlflowClient get_metric_history", measure(lambda: mlflow_page(client, exp), args.mlflow_repeat)),
        ]
    print(f"\na page of {PAGE} runs x {len(KEYS)} sparkline columns ({SPARKLINE_CELLS} cells), "
          f"median wall/cpu ({load()})")
    mlflow_timing = rows[-1][1]
    for name, timing in rows:
        print(f"{name:<34} {timing.wall * 1000:9.1f} ms wall {timing.cpu * 1000:9.1f} ms cpu  "
              f"mlflow/this cpu {ratio(mlflow_timing.cpu, timing.cpu)}")
    verdict = "ok" if rows[0][1].wall < 0.150 else "MISSED"
    print(f"target: tracktui page < 150 ms wall: {verdict}")


if __name__ == "__main__":
    main()
