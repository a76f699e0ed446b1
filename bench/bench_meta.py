"""meta.yaml parsing: tracktui's fast path for the flat files mlflow writes
(store/files/meta.py `parse_meta`) against PyYAML's C loader, on 10,000 run meta.yaml files
generated in memory (no data to build, a few seconds). Checks both give the same dicts.

    python bench/bench_meta.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import uuid

import yaml
from timing import load, measure

from tracktui.store.files.meta import parse_meta

N_FILES = 10_000


def run_meta_files(n: int) -> list[bytes]:
    """Run meta.yaml files as mlflow's FileStore writes them (yaml.safe_dump, block style)."""
    out = []
    for i in range(n):
        run_id = uuid.uuid4().hex
        meta = {
            "artifact_uri": f"file:///data/mlruns/1/{run_id}/artifacts", "end_time": 1_760_000_000_000 + i,
            "entry_point_name": "", "experiment_id": "1", "lifecycle_stage": "active", "run_id": run_id,
            "run_name": f"run-{i}", "run_uuid": run_id, "source_name": "", "source_type": 4,
            "source_version": "", "start_time": 1_760_000_000_000 + i, "status": 3, "tags": [],
            "user_id": "bench",
        }
        out.append(yaml.safe_dump(meta, default_flow_style=False).encode())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    files = run_meta_files(N_FILES)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    assert all(parse_meta(data) == yaml.load(data, Loader=loader) for data in files)
    print(f"before: {load()}")
    print(f"parse {N_FILES:,} run meta.yaml files | wall      cpu  (median of {args.repeat})")

    def pyyaml(data: bytes) -> object:
        return yaml.load(data, Loader=loader)

    for name, parse in (("tracktui parse_meta", parse_meta), (f"PyYAML {loader.__name__}", pyyaml)):
        timing = measure(lambda parse=parse: [parse(data) for data in files], args.repeat)
        print(f"{name:<31}| {timing.wall:6.3f}s {timing.cpu:6.3f}s")
    print(f"after: {load()}")


if __name__ == "__main__":
    main()
