"""`tracktui URI --experiment NAME|ID`: the app starts on that experiment's runs; the
experiments list underneath loads only once esc shows it."""

from __future__ import annotations

import threading

import pytest
from pilot_helpers import settle

from tracktui.store.base import find_experiment
from tracktui.tui.prefetch import ROOTS_ONLY
from tracktui.tui.screens.experiments import ExperimentsScreen, ExperimentsTable
from tracktui.tui.screens.runs import RunsScreen

pytestmark = pytest.mark.anyio


async def test_starts_on_the_runs_and_esc_loads_the_experiments(make_app):
    app = make_app()
    sweep = find_experiment(app.store, "lr-sweep")
    assert sweep is not None
    app = make_app(open_experiment=sweep)
    calls: list[str] = []
    search = app.store.search_experiments
    app.store.search_experiments = lambda *a, **k: calls.append("search") or search(*a, **k)  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, RunsScreen)
        assert app.screen.experiment.id == sweep.id
        assert app.screen.table.top_level_count > 0  # its first page is shown
        assert calls == []  # the list underneath has not been read
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ExperimentsScreen)
        assert calls == ["search"]
        table = app.screen.query_one(ExperimentsTable)
        assert "lr-sweep" in [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        # opening a run list again and coming back does not read the list again
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert calls == ["search"]


def _counting(store, names: list[str]) -> list[tuple[str, str]]:
    """Record (method, filter string) of each call of these store methods made from now on,
    but for the prefetch thread's own."""
    calls: list[tuple[str, str]] = []

    def record(name: str, args: tuple) -> None:
        if threading.current_thread().name != "tracktui-prefetch":
            calls.append((name, str(args[1:2])))

    for name in names:
        method = getattr(store, name)
        setattr(store, name, lambda *a, _m=method, _n=name, **k: record(_n, a) or _m(*a, **k))
    return calls


async def test_the_prefetched_keys_and_first_page_are_what_the_screen_shows(make_app, tmp_path):
    from tracktui.tui.config import Config
    from tracktui.tui.prefetch import prefetch_runs

    reference = make_app()
    sweep = find_experiment(reference.store, "lr-sweep")
    assert sweep is not None
    async with reference.run_test(size=(120, 40)) as pilot:  # the same screen without a prefetch
        await pilot.app.push_screen(RunsScreen(sweep))
        await settle(pilot)
        expected = [(row.run.id, row.run.metrics) for row in pilot.app.screen.table.rows]
    config = Config(path=tmp_path / "prefetch.json")
    app = make_app(open_experiment=sweep, config=config)
    calls = _counting(app.store, ["list_keys", "search_runs"])
    prefetch = prefetch_runs(app.store, sweep, config)
    app.prefetch = prefetch
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, RunsScreen)
        assert [(row.run.id, row.run.metrics) for row in app.screen.table.rows] == expected
        assert expected
        # neither the keys nor the first page were asked for again (the tree's parent scan may run)
        assert [name for name, _ in calls if name == "list_keys"] == []
        assert [f for name, f in calls if name == "search_runs" and ROOTS_ONLY in f] == []
        assert prefetch.take(("list_keys", sweep.id)) is None  # taken, once


async def test_a_saved_view_is_not_prefetched_and_the_screen_queries_it(make_app, tmp_path):
    from tracktui.tui.config import Config, RunsView
    from tracktui.tui.prefetch import prefetch_runs

    config = Config(path=tmp_path / "prefetch.json")
    app = make_app(config=config)
    sweep = find_experiment(app.store, "lr-sweep")
    assert sweep is not None
    config.set_runs_view_for(app.store.display_uri, sweep.id, RunsView(sort_column="attr:name"))
    app = make_app(open_experiment=sweep, config=config)
    prefetch = prefetch_runs(app.store, sweep, config)
    app.prefetch = prefetch
    calls = _counting(app.store, ["search_runs"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, RunsScreen)
        names = [row.run.name for row in app.screen.table.rows]
        assert names == sorted(names) and names
        assert calls and calls[0] == ("search_runs", str((ROOTS_ONLY,)))  # its own sorted query
