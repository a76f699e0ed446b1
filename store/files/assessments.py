"""Assessments in a file store: `<experiment>/traces/<trace_id>/assessments/<id>.yaml`, one
protobuf-JSON document each (docs/formats.md §2.5), as MLflow 3.17's file store writes them.

A mixin for FileStore. Logging writes the new file (atomically) after marking the overridden
one invalid; deleting restores the overridden one, as MLflow's `delete_assessment` does.
MLflow's file store refuses `feedback.`/`expectation.` filters; tracktui evaluates them on the
assessments read here (store.traces.assessments).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..atomic import write_atomic
from ..errors import InvalidValue, NotFound
from ..traces.assessments import (
    Assessment,
    assessment_from_dict,
    assessment_to_dict,
    new_assessment_id,
    now_ms,
    skipped_names,
)
from .layout import TEMP_PREFIX, is_safe_id
from .meta import MetaError, dump_meta, parse_meta, read_bytes

if TYPE_CHECKING:
    from .host import FileHost
else:
    FileHost = object  # the host is a type-checking contract only (see host.py)

ASSESSMENTS = "assessments"


class FileAssessments(FileHost):
    """Mixin for FileStore (what it uses of the store: host.FileHost)."""

    def _read_assessments(self, trace_dir: str) -> tuple[Assessment, ...]:
        """The trace folder's assessments, oldest first; damaged files are skipped with a warning."""
        folder = os.path.join(trace_dir, ASSESSMENTS)
        try:
            names = sorted(n for n in os.listdir(folder) if n.endswith(".yaml") and not n.startswith(TEMP_PREFIX))
        except (FileNotFoundError, NotADirectoryError):
            return ()
        out = []
        for name in names:
            path = os.path.join(folder, name)
            try:
                doc = parse_meta(read_bytes(path))
            except (OSError, MetaError) as exc:
                self._warn(f"{path}: skipped ({exc})")
                continue
            found = assessment_from_dict(doc, trace_id=os.path.basename(trace_dir))
            if found is None:
                self._warn(f"{path}: skipped (no feedback, expectation or issue in it)")
                continue
            out.append(found)
        out.sort(key=lambda a: (a.create_time, a.assessment_id))
        return tuple(out)

    def log_assessment(self, assessment: Assessment) -> Assessment:
        self._check_writable()
        if assessment.kind not in ("feedback", "expectation"):
            raise InvalidValue("Only feedback and expectations can be logged")
        trace_dir = self._find_trace(assessment.trace_id)
        now = now_ms()
        stored = dataclasses.replace(
            assessment, assessment_id=assessment.assessment_id or new_assessment_id(),
            create_time=now, last_update_time=now, valid=True,
        )
        if not is_safe_id(stored.assessment_id):
            raise InvalidValue(f"Invalid assessment id {stored.assessment_id!r}")
        if stored.overrides:
            old = self._assessment(trace_dir, stored.overrides)
            if old is None:
                raise NotFound(f"Assessment with ID '{stored.overrides}' not found for trace '{stored.trace_id}'")
            self._write_assessment(trace_dir, dataclasses.replace(old, valid=False))
        self._write_assessment(trace_dir, stored)
        return stored

    def delete_assessment(self, trace_id: str, assessment_id: str) -> None:
        self._check_writable()
        trace_dir = self._find_trace(trace_id)
        doomed = self._assessment(trace_dir, assessment_id)
        if doomed is None:
            return
        if doomed.overrides:
            old = self._assessment(trace_dir, doomed.overrides)
            if old is not None:
                self._write_assessment(trace_dir, dataclasses.replace(old, valid=True))
        os.remove(os.path.join(trace_dir, ASSESSMENTS, f"{assessment_id}.yaml"))

    def _import_assessments(self, trace_dir: str, trace_id: str, assessments: Sequence[Assessment]) -> tuple[str, ...]:
        """Write a copied trace's assessments as they were (ids, times, validity, overrides)
        into its (staging) folder. Returns what could not be taken, by name."""
        unsafe = [a for a in assessments if not is_safe_id(a.assessment_id)]
        for a in assessments:
            if a not in unsafe:
                self._write_assessment(trace_dir, dataclasses.replace(a, trace_id=trace_id))
        return skipped_names(trace_id, unsafe, "its id cannot name a file")

    def _assessment(self, trace_dir: str, assessment_id: str) -> Assessment | None:
        if not is_safe_id(assessment_id):
            return None
        return next((a for a in self._read_assessments(trace_dir) if a.assessment_id == assessment_id), None)

    def _write_assessment(self, trace_dir: str, assessment: Assessment) -> None:
        folder = os.path.join(trace_dir, ASSESSMENTS)
        os.makedirs(folder, exist_ok=True)
        write_atomic(os.path.join(folder, f"{assessment.assessment_id}.yaml"), dump_meta(assessment_to_dict(assessment)))
