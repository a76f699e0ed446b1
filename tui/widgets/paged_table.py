"""The message a paged table posts when its cursor nears the last loaded row."""

from __future__ import annotations

from textual.message import Message


class NeedMore(Message):
    """Load the next page if there is one (tui/screens/paged_list.py)."""
