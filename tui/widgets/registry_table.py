"""RegistryTable: one row per registered model or prompt (name, latest version, aliases,
tags, last update, description's first line), appended a page at a time.

Registered models and prompts have the same shape on screen, so one table serves the Models
and Prompts screens. Every cell is a `Text` made from store data (tui/safe_text.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from tracktui.store.registry import Prompt, RegisteredModel

from ..columns import format_start
from .paged_table import NeedMore
from .traces_table import PREFETCH_ROWS, one_line

_COLUMNS: tuple[tuple[str, str, int | None], ...] = (
    ("name", "Name", 24),
    ("latest", "Latest", 6),
    ("aliases", "Aliases", None),
    ("updated", "Last update", 16),
    ("tags", "Tags", None),
    ("description", "Description", None),
)


def aliases_text(aliases: Mapping[str, str]) -> str:
    """'@champion→3 @staging→4', by version then name."""
    return " ".join(f"@{alias}→v{version}" for alias, version in
                    sorted(aliases.items(), key=lambda kv: (_as_int(kv[1]), kv[0])))


def version_aliases_text(aliases: Sequence[str]) -> str:
    return " ".join(f"@{a}" for a in sorted(aliases))


def tags_text(tags: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(tags.items()) if not k.startswith("mlflow."))


def first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0] if (text or "").strip() else ""


def _as_int(version: str) -> int:
    try:
        return int(version)
    except ValueError:
        return 0


class RegistryTable(DataTable):
    """Registered models or prompts as rows keyed by name; Enter posts `Chosen`."""

    DEFAULT_CSS = "RegistryTable { height: 1fr; }"

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="registry_table.down"),
        Binding("k", "cursor_up", "Up", show=False, id="registry_table.up"),
        Binding("enter", "choose", "Open", id="registry_table.open"),
    ]

    class Chosen(Message):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.items: list[RegisteredModel | Prompt] = []
        self._names: set[str] = set()

    def reset(self) -> None:
        self.clear(columns=True)
        self.items = []
        self._names = set()

    def append(self, items: Sequence[RegisteredModel | Prompt], _extra: object = None) -> None:
        if not self.columns:
            for key, label, width in _COLUMNS:
                self.add_column(label, width=width, key=key)
        for item in items:
            if item.name in self._names:
                continue  # a page boundary moved under a concurrent write: never a duplicate key
            self.add_row(
                one_line(item.name, 24),
                Text(f"v{item.latest_version}" if item.latest_version else "—", justify="right"),
                one_line(aliases_text(item.aliases), 60),
                one_line(format_start(item.last_updated_timestamp), 16),
                one_line(tags_text(item.tags), 40),
                one_line(first_line(item.description), 60),
                key=item.name,
            )
            self.items.append(item)
            self._names.add(item.name)

    @property
    def current(self) -> RegisteredModel | Prompt | None:
        if not self.items or not 0 <= self.cursor_row < len(self.items):
            return None
        return self.items[self.cursor_row]

    def action_choose(self) -> None:
        if (item := self.current) is not None:
            self.post_message(self.Chosen(item.name))

    def watch_cursor_coordinate(self, old, new) -> None:
        super().watch_cursor_coordinate(old, new)
        if self.items and new.row >= len(self.items) - PREFETCH_ROWS:
            self.post_message(NeedMore())
