"""`tracktui` as a user types it: help, version, a bad URI, and `tracktui demo`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tracktui import __version__
from tracktui.store import open_store


def tracktui(*args: str, env: dict[str, str] | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    script = Path(sys.executable).parent / "tracktui"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "tracktui.tui.cli"]
    full_env = {**os.environ, **(env or {})}
    full_env.pop("MLFLOW_TRACKING_URI", None)
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=timeout, env=full_env)


def test_help_mentions_uri_read_only_and_demo():
    result = tracktui("--help")
    assert result.returncode == 0
    assert "--read-only" in result.stdout and "demo" in result.stdout and "URI" in result.stdout.upper()


def test_help_lists_every_subcommand():
    result = tracktui("--help")
    assert result.returncode == 0
    listed = result.stdout.split("subcommands:", 1)[1]
    for command in ("demo", "download", "export", "import", "copy"):
        assert f"\n    {command} " in listed, f"{command} missing from --help:\n{result.stdout}"


def test_each_subcommand_has_its_own_help():
    for command, option in (("download", "--overwrite"), ("export", "--output"), ("import", "--experiment-name"),
                            ("copy", "--from")):
        result = tracktui(command, "--help")
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"usage: tracktui {command} ") and option in result.stdout


def test_a_uri_before_the_options_still_opens_the_app():
    """`tracktui URI --read-only` is not mistaken for a subcommand: the URI reaches open_store."""
    result = tracktui("bogus://nowhere", "--read-only")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[0].startswith("tracktui: ") and "bogus" in result.stderr
    assert "invalid choice" not in result.stderr


def test_version():
    result = tracktui("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"tracktui {__version__}"


def test_bad_uri_exits_nonzero_with_one_line_reason():
    result = tracktui("bogus://nowhere")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("tracktui: ") and "bogus" in lines[0]
    assert "Traceback" not in result.stderr


def test_uri_with_unencoded_password_fails_in_one_line_without_the_password():
    for uri in ("postgresql://postgres:Secret99@127.0.0.1:port/db", "postgresql://postgres:p@ss99@127.0.0.1:1/db"):
        result = tracktui(uri, "--read-only")
        assert result.returncode != 0
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Secret99" not in result.stderr and "ss99" not in result.stderr
        assert "Traceback" not in result.stderr and "%40" in result.stderr


def test_demo_help():
    result = tracktui("demo", "--help")
    assert result.returncode == 0
    assert "--path" in result.stdout and "--runs" in result.stdout


def test_demo_rejects_zero_runs(tmp_path):
    result = tracktui("demo", "--path", str(tmp_path / "d"), "--runs", "0", "--no-open")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == ["tracktui: --runs must be at least 1"]


def test_demo_creates_a_store_once_then_reopens_it(tmp_path):
    target = tmp_path / "demo"
    first = tracktui("demo", "--path", str(target), "--runs", "20", "--no-open")
    assert first.returncode == 0, first.stderr
    uri = first.stdout.strip()
    assert uri == f"sqlite:///{(target / 'mlflow.db').resolve()}"
    with open_store(uri, read_only=True) as store:
        names = {e.name for e in store.search_experiments().items}
        assert {"mnist-classifier", "lr-sweep", "text-sentiment-bert"} <= names
        sweep = store.get_experiment_by_name("lr-sweep")
        runs = store.search_runs([sweep.id], max_results=1000).items
        assert any(r.parent_run_id for r in runs)
        statuses = {r.status for e in store.search_experiments().items for r in store.search_runs([e.id], max_results=1000).items}
        assert {"FINISHED", "FAILED", "RUNNING"} <= statuses
        mnist = store.get_experiment_by_name("mnist-classifier")
        with_artifacts = [r for r in store.search_runs([mnist.id], max_results=1000).items if store.list_artifacts(r.id)]
        assert with_artifacts, "no demo run has artifacts"
        listed = {e.path for e in store.list_artifacts(with_artifacts[0].id, "model")}
        assert {"model/MLmodel", "model/requirements.txt"} <= listed
        bert = store.get_experiment_by_name("text-sentiment-bert")
        traces = store.search_traces([bert.id], max_results=100).items
        assert len(traces) == 24 and {t.state for t in traces} == {"OK", "ERROR"}
        linked = {t.run_id for t in traces if t.run_id}
        assert linked and all(store.get_run(r).experiment_id == bert.id for r in linked)
        failed = next(t for t in traces if t.state == "ERROR")
    from mlflow.tracking import MlflowClient

    read_back = MlflowClient(uri).get_trace(failed.trace_id)  # real mlflow reads the demo's spans
    assert read_back.info.state == "ERROR"
    names = {s.name: s for s in read_back.data.spans}
    assert names["llm_judge"].status.status_code == "ERROR" and names["llm_judge"].events[0].name == "exception"
    assert names["tokenize"].parent_id == names["evaluate_review"].span_id
    judged = {a.name: a for a in read_back.info.assessments}  # and the judge's error, by mlflow too
    assert judged["label_correct"].error.error_code == "TIMEOUT"
    assert judged["label_correct"].span_id == names["llm_judge"].span_id
    overridden = [a for t in traces for a in MlflowClient(uri).get_trace(t.trace_id).info.assessments if a.overrides]
    assert overridden and all(a.source.source_type == "HUMAN" and a.valid for a in overridden)
    again = tracktui("demo", "--path", str(target), "--no-open")
    assert again.returncode == 0
    assert "existing demo store" in again.stderr
    assert again.stdout.strip() == uri


def test_demo_is_deterministic(tmp_path):
    ids = []
    for name in ("a", "b"):
        result = tracktui("demo", "--path", str(tmp_path / name), "--runs", "20", "--no-open")
        assert result.returncode == 0, result.stderr
        with open_store(result.stdout.strip(), read_only=True) as store:
            exp = store.get_experiment_by_name("mnist-classifier")
            page = store.search_runs([exp.id], view="all", max_results=1000)
            ids.append([(r.id, r.name, r.start_time, r.status, dict(r.params)) for r in page.items])
            bert = store.get_experiment_by_name("text-sentiment-bert")
            ids.append([(t.trace_id, t.request_time, t.state, t.run_id, t.request_preview)
                        for t in store.search_traces([bert.id], max_results=100).items])
    assert ids[0] == ids[2] and ids[1] == ids[3]


def test_experiment_option_with_an_unknown_name_fails_in_one_line_before_the_ui(tmp_path):
    uri = _tiny_store(tmp_path)
    for args, name in (((uri, "--experiment", "nope"), "nope"), (("-e", "nope", uri), "nope"), ((uri, "-e", "12345"), "12345")):
        result = tracktui(*args)
        assert result.returncode != 0
        assert result.stderr.strip().splitlines() == [
            f"tracktui: no experiment named or numbered {name!r} in {uri}"
        ], result.stderr
        assert result.stdout == ""  # no UI was started


def test_experiment_option_opens_its_runs_by_name_or_id(tmp_path):
    """In a pseudo-terminal, with the start-up probe: the first screen to paint data is the
    runs screen, whatever order the URI and the option come in."""
    uri = _tiny_store(tmp_path)
    exp_id = open_store(uri).get_experiment_by_name("probe-exp").id
    for args in ((uri, "-e", "probe-exp"), ("--experiment", exp_id, uri), (uri,)):
        probe = tmp_path / "probe.txt"
        probe.unlink(missing_ok=True)
        code = _run_in_pty([*args], env={"TRACKTUI_STARTUP_PROBE": str(probe)})
        assert code == 0
        assert probe.read_text().split()[1] == ("RunsScreen" if len(args) > 1 else "ExperimentsScreen")


def test_experiment_option_does_not_go_with_a_subcommand():
    result = tracktui("-e", "x", "download", "0123abcd", "--uri", "bogus://nowhere")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "tracktui: --experiment opens the app: it does not go with 'tracktui download'"
    ]


def _tiny_store(tmp_path: Path) -> str:
    """A SQLite store with one experiment ("probe-exp") holding one run, made by real mlflow."""
    import mlflow

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = mlflow.MlflowClient(uri)
    exp_id = client.create_experiment("probe-exp", artifact_location=str(tmp_path / "artifacts"))
    run = client.create_run(exp_id, run_name="only-run")
    client.log_metric(run.info.run_id, "loss", 0.5)
    client.set_terminated(run.info.run_id)
    return uri


def _run_in_pty(args: list[str], env: dict[str, str], timeout: float = 60) -> int:
    """Run `tracktui ARGS` on a pseudo-terminal (Textual needs one), reading its output so it
    never blocks; the exit status."""
    import pty
    import select
    import time

    script = Path(sys.executable).parent / "tracktui"
    master, slave = pty.openpty()
    full_env = {**os.environ, **env, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
    full_env.pop("MLFLOW_TRACKING_URI", None)
    process = subprocess.Popen([str(script), *args], stdin=slave, stdout=slave, stderr=slave, env=full_env,
                               close_fds=True, start_new_session=True)
    os.close(slave)
    deadline = time.monotonic() + timeout
    try:
        while process.poll() is None and time.monotonic() < deadline:
            if select.select([master], [], [], 0.1)[0]:
                try:
                    os.read(master, 65536)
                except OSError:
                    break
        return process.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)


def test_unreachable_server_exits_nonzero_with_one_line_before_any_ui():
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = tracktui(f"http://127.0.0.1:{port}", env={"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"}, timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tracktui: Cannot reach the MLflow server"), result.stderr
    assert result.stdout == ""  # the app never started (it would have drawn the screen)


def test_missing_directory_exits_nonzero_with_one_line(tmp_path):
    missing = tmp_path / "no" / "such" / "mlruns"
    result = tracktui(str(missing), timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"tracktui: No mlruns directory at {missing}"]
    assert not missing.exists()
