"""Images logged with `mlflow.log_image(key=…, step=…)`, found by their file names.

MLflow keeps no index of them: each call writes `images/<key>+step+<step>+timestamp+<ms>+<uuid>.png`
and a `…+compressed.webp` thumbnail beside it (docs/formats.md §6.1). Listing the run's `images/`
folder through its artifact repository is therefore all it takes, on every backend, and one
listing call is the whole cost.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .base import ArtifactEntry

#: The folder `log_image(key=…)` writes into, relative to the run's artifact root.
IMAGES_FOLDER = "images"

# `<key>+step+<n>+timestamp+<ms>+<uuid>[+compressed].<ext>`; MLflow before 3.x used `%` as the
# separator and `#` for `/` in the key; its web UI reads both, and so do we.
_NAME = re.compile(
    r"^(?P<key>.+?)(?P<sep>[+%])step(?P=sep)(?P<step>-?\d+)(?P=sep)timestamp(?P=sep)(?P<ts>\d+)"
    r"(?P=sep)(?P<uuid>[0-9a-fA-F-]+)(?P<compressed>(?P=sep)compressed)?\.(?P<ext>[A-Za-z0-9]+)$"
)


@dataclass(frozen=True, slots=True)
class LoggedImage:
    """One `log_image` call: its key, step and timestamp, and the artifact paths of the
    full-size image and of MLflow's thumbnail (None when it is missing)."""

    key: str
    step: int
    timestamp: int
    path: str
    thumbnail_path: str | None = None


def logged_images(entries: Iterable[ArtifactEntry]) -> dict[str, list[LoggedImage]]:
    """The images in a listing of `images/`, by key (keys sorted), each key's by step then
    timestamp. Files whose names do not follow MLflow's pattern are someone else's: ignored."""
    full: dict[tuple[str, str], tuple[str, int, int, str]] = {}
    thumbnails: dict[tuple[str, str], str] = {}
    for entry in entries:
        if entry.is_dir:
            continue
        match = _NAME.match(entry.name)
        if match is None:
            continue
        key = _unsanitize(match["key"], match["sep"])
        identity = (key, match["uuid"] + match["step"] + "." + match["ts"])
        if match["compressed"]:
            thumbnails[identity] = entry.path
        else:
            full[identity] = (key, int(match["step"]), int(match["ts"]), entry.path)
    by_key: dict[str, list[LoggedImage]] = {}
    for identity, (key, step, timestamp, path) in full.items():
        by_key.setdefault(key, []).append(LoggedImage(key, step, timestamp, path, thumbnails.get(identity)))
    return {key: sorted(images, key=lambda i: (i.step, i.timestamp, i.path)) for key, images in sorted(by_key.items())}


def _unsanitize(name: str, separator: str) -> str:
    """MLflow writes `/` in a key as `~` (`#` with the old `%` separator)."""
    return name.replace("~" if separator == "+" else "#", "/")
