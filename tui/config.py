"""What a user would want kept between sessions: chosen runs-table columns per experiment, theme.

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


@dataclass
class Config:
    theme: str | None = None
    #: "<masked store uri>#<experiment id>" → column ids in display order.
    columns: dict[str, list[str]] = field(default_factory=dict)
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
        return cls(theme=theme, columns=columns, path=path)

    def save(self) -> str | None:
        """Write the file; returns an error message instead of raising (the UI shows it)."""
        if self.path is None:
            return None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"theme": self.theme, "columns": self.columns}, indent=2), encoding="utf-8")
            tmp.replace(self.path)
        except OSError as exc:
            return f"Could not save settings to {self.path}: {exc.strerror or exc}"
        return None

    def columns_for(self, store_uri: str, experiment_id: str) -> list[str] | None:
        return self.columns.get(f"{mask_uri(store_uri)}#{experiment_id}")

    def set_columns_for(self, store_uri: str, experiment_id: str, column_ids: list[str]) -> None:
        self.columns[f"{mask_uri(store_uri)}#{experiment_id}"] = list(column_ids)
