"""The README's keys table lists every key the main screens bind (movement keys aside, which
its first row covers), so a new binding cannot go undocumented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tracktui.tui.screens.charts import RunChartsScreen
from tracktui.tui.screens.compare import CompareScreen
from tracktui.tui.screens.experiments import ExperimentsScreen
from tracktui.tui.screens.model_versions import ModelVersionsScreen
from tracktui.tui.screens.plot import PlotScreen
from tracktui.tui.screens.prompt import PromptScreen
from tracktui.tui.screens.registry import PromptsScreen, RegisteredModelsScreen
from tracktui.tui.screens.run import RunScreen
from tracktui.tui.screens.runs import RunsScreen
from tracktui.tui.screens.sweep import SweepScreen
from tracktui.tui.screens.trace import TraceScreen
from tracktui.tui.screens.traces import TracesScreen
from tracktui.tui.screens.value_viewer import ValueViewer
from tracktui.tui.widgets.charts_grid import ChartsGrid
from tracktui.tui.widgets.compare_images import CompareImages
from tracktui.tui.widgets.logged_images import LoggedImagesPanel
from tracktui.tui.widgets.metrics_table import MetricsTable
from tracktui.tui.widgets.params_table import KeyValueGrid
from tracktui.tui.widgets.runs_table import RunsTable
from tracktui.tui.widgets.searchable_text import SearchableText
from tracktui.tui.widgets.span_waterfall import SpanTree
from tracktui.tui.widgets.sweep_scatter import SweepScatter
from tracktui.tui.widgets.traces_table import TracesTable
from tracktui.tui.widgets.value_tree import ValueTree

README = Path(__file__).resolve().parents[2] / "README.md"
OWNERS = [ExperimentsScreen, RunsScreen, RunsTable, RunScreen, MetricsTable, KeyValueGrid, PlotScreen,
          CompareScreen, SweepScreen, SweepScatter, TracesScreen, TracesTable, TraceScreen, SpanTree,
          RunChartsScreen, ChartsGrid, RegisteredModelsScreen, ModelVersionsScreen, PromptsScreen, PromptScreen,
          LoggedImagesPanel, CompareImages, ValueViewer, SearchableText, ValueTree]
#: Moving the cursor, covered by "arrows or j/k move" and the like.
_MOVES = re.compile(r"cursor_|page_|scroll_(up|down)|^first$|^last$|^(previous|next)_tab$")
_WRITTEN = {"slash": "/", "question_mark": "?", "left_square_bracket": "[", "right_square_bracket": "]",
            "plus": "+", "minus": "-", "escape": "esc", "left": "←", "right": "→",
            "pagedown": "PgDn", "pageup": "PgUp", "comma": ",", "full_stop": "."}


def keys_section() -> str:
    text = README.read_text(encoding="utf-8")
    return text[text.index("### Keys"):text.index("## Run the tests")]


@pytest.mark.parametrize("owner", OWNERS, ids=lambda o: o.__name__)
def test_readme_lists_every_key(owner):
    section = keys_section()
    documented = set(re.findall(r"`([^`]+)`", section))
    documented |= {str(d) for d in range(1, 9)}  # "`1`–`8` tabs"
    documented |= {k for entry in documented for k in entry.split()}  # "`x l + - w`"
    missing = []
    for binding in owner.BINDINGS:
        if _MOVES.search(binding.action.split("(")[0]):
            continue
        key = binding.key.split(",")[0]
        if _WRITTEN.get(key, key) not in documented:
            missing.append(f"{key} ({binding.description})")
    assert not missing, f"{owner.__name__}: {missing}"


def test_readme_reads_try_use_then_test():
    headings = re.findall(r"^## (.+)$", README.read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert headings == ["Try it", "Use it", "Run the tests"]
