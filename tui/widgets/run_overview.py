"""The Overview tab of a run: who, what, when, where it came from, its parent and children, and
the description written in MLflow's note tag.

Displays only: the screen passes the run (`show_run`) and its relatives (`show_relatives`).
Choosing a related run posts `OpenRun`; the screen decides how to open it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.message import Message
from textual.widgets import Markdown, OptionList, Static
from textual.widgets.option_list import Option

from tracktui.store.model import NOTE_TAG, Run
from tracktui.store.registry import ModelVersion

from ..safe_text import inert, plain
from .run_format import MISSING, format_duration, format_time
from .run_inputs import RunInputsList

SOURCE_NAME_TAG = "mlflow.source.name"
SOURCE_TYPE_TAG = "mlflow.source.type"
GIT_COMMIT_TAG = "mlflow.source.git.commit"
GIT_BRANCH_TAG = "mlflow.source.git.branch"

#: (field id, label) in display order.
FIELDS: tuple[tuple[str, str], ...] = (
    ("name", "Name"),
    ("run-id", "Run ID"),
    ("experiment", "Experiment"),
    ("status", "Status"),
    ("start", "Started"),
    ("end", "Ended"),
    ("duration", "Duration"),
    ("user", "User"),
    ("source", "Source"),
    ("git", "Git commit"),
    ("artifacts", "Artifact URI"),
)

STATUS_CLASSES = {
    "FINISHED": "status-finished",
    "FAILED": "status-failed",
    "KILLED": "status-killed",
    "RUNNING": "status-running",
    "SCHEDULED": "status-scheduled",
}


class RunOverview(VerticalScroll):
    """Run facts in a label/value grid, then related runs, then the description."""

    BINDINGS = [
        Binding("j", "scroll_down", "Scroll down", show=False, id="run_overview.scroll_down"),
        Binding("k", "scroll_up", "Scroll up", show=False, id="run_overview.scroll_up"),
    ]

    DEFAULT_CSS = """
    RunOverview { height: 1fr; padding: 0 1; }
    RunOverview > #overview-fields {
        grid-size: 2; grid-columns: 14 1fr; grid-rows: auto; height: auto;
    }
    RunOverview .field-label { color: $text-muted; }
    RunOverview .field-value { color: $text; }
    RunOverview .status-finished { color: $success; text-style: bold; }
    RunOverview .status-failed { color: $error; text-style: bold; }
    RunOverview .status-killed { color: $text-muted; text-style: bold; }
    RunOverview .status-running { color: $warning; text-style: bold; }
    RunOverview .status-scheduled { color: $secondary; text-style: bold; }
    RunOverview .overview-heading { color: $primary; text-style: bold; margin-top: 1; }
    RunOverview > #overview-relatives { height: auto; max-height: 10; }
    RunOverview > #overview-no-relatives { color: $text-muted; }
    RunOverview > #overview-inputs { height: auto; max-height: 8; text-wrap: nowrap; text-overflow: ellipsis; }
    RunOverview > #overview-no-inputs { color: $text-muted; }
    RunOverview > #overview-registered { height: auto; max-height: 6; }
    RunOverview > #overview-description { padding: 0; }
    """

    class OpenRun(Message):
        """The user chose a related run (parent or child) to open."""

        def __init__(self, run_id: str) -> None:
            super().__init__()
            self.run_id = run_id

    def compose(self) -> ComposeResult:
        with Grid(id="overview-fields"):
            for field_id, label in FIELDS:
                yield Static(label, classes="field-label")
                yield Static(MISSING, id=f"field-{field_id}", classes="field-value", markup=False)
        yield Static("Parent and child runs", id="overview-relatives-heading", classes="overview-heading")
        yield Static("Loading…", id="overview-no-relatives", markup=False)
        yield RelatedRuns(id="overview-relatives", compact=True)
        yield Static("Datasets and models", id="overview-inputs-heading", classes="overview-heading")
        yield Static("No dataset inputs or logged models.", id="overview-no-inputs", markup=False)
        yield RunInputsList(id="overview-inputs", compact=True)
        # Shown only when the run has registered versions (filled by `show_registered`).
        yield Static("Registered model versions", id="overview-registered-heading", classes="overview-heading")
        yield RegisteredVersionsList(id="overview-registered", compact=True)
        yield Static("Description", id="overview-description-heading", classes="overview-heading")
        yield Markdown("", id="overview-description")

    def on_mount(self) -> None:
        self.query_one(RelatedRuns).display = False
        self.query_one(RunInputsList).display = False
        self.query_one("#overview-registered-heading").display = False
        self.query_one(RegisteredVersionsList).display = False
        self.query_one("#overview-description-heading").display = False
        self.query_one("#overview-description").display = False

    # -- what the screen calls ------------------------------------------------------------

    def show_run(self, run: Run, experiment_name: str | None = None) -> None:
        """Fill the fields and the description from the run."""
        tags = run.tags
        status = run.status + (" (deleted)" if run.lifecycle_stage == "deleted" else "")
        experiment = f"{experiment_name} ({run.experiment_id})" if experiment_name else run.experiment_id
        values = {
            "name": run.name or tags.get("mlflow.runName") or MISSING,
            "run-id": run.id,
            "experiment": experiment,
            "status": status,
            "start": format_time(run.start_time),
            "end": format_time(run.end_time) if run.end_time else _not_ended(run.status),
            "duration": format_duration(run.duration_ms) if run.end_time else _elapsed(run),
            "user": run.user_id or tags.get("mlflow.user") or MISSING,
            "source": _source(tags),
            "git": _git(tags),
            "artifacts": run.artifact_uri or MISSING,
        }
        for field_id, value in values.items():
            self.query_one(f"#field-{field_id}", Static).update(plain(value))
        status_widget = self.query_one("#field-status", Static)
        status_widget.remove_class(*STATUS_CLASSES.values())
        if run.status in STATUS_CLASSES:
            status_widget.add_class(STATUS_CLASSES[run.status])

        self._show_inputs(run)

        note = tags.get(NOTE_TAG, "").strip()
        self.query_one("#overview-description-heading").display = bool(note)
        description = self.query_one("#overview-description", Markdown)
        description.display = bool(note)
        description.update(inert(note, multiline=True))  # Markdown, but no control characters

    def _show_inputs(self, run: Run) -> None:
        inputs = self.query_one(RunInputsList)
        inputs.show_run(run)
        datasets = len(run.inputs.dataset_inputs)
        models = len(run.inputs.model_inputs) + len(run.outputs.model_outputs)
        parts = [f"{datasets} dataset{'s' if datasets != 1 else ''}"] if datasets else []
        parts += [f"{models} logged model{'s' if models != 1 else ''}"] if models else []
        heading = " and ".join(parts) + " (Enter opens)" if parts else "Datasets and models"
        self.query_one("#overview-inputs-heading", Static).update(heading)
        inputs.display = inputs.option_count > 0
        self.query_one("#overview-no-inputs").display = inputs.option_count == 0

    def show_relatives(
        self, parent_id: str | None, parent: Run | None, children: list[Run]
    ) -> None:
        """List the parent (by name when it could be loaded) and the children."""
        related = self.query_one(RelatedRuns)
        related.clear_options()
        if parent_id:
            label = _run_label(parent) if parent else f"{parent_id} (not found)"
            related.add_option(Option(plain(f"↑ {label}"), id=parent_id))
        for child in children:
            related.add_option(Option(plain(f"↳ {_run_label(child)}"), id=child.id))
        has_any = related.option_count > 0
        self.query_one("#overview-relatives-heading", Static).update(_relatives_heading(parent_id, children))
        related.display = has_any
        placeholder = self.query_one("#overview-no-relatives", Static)
        placeholder.display = not has_any
        placeholder.update("No parent or child runs.")
        if has_any:
            related.highlighted = 0

    def show_registered(self, versions: Sequence[ModelVersion]) -> None:
        """List the registry versions made from the run (hidden when there are none)."""
        listed = self.query_one(RegisteredVersionsList)
        listed.show_versions(versions)
        count = len(versions)
        heading = self.query_one("#overview-registered-heading", Static)
        heading.update(f"Registered as {count} model version{'s' if count != 1 else ''} (Enter opens the model)")
        heading.display = listed.display = count > 0

    def show_relatives_failed(self, message: str) -> None:
        placeholder = self.query_one("#overview-no-relatives", Static)
        placeholder.display = True
        placeholder.update(plain(f"Could not load related runs: {message}"))

    @property
    def related_run_ids(self) -> tuple[str, ...]:
        related = self.query_one(RelatedRuns)
        return tuple(related.get_option_at_index(i).id or "" for i in range(related.option_count))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.post_message(self.OpenRun(event.option.id))


class RelatedRuns(OptionList):
    """Parent and children of the run; Enter opens one.

    Moving past either end scrolls the overview instead, so the description below the list is
    reachable from the keyboard on a small terminal.
    """

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="related_runs.cursor_down"),
        Binding("k", "cursor_up", "Up", show=False, id="related_runs.cursor_up"),
    ]

    def action_cursor_down(self) -> None:
        if self.highlighted is not None and self.highlighted >= self.option_count - 1:
            self._scroll_overview(+1)
        else:
            super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.highlighted == 0:
            self._scroll_overview(-1)
        else:
            super().action_cursor_up()

    def _scroll_overview(self, direction: int) -> None:
        overview = next((a for a in self.ancestors if isinstance(a, RunOverview)), None)
        if overview is not None:
            (overview.scroll_down if direction > 0 else overview.scroll_up)(animate=False)


class RegisteredVersionsList(OptionList):
    """Registry versions made from the run: `name v3 @champion (Production)`; Enter posts
    `OpenRegisteredModel` with the model's name."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="registered_versions.cursor_down"),
        Binding("k", "cursor_up", "Up", show=False, id="registered_versions.cursor_up"),
    ]

    class OpenRegisteredModel(Message):
        def __init__(self, name: str, version: str) -> None:
            super().__init__()
            self.name = name
            self.version = version

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._versions: list[ModelVersion] = []

    def show_versions(self, versions: Sequence[ModelVersion]) -> None:
        self.clear_options()
        self._versions = list(versions)
        for v in self._versions:
            aliases = "".join(f" @{a}" for a in sorted(v.aliases))
            stage = f" ({v.current_stage})" if v.current_stage not in ("None", "") else ""
            self.add_option(Option(plain(f"{v.name} v{v.version}{aliases}{stage}")))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        version = self._versions[event.option_index]
        self.post_message(self.OpenRegisteredModel(version.name, version.version))


def _run_label(run: Run) -> str:
    name = run.display_name
    deleted = "  (deleted)" if run.lifecycle_stage == "deleted" else ""
    return f"{name}  {run.status.lower():<9} {run.id}{deleted}"


def _relatives_heading(parent_id: str | None, children: list[Run]) -> str:
    parts = ["Parent run"] if parent_id else []
    if children:
        parts.append(f"{len(children)} child run{'s' if len(children) != 1 else ''}")
    if not parts:
        return "Parent and child runs"
    return " and ".join(parts) + " (Enter opens)"


def _elapsed(run: Run) -> str:
    """A running run's time so far (its Ended field says it is still running)."""
    if run.status != "RUNNING" or run.start_time is None:
        return MISSING
    return f"{format_duration(int(time.time() * 1000) - run.start_time)} so far"


def _not_ended(status: str) -> str:
    return {"RUNNING": "still running", "SCHEDULED": "not started"}.get(status, MISSING)


def _source(tags) -> str:
    name = tags.get(SOURCE_NAME_TAG)
    kind = tags.get(SOURCE_TYPE_TAG)
    if name and kind:
        return f"{name} ({kind.lower()})"
    return name or (kind.lower() if kind else MISSING)


def _git(tags) -> str:
    commit = tags.get(GIT_COMMIT_TAG)
    if not commit:
        return MISSING
    branch = tags.get(GIT_BRANCH_TAG)
    return f"{commit[:12]} on {branch}" if branch else commit[:12]
