"""The Artifacts tab: lazy tree, previews by kind, download with progress into a chosen
directory (bytes compared with the originals)."""

from __future__ import annotations

from pathlib import Path

import pytest
from action_helpers import app_on_copy, writable_copy
from pilot_helpers import settle, type_text

from tracktui.store import open_store
from tracktui.store.artifacts.local import local_path_of
from tracktui.tui.screens.download import DownloadScreen
from tracktui.tui.screens.run import RunScreen
from tracktui.tui.widgets.artifact_browser import ArtifactBrowser

pytestmark = pytest.mark.anyio


@pytest.fixture
def store_copy(demo_store_uri, tmp_path) -> str:
    return writable_copy(demo_store_uri, tmp_path)


@pytest.fixture
def model_run(store_copy) -> tuple[str, Path]:
    """A demo run with the model artifacts (config.yaml, model/, eval/...): id and local root."""
    with open_store(store_copy, read_only=True) as store:
        exp = store.get_experiment_by_name("mnist-classifier")
        for run in store.search_runs([exp.id], "", ["attributes.start_time ASC"], "active", 100, None, None).items:
            names = {e.name for e in store.list_artifacts(run.id, "")}
            if {"config.yaml", "model", "eval"} <= names:
                return run.id, local_path_of(run.artifact_uri)
    raise AssertionError("the demo store has no run with model artifacts")


def labels(node) -> list[str]:
    return [str(child.label) for child in node.children]


def node_for(browser: ArtifactBrowser, path: str):
    return browser._tree_nodes[path]


async def open_artifacts(pilot, run_id: str) -> ArtifactBrowser:
    await pilot.app.push_screen(RunScreen(run_id))
    await settle(pilot)
    await pilot.press("6")
    await settle(pilot)
    return pilot.app.screen.query_one(ArtifactBrowser)


async def highlight(pilot, browser: ArtifactBrowser, path: str) -> None:
    browser.artifact_tree.move_cursor(node_for(browser, path))
    await settle(pilot)


def preview_text(browser: ArtifactBrowser) -> str:
    return str(browser.preview_text.body.render())


async def test_tree_lists_one_level_and_loads_folders_on_expand(store_copy, model_run, tmp_path):
    run_id, _root = model_run
    app = app_on_copy(store_copy, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        browser = await open_artifacts(pilot, run_id)
        root = browser.artifact_tree.root
        assert sorted(label.split("  ")[0] for label in labels(root)) == ["README.md", "config.yaml", "eval/", "model/"]
        model = node_for(browser, "model")
        assert labels(model) == ["loading…"]  # not listed until opened
        assert "model/data" not in browser._tree_nodes
        model.expand()
        await settle(pilot)
        assert sorted(label.split("  ")[0] for label in labels(model)) == ["MLmodel", "data/", "requirements.txt"]


async def test_previews_text_yaml_csv_and_refuses_binary(store_copy, model_run, tmp_path):
    run_id, root = model_run
    app = app_on_copy(store_copy, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        browser = await open_artifacts(pilot, run_id)
        await highlight(pilot, browser, "config.yaml")
        assert preview_text(browser) == (root / "config.yaml").read_text().rstrip("\n")
        assert "config.yaml · yaml" in str(browser.query_one("#artifact-preview-head").render())
        node_for(browser, "eval").expand()
        await settle(pilot)
        await highlight(pilot, browser, "eval/confusion_matrix.csv")
        table = browser.query_one("#artifact-preview-table")
        assert table.display and table.row_count == 10 and len(table.columns) == 11
        assert str(table.get_row_at(3)[4]) == "97"  # cells are inert Text, never markup
        node_for(browser, "model").expand()
        await settle(pilot)
        node_for(browser, "model/data").expand()
        await settle(pilot)
        await highlight(pilot, browser, "model/data/model.pth")
        assert not browser.query_one("#artifact-preview-table").display
        assert preview_text(browser).startswith("Binary file (4.0 KiB): no preview.")
        assert preview_text(browser).count("4.0 KiB") == 1  # said once


def tiny_png(width: int, height: int) -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


async def test_image_preview_names_format_and_pixel_size(store_copy, tmp_path):
    from action_helpers import mlflow_client

    client = mlflow_client(store_copy)
    exp_id = client.create_experiment("images", artifact_location=str(tmp_path / "artifacts"))
    run_id = client.create_run(exp_id).info.run_id
    picture = tmp_path / "pic.png"
    picture.write_bytes(tiny_png(3, 2))
    client.log_artifact(run_id, str(picture))
    app = app_on_copy(store_copy, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        browser = await open_artifacts(pilot, run_id)
        await highlight(pilot, browser, "pic.png")
        assert preview_text(browser).startswith(f"PNG image, 3 × 2 px, {picture.stat().st_size} B.")


async def test_download_folder_with_progress_lands_the_same_bytes(store_copy, model_run, tmp_path):
    run_id, root = model_run
    dest = tmp_path / "downloads"
    app = app_on_copy(store_copy, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        browser = await open_artifacts(pilot, run_id)
        await highlight(pilot, browser, "model")
        await pilot.press("D")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DownloadScreen)
        assert screen.query_one("#download-dest").value == str(Path.cwd())  # default: here
        screen.query_one("#download-dest").value = str(dest)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RunScreen)
        landed = [n.message for n in app._notifications if n.title == "Downloaded"]
        assert landed == [f"Downloaded model to {(dest / 'model').resolve()}"]
    files = sorted(p.relative_to(root).as_posix() for p in (root / "model").rglob("*") if p.is_file())
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()) == files
    for rel in files:
        assert (dest / rel).read_bytes() == (root / rel).read_bytes()


async def test_download_refuses_to_overwrite_inline_then_overwrites_when_ticked(store_copy, model_run, tmp_path):
    run_id, root = model_run
    dest = tmp_path / "downloads"
    (dest).mkdir()
    (dest / "config.yaml").write_text("mine\n")
    app = app_on_copy(store_copy, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        browser = await open_artifacts(pilot, run_id)
        await highlight(pilot, browser, "config.yaml")
        await pilot.press("D")
        await settle(pilot)
        screen = app.screen
        screen.query_one("#download-dest").value = str(dest)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        assert "Overwrite" in str(screen.query_one("#download-error").render())
        assert (dest / "config.yaml").read_text() == "mine\n"
        screen.query_one("#download-overwrite").value = True
        screen.query_one("#download-dest").focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RunScreen)
    assert (dest / "config.yaml").read_bytes() == (root / "config.yaml").read_bytes()


async def test_cancel_during_download_leaves_no_file(store_copy, model_run, tmp_path):
    """Esc while the first progress update is on screen: the worker is held in that update
    (call_from_thread), so the cancel is seen before the file is published, every time."""
    run_id, _root = model_run
    dest = tmp_path / "downloads"
    app = app_on_copy(store_copy, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        browser = await open_artifacts(pilot, run_id)
        await highlight(pilot, browser, "config.yaml")
        await pilot.press("D")
        await settle(pilot)
        screen = app.screen
        shown = screen._progress

        def progress_then_escape(update):
            shown(update)
            assert screen.query_one("#download-progress").display
            screen.action_cancel()  # what esc does while a download runs

        screen._progress = progress_then_escape
        screen.query_one("#download-dest").value = str(dest)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RunScreen)
        assert any(n.message.startswith("Download cancelled") for n in app._notifications)
    assert not (dest / "config.yaml").exists()
    assert [p.name for p in dest.iterdir()] == []  # no temp file left either


async def test_escape_before_starting_closes_without_downloading(store_copy, model_run, tmp_path):
    run_id, _root = model_run
    app = app_on_copy(store_copy, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        browser = await open_artifacts(pilot, run_id)
        await highlight(pilot, browser, "config.yaml")
        await pilot.press("D")
        await settle(pilot)
        app.screen.query_one("#download-dest").value = str(tmp_path / "nowhere")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, RunScreen)
    assert not (tmp_path / "nowhere").exists()


async def test_copy_artifact_uri_of_the_selected_file(store_copy, model_run, tmp_path):
    run_id, root = model_run
    app = app_on_copy(store_copy, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        browser = await open_artifacts(pilot, run_id)
        await highlight(pilot, browser, "config.yaml")
        await pilot.press("y")
        await settle(pilot)
        await pilot.press("a")
        assert app.clipboard == browser.artifact_uri.rstrip("/") + "/config.yaml"


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_snapshot_artifacts_tab_yaml_preview(snap_compare, store_copy, model_run, tmp_path, size):
    run_id, _root = model_run

    async def run_before(pilot):
        browser = await open_artifacts(pilot, run_id)
        await highlight(pilot, browser, "config.yaml")
        browser.query_one(".artifact-uri").update("/demo/mlruns/1/<run>/artifacts")  # the temp path varies

    assert snap_compare(app_on_copy(store_copy, tmp_path), terminal_size=size, run_before=run_before)


async def test_proxied_artifacts_opened_from_the_database_say_what_to_do(store_copy, tmp_path):
    """Artifacts behind a tracking server's proxy cannot be read from the database file: the
    reason is shown whole beside the tree (not cut in the tree's narrow column)."""
    with open_store(store_copy) as store:
        exp = store.create_experiment("served", artifact_location="mlflow-artifacts:/served")
        run = store.create_run(exp, name="proxied")
    app = app_on_copy(store_copy, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        browser = await open_artifacts(pilot, run.id)
        text = " ".join(preview_text(browser).split())  # the pane wraps the message
        assert text.startswith("Cannot list this folder:")
        assert f"mlflow-artifacts:/served/{run.id}/artifacts" in text
        assert text.endswith("Open the server's URI instead: tracktui http://host:port")
        assert "A folder" not in text


TRAIN_PY = '''"""Fine-tune and report the loss."""

import math


def fit(epochs: int) -> float:
    loss = 1.0
    for epoch in range(epochs):
        loss = loss * 0.9  # the loss falls
        print(f"epoch {epoch}: loss {loss:.3f}")
    return math.log(loss)
'''


@pytest.fixture
def text_run(store_copy, tmp_path) -> tuple[str, Path]:
    """A run of its own (artifacts in this test's directory) with a training log bigger than
    one preview read and a Python file."""
    from tracktui.store.artifacts.base import PREVIEW_LIMIT

    with open_store(store_copy) as store:
        exp = store.create_experiment("texts", artifact_location=(tmp_path / "texts").as_uri())
        run = store.create_run(exp, name="with-logs")
        store.update_run(run.id, status="FINISHED", end_time=run.start_time + 1000)  # not live: a still picture
    root = local_path_of(run.artifact_uri)
    root.mkdir(parents=True)
    lines, size = [], 0
    while size <= 2 * PREVIEW_LIMIT:
        lines.append(f"step {len(lines):06d} loss {1 / (len(lines) + 1):.6f}\n")
        size += len(lines[-1])
    (root / "train.log").write_text("".join(lines))
    (root / "train.py").write_text(TRAIN_PY)
    return run.id, root


async def test_a_big_log_opens_at_its_end(store_copy, text_run, tmp_path):
    run_id, root = text_run
    last = (root / "train.log").read_text().splitlines()[-1]
    app = app_on_copy(store_copy, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        browser = await open_artifacts(pilot, run_id)
        await highlight(pilot, browser, "train.log")
        head = str(browser.query_one("#artifact-preview-head").render())
        assert "train.log · text" in head and "its end only" in head
        shown = preview_text(browser)
        assert shown.startswith("step ") and shown.endswith(last) and not shown.startswith("step 000000")
        scroll = browser.preview_text.query_one("ScrollableContainer")
        assert scroll.scroll_y == scroll.max_scroll_y > 0  # the last lines are on screen


async def test_slash_searches_the_preview_and_n_N_walk_the_matches(store_copy, text_run, tmp_path):
    run_id, _root = text_run
    app = app_on_copy(store_copy, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        browser = await open_artifacts(pilot, run_id)
        await highlight(pilot, browser, "train.py")
        await pilot.press("slash")
        await type_text(pilot, "loss")
        await pilot.press("enter")
        text = browser.preview_text
        assert text.match_count == 8 and text.current_line == 0
        await pilot.press("n")
        assert text.current_line == 6
        await pilot.press("N", "N")
        assert text.current_line == 10  # wrapped to the last match
        await pilot.press("slash", "escape")  # esc in the search box closes it, not the screen
        assert isinstance(app.screen, RunScreen) and not text.query_one(".search-row").has_class("-open")


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_snapshot_highlighted_python_with_search(snap_compare, store_copy, text_run, tmp_path, size):
    run_id, _root = text_run

    async def run_before(pilot):
        browser = await open_artifacts(pilot, run_id)
        await highlight(pilot, browser, "train.py")
        browser.query_one(".artifact-uri").update("/demo/texts/<run>/artifacts")  # the temp path varies
        await pilot.press("slash")
        await type_text(pilot, "loss")
        await pilot.press("enter", "n")
        await settle(pilot)

    assert snap_compare(app_on_copy(store_copy, tmp_path), terminal_size=size, run_before=run_before)
