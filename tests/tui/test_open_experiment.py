"""`tracktui URI --experiment NAME|ID`: the app starts on that experiment's runs; the
experiments list underneath loads only once esc shows it."""

from __future__ import annotations

import pytest
from pilot_helpers import settle

from tracktui.store.base import find_experiment
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
