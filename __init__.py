"""tracktui: MLflow tracking data in the terminal.

Installed as one import package: `tracktui.store` (the data layer, no UI) and `tracktui.tui`
(the Textual app and the command line). The repository keeps `store/` and `tui/` at its top
level; `pyproject.toml` maps this folder to the `tracktui` package.
"""

import logging

__version__ = "0.1.0"

# A library never prints: without a handler, Python's last-resort handler would write tracktui's
# log records to stderr (over the TUI). Whoever runs tracktui configures logging to see them.
logging.getLogger(__name__).addHandler(logging.NullHandler())
