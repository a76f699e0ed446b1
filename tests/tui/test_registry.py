"""The registry screens: registered models (M on experiments), a model's versions, prompts (P)
and a prompt's versions with its template and word diff. Writes from the keyboard (alias,
tags, description, stage, rename, delete) are read back with real MlflowClient.
Data: tests/tui/registry_store.py (real mlflow SQL store, fixed names and times).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pilot_helpers import settle, type_text
from registry_store import A_RUN, B_RUN, SUMMARIZE_V1, SUMMARIZE_V2, create_registry_store

from tracktui.store import open_store
from tracktui.tui.app import TrackApp
from tracktui.tui.config import Config
from tracktui.tui.prompt_text import diff_counts, highlighted_template, readable_template, word_diff
from tracktui.tui.screens.choice import ChoiceScreen
from tracktui.tui.screens.compare import CompareScreen
from tracktui.tui.screens.confirm import ConfirmScreen
from tracktui.tui.screens.model_versions import ModelVersionsScreen
from tracktui.tui.screens.prompt import PromptScreen
from tracktui.tui.screens.registry import PromptsScreen, RegisteredModelsScreen
from tracktui.tui.screens.run import RunScreen
from tracktui.tui.widgets.registry_table import RegistryTable

pytestmark = pytest.mark.anyio
SIZES = [(80, 24), (120, 40)]


@pytest.fixture(scope="module")
def registry_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("registry-store")
    create_registry_store(directory)
    return directory


@pytest.fixture
def writable_uri(registry_dir, tmp_path) -> str:
    """A private copy of the store for a test that writes."""
    target = tmp_path / "store"
    shutil.copytree(registry_dir, target)
    return f"sqlite:///{target / 'mlflow.db'}"


def make_app(uri: str, tmp_path: Path, read_only: bool = True) -> TrackApp:
    store = open_store(uri, read_only=read_only)
    store.display_uri = "sqlite:///registry/mlflow.db"  # the temp path differs per run
    return TrackApp(store, config=Config(path=tmp_path / "tracktui.json"))


def client(uri: str):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


async def until(pilot, done, tries: int = 60) -> None:
    for _ in range(tries):
        await settle(pilot)
        if done():
            return
        await pilot.pause(0.1)
    raise AssertionError("the screen never got there")


async def open_registry(pilot) -> RegistryTable:
    await settle(pilot)
    await pilot.press("M")
    await until(pilot, lambda: isinstance(pilot.app.screen, RegisteredModelsScreen)
                and len(pilot.app.screen.table.items) > 0)
    return pilot.app.screen.table


async def open_versions(pilot, name: str = "bert-classifier") -> ModelVersionsScreen:
    await settle(pilot)
    await pilot.app.push_screen(ModelVersionsScreen(name))
    await until(pilot, lambda: pilot.app.screen.model is not None)
    return pilot.app.screen


# -- pure helpers ------------------------------------------------------------------------------


def test_template_variables_are_highlighted_and_text_made_inert():
    shown = highlighted_template("Hi {{ name }},\x1b[31m {{user.email}}")
    assert shown.plain == "Hi {{ name }},\u241b[31m {{user.email}}"
    styled = [shown.plain[s.start:s.end] for s in shown.spans]
    assert styled == ["{{ name }}", "{{user.email}}"]


def test_word_diff_marks_added_and_removed_words_and_keeps_the_new_text():
    diff = word_diff(SUMMARIZE_V1, SUMMARIZE_V2)
    kept_and_added = "".join(diff.plain[s.start:s.end] for s in diff.spans if "green" in str(s.style))
    removed = "".join(diff.plain[s.start:s.end] for s in diff.spans if "strike" in str(s.style))
    assert "article" in kept_and_added and "audience" in kept_and_added
    assert "text" in removed and "article" not in removed
    assert diff.plain.startswith("Summarize the following [-text-]{+article+} in {+exactly+} ")
    assert diff_counts(SUMMARIZE_V1, SUMMARIZE_V2) == (8, 2)
    assert diff_counts(SUMMARIZE_V2, SUMMARIZE_V2) == (0, 0)


def test_chat_templates_read_as_role_blocks():
    assert readable_template('[{"role": "user", "content": "{{ q }}"}]', "chat") == "user:\n{{ q }}"
    assert readable_template("not json", "chat") == "not json"


# -- reading -----------------------------------------------------------------------------------


async def test_m_lists_registered_models_without_prompts(registry_dir, tmp_path):
    app = make_app(f"sqlite:///{registry_dir / 'mlflow.db'}", tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await open_registry(pilot)
        assert [m.name for m in table.items] == ["bert-classifier", "tree-model"]
        row = [str(c) for c in table.get_row("bert-classifier")]
        assert row[1] == "v3" and row[2] == "@champion→v2 @challenger→v3"
        assert row[4] == "team=nlp" and row[5] == "Sentiment classifier."
        assert str(table.get_row("tree-model")[4]) == "note=[b]not markup[/b]"
    app.store.close()


async def test_filter_narrows_and_a_bad_filter_shows_its_error(registry_dir, tmp_path):
    app = make_app(f"sqlite:///{registry_dir / 'mlflow.db'}", tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await open_registry(pilot)
        await pilot.press("slash")
        await type_text(pilot, "name LIKE '%tree%'")
        await pilot.press("enter")
        await until(pilot, lambda: [m.name for m in table.items] == ["tree-model"])
        await pilot.press("slash", "ctrl+u")
        await type_text(pilot, "params.lr = 1")
        await pilot.press("enter")
        await until(pilot, lambda: pilot.app.screen.query_one("#list-filter").has_class("-error"))
    app.store.close()


async def test_versions_list_newest_first_and_enter_opens_the_source_run(registry_dir, tmp_path):
    app = make_app(f"sqlite:///{registry_dir / 'mlflow.db'}", tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await open_registry(pilot)
        table.focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, ModelVersionsScreen)
                    and pilot.app.screen.model is not None)
        screen = pilot.app.screen
        assert [v.version for v in screen.versions] == ["3", "2", "1"]  # v4 is deleted
        row = [str(c) for c in screen.table.get_row("2")]
        assert row[1:6] == ["v2", "@champion", "Production", "READY", "train-bert-more"]
        await pilot.press("down", "down", "enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, RunScreen))
        assert pilot.app.screen.run_id == A_RUN
    app.store.close()


async def test_compare_marked_versions_opens_their_source_runs(registry_dir, tmp_path):
    app = make_app(f"sqlite:///{registry_dir / 'mlflow.db'}", tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_versions(pilot)
        await pilot.press("m")  # v3 (run b), the cursor moves to v2 (run b)
        await pilot.press("C")
        await settle(pilot)
        assert pilot.app.screen is screen  # the same run twice: nothing to compare
        await pilot.press("down", "C")  # v1 (run a) with the marked v3
        await until(pilot, lambda: isinstance(pilot.app.screen, CompareScreen))
        assert pilot.app.screen.run_ids == [B_RUN, A_RUN]
    app.store.close()


async def test_a_run_lists_the_versions_made_from_it_and_enter_opens_the_model(registry_dir, tmp_path):
    from tracktui.tui.widgets.run_overview import RegisteredVersionsList

    app = make_app(f"sqlite:///{registry_dir / 'mlflow.db'}", tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.app.push_screen(RunScreen(B_RUN))
        listed = pilot.app.screen.query_one(RegisteredVersionsList)
        await until(pilot, lambda: listed.option_count == 2)
        labels = [str(listed.get_option_at_index(i).prompt) for i in range(2)]
        assert sorted(labels) == ["bert-classifier v2 @champion (Production)", "bert-classifier v3 @challenger"]
        listed.focus()
        listed.highlighted = labels.index("bert-classifier v2 @champion (Production)")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, ModelVersionsScreen)
                    and pilot.app.screen.model is not None)
        assert pilot.app.screen.current.version == "2"
    app.store.close()


async def test_prompts_list_and_a_prompts_template_and_word_diff(registry_dir, tmp_path):
    app = make_app(f"sqlite:///{registry_dir / 'mlflow.db'}", tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("P")
        await until(pilot, lambda: isinstance(pilot.app.screen, PromptsScreen)
                    and len(pilot.app.screen.table.items) == 2)
        assert [p.name for p in pilot.app.screen.table.items] == ["chat-helper", "summarize"]
        await pilot.press("down", "enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, PromptScreen) and pilot.app.screen.versions)
        screen = pilot.app.screen
        assert [v.version for v in screen.versions] == ["2", "1"]
        body = screen.query_one("#prompt-template")
        assert str(body.render()).startswith("Summarize the following article")
        facts = str(screen.query_one("#prompt-facts").render())
        assert "Variables: num_sentences, audience, text" in facts and "gpt-5" in facts
        await pilot.press("down", "m", "up")  # v1 is the base, v2 selected
        await settle(pilot)
        assert "+8 −2 words" in str(screen.query_one("#prompt-facts").render())
        await pilot.press("down", "m")  # m on the base clears it
        await settle(pilot)
        assert screen.base is None
    app.store.close()


async def test_read_only_store_refuses_registry_writes_with_the_reason(registry_dir, tmp_path):
    app = make_app(f"sqlite:///{registry_dir / 'mlflow.db'}", tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_versions(pilot)
        for key in ("a", "A", "t", "e", "s", "d", "E", "T"):
            await pilot.press(key)
            await settle(pilot)
            assert pilot.app.screen is screen, key
        assert any("Writes are disabled" in str(n.message) for n in pilot.app._notifications)
    app.store.close()


# -- writing (read back with MlflowClient) ---------------------------------------------------


async def test_moving_an_alias_promotes_a_version(writable_uri, tmp_path):
    app = make_app(writable_uri, tmp_path, read_only=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_versions(pilot)
        assert screen.current.version == "3"
        await pilot.press("a")
        await type_text(pilot, "champion")
        await pilot.press("enter")
        await until(pilot, lambda: screen.model is not None and screen.model.aliases.get("champion") == "3")
        assert screen.current.version == "3"  # the cursor stayed on its version
        await pilot.press("A")  # v3 now has champion and challenger: a choice
        await until(pilot, lambda: isinstance(pilot.app.screen, ChoiceScreen))
        await pilot.press("down", "enter")  # sorted: challenger, champion
        await until(pilot, lambda: screen.model is not None and "champion" not in screen.model.aliases)
    app.store.close()
    mlflow_client = client(writable_uri)
    assert mlflow_client.get_registered_model("bert-classifier").aliases == {"challenger": 3}


async def test_a_bad_alias_is_refused_inline(writable_uri, tmp_path):
    app = make_app(writable_uri, tmp_path, read_only=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_versions(pilot)
        await pilot.press("a")
        await type_text(pilot, "v2")
        await pilot.press("enter")
        await settle(pilot)
        assert "reserved" in str(pilot.app.screen.query_one("#rename-error").render())
        await pilot.press("escape")
    app.store.close()


async def test_stage_tags_and_description_written_as_mlflow_reads_them(writable_uri, tmp_path):
    app = make_app(writable_uri, tmp_path, read_only=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_versions(pilot)
        await pilot.press("s")  # v3: None -> Production, archiving the others
        await until(pilot, lambda: isinstance(pilot.app.screen, ChoiceScreen))
        options = [v for v, _ in pilot.app.screen.options]
        await pilot.press(*["down"] * options.index("Production|1"), "enter")
        await until(pilot, lambda: screen.current is not None and screen.current.current_stage == "Production")
        await pilot.press("e")
        await settle(pilot)
        area = pilot.app.screen.query_one("#description-text")
        area.text = "Line one\nünïcode line two\n"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: screen.current is not None and screen.current.description == area.text)
        await pilot.press("t", "a")
        await type_text(pilot, "reviewed")
        await pilot.press("tab")
        await type_text(pilot, "yes")
        await pilot.press("enter", "ctrl+s")
        await until(pilot, lambda: screen.current is not None and screen.current.tags.get("reviewed") == "yes")
    app.store.close()
    mlflow_client = client(writable_uri)
    v3 = mlflow_client.get_model_version("bert-classifier", "3")
    assert v3.current_stage == "Production"
    assert v3.description == "Line one\nünïcode line two\n"
    assert v3.tags == {"reviewed": "yes"}
    assert mlflow_client.get_model_version("bert-classifier", "2").current_stage == "Archived"


async def test_delete_version_names_its_aliases_then_the_cursor_stays_put(writable_uri, tmp_path):
    app = make_app(writable_uri, tmp_path, read_only=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_versions(pilot)
        await pilot.press("down", "d")  # v2, @champion
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
        assert "@champion" in pilot.app.screen.body_text
        await pilot.press("y")
        await until(pilot, lambda: [v.version for v in screen.versions] == ["3", "1"])
        assert screen.current.version == "1"  # the neighbour below, never a different action target
        await pilot.press("d")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
        await pilot.press("n")
        await settle(pilot)
        assert [v.version for v in screen.versions] == ["3", "1"]
    app.store.close()
    mlflow_client = client(writable_uri)
    assert sorted(int(v.version) for v in mlflow_client.search_model_versions("name = 'bert-classifier'")) == [1, 3]
    assert mlflow_client.get_registered_model("bert-classifier").aliases == {"challenger": 3}


async def test_rename_and_delete_a_registered_model_from_the_list(writable_uri, tmp_path):
    app = make_app(writable_uri, tmp_path, read_only=False)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await open_registry(pilot)
        table.focus()
        await pilot.press("r", "ctrl+u")
        await type_text(pilot, "bert-sentiment")
        await pilot.press("enter")
        await until(pilot, lambda: [m.name for m in table.items] == ["bert-sentiment", "tree-model"])
        assert table.current.name == "bert-sentiment"
        await pilot.press("d")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
        body = pilot.app.screen.body_text
        assert "3 versions go for good (v3, v2, v1)" in body and "@champion→v2" in body
        await pilot.press("y")
        await until(pilot, lambda: [m.name for m in table.items] == ["tree-model"])
    app.store.close()
    mlflow_client = client(writable_uri)
    assert [m.name for m in mlflow_client.search_registered_models()] == ["tree-model"]


# -- snapshots -------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_registered_models(snap_compare, registry_dir, tmp_path, size):
    app = make_app(f"sqlite:///{registry_dir / 'mlflow.db'}", tmp_path)

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.app.push_screen(RegisteredModelsScreen())
        await until(pilot, lambda: len(pilot.app.screen.table.items) == 2)
        pilot.app.screen.table.focus()
        await settle(pilot)

    try:
        assert snap_compare(app, terminal_size=size, run_before=run_before)
    finally:
        app.store.close()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_model_versions(snap_compare, registry_dir, tmp_path, size):
    app = make_app(f"sqlite:///{registry_dir / 'mlflow.db'}", tmp_path)

    async def run_before(pilot) -> None:
        await open_versions(pilot)
        await settle(pilot)

    try:
        assert snap_compare(app, terminal_size=size, run_before=run_before)
    finally:
        app.store.close()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_prompt_diff(snap_compare, registry_dir, tmp_path, size):
    app = make_app(f"sqlite:///{registry_dir / 'mlflow.db'}", tmp_path)

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.app.push_screen(PromptScreen("summarize"))
        await until(pilot, lambda: len(pilot.app.screen.versions) == 2)
        await pilot.press("down", "m", "up")
        await settle(pilot)

    try:
        assert snap_compare(app, terminal_size=size, run_before=run_before)
    finally:
        app.store.close()


async def test_y_offers_the_version_and_alias_uris(registry_dir, tmp_path):
    from tracktui.tui.screens.copy_menu import CopyMenu

    app = make_app(f"sqlite:///{registry_dir / 'mlflow.db'}", tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_versions(pilot)
        await pilot.press("down", "y")  # v2
        await until(pilot, lambda: isinstance(pilot.app.screen, CopyMenu))
        texts = [text for _letter, _what, text in pilot.app.screen.choices]
        assert texts[:2] == ["models:/bert-classifier/2", "models:/bert-classifier@champion"]
        assert B_RUN in texts
        await pilot.press("escape")
        await pilot.app.push_screen(PromptScreen("summarize"))
        await until(pilot, lambda: len(pilot.app.screen.versions) == 2)
        await pilot.press("y")
        await until(pilot, lambda: isinstance(pilot.app.screen, CopyMenu))
        texts = [text for _letter, _what, text in pilot.app.screen.choices]
        assert texts[:2] == ["prompts:/summarize/2", "prompts:/summarize@production"]
        assert SUMMARIZE_V2 in texts
    app.store.close()
