"""What the command-line subcommands (download, export/import/copy, demo) share on the terminal:
exit codes, the one-line error form, and a Rich bar that stays quiet when piped."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.progress import TaskID

    from tracktui.store import FilterSyntaxError

from ..safe_text import inert

EXIT_STORE_ERROR = 2
EXIT_INTERRUPTED = 130


def fail(reason: str, code: int = EXIT_STORE_ERROR) -> int:
    """Print `tracktui: reason` on stderr, on one line, and return the exit code to end with. The
    reason often quotes a server or the store: its control characters are shown, never sent."""
    print(f"tracktui: {inert(reason)}", file=sys.stderr)
    return code


def fail_filter(error: FilterSyntaxError, what: str = "filter") -> int:
    """Print a bad filter's reason, the filter, and a caret under where it goes wrong (as the
    TUI's filter bar marks it); the exit code. Widths are terminal cells, so the caret stays
    under the right character after wide or made-visible ones."""
    from rich.cells import cell_len

    fail(f"bad {what}: {error.message}")
    print(f"  {inert(error.text)}", file=sys.stderr)
    print("  " + " " * cell_len(inert(error.text[:error.position])) + "^", file=sys.stderr)
    return EXIT_STORE_ERROR


def say(message: str, *, err: bool = False) -> None:
    """Print a line holding store or server text on stdout (or stderr), made inert."""
    print(inert(message, multiline=True), file=sys.stderr if err else sys.stdout)


class LiveProgress:
    """A Rich Progress with one task, shown only on a terminal (no bar and no stray blank lines
    when piped); a context manager. Engines call `update` from worker threads: Rich's Progress
    is thread-safe."""

    first_description = ""

    def __init__(self, console, *columns) -> None:
        from rich.progress import Progress

        self._progress = Progress(*columns, console=console, transient=True)
        self._live = console.is_terminal
        self._task: TaskID | None = None

    @property
    def task(self) -> TaskID:
        """The one task (entered: `with` has started it)."""
        assert self._task is not None, "LiveProgress is used as a context manager"
        return self._task

    def __enter__(self):
        if self._live:
            self._progress.start()
        self._task = self._progress.add_task(self.first_description, total=None)
        return self

    def __exit__(self, *exc) -> None:
        if self._live:
            self._progress.stop()
