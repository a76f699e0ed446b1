"""The seams, enforced: the store layer loads no UI and no mlflow; the TUI speaks no SQL or HTTP."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN_IN_STORE = ("mlflow", "textual", "rich", "tui")
FORBIDDEN_IN_TUI = ("sqlalchemy", "httpx")

# httpx's optional command-line client (`httpx._main`) imports rich whenever rich is installed,
# and httpx tolerates its absence. So the child process makes the forbidden packages
# unimportable: a store module that needs one of them fails loudly, while httpx quietly skips
# its CLI, and whatever still ends up in sys.modules was loaded by our own code.
_IMPORT_EVERY_STORE_MODULE = """
import importlib, importlib.abc, json, pkgutil, sys

FORBIDDEN = set(sys.argv[1].split(","))

class Forbid(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in FORBIDDEN:
            raise ImportError(f"forbidden import in the store layer: {name}")
        return None

sys.meta_path.insert(0, Forbid())
import store
names = sorted(m.name for m in pkgutil.walk_packages(store.__path__, "store."))
for name in names:
    importlib.import_module(name)
print(json.dumps({"modules": names, "loaded": sorted(sys.modules)}))
"""


def test_store_modules_load_no_ui_and_no_mlflow():
    proc = subprocess.run(
        [sys.executable, "-c", _IMPORT_EVERY_STORE_MODULE, ",".join(FORBIDDEN_IN_STORE)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert {"store.uris", "store.search", "store.sql"} <= set(result["modules"])
    leaked = [name for name in result["loaded"] if name.split(".")[0] in FORBIDDEN_IN_STORE]
    assert leaked == []


def _imports_of(source: str, packages: tuple[str, ...]) -> list[str]:
    """Top-level package names from `packages` that the source imports anywhere (even inside
    functions). Relative imports (`from .x import y`) are the package's own and never count."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [name for name in names if name.split(".")[0] in packages]
    return found


def _offenders(folder: str, packages: tuple[str, ...]) -> list[str]:
    files = sorted((ROOT / folder).rglob("*.py"))
    assert files, f"{folder}/ has no Python files"
    return [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in files
        for name in _imports_of(path.read_text(encoding="utf-8"), packages)
    ]


def test_tui_source_never_imports_sqlalchemy_or_httpx():
    assert _offenders("tui", FORBIDDEN_IN_TUI) == []


def test_store_source_never_imports_ui_or_mlflow():
    """Also catches imports inside functions, which the subprocess check cannot see."""
    assert _offenders("store", FORBIDDEN_IN_STORE) == []


def test_import_scanner_is_not_vacuous():
    sample = (
        "import os\nimport httpx\nfrom sqlalchemy import select\n"
        "def f():\n    import os, httpx.client\n    from .sqlalchemy import x\n"
        "text = 'import sqlalchemy'\n"
    )
    assert _imports_of(sample, FORBIDDEN_IN_TUI) == ["httpx", "sqlalchemy", "httpx.client"]
