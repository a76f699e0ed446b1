"""Saved settings never hold a password: stores are keyed by their masked URI."""

from __future__ import annotations

import json

from tracktui.tui.config import Config, GroupingView, RunsView

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


def test_a_grouping_round_trips_and_a_damaged_one_is_dropped(tmp_path):
    path = tmp_path / "config.json"
    config = Config(path=path)
    grouping = GroupingView("params.`learning rate`", (("val/loss", "max"),), "metrics:val/loss", False)
    config.set_runs_view_for(URI, "4", RunsView("params.opt = 'adam'", grouping=grouping))
    assert config.save() is None
    assert Config.load(path).runs_view_for(URI, "4") == RunsView("params.opt = 'adam'", grouping=grouping)
    # hand-edited or from another version: a grouping that is not one, aggregates that are not text
    data = json.loads(path.read_text(encoding="utf-8"))
    key = next(iter(data["runs_views"]))
    data["runs_views"][key]["grouping"] = {"by": 3}
    data["runs_views"]["other#1"] = {"grouping": {"by": "tags.team", "aggregates": {"m": 1, "n": "min"}}}
    path.write_text(json.dumps(data), encoding="utf-8")
    loaded = Config.load(path)
    assert loaded.runs_view_for(URI, "4") == RunsView("params.opt = 'adam'")
    assert loaded.runs_view_for("other", "1").grouping == GroupingView("tags.team", (("n", "min"),))
