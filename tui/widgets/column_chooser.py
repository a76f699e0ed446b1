"""ColumnChooser: pick runs-table columns from every param/metric/tag key of the experiment.

Type to narrow (an experiment may have 10,000 metric keys: only the first matches are listed),
Down or Enter moves from the filter to the list, where space toggles, ctrl+s applies, Escape cancels. Dismisses with the chosen column ids in order
(already-chosen columns keep their place, new ones are appended; a metric's sparkline goes
right after its latest value, which is added with it), or None.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, SelectionList
from textual.widgets.selection_list import Selection

from tracktui.store.model import Keys

from ..columns import ATTRIBUTES, with_sparklines_beside_values
from ..filter_focus import focus_now
from ..safe_text import plain

#: At most this many matching keys are listed at once; typing narrows the rest.
MAX_LISTED = 200


def all_column_ids(keys: Keys, attributes: bool = True) -> list[str]:
    return [
        *(f"attr:{name}" for name in ATTRIBUTES if attributes),
        # A metric's sparkline is a runs-table column, not a key (sweep axes leave it out).
        *(cid for k in keys.metrics for cid in ((f"metrics:{k}", f"spark:{k}") if attributes else (f"metrics:{k}",))),
        *(f"params:{k}" for k in keys.params),
        *(f"tags:{k}" for k in keys.tags),
    ]


def describe(column_id: str) -> str:
    kind, _, key = column_id.partition(":")
    label = {"attr": "attribute", "metrics": "metric", "params": "param", "tags": "tag", "spark": "sparkline"}[kind]
    return f"{label:9} {ATTRIBUTES[key][0] or 'Status' if kind == 'attr' else key}"


class ColumnChooser(ModalScreen[list[str] | None]):
    AREA = "columns"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="columns.cancel"),
        Binding("ctrl+s,f2", "apply", "Apply", id="columns.apply"),
        Binding("ctrl+r", "reset", "Default columns", id="columns.reset"),
        # Reached from the filter box only: the list handles its own Down first.
        Binding("down", "focus_list", "To the list", show=False, id="columns.to_list"),
    ]

    def __init__(self, keys: Keys, chosen: list[str], defaults: list[str], *, title: str = "Columns",
                 attributes: bool = True) -> None:
        """`title` names what is chosen; `attributes` False offers only the keys, no attributes
        or sparklines (sweep axes)."""
        super().__init__()
        self._title = title
        self._all = all_column_ids(keys, attributes)
        self._chosen = list(chosen)
        self._defaults = list(defaults)

    def compose(self) -> ComposeResult:
        with Vertical(id="chooser"):
            yield Label(plain(f"{self._title} · space toggles · ctrl+s applies · esc cancels"), id="chooser-title")
            yield Input(placeholder="filter keys", id="chooser-filter", select_on_focus=False)
            yield SelectionList[str](id="chooser-list")
            yield Label("", id="chooser-more")

    def on_mount(self) -> None:
        self._fill("")
        self.query_one("#chooser-filter", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_focus_list()

    def action_focus_list(self) -> None:
        selection_list = self.query_one("#chooser-list", SelectionList)
        if selection_list.highlighted is None and selection_list.option_count:
            selection_list.highlighted = 0  # space toggles at once
        focus_now(selection_list)

    def on_selection_list_selection_toggled(self, event: SelectionList.SelectionToggled) -> None:
        value = event.selection.value
        if value in self._chosen:
            self._chosen.remove(value)
        else:
            self._chosen.append(value)

    def _fill(self, query: str) -> None:
        needle = query.strip().lower()
        matches = [c for c in self._all if needle in c.lower()] if needle else self._all
        chosen_first = [c for c in self._chosen if c in matches] + [c for c in matches if c not in self._chosen]
        listed = chosen_first[:MAX_LISTED]
        selection_list = self.query_one("#chooser-list", SelectionList)
        selection_list.clear_options()
        selection_list.add_options([Selection(plain(describe(c)), c, c in self._chosen) for c in listed])
        if listed:
            selection_list.highlighted = 0
        more = len(matches) - len(listed)
        self.query_one("#chooser-more", Label).update(f"{more} more keys match: type to narrow" if more > 0 else "")

    def action_apply(self) -> None:
        chosen = with_sparklines_beside_values([c for c in self._chosen if c in self._all])
        self.dismiss(chosen or list(self._defaults))

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_reset(self) -> None:
        self.dismiss(list(self._defaults))
