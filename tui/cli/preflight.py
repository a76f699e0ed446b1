"""Before the app starts: the store named on the command line must exist and answer.

The README promises that a bad URI or an unreachable store exits non-zero with one line; an
app that opens on "could not load" (nothing listening) or on an empty list (a path that does
not exist) says neither. A store that fails later, while the app runs, keeps the in-app
message and retry, and so does a server that accepts the connection but is slow to answer:
the check waits at most PREFLIGHT_S, then the app starts (and `q` quits it at once).
"""

from __future__ import annotations

import time

from tracktui.store import StoreError, open_store
from tracktui.store.base import Store
from tracktui.store.uris import uri_scheme

from ..abandonable import Abandoned, call_abandonable

#: Longest wait for the store's first answer before the app starts anyway. A refused
#: connection or a missing database answers in well under a second.
PREFLIGHT_S = 5.0


def why_not_usable(store: Store, uri: str | None) -> str | None:
    """The one-line reason the app should not start on `store` (opened from `uri`, None for
    the default store), or None. Makes one small store call: one experiment is listed."""
    if uri and uri_scheme(uri) == "file":
        # Writable file stores are created on the first write (as mlflow does for ./mlruns);
        # a path typed on the command line that does not exist is a typo, not a new store.
        try:
            open_store(uri, read_only=True).close()
        except StoreError as exc:
            return str(exc)
    deadline = time.monotonic() + PREFLIGHT_S
    try:
        call_abandonable(lambda: store.search_experiments(max_results=1), lambda: time.monotonic() > deadline)
    except StoreError as exc:
        return str(exc)
    except Abandoned:
        return None  # slow, not gone: the app shows the listing when (or if) it arrives
    return None
