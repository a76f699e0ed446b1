"""The wheel holds one top-level package, `tracktui`, with the files the app reads at run time
(the stylesheet, the SQLite DDL that `tracktui init`/`demo` create stores from)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Not part of the source the wheel is built from (and some are large).
_NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis", "mlruns",
    ".data", "mlflow.db",
)


@pytest.mark.slow  # ~20 s: pip builds in an isolated environment
def test_the_wheel_holds_tracktui_and_its_data_files(tmp_path):
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=_NOT_SOURCE)  # the build writes next to its source
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(source)],
        capture_output=True, text=True, timeout=600,
    )
    assert built.returncode == 0, built.stderr
    [wheel] = (tmp_path / "dist").glob("tracktui-*.whl")
    names = zipfile.ZipFile(wheel).namelist()

    top = {name.split("/")[0] for name in names}
    dist_info = {t for t in top if t.startswith("tracktui-") and t.endswith(".dist-info")}
    assert len(dist_info) == 1 and top == {"tracktui"} | dist_info
    assert "tracktui/tui/app.tcss" in names
    ddl = [n for n in names if n.startswith("tracktui/store/sql/ddl/") and n.endswith(".sql")]
    assert sorted(ddl) == sorted(f"tracktui/store/sql/ddl/{p.name}" for p in (ROOT / "store/sql/ddl").glob("*.sql"))
    assert ddl
    # every module of store/ and tui/ is in it (a package missing from pyproject's list would
    # work in an editable install and fail after `pip install .`)
    sources = sorted(p.relative_to(ROOT).as_posix() for top in ("store", "tui") for p in (ROOT / top).rglob("*.py"))
    assert [s for s in sources if f"tracktui/{s}" not in names] == []
    styles = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "tui").rglob("*.tcss"))
    assert [s for s in styles if f"tracktui/{s}" not in names] == []
