"""Names for runs created without one, in mlflow's `<adjective>-<animal>-<number>` shape.

Every backend's `create_run` uses this so an unnamed run looks the same wherever it is created.
The word lists are our own.
"""

from __future__ import annotations

import random

_ADJECTIVES = (
    "amber", "brave", "bright", "calm", "clever", "crisp", "dapper", "eager", "fancy", "gentle",
    "glad", "golden", "grand", "happy", "jolly", "keen", "kind", "lively", "lucky", "merry",
    "mighty", "nimble", "noble", "polite", "proud", "quick", "quiet", "rapid", "shiny", "silent",
    "smart", "sunny", "swift", "tidy", "upbeat", "vivid", "warm", "wise", "witty", "zesty",
)
_ANIMALS = (
    "badger", "bat", "bear", "bison", "crab", "crane", "deer", "dove", "eagle", "eel", "finch",
    "fox", "frog", "gecko", "goat", "hare", "hawk", "heron", "ibis", "koala", "lark", "lemur",
    "lynx", "mole", "moth", "newt", "otter", "owl", "panda", "quail", "raven", "seal", "shrew",
    "sloth", "snail", "swan", "tapir", "toad", "wolf", "wren",
)


def random_run_name(rng: random.Random | None = None) -> str:
    choice, randint = (rng.choice, rng.randint) if rng is not None else (random.choice, random.randint)
    return f"{choice(_ADJECTIVES)}-{choice(_ANIMALS)}-{randint(0, 999)}"
