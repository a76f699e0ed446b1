"""Assessments over a tracking server's REST API (docs/formats.md §3.7): a mixin for RestStore.

Reads come with the trace (`trace_info.assessments` in the V3 JSON, decoded by
store.traces.decode). Writes are MLflow's own endpoints: `POST /api/3.0/mlflow/traces/<id>/
assessments` with the protobuf-JSON assessment (the server marks an overridden one invalid),
`DELETE .../assessments/<assessment_id>`. Servers older than MLflow 3 have neither.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..errors import InvalidValue, NotFound, StoreError
from ..traces.assessments import Assessment, assessment_from_dict, assessment_to_dict, skipped_names
from .traces import V3

if TYPE_CHECKING:
    from .host import RestHost
else:
    RestHost = object  # the host is a type-checking contract only (see host.py)


class RestAssessments(RestHost):
    """Mixin for RestStore (what it uses of the store: host.RestHost)."""

    def log_assessment(self, assessment: Assessment) -> Assessment:
        self._check_writable()
        if assessment.kind not in ("feedback", "expectation"):
            raise InvalidValue("Only feedback and expectations can be logged")
        trace_id = str(assessment.trace_id)
        self._trace_info_only(trace_id)  # an unknown trace is NotFound, not a refused key
        body = assessment_to_dict(assessment)
        for server_made in ("create_time", "last_update_time", "valid"):
            body.pop(server_made, None)
        data = self._http.post(f"{V3}/traces/{trace_id}/assessments", {"assessment": body})
        stored = assessment_from_dict(data.get("assessment") or {}, trace_id=trace_id)
        if stored is None:
            raise InvalidValue(f"The server answered no assessment for trace '{trace_id}'")
        return stored

    def _import_assessments(self, trace_id: str, assessments: Sequence[Assessment]) -> tuple[str, ...]:
        """Post a copied trace's assessments oldest first, keeping ids and times where the server
        does (its SQL store does; its file store makes new ids, so later `overrides` are mapped
        to them). The server marks overridden ones invalid itself. Returns the skipped ones."""
        new_ids: dict[str, str] = {}
        skipped: list[str] = []
        for a in sorted(assessments, key=lambda a: (a.create_time, a.assessment_id)):
            body = assessment_to_dict(dataclasses.replace(
                a, trace_id=trace_id, overrides=new_ids.get(a.overrides or "", a.overrides)))
            body.pop("valid", None)
            try:
                data = self._http.post(f"{V3}/traces/{trace_id}/assessments", {"assessment": body})
            except StoreError as exc:
                skipped.extend(skipped_names(trace_id, [a], exc.message))
                continue
            stored = assessment_from_dict(data.get("assessment") or {}, trace_id=trace_id)
            if stored is not None and stored.assessment_id:
                new_ids[a.assessment_id] = stored.assessment_id
        return tuple(skipped)

    def delete_assessment(self, trace_id: str, assessment_id: str) -> None:
        self._check_writable()
        self._trace_info_only(str(trace_id))
        try:
            self._http.request("DELETE", f"{V3}/traces/{trace_id}/assessments/{assessment_id}")
        except NotFound:  # as MLflow's stores: deleting what is not there is no error
            return
