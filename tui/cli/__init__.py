"""`tracktui` command line: open the app on a tracking URI, or run a headless subcommand.

    tracktui [URI] [--read-only] [--experiment NAME|ID]
    tracktui demo [--path DIR] [--runs N] [--fresh] [--no-open]
    tracktui download RUN_ID [ARTIFACT_PATH] [-o DIR] [--uri URI] [--overwrite]
    tracktui export [--uri SRC] EXPERIMENT... -o DIR
    tracktui import DIR --uri DST [--experiment-name NEW]
    tracktui copy --from SRC --to DST [EXPERIMENT...] [--runs ID...] [--since TIME]
    tracktui purge [--uri URI] [--older-than AGE] [--yes]
    tracktui runs EXPERIMENT [--filter F] [--columns C] [--group-by KEY --agg A] [--format FMT]
    tracktui experiments [--filter F] [--format FMT]
    tracktui watch [EXPERIMENT...] [--uri URI] [--no-bell]

Failures print one line (`tracktui: <reason>`) on stderr and exit non-zero; never a traceback.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from tracktui import __version__

from .output import fail

#: The app's option that takes a value (the URI is found around it).
EXPERIMENT_OPTIONS = ("-e", "--experiment")
#: The subcommands, in the order `tracktui --help` lists them.
SUBCOMMANDS = ("demo", "download", "export", "import", "copy", "purge", "runs", "experiments", "watch")
#: Seconds a store call still running at quit may take to finish before the process ends.
QUIT_GRACE_S = 2.0

DEMO_DESCRIPTION = (
    "Create a demo tracking store (several experiments, a sweep with nested runs, "
    "learning curves, failed and running runs) and open it. An existing demo store is reopened."
)


def build_parser() -> argparse.ArgumentParser:
    """`tracktui [URI] [--read-only]`, plus one subparser per subcommand (each sets `run`)."""
    from . import download, experiments, purge, runs, transfer, watch

    parser = argparse.ArgumentParser(
        prog="tracktui",
        usage="%(prog)s [-h] [--version] [URI] [--read-only] [-e NAME|ID]\n       %(prog)s COMMAND [options]",
        description="Browse MLflow experiments, runs, metrics, traces and artifacts in the terminal.",
        epilog="'tracktui COMMAND --help' lists a subcommand's options.",
    )
    # The URI is no argparse argument: an optional positional before the subcommands would take
    # "download" in `tracktui download RUN_ID` for a URI. main() takes it out before parsing.
    app = parser.add_argument_group(
        "opening the app",
        "URI: the tracking URI to open (default: $MLFLOW_TRACKING_URI, else the local default store)",
    )
    app.add_argument("--read-only", action="store_true", help="never write to the store")
    app.add_argument(
        *EXPERIMENT_OPTIONS, dest="open_experiment", metavar="NAME|ID", default=None,
        help="open straight into this experiment's runs (a name, else an id); esc shows the experiments",
    )
    parser.add_argument("--version", action="version", version=f"tracktui {__version__}")
    commands = parser.add_subparsers(dest="command", title="subcommands", metavar="COMMAND")

    demo = commands.add_parser("demo", prog="tracktui demo", help="create (or reopen) a demo store and open it", description=DEMO_DESCRIPTION)
    _add_demo_arguments(demo)
    demo.set_defaults(run=_demo)

    fetch = commands.add_parser("download", prog="tracktui download", help=download.SUMMARY, description=download.DESCRIPTION)
    download.add_arguments(fetch)
    fetch.set_defaults(run=download.run)

    for name in ("export", "import", "copy"):
        summary, description = transfer.HELP[name]
        sub = commands.add_parser(name, prog=f"tracktui {name}", help=summary, description=description)
        transfer.add_arguments(name, sub)
        sub.set_defaults(run=transfer.run)

    gc = commands.add_parser("purge", prog="tracktui purge", help=purge.SUMMARY, description=purge.DESCRIPTION)
    purge.add_arguments(gc)
    gc.set_defaults(run=purge.run)

    for name, module in (("runs", runs), ("experiments", experiments), ("watch", watch)):
        sub = commands.add_parser(name, prog=f"tracktui {name}", help=module.SUMMARY, description=module.DESCRIPTION)
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return parser


def _add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    from ..demo import DEFAULT_RUNS, DEFAULT_SEED, default_demo_dir

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


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    uri, rest = _take_uri(argv)
    args = build_parser().parse_args(rest)
    if args.command is None:
        return _open(uri, read_only=args.read_only, experiment=args.open_experiment)
    if args.open_experiment is not None:
        return fail(f"--experiment opens the app: it does not go with 'tracktui {args.command}'")
    code: int = args.run(args)
    return code


def _take_uri(argv: list[str]) -> tuple[str | None, list[str]]:
    """(URI, the other arguments) when the first positional argument is not a subcommand."""
    skip_value = False
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if skip_value:
            skip_value = False
        elif arg in EXPERIMENT_OPTIONS:
            skip_value = True  # `-e NAME`: NAME is no URI
        elif not arg.startswith("-"):
            return (None, argv) if arg in SUBCOMMANDS else (arg, argv[:i] + argv[i + 1:])
    return None, argv


def _open(uri: str | None, *, read_only: bool, experiment: str | None = None) -> int:
    """Open the store and run the app on it; `experiment` (a name or id) starts on its runs,
    and an unknown one fails with one line before the UI starts."""
    from tracktui.store import StoreError, open_store
    from tracktui.store.base import find_experiment

    try:
        store = open_store(uri, read_only=read_only)
    except StoreError as exc:
        return fail(str(exc))
    opening = None
    if experiment is not None:
        try:
            opening = find_experiment(store, experiment)
        except StoreError as exc:
            store.close()
            return fail(str(exc))
        if opening is None:
            store.close()
            return fail(f"no experiment named or numbered {experiment!r} in {store.display_uri}")
    from ..abandonable import finish_pending
    from ..config import Config
    from ..prefetch import Prefetch, prefetch_runs
    from .preflight import why_not_usable

    if (reason := why_not_usable(store, uri)) is not None:
        store.close()
        return fail(reason)
    config = Config.load()
    # the database starts on the runs screen's first queries while the app imports and starts
    prefetch = prefetch_runs(store, opening, config) if opening is not None else Prefetch()
    from ..app import TrackApp

    try:
        return run_app(TrackApp(store, config=config, open_experiment=opening, prefetch=prefetch))
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
    from ..widgets.image_view import probe_terminal

    probe_terminal()  # graphics protocols can only be asked about before Textual owns the terminal
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
