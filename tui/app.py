"""The Textual app: wires an already-opened store to the screens. Nothing else lives here.

Screens load data with `app.run_store_call(...)`: the call runs in a thread worker, stale
results are dropped, and every failure goes through `report_error` (one notification path).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.dom import DOMNode
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.signal import Signal
from textual.widget import Widget
from textual.worker import Worker, get_current_worker

from tracktui.store import interrupt
from tracktui.store.base import Store
from tracktui.store.errors import StoreError
from tracktui.store.model import Experiment

from .abandonable import Abandoned, call_abandonable
from .commands import ActionsProvider
from .config import Config
from .marks import RunMarks
from .prefetch import Prefetch
from .safe_text import inert

if TYPE_CHECKING:
    from .actions import PendingUndo

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Store warnings notified one by one at most per batch; the rest are counted in one more.
MAX_WARNING_NOTIFICATIONS = 3


class TrackApp(App[None]):
    """The app. Session state that outlives a screen lives here, declared:

    `run_marks` (runs marked for compare and bulk actions, across experiments), `pending_undo`
    (the last delete, for ctrl+z) and the store's read-only state. `status_changed_signal` fires
    when marks or the read-only state change; every StatusBar follows it.
    """

    CSS_PATH = "app.tcss"
    TITLE = "tracktui"
    COMMANDS = App.COMMANDS | {ActionsProvider}
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("escape", "back", "Back", id="app.back"),
    ]

    def __init__(
        self, store: Store, *, config: Config | None = None, open_experiment: Experiment | None = None,
        prefetch: Prefetch | None = None,
    ) -> None:
        """`open_experiment`: start on that experiment's runs (esc goes to the experiments);
        `prefetch`: its first store calls, already under way (prefetch.py)."""
        super().__init__()
        self.store = store
        self.prefetch = prefetch if prefetch is not None else Prefetch()
        self._open_experiment = open_experiment
        self._warnings_shown: set[str] = set()
        self.config = config if config is not None else Config.load()
        self.status_changed_signal: Signal[None] = Signal(self, "status_changed")
        self.run_marks = RunMarks(on_change=lambda: self.status_changed_signal.publish(None))
        self.pending_undo: PendingUndo | None = None
        if self.config.theme and self.config.theme in self.available_themes:
            self.theme = self.config.theme

    def get_default_screen(self) -> Screen:
        from .screens.experiments import ExperimentsScreen

        return ExperimentsScreen(open_first=self._open_experiment)

    def on_mount(self) -> None:
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        self.show_store_warnings()

    def show_store_warnings(self) -> None:
        """Notify each store warning once (a file skipped at start-up or found later, as the
        store reads more of the tree); a burst beyond a few becomes one summary."""
        new = [w for w in self.store.warnings if w not in self._warnings_shown]
        self._warnings_shown.update(new)
        for warning in new[:MAX_WARNING_NOTIFICATIONS]:
            self.notify(warning, title="Store warning", severity="warning", timeout=10, markup=False)
        if len(new) > MAX_WARNING_NOTIFICATIONS:
            more = len(new) - MAX_WARNING_NOTIFICATIONS
            self.notify(
                f"and {more} more file(s) skipped or unreadable", title="Store warning", severity="warning", timeout=10
            )

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification is plain text, whoever sends it (screens' `notify` lands here):
        messages carry store and server text, so markup is never parsed (`markup` is ignored)
        and control characters are shown, not sent to the terminal."""
        super().notify(inert(message, multiline=True), title=inert(title), severity=severity, timeout=timeout,
                       markup=False)

    def action_help_quit(self) -> None:
        # Textual's own hint is markup, which `notify` above would show literally.
        for active in self.active_bindings.values():
            if active.binding.action in ("quit", "app.quit"):
                self.notify(f"Press {self.get_key_display(active.binding)} to quit the app",
                            title="Do you want to quit?")
                return

    # -- the one way screens talk to the store ---------------------------------------------

    def run_store_call(
        self,
        node: DOMNode,
        call: Callable[[], T],
        on_result: Callable[[T], Any],
        *,
        group: str,
        loading: Widget | None = None,
        on_error: Callable[[StoreError], bool] | None = None,
        exclusive: bool = True,
        interruptible: bool = False,
    ) -> Worker[None]:
        """Run `call()` (a store call) in a thread worker owned by `node`.

        `on_result` runs on the UI thread with the result, unless a newer call in the same
        `group` superseded this one (exclusive) or the node went away. `loading` shows Textual's
        loading indicator over that widget meanwhile (it takes focus away, so don't pass the
        widget the user is typing into). Failures go to `on_error` first (True: handled there),
        else become one notification carrying the StoreError's message.
        `interruptible` (reads only): once the worker is cancelled the call sends no further
        request (store.interrupt), instead of finishing unseen in the background.
        """
        if loading is not None:
            loading.loading = True
        stop = threading.Event()

        def interruptible_call() -> Any:
            with interrupt.interruptible(stop):
                return call()

        def finish(result: Any, error: BaseException | None, worker: Worker) -> None:
            if worker.is_cancelled:
                return
            if loading is not None:
                loading.loading = False
            self.show_store_warnings()
            if error is None:
                on_result(result)
            elif not (isinstance(error, StoreError) and on_error is not None and on_error(error)):
                self.report_error(error)

        def in_thread() -> None:
            worker = get_current_worker()
            try:
                result, error = call_abandonable(interruptible_call if interruptible else call,
                                                 lambda: worker.is_cancelled), None
            except Abandoned:
                stop.set()
                return
            except Exception as exc:  # noqa: BLE001 - every failure becomes a notification
                result, error = None, exc
            if worker.is_cancelled:
                return
            try:
                self.call_from_thread(finish, result, error, worker)
            except RuntimeError:  # the app is shutting down
                pass

        return node.run_worker(in_thread, group=group, exclusive=exclusive, thread=True, exit_on_error=False)

    def report_error(self, error: BaseException) -> None:
        """Show a failure as a notification: the StoreError message, never a traceback."""
        if isinstance(error, StoreError):
            self.notify(error.message, title=error.title, severity="error", timeout=8)
        else:  # a bug: the traceback goes to the log, the user gets one line
            log.error("Unexpected error in a store call", exc_info=error)
            self.notify(f"{type(error).__name__}: {error}", title="Unexpected error", severity="error", timeout=8)

    # -- read-only state -------------------------------------------------------------------------

    @property
    def read_only_reason(self) -> str | None:
        """Why writes are refused (the store's reason), else None."""
        return self.store.read_only_reason

    def refuse_writes(self, reason: str) -> None:
        """From now on the store refuses writes (a server said no); status bars say so."""
        self.store.read_only_reason = reason
        self.status_changed_signal.publish(None)

    # -- app-wide actions --------------------------------------------------------------------

    def action_help(self) -> None:
        from .screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    async def action_back(self) -> None:  # async as in App: the palette and bindings await it
        if len(self.screen_stack) > 1:
            self.pop_screen()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back":
            return len(self.screen_stack) > 1
        return True

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        # Textual's own entries, renamed to our "area: Action" scheme.
        yield SystemCommand("app: Change theme", "Pick a colour theme (remembered)", self.action_change_theme)
        yield SystemCommand("app: Quit", "Quit tracktui", self.action_quit)
        yield SystemCommand("app: Help", "Every key binding on this screen", self.action_help)
        yield SystemCommand(
            "app: Save screenshot", "Save an SVG of the screen in the current directory", self.action_screenshot
        )

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        saved = self.save_screenshot(filename, path)
        self.notify(f"Saved {saved}", title="Screenshot")

    def _remember_theme(self, theme: Any) -> None:
        self.config.theme = self.theme
        problem = self.config.save()
        if problem:
            self.notify(problem, severity="warning")

