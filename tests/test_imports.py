"""The seams, enforced: the store layer loads no UI and no mlflow; the TUI speaks no SQL or HTTP."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN_IN_STORE = ("mlflow", "textual", "rich", "tracktui.tui")
FORBIDDEN_IN_TUI = ("sqlalchemy", "httpx")

# httpx's optional command-line client (`httpx._main`) imports rich whenever rich is installed,
# and httpx tolerates its absence. So the child process makes the forbidden packages
# unimportable: a store module that needs one of them fails loudly, while httpx quietly skips
# its CLI, and whatever still ends up in sys.modules was loaded by our own code.
_IMPORT_EVERY_STORE_MODULE = """
import importlib, importlib.abc, json, pkgutil, sys

FORBIDDEN = set(sys.argv[1].split(","))

def forbidden(name):
    return any(name == f or name.startswith(f + ".") for f in FORBIDDEN)

class Forbid(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if forbidden(name):
            raise ImportError(f"forbidden import in the store layer: {name}")
        return None

sys.meta_path.insert(0, Forbid())
import tracktui.store as store
names = sorted(m.name for m in pkgutil.walk_packages(store.__path__, "tracktui.store."))
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
    assert {"tracktui.store.uris", "tracktui.store.search", "tracktui.store.sql.store"} <= set(result["modules"])
    leaked = [name for name in result["loaded"] if _in(name, FORBIDDEN_IN_STORE)]
    assert leaked == []


def _in(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def _imports_of(source: str, packages: tuple[str, ...], module: str = "") -> list[str]:
    """Modules inside `packages` that the source imports anywhere (even inside functions).
    Relative imports are resolved against `module` (the file's dotted name, e.g.
    `tracktui.store.sql.store`), so `from ...tui import x` counts as `tracktui.tui`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.ImportFrom) and node.level and module:
            base = module.split(".")[: -node.level]
            names = [".".join(base + ([node.module] if node.module else []))]
        else:
            continue
        found += [name for name in names if _in(name, packages)]
    return found


def _offenders(folder: str, packages: tuple[str, ...]) -> list[str]:
    files = sorted((ROOT / folder).rglob("*.py"))
    assert files, f"{folder}/ has no Python files"
    return [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in files
        for name in _imports_of(path.read_text(encoding="utf-8"), packages, _module_name(path))
    ]


def _module_name(path: Path) -> str:
    """`store/sql/store.py` → `tracktui.store.sql.store` (a package's `__init__` counts as a
    module inside it, so that `from . import x` resolves to the package itself)."""
    return ".".join(("tracktui", *path.relative_to(ROOT).with_suffix("").parts))


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
    upward = "from ...tui.app import TrackApp\nfrom ..model import Run\n"
    assert _imports_of(upward, FORBIDDEN_IN_STORE, "tracktui.store.sql.store") == ["tracktui.tui.app"]
