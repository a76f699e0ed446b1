"""`tracktui download RUN_ID [ARTIFACT_PATH] [-o DIR] [--uri URI] [--overwrite]`: the quick
artifact fetch on a training box. Headless: needs only the store layer and Rich, never Textual.

Progress goes to stderr (a Rich bar over bytes and files); where the files landed goes to
stdout, so `$(tracktui download …)` captures the path. Failures print one line and exit non-zero.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..sizes import human_size
from .output import EXIT_INTERRUPTED, LiveProgress, fail, say

SUMMARY = "fetch a run's artifacts without the TUI"
DESCRIPTION = (
    "Download a run's artifacts (a file or a directory; all by default), keeping "
    "their paths below the run's artifact root, as 'mlflow artifacts download' does."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `tracktui download` options, on the subcommand's parser."""
    parser.add_argument("run_id", help="the run whose artifacts to fetch")
    parser.add_argument("artifact_path", nargs="?", default="", help="file or directory inside the run's artifacts (default: all)")
    parser.add_argument("-o", "--output", type=Path, default=Path("."), help="destination directory (default: the current directory)")
    parser.add_argument("--uri", default=None, help="tracking URI (default: $MLFLOW_TRACKING_URI, else the local default store)")
    parser.add_argument("--overwrite", action="store_true", help="replace files that already exist in the destination")
    parser.add_argument("--workers", type=int, default=None,
                        help="files fetched at the same time (default: 8, and up to 32 more files under 1 MiB)")


def run(args: argparse.Namespace) -> int:
    """Download as `args` says; the exit code."""
    from rich.console import Console

    from tracktui.store import StoreError, open_store

    err = Console(stderr=True)
    try:
        with open_store(args.uri, read_only=True) as store, _ProgressBar(err) as bar:
            landed = store.download_artifacts(
                args.run_id, args.artifact_path, args.output,
                progress=bar.update, overwrite=args.overwrite, workers=args.workers,
            )
    except StoreError as exc:
        return fail(exc.message)
    except KeyboardInterrupt:
        fail("download interrupted; no partial file was left under a final name", EXIT_INTERRUPTED)
        _exit_now_if_workers_are_stuck(EXIT_INTERRUPTED)
        return EXIT_INTERRUPTED
    except OSError as exc:  # destination not writable, disk full
        return fail(f"cannot write to {args.output}: {exc.strerror or exc}")
    files, size = bar.files_total, bar.bytes_done
    say(f"Downloaded {files} file{'s' if files != 1 else ''} ({human_size(size)}) to {landed.resolve()}")
    return 0


class _ProgressBar(LiveProgress):
    """A bar fed by the download engine's callbacks; keeps the totals for the summary line."""

    first_description = "listing…"

    def __init__(self, console):
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        super().__init__(
            console, TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
            TransferSpeedColumn(), TimeRemainingColumn(),
        )
        self.files_total = 0
        self.bytes_done = 0

    def update(self, event) -> None:
        self.files_total = event.files_total
        self.bytes_done = event.done
        self._progress.update(
            self.task, completed=event.done, total=event.total,
            description=f"{event.files_done}/{event.files_total} files",
        )


def _exit_now_if_workers_are_stuck(code: int) -> None:
    """Workers blocked in a network read would hold the interpreter at exit until their read
    timed out; their temp files are already removed, so leave at once."""
    import os
    import threading

    if any(t.name.startswith("tracktui-download") and t.is_alive() for t in threading.enumerate()):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
