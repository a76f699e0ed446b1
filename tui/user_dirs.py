"""Where tracktui keeps a user's files: one helper over platformdirs for every platform.

Linux follows the XDG spec (`$XDG_CONFIG_HOME`, `$XDG_DATA_HOME`, else `~/.config` and
`~/.local/share`); Windows uses `%LOCALAPPDATA%\\tracktui`; macOS `~/Library/Application Support`.
Settings (tui/config.py) and the demo store (tui/demo.py) both ask here, so they cannot disagree.
"""

from __future__ import annotations

from pathlib import Path

from platformdirs import PlatformDirs

APP_NAME = "tracktui"


def config_dir() -> Path:
    """The per-user settings folder (not created here)."""
    return _dirs().user_config_path


def data_dir() -> Path:
    """The per-user data folder (not created here)."""
    return _dirs().user_data_path


def _dirs() -> PlatformDirs:
    # Built per call: the environment (XDG_* in tests, a changed profile) is read each time.
    return PlatformDirs(APP_NAME, appauthor=False)
