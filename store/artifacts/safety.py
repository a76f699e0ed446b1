"""Artifact path safety: nothing a store or a server says may make tracktui read or write
outside the place it was asked to.

MLflow itself shipped several path-traversal CVEs in this area (artifact paths with `..`,
absolute paths, and symlinks in served directories). Every path that comes from a listing or
a user is checked here before it is joined to a root or a destination, and every destination
file is checked again after resolving symlinks.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..errors import UnsafePath

_DRIVE = re.compile(r"^[A-Za-z]:")


def clean_relative_path(path: str, *, what: str = "artifact path") -> str:
    """`path` as a normalised relative POSIX path (`""` for the root), or UnsafePath.

    Refused: NUL and other control bytes, backslashes (a separator on Windows), absolute
    paths, drive letters, and `..` components. `.` and empty components are dropped.
    """
    if not isinstance(path, str):
        raise UnsafePath(f"Refusing {what} {path!r}: not a string")
    if any(ord(ch) < 32 for ch in path):
        raise UnsafePath(f"Refusing {what} {path!r}: it contains a NUL or control character")
    if "\\" in path:
        raise UnsafePath(f"Refusing {what} {path!r}: backslashes are not artifact path separators")
    if path.startswith("/") or _DRIVE.match(path):
        raise UnsafePath(f"Refusing {what} {path!r}: absolute paths are not allowed")
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UnsafePath(f"Refusing {what} {path!r}: '..' would leave the artifact directory")
    if any(_DRIVE.match(part) for part in parts):  # Windows joins "x" / "C:y" as "C:y"
        raise UnsafePath(f"Refusing {what} {path!r}: drive letters are not allowed")
    return "/".join(parts)


def clean_child_name(name: str, parent: str) -> str:
    """A listing entry's base name: exactly one safe path component."""
    cleaned = clean_relative_path(name, what=f"entry name in listing of {parent or '/'!r}")
    if not cleaned or "/" in cleaned:
        raise UnsafePath(
            f"Refusing entry {name!r} in listing of {parent or '/'!r}: expected a single name"
        )
    return cleaned


def child_of(parent: str, child_path: str) -> str:
    """`child_path` (a listing entry given relative to the root) checked to be a direct child
    of `parent`; returns it cleaned."""
    cleaned = clean_relative_path(child_path, what=f"entry in listing of {parent or '/'!r}")
    prefix = f"{parent}/" if parent else ""
    rest = cleaned[len(prefix):] if cleaned.startswith(prefix) else None
    if not rest or "/" in rest:
        raise UnsafePath(
            f"Refusing entry {child_path!r} in listing of {parent or '/'!r}: it is not inside that directory"
        )
    return cleaned


def join_under(root: str, relative: str) -> str:
    """A repository key/URL path: `root/relative` with `relative` checked first."""
    relative = clean_relative_path(relative)
    if not relative:
        return root
    return f"{root.rstrip('/')}/{relative}" if root else relative


def destination_for(dest_root: Path, relative: str) -> Path:
    """Where artifact `relative` lands under `dest_root`, refusing any path (including existing
    symlinks in the destination tree) that would resolve outside `dest_root`."""
    relative = clean_relative_path(relative)
    root = Path(os.path.realpath(dest_root))
    target = root.joinpath(*relative.split("/")) if relative else root
    resolved = Path(os.path.realpath(target))
    if resolved != root and root not in resolved.parents:
        raise UnsafePath(
            f"Refusing to write {relative!r}: it resolves to {resolved}, outside the destination {root} "
            f"(a symlink in the destination points elsewhere)"
        )
    return target


def local_within(root: Path, relative: str) -> Path:
    """The local file for `relative` under artifact directory `root`, refusing symlinks that
    point outside the artifact directory."""
    relative = clean_relative_path(relative)
    base = Path(os.path.realpath(root))
    target = base.joinpath(*relative.split("/")) if relative else base
    resolved = Path(os.path.realpath(target))
    if resolved != base and base not in resolved.parents:
        raise UnsafePath(
            f"Refusing artifact {relative!r}: it is a symlink to {resolved}, outside the run's "
            f"artifact directory"
        )
    return resolved
