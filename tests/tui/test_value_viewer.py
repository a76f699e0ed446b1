"""The value viewer: a param or tag value whole, JSON/YAML as a foldable tree or pretty text,
`/` search with `n`/`N`, `y` copying the value as stored. Pilot tests on the mlflow-written
fixture store (enter/v from the run screen) and on values pushed directly; snapshots at 80x24
and 120x40."""

from __future__ import annotations

import json

import pytest
from pilot_helpers import settle, type_text

from fixtures.data import LONG_PARAM_VALUE
from tracktui.tui.app import TrackApp
from tracktui.tui.config import Config
from tracktui.tui.screens.run import RunScreen
from tracktui.tui.screens.value_viewer import ValueViewer
from tracktui.tui.widgets.searchable_text import SearchableText
from tracktui.tui.widgets.value_tree import ValueTree, parse_structured

pytestmark = pytest.mark.anyio

CONFIG = {
    "model": {"name": "bert-base", "layers": [{"units": 768, "dropout": 0.1}, {"units": 2, "dropout": 0.0}]},
    "optimizer": {"name": "adamw", "lr": 2e-5, "betas": [0.9, 0.999]},
    "labels": ["negative", "positive"],
    "note": "ünïcode ✓",
}
CONFIG_JSON = json.dumps(CONFIG, separators=(",", ":"))
NOTES = "first line\nsecond line with loss\nthird line: loss again\n\tindented loss\n"


async def open_viewer(pilot, key: str, value: str, noun: str = "param") -> ValueViewer:
    viewer = ValueViewer(noun, key, value)
    await pilot.app.push_screen(viewer)
    await settle(pilot)
    return viewer


def text_of(viewer: ValueViewer) -> str:
    return str(viewer.query_one(SearchableText).body.render())


def test_structured_values():
    assert parse_structured(CONFIG_JSON).format == "JSON"
    assert parse_structured(CONFIG_JSON).pretty == json.dumps(CONFIG, indent=2, ensure_ascii=False)
    assert parse_structured("a: 1\nb: [2, 3]\n").format == "YAML"
    for text in ("0.01", '"quoted"', "[1, 2", "plain words: not\nyaml because of one line? no", "a: &x 1\nb: *x"):
        structured = parse_structured(text)
        assert structured is None or structured.format == "YAML" and "&" not in text


async def test_enter_and_v_open_a_param_whole_from_the_run_screen(sqlite_store, sqlite_backend, tmp_path):
    app = TrackApp(sqlite_store, config=Config(path=tmp_path / "tracktui.json"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.app.push_screen(RunScreen(sqlite_backend.runs["long-param"]))
        await settle(pilot)
        await pilot.press("2", "j", "enter")
        await settle(pilot)
        viewer = pilot.app.screen
        assert isinstance(viewer, ValueViewer) and (viewer.noun, viewer.key) == ("param", "long_value")
        assert text_of(viewer) == LONG_PARAM_VALUE  # whole: nearly 6,000 characters, nothing cut
        assert f"{len(LONG_PARAM_VALUE):,} characters" in str(viewer.query_one(".value-facts").render())
        await pilot.press("escape")
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ValueViewer)
        await pilot.press("escape")
        await pilot.press("5", "h", "v")  # the Tags tab, mlflow.* shown: its first row
        await settle(pilot)
        assert pilot.app.screen.noun == "tag"


async def test_json_opens_as_a_foldable_tree_and_t_shows_the_text(make_app):
    async with make_app().run_test(size=(100, 30)) as pilot:
        viewer = await open_viewer(pilot, "config", CONFIG_JSON)
        tree = viewer.query_one(ValueTree)
        assert viewer.showing_tree and tree.has_focus
        model = tree.root.children[0]
        assert str(model.label) == "model {2}" and model.is_expanded
        layers = model.children[1]
        assert str(layers.label) == "layers [2]" and not layers.is_expanded  # deeper levels folded
        await pilot.press("down", "down", "down", "right")  # → on a folded node opens it
        assert layers.is_expanded
        await pilot.press("left")
        assert not layers.is_expanded
        await pilot.press("E")
        assert layers.is_expanded and layers.children[0].is_expanded
        await pilot.press("z")
        assert not model.is_expanded
        await pilot.press("t")
        assert not viewer.showing_tree
        assert text_of(viewer) == json.dumps(CONFIG, indent=2, ensure_ascii=False)
        await pilot.press("t")
        assert viewer.showing_tree
        await pilot.press("y")
        assert pilot.app.clipboard == CONFIG_JSON  # as stored, not pretty-printed


async def test_search_highlights_matches_and_n_N_walk_them(make_app):
    async with make_app().run_test(size=(80, 24)) as pilot:
        viewer = await open_viewer(pilot, "notes", NOTES, noun="tag")
        text = viewer.query_one(SearchableText)
        await pilot.press("slash")
        await type_text(pilot, "LOSS")  # case-insensitive
        await pilot.press("enter")
        await settle(pilot)
        assert text.match_count == 3 and text.current_line == 1
        assert str(text.query_one(".search-count").render()) == "1 of 3"
        await pilot.press("n")
        assert text.current_line == 2
        await pilot.press("n", "n")  # wraps to the first
        assert text.current_line == 1
        await pilot.press("N")
        assert text.current_line == 3
        await pilot.press("slash", "ctrl+a", "ctrl+k")
        await type_text(pilot, "nowhere")
        assert text.match_count == 0 and str(text.query_one(".search-count").render()) == "no match"
        await pilot.press("escape")  # closes the search box, not the viewer
        assert pilot.app.screen is viewer and not text.query_one(".search-row").has_class("-open")
        await pilot.press("escape")
        assert pilot.app.screen is not viewer


async def test_slash_on_the_tree_searches_the_pretty_text(make_app):
    async with make_app().run_test(size=(80, 24)) as pilot:
        viewer = await open_viewer(pilot, "config", CONFIG_JSON)
        await pilot.press("slash")
        await type_text(pilot, "dropout")
        await pilot.press("enter")
        assert not viewer.showing_tree and viewer.query_one(SearchableText).match_count == 2


async def test_control_characters_are_shown_not_sent(make_app):
    async with make_app().run_test(size=(80, 24)) as pilot:
        viewer = await open_viewer(pilot, "hostile", "a\x1b]52;c;bad\x07b\nline two")
        assert text_of(viewer) == "a␛]52;c;bad␇b\nline two"


SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])


@SIZES
def test_tree_snapshot(snap_compare, make_app, size):
    async def run_before(pilot) -> None:
        await open_viewer(pilot, "config", CONFIG_JSON)
        await pilot.press("j", "j", "j", "space")

    assert snap_compare(make_app(), terminal_size=size, run_before=run_before)


@SIZES
def test_text_search_snapshot(snap_compare, make_app, size):
    async def run_before(pilot) -> None:
        await open_viewer(pilot, "notes", NOTES * 3, noun="tag")
        await pilot.press("slash")
        await type_text(pilot, "loss")
        await pilot.press("enter", "n")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=size, run_before=run_before)
