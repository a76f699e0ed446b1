"""A realistic demo store, written through tracktui's own store layer (never raw SQL).

Several experiments, a hyper-parameter sweep with nested runs, a few hundred runs with
learning curves, failed, killed and still-running runs, system metrics, a deleted experiment,
some deleted runs, and LLM-judged evaluation traces (demo_traces.py). Everything derives from
`seed` and `base_time_ms`, so the same arguments give the same ids, names, values and times
(snapshot tests rely on it).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tracktui.store.base import Store
from tracktui.store.model import DATASET_CONTEXT_TAG, NOTE_TAG, Dataset, DatasetInput, MetricPoint

from .user_dirs import data_dir

#: 2024-05-01 09:00:00 UTC: every demo time is an offset from here.
BASE_TIME_MS = 1_714_554_000_000
DEFAULT_SEED = 7
DEFAULT_RUNS = 300
_MINUTE = 60_000
_USERS = ("alice", "bob", "chen", "dana")
#: The datasets every MNIST run logs as inputs (as `mlflow.log_input` records them).
_MNIST_INPUTS = (
    DatasetInput(
        Dataset("mnist-train", "3f1a9c2e", "http", '{"url": "https://storage.example.org/mnist/train.npz"}',
                '{"mlflow_tensorspec": {"features": "[{\\"type\\": \\"tensor\\", \\"tensor-spec\\": '
                '{\\"dtype\\": \\"uint8\\", \\"shape\\": [-1, 28, 28]}}]"}}',
                '{"features_shape": [60000, 28, 28], "features_size": 47040000, "features_nbytes": 47040000}'),
        {DATASET_CONTEXT_TAG: "training"},
    ),
    DatasetInput(
        Dataset("mnist-test", "b7d40e51", "http", '{"url": "https://storage.example.org/mnist/test.npz"}'),
        {DATASET_CONTEXT_TAG: "eval"},
    ),
)


@dataclass
class DemoSummary:
    experiments: dict[str, str] = field(default_factory=dict)  # name → id
    runs: int = 0
    traces: int = 0
    registered: int = 0  # registered models and prompts


def default_demo_dir() -> Path:
    """`demo` in the user's data folder (tui/user_dirs.py: on Linux `$XDG_DATA_HOME/tracktui/demo`,
    default `~/.local/share/tracktui/demo`)."""
    return data_dir() / "demo"


def demo_db_path(directory: Path) -> Path:
    return directory / "mlflow.db"


def create_demo_store(
    directory: Path,
    *,
    runs: int = DEFAULT_RUNS,
    seed: int = DEFAULT_SEED,
    base_time_ms: int = BASE_TIME_MS,
    progress: Callable[[str], None] | None = None,
) -> str:
    """Create `directory/mlflow.db` (artifacts under `directory/mlruns`), fill it, return its URI.

    Raises StoreError (InvalidValue if the database already exists)."""
    from tracktui.store.sql.init import initialize_sqlite_store
    from tracktui.store.uris import open_store

    directory = Path(directory).expanduser().resolve()
    uri = initialize_sqlite_store(demo_db_path(directory), artifact_root=str(directory / "mlruns"))
    store = open_store(uri)
    try:
        populate(store, runs=runs, seed=seed, base_time_ms=base_time_ms, progress=progress)
    finally:
        store.close()
    return uri


def populate(
    store: Store,
    *,
    runs: int = DEFAULT_RUNS,
    seed: int = DEFAULT_SEED,
    base_time_ms: int = BASE_TIME_MS,
    progress: Callable[[str], None] | None = None,
) -> DemoSummary:
    """Write the demo experiments and about `runs` runs (children included) into `store`."""
    writer = _DemoWriter(store, random.Random(seed), base_time_ms, progress or (lambda _msg: None), seed)
    return writer.write(max(runs, 20))


class _DemoWriter:
    def __init__(self, store: Store, rng: random.Random, base: int, progress: Callable[[str], None], seed: int):
        self.store = store
        self.rng = rng
        self.clock = base
        self.progress = progress
        self.summary = DemoSummary()
        self._pending_params: dict[str, dict[str, str]] = {}
        self._artifact_uris: dict[str, str | None] = {}
        self._finished_bert_runs: list[tuple[str, int]] = []  # (run id, start): the traces' runs
        self._last_logged: dict[str, int] = {}  # run id → its latest metric timestamp
        self._seed = seed

    def write(self, total: int) -> DemoSummary:
        sweep_parents = max(2, total // 50)
        sweep_children = max(4, (total * 25 // 100) // sweep_parents)
        plan: list[tuple[str, Callable[[str, int, int], None] | None, int]] = [
            ("mnist-classifier", self._mnist, total * 40 // 100),
            ("lr-sweep", None, 0),
            ("text-sentiment-bert", self._bert, total * 20 // 100),
            ("sales-forecasting", self._forecast, total * 15 // 100),
        ]
        for name, make, count in plan:
            exp_id = self._experiment(name)
            self.progress(f"{name}: writing runs")
            if make is None:  # lr-sweep: parents and their children
                self._sweep(exp_id, sweep_parents, sweep_children)
            else:
                for i in range(count):
                    make(exp_id, i, count)
        self._traces()
        self._registry()
        self._experiment("scratch")  # an experiment with no runs
        old = self._experiment("old-baselines")
        for i in range(3):
            self._forecast(old, i)
        self.store.delete_experiment(old)
        return self.summary

    # -- experiments and runs ----------------------------------------------------------------

    def _experiment(self, name: str) -> str:
        descriptions = {
            "mnist-classifier": "Small CNNs on MNIST: optimizer and learning-rate study.",
            "lr-sweep": "Grid sweep over learning rate and weight decay; one parent run per grid.",
            "text-sentiment-bert": "Fine-tuning BERT-base for sentiment, with system metrics.",
            "sales-forecasting": "Weekly sales forecasts per region.",
            "scratch": "Nothing here yet.",
            "old-baselines": "Superseded baselines (deleted).",
        }
        teams = {"mnist-classifier": "vision", "lr-sweep": "vision", "text-sentiment-bert": "nlp"}
        tags = {NOTE_TAG: descriptions.get(name, "")}
        tags["team"] = teams.get(name, "forecasting")
        exp_id = self.store.create_experiment(name, tags=tags)
        self.summary.experiments[name] = exp_id
        return exp_id

    def _run_id(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def _start(self, *, exp_id: str, name: str, params: dict[str, str], tags: dict[str, str] | None = None,
               parent: str | None = None) -> tuple[str, int]:
        self.clock += self.rng.randint(3, 40) * _MINUTE
        start = self.clock
        run = self.store.create_run(
            exp_id,
            name=name,
            start_time=start,
            user_id=self.rng.choice(_USERS),
            tags={
                "mlflow.source.name": "train.py",
                "mlflow.source.type": "LOCAL",
                "mlflow.source.git.commit": f"{self.rng.getrandbits(160):040x}",
                **(tags or {}),
            },
            parent_run_id=parent,
            run_id=self._run_id(),
        )
        self.summary.runs += 1
        self._artifact_uris[run.id] = run.artifact_uri
        self._pending_params[run.id] = params  # logged with the run's first metrics: one transaction
        return run.id, start

    def _log(self, run_id: str, metrics: list[tuple[str, MetricPoint]]) -> None:
        self.store.log_batch(run_id, metrics=metrics, params=self._pending_params.pop(run_id, None))

    def _finish(self, run_id: str, start: int, minutes: float, status: str) -> None:
        if run_id in self._pending_params:
            self._log(run_id, [])
        if status in ("RUNNING", "SCHEDULED"):
            return
        # A run ends after the last metric it logged.
        end = max(start + int(minutes * _MINUTE), self._last_logged.get(run_id, start) + 1000)
        self.store.update_run(run_id, status=status, end_time=end)

    def _outcome(self, index: int, count: int) -> str:
        if index % 23 == 5:
            return "FAILED"
        if index % 41 == 9:
            return "KILLED"
        if index >= count - 2:
            return "RUNNING"  # the newest runs are still going
        return "FINISHED"

    def _curves(self, run_id: str, start: int, epochs: int, lr: float, fail_at: int | None = None,
                names: tuple[str, str, str] = ("train/loss", "val/loss", "val/accuracy")) -> float:
        rng = self.rng
        speed = min(1.0, 0.15 + 40 * lr) * rng.uniform(0.7, 1.2)
        floor = rng.uniform(0.02, 0.12)
        points: list[tuple[str, MetricPoint]] = []
        acc = 0.0
        ts = start
        for step in range(epochs):
            ts += rng.randint(20, 90) * 1000  # each epoch logs after the one before
            train = floor + (2.3 - floor) * math.exp(-speed * step) + rng.gauss(0, 0.02)
            val = train * rng.uniform(1.02, 1.15) + 0.01 * max(0, step - epochs * 0.7)
            if fail_at is not None and step >= fail_at:
                train = val = float("nan") if step == fail_at + 1 else train * (3 + step - fail_at)
            acc = max(0.0, min(0.999, 1 - val / 2.4 + rng.gauss(0, 0.004))) if not math.isnan(val) else acc
            points += [
                (names[0], MetricPoint(round(train, 5), step, ts)),
                (names[1], MetricPoint(round(val, 5), step, ts)),
                (names[2], MetricPoint(round(acc, 5), step, ts)),
            ]
            if fail_at is not None and step > fail_at:
                break
        self._log(run_id, points)
        self._last_logged[run_id] = max(ts, self._last_logged.get(run_id, ts))
        return acc

    def _mnist(self, exp_id: str, index: int, count: int) -> None:
        rng = self.rng
        lr = rng.choice((0.1, 0.03, 0.01, 0.003, 0.001))
        optimizer = rng.choice(("sgd", "adam", "adamw"))
        batch = rng.choice((32, 64, 128))
        status = self._outcome(index, count)
        epochs = rng.randint(12, 30)
        run_id, start = self._start(
            exp_id=exp_id,
            name=f"{optimizer}-lr{lr}-b{batch}-{index:03d}",
            params={"lr": str(lr), "optimizer": optimizer, "batch_size": str(batch), "epochs": str(epochs),
                    "model": rng.choice(("cnn-small", "cnn-wide", "mlp"))},
            tags={"dataset": "mnist", **({NOTE_TAG: "Best run so far: promote to baseline."} if index == 7 else {})},
        )
        self.store.log_inputs(run_id, _MNIST_INPUTS)
        fail_at = rng.randint(3, epochs - 2) if status == "FAILED" else None
        done = rng.randint(2, epochs) if status in ("RUNNING", "KILLED") else epochs
        self._curves(run_id, start, done, lr, fail_at)
        self._finish(run_id, start, done * rng.uniform(0.8, 1.6), status)
        if index % 10 == 0 and status == "FINISHED":
            self._model_artifacts(run_id, {"lr": lr, "optimizer": optimizer, "batch_size": batch, "epochs": epochs})
        if index % 37 == 3:
            self.store.delete_runs([run_id])

    def _sweep(self, exp_id: str, parents: int, children: int) -> None:
        rng = self.rng
        for p in range(parents):
            wd = (0.0, 1e-4, 1e-3, 1e-2)[p % 4]
            parent_id, start = self._start(
                exp_id=exp_id, name=f"sweep-wd{wd}-{p}", params={"weight_decay": str(wd), "trials": str(children)},
                tags={"sweep": "lr"},
            )
            best = 0.0
            parent_running = p == parents - 1
            for c in range(children):
                lr = round(10 ** rng.uniform(-4, -1), 5)
                status = "RUNNING" if parent_running and c >= children - 2 else ("FAILED" if c % 9 == 4 else "FINISHED")
                child_id, cstart = self._start(
                    exp_id=exp_id, name=f"trial-{p}-{c:02d}", params={"lr": str(lr), "weight_decay": str(wd)},
                    parent=parent_id,
                )
                epochs = rng.randint(8, 15)
                acc = self._curves(child_id, cstart, epochs, lr, fail_at=3 if status == "FAILED" else None)
                best = max(best, acc if status == "FINISHED" else 0.0)
                self._finish(child_id, cstart, epochs * rng.uniform(0.5, 1.2), status)
            self._log(parent_id, [("best/val_accuracy", MetricPoint(round(best, 5), 0, self.clock))])
            status = "RUNNING" if parent_running else "FINISHED"
            self._finish(parent_id, start, (self.clock - start) / _MINUTE + 1, status)
            self._write_artifacts(parent_id, {"sweep.yaml": f"grid:\n  weight_decay: {wd}\n  trials: {children}\n"
                                                             f"  lr: loguniform(1e-4, 1e-1)\n"})

    def _model_artifacts(self, run_id: str, params: dict[str, object]) -> None:
        config = "".join(f"{k}: {v}\n" for k, v in params.items())
        self._write_artifacts(run_id, {
            "config.yaml": config,
            "model/MLmodel": "artifact_path: model\nflavors:\n  python_function:\n    loader_module: mlflow.pytorch\n"
                             "    python_version: 3.11.7\n  pytorch:\n    pytorch_version: 2.3.0\n",
            "model/requirements.txt": "mlflow==3.17.2\ntorch==2.3.0\n",
            "model/data/model.pth": bytes(range(256)) * 16,
            "eval/confusion_matrix.csv": "label," + ",".join(map(str, range(10))) + "\n" + "".join(
                f"{i}," + ",".join("97" if i == j else "0" for j in range(10)) + "\n" for i in range(10)),
            "README.md": f"# Model from run {run_id[:8]}\n\n"
                         f"{params.get('optimizer')} at learning rate {params.get('lr')}; see config.yaml.\n",
        })

    def _write_artifacts(self, run_id: str, files: dict[str, str | bytes]) -> None:
        """Files in the run's local artifact directory, as mlflow's local artifact repository
        lays them out (the store protocol has no artifact writes; remote roots are skipped)."""
        uri = self._artifact_uris.get(run_id) or ""
        if "://" in uri and not uri.startswith("file:"):
            return
        from tracktui.store.artifacts.local import local_path_of

        root = local_path_of(uri)
        for rel, content in files.items():
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")

    def _bert(self, exp_id: str, index: int, count: int) -> None:
        rng = self.rng
        lr = rng.choice((2e-5, 3e-5, 5e-5))
        status = self._outcome(index + 3, count + 3)
        epochs = rng.randint(3, 6) * 4
        run_id, start = self._start(
            exp_id=exp_id, name=f"bert-base-lr{lr}-{index:03d}",
            params={"lr": str(lr), "model": "bert-base-uncased", "max_len": str(rng.choice((128, 256))),
                    "warmup_steps": str(rng.choice((0, 500)))},
            tags={"dataset": "imdb"},
        )
        self._curves(run_id, start, epochs, lr * 2000, 5 if status == "FAILED" else None,
                     names=("train/loss", "eval/loss", "eval/f1"))
        system = []
        for step in range(20):
            ts = start + step * 30_000
            self._last_logged[run_id] = max(ts, self._last_logged.get(run_id, ts))
            system += [
                ("system/cpu_utilization_percentage", MetricPoint(round(rng.uniform(20, 95), 1), step, ts)),
                ("system/gpu_0_memory_usage_megabytes", MetricPoint(round(rng.uniform(9000, 15000)), step, ts)),
            ]
        self._log(run_id, system)
        self._finish(run_id, start, epochs * rng.uniform(2, 4), status)
        if status == "FINISHED":
            self._finished_bert_runs.append((run_id, start))

    def _traces(self) -> None:
        """LLM-judged evaluation traces in the BERT experiment (tui/demo_traces.py), from an
        hour after its last finished run; some name one of its last finished runs."""
        from .demo_traces import write_demo_traces

        if not self._finished_bert_runs:
            return
        self.progress("text-sentiment-bert: writing traces")
        runs = [run_id for run_id, _start in self._finished_bert_runs[-4:]]
        start = self._finished_bert_runs[-1][1] + 60 * _MINUTE
        self.summary.traces = write_demo_traces(self.store, self.summary.experiments["text-sentiment-bert"],
                                                runs, start, self._seed)

    def _registry(self) -> None:
        """The last three finished BERT runs as versions of a registered model, and two prompts
        (tui/demo_registry.py), from two hours after the last of them."""
        from .demo_registry import write_demo_registry

        if not self._finished_bert_runs:
            return
        self.progress("registry: registering models and prompts")
        chosen = self._finished_bert_runs[-3:]
        start = chosen[-1][1] + 120 * _MINUTE
        self.summary.registered = write_demo_registry(
            self.store, [run_id for run_id, _start in chosen], self._artifact_uris, start)

    def _forecast(self, exp_id: str, index: int, count: int = 0) -> None:
        rng = self.rng
        region = rng.choice(("emea", "amer", "apac"))
        run_id, start = self._start(
            exp_id=exp_id, name=f"prophet-{region}-{index:03d}",
            params={"region": region, "seasonality": rng.choice(("additive", "multiplicative")),
                    "horizon_weeks": str(rng.choice((4, 8, 12)))},
        )
        ts = start + 60_000
        self._last_logged[run_id] = ts
        self._log(run_id, [
            ("mape", MetricPoint(round(rng.uniform(0.04, 0.3), 4), 0, ts)),
            ("rmse", MetricPoint(round(rng.uniform(120, 900), 1), 0, ts)),
        ])
        self._finish(run_id, start, rng.uniform(1, 6), "FINISHED" if index % 17 != 3 else "FAILED")
