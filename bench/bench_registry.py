"""Model-registry benchmark (issue 20): 2,000 registered models × 20 versions on SQLite,
tracktui vs MlflowClient vs the raw-SQL floor, on the same store.

Builds (once, cached in bench/.data/registry2k.db) a registry of --models models, each with 3
tags, --versions versions (2 tags each, stages spread over None/Staging/Production/Archived,
every tenth version deleted) and the aliases `champion` and `challenger`, plus 50 prompts × 3
versions that every model search must leave out — the schema and one model through real
mlflow, the rest as rows in MLflow's own tables. Then times:
  * first page: `search_registered_models(max_results=100)` (name order, with tags, aliases
    and the latest version per stage);
  * versions: `search_model_versions("name = '<a model>'")` (its 18 live versions, with tags);
  * alias: `get_model_version_by_alias(<a model>, "champion")`;
for tracktui on an open store, `MlflowClient` on the same file, and the floor: the queries
tracktui sends, written by hand and run through sqlite3 into plain tuples. Answers are checked
to name the same models and versions in the same order. Targets: faster than MlflowClient on
each, at most 2x the floor. Not a test.

    python bench/bench_registry.py [--models 2000] [--versions 20] [--repeat 11] [--rebuild]
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
import time
from pathlib import Path

from tracktui.store import open_store

sys.path.insert(0, str(Path(__file__).resolve().parent))
import timing  # noqa: E402

DATA = Path(__file__).resolve().parent / ".data"
PAGE = 100
PROMPTS = 50
STAGES = ("None", "Staging", "Production", "Archived")
IS_PROMPT = "mlflow.prompt.is_prompt"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=2000)
    parser.add_argument("--versions", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    DATA.mkdir(exist_ok=True)
    db = DATA / f"registry{args.models // 1000}k.db"
    if args.rebuild and db.exists():
        db.unlink()
    if not db.exists():
        started = time.perf_counter()
        build(db, args.models, args.versions)
        print(f"built {db} in {time.perf_counter() - started:.1f}s")
    uri = f"sqlite:///{db}"
    target = f"model-{args.models // 2:05d}"

    import mlflow

    client = mlflow.MlflowClient(uri, registry_uri=uri)
    store = open_store(uri, read_only=True)
    cases = {
        "first page of models": (
            lambda: [m.name for m in store.search_registered_models(max_results=PAGE).items],
            lambda: [m.name for m in client.search_registered_models(max_results=PAGE)],
            lambda: [r[0] for r in floor_models(db)],
        ),
        "a model's versions": (
            lambda: [v.version for v in store.search_model_versions(f"name = '{target}'").items],
            lambda: [str(v.version) for v in client.search_model_versions(f"name = '{target}'")],
            lambda: [str(r[1]) for r in floor_versions(db, target)],  # (name, version, ...)
        ),
        "resolve an alias": (
            lambda: store.get_model_version_by_alias(target, "champion").version,
            lambda: str(client.get_model_version_by_alias(target, "champion").version),
            lambda: str(floor_alias(db, target, "champion")[1]),
        ),
    }
    print(f"{args.models} models x {args.versions} versions (+{PROMPTS} prompts), median of {args.repeat}; "
          f"{timing.load()}")
    print(f"{'':22} {'tracktui':>9} {'floor':>9} {'mlflow':>9}   {'vs floor':>8} {'vs mlflow':>9}   "
          f"{'cpu: tt':>9} {'floor':>9} {'mlflow':>9}   target (on CPU)")
    for name, (ours, theirs, bare) in cases.items():
        assert ours() == theirs() == bare(), name
        t_ours = timing.measure(ours, args.repeat)
        t_floor = timing.measure(bare, args.repeat)
        t_mlflow = timing.measure(theirs, args.repeat)
        met = t_ours.cpu <= 2 * t_floor.cpu and t_ours.cpu < t_mlflow.cpu
        print(f"{name:22} {t_ours.wall * 1000:7.2f}ms {t_floor.wall * 1000:7.2f}ms {t_mlflow.wall * 1000:7.2f}ms  "
              f"{timing.ratio(t_ours.wall, t_floor.wall)} {timing.ratio(t_ours.wall, t_mlflow.wall)}   "
              f"{t_ours.cpu * 1000:7.2f}ms {t_floor.cpu * 1000:7.2f}ms {t_mlflow.cpu * 1000:7.2f}ms   "
              f"{'ok' if met else 'MISSED'} ({timing.ratio(t_ours.cpu, t_floor.cpu).strip()} floor)")
    print(timing.load())
    store.close()


# -- the store ------------------------------------------------------------------------------------


def build(db: Path, n_models: int, n_versions: int) -> None:
    """Schema and one model through mlflow, then the rest as rows (40,000 versions through the
    client would take an hour and measure nothing of interest)."""
    import mlflow

    uri = f"sqlite:///{db}"
    client = mlflow.MlflowClient(uri, registry_uri=uri)
    client.create_registered_model("schema-probe")
    client.delete_registered_model("schema-probe")
    rng = random.Random(20)
    base = int(time.time() * 1000) - 10_000_000
    models, model_tags, versions, version_tags, aliases = [], [], [], [], []

    def add(name: str, count: int, prompt: bool, t: int) -> None:
        models.append((name, t, t + count, f"model {name}: what it is for", "default"))
        tags = {"team": f"team-{rng.randrange(20)}", "domain": rng.choice(("fraud", "churn", "ranking"))}
        tags[IS_PROMPT if prompt else "owner"] = "true" if prompt else f"user-{rng.randrange(50)}"
        model_tags.extend((k, v, name, "default") for k, v in tags.items())
        for number in range(1, count + 1):
            deleted = not prompt and number % 10 == 0
            stage = "Deleted_Internal" if deleted else "None" if prompt else rng.choice(STAGES)
            run = f"{rng.getrandbits(128):032x}"
            versions.append((name, number, t + number, t + number, None if deleted else f"version {number}", None,
                             stage, f"runs:/{run}/model", run, "READY", None, None, f"runs:/{run}/model", "default"))
            if prompt:
                version_tags.extend(((IS_PROMPT, "true", name, number, "default"),
                                     ("mlflow.prompt.text", f"Say {{{{ x }}}} #{number}", name, number, "default")))
            else:
                version_tags.extend((("validated", rng.choice(("true", "false")), name, number, "default"),
                                     ("data.version", str(number), name, number, "default")))
        if not prompt:
            aliases.append(("champion", count - 1, name, "default"))
            aliases.append(("challenger", count - 2, name, "default"))

    for i in range(n_models):
        add(f"model-{i:05d}", n_versions, False, base + i * 100)
    for i in range(PROMPTS):
        add(f"prompt-{i:03d}", 3, True, base + i * 100)
    conn = sqlite3.connect(db)
    conn.executemany("INSERT INTO registered_models (name, creation_time, last_updated_time, description, workspace) "
                     "VALUES (?,?,?,?,?)", models)
    conn.executemany('INSERT INTO registered_model_tags ("key", value, name, workspace) VALUES (?,?,?,?)', model_tags)
    conn.executemany("INSERT INTO model_versions (name, version, creation_time, last_updated_time, description, "
                     "user_id, current_stage, source, run_id, status, status_message, run_link, storage_location, "
                     "workspace) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", versions)
    conn.executemany('INSERT INTO model_version_tags ("key", value, name, version, workspace) VALUES (?,?,?,?,?)',
                     version_tags)
    conn.executemany("INSERT INTO registered_model_aliases (alias, version, name, workspace) VALUES (?,?,?,?)", aliases)
    conn.commit()
    conn.close()


# -- the floor: tracktui's queries by hand, into tuples -------------------------------------------

_PAGE_SQL = """
SELECT * FROM registered_models rm WHERE rm.workspace = 'default'
  AND NOT EXISTS (SELECT 1 FROM registered_model_tags t WHERE t.name = rm.name AND t.key = ?
                  AND t.value = 'true' AND t.workspace = 'default')
ORDER BY rm.name LIMIT ? OFFSET 0
"""
_LATEST_SQL = """
SELECT mv.* FROM model_versions mv JOIN (
  SELECT name, current_stage, max(version) AS top FROM model_versions
  WHERE name IN ({marks}) AND current_stage != 'Deleted_Internal' AND workspace = 'default'
  GROUP BY name, current_stage) top ON mv.name = top.name AND mv.version = top.top
WHERE mv.workspace = 'default' ORDER BY mv.name, mv.version DESC
"""
_VERSIONS_SQL = """
SELECT * FROM model_versions mv WHERE mv.workspace = 'default' AND mv.current_stage != 'Deleted_Internal'
  AND NOT EXISTS (SELECT 1 FROM model_version_tags t WHERE t.name = mv.name AND t.version = mv.version
                  AND t.key = ? AND t.value = 'true' AND t.workspace = 'default')
  AND mv.name = ?
ORDER BY mv.last_updated_time DESC, mv.name, mv.version DESC LIMIT 10001 OFFSET 0
"""


def _version_tags(conn: sqlite3.Connection, keys: list[tuple[str, int]]) -> list[tuple]:
    names = sorted({k[0] for k in keys})
    numbers = sorted({k[1] for k in keys})
    sql = (f"SELECT name, version, key, value FROM model_version_tags WHERE name IN ({','.join('?' * len(names))}) "
           f"AND version IN ({','.join('?' * len(numbers))}) AND workspace = 'default'")
    wanted = set(keys)
    return [r for r in conn.execute(sql, names + numbers).fetchall() if (r[0], r[1]) in wanted]


_CONNECTIONS: dict[Path, sqlite3.Connection] = {}


def _connection(db: Path) -> sqlite3.Connection:
    """One connection kept open, as tracktui's pool keeps one (connecting costs more than a
    point query)."""
    if db not in _CONNECTIONS:
        _CONNECTIONS[db] = sqlite3.connect(db, check_same_thread=False)
    return _CONNECTIONS[db]


def floor_models(db: Path) -> list[tuple]:
    conn = _connection(db)
    rows = conn.execute(_PAGE_SQL, (IS_PROMPT, PAGE + 1)).fetchall()[:PAGE]
    names = [r[0] for r in rows]
    marks = ",".join("?" * len(names))
    conn.execute(f"SELECT name, key, value FROM registered_model_tags WHERE name IN ({marks})", names).fetchall()
    conn.execute(f"SELECT name, alias, version FROM registered_model_aliases WHERE name IN ({marks})", names).fetchall()
    latest = conn.execute(_LATEST_SQL.format(marks=marks), names).fetchall()
    _version_tags(conn, [(r[0], r[1]) for r in latest])
    return rows


def floor_versions(db: Path, name: str) -> list[tuple]:
    conn = _connection(db)
    rows = conn.execute(_VERSIONS_SQL, (IS_PROMPT, name)).fetchall()
    conn.execute("SELECT name, alias, version FROM registered_model_aliases WHERE name IN (?)", (name,)).fetchall()
    _version_tags(conn, [(r[0], r[1]) for r in rows])
    return rows


def floor_alias(db: Path, name: str, alias: str) -> tuple:
    conn = _connection(db)
    conn.execute("SELECT name FROM registered_models WHERE name = ? AND workspace = 'default'", (name,)).fetchone()
    (number,) = conn.execute("SELECT version FROM registered_model_aliases WHERE name = ? AND alias = ? "
                             "AND workspace = 'default'", (name, alias)).fetchone()
    row = conn.execute("SELECT * FROM model_versions WHERE name = ? AND version = ? AND current_stage != "
                       "'Deleted_Internal' AND workspace = 'default'", (name, number)).fetchone()
    conn.execute("SELECT name, alias, version FROM registered_model_aliases WHERE name IN (?)", (name,)).fetchall()
    _version_tags(conn, [(name, number)])
    return row


if __name__ == "__main__":
    main()
