"""What RestStore's mixins may use of the store they are mixed into, declared once.

RestStore is assembled from mixins (writes, traces, trace writes), one module each, that all
talk to the server through the store's transport. `RestHost` declares it and the helpers the
mixins share, so a reader and mypy both see the contract. Each mixin subclasses it only while
type checking (`if TYPE_CHECKING: from .host import RestHost` / `else: RestHost = object`): at
run time the mixins stay plain classes. It is a Store, so the mixins are also checked against
the protocol they implement.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence

from ..base import Store
from ..traces import Assessment, TraceInfo
from .transport import RestTransport


class RestHost(Store):
    """The RestStore state and helpers its mixins rely on."""

    #: HTTP to the tracking server (auth, TLS, retries, limits).
    _http: RestTransport

    @abstractmethod
    def _trace_info_only(self, trace_id: str) -> TraceInfo:
        """The trace's info without its spans (store.rest.traces). Raises NotFound."""

    @abstractmethod
    def _import_assessments(self, trace_id: str, assessments: Sequence[Assessment]) -> tuple[str, ...]:
        """Post a copied trace's assessments (store.rest.assessments); returns the skipped ones."""
