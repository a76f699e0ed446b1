"""`tracktui export|import|copy`: move experiments between tracking stores without the TUI.

    tracktui export [--uri SRC] EXPERIMENT... -o DIR
    tracktui import DIR --uri DST [--experiment-name NEW] [EXPERIMENT...]
    tracktui copy --from SRC --to DST [EXPERIMENT...] [--runs ID...] [--since TIME]

Headless: the store layer (store.transfer) and Rich, never Textual. A progress bar on stderr,
a summary on stdout; a failed run is listed and the others continue (exit 1); whatever was
skipped (runs or experiments the source could not read, refused files and symlinks,
assessments the destination cannot take) is listed
too and also exits 1; a failure before anything could be copied prints one line and exits 2. Running the same command again resumes
and copies only what is new or changed.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path

from ..safe_text import inert
from ..sizes import human_size
from .output import EXIT_INTERRUPTED, LiveProgress, fail, say

EXIT_RUNS_FAILED = 1
DEFAULT_ID_MAP = "tracktui-id-map.json"
#: What `--registry` takes (store.transfer.registry).
REGISTRY_CHOICES = ("auto", "all", "related", "none")


#: (one-line summary, description) of each subcommand, for `tracktui --help` and `tracktui X --help`.
HELP = {
    "export": (
        "export experiments to a directory",
        "Export experiments (runs, params, tags, full metric histories, artifacts) to a "
        "directory in tracktui's documented format (docs/export-format.md). Re-running updates it.",
    ),
    "import": (
        "import an export directory into a store",
        "Import an export directory into a tracking store. SQL and file stores keep "
        "run ids and times; a tracking server gets new ids, recorded in a mapping file.",
    ),
    "copy": (
        "copy experiments between stores",
        "Copy experiments from one tracking store to another. Copy a legacy mlruns "
        "directory into sqlite:///mlflow.db to migrate off the file store.",
    ),
}


def add_arguments(command: str, parser: argparse.ArgumentParser) -> None:
    """The options of `tracktui <command>` (export, import or copy), on its subcommand parser."""
    {"export": _export_arguments, "import": _import_arguments, "copy": _copy_arguments}[command](parser)
    parser.add_argument("--workers", type=int, default=None, help="runs and artifact files copied at the same time (default: 4)")
    parser.add_argument("--no-artifacts", action="store_true", help="copy metadata and metrics only")
    parser.add_argument(
        "--registry", choices=REGISTRY_CHOICES, default="auto",
        help="registered models and prompts to copy: all, related (the models registered from the copied "
             "runs), none, or auto (default: all when no experiment is named, else none)")


def _export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("experiments", nargs="+", metavar="EXPERIMENT", help="experiment names or ids")
    parser.add_argument("-o", "--output", type=Path, required=True, help="export directory")
    parser.add_argument("--uri", default=None, help="source tracking URI (default: $MLFLOW_TRACKING_URI, else the local default store)")
    parser.add_argument("--runs", nargs="+", default=(), metavar="ID", help="only these runs")
    parser.add_argument("--since", default=None, metavar="TIME", help="only runs started or ended at/after TIME (ISO date/time or epoch ms)")


def _import_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", type=Path, help="export directory (made by 'tracktui export')")
    parser.add_argument("experiments", nargs="*", metavar="EXPERIMENT", help="only these experiments (names or ids)")
    parser.add_argument("--uri", required=True, help="destination tracking URI (a new sqlite:/// file is created)")
    parser.add_argument("--experiment-name", default=None, help="name for the imported experiment (one experiment only)")
    parser.add_argument("--id-map", type=Path, default=None, help=f"mapping file old→new ids (default over REST: ./{DEFAULT_ID_MAP})")


def _copy_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("experiments", nargs="*", metavar="EXPERIMENT", help="experiment names or ids (default: all)")
    parser.add_argument("--from", dest="source", required=True, help="source tracking URI")
    parser.add_argument("--to", dest="dest", required=True, help="destination tracking URI (a new sqlite:/// file is created)")
    parser.add_argument("--runs", nargs="+", default=(), metavar="ID", help="only these runs")
    parser.add_argument("--since", default=None, metavar="TIME", help="only runs started or ended at/after TIME (ISO date/time or epoch ms)")
    parser.add_argument("--experiment-name", default=None, help="name at the destination (one experiment only)")
    parser.add_argument("--id-map", type=Path, default=None, help=f"mapping file old→new ids (default over REST: ./{DEFAULT_ID_MAP})")


def parse_time(text: str) -> int:
    """Epoch milliseconds from `1700000000000`, `2024-05-01` or `2024-05-01T12:00[:00][+02:00]`
    (no zone: UTC)."""
    if text.strip().isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"--since {text!r} is not a date/time (2024-05-01, 2024-05-01T12:00) or epoch ms") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


def run(args: argparse.Namespace) -> int:
    """Run `args.command` (export, import or copy) with its parsed options; the exit code."""
    command = args.command
    from rich.console import Console

    from tracktui.store import StoreError, open_store
    from tracktui.store.transfer import (
        DEFAULT_WORKERS,
        DirSink,
        DirSource,
        StoreSink,
        StoreSource,
        TransferOptions,
        open_destination,
        transfer,
    )

    err = Console(stderr=True)
    try:
        since = parse_time(args.since) if getattr(args, "since", None) else None
    except ValueError as exc:
        return fail(str(exc))
    if args.workers is not None and args.workers < 1:
        return fail("--workers must be at least 1")
    options = TransferOptions(
        experiments=tuple(args.experiments),
        run_ids=tuple(getattr(args, "runs", ())),
        since=since,
        experiment_name=getattr(args, "experiment_name", None),
        artifacts=not args.no_artifacts,
        registry=args.registry,
        workers=args.workers or DEFAULT_WORKERS,
    )
    opened = []
    source: StoreSource | DirSource
    sink: DirSink | StoreSink
    try:
        if command == "export":
            src = open_store(args.uri, read_only=True)
            opened.append(src)
            source, sink = StoreSource(src), DirSink(args.output, src.display_uri)
        elif command == "import":
            source = DirSource(args.directory)
            dst = open_destination(args.uri)
            opened.append(dst)
            sink = StoreSink(dst)
        else:
            src = open_store(args.source, read_only=True)
            opened.append(src)
            dst = open_destination(args.dest)
            opened.append(dst)
            source, sink = StoreSource(src), StoreSink(dst)
        if command != "export" and not sink.keeps_ids:
            options.mapping_file = args.id_map or Path(DEFAULT_ID_MAP)
        elif command != "export" and args.id_map is not None:
            options.mapping_file = args.id_map
        with _ProgressBar(err) as bar:
            report = transfer(source, sink, options, progress=bar.update)
    except StoreError as exc:
        return fail(exc.message)
    except KeyboardInterrupt:
        return fail("interrupted; run the same command again to resume", EXIT_INTERRUPTED)
    except OSError as exc:
        return fail(f"{exc.strerror or exc}{f': {exc.filename}' if exc.filename else ''}")
    finally:
        for store in opened:
            store.close()
    _summary(report, sink.description, options)
    if report.failed or report.skipped:
        print(f"tracktui: {_incomplete(report)}", file=sys.stderr)
        return EXIT_RUNS_FAILED
    return 0


def _incomplete(report) -> str:
    """One line saying what did not make it, and whether anything did."""
    parts = []
    if report.failed:
        parts.append(f"{len(report.failed)} run(s) failed")
    if report.skipped:
        parts.append(f"{len(report.skipped)} item(s) skipped (listed above)")
    rest = "the others were copied" if report.copied_any else "nothing was copied"
    return f"{'; '.join(parts)}; {rest}"


def _summary(report, destination: str, options) -> None:
    total = len(report.created) + len(report.updated) + len(report.unchanged) + len(report.failed)
    say(
        f"{total} run{'s' if total != 1 else ''} in {len(report.experiments)} experiment"
        f"{'s' if len(report.experiments) != 1 else ''} → {destination}: {len(report.created)} new, "
        f"{len(report.updated)} updated, {len(report.unchanged)} unchanged, {len(report.failed)} failed, "
        f"{len(report.skipped)} skipped; "
        f"{report.artifact_files} artifact file{'s' if report.artifact_files != 1 else ''} ({human_size(report.artifact_bytes)})"
    )
    if report.traces:
        print(f"{report.traces} trace{'s' if report.traces != 1 else ''} copied")
    skipped_models = sum(1 for what in report.skipped if what.startswith("logged model "))
    if report.logged_models or skipped_models:
        say(f"{report.logged_models} logged model{'s' if report.logged_models != 1 else ''} copied, "
            f"{skipped_models} skipped")
    skipped_registry = sum(1 for what in report.skipped if what.startswith(("registered model ", "prompt ")))
    if report.registered_models or report.model_versions or skipped_registry:
        say(f"{report.registered_models} registered model{'s' if report.registered_models != 1 else ''} or prompt"
            f"{'s' if report.registered_models != 1 else ''} and {report.model_versions} version"
            f"{'s' if report.model_versions != 1 else ''} copied, {skipped_registry} skipped")
    for old, new in sorted(report.version_numbers.items()):
        say(f"  version {old} is version {new} at the destination")
    if not report.ids_kept and options.mapping_file is not None:
        print(f"New run ids (the destination cannot keep them) are mapped in {options.mapping_file}")
    for run_id, reason in sorted(report.failed.items()):
        say(f"  failed {run_id}: {reason}")
    for what in report.skipped:
        say(f"  skipped {what}")
    for warning in report.warnings:
        say(f"  warning: {warning}")


class _ProgressBar(LiveProgress):
    """A bar over runs, fed from the engine's callback."""

    first_description = "runs"

    def __init__(self, console):
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeRemainingColumn,
        )

        super().__init__(
            # markup=False: the description is an experiment's name
            console, TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(),
            TimeRemainingColumn()
        )

    def update(self, event) -> None:
        self._progress.update(
            self.task, completed=event.runs_done, total=event.runs_total,
            description=inert(event.experiment or "runs")[:40],
        )
