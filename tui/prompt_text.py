"""Prompt templates on screen: the whole text with its `{{ variables }}` picked out, and a
word-level diff of two versions (what changed in the wording, not which lines).

Template text is store data: it is made inert (tui/safe_text.py) before any style is added,
and chat prompts (JSON lists of messages) are shown one message per block.
"""

from __future__ import annotations

import difflib
import json
import re

from rich.text import Text

from tracktui.store.registry import TEMPLATE_VARIABLE

from .safe_text import inert

VARIABLE_STYLE = "bold magenta"
ADDED_STYLE = "bold green"
REMOVED_STYLE = "red strike"
#: Words and the whitespace between them, so a diff of the tokens rebuilds the text exactly.
_TOKENS = re.compile(r"\s+|[^\s]+")


def readable_template(template: str, prompt_type: str = "text") -> str:
    """The template as a person reads it: a chat prompt's messages as `role:` blocks, any
    other text as it is."""
    if prompt_type != "chat":
        return template
    try:
        messages = json.loads(template)
    except ValueError:
        return template
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        return template
    return "\n\n".join(f"{m.get('role', '?')}:\n{m.get('content', '')}" for m in messages)


def highlighted_template(text: str) -> Text:
    """`text` made inert, with every `{{ variable }}` in VARIABLE_STYLE."""
    shown = Text(inert(text, multiline=True))
    for match in TEMPLATE_VARIABLE.finditer(shown.plain):
        shown.stylize(VARIABLE_STYLE, match.start(), match.end())
    return shown


def word_diff(old: str, new: str) -> Text:
    """`new` with the words it adds as `{+added+}` in ADDED_STYLE and the words of `old` it
    drops as `[-removed-]` in REMOVED_STYLE, in place (git's --word-diff markers, so the diff
    reads right without colour too). Whitespace is kept as written."""
    a = _TOKENS.findall(inert(old, multiline=True))
    b = _TOKENS.findall(inert(new, multiline=True))
    out = Text()
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append("".join(b[j1:j2]))
            continue
        removed, added = "".join(a[i1:i2]).strip(), "".join(b[j1:j2])
        if removed:
            out.append(f"[-{removed}-]", style=REMOVED_STYLE)
        core = added.strip()
        if not core:
            out.append(added)  # only whitespace changed: show the new spacing as it is
            continue
        start = added.index(core)
        out.append(added[:start])
        out.append(f"{{+{core}+}}", style=ADDED_STYLE)
        out.append(added[start + len(core):])
    return out


def diff_counts(old: str, new: str) -> tuple[int, int]:
    """(words added, words removed) from `old` to `new`, whitespace not counted."""
    a, b = old.split(), new.split()
    added = removed = 0
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op in ("delete", "replace"):
            removed += i2 - i1
        if op in ("insert", "replace"):
            added += j2 - j1
    return added, removed
