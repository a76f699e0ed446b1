"""The Images tab of a run: images logged with `log_image(key=…, step=…)`, by key, with a step
slider.

Keys are listed on the left (with how many steps each has); the picture of the highlighted key
at the current step fills the right. `,` `.` (or `←` `→`) move through the steps; moving to
another key keeps the step when that key has it. The widget only displays: it asks for the
decoded picture with `ImageWanted` and the screen answers with `show_image`.
"""

from __future__ import annotations

from bisect import bisect_left

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tracktui.store.artifacts.logged_images import LoggedImage

from ..image_decode import DisplayImage, NotShown, caption
from ..safe_text import plain
from .image_view import ImageView, pixel_box

#: Cells of the step slider's track.
SLIDER_WIDTH = 24


class ImageKeyList(OptionList):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]


class LoggedImagesPanel(Horizontal):
    """Keys on the left; the image at the chosen step, its slider and caption on the right."""

    DEFAULT_CSS = """
    LoggedImagesPanel { height: 1fr; }
    LoggedImagesPanel ImageKeyList { width: 30; max-width: 40%; border: none; border-right: solid $panel; }
    LoggedImagesPanel #images-right { width: 1fr; padding: 0 1; }
    LoggedImagesPanel .images-head { color: $text-muted; text-style: bold; height: 1; }
    LoggedImagesPanel .images-slider { height: 1; }
    LoggedImagesPanel .images-caption { color: $text-muted; height: 1; }
    """

    BINDINGS = [
        Binding("full_stop,right", "step(1)", "Next step", id="run.images.next_step"),
        Binding("comma,left", "step(-1)", "Previous step", id="run.images.previous_step"),
    ]

    class ImageWanted(Message):
        """The picture at `path` should be decoded to fit `box` pixels."""

        def __init__(self, path: str, box: tuple[int, int]) -> None:
            super().__init__()
            self.path, self.box = path, box

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.images: dict[str, list[LoggedImage]] = {}
        self.key: str | None = None
        self.index = 0
        self._requested: str | None = None

    def compose(self) -> ComposeResult:
        yield ImageKeyList(id="images-keys")
        with Vertical(id="images-right"):
            yield Static("", classes="images-head", markup=False)
            yield Static("", classes="images-slider", markup=False)
            yield Static("", classes="images-caption", markup=False)
            yield ImageView(id="images-view")

    def focus_keys(self) -> None:
        self.query_one(ImageKeyList).focus()

    # -- what the screen hands us ---------------------------------------------------------------

    def show_images(self, images: dict[str, list[LoggedImage]]) -> None:
        """The run's logged images by key (as store.list_logged_images returns them)."""
        self.images, self.key, self.index = images, None, 0  # a reload may bring other files
        keys = self.query_one(ImageKeyList)
        keys.clear_options()
        keys.add_options([Option(key_label(key, len(steps)), id=key) for key, steps in images.items()])
        if images:
            keys.highlighted = 0
            self._choose(next(iter(images)), 0)
        else:
            self.query_one(ImageView).show_message("No images logged with log_image(key=…, step=…).")

    def show_image(self, result: DisplayImage | NotShown) -> None:
        """The decoded picture (or why not) for the image still chosen."""
        current = self.current
        if current is None or result.path != current.path:
            return
        view = self.query_one(ImageView)
        if isinstance(result, NotShown):
            view.show_message(result.reason)
            self.query_one(".images-caption", Static).update("")
        else:
            view.show_image(result)
            self.query_one(".images-caption", Static).update(plain(caption(result)))

    # -- the choice -----------------------------------------------------------------------------

    @property
    def current(self) -> LoggedImage | None:
        """The image shown (the chosen key at the chosen step)."""
        if self.key is None or self.key not in self.images:
            return None
        return self.images[self.key][self.index]

    def action_step(self, delta: int) -> None:
        if self.key is not None:
            self._choose(self.key, max(0, min(self.index + delta, len(self.images[self.key]) - 1)))

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        key = event.option.id
        if key is None or key == self.key:
            return
        step = self.current.step if self.current is not None else None
        self._choose(key, _index_of_step(self.images[key], step))

    def _choose(self, key: str, index: int) -> None:
        if key == self.key and index == self.index and self.current is not None and self.query_one(ImageView).shown:
            return
        self.key, self.index = key, index
        image = self.images[key][index]
        steps = self.images[key]
        self.query_one(".images-head", Static).update(plain(f"{key} · step {image.step}"))
        self.query_one(".images-slider", Static).update(slider(index, len(steps), steps[0].step, steps[-1].step))
        self.query_one(".images-caption", Static).update("")
        self.query_one(ImageView).show_message("decoding…")
        self._requested = None
        self._request()

    def on_resize(self) -> None:
        self._request()  # the tab just became visible: now the picture's size is known

    def _request(self) -> None:
        """Ask for the chosen picture, once, and only while the tab is on screen."""
        image, right = self.current, self.query_one("#images-right").content_size
        if image is None or right.width == 0 or self._requested == image.path:
            return
        self._requested = image.path
        self.post_message(self.ImageWanted(image.path, pixel_box(right.width, right.height - 3)))


def key_label(key: str, steps: int) -> Text:
    return Text.assemble(plain(key), (f"  {steps} step{'s' if steps != 1 else ''}", "dim"))


def _index_of_step(images: list[LoggedImage], step: int | None) -> int:
    """The image at `step` in a key's list, else the nearest earlier one, else the first."""
    if step is None:
        return 0
    steps = [image.step for image in images]
    position = bisect_left(steps, step)
    if position < len(steps) and steps[position] == step:
        return position
    return max(0, position - 1)


def slider(index: int, count: int, first: int, last: int) -> Text:
    """`0 ━━━━●━━━━━ 9   3 of 10`: where the shown step sits among the key's steps."""
    track = SLIDER_WIDTH
    at = 0 if count <= 1 else round(index * (track - 1) / (count - 1))
    return Text.assemble(
        (f"{first} ", "dim"), ("━" * at, "dim"), ("●", "bold"), ("━" * (track - 1 - at), "dim"),
        (f" {last}", "dim"), f"   {index + 1} of {count}",
    )
