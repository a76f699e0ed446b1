"""Assessments over a tracking server's REST API (mlflow-formats §3.7): a mixin for RestStore.

Reads come with the trace (`trace_info.assessments` in the V3 JSON, decoded by
store.traces.decode). Writes are MLflow's own endpoints: `POST /api/3.0/mlflow/traces/<id>/
assessments` with the protobuf-JSON assessment (the server marks an overridden one invalid),
`DELETE .../assessments/<assessment_id>`. Servers older than MLflow 3 have neither.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import InvalidValue, NotFound
from ..traces.assessments import Assessment, assessment_from_dict, assessment_to_dict
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

    def delete_assessment(self, trace_id: str, assessment_id: str) -> None:
        self._check_writable()
        self._trace_info_only(str(trace_id))
        try:
            self._http.request("DELETE", f"{V3}/traces/{trace_id}/assessments/{assessment_id}")
        except NotFound:  # as MLflow's stores: deleting what is not there is no error
            return
