"""A picture fitted to the space it is given, drawn by textual-image, or a line saying why not.

textual-image draws with the Kitty graphics protocol or Sixel where the terminal answers for
them, and with Unicode half blocks (two pixels a cell, 24-bit colour) everywhere else, SSH and
tmux included. It must ask the terminal before Textual owns it: `probe_terminal()` runs in the
CLI just before the app starts. Asking costs start-up time (numpy's import, and up to 0.1 s per
question a terminal leaves unanswered), so by default it asks only terminals whose environment
names one that draws pictures (kitty, WezTerm, iTerm2, foot, Konsole, …, outside tmux); the
rest get half blocks at no cost. `TRACKTUI_IMAGE_RENDERER` overrides: `probe` always asks,
`kitty`, `sixel`, `halfcell` or `unicode` force a renderer; tests use `halfcell` for
deterministic snapshots.

The widget only displays: the screen decodes in a worker (tui/image_decode.py), asking
`pixel_box()` for the size to decode to, and hands the result to `show_image`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Static

from ..image_decode import DisplayImage
from ..safe_text import plain

RENDERER_ENV = "TRACKTUI_IMAGE_RENDERER"
#: Environment variables (name → values, None for any) set by terminals that draw pictures.
_GRAPHICS_TERMINALS: dict[str, tuple[str, ...] | None] = {
    "KITTY_WINDOW_ID": None, "KONSOLE_VERSION": None, "WEZTERM_EXECUTABLE": None,
    "TERM_PROGRAM": ("WezTerm", "iTerm.app", "ghostty", "mintty", "rio"),
    "TERM": ("xterm-kitty", "foot", "foot-extra", "mlterm", "wezterm", "xterm-ghostty", "contour"),
}
_probed = False


def probe_terminal() -> None:
    """Let textual-image ask the terminal for its graphics protocols and cell size (only possible
    before Textual reads stdin): with `probe`, or `auto` on a terminal known to draw pictures."""
    global _probed
    choice = _choice()
    if sys.__stdout__ is None or not sys.__stdout__.isatty() or choice not in ("auto", "probe"):
        return
    if choice == "auto" and not _names_a_graphics_terminal(os.environ):
        return
    try:
        import textual_image.widget  # noqa: F401 - the import asks the terminal
    except Exception:  # noqa: BLE001 - a terminal that answers oddly gets half blocks
        return
    _probed = True


def _names_a_graphics_terminal(env) -> bool:
    if env.get("TMUX"):  # tmux passes neither protocol through by default
        return False
    return any(name in env and (values is None or env[name] in values) for name, values in _GRAPHICS_TERMINALS.items())


def _choice() -> str:
    return os.environ.get(RENDERER_ENV, "auto").strip().lower()


def picture_widget_class() -> Callable[..., Widget]:
    """The textual-image widget for this terminal (or the one `TRACKTUI_IMAGE_RENDERER` names)."""
    from textual_image import widget as images

    chosen: dict[str, Callable[..., Widget]] = {
        "kitty": images.TGPImage, "tgp": images.TGPImage, "sixel": images.SixelImage,
        "halfcell": images.HalfcellImage, "unicode": images.UnicodeImage,
    }
    # textual-image's own choice only after it asked the terminal; else half blocks
    return chosen.get(_choice(), images.Image if _probed else images.HalfcellImage)


def cell_pixels() -> tuple[int, int]:
    """A terminal cell's size in pixels, as textual-image measured it (10 × 20 when unknown)."""
    from textual_image._terminal import get_cell_size  # cached; measured by probe_terminal()

    cell = get_cell_size()
    return cell.width, cell.height


def pixel_box(columns: int, rows: int) -> tuple[int, int]:
    """The pixels that fill `columns` × `rows` cells (what a worker should decode to): a half
    block shows 1 × 2 pixels a cell, so decoding to more only costs time (bench/bench_images.py)."""
    from textual_image import widget as images

    renderer = picture_widget_class()
    if renderer in (images.HalfcellImage, images.UnicodeImage):
        width, height = 1, 2
    else:
        width, height = cell_pixels()
    return max(columns, 8) * width, max(rows, 4) * height


class ImageView(Vertical):
    """The picture, as large as the view allows with its proportions kept, or a message."""

    DEFAULT_CSS = """
    ImageView { height: 1fr; min-height: 3; }
    ImageView > .image-message { color: $text-muted; height: auto; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._picture: Widget | None = None
        self.shown: DisplayImage | None = None

    def compose(self):
        yield Static("", classes="image-message", markup=False)

    def show_image(self, image: DisplayImage) -> None:
        """Draw `image` fitted to the view; the message line is hidden."""
        self.shown = image
        message = self.query_one(".image-message", Static)
        message.display = False
        if self._picture is None:
            self._picture = picture_widget_class()(image.picture, classes="image-picture")
            self._size_picture()
            self.mount(self._picture)
        else:
            self._size_picture()
            self._picture.image = image.picture  # type: ignore[attr-defined]
            self._picture.display = True

    def on_resize(self) -> None:
        self._size_picture()

    def _size_picture(self) -> None:
        """Cells (columns, rows) of the largest box with the picture's proportions in the view."""
        if self._picture is None or self.shown is None:
            return
        picture = self.shown.picture
        cell_width, cell_height = cell_pixels()
        columns, rows = max(self.size.width, 8), max(self.size.height, 4)
        scale = min(columns * cell_width / picture.width, rows * cell_height / picture.height)
        self._picture.styles.width = max(1, min(columns, round(picture.width * scale / cell_width)))
        self._picture.styles.height = max(1, min(rows, round(picture.height * scale / cell_height)))

    def show_message(self, text: str) -> None:
        """A line instead of the picture: loading, too big, cannot decode."""
        self.shown = None
        if self._picture is not None:
            self._picture.display = False
        message = self.query_one(".image-message", Static)
        message.display = True
        message.update(plain(text, multiline=True))
