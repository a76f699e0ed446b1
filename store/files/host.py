"""What FileStore's mixins may use of the store they are mixed into, declared once.

FileStore is assembled from mixins (traces, trace writes, writes), one module each, that rely
on the store's tree and its reading helpers. `FileHost` declares those, so a reader and mypy
both see the contract. Each mixin subclasses it only while type checking (`if TYPE_CHECKING:
from .host import FileHost` / `else: FileHost = object`): at run time the mixins stay plain
classes. It is a Store, so the mixins are also checked against the protocol they implement.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..base import Store
from ..model import Experiment, ViewType
from ..traces.assessments import Assessment
from .metrics import LatestCache

if TYPE_CHECKING:
    from .store import RunRef


class FileHost(Store):
    """The FileStore state and helpers its mixins rely on."""

    #: The `mlruns` folder.
    root: str
    #: Its `.trash` folder, where deleted experiments wait to be purged.
    trash: str
    #: Latest-metric values read from metric files, by run folder.
    _latest: LatestCache

    @abstractmethod
    def _warn(self, message: str) -> None:
        """Record a warning about a path ("path: what")."""

    @abstractmethod
    def _resolved(self, path: str) -> None:
        """Forget the warnings about a path that reads fine now."""

    @abstractmethod
    def _experiment_dirs(self, view: ViewType) -> list[tuple[str, str]]:
        """(experiment id, folder) of the experiments in `view`."""

    @abstractmethod
    def _experiment_path(self, experiment_id: str) -> str | None:
        """The experiment's folder (active or in the trash), or None."""

    @abstractmethod
    def _list_experiments(self, view: ViewType) -> list[Experiment]:
        """The experiments in `view`, meta only."""

    @abstractmethod
    def _find_run(self, run_id: str) -> RunRef:
        """The run's folder and meta-only Run. Raises NotFound."""

    @abstractmethod
    def _list_runs(self, experiment_ids: Sequence[str], view: ViewType) -> list[RunRef]:
        """The runs of the experiments in `view`, meta only."""

    @abstractmethod
    def _find_trace(self, trace_id: str) -> str:
        """The trace's folder. Raises NotFound."""

    @abstractmethod
    def _read_assessments(self, trace_dir: str) -> tuple[Assessment, ...]:
        """The assessments kept in a trace's folder (store.files.assessments)."""

    @abstractmethod
    def _import_assessments(self, trace_dir: str, trace_id: str, assessments: Sequence[Assessment]) -> tuple[str, ...]:
        """Write a copied trace's assessments into its folder (store.files.assessments)."""
