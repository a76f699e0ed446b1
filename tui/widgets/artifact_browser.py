"""The Artifacts tab of a run. For now it names where the artifacts live; browsing them (tree
and preview through the store's artifact interface) arrives with the artifacts feature."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from .run_format import MISSING


class ArtifactBrowser(VerticalScroll):
    """Shows the run's artifact URI; a placeholder for the tree + preview browser."""

    DEFAULT_CSS = """
    ArtifactBrowser { height: 1fr; padding: 1 2; }
    ArtifactBrowser > .artifact-uri { color: $text; text-style: bold; margin-bottom: 1; }
    ArtifactBrowser > .artifact-note { color: $text-muted; }
    """

    def compose(self) -> ComposeResult:
        yield Static("Artifact location", classes="artifact-label")
        yield Static(MISSING, classes="artifact-uri", markup=False)
        yield Static(
            "Browsing and previewing artifacts comes with the artifacts feature. "
            "Press Y to copy the artifact URI.",
            classes="artifact-note",
        )

    def show_uri(self, artifact_uri: str | None) -> None:
        self.query_one(".artifact-uri", Static).update(artifact_uri or MISSING)
