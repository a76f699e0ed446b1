"""Artifact images made ready to draw: read with a cap, decoded and shrunk off the UI thread.

`fetch_display_image` runs in a store worker. It never reads more than `IMAGE_READ_CAP` bytes (a
bigger file is refused before a byte is read when the listing gave its size), decodes with
Pillow (JPEG through `draft`, which lets libjpeg decode at 1/2…1/8 scale; GIF's first frame) and
shrinks the picture to the pixels the pane can show, so drawing it on the UI thread is cheap.
bench/bench_images.py times the whole path on a 4-megapixel PNG.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .sizes import human_size

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

    from tracktui.store.base import Store

#: Images above this size are not previewed (D downloads them).
IMAGE_READ_CAP = 32 * 1024 * 1024
#: Longest side of the decoded picture, whatever the pane: a Sixel/Kitty screen needs no more.
MAX_DISPLAY_PIXELS = 2048


@dataclass(frozen=True)
class DisplayImage:
    """A decoded picture sized for the pane, with the original's format and pixel size."""

    path: str
    picture: PILImage
    format: str
    width: int
    height: int
    size: int | None


@dataclass(frozen=True)
class NotShown:
    """Why an image is not drawn (too big, not decodable), in words for the pane."""

    path: str
    reason: str


def fetch_display_image(
    store: Store, run_id: str, path: str, known_size: int | None, box: tuple[int, int]
) -> DisplayImage | NotShown:
    """(In a worker.) Artifact `path` of `run_id` decoded to fit `box` (width, height in pixels).
    Store errors propagate (the worker's one error path reports them)."""
    if known_size is not None and known_size > IMAGE_READ_CAP:
        return _too_big(path, known_size)
    data, size = store.read_artifact_bytes(run_id, path, IMAGE_READ_CAP + 1)
    if len(data) > IMAGE_READ_CAP or (size is not None and size > IMAGE_READ_CAP):
        return _too_big(path, size)
    return decode_for_display(path, data, size, box)


def decode_for_display(path: str, data: bytes, size: int | None, box: tuple[int, int]) -> DisplayImage | NotShown:
    """Decode `data` and shrink it to fit `box` (never enlarged). Undecodable data → NotShown."""
    from PIL import Image, UnidentifiedImageError

    width, height = _fit(box)
    try:
        with Image.open(io.BytesIO(data)) as opened:
            original = opened.size
            kind = (opened.format or "image").lower()
            if kind == "jpeg":
                opened.draft("RGB", (width, height))
            opened.seek(0)  # an animation shows its first frame
            picture = opened.convert("RGBA" if _has_alpha(opened) else "RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        return NotShown(path, f"Cannot decode this image: {exc}")
    # shrinking 4× or more averages whole blocks of pixels: BOX is as good there and much cheaper
    resample = Image.Resampling.LANCZOS if picture.width < 4 * width else Image.Resampling.BOX
    picture.thumbnail((width, height), resample)
    if picture.mode == "RGBA":  # the pane's background is dark: flatten onto it as a viewer would
        flat = Image.new("RGB", picture.size, (0, 0, 0))
        flat.paste(picture, mask=picture.getchannel("A"))
        picture = flat
    return DisplayImage(path, picture, kind, original[0], original[1], size if size is not None else len(data))


def caption(image: DisplayImage) -> str:
    """`PNG · 2000 × 2000 px · 1.2 MiB`: what the picture on screen cannot say."""
    size = f" · {human_size(image.size)}" if image.size is not None else ""
    return f"{image.format.upper()} · {image.width} × {image.height} px{size}"


def _too_big(path: str, size: int | None) -> NotShown:
    how_big = human_size(size) if size is not None else f"over {human_size(IMAGE_READ_CAP)}"
    return NotShown(path, f"Too big to preview ({how_big}; the limit is {human_size(IMAGE_READ_CAP)}). "
                          "Press D to download it.")


def _fit(box: tuple[int, int]) -> tuple[int, int]:
    width, height = box
    return max(1, min(width, MAX_DISPLAY_PIXELS)), max(1, min(height, MAX_DISPLAY_PIXELS))


def _has_alpha(image: PILImage) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
