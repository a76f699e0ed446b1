"""Images: inline previews in the Artifacts tab (decoded in a worker, fitted to the pane, a
bounded read), drawn with half blocks in tests (TRACKTUI_IMAGE_RENDERER=halfcell)."""

from __future__ import annotations

import pytest
from action_helpers import app_on_copy, writable_copy
from image_store import ImageRun, build_image_runs
from pilot_helpers import settle
from test_artifacts_tab import highlight, node_for, open_artifacts, preview_text

from tracktui.tui.widgets.image_view import ImageView

pytestmark = pytest.mark.anyio


@pytest.fixture
def image_run(demo_store_uri, tmp_path) -> ImageRun:
    return build_image_runs(writable_copy(demo_store_uri, tmp_path), tmp_path)


def shown_picture(view: ImageView):
    picture = view.query_one(".image-picture")
    assert picture.display and view.shown is not None
    return view.shown, picture


async def test_jpeg_artifact_previews_inline_fitted_to_the_pane(image_run, tmp_path):
    app = app_on_copy(image_run.uri, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        browser = await open_artifacts(pilot, image_run.run_id)
        node_for(browser, "plots").expand()
        await settle(pilot)
        await highlight(pilot, browser, "plots/photo.jpg")
        assert preview_text(browser).startswith("JPEG image, 400 × 300 px")
        view = browser.query_one("#artifact-image", ImageView)
        shown, picture = shown_picture(view)
        assert (shown.format, shown.width, shown.height) == ("jpeg", 400, 300)
        # fitted: as wide or as tall as the view, proportions kept (a cell is 1 × 2 pixels here)
        width, height = picture.size
        assert width == view.size.width or height == view.size.height
        assert abs(width / (height * 2) - 400 / 300) < 0.1
        assert width <= view.size.width and height <= view.size.height


async def open_images_tab(pilot, run_id: str):
    from tracktui.tui.screens.run import RunScreen
    from tracktui.tui.widgets.logged_images import LoggedImagesPanel

    await pilot.app.push_screen(RunScreen(run_id))
    await settle(pilot)
    await pilot.press("8")
    await settle(pilot)
    return pilot.app.screen.query_one(LoggedImagesPanel)


def head_and_slider(panel) -> tuple[str, str]:
    return str(panel.query_one(".images-head").render()), str(panel.query_one(".images-slider").render())


async def test_images_tab_groups_by_key_and_steps_through(image_run, tmp_path):
    app = app_on_copy(image_run.uri, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        panel = await open_images_tab(pilot, image_run.run_id)
        assert app.screen.active_tab == "images"
        keys = panel.query_one("#images-keys")
        assert [str(keys.get_option_at_index(i).prompt) for i in range(keys.option_count)] == [
            "confusion  3 steps", "samples/pred  2 steps"]
        assert head_and_slider(panel)[0] == "confusion · step 0"
        assert head_and_slider(panel)[1].endswith("1 of 3")
        shown, _picture = shown_picture(panel.query_one(ImageView))
        assert (shown.format, shown.width, shown.height) == ("png", 64, 48)
        assert shown.picture.getpixel((2, 2)) == (220, 40, 40)  # step 0's top-left quadrant
        await pilot.press("full_stop")
        await settle(pilot)
        assert head_and_slider(panel)[0] == "confusion · step 1"
        assert panel.query_one(ImageView).shown.picture.getpixel((2, 2)) == (40, 200, 60)
        await pilot.press("right", "right")  # stops at the last step
        await settle(pilot)
        assert head_and_slider(panel)[0] == "confusion · step 2" and head_and_slider(panel)[1].endswith("3 of 3")
        await pilot.press("comma")
        await settle(pilot)
        assert head_and_slider(panel)[0] == "confusion · step 1"
        await pilot.press("down")  # samples/pred has steps 0 and 3: step 1 → the one before, 0
        await settle(pilot)
        assert head_and_slider(panel)[0] == "samples/pred · step 0"
        await pilot.press("left", "right")
        await settle(pilot)
        assert head_and_slider(panel)[0] == "samples/pred · step 3"
        image = panel.current
        assert image.path.startswith("images/samples~pred+step+3+") and image.path.endswith(".png")
        await pilot.press("y")
        await settle(pilot)
        await pilot.press("p")
        assert app.clipboard == image.path
        await pilot.press("D")
        await settle(pilot)
        from tracktui.tui.screens.download import DownloadScreen

        assert isinstance(app.screen, DownloadScreen)
        app.screen.query_one("#download-dest").value = str(tmp_path / "got")
        await pilot.press("enter")
        await settle(pilot)
    landed = tmp_path / "got" / image.path
    from PIL import Image

    with Image.open(landed) as picture:
        assert picture.size == (64, 48)


async def test_images_tab_is_hidden_for_runs_without_logged_images(image_run, tmp_path):
    from tracktui.tui.screens.run import RunScreen

    app = app_on_copy(image_run.uri, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        exp = app.store.get_experiment_by_name("mnist-classifier")
        run_id = app.store.search_runs([exp.id], max_results=1).items[0].id
        await pilot.app.push_screen(RunScreen(run_id))
        await settle(pilot)
        await pilot.press("8")
        await settle(pilot)
        assert app.screen.active_tab == "overview"
        assert [n.message for n in app._notifications][-1].startswith("This run has no images logged")
        await pilot.press("left_square_bracket")  # wraps past the hidden tab to Traces
        await settle(pilot)
        assert app.screen.active_tab == "traces"


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_snapshot_inline_image_preview(snap_compare, image_run, tmp_path, size):
    async def run_before(pilot):
        browser = await open_artifacts(pilot, image_run.run_id)
        node_for(browser, "plots").expand()
        await settle(pilot)
        await highlight(pilot, browser, "plots/photo.jpg")
        browser.query_one(".artifact-uri").update("/images/<run>/artifacts")  # the temp path varies

    assert snap_compare(app_on_copy(image_run.uri, tmp_path), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_snapshot_images_tab(snap_compare, image_run, tmp_path, size):
    async def run_before(pilot):
        await open_images_tab(pilot, image_run.run_id)
        await pilot.press("full_stop")
        await settle(pilot)

    assert snap_compare(app_on_copy(image_run.uri, tmp_path), terminal_size=size, run_before=run_before)


async def test_too_big_images_are_not_read_and_broken_ones_say_so(image_run, tmp_path, monkeypatch):
    from tracktui.tui import image_decode

    monkeypatch.setattr(image_decode, "IMAGE_READ_CAP", 4096)
    app = app_on_copy(image_run.uri, tmp_path)
    reads: list[str] = []
    read = app.store.read_artifact_bytes
    monkeypatch.setattr(app.store, "read_artifact_bytes", lambda run_id, path, limit: reads.append(path) or read(
        run_id, path, limit))
    async with app.run_test(size=(120, 40)) as pilot:
        browser = await open_artifacts(pilot, image_run.run_id)
        node_for(browser, "plots").expand()
        await settle(pilot)
        await highlight(pilot, browser, "plots/photo.jpg")  # 4.3 KiB, listed with its size
        message = str(browser.query_one("#artifact-image .image-message").render())
        assert message == "Too big to preview (4.3 KiB; the limit is 4.0 KiB). Press D to download it."
        await highlight(pilot, browser, "plots/fake.png")
        message = str(browser.query_one("#artifact-image .image-message").render())
        assert message.startswith("Cannot decode this image:")
    assert reads == ["plots/fake.png"]


async def open_compare_images(pilot, run_ids):
    from tracktui.tui.screens.compare import CompareScreen
    from tracktui.tui.widgets.compare_images import CompareImages

    await pilot.app.push_screen(CompareScreen(run_ids))
    await settle(pilot)
    await pilot.press("3")
    await settle(pilot)
    return pilot.app.screen.query_one(CompareImages)


def top_left_colours(panel, count: int) -> list:
    return [panel.query_one(f"#compare-image-{i}", ImageView).shown.picture.getpixel((2, 2)) for i in range(count)]


async def test_compare_shows_the_same_key_and_step_side_by_side(image_run, tmp_path):
    app = app_on_copy(image_run.uri, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        panel = await open_compare_images(pilot, [image_run.run_id, image_run.other_run_id])
        assert app.screen.query_one("#compare-tabs").active == "compare-images"
        assert [name for _id, name in panel.runs] == ["vision-a", "vision-b"]
        assert str(panel.query_one(".images-head").render()) == "confusion · step 0"
        # vision-b logged each step with the colours of the next one (see image_store.py)
        assert top_left_colours(panel, 2) == [(220, 40, 40), (40, 200, 60)]
        await pilot.press("full_stop")
        await settle(pilot)
        assert str(panel.query_one(".images-head").render()) == "confusion · step 1"
        assert top_left_colours(panel, 2) == [(40, 200, 60), (40, 80, 230)]
        await pilot.press("down", "right")  # samples/pred: steps 0 and 3
        await settle(pilot)
        assert str(panel.query_one(".images-head").render()) == "samples/pred · step 3"
        assert [panel.image_of(run_id).step for run_id, _ in panel.runs] == [3, 3]


async def test_compare_without_logged_images_has_no_images_tab(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        exp = app.store.get_experiment_by_name("mnist-classifier")
        run_ids = [r.id for r in app.store.search_runs([exp.id], max_results=2).items]
        await open_compare_images(pilot, run_ids)
        assert app.screen.query_one("#compare-tabs").active == "compare-charts"
        assert [n.message for n in app._notifications][-1].startswith("None of these runs logged images")


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_snapshot_compare_images(snap_compare, image_run, tmp_path, size):
    async def run_before(pilot):
        await open_compare_images(pilot, [image_run.run_id, image_run.other_run_id])

    assert snap_compare(app_on_copy(image_run.uri, tmp_path), terminal_size=size, run_before=run_before)


def test_only_terminals_that_draw_pictures_are_asked():
    from tracktui.tui.widgets.image_view import _names_a_graphics_terminal

    assert _names_a_graphics_terminal({"TERM": "xterm-kitty"})
    assert _names_a_graphics_terminal({"TERM": "xterm-256color", "TERM_PROGRAM": "WezTerm"})
    assert not _names_a_graphics_terminal({"TERM": "xterm-256color"})  # half blocks, nothing asked
    assert not _names_a_graphics_terminal({"TERM": "xterm-kitty", "TMUX": "/tmp/tmux-0/default,1,0"})
