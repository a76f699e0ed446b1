"""What every screen says in words: footers that fit 80 columns (with `? Help`), help and the
command palette without class names or Textual's key names, singular counts, and a running
run's duration. Driven by keys on the deterministic demo store; the text checked is the app's
own screenshot (what a user sees, after overlapping widgets are drawn).
"""

from __future__ import annotations

import re

import pytest
from pilot_helpers import open_experiment, screen_lines, settle, type_text

from tracktui.tui.commands import screen_actions
from tracktui.tui.screens.help import HelpScreen, binding_rows

pytestmark = pytest.mark.anyio

def footer(app) -> str:
    return screen_lines(app)[-1]


async def test_every_screen_footer_shows_help_at_80_columns(make_app):
    app = make_app()
    seen = {}
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        seen["experiments"] = footer(app)
        await open_experiment(pilot, "mnist")
        seen["runs"] = footer(app)
        await pilot.press("m", "down", "m", "C")
        await settle(pilot)
        seen["compare charts"] = footer(app)
        await pilot.press("2")
        await settle(pilot)
        seen["compare diff"] = footer(app)
        await pilot.press("escape", "enter")
        await settle(pilot)
        for tab in "1234567":
            await pilot.press(tab)
            await settle(pilot)
            seen[f"run tab {tab}"] = footer(app)
        await pilot.press("3", "enter")
        await settle(pilot)
        seen["plot"] = footer(app)
        await pilot.press("escape", "escape", "escape")
        await settle(pilot)
        await open_experiment(pilot, "text-sentiment")
        await pilot.press("ctrl+t")
        await settle(pilot)
        seen["traces"] = footer(app)
        await pilot.press("enter")
        await settle(pilot)
        seen["trace"] = footer(app)
        await pilot.press("enter")
        await settle(pilot)
        seen["span"] = footer(app)
    missing = {name: text for name, text in seen.items() if "? Help" not in text}
    assert not missing, missing
    assert len(seen) == 15


async def test_help_and_palette_use_words_not_internal_names(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "mnist")
        rows = binding_rows(app.screen)
        areas = {area for area, _keys, _description in rows}
        assert "runs table" in areas and "app" in areas
        assert not [a for a in areas if re.search(r"[a-z][A-Z]|^[A-Z]", a)], areas  # no ClassNames
        keys = " ".join(k for _a, k, _d in rows)
        assert "[" in keys.split() and "]" in keys.split()
        assert "_" not in keys  # no left_square_bracket, question_mark…
        palette_keys = [key for _title, _action, _node, key in screen_actions(app.screen)]
        assert "[" in palette_keys and not [k for k in palette_keys if "_" in k]
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        text = "\n".join(screen_lines(app))
        assert "RunsTable" not in text and "RunsScreen" not in text and "TrackApp" not in text


async def test_one_run_is_one_run(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "mnist")
        await pilot.press("slash")
        await type_text(pilot, "attributes.run_name = 'sgd-lr0.03-b32-020'")
        await pilot.press("enter")
        await settle(pilot)
        title = screen_lines(app)[0]
        assert "1 run loaded" in title and "1 runs" not in title


async def test_running_run_shows_its_time_so_far(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiment(pilot, "mnist")
        assert app.screen.table.current.run.status == "RUNNING"  # newest first: still running
        await pilot.press("enter")
        await settle(pilot)
        duration = str(app.screen.query_one("#field-duration").render())
        assert duration.endswith(" so far") and duration != "— so far"
