"""ExportDialog: how (CSV, Markdown, JSON) and where (a file, the clipboard) to export a view.

The screen hands over `produce(progress)`, which builds the (columns, rows) in a worker (the
runs table pages through the store there); the dialog stays open showing progress, writes, and
closes itself when done. A file that exists is replaced only after the user says yes.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable
from pathlib import Path

from textual import getters
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, RadioButton, RadioSet, Static

from tracktui.store.atomic import write_atomic
from tracktui.store.errors import StoreError

from ..app import TrackApp
from ..cli.table_formats import write_table
from ..clipboard import copy_text
from ..safe_text import plain
from .tables import Table

#: (format, label, file extension), in the order offered.
FORMATS = (("csv", "CSV", "csv"), ("markdown", "Markdown", "md"), ("json", "JSON", "json"))
Produce = Callable[[Callable[[int], None]], Table]


def default_file_stem(kind: str, name: str) -> str:
    """`runs-<experiment>`: a file name (the dialog adds the format's extension) in the
    current directory, whatever the experiment's name holds."""
    safe = re.sub(r"[^\w.-]+", "-", name).strip("-.") or "export"
    return f"{kind}-{safe}"


def render(table: Table, fmt: str) -> str:
    """The table as `fmt` text, numbers whole in every format."""
    out = io.StringIO()
    write_table(*table, fmt, out, exact=True)
    return out.getvalue()


class ExportDialog(ModalScreen[bool]):
    """Dismisses with True once exported, False when cancelled."""

    AREA = "export"
    app = getters.app(TrackApp)
    DEFAULT_CSS = """
    ExportDialog > Vertical {
        width: 72; max-width: 95%; height: auto; padding: 1 2;
        border: thick $primary 60%; background: $surface;
    }
    ExportDialog .export-title { text-style: bold; margin-bottom: 1; }
    ExportDialog .export-label { width: 8; color: $text-muted; }
    ExportDialog Horizontal { height: auto; margin-bottom: 1; }
    ExportDialog RadioSet { layout: horizontal; width: 1fr; border: none; padding: 0; }
    ExportDialog Input { width: 1fr; }
    ExportDialog #export-status { color: $text-muted; height: auto; margin-top: 1; }
    ExportDialog #export-buttons { align-horizontal: right; margin-top: 1; }
    ExportDialog Button { margin-left: 2; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="export.cancel")]

    def __init__(self, title: str, file_stem: str, produce: Produce, unit: str = "rows") -> None:
        """`file_stem`: the default file name without extension (default_file_name's shape);
        `unit`: what the progress counts ("runs")."""
        super().__init__()
        self.title_text = title
        self.file_stem = file_stem
        self.produce = produce
        self.unit = unit
        self.busy = False
        #: Set by esc: a running export stops before it writes (its worker thread reads this).
        self.cancelled = False

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain(self.title_text), classes="export-title")
            with Horizontal():
                yield Static("Format", classes="export-label")
                with RadioSet(id="export-format"):
                    for i, (_, label, _ext) in enumerate(FORMATS):
                        yield RadioButton(label, value=i == 0)
            with Horizontal():
                yield Static("To", classes="export-label")
                with RadioSet(id="export-to"):
                    yield RadioButton("File", value=True)
                    yield RadioButton("Clipboard (OSC 52)")
            with Horizontal():
                yield Static("File", classes="export-label")
                yield Input(f"{self.file_stem}.csv", id="export-path", select_on_focus=False, compact=True)
            yield Static("tab moves · enter in the file box or Export writes · esc cancels", id="export-status")
            with Horizontal(id="export-buttons"):
                yield Button("Export", id="export-go", variant="primary", compact=True)
                yield Button("Cancel", id="export-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#export-format", RadioSet).focus()

    @property
    def format(self) -> str:
        index = self.query_one("#export-format", RadioSet).pressed_index
        return FORMATS[max(index, 0)][0]

    @property
    def to_clipboard(self) -> bool:
        return self.query_one("#export-to", RadioSet).pressed_index == 1

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        path_input = self.query_one("#export-path", Input)
        if event.radio_set.id == "export-to":
            path_input.disabled = self.to_clipboard
            return
        # The extension follows the format while the name is still the default one.
        stem, extension = os.path.splitext(path_input.value)
        if stem == self.file_stem and extension[1:] in {ext for _, _, ext in FORMATS}:
            path_input.value = f"{stem}.{FORMATS[event.index][2]}"

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.start()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "export-go":
            self.start()
        else:
            self.action_cancel()

    def start(self) -> None:
        """Export now, or after the user agrees to replace an existing file."""
        if self.busy:
            return
        if self.to_clipboard:
            self._run(None)
            return
        text = self.query_one("#export-path", Input).value.strip()
        if not text:
            self._status("Type a file name first.")
            return
        path = Path(text).expanduser()
        if path.is_dir():
            self._status(f"{text} is a folder: type a file name.")
            return
        if not path.exists():
            self._run(path)
            return
        from ..screens.confirm import ConfirmScreen

        def answered(yes: bool | None) -> None:
            if yes:
                self._run(path)

        self.app.push_screen(ConfirmScreen(f"Replace {text}?", f"{path.resolve()} exists; exporting replaces it.",
                                           confirm_label="Replace"), answered)

    def _run(self, path: Path | None) -> None:
        self.busy = True
        fmt, produce = self.format, self.produce
        self._status("Exporting…")

        def progress(count: int) -> None:
            if not self.cancelled:
                self.app.call_from_thread(self._status, f"Exporting… {count:,} {self.unit} read")

        def work() -> tuple[int, str]:
            table = produce(progress)
            text = render(table, fmt)
            if self.cancelled:  # esc meanwhile: nothing is written
                return 0, ""
            if path is not None:
                try:
                    write_atomic(path, text.encode("utf-8"))
                except OSError as exc:
                    raise StoreError(f"Cannot write {path}: {exc.strerror or exc}") from exc
            return len(table[1]), text

        def done(result: tuple[int, str]) -> None:
            count, text = result
            label = dict((f, label) for f, label, _ in FORMATS)[fmt]
            if path is None:
                copy_text(self.app, text, f"{count:,} rows as {label}")
            else:
                self.app.notify(f"Exported {count:,} rows as {label} to {path}", title="Exported", timeout=4)
            self.dismiss(True)

        def failed(error: StoreError) -> bool:
            self.busy = False
            self._status(f"Export failed: {error.message}")
            return False

        self.app.run_store_call(self, work, done, group="export", on_error=failed)

    def _status(self, text: str) -> None:
        if self.is_attached:
            self.query_one("#export-status", Static).update(plain(text))

    def action_cancel(self) -> None:
        self.cancelled = True
        self.dismiss(False)
