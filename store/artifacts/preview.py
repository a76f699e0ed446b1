"""Type detection for artifact previews: from the file name and the first bytes only.

Images report their format and dimensions from header bytes (no PIL); tables are parsed from
the head with the `csv` module; anything that is not text is refused with its size.
"""

from __future__ import annotations

import csv
import io
import json
import struct

from .base import ArtifactPreview, ImageInfo, PreviewKind

#: Table previews stop after this many rows.
MAX_TABLE_ROWS = 500


def build_preview(path: str, head: bytes, size: int | None, limit: int) -> ArtifactPreview:
    """The typed preview of `path` from its first bytes `head` (at most `limit` were asked for)."""
    truncated = (size is not None and size > len(head)) or (size is None and len(head) >= limit)
    name = path.rsplit("/", 1)[-1]
    suffix = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""

    image = image_info(head)
    if image is not None:
        return ArtifactPreview(path, "image", size, truncated, image=image)
    text = _decode_text(head, truncated)
    if text is None:
        return ArtifactPreview(
            path, "binary", size, truncated,
            note=f"Binary file ({_human(size if size is not None else len(head))}): no preview",
        )
    if name == "MLmodel":
        return ArtifactPreview(path, "mlmodel", size, truncated, text=text)
    if suffix == ".json":
        return ArtifactPreview(path, "json", size, truncated, text=_pretty_json(text, truncated))
    if suffix in (".yaml", ".yml"):
        return ArtifactPreview(path, "yaml", size, truncated, text=text)
    if suffix in (".csv", ".tsv"):
        kind: PreviewKind = "csv" if suffix == ".csv" else "tsv"
        rows = _table(text, "," if kind == "csv" else "\t", truncated)
        return ArtifactPreview(path, kind, size, truncated, text=text, rows=rows)
    return ArtifactPreview(path, "text", size, truncated, text=text)


def build_tail_preview(path: str, tail: bytes, size: int | None, limit: int) -> ArtifactPreview:
    """The typed preview of `path` from its last bytes `tail` (at most `limit` were asked for):
    text from the first whole line on, highlighted by extension; never parsed as a table or
    pretty-printed, since the start is missing. A tail that is the whole file is a head."""
    if size is not None and size <= len(tail):
        return build_preview(path, tail, size, limit)
    newline = tail.find(b"\n")
    body = tail[newline + 1:] if 0 <= newline < len(tail) - 1 else tail
    text = _decode_tail(body)
    if text is None:
        return ArtifactPreview(
            path, "binary", size, True, from_end=True,
            note=f"Binary file ({_human(size if size is not None else len(tail))}): no preview",
        )
    name = path.rsplit("/", 1)[-1]
    suffix = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    kind: PreviewKind = "json" if suffix == ".json" else "yaml" if suffix in (".yaml", ".yml") else "text"
    return ArtifactPreview(path, kind, size, True, text=text, from_end=True)


def image_info(head: bytes) -> ImageInfo | None:
    """Format and dimensions of a PNG, JPEG, GIF, BMP or WebP image from its header bytes."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        if len(head) >= 24 and head[12:16] == b"IHDR":
            width, height = struct.unpack(">II", head[16:24])
            return ImageInfo("png", width, height)
        return ImageInfo("png", None, None)
    if head[:6] in (b"GIF87a", b"GIF89a"):
        if len(head) >= 10:
            width, height = struct.unpack("<HH", head[6:10])
            return ImageInfo("gif", width, height)
        return ImageInfo("gif", None, None)
    if head.startswith(b"\xff\xd8\xff"):
        return ImageInfo("jpeg", *_jpeg_size(head))
    if head.startswith(b"BM") and len(head) >= 26:
        width, height = struct.unpack("<ii", head[18:26])
        return ImageInfo("bmp", abs(width), abs(height))  # negative height: top-down rows
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ImageInfo("webp", *_webp_size(head))
    return None


def _jpeg_size(data: bytes) -> tuple[int | None, int | None]:
    """Walk the JPEG segments to the first start-of-frame marker (SOF0..SOF15 but DHT/JPG/DAC)."""
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
            i += 1 if marker == 0xFF else 2
            continue
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + length
    return None, None


def _webp_size(data: bytes) -> tuple[int | None, int | None]:
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(data) >= 30:
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    return None, None


def _decode_text(head: bytes, truncated: bool) -> str | None:
    """UTF-8 text (a multi-byte character cut at the end of a truncated head is fine), or None."""
    if b"\x00" in head:
        return None
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if truncated and exc.start >= len(head) - 3:
            try:
                return head[: exc.start].decode("utf-8")
            except UnicodeDecodeError:
                return None
        return None


def _decode_tail(tail: bytes) -> str | None:
    """UTF-8 text whose first character may have been cut (up to 3 continuation bytes), or None."""
    if b"\x00" in tail:
        return None
    for skip in range(4):
        if skip < len(tail) and 0x80 <= tail[skip] < 0xC0:
            continue  # a continuation byte: part of a character that began before the tail
        try:
            return tail[skip:].decode("utf-8")
        except UnicodeDecodeError:
            return None
    return None


def _pretty_json(text: str, truncated: bool) -> str:
    if truncated:
        return text
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def _table(text: str, delimiter: str, truncated: bool) -> tuple[tuple[str, ...], ...]:
    if truncated and "\n" in text:
        text = text[: text.rindex("\n")]  # the last line may be cut in the middle
    rows = []
    try:
        for row in csv.reader(io.StringIO(text), delimiter=delimiter):
            rows.append(tuple(row))
            if len(rows) >= MAX_TABLE_ROWS:
                break
    except csv.Error:
        pass
    return tuple(rows)


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"
