"""The compare screen's Images tab: the same logged-image key at the same step, one picture per
run, side by side.

Keys (of any compared run) are listed on the left; `,` `.` (or `←` `→`) move through every step
any run logged for that key. A run with no image at that step says so in its column. At most
`IMAGE_RUNS` runs are shown (a terminal has no room for more pictures). The widget only
displays: it asks for each picture with `ImageWanted`, the screen answers with `show_image`.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from tracktui.store.artifacts.logged_images import LoggedImage

from ..image_decode import DisplayImage, NotShown, caption
from ..safe_text import plain
from .image_view import ImageView, pixel_box
from .logged_images import ImageKeyList, key_label, slider

#: Runs shown side by side at most.
IMAGE_RUNS = 4


class CompareImages(Horizontal):
    """Keys on the left; one column per run with its picture of the chosen key and step."""

    DEFAULT_CSS = """
    CompareImages { height: 1fr; }
    CompareImages ImageKeyList { width: 26; max-width: 35%; border: none; border-right: solid $panel; }
    CompareImages #compare-images-right { width: 1fr; }
    CompareImages .images-head { color: $text-muted; text-style: bold; height: 1; padding: 0 1; }
    CompareImages .images-slider { height: 1; padding: 0 1; }
    CompareImages #compare-image-columns { height: 1fr; }
    CompareImages .compare-image-column { width: 1fr; padding: 0 1; }
    CompareImages .compare-image-run { text-style: bold; height: 1; }
    CompareImages .images-caption { color: $text-muted; height: 1; }
    """

    BINDINGS = [
        Binding("full_stop,right", "step(1)", "Next step", id="compare.images.next_step"),
        Binding("comma,left", "step(-1)", "Previous step", id="compare.images.previous_step"),
    ]

    class ImageWanted(Message):
        """Run `run_id`'s picture at `path` should be decoded to fit `box` pixels."""

        def __init__(self, run_id: str, path: str, box: tuple[int, int]) -> None:
            super().__init__()
            self.run_id, self.path, self.box = run_id, path, box

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.runs: list[tuple[str, str]] = []  # (run id, name) shown, in order
        self.images: dict[str, dict[str, list[LoggedImage]]] = {}  # run id → key → images
        self.key: str | None = None
        self.steps: list[int] = []
        self.index = 0
        self._requested: dict[str, str | None] = {}

    def compose(self) -> ComposeResult:
        yield ImageKeyList(id="compare-images-keys")
        with Vertical(id="compare-images-right"):
            yield Static("", classes="images-head", markup=False)
            yield Static("", classes="images-slider", markup=False)
            yield Horizontal(id="compare-image-columns")

    def focus_keys(self) -> None:
        self.query_one(ImageKeyList).focus()

    async def show_runs_images(self, runs: Sequence[tuple[str, str]], images: dict[str, dict[str, list[LoggedImage]]],
                         total_runs: int) -> None:
        """`runs` (id, name) in order with their logged images; `total_runs` had some."""
        self.runs, self.images = list(runs), images
        columns = self.query_one("#compare-image-columns", Horizontal)
        await columns.remove_children()
        await columns.mount_all(_run_column(i, name) for i, (_run_id, name) in enumerate(self.runs))
        keys = sorted({key for by_key in images.values() for key in by_key})
        key_list = self.query_one(ImageKeyList)
        key_list.clear_options()
        key_list.add_options([Option(key_label(key, len(self._steps_of(key))), id=key) for key in keys])
        more = f" (the first {len(self.runs)} of {total_runs} runs)" if total_runs > len(self.runs) else ""
        self.query_one(".images-head", Static).update(plain(f"no images{more}" if not keys else more))
        if keys:
            key_list.highlighted = 0
            self._choose(keys[0], 0)

    def show_image(self, run_id: str, result: DisplayImage | NotShown) -> None:
        """The decoded picture (or why not) for `run_id`, if it is still the one chosen."""
        if run_id not in self._requested or self._requested[run_id] != result.path:
            return
        position = [r for r, _ in self.runs].index(run_id)
        view = self.query_one(f"#compare-image-{position}", ImageView)
        label = self.query_one(f"#compare-image-caption-{position}", Static)
        if isinstance(result, NotShown):
            view.show_message(result.reason)
            label.update("")
        else:
            view.show_image(result)
            label.update(plain(caption(result)))

    def image_of(self, run_id: str) -> LoggedImage | None:
        """Run `run_id`'s image at the chosen key and step, if it logged one."""
        if self.key is None or not self.steps:
            return None
        step = self.steps[self.index]
        matches = [i for i in self.images.get(run_id, {}).get(self.key, []) if i.step == step]
        return matches[-1] if matches else None  # the latest when a step was logged twice

    def action_step(self, delta: int) -> None:
        if self.key is not None and self.steps:
            self._choose(self.key, max(0, min(self.index + delta, len(self.steps) - 1)))

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        key = event.option.id
        if key is not None and key != self.key:
            step = self.steps[self.index] if self.steps else None
            steps = self._steps_of(key)
            self._choose(key, steps.index(step) if step in steps else 0)

    def on_resize(self) -> None:
        self._request()  # the tab just became visible: now the columns' size is known

    def _steps_of(self, key: str) -> list[int]:
        return sorted({i.step for by_key in self.images.values() for i in by_key.get(key, [])})

    def _choose(self, key: str, index: int) -> None:
        self.key, self.steps, self.index = key, self._steps_of(key), index
        if not self.steps:
            return
        self.query_one(".images-head", Static).update(plain(f"{key} · step {self.steps[index]}"))
        self.query_one(".images-slider", Static).update(slider(index, len(self.steps), self.steps[0], self.steps[-1]))
        self._requested = {}
        for position, (run_id, _name) in enumerate(self.runs):
            self.query_one(f"#compare-image-caption-{position}", Static).update("")
            image = self.image_of(run_id)
            self.query_one(f"#compare-image-{position}", ImageView).show_message(
                "decoding…" if image else f"no {key} image at step {self.steps[index]}")
        self._request()

    def _request(self) -> None:
        """Ask for each run's picture once, and only while the tab is on screen."""
        for position, (run_id, _name) in enumerate(self.runs):
            image = self.image_of(run_id)
            view = self.query_one(f"#compare-image-{position}", ImageView)
            if image is None or view.size.width == 0 or self._requested.get(run_id) == image.path:
                continue
            self._requested[run_id] = image.path
            self.post_message(self.ImageWanted(run_id, image.path, pixel_box(view.size.width, view.size.height)))


def _run_column(position: int, name: str) -> Vertical:
    return Vertical(
        Label(plain(name), classes="compare-image-run"),
        Static("", id=f"compare-image-caption-{position}", classes="images-caption", markup=False),
        ImageView(id=f"compare-image-{position}"),
        classes="compare-image-column",
    )
