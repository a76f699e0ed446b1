"""`tracktui watch [EXPERIMENT…] [--uri URI] [--no-bell]`: open the app on the live board of
RUNNING runs (tui/screens/watch.py), for a tmux pane next to the training jobs.

Experiments are named by name or id; an unknown one fails before the app opens.
"""

from __future__ import annotations

import argparse

from .output import fail

SUMMARY = "a live board of every running run and its health"
DESCRIPTION = (
    "Open a live board of every RUNNING run in the named experiments (default: all), "
    "refreshed on its own, flagging NaN/inf metrics, a rising loss, stalled logging, an idle GPU "
    "and runs that fail or are killed; rings the terminal bell when one turns unhealthy."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `tracktui watch` options, on the subcommand's parser."""
    parser.add_argument("experiments", nargs="*", metavar="EXPERIMENT", help="experiment name or id (default: all)")
    parser.add_argument("--uri", default=None, help="tracking URI (default: $MLFLOW_TRACKING_URI, else the local default store)")
    parser.add_argument("--no-bell", action="store_true", help="no terminal bell or notification when a run turns unhealthy")


def run(args: argparse.Namespace) -> int:
    """Open the board as `args` says; the exit code."""
    from tracktui.store import StoreError, open_store

    from . import QUIT_GRACE_S, run_app

    try:
        store = open_store(args.uri, read_only=True)
    except StoreError as exc:
        return fail(str(exc))
    try:
        experiments = resolve_experiments(store, args.experiments) if args.experiments else None
    except StoreError as exc:
        store.close()
        return fail(exc.message)
    from ..abandonable import finish_pending
    from ..screens.watch import watch_app

    try:
        return run_app(watch_app(store, experiments, bell=not args.no_bell))
    finally:
        if finish_pending(QUIT_GRACE_S) == 0:
            store.close()


def resolve_experiments(store, names_or_ids: list[str]) -> dict[str, str]:
    """id -> name of each experiment named by name or id. Raises NotFound for an unknown one."""
    from tracktui.store.errors import InvalidValue, NotFound

    out: dict[str, str] = {}
    for wanted in names_or_ids:
        experiment = store.get_experiment_by_name(wanted)
        if experiment is None:
            try:
                experiment = store.get_experiment(wanted)
            except (NotFound, InvalidValue):  # a name that is no id either
                raise NotFound(f"No experiment named or numbered {wanted!r}") from None
        out[experiment.id] = experiment.name
    return out
