"""DownloadScreen (`D` on the Artifacts tab): fetch a file or folder into a directory the user
confirms, with a progress bar; Esc cancels a running download.

The download runs through the store layer (`Store.download_artifacts`, as the CLI's does) in
a thread worker via `app.run_store_call`; progress arrives from worker threads
and is handed to the UI thread. Files appear under their final names only when complete.
"""

from __future__ import annotations

import threading
from pathlib import Path

from textual import getters
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, ProgressBar, Static

from tracktui.store.downloads import DownloadProgress
from tracktui.store.errors import DestinationExists, DownloadCancelled, StoreError

from ..app import TrackApp
from ..safe_text import plain


class DownloadScreen(ModalScreen["Path | None"]):
    """Dismisses with where the artifacts landed, or None (cancelled or failed)."""

    AREA = "download"
    DEFAULT_CSS = """
    DownloadScreen { align: center middle; }
    DownloadScreen > Vertical {
        width: 76; max-width: 95%; height: auto; padding: 1 2;
        border: thick $primary 60%; background: $surface;
    }
    DownloadScreen .download-title { text-style: bold; margin-bottom: 1; }
    DownloadScreen ProgressBar { margin-top: 1; }
    DownloadScreen .download-status { color: $text-muted; height: auto; }
    DownloadScreen .download-error { color: $error; height: auto; }
    """
    app = getters.app(TrackApp)

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="download.cancel")]

    def __init__(self, run_id: str, path: str, is_dir: bool, default_dest: Path | None = None) -> None:
        super().__init__()
        self.run_id = run_id
        self.path = path
        self.is_dir = is_dir
        self.default_dest = default_dest or Path.cwd()
        self.cancel_event: threading.Event | None = None

    def compose(self) -> ComposeResult:
        what = f"folder {self.path}/" if self.is_dir else f"file {self.path}" if self.path else "all artifacts"
        with Vertical():
            yield Static(plain(f"Download {what}"), classes="download-title")
            yield Static("Into directory (enter starts):")
            yield Input(str(self.default_dest), id="download-dest")
            yield Checkbox("Overwrite files that exist", id="download-overwrite")
            yield ProgressBar(id="download-progress", show_eta=False)
            yield Static("", id="download-status", classes="download-status", markup=False)
            yield Static("", id="download-error", classes="download-error", markup=False)

    def on_mount(self) -> None:
        self.query_one("#download-progress", ProgressBar).display = False
        self.query_one("#download-dest", Input).focus()

    @property
    def running(self) -> bool:
        return self.cancel_event is not None

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not self.running:
            self.start(Path(event.value.strip() or ".").expanduser())

    def start(self, dest: Path) -> None:
        app, store, run_id, path = self.app, self.app.store, self.run_id, self.path
        overwrite = self.query_one("#download-overwrite", Checkbox).value
        cancel = self.cancel_event = threading.Event()
        bar = self.query_one("#download-progress", ProgressBar)
        bar.display = True
        bar.update(total=None, progress=0)
        self.query_one("#download-error", Static).update("")
        self.query_one("#download-status", Static).update("Starting… (esc cancels)")

        def report(update: DownloadProgress) -> None:  # worker threads
            try:
                app.call_from_thread(self._progress, update)
            except RuntimeError:
                pass

        def fetch() -> Path:
            return store.download_artifacts(run_id, path, dest, progress=report, overwrite=overwrite, cancel=cancel)

        app.run_store_call(self, fetch, self._done, group="download", on_error=self._failed)

    def _progress(self, update: DownloadProgress) -> None:
        bar = self.query_one("#download-progress", ProgressBar)
        bar.update(total=update.total, progress=update.done)
        self.query_one("#download-status", Static).update(
            plain(f"{update.files_done}/{update.files_total} files · {update.path} (esc cancels)")
        )

    def _done(self, landed: Path) -> None:
        self.cancel_event = None
        self.dismiss(landed)

    def _failed(self, error: StoreError) -> bool:
        self.cancel_event = None
        self.query_one("#download-progress", ProgressBar).display = False
        self.query_one("#download-status", Static).update("")
        if isinstance(error, DownloadCancelled):
            self.dismiss(None)
            self.app.notify("Download cancelled; no partial file was left.", severity="warning", timeout=4)
            return True
        hint = " Tick “Overwrite” to replace them." if isinstance(error, DestinationExists) else ""
        self.query_one("#download-error", Static).update(plain(error.message + hint, multiline=True))
        return True

    def action_cancel(self) -> None:
        if self.cancel_event is not None:
            self.cancel_event.set()
            self.query_one("#download-status", Static).update("Cancelling…")
        else:
            self.dismiss(None)
