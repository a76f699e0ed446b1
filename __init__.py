"""tracktui: MLflow tracking data in the terminal.

Installed as one import package: `tracktui.store` (the data layer, no UI) and `tracktui.tui`
(the Textual app and the command line). The repository keeps `store/` and `tui/` at its top
level; `pyproject.toml` maps this folder to the `tracktui` package.
"""

__version__ = "0.1.0"
