"""`tracktui` command line: open the app on a tracking URI, or run a headless subcommand."""

from __future__ import annotations

import argparse
import sys

from . import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tracktui",
        description="Browse MLflow experiments, runs, metrics, traces and artifacts in the terminal.",
        epilog="Subcommands: 'tracktui demo' opens a generated demo store.",
    )
    parser.add_argument("uri", nargs="?", help="tracking URI (default: $MLFLOW_TRACKING_URI, else the local default store)")
    parser.add_argument("--read-only", action="store_true", help="never write to the store")
    parser.add_argument("--version", action="version", version=f"tracktui {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    from store import StoreError, open_store

    try:
        store = open_store(args.uri, read_only=args.read_only)
    except StoreError as exc:
        print(f"tracktui: {exc}", file=sys.stderr)
        return 2
    from .app import TrackApp

    TrackApp(store).run()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
