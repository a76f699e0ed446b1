"""What a user would want kept between sessions: per experiment the runs table's chosen columns,
filter, sort and grouping; the theme.

Stored as JSON in `config.json` in the user's config folder (tui/user_dirs.py: on Linux
`$XDG_CONFIG_HOME/tracktui`, default `~/.config/tracktui`).
A missing or unreadable file gives the defaults; saving never raises into the UI. Stores are
keyed by their masked URI, so no password reaches the file (keys an older version wrote with
a password in them are masked on load and so dropped from the file at the next save).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from tracktui.store.uris import mask_uri

from .user_dirs import config_dir


@dataclass(frozen=True)
class GroupingView:
    """A saved grouping (tui/run_groups.py): the group key (`params.<key>`, `tags.<key>`,
    `parent`), the aggregate chosen per metric, and the groups' order."""

    by: str
    aggregates: tuple[tuple[str, str], ...] = ()
    sort_column: str | None = None
    sort_ascending: bool = True

    @classmethod
    def from_json(cls, data: object) -> GroupingView | None:
        if not isinstance(data, dict) or not isinstance(data.get("by"), str):
            return None
        raw = data.get("aggregates")
        aggregates = tuple((str(k), v) for k, v in (raw.items() if isinstance(raw, dict) else ()) if isinstance(v, str))
        sort = data.get("sort")
        return cls(data["by"], aggregates, sort if isinstance(sort, str) else None, data.get("ascending") is not False)

    def to_json(self) -> dict[str, object]:
        return {"by": self.by, "aggregates": dict(self.aggregates), "sort": self.sort_column,
                "ascending": self.sort_ascending}


@dataclass(frozen=True)
class RunsView:
    """The runs list's filter (MLflow syntax), sort (a column id, None: the store's order) and
    grouping (None: runs, not groups)."""

    filter: str = ""
    sort_column: str | None = None
    sort_ascending: bool = True
    grouping: GroupingView | None = None

    @classmethod
    def from_json(cls, data: object) -> RunsView | None:
        if not isinstance(data, dict):
            return None
        sort = data.get("sort")
        return cls(str(data.get("filter") or ""), sort if isinstance(sort, str) else None,
                   data.get("ascending") is not False, GroupingView.from_json(data.get("grouping")))

    def to_json(self) -> dict[str, object]:
        saved: dict[str, object] = {"filter": self.filter, "sort": self.sort_column, "ascending": self.sort_ascending}
        if self.grouping is not None:
            saved["grouping"] = self.grouping.to_json()
        return saved


@dataclass
class Config:
    theme: str | None = None
    #: "<masked store uri>#<experiment id>" → column ids in display order.
    columns: dict[str, list[str]] = field(default_factory=dict)
    #: Same keys → the runs list's filter and sort.
    runs_views: dict[str, RunsView] = field(default_factory=dict)
    path: Path | None = field(default=None, repr=False, compare=False)

    @classmethod
    def load(cls, path: Path | None = None) -> Config:
        path = path or config_dir() / "config.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls(path=path)
        if not isinstance(data, dict):
            return cls(path=path)
        theme = data.get("theme") if isinstance(data.get("theme"), str) else None
        columns = {
            mask_uri(str(k)): [str(c) for c in v]
            for k, v in (data.get("columns") or {}).items()
            if isinstance(v, list)
        }
        saved_views = data.get("runs_views")
        views = {
            mask_uri(str(k)): view
            for k, raw in (saved_views.items() if isinstance(saved_views, dict) else ())
            if (view := RunsView.from_json(raw)) is not None
        }
        return cls(theme=theme, columns=columns, runs_views=views, path=path)

    def save(self) -> str | None:
        """Write the file; returns an error message instead of raising (the UI shows it)."""
        if self.path is None:
            return None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            views = {k: v.to_json() for k, v in self.runs_views.items()}
            data = {"theme": self.theme, "columns": self.columns, "runs_views": views}
            tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
            tmp.replace(self.path)
        except OSError as exc:
            return f"Could not save settings to {self.path}: {exc.strerror or exc}"
        return None

    def columns_for(self, store_uri: str, experiment_id: str) -> list[str] | None:
        return self.columns.get(f"{mask_uri(store_uri)}#{experiment_id}")

    def set_columns_for(self, store_uri: str, experiment_id: str, column_ids: list[str]) -> None:
        self.columns[f"{mask_uri(store_uri)}#{experiment_id}"] = list(column_ids)

    def runs_view_for(self, store_uri: str, experiment_id: str) -> RunsView:
        return self.runs_views.get(f"{mask_uri(store_uri)}#{experiment_id}") or RunsView()

    def set_runs_view_for(self, store_uri: str, experiment_id: str, view: RunsView) -> None:
        self.runs_views[f"{mask_uri(store_uri)}#{experiment_id}"] = view
