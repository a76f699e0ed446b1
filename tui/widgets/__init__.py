"""Reusable widgets: each displays what its screen gives it and loads nothing itself."""
