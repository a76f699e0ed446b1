"""Saved settings never hold a password: stores are keyed by their masked URI."""

from __future__ import annotations

import json

from tracktui.tui.config import Config

URI = "postgresql://postgres:Pass/word99@db.example.org/mlflow"


def test_columns_are_saved_under_the_masked_uri(tmp_path):
    path = tmp_path / "config.json"
    config = Config(path=path)
    config.set_columns_for(URI, "3", ["attr:name", "metric:loss"])
    assert config.save() is None
    text = path.read_text(encoding="utf-8")
    assert "word99" not in text and "Pass" not in text
    assert "postgresql://postgres:***@db.example.org/mlflow#3" in json.loads(text)["columns"]
    assert Config.load(path).columns_for(URI, "3") == ["attr:name", "metric:loss"]


def test_a_password_an_older_version_saved_is_masked_on_load_and_gone_after_saving(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"theme": "nord", "columns": {f"{URI}#1": ["attr:name"]}}), encoding="utf-8")
    config = Config.load(path)
    assert config.columns_for(URI, "1") == ["attr:name"]
    config.save()
    assert "word99" not in path.read_text(encoding="utf-8")
