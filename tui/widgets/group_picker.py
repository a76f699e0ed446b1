"""The two small pickers of the grouped runs table.

GroupPicker chooses what runs are grouped by (nothing, the parent run, a param, a tag) and
dismisses with `params.<key>`, `tags.<key>`, `parent`, "" for no grouping, or None (cancel).
AggregatePicker shows each metric column's aggregate; Enter steps the highlighted one through
mean → min → max → last, and the picker dismisses with the choices when closed.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from ..run_groups import COLUMN_AGGREGATES, DEFAULT_AGGREGATE
from ..safe_text import plain

NO_GROUPING = ""


class GroupPicker(ModalScreen[str | None]):
    AREA = "group"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="group.cancel")]

    def __init__(self, choices: Sequence[tuple[str, str]], current: str | None) -> None:
        """`choices`: (group_by, label) pairs (run_groups.group_key_choices)."""
        super().__init__()
        self._choices = [(NO_GROUPING, "no grouping: one row per run"), *choices]
        self._current = current or NO_GROUPING

    def compose(self) -> ComposeResult:
        options = [
            Option(plain(label + ("  (now)" if value == self._current else "")), id=f"g{i}")
            for i, (value, label) in enumerate(self._choices)
        ]
        with Vertical(id="group-picker", classes="picker"):
            yield Label("Group runs by (the store groups every matching run, not just the loaded page; "
                        "then a picks each metric column's aggregate)")
            yield OptionList(*options, id="group-options")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        values = [value for value, _ in self._choices]
        options.highlighted = values.index(self._current) if self._current in values else 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self._choices[event.option_index][0])

    def action_cancel(self) -> None:
        self.dismiss(None)


class AggregatePicker(ModalScreen[dict[str, str]]):
    AREA = "aggregate"
    BINDINGS = [
        Binding("escape,a", "close", "Done", id="aggregate.done"),
    ]

    def __init__(self, metrics: Sequence[str], aggregates: dict[str, str]) -> None:
        super().__init__()
        self._metrics = list(metrics)
        self._aggregates = {m: aggregates.get(m, DEFAULT_AGGREGATE) for m in self._metrics}

    def compose(self) -> ComposeResult:
        with Vertical(id="aggregate-picker", classes="picker"):
            yield Label(f"Aggregate of each metric column per group: enter steps through "
                        f"{', '.join(COLUMN_AGGREGATES)}; esc closes")
            yield OptionList(*(Option(self._text(m)) for m in self._metrics), id="aggregate-options")

    def _text(self, metric: str) -> Text:
        return plain(f"{self._aggregates[metric]:<5} {metric}")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = 0 if self._metrics else None
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        metric = self._metrics[event.option_index]
        now = COLUMN_AGGREGATES.index(self._aggregates[metric])
        self._aggregates[metric] = COLUMN_AGGREGATES[(now + 1) % len(COLUMN_AGGREGATES)]
        options = self.query_one(OptionList)
        options.replace_option_prompt_at_index(event.option_index, self._text(metric))

    def action_close(self) -> None:
        self.dismiss(dict(self._aggregates))
