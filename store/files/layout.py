"""Where things live in an `mlruns` tree, and reading its one-file-per-key directories.

Params, tags and metrics are stored one file per key (`params/<key>`, `tags/<key>`,
`metrics/<key>`); a key with `/` in it is a nested path (`metrics/val/loss`). Values are the
raw file content, no trailing newline added.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

from .cache import SKIP_PREFIX, TreeCache
from .meta import read_bytes

TRASH = ".trash"
META = "meta.yaml"
METRICS, PARAMS, TAGS, ARTIFACTS = "metrics", "params", "tags", "artifacts"
#: Sub-folders of an experiment that are never runs.
RESERVED_EXPERIMENT_FOLDERS = frozenset(("tags", "datasets", "traces", "models"))
#: Top-level folders of the root that are not experiments (`models` is the model registry).
NON_EXPERIMENT_FOLDERS = frozenset((TRASH, "models"))
#: Temp files our atomic writes leave for an instant next to the file they replace.
TEMP_PREFIX = SKIP_PREFIX

_ID = re.compile(r"[a-zA-Z0-9][\w\-]{0,255}")


def is_safe_id(value: str) -> bool:
    """An experiment/run id that is a single path component (mlflow's id pattern)."""
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def is_run_folder_name(name: str) -> bool:
    """Whether a sub-folder of an experiment folder can be a run (not one of mlflow's own
    folders, not hidden)."""
    return name not in RESERVED_EXPERIMENT_FOLDERS and not name.startswith(".")


def key_path(base: str, key: str) -> str | None:
    """The file of `key` under `base`, or None if the key would escape it (`..`, absolute)."""
    if not key or key.startswith("/") or "\\" in key or "\0" in key:
        return None
    parts = key.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return None
    return os.path.join(base, *parts)


def iter_key_files(
    cache: TreeCache, base: str, problems: list[str] | None = None
) -> list[tuple[str, str]]:
    """(key, path) of every file under `base`, recursively; a missing dir gives [].
    Folders that cannot be read are skipped and described in `problems`."""
    out: list[tuple[str, str]] = []
    _collect(cache, base, "", out, problems)
    return out


def _collect(cache: TreeCache, base: str, prefix: str, out: list[tuple[str, str]], problems) -> None:
    try:
        entries = cache.entries(base, problems)
    except (FileNotFoundError, NotADirectoryError):
        return
    except OSError as exc:
        if problems is not None:
            problems.append(f"{base}: unreadable folder ({exc.strerror or exc})")
        return
    for name, is_dir in entries:
        if name.startswith(TEMP_PREFIX):
            continue
        if is_dir:
            _collect(cache, f"{base}/{name}", f"{prefix}{name}/", out, problems)
        else:
            out.append((f"{prefix}{name}", f"{base}/{name}"))


def read_value(path: str) -> str:
    """A param/tag value: the raw file content. Raises OSError."""
    return _decode(read_bytes(path))


def decode_value(data: bytes) -> str:
    """A param/tag file's bytes as the value (UTF-8; undecodable bytes shown as U+FFFD)."""
    return data.decode("utf-8", errors="replace")


_decode = decode_value


def read_values(
    cache: TreeCache, base: str, keys: Iterable[str] | None, problems: list[str]
) -> dict[str, str]:
    """Values of the files under `base`: all of them (keys None) or just `keys` that exist.

    Unreadable files are skipped and described in `problems`."""
    out: dict[str, str] = {}
    if keys is None:
        pairs: Iterable[tuple[str, str]] = iter_key_files(cache, base, problems)
    else:
        pairs = ((k, p) for k in keys if (p := key_path(base, k)) is not None)
    content = cache.content
    for key, path in pairs:
        try:
            out[key] = content(path, _decode)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            if keys is None:
                problems.append(f"{path}: vanished while reading")
        except OSError as exc:
            problems.append(f"{path}: unreadable ({exc.strerror or exc})")
    return out


def key_names(cache: TreeCache, base: str, problems: list[str] | None = None) -> list[str]:
    return [key for key, _ in iter_key_files(cache, base, problems)]


def list_dirs(cache: TreeCache, base: str, problems: list[str] | None = None) -> list[tuple[str, str]]:
    """(name, path) of the sub-directories of `base` (none if it does not exist).
    A folder that cannot be read gives none and is described in `problems`, and so is an
    entry whose type cannot be told (a symlink loop, a dangling symlink)."""
    try:
        entries = cache.entries(base, problems)
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as exc:
        if problems is not None:
            problems.append(f"{base}: unreadable folder ({exc.strerror or exc})")
        return []
    return [(name, f"{base}/{name}") for name, is_dir in entries if is_dir]
