"""Driving the app in pilot tests: wait for workers, type text, open an experiment, group its runs."""

from __future__ import annotations

import html
import re

from textual.worker import WorkerCancelled

from tracktui.tui.widgets.group_picker import GroupPicker

_TEXT = re.compile(r'<text [^>]*clip-path="url\(#[\w-]*?line-(\d+)\)"[^>]*>([^<]*)</text>')


async def settle(pilot, rounds: int = 3) -> None:
    """Wait until no worker runs and their results have been delivered (twice in a row)."""
    app = pilot.app
    quiet = 0
    for _ in range(200):
        await pilot.pause()
        try:
            await app.workers.wait_for_complete()
        except WorkerCancelled:  # an exclusive worker superseded by a newer one: keep waiting
            pass
        await pilot.pause()
        busy = any(not w.is_finished for w in app.workers)
        quiet = 0 if busy else quiet + 1
        if quiet >= rounds:
            break
    for node in app.screen.query("Input"):
        node.cursor_blink = False
    await pilot.pause()


_KEY_NAMES = {" ": "space", "-": "minus", ".": "full_stop", "'": "apostrophe", "<": "less_than_sign",
              "=": "equals_sign", ">": "greater_than_sign", "/": "slash", "_": "underscore"}


async def type_text(pilot, text: str) -> None:
    await pilot.press(*(_KEY_NAMES.get(ch, ch) for ch in text))


async def open_experiment(pilot, name: str) -> None:
    """From the experiments screen: `/`, the name instead of any earlier filter, Enter (back
    to the list), Enter (open)."""
    await settle(pilot)
    await pilot.press("slash", "home", "ctrl+k")
    await type_text(pilot, name)
    await pilot.press("enter", "enter")
    await settle(pilot)


async def type_burst(pilot, text: str) -> None:
    """Send every key of `text` before the app handles the first, as a terminal delivers keys
    typed faster than the app reads them (pilot.press waits for the app after each key)."""
    from textual import events

    app = pilot.app
    for ch in text:
        key = _KEY_NAMES.get(ch, ch)
        event = events.Key(key, ch)
        event.set_sender(app)
        app._driver.send_message(event)
    await settle(pilot)


def screen_lines(app) -> list[str]:
    """The screen's text, line by line, from the app's SVG screenshot."""
    lines: dict[int, str] = {}
    for line, text in _TEXT.findall(app.export_screenshot()):
        lines[int(line)] = lines.get(int(line), "") + html.unescape(text).replace("\xa0", " ")
    return [lines.get(i, "") for i in range(app.size.height)]


async def group_by(pilot, by: str) -> None:
    """b, then the picker's entry for `by` (params.lr, parent, or "" for no grouping)."""
    await pilot.press("b")
    await settle(pilot)
    picker = pilot.app.screen
    assert isinstance(picker, GroupPicker)
    picker.query_one("OptionList").highlighted = [value for value, _ in picker._choices].index(by)
    await pilot.press("enter")
    await settle(pilot)
