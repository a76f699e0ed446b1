"""Store text as display text: inert, visible, never markup.

Experiment names, run names, params, tags, artifact names and contents, trace and span text and
server error messages are written by anyone with access to the store. Drawn raw, an escape
sequence in them reaches the viewer's terminal (OSC 52 sets the clipboard, OSC 2 retitles the
window, CSI 2J clears the screen) and bidi overrides reorder what the viewer reads; parsed as
Textual/Rich markup, `[/INST]` (every Llama-style prompt) crashes the app and `[@click=…]`
binds actions to clicks. So every widget builds its text from store values with `plain(...)`
(a Rich `Text`, which Textual never parses as markup), or, where a `str` is required, with
`inert(...)` and a markup-free path. Control characters stay visible: C0 controls as the
Unicode control pictures (ESC as ␛, BEL as ␇), DEL as ␡, C1 controls and bidi/line-separator
format characters as `\\x9b` / `\\u202e` escapes, so what was hidden can be read.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

#: Bidi embeddings, overrides and isolates (the "Trojan Source" set), and the Unicode line and
#: paragraph separators, which break a one-line cell as LF would.
_FORMAT_CHARACTERS = (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x2028, 0x2029)


def _visible(code: int) -> str:
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ … ␟: one cell wide, like the character it replaces
    if code == 0x7F:
        return "\u2421"  # ␡
    if code <= 0x9F:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


_ONE_LINE = {code: _visible(code) for code in (*range(0x20), *range(0x7F, 0xA0), *_FORMAT_CHARACTERS)}
#: Multi-line viewers (previews, descriptions, notifications) keep line feeds and tabs.
_MULTI_LINE = {code: shown for code, shown in _ONE_LINE.items() if code not in (0x0A, 0x09)}


def inert(value: object, *, multiline: bool = False) -> str:
    """`value` as text that cannot control the terminal: every control character (and, unless
    `multiline`, line breaks and tabs) replaced by a visible stand-in. None is ''. The result
    may still look like markup: hand it only to widgets told not to parse markup."""
    text = "" if value is None else str(value)
    if multiline:
        text = text.replace("\r\n", "\n")  # a CRLF file previews as lines, not as ␍ everywhere
        return text.translate(_MULTI_LINE)
    return text.translate(_ONE_LINE)


def plain(value: object, style: str | Style = "", *, multiline: bool = False, **text_options) -> Text:
    """`inert(value)` as a Rich Text: shown literally by every Textual widget (no markup),
    styled with `style`; `text_options` go to `Text` (justify, no_wrap, overflow, end)."""
    return Text(inert(value, multiline=multiline), style=style, **text_options)
