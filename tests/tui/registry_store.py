"""A small deterministic SQLite store with a model registry and prompts, for the registry
screens' pilot and snapshot tests.

The real mlflow SQL store makes the schema, the experiment and the runs (their ids then fixed
in place, as tests/tui/model_store.py does); the registry rows are written through mlflow's own
ORM classes with fixed times, since its client stamps wall-clock times. Experiment `registry`:
* runs `train-bert` (A_RUN), `train-bert-more` (B_RUN) and `fit-tree` (C_RUN);
* model `bert-classifier`: v1 from A_RUN (Archived), v2 from B_RUN (Production, @champion),
  v3 from B_RUN (@challenger), v4 deleted (MLflow's `Deleted_Internal`, never listed);
* model `tree-model` (a tag that looks like markup): v1 from C_RUN;
* prompt `summarize`: v1 and v2 (`@production` → v2, with a model config);
* prompt `chat-helper`: one chat version.
"""

from __future__ import annotations

import json
from pathlib import Path

from model_store import _fix_run_ids

T0 = 1_767_225_600_000  # 2026-01-01 00:00:00 UTC
A_RUN = "a" * 32
B_RUN = "b" * 32
C_RUN = "c" * 32

SUMMARIZE_V1 = "Summarize the following text in {{ num_sentences }} sentences:\n\n{{ text }}"
SUMMARIZE_V2 = ("Summarize the following article in exactly {{ num_sentences }} short sentences, "
                "for {{ audience }}:\n\n{{ text }}")
CHAT = [{"role": "system", "content": "You are a helpful {{ persona }}."},
        {"role": "user", "content": "{{ question }}"}]

#: name -> (description, tags, [(version, run, stage, status, description, tags)], {alias: version})
MODELS = {
    "bert-classifier": (
        "Sentiment classifier.\nTrained on product reviews.", {"team": "nlp"},
        [(1, A_RUN, "Archived", "READY", "first cut", {}),
         (2, B_RUN, "Production", "READY", "more data", {"validated": "yes"}),
         (3, B_RUN, "None", "READY", None, {}),
         (4, A_RUN, "Deleted_Internal", "READY", None, {})],
        {"champion": 2, "challenger": 3}),
    "tree-model": (None, {"note": "[b]not markup[/b]"}, [(1, C_RUN, "None", "READY", None, {})], {}),
}

PROMPTS = {
    "summarize": (
        "Summaries for the newsletter.", {"owner": "ann"},
        [(1, {"mlflow.prompt.text": SUMMARIZE_V1, "_mlflow_prompt_type": "text"}, "first draft"),
         (2, {"mlflow.prompt.text": SUMMARIZE_V2, "_mlflow_prompt_type": "text",
              "_mlflow_prompt_model_config": json.dumps({"model_name": "gpt-5", "temperature": 0.2})},
          "name the audience")],
        {"production": 2}),
    "chat-helper": (None, {}, [(1, {"mlflow.prompt.text": json.dumps(CHAT), "_mlflow_prompt_type": "chat"},
                                None)], {}),
}


def create_registry_store(directory: Path) -> str:
    from mlflow.store.model_registry.dbmodels.models import (
        SqlModelVersion,
        SqlModelVersionTag,
        SqlRegisteredModel,
        SqlRegisteredModelAlias,
        SqlRegisteredModelTag,
    )
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    uri = f"sqlite:///{directory / 'mlflow.db'}"
    store = SqlAlchemyStore(uri, str(directory / "artifacts"))
    eid = store.create_experiment("registry")
    made = {}
    for run_id, name, offset in ((A_RUN, "train-bert", 0), (B_RUN, "train-bert-more", 5), (C_RUN, "fit-tree", 9)):
        run = store.create_run(eid, user_id="ann", start_time=T0 + offset * 60_000, tags=[], run_name=name)
        store.log_param(run.info.run_id, _param("lr", "0.01" if run_id == A_RUN else "0.001"))
        made[run_id] = run.info.run_id
    store.engine.dispose()
    _fix_run_ids(directory / "mlflow.db", {random: fixed for fixed, random in made.items()})

    store = SqlAlchemyStore(uri, str(directory / "artifacts"))
    with store.ManagedSessionMaker(read_only=False) as session:
        entries = [(name, desc, tags, [(n, run, stage, status, vdesc, vtags) for n, run, stage, status, vdesc, vtags
                                       in versions], aliases) for name, (desc, tags, versions, aliases) in MODELS.items()]
        entries += [(name, desc, {**tags, "mlflow.prompt.is_prompt": "true"},
                     [(n, None, "None", "READY", message, {**vtags, "mlflow.prompt.is_prompt": "true"})
                      for n, vtags, message in versions], aliases)
                    for name, (desc, tags, versions, aliases) in PROMPTS.items()]
        for i, (name, description, tags, versions, aliases) in enumerate(entries):
            created = T0 + i * 3_600_000
            session.add(SqlRegisteredModel(name=name, creation_time=created,
                                           last_updated_time=created + len(versions) * 60_000,
                                           description=description))
            session.flush()
            session.add_all(SqlRegisteredModelTag(name=name, key=k, value=v) for k, v in tags.items())
            for number, run_id, stage, status, vdesc, vtags in versions:
                session.add(SqlModelVersion(
                    name=name, version=number, creation_time=created + number * 60_000,
                    last_updated_time=created + number * 60_000 + 1000, description=vdesc, user_id="ann",
                    current_stage=stage, run_id=run_id, status=status, run_link=None,
                    source=f"s3://team-bucket/models/{name}/{number}" if run_id else "prompt-template",
                    storage_location=None,
                ))
                session.flush()
                session.add_all(SqlModelVersionTag(name=name, version=number, key=k, value=v) for k, v in vtags.items())
            session.add_all(SqlRegisteredModelAlias(name=name, alias=a, version=v) for a, v in aliases.items())
    store.engine.dispose()
    return uri


def _param(key: str, value: str):
    from mlflow.entities import Param

    return Param(key, value)
