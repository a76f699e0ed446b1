"""Page tokens in MLflow's own format, so tokens mean the same thing on every backend.

A token is `base64(json.dumps({"offset": N}))` — e.g. `eyJvZmZzZXQiOiAxfQ==` is offset 1 —
exactly what MLflow's stores hand out. Callers treat it as opaque.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from .errors import InvalidValue

if TYPE_CHECKING:
    from .model import Page

T = TypeVar("T")

#: The largest page MLflow serves of runs, experiments or traces (its SEARCH_MAX_RESULTS_THRESHOLD).
MAX_RESULTS_LIMIT = 50_000


def check_max_results(max_results: int, limit: int | None = MAX_RESULTS_LIMIT) -> int:
    """`max_results` if it is an integer from 1 to `limit` (bools are not; no upper bound when
    `limit` is None); else InvalidValue, on every backend alike, as MLflow refuses a page of
    runs, experiments or traces above 50,000 on each of its stores (a REST server's own smaller
    cap is applied after this check)."""
    if isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 1:
        raise InvalidValue(f"max_results must be a positive integer, got {max_results!r}")
    if limit is not None and max_results > limit:
        raise InvalidValue(f"max_results must be at most {limit}, got {max_results}")
    return max_results


def encode_page_token(offset: int) -> str:
    """The token for the page that starts `offset` items into the ordered result."""
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise InvalidValue(f"A page offset must be a non-negative integer, got {offset!r}")
    return base64.b64encode(json.dumps({"offset": offset}).encode("utf-8")).decode("ascii")


def decode_page_token(token: str | bytes | None) -> int:
    """The offset a token stands for; None or "" means the first page (offset 0).

    Raises InvalidValue naming what is wrong with a token that did not come from us."""
    if token is None or token == "" or token == b"":
        return 0
    if not isinstance(token, (str, bytes)):
        raise InvalidValue(f"A page token must be a string, got {type(token).__name__}")
    shown = token if len(token) <= 60 else f"{token[:57]!s}..."
    hint = "pass the next_page_token of the previous page unchanged, or none for the first page"
    try:
        raw = base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise InvalidValue(f"Invalid page token {shown!r}: not base64; {hint}") from None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise InvalidValue(f"Invalid page token {shown!r}: not JSON; {hint}") from None
    offset = data.get("offset") if isinstance(data, dict) else None
    if isinstance(offset, str) and offset.isdigit():  # MLflow itself accepts stringified ints
        offset = int(offset)
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise InvalidValue(f"Invalid page token {shown!r}: no non-negative offset; {hint}")
    return offset


def every_item(fetch: Callable[[str | None], Page[T]], limit: int | None = None) -> list[T]:
    """Every item of a paged search: `fetch(token)` is called with None, then with each next
    page token, until there is none (or `limit` items are in hand)."""
    items: list[T] = []
    token: str | None = None
    while limit is None or len(items) < limit:
        page = fetch(token)
        items.extend(page.items)
        token = page.next_page_token
        if not token:
            break
    return items if limit is None else items[:limit]
