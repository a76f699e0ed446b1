"""tracktui's Textual front end. Talks to MLflow data only through `store`."""

__version__ = "0.1.0"
