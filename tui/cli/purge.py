"""`tracktui purge [--uri URI] [--older-than 30d] [--yes]`: remove deleted runs for good, as
`mlflow gc` does, after naming every run that goes and asking.

Deleting in tracktui (d) only moves runs to the deleted view, where u restores them; this is
the one way to make that final. The runs that would go are listed first (a dry run of the
store's purge); without `--yes` the user must answer "y", and a non-interactive run without
`--yes` purges nothing. A tracking server offers no purge over REST: there, the answer is
`mlflow gc` on the server's host.
"""

from __future__ import annotations

import argparse
import re
import sys

from .output import fail, say

EXIT_DECLINED = 1
#: Runs named one by one before the list is summarised.
MAX_LISTED = 50

_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


SUMMARY = "remove deleted runs for good, as mlflow gc (asks first)"
DESCRIPTION = (
    "Permanently remove deleted runs (their metrics, params, tags and local artifacts), as "
    "'mlflow gc' does. Lists the runs and asks before removing anything."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--uri", default=None, help="tracking URI (default: $MLFLOW_TRACKING_URI, else the local default store)")
    parser.add_argument("--older-than", default=None, metavar="AGE",
                        help="only runs deleted at least this long ago, as mlflow gc: 30d, 12h, 1d2h30m")
    parser.add_argument("--yes", action="store_true", help="do not ask (for scripts)")


def parse_age(text: str) -> int:
    """Milliseconds from mlflow gc's `#d#h#m#s` form. Raises ValueError."""
    match = _DURATION.fullmatch(text.strip())
    if not text.strip() or match is None:
        raise ValueError(f"--older-than {text!r} is not an age like 30d, 12h or 1d2h30m")
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60_000 + seconds * 1000


def run(args: argparse.Namespace) -> int:
    from tracktui.store import StoreError, open_store

    try:
        older_than = parse_age(args.older_than) if args.older_than else None
    except ValueError as exc:
        return fail(str(exc))
    try:
        store = open_store(args.uri)
    except StoreError as exc:
        return fail(exc.message)
    try:
        if store.read_only:
            return fail(f"cannot purge {store.display_uri}: {store.read_only_reason}")
        if not store.can_purge:
            return fail(f"{store.display_uri} offers no purge: run 'mlflow gc' where its database lives")
        doomed = store.purge_deleted_runs(older_than, dry_run=True)
        if not doomed:
            print("No deleted runs to purge.")
            return 0
        _name_runs(store, doomed)
        if not args.yes and not _confirmed(len(doomed)):
            print("Nothing purged.", file=sys.stderr)
            return EXIT_DECLINED
        removed = store.purge_deleted_runs(older_than)
    except StoreError as exc:
        return fail(exc.message)
    except KeyboardInterrupt:
        print("\nNothing more purged.", file=sys.stderr)
        return EXIT_DECLINED
    finally:
        store.close()
    print(f"Purged {len(removed)} run{'s' if len(removed) != 1 else ''}.")
    for why in getattr(store, "last_purge_skipped", ()):
        say(f"  left alone {why}")
    for location in getattr(store, "last_purge_artifacts_left", ()):
        say(f"  artifacts not removed (remote): {location}")
    return 0


def _name_runs(store, run_ids: list[str]) -> None:
    """Print the runs that would go: id, name and experiment (repr: store text is data)."""
    print(f"{len(run_ids)} deleted run{'s' if len(run_ids) != 1 else ''} will be removed for good "
          "(metrics, params, tags and local artifacts):")
    experiments: dict[str, str] = {}
    for run_id in run_ids[:MAX_LISTED]:
        try:
            run = store.get_run(run_id)
        except Exception:  # noqa: BLE001 - naming is best effort; the id is what counts
            print(f"  {run_id}")
            continue
        if run.experiment_id not in experiments:
            try:
                experiments[run.experiment_id] = store.get_experiment(run.experiment_id).name
            except Exception:  # noqa: BLE001
                experiments[run.experiment_id] = run.experiment_id
        print(f"  {run_id}  {run.name!r}  in experiment {experiments[run.experiment_id]!r}")
    if len(run_ids) > MAX_LISTED:
        print(f"  … and {len(run_ids) - MAX_LISTED} more")


def _confirmed(count: int) -> bool:
    if not sys.stdin.isatty():
        print("tracktui: not purging without confirmation: pass --yes to purge from a script", file=sys.stderr)
        return False
    answer = input(f"Purge these {count} run{'s' if count != 1 else ''}? This cannot be undone. [y/N] ")
    return answer.strip().lower() in ("y", "yes")
