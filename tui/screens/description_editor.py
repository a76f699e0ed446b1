"""The description of a run or an experiment: a multi-line editor with its Markdown rendered
beside it (or in its place, `ctrl+t`), saved to the `mlflow.note.content` tag as MLflow's UI
saves it: the text exactly as typed, no trimming, no added newline.

The value is checked with the store's own rules (store.validation) before the dialog closes;
a value the store would refuse stays in the editor with the reason under it.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widgets import Markdown, Static, TextArea

from tracktui.store.errors import StoreError
from tracktui.store.model import NOTE_TAG

from ..safe_text import inert, plain

#: Below this width the preview replaces the editor instead of sitting beside it.
SIDE_BY_SIDE_WIDTH = 100
#: `ctrl+t` steps through these; "both" is editor and preview side by side.
LAYOUTS = ("both", "edit", "preview")


class DescriptionEditor(ModalScreen["str | None"]):
    """Dismisses with the new description (ctrl+s), or None (Esc, or saved unchanged)."""

    AREA = "description"
    DEFAULT_CSS = """
    DescriptionEditor { align: center middle; }
    DescriptionEditor > Vertical {
        width: 95%; max-width: 160; height: 90%; padding: 0 1;
        border: thick $primary 60%; background: $surface;
    }
    DescriptionEditor .description-title { text-style: bold; }
    DescriptionEditor Horizontal { height: 1fr; }
    DescriptionEditor TextArea { width: 1fr; height: 1fr; }
    DescriptionEditor #description-preview { width: 1fr; height: 1fr; border: round $panel; padding: 0 1; }
    DescriptionEditor #description-preview Markdown { margin: 0; padding: 0; }
    DescriptionEditor .description-error { color: $error; height: auto; }
    DescriptionEditor .description-warning { color: $warning; height: auto; }
    DescriptionEditor .description-hint { color: $text-muted; }
    """
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="description.save"),
        Binding("ctrl+t", "cycle_layout", "Preview beside/only/off", id="description.preview"),
        Binding("escape", "cancel", "Cancel", id="description.cancel"),
    ]

    layout_mode: reactive[str] = reactive("both", init=False)

    def __init__(self, subject: str, current: str, validate: Callable[[str, str], None], *,
                 key: str = NOTE_TAG) -> None:
        """`current` is the stored description ('' for none); `validate(key, value)` raises the
        store's error for a value it would refuse. Another `key` edits any multi-line tag
        value (the tag editor opens it for those)."""
        super().__init__()
        self.subject = subject
        self.key = key
        self.current = current
        self.validate = validate
        # The editor draws its text raw, so it gets the inert text; left as loaded, it stands
        # for the stored value (control characters a person cannot type survive a save).
        self.loaded = inert(current, multiline=True)
        self._discard_armed = False  # esc with unsaved changes asks once more

    def compose(self) -> ComposeResult:
        with Vertical():
            title = f"Description of {self.subject}" if self.key == NOTE_TAG else f"Tag {self.key} of {self.subject}"
            yield Static(plain(title), classes="description-title")
            with Horizontal():
                yield TextArea(self.loaded, id="description-text", soft_wrap=True, tab_behavior="focus",
                               show_line_numbers=False)
                with VerticalScroll(id="description-preview"):
                    yield Markdown("", id="description-markdown")
            yield Static("", id="description-error", classes="description-error", markup=False)
            warning = ""
            if self.loaded != self.current.replace("\r\n", "\n"):
                warning = "It holds control characters, shown as ␛, ␇…; saved unchanged, they are kept."
            yield Static(warning, classes="description-warning", markup=False)
            saved = f"saved to the {NOTE_TAG} tag, as MLflow's UI does" if self.key == NOTE_TAG else "kept exactly as typed"
            yield Static(plain(f"Markdown · {saved} · ctrl+s {'saves' if self.key == NOTE_TAG else 'stages it'} · "
                               "ctrl+t preview beside/only/off · esc cancels"), classes="description-hint")

    def on_mount(self) -> None:
        self.layout_mode = "both" if self.app.size.width >= SIDE_BY_SIDE_WIDTH else "edit"
        self.watch_layout_mode()
        self._render_preview()
        editor = self.query_one(TextArea)
        editor.focus()
        editor.move_cursor(editor.document.end)

    @property
    def text(self) -> str:
        return self.query_one(TextArea).text

    def watch_layout_mode(self) -> None:
        self.query_one(TextArea).display = self.layout_mode in ("both", "edit")
        self.query_one("#description-preview").display = self.layout_mode in ("both", "preview")

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self.query_one("#description-error", Static).update("")
        self._discard_armed = False
        if self.query_one("#description-preview").display:
            self._render_preview()

    def _render_preview(self) -> None:
        self.query_one(Markdown).update(inert(self.text, multiline=True))

    def action_cycle_layout(self) -> None:
        narrow = self.app.size.width < SIDE_BY_SIDE_WIDTH
        order = ("edit", "preview") if narrow else LAYOUTS
        index = order.index(self.layout_mode) if self.layout_mode in order else -1
        self.layout_mode = order[(index + 1) % len(order)]
        if self.layout_mode == "edit" or self.layout_mode == "both":
            self.query_one(TextArea).focus()
        else:
            self._render_preview()
            self.query_one("#description-preview").focus()

    def action_save(self) -> None:
        text = self.text
        if text == self.loaded:
            self.dismiss(None)  # unchanged: nothing to write
            return
        try:
            self.validate(self.key, text)
        except StoreError as exc:
            self.query_one("#description-error", Static).update(plain(exc.message))
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        if self.text != self.loaded and not self._discard_armed:
            self._discard_armed = True
            self.query_one("#description-error", Static).update("Unsaved changes: esc again discards them, ctrl+s saves")
            return
        self.dismiss(None)
