"""Build the 1M-run scale store (issue 25) on PostgreSQL or MariaDB: schema by real
`mlflow db upgrade`, rows bulk-loaded (PostgreSQL `COPY`, MariaDB `LOAD DATA LOCAL INFILE`).

Shape (`--runs N`, default 1,000,000): 20 experiments, the first holding half the runs (500k),
the rest shrinking; per run 20 params, 8 tags, 10 metrics with their latest value (in `metrics`
and `latest_metrics`); every 200th run has 100-step histories instead of one point; 10% of the
runs are nested (`mlflow.parentRunId`), 2% deleted, 50 of the first experiment RUNNING (the
watch board's). Experiment 2 also holds `--traces` traces (default 200,000) of 3 spans each,
spans in the `spans` table. Artifact locations are `s3://tracktui-scale/…` (no objects: bench_scale.py
serves the bucket with moto and uploads the artifacts it reads). Rows are generated from fixed
seeds, so a rebuild is identical.

Reusable: the database is named after its size (`tracktui_scale` for the defaults) and a
second call only counts its runs and traces; a database whose counts are off (a build cut
short) is dropped and built again. Not a test; run it by hand, at low priority:

    nice -n 10 python bench/build_scale_store.py [--backend postgres|mariadb] [--runs 1000000] [--traces 200000]
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

SERVERS = {
    "postgres": "postgresql+psycopg2://postgres@127.0.0.1:5432",
    "mariadb": "mysql+pymysql://root@127.0.0.1:3306",
}
N_EXPERIMENTS = 20
N_PARAMS = 20
N_METRICS = 10
HISTORY_EVERY = 200  # every 200th run has full histories
HISTORY_STEPS = 100
NESTED_EVERY = 10  # 10% nested
DELETED_EVERY = 50  # 2% deleted
N_RUNNING = 50
SPANS_PER_TRACE = 3
TRACE_EXPERIMENT = 2
BASE_TIME = 1_750_000_000_000
CHUNK_ROWS = 200_000
#: Artifacts live in S3 (bench_scale.py serves the bucket with moto and uploads what it reads).
ARTIFACT_BUCKET = "tracktui-scale"
ARTIFACT_ROOT = f"s3://{ARTIFACT_BUCKET}"


@dataclass(frozen=True)
class ScaleStore:
    uri: str  # SQLAlchemy URL of the database
    runs: int
    traces: int
    largest_experiment_id: str  # the 500k-run experiment
    trace_experiment_id: str


def build(backend: str = "postgres", n_runs: int = 1_000_000, n_traces: int = 200_000) -> ScaleStore:
    """The scale store for these sizes, built unless a complete one is already there."""
    name = "tracktui_scale" if (n_runs, n_traces) == (1_000_000, 200_000) else f"tracktui_scale_{n_runs}_{n_traces}"
    server = SERVERS[backend]
    uri = f"{server}/{name}"
    info = ScaleStore(uri, n_runs, n_traces, "1", str(TRACE_EXPERIMENT))
    if _complete(uri, n_runs, n_traces):
        return info
    _recreate_database(server, name, backend)
    subprocess.run([sys.executable, "-m", "mlflow", "db", "upgrade", uri], check=True, capture_output=True)
    plan = Plan(n_runs, n_traces)
    loader = PostgresLoader(uri) if backend == "postgres" else MariaDBLoader(uri)
    loader.load("experiments", ("experiment_id", "name", "artifact_location", "lifecycle_stage",
                                "creation_time", "last_update_time"), plan.experiments())
    loader.load("experiment_tags", ("key", "value", "experiment_id"), plan.experiment_tags())
    loader.load("runs", RUN_COLUMNS, plan.runs())
    tables: list[tuple[str, tuple[str, ...], Callable[[], Iterator[str]]]] = [
        ("params", ("key", "value", "run_uuid"), plan.params),
        ("tags", ("key", "value", "run_uuid"), plan.tags),
        ("latest_metrics", ("key", "value", "timestamp", "step", "is_nan", "run_uuid"), plan.latest_metrics),
        ("metrics", ("key", "value", "timestamp", "step", "is_nan", "run_uuid"), plan.metrics),
    ]
    if n_traces:
        loader.load("trace_info", TRACE_COLUMNS, plan.trace_infos())
        tables += [
            ("trace_tags", ("key", "value", "request_id"), plan.trace_tags),
            ("trace_request_metadata", ("key", "value", "request_id"), plan.trace_metadata),
            ("spans", SPAN_COLUMNS, plan.spans),
        ]
    loader.before_bulk([table for table, _, _ in tables])
    # Two loads at once: the generator of one table runs while the server ingests another.
    with ThreadPoolExecutor(2) as pool:
        for done in [pool.submit(loader.load, table, cols, rows()) for table, cols, rows in tables]:
            done.result()
    loader.finish()
    if not _complete(uri, n_runs, n_traces):
        raise SystemExit(f"{uri}: counts are off after the build")
    return info


RUN_COLUMNS = ("run_uuid", "name", "source_type", "source_name", "entry_point_name", "user_id", "status",
               "start_time", "end_time", "source_version", "lifecycle_stage", "artifact_uri", "experiment_id",
               "deleted_time")
TRACE_COLUMNS = ("request_id", "experiment_id", "timestamp_ms", "execution_time_ms", "status",
                 "request_preview", "response_preview", "trace_name", "input_tokens", "output_tokens",
                 "total_tokens")
SPAN_COLUMNS = ("trace_id", "experiment_id", "span_id", "parent_span_id", "name", "type", "status",
                "start_time_unix_nano", "end_time_unix_nano", "content")
NULL = "\\N"


class Plan:
    """The rows of the store, as tab-separated lines (`\\N` is NULL), generated on demand."""

    def __init__(self, n_runs: int, n_traces: int):
        self.n_runs, self.n_traces = n_runs, n_traces
        self.sizes = experiment_sizes(n_runs)
        rng = random.Random(25)
        owners = [e for e, size in enumerate(self.sizes, start=1) for _ in range(size)]
        rng.shuffle(owners)  # experiments interleave in time, as on a shared server
        self.experiment_of = owners
        self.run_ids = [format(rng.getrandbits(128), "032x") for _ in range(n_runs)]
        largest = [i for i, e in enumerate(owners) if e == 1]
        self.running = set(largest[-N_RUNNING:])  # the newest runs of the largest experiment

    def experiments(self) -> Iterator[str]:
        for e in range(1, N_EXPERIMENTS + 1):
            yield f"{e}\tscale-{e:02d}\t{ARTIFACT_ROOT}/{e}\tactive\t{BASE_TIME}\t{BASE_TIME}\n"

    def experiment_tags(self) -> Iterator[str]:
        for e in range(1, N_EXPERIMENTS + 1):
            yield f"mlflow.note.content\t{self.sizes[e - 1]} generated runs\t{e}\n"

    def runs(self) -> Iterator[str]:
        rng = random.Random(1)
        for i, run_id in enumerate(self.run_ids):
            e = self.experiment_of[i]
            start = BASE_TIME + i * 1000
            status = "RUNNING" if i in self.running else rng.choice(("FINISHED", "FINISHED", "FINISHED", "FAILED", "KILLED"))
            end = NULL if status == "RUNNING" else str(start + rng.randint(1000, 3_600_000))
            deleted = i % DELETED_EVERY == 7 and status != "RUNNING"
            stage, deleted_time = ("deleted", str(start + 86_400_000)) if deleted else ("active", NULL)
            yield (f"{run_id}\trun-{i}\tLOCAL\ttrain.py\t\tuser{i % 7}\t{status}\t{start}\t{end}\t\t{stage}\t"
                   f"{ARTIFACT_ROOT}/{e}/{run_id}/artifacts\t{e}\t{deleted_time}\n")

    def params(self) -> Iterator[str]:
        rng = random.Random(2)
        for run_id in self.run_ids:
            yield f"p0\tg{rng.randrange(100)}\t{run_id}\n"  # ~100 groups for the group-by
            yield f"p1\t{rng.choice(('adam', 'sgd', 'rmsprop'))}\t{run_id}\n"
            yield f"p2\t{rng.choice((16, 32, 64, 128, 256))}\t{run_id}\n"
            for j in range(3, N_PARAMS):
                yield f"p{j}\t{rng.random():.6g}\t{run_id}\n"

    def tags(self) -> Iterator[str]:
        rng = random.Random(3)
        last_of: dict[int, str] = {}
        for i, run_id in enumerate(self.run_ids):
            e = self.experiment_of[i]
            yield f"mlflow.runName\trun-{i}\t{run_id}\n"
            yield f"mlflow.user\tuser{i % 7}\t{run_id}\n"
            yield f"mlflow.source.name\ttrain.py\t{run_id}\n"
            yield f"mlflow.source.type\tLOCAL\t{run_id}\n"
            yield f"mlflow.source.git.commit\t{rng.getrandbits(160):040x}\t{run_id}\n"
            yield f"team\t{rng.choice(('vision', 'nlp', 'speech', 'rl'))}\t{run_id}\n"
            yield f"dataset\tds-{rng.randrange(30)}\t{run_id}\n"
            yield f"stage\t{rng.choice(('dev', 'staging', 'prod'))}\t{run_id}\n"
            parent = last_of.get(e)
            if i % NESTED_EVERY == 3 and parent is not None:
                yield f"mlflow.parentRunId\t{parent}\t{run_id}\n"
            else:
                last_of[e] = run_id

    def _metric_rows(self, history: bool) -> Iterator[str]:
        rng = random.Random(4)
        for i, run_id in enumerate(self.run_ids):
            start = BASE_TIME + i * 1000
            bases = [rng.random() for _ in range(N_METRICS)]
            full = i % HISTORY_EVERY == 0
            steps = HISTORY_STEPS if full else 1
            for k, base in enumerate(bases):
                last = steps - 1
                if history and full:
                    for step in range(steps):
                        yield f"m{k}\t{base + step * 0.01!r}\t{start + step * 1000}\t{step}\t0\t{run_id}\n"
                else:
                    yield f"m{k}\t{base + last * 0.01!r}\t{start + last * 1000}\t{last}\t0\t{run_id}\n"

    def latest_metrics(self) -> Iterator[str]:
        return self._metric_rows(history=False)

    def metrics(self) -> Iterator[str]:
        return self._metric_rows(history=True)

    # -- traces -------------------------------------------------------------------------------

    def trace_ids(self) -> Iterator[tuple[int, str]]:
        rng = random.Random(5)
        for t in range(self.n_traces):
            yield t, format(rng.getrandbits(128), "032x")

    def trace_infos(self) -> Iterator[str]:
        rng = random.Random(6)
        for t, hex_id in self.trace_ids():
            status = "ERROR" if t % 20 == 0 else "OK"
            tokens_in, tokens_out = rng.randrange(50, 2000), rng.randrange(10, 800)
            yield (f"tr-{hex_id}\t{TRACE_EXPERIMENT}\t{BASE_TIME + t * 500}\t{rng.randrange(20, 5000)}\t{status}\t"
                   f'{{"question": "q{t}"}}\t"answer {t}"\t{rng.choice(("agent", "chat", "rag"))}\t'
                   f"{tokens_in}\t{tokens_out}\t{tokens_in + tokens_out}\n")

    def trace_tags(self) -> Iterator[str]:
        for _, hex_id in self.trace_ids():
            yield f"mlflow.trace.spansLocation\tTRACKING_STORE\ttr-{hex_id}\n"
            yield (f"mlflow.artifactLocation\t{ARTIFACT_ROOT}/{TRACE_EXPERIMENT}/traces/tr-{hex_id}/artifacts"
                   f"\ttr-{hex_id}\n")

    def trace_metadata(self) -> Iterator[str]:
        for _, hex_id in self.trace_ids():
            yield f"mlflow.trace_schema.version\t3\ttr-{hex_id}\n"
            yield f'mlflow.trace.sizeStats\t{{"num_spans": {SPANS_PER_TRACE}}}\ttr-{hex_id}\n'

    def spans(self) -> Iterator[str]:
        rng = random.Random(7)
        kinds = (("agent", "CHAIN"), ("retrieve", "RETRIEVER"), ("llm", "CHAT_MODEL"))
        for t, hex_id in self.trace_ids():
            start_ns = (BASE_TIME + t * 500) * 1_000_000
            trace_b64 = base64.b64encode(bytes.fromhex(hex_id)).decode()
            span_ids = [format(rng.getrandbits(64), "016x") for _ in kinds]
            for s, (name, kind) in enumerate(kinds):
                parent = span_ids[0] if s else None
                begin, end = start_ns + s * 1_000_000, start_ns + (10 - s) * 1_000_000
                model = rng.choice(("gpt-4o", "claude-3", "llama-3")) if kind == "CHAT_MODEL" else None
                attributes = {"mlflow.traceRequestId": json.dumps(f"tr-{hex_id}"),
                              "mlflow.spanType": json.dumps(kind),
                              "mlflow.spanInputs": json.dumps({"n": t})}
                if model:
                    attributes["model"] = json.dumps(model)
                content = json.dumps({
                    "trace_id": trace_b64, "span_id": _b64(span_ids[s]),
                    "parent_span_id": _b64(parent) if parent else None, "name": name,
                    "start_time_unix_nano": begin, "end_time_unix_nano": end, "events": [],
                    "status": {"code": "STATUS_CODE_OK", "message": ""}, "attributes": attributes,
                }).replace("\\", "\\\\")  # COPY/LOAD DATA text format: backslash escapes
                yield (f"tr-{hex_id}\t{TRACE_EXPERIMENT}\t{span_ids[s]}\t{parent or NULL}\t{name}\t{kind}\tOK\t"
                       f"{begin}\t{end}\t{content}\n")


def _b64(hex_id: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_id)).decode()


def experiment_sizes(n_runs: int) -> list[int]:
    """Half the runs in the first experiment, the other half over 19 in falling sizes."""
    largest = n_runs // 2
    weights = [N_EXPERIMENTS - e for e in range(1, N_EXPERIMENTS)]
    rest = [(n_runs - largest) * w // sum(weights) for w in weights]
    rest[0] += n_runs - largest - sum(rest)
    return [largest, *rest]


def _chunks(lines: Iterator[str]) -> Iterator[str]:
    buffer: list[str] = []
    for line in lines:
        buffer.append(line)
        if len(buffer) >= CHUNK_ROWS:
            yield "".join(buffer)
            buffer.clear()
    if buffer:
        yield "".join(buffer)


class PostgresLoader:
    """COPY … FROM STDIN per chunk; foreign-key triggers off for the session (a superuser's
    `session_replication_role = replica`). The big tables' primary keys and indexes are dropped
    before the load and rebuilt after it from their own definitions (`pg_get_constraintdef`,
    `pg_get_indexdef`): maintaining a (key, run_uuid) B-tree row by row under random run ids
    made a 20M-row load take ~30 min on the shared 2-core machine. Rows stay in run order in
    the heap, as MLflow writes them (a run's params and metrics arrive together)."""

    def __init__(self, uri: str):
        self.engine = sa.create_engine(uri, poolclass=sa.pool.NullPool)
        self.rebuild: list[str] = []

    def before_bulk(self, tables: list[str]) -> None:
        with self.engine.begin() as conn:
            for table in tables:
                if table == "spans":  # its primary key is referenced by span_metrics
                    continue
                keys = conn.exec_driver_sql(
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    f"WHERE conrelid = '{table}'::regclass AND contype = 'p'").all()
                indexes = conn.exec_driver_sql(
                    "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
                    f"WHERE indrelid = '{table}'::regclass AND NOT indisprimary").all()
                for name, definition in keys:
                    conn.exec_driver_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
                    self.rebuild.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
                for name, definition in indexes:
                    conn.exec_driver_sql(f"DROP INDEX {name}")
                    self.rebuild.append(definition)

    def load(self, table: str, columns: tuple[str, ...], lines: Iterator[str]) -> None:
        raw = self.engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute("SET session_replication_role = replica; SET synchronous_commit = off")
            for chunk in _chunks(lines):
                cur.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", io.StringIO(chunk))
            raw.commit()
        finally:
            raw.close()

    def finish(self) -> None:
        def run(statement: str) -> None:
            with self.engine.begin() as conn:
                conn.exec_driver_sql("SET maintenance_work_mem = '512MB'")
                conn.exec_driver_sql(statement)

        with ThreadPoolExecutor(2) as pool:
            for done in [pool.submit(run, statement) for statement in self.rebuild]:
                done.result()
        with self.engine.connect() as conn:
            conn.exec_driver_sql(f"SELECT setval('experiments_experiment_id_seq', {N_EXPERIMENTS})")
            conn.commit()
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
        self.engine.dispose()


class MariaDBLoader:
    """LOAD DATA LOCAL INFILE per chunk (a temp file each), with foreign-key and unique checks
    off for the session. InnoDB keeps rows in primary-key order whatever the insert order, so
    the big tables' rows are sent in (key, run id) order: appending to the clustered index
    instead of splitting pages at random (the run-ordered load managed ~0.5M rows a minute)."""

    def __init__(self, uri: str):
        self.engine = sa.create_engine(uri, poolclass=sa.pool.NullPool, connect_args={"local_infile": True})
        self.rebuild: list[str] = []

    def before_bulk(self, tables: list[str]) -> None:
        """Drop the secondary indexes of the big tables (and the foreign keys that need them),
        to be added back by finish() exactly as `SHOW CREATE TABLE` showed them: with a small
        buffer pool, updating a (run_uuid) index at random cost more than the rows."""
        with self.engine.begin() as conn:
            conn.exec_driver_sql("SET foreign_key_checks = 0")
            for table in tables:
                if table not in PRIMARY_KEY_ORDER:
                    continue
                ddl = conn.exec_driver_sql(f"SHOW CREATE TABLE {table}").one()[1]
                keys = re.findall(r"^\s*(KEY `\w+` \(.*\)),?$", ddl, re.M)
                foreign = re.findall(r"^\s*(CONSTRAINT `(\w+)` FOREIGN KEY .*?),?$", ddl, re.M)
                drops = [f"DROP FOREIGN KEY `{name}`" for _, name in foreign]
                drops += [f"DROP INDEX {key.split()[1]}" for key in keys]
                conn.exec_driver_sql(f"ALTER TABLE {table} " + ", ".join(drops))
                adds = [f"ADD {key}" for key in keys] + [f"ADD {clause}" for clause, _ in foreign]
                self.rebuild.append(f"ALTER TABLE {table} " + ", ".join(adds))

    def load(self, table: str, columns: tuple[str, ...], lines: Iterator[str]) -> None:
        if table in PRIMARY_KEY_ORDER:
            lines = _in_key_order(lines, PRIMARY_KEY_ORDER[table])
        raw = self.engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute("SET foreign_key_checks = 0")
            cur.execute("SET unique_checks = 0")
            with tempfile.TemporaryDirectory(prefix="scale-load-") as tmp:
                path = Path(tmp) / "chunk.tsv"
                for chunk in _chunks(lines):
                    path.write_text(chunk, encoding="utf-8")
                    cur.execute(f"LOAD DATA LOCAL INFILE '{path}' INTO TABLE {table} CHARACTER SET utf8mb4 "
                                f"({', '.join(f'`{c}`' for c in columns)})")
                    raw.commit()
        finally:
            raw.close()

    def finish(self) -> None:
        with self.engine.connect() as conn:
            conn.exec_driver_sql("SET foreign_key_checks = 0")  # the rows are known to fit
            for statement in self.rebuild:
                conn.exec_driver_sql(statement)
            conn.exec_driver_sql(f"ALTER TABLE experiments AUTO_INCREMENT = {N_EXPERIMENTS + 1}")
            for table in ("experiments", "runs", "params", "tags", "metrics", "latest_metrics", "trace_info",
                          "trace_tags", "trace_request_metadata", "spans"):
                conn.exec_driver_sql(f"ANALYZE TABLE {table}").all()
        self.engine.dispose()


#: For InnoDB: the rows of a table grouped by their first field (the key) and, within a key,
#: sorted by this function of the line (the rest of the primary key, near enough).
PRIMARY_KEY_ORDER: dict[str, Callable[[str], str]] = {
    "params": lambda line: line[-33:],  # the run id ends the line
    "tags": lambda line: line[-33:],
    "latest_metrics": lambda line: line[-33:],
    "metrics": lambda line: line.split("\t", 3)[2].zfill(20),  # the timestamp
}


def _in_key_order(lines: Iterator[str], order: Callable[[str], str]) -> Iterator[str]:
    groups: dict[str, list[str]] = {}
    for line in lines:
        groups.setdefault(line[:line.index("\t")], []).append(line)
    for key in sorted(groups):
        yield from sorted(groups.pop(key), key=order)


def _complete(uri: str, n_runs: int, n_traces: int) -> bool:
    """The database exists with exactly these counts of runs and traces (and 20 experiments)."""
    engine = sa.create_engine(uri, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            runs = conn.exec_driver_sql("SELECT count(*) FROM runs").scalar()
            traces = conn.exec_driver_sql("SELECT count(*) FROM trace_info").scalar()
            experiments = conn.exec_driver_sql("SELECT count(*) FROM experiments WHERE experiment_id > 0").scalar()
            latest = sa.table("latest_metrics", sa.column("key"))  # `key` is reserved in MySQL: quoted
            metrics = conn.execute(sa.select(sa.func.count()).where(latest.c.key == "m9")).scalar()
            location = conn.exec_driver_sql("SELECT artifact_location FROM experiments WHERE experiment_id = 1").scalar()
            return ((runs, traces, experiments, metrics) == (n_runs, n_traces, N_EXPERIMENTS, n_runs)
                    and location == f"{ARTIFACT_ROOT}/1")
    except sa.exc.SQLAlchemyError:
        return False
    finally:
        engine.dispose()


def _recreate_database(server: str, name: str, backend: str) -> None:
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        if backend == "postgres":
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        else:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
            conn.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=sorted(SERVERS), default="postgres")
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--traces", type=int, default=200_000)
    args = parser.parse_args()
    before = os.getloadavg()
    t0 = time.perf_counter()
    info = build(args.backend, args.runs, args.traces)
    after = os.getloadavg()
    print(f"{info}\nready in {time.perf_counter() - t0:.0f}s; load average {before[0]:.1f} before, "
          f"{after[0]:.1f} / {after[1]:.1f} / {after[2]:.1f} after")


if __name__ == "__main__":
    main()
