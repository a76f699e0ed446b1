"""The demo store tells a consistent story: read back through the store layer, every run's
metric timestamps increase with the step and end before the run's end time."""

from __future__ import annotations

from tracktui.store import open_store


def test_metric_timestamps_increase_with_step_and_end_before_the_run(demo_store_uri):
    checked = 0
    with open_store(demo_store_uri, read_only=True) as store:
        experiments = store.search_experiments(view="all").items
        for exp in experiments:
            runs = store.search_runs([exp.id], view="all", max_results=1000).items
            for run in runs:
                for key in run.metrics:
                    history = store.get_metric_history(run.id, key)
                    stamps = [p.timestamp for p in sorted(history, key=lambda p: p.step)]
                    assert stamps == sorted(stamps), (run.name, key)
                    assert run.start_time is None or stamps[0] >= run.start_time, (run.name, key)
                    if run.end_time is not None:
                        assert stamps[-1] < run.end_time, (run.name, key)
                    checked += 1
    assert checked > 100
