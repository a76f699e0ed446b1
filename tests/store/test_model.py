"""store/model.py: what the TUI shows for a run comes from one place."""

from __future__ import annotations

from tracktui.store.model import RUN_NAME_TAG, Run


def _run(name: str, tags: dict[str, str]) -> Run:
    return Run("0123456789abcdef", name, "1", "FINISHED", None, None, None, "active", None, tags=tags)


def test_display_name_is_the_name_then_the_run_name_tag_then_a_short_id():
    assert _run("sweep-3", {RUN_NAME_TAG: "tagged"}).display_name == "sweep-3"
    assert _run("", {RUN_NAME_TAG: "tagged"}).display_name == "tagged"
    assert _run("", {}).display_name == "01234567"
