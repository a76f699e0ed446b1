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
