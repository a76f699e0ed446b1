"""A small deterministic SQLite store whose every text field is hostile, for tests/tui/test_hostile_text.py.

Hostile text: terminal escapes (OSC 52 sets the clipboard, OSC 2 the window title, CSI 2J
clears the screen), BEL, CR/LF, C1 controls, bidi overrides and isolates, and Textual/Rich
markup (`[/INST]`, `[/]`, `[@click=app.quit]x[/]`, `[bold]`). Experiments, runs, params, tags,
metrics, artifacts and the trace are written by the real mlflow SQL store and artifact
repository; keys mlflow's client refuses (brackets, escapes) are then written with plain SQL
into mlflow's own tables, as another client or an older server could have left them.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from pathlib import Path

OSC52 = "\x1b]52;c;UFdORUQ=\x07"
OSC2 = "\x1b]2;pwned\x07"
CLEAR = "\x1b[2J"
BIDI = "\u202eevil\u202c \u2066iso\u2069"
#: Every hostile ingredient once; the markup comes first so cut-off cells still show it.
HOSTILE = f"[/INST] [/] [@click=app.quit]x[/] [bold]b {OSC52}{OSC2}{CLEAR}\x07 c\rr\nl \x9b1m {BIDI}"

EXPERIMENT = f"[/INST] exp {OSC52}"
SECOND_EXPERIMENT = "[/] second"
RUN_NAME = f"[@click=app.quit]x[/] run {OSC2}"
PARAM_KEY = f"[/INST]p{CLEAR}"
TAG_KEY = "[bold]t\x07"
METRIC_KEY = f"[/INST]m{OSC52}"
EXPERIMENT_TAG_KEY = "[/INST]tag"
#: A file name cannot hold "/": the folder and the file make `[/INST]` of the path together.
ARTIFACT_DIR = "notes["
ARTIFACT_FILE = "INST] [bold].txt"
ARTIFACT_PATH = f"{ARTIFACT_DIR}/{ARTIFACT_FILE}"
CSV_FILE = "table[bold].csv"
#: Listed, but the store refuses to read a path with control characters.
ESCAPED_FILE = f"x{OSC2}{CLEAR}.txt"
TRACE_NAME = f"[/INST] trace {OSC2}"
SPAN_NAME = f"[/] span {CLEAR}"
T0_MS = 1_767_225_600_000  # 2026-01-01 00:00:00 UTC
TRACE_ID = "tr-" + "0" * 31 + "9"

#: Characters that must never reach the terminal from store text.
RAW_CONTROLS = frozenset(
    [chr(c) for c in range(0x20)] + [chr(c) for c in range(0x7F, 0xA0)]
    + [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]
)


def create_hostile_store(directory: Path) -> tuple[str, dict[str, str]]:
    """Write the store under `directory`: (tracking URI, {"experiment": id, "second": id, "run": id})."""
    from mlflow.entities import Metric, Param, RunStatus, RunTag
    from mlflow.store.artifact.local_artifact_repo import LocalArtifactRepository
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    directory.mkdir(parents=True, exist_ok=True)
    db = directory / "mlflow.db"
    uri = f"sqlite:///{db}"
    store = SqlAlchemyStore(uri, str(directory / "artifacts"))
    try:
        exp_id = store.create_experiment(EXPERIMENT, str(directory / "artifacts" / "1"))
        second_id = store.create_experiment(SECOND_EXPERIMENT, str(directory / "artifacts" / "2"))
        store.set_experiment_tag(exp_id, _tag("team", HOSTILE))
        run = store.create_run(exp_id, user_id=f"[/]user{OSC2}", start_time=T0_MS, tags=[], run_name=RUN_NAME)
        run_id = run.info.run_id
        store.log_batch(run_id, metrics=[Metric("loss", 0.5, T0_MS, 0)], params=[Param("lr", HOSTILE)],
                        tags=[RunTag("note", HOSTILE), RunTag("mlflow.note.content", HOSTILE)])
        store.update_run_info(run_id, RunStatus.FINISHED, T0_MS + 60_000, RUN_NAME)
        _write_artifacts(LocalArtifactRepository(run.info.artifact_uri))
        _write_trace(store, exp_id, run_id)
    finally:
        store.engine.dispose()
    _write_keys_mlflow_refuses(db, exp_id, run_id)
    return uri, {"experiment": exp_id, "second": second_id, "run": run_id}


def _tag(key: str, value: str):
    from mlflow.entities import ExperimentTag

    return ExperimentTag(key, value)


def _write_artifacts(repo) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / ARTIFACT_FILE).write_text(f"line one {HOSTILE}\nline two\r\n")
        (folder / CSV_FILE).write_text(f"[/INST]{CLEAR},b\n{OSC52},[@click=app.quit]x[/]\n")
        (folder / ESCAPED_FILE).write_text(HOSTILE)
        repo.log_artifact(str(folder / ARTIFACT_FILE), ARTIFACT_DIR)
        repo.log_artifact(str(folder / CSV_FILE))
        repo.log_artifact(str(folder / ESCAPED_FILE))


def _write_trace(store, experiment_id: str, run_id: str) -> None:
    from mlflow.entities import Span, TraceInfo, TraceLocation, TraceState

    info = TraceInfo(
        trace_id=TRACE_ID,
        trace_location=TraceLocation.from_experiment_id(experiment_id),
        request_time=T0_MS,
        execution_duration=100,
        state=TraceState.OK,
        request_preview=json.dumps({"q": HOSTILE}, ensure_ascii=False),
        response_preview=HOSTILE,
        trace_metadata={"mlflow.sourceRun": run_id},
        tags={"mlflow.traceName": TRACE_NAME, "[/INST]": HOSTILE},
    )
    store.start_trace(info)
    attributes = {"mlflow.traceRequestId": TRACE_ID, "mlflow.spanType": "CHAIN",
                  "mlflow.spanInputs": {"[/INST]": HOSTILE}, "mlflow.spanOutputs": HOSTILE, "[/]": HOSTILE}
    span = {
        "trace_id": TRACE_ID, "span_id": "c000000000000001", "parent_span_id": None, "name": SPAN_NAME,
        "start_time_unix_nano": T0_MS * 1_000_000, "end_time_unix_nano": (T0_MS + 100) * 1_000_000,
        "status": {"code": "STATUS_CODE_ERROR", "message": HOSTILE},
        "attributes": {k: json.dumps(v) for k, v in attributes.items()},
        "events": [{"name": "exception", "time_unix_nano": (T0_MS + 50) * 1_000_000,
                    "attributes": {"exception.type": "[/INST]", "exception.message": HOSTILE}}],
    }
    store.log_spans(experiment_id, [Span.from_dict(span)])


def _write_keys_mlflow_refuses(db: Path, experiment_id: str, run_id: str) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO experiment_tags (key, value, experiment_id) VALUES (?, ?, ?)",
                     (EXPERIMENT_TAG_KEY, HOSTILE, int(experiment_id)))
        conn.execute("INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)", (PARAM_KEY, HOSTILE, run_id))
        conn.execute("INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)", (TAG_KEY, HOSTILE, run_id))
        conn.execute("INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?, ?, ?, ?, ?, ?)",
                     (METRIC_KEY, 1.5, T0_MS, run_id, 0, False))
        conn.execute("INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) "
                     "VALUES (?, ?, ?, ?, ?, ?)", (METRIC_KEY, 1.5, T0_MS, 0, False, run_id))
