"""`tracktui` command line: open the app on a tracking URI, or run a headless subcommand.

    tracktui [URI] [--read-only]
    tracktui demo [--path DIR] [--runs N] [--fresh] [--no-open]
    tracktui download RUN_ID [ARTIFACT_PATH] [-o DIR] [--uri URI] [--overwrite]
    tracktui export [--uri SRC] EXPERIMENT... -o DIR
    tracktui import DIR --uri DST [--experiment-name NEW]
    tracktui copy --from SRC --to DST [EXPERIMENT...] [--runs ID...] [--since TIME]
    tracktui purge [--uri URI] [--older-than AGE] [--yes]

Failures print one line (`tracktui: <reason>`) on stderr and exit non-zero; never a traceback.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from tracktui import __version__

from .output import fail

#: Seconds a store call still running at quit may take to finish before the process ends.
QUIT_GRACE_S = 2.0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tracktui",
        description="Browse MLflow experiments, runs, metrics, traces and artifacts in the terminal.",
        epilog="Subcommands: 'tracktui demo [--path DIR] [--runs N]' creates and opens a demo store "
        "(see 'tracktui demo --help'); 'tracktui download RUN_ID [PATH] [-o DIR]' fetches a run's "
        "artifacts without the TUI; 'tracktui purge' removes deleted runs for good (asks first).",
    )
    parser.add_argument(
        "uri", nargs="?", help="tracking URI (default: $MLFLOW_TRACKING_URI, else the local default store)"
    )
    parser.add_argument("--read-only", action="store_true", help="never write to the store")
    parser.add_argument("--version", action="version", version=f"tracktui {__version__}")
    return parser


def build_demo_parser() -> argparse.ArgumentParser:
    from ..demo import DEFAULT_RUNS, DEFAULT_SEED, default_demo_dir

    parser = argparse.ArgumentParser(
        prog="tracktui demo",
        description="Create a demo tracking store (several experiments, a sweep with nested runs, "
        "learning curves, failed and running runs) and open it. An existing demo store is reopened.",
    )
    parser.add_argument(
        "--path", type=Path, default=None, help=f"directory for the demo store (default: {default_demo_dir()})"
    )
    parser.add_argument(
        "--runs", type=int, default=DEFAULT_RUNS, help=f"about how many runs to create (default: {DEFAULT_RUNS})"
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (same seed, same store)")
    parser.add_argument("--fresh", action="store_true", help="delete an existing demo store at that path first")
    parser.add_argument("--no-open", action="store_true", help="only create the store and print its URI")
    parser.add_argument("--read-only", action="store_true", help="open the demo store read-only")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["demo"]:
        return _demo(build_demo_parser().parse_args(argv[1:]))
    if argv[:1] == ["download"]:
        from .download import main as download_main

        return download_main(argv[1:])
    if argv[:1] == ["purge"]:
        from .purge import main as purge_main

        return purge_main(argv[1:])
    if argv[:1] in (["export"], ["import"], ["copy"]):
        from .transfer import main as transfer_main

        return transfer_main(argv[0], argv[1:])
    args = build_parser().parse_args(argv)
    return _open(args.uri, read_only=args.read_only)


def _open(uri: str | None, *, read_only: bool) -> int:
    from tracktui.store import StoreError, open_store

    try:
        store = open_store(uri, read_only=read_only)
    except StoreError as exc:
        return fail(str(exc))
    from ..abandonable import finish_pending
    from ..app import TrackApp

    try:
        return run_app(TrackApp(store))
    finally:
        # a call stuck on a silent server must not hold the process (quit must quit); a
        # write still finishing gets a moment
        if finish_pending(QUIT_GRACE_S) == 0:
            store.close()


def run_app(app, **run_options) -> int:
    """Run the app (`run_options` go to `App.run`); the exit status: 0, or non-zero when an
    unhandled exception ended it (Textual has printed the traceback), after saying on stderr
    which delete was still waiting for ctrl+z and how to restore it by hand."""
    from ..actions import undo_left_behind

    app.run(**run_options)
    if not app.return_code:
        return 0
    lost = undo_left_behind(app)
    if lost:
        fail(f"the app crashed with a delete pending: {lost}")
    return app.return_code


def _demo(args: argparse.Namespace) -> int:
    from tracktui.store import StoreError

    from ..demo import create_demo_store, default_demo_dir, demo_db_path

    directory = (args.path or default_demo_dir()).expanduser().resolve()
    db = demo_db_path(directory)
    if args.runs < 1:
        return fail("--runs must be at least 1")
    if args.fresh and directory.exists():
        if not db.exists():
            return fail(f"--fresh refuses to delete {directory}: it does not hold a demo store")
        db.unlink()
        shutil.rmtree(directory / "mlruns", ignore_errors=True)
    if db.exists():
        uri = f"sqlite:///{db}"
        print(f"Opening the existing demo store {uri} (--fresh rebuilds it)", file=sys.stderr)
    else:
        print(f"Creating a demo store in {directory} …", file=sys.stderr)
        try:
            uri = create_demo_store(directory, runs=args.runs, seed=args.seed,
                                    progress=lambda msg: print(f"  {msg}", file=sys.stderr))
        except StoreError as exc:
            return fail(str(exc))
    if args.no_open:
        print(uri)
        return 0
    return _open(uri, read_only=args.read_only)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
