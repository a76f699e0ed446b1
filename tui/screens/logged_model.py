"""One logged model (LoggedModelScreen): its facts, params, metrics per dataset, tags and the
runs linked to it (the source run and every run that logged a metric to it).

Opened from the models list. One worker reads the model and the linked runs' names; Enter on a
linked run opens it. Every store value is shown as `Text` (data, never markup).
"""

from __future__ import annotations

from rich.text import Text
from textual import getters, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, Static

from tracktui.store.errors import NotFound
from tracktui.store.logged_models import LoggedModel

from ..app import TrackApp
from ..safe_text import inert, plain
from ..widgets.status_bar import StatusBar
from ..widgets.traces_table import format_time_ms, one_line
from .models import MAX_NAME_LOOKUPS


class LoggedModelScreen(Screen):
    app = getters.app(TrackApp)
    AREA = "model"
    AUTO_FOCUS = "#model-runs"
    BINDINGS = [Binding("ctrl+r,f5", "reload", "Reload", show=False, id="model.reload")]
    DEFAULT_CSS = """
    LoggedModelScreen #model-body { height: 1fr; }
    LoggedModelScreen .model-section { color: $text-accent; text-style: bold; padding: 1 1 0 1; }
    LoggedModelScreen #model-facts { padding: 0 1; height: auto; }
    LoggedModelScreen DataTable { height: auto; max-height: 12; margin: 0 1; }
    """

    def __init__(self, model_id: str) -> None:
        super().__init__()
        self.model_id = model_id
        self.model: LoggedModel | None = None

    def compose(self) -> ComposeResult:
        yield Label(plain(f"Model {self.model_id}"), id="model-title", classes="screen-title")
        with VerticalScroll(id="model-body"):
            yield Static("Loading…", id="model-facts")
            yield Static("Linked runs (Enter opens)", classes="model-section")
            yield DataTable(id="model-runs", cursor_type="row")
            yield Static("Metrics", classes="model-section")
            yield DataTable(id="model-metrics", cursor_type="row")
            yield Static("Params", classes="model-section")
            yield DataTable(id="model-params", cursor_type="row")
            yield Static("Tags", classes="model-section")
            yield DataTable(id="model-tags", cursor_type="row")
        yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    def action_reload(self) -> None:
        self.load()

    def load(self) -> None:
        store, model_id = self.app.store, self.model_id

        def call() -> tuple[LoggedModel, dict[str, str]]:
            model = store.get_logged_model(model_id)
            names: dict[str, str] = {}
            for run_id in [model.source_run_id, *model.metric_run_ids][: MAX_NAME_LOOKUPS]:
                if run_id and run_id not in names:
                    try:
                        names[run_id] = store.get_run(run_id).name
                    except NotFound:
                        names[run_id] = "(gone)"
            return model, names

        self.app.run_store_call(self, call, lambda result: self._show(*result), group="model")

    def _show(self, model: LoggedModel, names: dict[str, str]) -> None:
        self.model = model
        self.query_one("#model-title", Label).update(plain(f"Model {model.name}"))
        self.query_one("#model-facts", Static).update(_facts(model))
        runs = self.query_one("#model-runs", DataTable)
        runs.clear(columns=True)
        runs.add_columns("Role", "Run", "Run id")
        roles = {rid: "produced it" for rid in [model.source_run_id] if rid}
        for rid in model.metric_run_ids:
            roles[rid] = "produced it, logged metrics" if rid in roles else "logged metrics"
        for rid, role in roles.items():
            runs.add_row(Text(role), one_line(names.get(rid, ""), 30), plain(rid), key=rid)
        metrics = self.query_one("#model-metrics", DataTable)
        metrics.clear(columns=True)
        metrics.add_columns("Metric", "Dataset", "Value", "Step", "Time", "Run")
        for (key, dataset, digest), m in sorted(model.latest_metrics.items(), key=lambda kv: (kv[0][0], kv[0][1] or "", kv[0][2] or "")):
            label = f"{dataset} ({digest})" if dataset and digest else (dataset or "")
            metrics.add_row(plain(key), one_line(label, 30), Text(f"{m.value:.6g}", justify="right"),
                            Text(str(m.step), justify="right"), Text(format_time_ms(m.timestamp)),
                            one_line(names.get(m.run_id or "", m.run_id or ""), 20))
        for table_id, values in (("#model-params", model.params), ("#model-tags", model.tags)):
            table = self.query_one(table_id, DataTable)
            table.clear(columns=True)
            table.add_columns("Key", "Value")
            for k, v in sorted(values.items()):
                table.add_row(plain(k), one_line(v, 80))

    @on(DataTable.RowSelected, "#model-runs")
    def _open_run(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value:
            from .run import RunScreen

            self.app.push_screen(RunScreen(event.row_key.value))


def _facts(model: LoggedModel) -> Text:
    status = model.status + (f" — {model.status_message}" if model.status_message else "")
    rows = [
        ("id", model.model_id), ("status", status), ("type", model.model_type or "—"),
        ("created", format_time_ms(model.creation_timestamp)),
        ("updated", format_time_ms(model.last_updated_timestamp)),
        ("artifacts", model.artifact_location or "—"),
    ]
    out = Text()
    for i, (label, value) in enumerate(rows):
        out.append(f"{label:>10}  ", style="dim")
        out.append(inert(value))
        if i < len(rows) - 1:
            out.append("\n")
    return out
