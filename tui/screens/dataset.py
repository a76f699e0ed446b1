"""DatasetScreen: one dataset input of a run in full — name, digest, context and the other input
tags, source type and source, and the schema and profile MLflow recorded (JSON, indented)."""

from __future__ import annotations

import json

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tracktui.store.model import DatasetInput

from ..safe_text import plain


class DatasetScreen(ModalScreen[None]):
    AREA = "dataset"
    DEFAULT_CSS = """
    DatasetScreen { align: center middle; }
    DatasetScreen > VerticalScroll {
        width: 90%; max-width: 110; height: auto; max-height: 90%; padding: 0 1;
        border: thick $primary 60%; background: $surface;
    }
    DatasetScreen .dataset-hint { color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape,q", "close", "Close", id="dataset.close"),
        Binding("j", "scroll_down", "Scroll down", show=False, id="dataset.scroll_down"),
        Binding("k", "scroll_up", "Scroll up", show=False, id="dataset.scroll_up"),
    ]

    def __init__(self, item: DatasetInput) -> None:
        super().__init__()
        self.item = item

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dataset-body"):
            yield Static(dataset_details(self.item), id="dataset-details")
            yield Static("esc closes", classes="dataset-hint")

    def on_mount(self) -> None:
        self.query_one("#dataset-body").focus()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_scroll_down(self) -> None:
        self.query_one("#dataset-body", VerticalScroll).scroll_down(animate=False)

    def action_scroll_up(self) -> None:
        self.query_one("#dataset-body", VerticalScroll).scroll_up(animate=False)


def dataset_details(item: DatasetInput) -> Text:
    """Labelled fields, store text kept inert (`plain`), JSON indented when it parses."""
    ds = item.dataset
    out = Text()
    rows = [("Dataset", ds.name), ("Digest", ds.digest), ("Context", item.context or "—")]
    rows += [(f"Tag {k}", v) for k, v in sorted(item.tags.items()) if k != "mlflow.data.context"]
    rows += [("Source type", ds.source_type), ("Source", _pretty(ds.source))]
    for label, value in rows:
        out.append(f"{label:<12} ", style="bold")
        out.append(plain(value, multiline=True))
        out.append("\n")
    for label, recorded in (("Schema", ds.schema), ("Profile", ds.profile)):
        out.append(f"\n{label}\n", style="bold")
        out.append(plain(_pretty(recorded) if recorded else "— (none recorded)", multiline=True))
        out.append("\n")
    return out


def _pretty(text: str | None) -> str:
    if not text:
        return ""
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text
