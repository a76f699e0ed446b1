"""Settings and the demo store find their folders through one helper (tui/user_dirs.py)."""

from __future__ import annotations

import platformdirs.windows

from tracktui.tui import user_dirs
from tracktui.tui.config import Config, config_dir
from tracktui.tui.demo import default_demo_dir


def test_linux_folders_follow_xdg(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert config_dir() == tmp_path / "config" / "tracktui"
    assert Config.load().path == tmp_path / "config" / "tracktui" / "config.json"
    assert default_demo_dir() == tmp_path / "data" / "tracktui" / "demo"


def test_linux_defaults_without_xdg(tmp_path, monkeypatch):
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert config_dir() == tmp_path / ".config" / "tracktui"
    assert default_demo_dir() == tmp_path / ".local" / "share" / "tracktui" / "demo"


def test_windows_settings_and_demo_share_the_local_app_data_folder(tmp_path, monkeypatch):
    """The two hand-written copies disagreed here: settings went to ~/.config, the demo to LOCALAPPDATA."""
    monkeypatch.setattr(user_dirs, "PlatformDirs", platformdirs.windows.Windows)
    # What the Windows shell answers for each known folder, here under tmp_path.
    folders = {"CSIDL_LOCAL_APPDATA": tmp_path / "Local", "CSIDL_APPDATA": tmp_path / "Roaming"}
    monkeypatch.setattr(platformdirs.windows, "get_win_folder", lambda name: str(folders[name]))
    assert config_dir() == tmp_path / "Local" / "tracktui"
    assert default_demo_dir() == tmp_path / "Local" / "tracktui" / "demo"
