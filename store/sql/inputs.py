"""Run inputs and outputs on MLflow's `datasets` / `inputs` / `input_tags` tables.

Reading: `read_run_inputs` gives a page of runs their dataset inputs (with tags), model inputs
and model outputs in two queries per chunk of ids, as MLflow's search and get_run attach them.
Writing: `SqlInputs.log_inputs` inserts what mlflow 3.17's `log_inputs` inserts — a dataset is
reused when the experiment has one with the same name and digest, an input edge the run already
has is left alone (its tags too).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import validation as v
from ..base import not_found_run
from ..dataset_inputs import checked_dataset_inputs
from ..errors import InvalidValue
from ..model import (
    Dataset,
    DatasetInput,
    ModelInput,
    ModelOutput,
    RunInputs,
    RunOutputs,
    sorted_dataset_inputs,
)
from .schema import Tables

if TYPE_CHECKING:
    from .host import SqlHost
else:
    SqlHost = object

#: Filters a run-id column down to the page's ids (SqlStore._id_filter).
InPage = Callable[[sa.ColumnElement], sa.ColumnElement[bool]]


def read_run_inputs(
    conn: Connection, t: Tables, in_page: InPage
) -> tuple[dict[str, RunInputs], dict[str, RunOutputs]]:
    """{run id: inputs}, {run id: outputs} for the runs `in_page` selects (runs without any
    are absent). Schemas from before datasets existed give empty maps."""
    if t.inputs is None:
        return {}, {}
    i = t.inputs
    step = i.c.step if "step" in i.c else sa.literal(0)
    # One statement for both edges (a UNION): a page without any inputs costs one round trip.
    models = sa.select(
        i.c.source_type, i.c.source_id, i.c.destination_id, i.c.destination_type,
        *(sa.null() for _ in range(7)), step,
    ).where(i.c.source_type.in_(("RUN_INPUT", "RUN_OUTPUT")), in_page(i.c.source_id))
    stmt: sa.Select | sa.CompoundSelect = models
    if t.datasets is not None:
        d = t.datasets
        source = i.join(d, i.c.source_id == d.c.dataset_uuid)
        tag_columns: tuple = (sa.null(), sa.null())
        if t.input_tags is not None:
            source = source.outerjoin(t.input_tags, t.input_tags.c.input_uuid == i.c.input_uuid)
            tag_columns = (t.input_tags.c.name, t.input_tags.c.value)
        used = (
            sa.select(
                i.c.source_type, i.c.destination_id, i.c.input_uuid, d.c.name, d.c.digest,
                d.c.dataset_source_type, d.c.dataset_source, d.c.dataset_schema, d.c.dataset_profile,
                *tag_columns, sa.literal(0),
            )
            .select_from(source)
            .where(i.c.destination_type == "RUN", in_page(i.c.destination_id))
        )
        stmt = sa.union_all(used, models)
    datasets: dict[str, dict[str, tuple[Dataset, dict[str, str]]]] = defaultdict(dict)
    models_in: dict[str, list[ModelInput]] = defaultdict(list)
    models_out: dict[str, list[ModelOutput]] = defaultdict(list)
    for kind, run_id, link, name, digest, src_type, src, schema, profile, tag, value, at_step in conn.execute(stmt):
        if kind == "RUN_INPUT":
            if name == "MODEL_INPUT":  # link: the model id, name: the destination type
                models_in[run_id].append(ModelInput(link))
        elif kind == "RUN_OUTPUT":
            if name == "MODEL_OUTPUT":
                models_out[run_id].append(ModelOutput(link, int(at_step or 0)))
        else:  # a dataset the run used: link is the input's id
            entry = datasets[run_id].get(link)
            if entry is None:
                entry = datasets[run_id][link] = (Dataset(name, digest, src_type, src, schema, profile), {})
            if tag is not None:
                entry[1][tag] = value
    inputs = {
        run_id: RunInputs(
            sorted_dataset_inputs(DatasetInput(ds, tags) for ds, tags in datasets.get(run_id, {}).values()),
            tuple(models_in.get(run_id, ())),
        )
        for run_id in set(datasets) | set(models_in)
    }
    outputs = {run_id: RunOutputs(tuple(found)) for run_id, found in models_out.items()}
    return inputs, outputs


class SqlInputs(SqlHost):
    """`log_inputs` on MLflow's tables, written as mlflow 3.17 writes it."""

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput]) -> None:
        self._check_writable()
        v.validate_run_id(run_id)
        wanted = checked_dataset_inputs(datasets)
        t = self.tables
        if t.datasets is None or t.inputs is None or t.input_tags is None:
            raise InvalidValue("This database's MLflow schema predates datasets (MLflow < 2.4): it cannot hold dataset inputs")
        if not wanted:
            return
        d, i, it, runs = t.datasets, t.inputs, t.input_tags, t.runs

        def work(conn: Connection) -> None:
            row = conn.execute(
                sa.select(runs.c.experiment_id, runs.c.lifecycle_stage).where(runs.c.run_uuid == run_id)
            ).first()
            if row is None:
                raise not_found_run(run_id)
            experiment_id, stage = row
            if stage != "active":
                raise InvalidValue(f"Run '{run_id}' is deleted; restore it before you log inputs to it")
            names = sorted({x.dataset.name for x in wanted})
            digests = sorted({x.dataset.digest for x in wanted})
            known = {
                (name, digest): dataset_uuid
                for dataset_uuid, name, digest in conn.execute(
                    sa.select(d.c.dataset_uuid, d.c.name, d.c.digest).where(
                        d.c.experiment_id == experiment_id, d.c.name.in_(names), d.c.digest.in_(digests)
                    )
                )
            }
            new_datasets = []
            for item in wanted:
                key = (item.dataset.name, item.dataset.digest)
                if key not in known:
                    known[key] = uuid.uuid4().hex
                    ds = item.dataset
                    new_datasets.append({
                        "dataset_uuid": known[key], "experiment_id": experiment_id, "name": ds.name,
                        "digest": ds.digest, "dataset_source_type": ds.source_type,
                        "dataset_source": ds.source, "dataset_schema": ds.schema, "dataset_profile": ds.profile,
                    })
            if new_datasets:
                conn.execute(sa.insert(d), new_datasets)
            linked = {
                source_id
                for (source_id,) in conn.execute(
                    sa.select(i.c.source_id).where(
                        i.c.source_type == "DATASET", i.c.source_id.in_(sorted(set(known.values()))),
                        i.c.destination_type == "RUN", i.c.destination_id == run_id,
                    )
                )
            }
            edges: list[dict[str, object]] = []
            tags: list[dict[str, str]] = []
            for item in wanted:
                dataset_uuid = known[(item.dataset.name, item.dataset.digest)]
                if dataset_uuid in linked:
                    continue
                input_uuid = uuid.uuid4().hex
                edge = {
                    "input_uuid": input_uuid, "source_type": "DATASET", "source_id": dataset_uuid,
                    "destination_type": "RUN", "destination_id": run_id,
                }
                if "step" in i.c:
                    edge["step"] = 0
                edges.append(edge)
                tags.extend({"input_uuid": input_uuid, "name": k, "value": val} for k, val in item.tags.items())
            if edges:
                conn.execute(sa.insert(i), edges)
            if tags:
                conn.execute(sa.insert(it), tags)

        self._transaction(work)
