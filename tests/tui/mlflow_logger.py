"""A real mlflow process logging into a store while a test watches: reads one JSON command a
line on stdin, runs it with MlflowClient, answers one JSON line on stdout.

    {"op": "start", "experiment": "train", "name": "r1"}          -> {"run_id": ...}
    {"op": "log", "run_id": ..., "key": "loss", "values": [..], "start_step": 0,
     "timestamps": [..] (optional)}                                -> {}
    {"op": "end", "run_id": ..., "status": "KILLED"}               -> {}
"""

from __future__ import annotations

import json
import sys
import time

from mlflow.entities import Metric
from mlflow.tracking import MlflowClient


def main(uri: str) -> None:
    client = MlflowClient(tracking_uri=uri)
    for line in sys.stdin:
        command = json.loads(line)
        op = command["op"]
        if op == "start":
            experiment = client.get_experiment_by_name(command["experiment"])
            experiment_id = experiment.experiment_id if experiment else client.create_experiment(command["experiment"])
            run = client.create_run(experiment_id, run_name=command["name"])
            answer = {"run_id": run.info.run_id}
        elif op == "log":
            now = int(time.time() * 1000)
            stamps = command.get("timestamps") or [now] * len(command["values"])
            metrics = [
                Metric(command["key"], float(v), ts, command.get("start_step", 0) + i)
                for i, (v, ts) in enumerate(zip(command["values"], stamps))
            ]
            client.log_batch(command["run_id"], metrics=metrics)
            answer = {}
        elif op == "end":
            client.set_terminated(command["run_id"], status=command["status"])
            answer = {}
        else:
            answer = {"error": f"unknown op {op}"}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
