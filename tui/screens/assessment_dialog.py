"""AssessmentDialog: a person's feedback (or expectation) on a trace, typed from the keyboard.

Name, value and (for feedback) a rationale; Enter moves to the next field and saves from the
last one, Esc cancels. The value is read as JSON when it is JSON (`0.8`, `true`, `["a", "b"]`),
else kept as the text typed (`yes`), as a person would mean it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from ..safe_text import plain


@dataclass(frozen=True)
class AssessmentEntry:
    """What the dialog gives back: kind is "feedback" or "expectation"."""

    kind: str
    name: str
    value: Any
    rationale: str | None


def parse_value(text: str) -> Any:
    """`0.8` → 0.8, `true` → True, `{"a": 1}` → a dict; anything that is not JSON stays text."""
    text = text.strip()
    try:
        return json.loads(text)
    except ValueError:
        return text


class AssessmentDialog(ModalScreen["AssessmentEntry | None"]):
    AREA = "assessment"
    DEFAULT_CSS = """
    AssessmentDialog { align: center middle; }
    AssessmentDialog > Vertical {
        width: 64; max-width: 95%; height: auto; padding: 1 2;
        border: thick $primary 60%; background: $surface;
    }
    AssessmentDialog .assessment-title { text-style: bold; margin-bottom: 1; }
    AssessmentDialog .assessment-error { color: $error; height: auto; }
    AssessmentDialog .assessment-hint { color: $text-muted; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="assessment.cancel")]

    def __init__(self, kind: str, subject: str) -> None:
        super().__init__()
        self.kind = kind
        self.subject = subject

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain(f"Add {self.kind} on {self.subject}"), classes="assessment-title")
            yield Input(placeholder="name, e.g. correctness", id="assessment-name")
            yield Input(placeholder="value, e.g. yes, 0.8, true", id="assessment-value")
            if self.kind == "feedback":
                yield Input(placeholder="rationale (optional)", id="assessment-rationale")
            yield Static("", id="assessment-error", classes="assessment-error", markup=False)
            yield Static("enter next field, then saves · esc cancels", classes="assessment-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        fields = list(self.query(Input).results(Input))
        if event.input is not fields[-1]:  # Enter moves on until the last field
            fields[fields.index(event.input) + 1].focus()
            return
        name = self.query_one("#assessment-name", Input).value.strip()
        value = self.query_one("#assessment-value", Input).value
        if not name:
            self._error("A name is needed", "#assessment-name")
            return
        if not value.strip():
            self._error("A value is needed", "#assessment-value")
            return
        rationales = self.query("#assessment-rationale").results(Input)
        rationale = next((r.value.strip() for r in rationales), "") or None
        self.dismiss(AssessmentEntry(self.kind, name, parse_value(value), rationale))

    def _error(self, message: str, field: str) -> None:
        self.query_one("#assessment-error", Static).update(message)
        self.query_one(field, Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one("#assessment-error", Static).update("")

    def action_cancel(self) -> None:
        self.dismiss(None)
