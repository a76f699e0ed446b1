"""A trace's spans from the `traces.json` artifact MLflow writes under its artifact location.

Every backend falls back to this when a trace's spans are not in its own storage (SQL rows
without a `spans` table, file-store traces whose artifacts live elsewhere); the location may
be any scheme store.artifacts reads.
"""

from __future__ import annotations

from ..artifacts import repository_for
from ..errors import NotFound, StoreError
from . import ARTIFACT_LOCATION_TAG, Span, TraceInfo
from .decode import spans_from_traces_json


def read_traces_json(info: TraceInfo) -> list[Span]:
    """Spans from `traces.json` under the trace's artifact location (any artifact scheme
    store.artifacts reads). Raises NotFound when the file is missing, UnsupportedURI."""
    location = info.tags.get(ARTIFACT_LOCATION_TAG)
    if not location:
        raise NotFound(f"Trace '{info.trace_id}' has no {ARTIFACT_LOCATION_TAG} tag, so its spans cannot be found")
    try:
        with repository_for(location) as repo, repo.open("traces.json") as stream:
            data = b"".join(stream.chunks())
    except NotFound:
        raise NotFound(f"The spans of trace '{info.trace_id}' are missing: no traces.json under {location}") from None
    except StoreError:
        raise
    except OSError as exc:
        raise NotFound(f"Cannot read traces.json of trace '{info.trace_id}' under {location}: {exc}") from None
    return list(spans_from_traces_json(data))
