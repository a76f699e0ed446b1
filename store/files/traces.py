"""Traces in a file store (docs/formats.md §2.4): a mixin for FileStore.

Layout: `<experiment>/traces/<trace_id>/` with `trace_info.yaml` (V3 TraceInfo, or V2 with
`request_id`), one file per tag under `tags/` and per metadata key under `request_metadata/`,
and the spans in `artifacts/traces.json`. Reads go straight to the files (no tree cache: a
traced app keeps adding trace folders); filters are evaluated in Python (store.traces_filter).
"""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from ..atomic import write_atomic
from ..errors import InvalidValue, NotFound, StoreError
from ..model import Page
from ..paging import check_max_results, decode_page_token, encode_page_token
from ..traces import Trace, TraceInfo
from ..traces.artifact_spans import read_traces_json
from ..traces.decode import build_trace, spans_from_traces_json, trace_info_from_json
from ..traces.filter import (
    parse_trace_filter,
    parse_trace_order_by,
    sort_traces,
    trace_matches,
)
from ..traces.validation import validate_trace_tag
from .layout import TEMP_PREFIX, decode_value, is_safe_id, key_path
from .meta import MetaError, parse_meta, read_bytes

if TYPE_CHECKING:
    from .host import FileHost
else:
    FileHost = object  # the host is a type-checking contract only (see host.py)

TRACES = "traces"
TRACE_INFO = "trace_info.yaml"
TRACE_TAGS = "tags"
TRACE_METADATA = "request_metadata"


class FileTraces(FileHost):
    """Mixin for FileStore (what it uses of the store: host.FileHost)."""

    supports_traces = True

    def search_traces(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        max_results: int = 100,
        page_token: str | None = None,
        order_by: Sequence[str] = (),
    ) -> Page[TraceInfo]:
        comparisons = parse_trace_filter(filter_string)
        order_keys = parse_trace_order_by(order_by)
        offset = decode_page_token(page_token)
        check_max_results(max_results)
        infos = []
        for eid in experiment_ids:
            exp_path = self._experiment_path(str(eid))
            if exp_path is None:
                continue
            for trace_dir in _trace_dirs(exp_path):
                info = self._load_trace_info(trace_dir)
                if info is not None and trace_matches(info, comparisons, functools.partial(self._spans_of, trace_dir, info)):
                    infos.append(info)
        ordered = sort_traces(infos, order_keys)
        page = ordered[offset : offset + max_results]
        more = offset + max_results < len(ordered)
        return Page(tuple(page), encode_page_token(offset + max_results) if more else None)

    def get_trace(self, trace_id: str) -> Trace:
        trace_dir = self._find_trace(trace_id)
        info = self._load_trace_info(trace_dir)
        if info is None:
            raise StoreError(f"Trace '{trace_id}' cannot be read: {os.path.join(trace_dir, TRACE_INFO)} is damaged")
        return build_trace(info, self._spans_of(trace_dir, info))

    def _spans_of(self, trace_dir: str, info: TraceInfo):
        local = os.path.join(trace_dir, "artifacts", "traces.json")
        if os.path.isfile(local):
            try:
                return spans_from_traces_json(read_bytes(local))
            except OSError as exc:
                raise StoreError(f"{local}: unreadable ({exc.strerror or exc})") from None
        return read_traces_json(info)  # the artifact location may be elsewhere

    def delete_traces(self, experiment_id: str, trace_ids: Sequence[str]) -> int:
        self._check_writable()
        exp_path = self._experiment_path(str(experiment_id))
        if exp_path is None:
            raise NotFound(f"Experiment '{experiment_id}' not found")
        deleted = 0
        for trace_id in trace_ids:
            trace_id = str(trace_id)
            path = os.path.join(exp_path, TRACES, trace_id)
            if is_safe_id(trace_id) and os.path.isdir(path):
                shutil.rmtree(path)
                deleted += 1
        return deleted

    def set_trace_tag(self, trace_id: str, key: str, value: str) -> None:
        self._check_writable()
        validate_trace_tag(key, value)
        path = key_path(os.path.join(self._find_trace(trace_id), TRACE_TAGS), key)
        if path is None:
            raise InvalidValue(f"Invalid trace tag key {key!r}")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write_atomic(path, value.encode("utf-8"))

    def delete_trace_tag(self, trace_id: str, key: str) -> None:
        self._check_writable()
        path = key_path(os.path.join(self._find_trace(trace_id), TRACE_TAGS), key)
        if path is None or not os.path.isfile(path):
            raise NotFound(f"No tag '{key}' on trace '{trace_id}'")
        os.remove(path)

    # -- helpers ------------------------------------------------------------------------------

    def _find_trace(self, trace_id: str) -> str:
        trace_id = str(trace_id)
        if is_safe_id(trace_id):
            for _eid, exp_path in self._experiment_dirs("all"):
                path = os.path.join(exp_path, TRACES, trace_id)
                if os.path.isfile(os.path.join(path, TRACE_INFO)):
                    return path
        raise NotFound(f"Trace '{trace_id}' not found")

    def _load_trace_info(self, trace_dir: str) -> TraceInfo | None:
        info_path = os.path.join(trace_dir, TRACE_INFO)
        try:
            doc = parse_meta(read_bytes(info_path))
        except FileNotFoundError:
            return None
        except (OSError, MetaError) as exc:
            self._warn(f"{info_path}: skipped ({exc})")
            return None
        tags = _read_key_files(os.path.join(trace_dir, TRACE_TAGS))
        metadata = _read_key_files(os.path.join(trace_dir, TRACE_METADATA))
        info = trace_info_from_json(doc, tags=tags, metadata=metadata)
        info = replace(info, assessments=self._read_assessments(trace_dir))
        if not info.experiment_id:  # V2 files may lack it; the folder says where it lives
            info = replace(info, experiment_id=os.path.basename(os.path.dirname(os.path.dirname(trace_dir))))
        return info


def _trace_dirs(exp_path: str) -> list[str]:
    base = os.path.join(exp_path, TRACES)
    try:
        with os.scandir(base) as entries:
            return [e.path for e in entries if e.is_dir() and not e.name.startswith((".", TEMP_PREFIX))]
    except (FileNotFoundError, NotADirectoryError):
        return []


def _read_key_files(base: str) -> dict[str, str]:
    """Every file under `base` (keys with `/` are nested folders) → its content."""
    out: dict[str, str] = {}
    for folder, _dirs, files in os.walk(base):
        rel = os.path.relpath(folder, base)
        for name in files:
            if name.startswith(TEMP_PREFIX):
                continue
            key = name if rel == "." else f"{rel.replace(os.sep, '/')}/{name}"
            try:
                out[key] = decode_value(read_bytes(os.path.join(folder, name)))
            except OSError:
                continue
    return out
