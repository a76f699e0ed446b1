"""`log_inputs` over MLflow's REST API (`POST runs/log-inputs`), as MlflowClient sends it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .. import validation as v
from ..dataset_inputs import checked_dataset_inputs
from ..errors import InvalidValue
from ..model import DatasetInput
from .decode import dataset_input_json

if TYPE_CHECKING:
    from .host import RestHost
else:
    RestHost = object

API = "/api/2.0/mlflow"


class RestInputs(RestHost):
    """Dataset inputs through the tracking server, which dedupes and reuses datasets itself."""

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput]) -> None:
        self._check_writable()
        v.validate_run_id(run_id)
        wanted = checked_dataset_inputs(datasets)
        if self.get_run(run_id).lifecycle_stage != "active":  # checked first, as the other writes
            raise InvalidValue(f"Run '{run_id}' is deleted; restore it before you log inputs to it")
        if wanted:
            self._http.post(f"{API}/runs/log-inputs", {"run_id": run_id, "datasets": [dataset_input_json(i) for i in wanted]})
