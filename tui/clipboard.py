"""Copying text for the user: the terminal's clipboard escape and the local clipboard.

OSC 52 (Textual's `App.copy_to_clipboard`) reaches the clipboard of the machine the terminal
runs on, even over SSH, but the terminal may ignore it and we cannot tell. pyperclip reaches
the local clipboard where one exists (a desktop session) and says when it cannot. So we do
both and tell the user which way the text went.
"""

from __future__ import annotations

from typing import Any


def copy_text(app: Any, text: str, what: str) -> str:
    """Copy `text` (described as `what`) both ways; notify and return the message shown."""
    app.copy_to_clipboard(text)  # OSC 52: always sent, acknowledged by nothing
    local = _copy_local(text)
    shown = text if len(text) <= 60 else text[:59] + "…"
    if local is None:
        how = "local clipboard and terminal (OSC 52)"
    else:
        how = f"terminal clipboard (OSC 52) only; no local clipboard: {local}"
    message = f"Copied {what}: {shown}\nvia {how}"
    app.notify(message, title="Copied", timeout=4)
    return message


def _copy_local(text: str) -> str | None:
    """Copy with pyperclip; None when it worked, else why not (short)."""
    try:
        import pyperclip
    except ImportError:
        return "pyperclip is not installed"
    try:
        pyperclip.copy(text)
    except Exception as exc:  # noqa: BLE001 - PyperclipException and OS errors alike
        reason = str(exc).split("\n", 1)[0].split(". ", 1)[0]
        return reason[:80] or type(exc).__name__
    return None
