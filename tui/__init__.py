"""tracktui's Textual front end. Talks to MLflow data only through `tracktui.store`."""
