"""Read and write the `meta.yaml` files of an `mlruns` tree, fast and exactly as YAML would.

MLflow writes these files with `yaml.safe_dump(default_flow_style=False)`: one `key: value`
line per field, plain or single-quoted scalars. Listing 10k runs means parsing 10k of them,
and a YAML parser costs ~300 µs a file (even libyaml), so `parse_meta` reads that simple shape
itself and hands anything it is not certain about (double quotes, multi-line values, unicode,
values YAML 1.1 would resolve to bools, floats or dates...) to PyYAML. The fast path returns
exactly what `yaml.safe_load` returns (tests/store/test_files_tolerance.py checks that).

MLflow never writes YAML anchors or aliases, and a few lines of nested aliases ("billion
laughs") expand into gigabytes the moment anything walks the result: a file using them is
refused (MetaError) before it is constructed.

Speed trick, kept because bench/bench_meta.py shows the win: 10k run meta.yaml files parse in
0.15 s against PyYAML's 0.75 s (C loader), on a cold 10k-run listing of ~2.5 s; see bench/README.md.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Mapping
from typing import Any

import yaml

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

#: RunStatus as mlflow persists it in run meta.yaml (an int enum).
STATUS_BY_CODE = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
CODE_BY_STATUS = {name: code for code, name in STATUS_BY_CODE.items()}

_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*): ?(.*)")
_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")
# A plain scalar: starts with a letter or digit, no spaces at the ends, no ": " or " #", no
# characters with meaning in flow or block context. Whether YAML reads it as a string is then
# decided by PyYAML's own implicit resolvers (bools, nulls, numbers, dates...).
_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_./@+\-: ]*")
_RESOLVERS = yaml.resolver.Resolver.yaml_implicit_resolvers
_NULLS = frozenset(("null", "Null", "NULL", "~", ""))


class MetaError(Exception):
    """A meta.yaml that is missing, empty, half-written or not a mapping."""


def read_meta(path: str) -> dict[str, Any]:
    """The mapping stored in the meta.yaml at `path`. Raises MetaError naming the problem."""
    try:
        data = read_bytes(path)
    except FileNotFoundError:
        raise MetaError("missing meta.yaml") from None
    except OSError as exc:
        raise MetaError(f"unreadable meta.yaml ({exc.strerror or exc})") from None
    return parse_meta(data)


#: Reading never waits for a writer: a FIFO (or other special file) put where a data file
#: belongs opens at once and is then refused, instead of hanging the listing for ever.
O_READ = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


class NotRegularFile(OSError):
    """A FIFO, device or socket where a regular file was expected."""

    def __init__(self, path: str) -> None:
        super().__init__(errno.EINVAL, "not a regular file (a FIFO, device or socket)", path)


def check_regular(fd: int, path: str) -> None:
    """Raise NotRegularFile unless the open `fd` is a regular file."""
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        raise NotRegularFile(path)


def read_bytes(path: str) -> bytes:
    """The whole file, with raw os calls (2-3x cheaper than open() for tiny files).

    Raises OSError, NotRegularFile for a FIFO, device or socket. The file type is checked
    only when the first read is empty or full (a special file gives nothing or never ends),
    so the usual small file costs no extra system call."""
    fd = os.open(path, O_READ)
    try:
        chunk = os.read(fd, 65536)
        if len(chunk) < 65536:
            if not chunk:
                check_regular(fd, path)
            return chunk
        check_regular(fd, path)
        parts = [chunk]
        while chunk:
            chunk = os.read(fd, 1 << 20)
            parts.append(chunk)
        return b"".join(parts)
    finally:
        os.close(fd)


def parse_meta(data: bytes) -> dict[str, Any]:
    """Parse meta.yaml bytes into a dict. Raises MetaError for empty/invalid/non-mapping YAML."""
    if not data.strip():
        raise MetaError("empty meta.yaml (being written, or truncated)")
    fast = _parse_flat(data)
    if fast is not None:
        return fast
    try:
        if _uses_anchors(data):
            raise MetaError("uses YAML anchors or aliases, which MLflow never writes")
        loaded = yaml.load(data, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise MetaError(f"invalid YAML{where}") from None
    if not isinstance(loaded, dict):
        raise MetaError(f"meta.yaml holds a {type(loaded).__name__}, not a mapping")
    return loaded


def _uses_anchors(data: bytes) -> bool:
    """Whether the YAML defines an anchor or uses an alias (read as parser events: nothing is
    built, so an alias bomb costs no more than its own bytes)."""
    return any(
        isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None
        for event in yaml.parse(data, Loader=_Loader)
    )


def _parse_flat(data: bytes) -> dict[str, Any] | None:
    """The fast path: None whenever the file is not the simple shape mlflow writes."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        return None
    if not text.endswith("\n") or "\r" in text or "\t" in text:
        return None
    out: dict[str, Any] = {}
    memo = _LINES_SEEN
    for line in text[:-1].split("\n"):
        hit = memo.get(line)
        if hit is not None:
            key, value = hit
            if key in out:
                return None
            out[key] = value
            continue
        match = _LINE.fullmatch(line)
        if match is None:
            return None
        key, raw = match.groups()
        if key in out or (raw and line[len(key) + 1] != " "):
            return None
        value = _scalar(raw)
        if value is _UNSURE:
            return None
        out[key] = value
        if not isinstance(value, (list, dict)):  # immutable: safe to hand out again
            if len(memo) >= _MAX_LINES_SEEN:
                memo.clear()
            memo[line] = (key, value)
    return out


#: line -> (key, value) of lines parsed before: most lines of 10k run meta.yaml files are the
#: same few ("status: 3", "lifecycle_stage: active", "experiment_id: '1'"...).
_LINES_SEEN: dict[str, tuple[str, Any]] = {}
_MAX_LINES_SEEN = 4096


_UNSURE = object()


def _scalar(raw: str) -> Any:
    if raw in _NULLS:
        # An empty value could be followed by an indented block: only "key:" at the very
        # end of a flat file is null, and the caller sees no indented line here (it would
        # not match _LINE), so this is exact.
        return None
    first = raw[0]
    if first == "'":
        if len(raw) < 2 or raw[-1] != "'":
            return _UNSURE  # multi-line single-quoted scalar
        inner = raw[1:-1]
        if "'" in inner.replace("''", ""):
            return _UNSURE
        return inner.replace("''", "'")
    if raw == "[]":
        return []
    if raw == "{}":
        return {}
    if _INT.fullmatch(raw):
        return int(raw)
    if (
        _PLAIN.fullmatch(raw)
        and not raw.endswith((" ", ":"))
        and ": " not in raw
        and "  " not in raw
        and not any(regexp.match(raw) for _, regexp in _RESOLVERS.get(first, ()))
    ):
        return raw
    return _UNSURE


def run_status(value: Any) -> str:
    """mlflow's status for a run meta `status` field (int enum; missing means RUNNING)."""
    if value is None:
        return "RUNNING"
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return STATUS_BY_CODE[value]
        except KeyError:
            raise MetaError(f"unknown run status code {value}") from None
    if isinstance(value, str) and value.upper() in CODE_BY_STATUS:
        return value.upper()
    raise MetaError(f"unknown run status {value!r}")


def as_id(value: Any) -> str | None:
    """Ids were ints in old trees: mlflow casts them to strings."""
    if value is None:
        return None
    return str(value)


def as_millis(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value == value:
        return int(value)
    if isinstance(value, str) and _INT.fullmatch(value.strip()):
        return int(value)
    return None


# -- writing --------------------------------------------------------------------------------


def dump_meta(data: Mapping[str, Any]) -> bytes:
    """YAML text the way mlflow writes meta.yaml (sorted keys, block style, unicode kept)."""
    return yaml.dump(
        dict(data), Dumper=_Dumper, default_flow_style=False, allow_unicode=True, sort_keys=True
    ).encode("utf-8")
