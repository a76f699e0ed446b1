"""Completion for the runs filter: the identifiers MLflow's run filter grammar knows, offered
as the word being typed is begun (→ or End accepts), so `dataset.context` or
`attributes.start_time` need not be remembered. The user's own text is never re-cased."""

from __future__ import annotations

import re
from collections.abc import Iterable

from textual.suggester import Suggester

#: What a run filter may name (MLflow's `SearchUtils`), datasets included.
RUN_FILTER_WORDS: tuple[str, ...] = (
    "metrics.", "params.", "tags.",
    "attributes.run_name", "attributes.status", "attributes.start_time", "attributes.end_time",
    "attributes.user_id", "attributes.run_id", "attributes.artifact_uri",
    "dataset.name", "dataset.digest", "dataset.context",
)

#: The word being typed: what follows the last space, comma or opening parenthesis.
_LAST_WORD = re.compile(r"[^\s,(]*$")


class FilterWordSuggester(Suggester):
    """Suggests the rest of the first word (in `words` order) the last typed word begins."""

    def __init__(self, words: Iterable[str] = RUN_FILTER_WORDS, min_length: int = 2) -> None:
        super().__init__(use_cache=True, case_sensitive=True)  # matched case-blind below
        self.words = tuple(words)
        self.min_length = min_length

    async def get_suggestion(self, value: str) -> str | None:
        return complete(value, self.words, self.min_length)


def complete(value: str, words: Iterable[str], min_length: int = 2) -> str | None:
    """`value` with its last word completed to the first matching word, or None."""
    typed = _LAST_WORD.search(value)
    begun = typed.group(0) if typed else ""
    if len(begun) < min_length or "'" in begun or '"' in begun or "`" in begun:
        return None  # inside a quoted value or key: nothing to suggest
    lowered = begun.lower()
    for word in words:
        if word.lower().startswith(lowered) and len(word) > len(begun):
            return value + word[len(begun):]
    return None
