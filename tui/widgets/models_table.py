"""ModelsTable: one row per logged model (name, status, type, source run, key metrics, tags).

A plain DataTable, as TracesTable: pages of models are small and rows are only appended. The
key metrics are the (metric, dataset) pairs most models of the first page have, at most
`METRIC_COLUMNS`, each cell the model's latest value there. Every cell is a `Text`: store
values are data, never markup (tui/safe_text.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from tracktui.store.logged_models import LoggedModel

from ..safe_text import plain
from .paged_table import NeedMore
from .traces_table import PREFETCH_ROWS, one_line

METRIC_COLUMNS = 3
_FIXED: tuple[tuple[str, str, int], ...] = (
    ("name", "Name", 18),
    ("status", "Status", 7),
    ("type", "Type", 11),
    ("source", "Source run", 14),
)


def metric_label(key: str, dataset: str | None) -> str:
    return f"{key} · {dataset}" if dataset else key


def key_metrics(models: list[LoggedModel], limit: int = METRIC_COLUMNS) -> list[tuple[str, str | None]]:
    """The (metric, dataset name) pairs most models have, then by name."""
    counts: Counter[tuple[str, str | None]] = Counter()
    for m in models:
        counts.update({(k, n) for k, n, _d in m.latest_metrics})
    return sorted(counts, key=lambda p: (-counts[p], p[0], p[1] or ""))[:limit]


def latest_value(model: LoggedModel, key: str, dataset: str | None) -> float | None:
    """The model's newest point (timestamp, then step) of `key` on `dataset` (any digest)."""
    points = [m for m in model.metrics if m.key == key and m.dataset_name == dataset]
    if not points:
        return None
    return max(points, key=lambda m: (m.timestamp, m.step)).value


def format_value(value: float | None) -> str:
    return "" if value is None else f"{value:.4g}"


def tags_text(tags: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(tags.items()) if not k.startswith("mlflow."))


class ModelsTable(DataTable):
    """Logged models as rows keyed by model id; Enter posts `Chosen`."""

    DEFAULT_CSS = """
    ModelsTable { height: 1fr; }
    ModelsTable > .models-table--failed { color: $text-error; }
    """
    COMPONENT_CLASSES = {"models-table--failed"}

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="models_table.down"),
        Binding("k", "cursor_up", "Up", show=False, id="models_table.up"),
        Binding("enter", "choose", "Open model", id="models_table.open"),
    ]

    class Chosen(Message):
        def __init__(self, model_id: str) -> None:
            super().__init__()
            self.model_id = model_id

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.models: list[LoggedModel] = []
        self.metric_columns: list[tuple[str, str | None]] = []

    def reset(self) -> None:
        self.clear(columns=True)
        self.models = []
        self.metric_columns = []

    def append(self, models: list[LoggedModel], run_names: Mapping[str, str]) -> None:
        """Add a page; the first page decides the metric columns."""
        if not self.columns:
            for key, label, width in _FIXED:
                self.add_column(label, width=width, key=key)
            self.metric_columns = key_metrics(models)
            for i, (key, dataset) in enumerate(self.metric_columns):
                self.add_column(one_line(metric_label(key, dataset), 12), width=12, key=f"metric{i}")
            self.add_column("Tags", key="tags")
        failed = self.get_component_rich_style("models-table--failed", partial=True)
        for m in models:
            source = run_names.get(m.source_run_id or "", (m.source_run_id or "")[:8])
            self.add_row(
                one_line(m.name, 18),
                plain(m.status, style=failed if m.status == "FAILED" else ""),
                one_line(m.model_type or "", 11),
                one_line(source, 14),
                *(Text(format_value(latest_value(m, k, d)), justify="right") for k, d in self.metric_columns),
                one_line(tags_text(m.tags), 40),
                key=m.model_id,
            )
        self.models.extend(models)

    @property
    def items(self) -> list[LoggedModel]:
        return self.models

    @property
    def current(self) -> LoggedModel | None:
        if not self.models or not 0 <= self.cursor_row < len(self.models):
            return None
        return self.models[self.cursor_row]

    def action_choose(self) -> None:
        if (model := self.current) is not None:
            self.post_message(self.Chosen(model.model_id))

    def watch_cursor_coordinate(self, old, new) -> None:
        super().watch_cursor_coordinate(old, new)
        if self.models and new.row >= len(self.models) - PREFETCH_ROWS:
            self.post_message(NeedMore())
