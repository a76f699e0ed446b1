"""Start-up imports only what the first screen needs (issue 25: launch → list ≤ 0.6 s): on a
SQLite store, neither the PostgreSQL/MySQL dialects nor TextArea (tree-sitter) load before the
experiments and runs screens are built. bench/bench_startup.py --importtime shows the costs."""

from __future__ import annotations

import json
import subprocess
import sys

#: Loaded only when used: a server dialect's insert or array, a text area being edited.
DEFERRED = ("sqlalchemy.dialects.postgresql", "sqlalchemy.dialects.mysql", "textual.widgets._text_area",
            "tree_sitter")

_FIRST_SCREENS = """
import json, sys
from tracktui.store import open_store
from tracktui.tui.app import TrackApp
from tracktui.tui.screens.experiments import ExperimentsScreen
from tracktui.tui.screens.runs import RunsScreen
store = open_store(sys.argv[1], read_only=True)
store.search_experiments()
print(json.dumps(sorted(sys.modules)))
"""


def test_the_first_screens_on_sqlite_load_no_server_dialect_and_no_text_area(sqlite_backend):
    proc = subprocess.run([sys.executable, "-c", _FIRST_SCREENS, sqlite_backend.uri], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "tracktui.tui.screens.runs" in loaded
    early = [name for name in loaded if any(name == d or name.startswith(d + ".") for d in DEFERRED)]
    assert early == []
