"""Write actions and copy/download, as screen base classes the list and run screens inherit.

Each class adds its bindings (so they reach the footer, `?` help and the command palette) and
the actions behind them; the host screen supplies what is selected. Every store call runs in a
worker through `app.run_store_call`. On a read-only store (`--read-only`, an unknown schema, a
server that refused a write) a write action only says why it is unavailable: nothing is opened
or attempted (the status bar says read-only, with the reason as its tooltip). A server that
answers a write with "permission denied" turns the store read-only for the rest of the session.

Deleting offers undo: the notification names ctrl+z (also "Undo delete" in the palette),
valid for as long as the notification shows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import getters
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widget import Widget

from tracktui.store.base import Store
from tracktui.store.errors import PermissionDenied, ReadOnlyError, StoreError
from tracktui.store.model import NOTE_TAG, Experiment, Run
from tracktui.store.validation import (
    validate_experiment_name,
    validate_experiment_tag,
    validate_run_name,
    validate_run_tag,
)

from .app import TrackApp
from .clipboard import copy_text
from .safe_text import inert

if TYPE_CHECKING:
    from .image_decode import DisplayImage, NotShown
    from .screens.tag_editor import TagChanges
    from .widgets.artifact_browser import ArtifactBrowser
    from .widgets.logged_images import LoggedImagesPanel
    from .widgets.runs_table import RunsTable

#: Seconds the undo notification shows, and for which ctrl+z undoes the delete.
UNDO_SECONDS = 20

#: Actions that change the store: refused up front on a read-only store.
WRITE_ACTIONS = {
    "delete_runs", "restore_runs", "edit_tags", "rename_run",
    "delete_experiment", "restore_experiment", "rename_experiment", "edit_experiment_tags", "undo",
    "edit_description", "edit_experiment_description",
}


@dataclass
class PendingUndo:
    """The last delete, restorable until `expires` (time.monotonic)."""

    description: str
    restore: Callable[[Store], None]  # runs in a worker
    expires: float
    after: Callable[[], None] | None = None  # UI refresh once restored
    owner: Screen | None = None  # the screen `after` belongs to (it may be gone by then)
    how_to_restore: str = ""  # said on stderr if the app crashes before the undo is used


def track_app(node: DOMNode) -> TrackApp:
    """`node.app`, typed: these flows only ever run inside TrackApp."""
    app = node.app
    assert isinstance(app, TrackApp)
    return app


def refuse_if_read_only(node: Widget) -> bool:
    """True (after telling the user why) when the store cannot be written."""
    reason = track_app(node).read_only_reason
    if reason:
        node.notify(f"Writes are disabled: {reason}", title="Read-only store", severity="warning", timeout=6)
        return True
    return False


def write_failed(app: TrackApp) -> Callable[[StoreError], bool]:
    """on_error for writes: a server refusing writes makes the store read-only from now on."""

    def failed(error: StoreError) -> bool:
        denied = isinstance(error, (ReadOnlyError, PermissionDenied))
        if denied and not app.read_only_reason:
            app.refuse_writes(f"the server refused a write ({error.message})")
        return False  # the notification still says what failed

    return failed


def write_in_worker(node: Widget, call: Callable[[], object], done: Callable[[Any], None], group: str) -> None:
    """Run a store write for `node` in a worker; a refused write may turn the store read-only."""
    app = track_app(node)
    app.run_store_call(node, call, done, group=group, on_error=write_failed(app), exclusive=False)


def edit_tags(node: Widget, subject: str, tag_sets: Sequence[Mapping[str, str]],
              write_changes: Callable[[TagChanges], None], after: Callable[[], None],
              validate: Callable[[str, str], None] = validate_run_tag) -> None:
    """Open the tag editor on `tag_sets` (one per edited item); on save, `write_changes(changes)`
    runs in a worker, then the user is told what changed on `subject` and `after()` runs."""
    from .screens.tag_editor import TagEditor

    def apply(changes: TagChanges | None) -> None:
        if not changes:
            return

        def done(_: object) -> None:
            node.notify(f"{tag_summary(changes).capitalize()} on {subject}", timeout=4)
            after()

        write_in_worker(node, lambda: write_changes(changes), done, "tags")

    node.app.push_screen(TagEditor(subject, tag_sets, validate), apply)


def edit_description(node: Widget, subject: str, current: str, write: Callable[[str], None],
                     after: Callable[[], None], validate: Callable[[str, str], None]) -> None:
    """Open the description editor on `current`; on save, `write(text)` runs in a worker, then
    the user is told and `after()` runs."""
    from .screens.description_editor import DescriptionEditor

    def apply(text: str | None) -> None:
        if text is None:
            return

        def done(_: object) -> None:
            node.notify(f"Saved the description of {subject}", timeout=4, markup=False)
            after()

        write_in_worker(node, lambda: write(text), done, "description")

    node.app.push_screen(DescriptionEditor(subject, current, validate), apply)


def open_copy_menu(node: Widget, choices: Sequence[tuple[str, str, str | None]]) -> None:
    """Open the copy menu on the (letter, what, text) choices that have a text."""
    from .screens.copy_menu import CopyMenu

    present = [(letter, what, text) for letter, what, text in choices if text]
    if not present:
        node.notify("Nothing to copy here.", timeout=2)
        return

    def chosen(result: tuple[str, str] | None) -> None:
        if result:
            copy_text(node.app, result[1], result[0])

    node.app.push_screen(CopyMenu(present), chosen)


def undo_left_behind(app: TrackApp) -> str | None:
    """What a crash would lose: the pending delete and how to restore it by hand, or None.

    The CLI prints it on stderr when the app ends with an unhandled exception, so a delete
    made just before a crash can still be undone."""
    undo = app.pending_undo
    if undo is None:
        return None
    return f"{undo.description}; not undone. {undo.how_to_restore}".strip()


def take_undo(app: TrackApp) -> PendingUndo | None:
    """The pending undo if it has not expired; either way it is used up."""
    undo, app.pending_undo = app.pending_undo, None
    if undo is None or time.monotonic() > undo.expires:
        return None
    return undo


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def tag_summary(changes: TagChanges) -> str:
    """'set 2 tags and deleted 1 tag' (TagChanges)."""
    parts = []
    if changes.set:
        parts.append(f"set {plural(len(changes.set), 'tag')}")
    if changes.delete:
        parts.append(f"deleted {plural(len(changes.delete), 'tag')}")
    return " and ".join(parts)


class WriteActionsScreen(Screen):
    """Shared by the screens below: read-only refusal, undo, copy."""

    BINDINGS = [
        Binding("ctrl+z", "undo", "Undo delete", show=False, id="actions.undo"),
    ]

    app = getters.app(TrackApp)

    def _guard(self, action: str) -> bool:
        """False when `action` writes and the store is read-only (the user is told why)."""
        return not (action in WRITE_ACTIONS and refuse_if_read_only(self))

    def write(self, call: Callable[[], object], done: Callable[[Any], None], group: str) -> None:
        write_in_worker(self, call, done, group)

    def offer_undo(self, message: str, restore: Callable[[Store], None], after: Callable[[], None],
                   how_to_restore: str = "") -> None:
        self.app.pending_undo = PendingUndo(message, restore, time.monotonic() + UNDO_SECONDS, after, self,
                                            how_to_restore)
        self.notify(f"{message}. Press ctrl+z to undo.", title="Deleted", timeout=UNDO_SECONDS)

    def action_undo(self) -> None:
        if not self._guard("undo"):
            return
        undo = take_undo(self.app)
        if undo is None:
            self.notify("Nothing to undo.", timeout=3)
            return
        store = self.app.store

        def restored(_: object) -> None:
            # The "Press ctrl+z to undo" toast would outlive what it offers (Textual can only
            # clear all toasts); the next one says what was restored.
            self.app.clear_notifications()
            self.notify(f"Undone: {undo.description}", title="Restored", timeout=4)
            if undo.after and undo.owner is not None and undo.owner.is_attached:
                undo.after()
            if undo.owner is not self:
                self.refresh_after_undo()  # undone from another screen: show the restored items

        self.write(lambda: undo.restore(store), restored, "undo")

    def refresh_after_undo(self) -> None:
        """Reload what this screen shows after an undo made on another screen (default: nothing)."""


class RunListActions(WriteActionsScreen):
    """Runs screen: delete/restore/tag/rename/copy the selected or marked runs.

    The host provides `table` (RunsTable), `experiment` and `reload_runs()` (which keeps the
    cursor on the same run, or on its neighbour when the run left the view).

    Marks never act unseen: `d`, `u` and `t` act on the marked runs that are in this table,
    and on the highlighted run (saying so) when every marked run is elsewhere. The confirmation
    names every run it touches.
    """

    experiment: Experiment

    BINDINGS = [
        Binding("d", "delete_runs", "Delete runs", show=False, id="runs.delete"),
        Binding("u", "restore_runs", "Restore deleted runs", show=False, id="runs.restore"),
        Binding("t", "edit_tags", "Edit tags", show=False, id="runs.tags"),
        Binding("r", "rename_run", "Rename run", show=False, id="runs.rename"),
        Binding("y", "copy", "Copy…", show=False, id="runs.copy"),
    ]

    @property
    def table(self) -> RunsTable:
        raise NotImplementedError

    def reload_runs(self) -> None:
        raise NotImplementedError

    def refresh_after_undo(self) -> None:
        self.reload_runs()

    def target_runs(self) -> list[Run]:
        """The marked runs in this table; else the run under the cursor.

        Marks elsewhere (another experiment, or rows not loaded here) are left alone, and the
        user is told when they are why the highlighted run is acted on instead.
        """
        marks = self.app.run_marks
        in_view = {row.id for row in self.table.run_rows}
        marked_here = [run for run in marks.runs if run.id in in_view]
        if marked_here:
            return marked_here
        row = self.table.current
        if len(marks):
            self.notify(f"No marked run is in this list ({marks.summary()}): acting on the highlighted run.",
                        title="Marks are elsewhere", timeout=5)
        return [row.stub(self.experiment.id)] if row is not None else []

    def _where(self, runs: Sequence[Run]) -> str:
        ids = {r.experiment_id for r in runs}
        if ids == {self.experiment.id}:
            return f"experiment '{self.experiment.name}'"
        return f"{len(ids)} experiments (ids {', '.join(sorted(ids))})"

    def action_delete_runs(self) -> None:
        if not self._guard("delete_runs"):
            return
        runs = [r for r in self.target_runs() if r.lifecycle_stage != "deleted"]
        if not runs:
            self.notify("No active run selected (m marks runs).", severity="warning", timeout=3)
            return
        from .screens.confirm import ConfirmScreen

        ids = [r.id for r in runs]
        what = plural(len(runs), "run")
        body = (f"{run_list(runs)}\n\nThey move to the deleted view (D shows it), where u restores them; "
                "nothing is purged.")
        elsewhere = len(self.app.run_marks) - sum(run_id in self.app.run_marks for run_id in ids)
        if elsewhere > 0:
            body += f"\nNot touched: {plural(elsewhere, 'other marked run')}, outside this list."
        store = self.app.store

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return

            def deleted(_: object) -> None:
                self.app.run_marks.discard(ids)
                self.offer_undo(f"Deleted {what} from {self._where(runs)}",
                                lambda s: s.restore_runs(ids), self.reload_runs,
                                f"Run ids: {', '.join(ids)}. To restore them, open the experiment in "
                                "tracktui, press D (deleted runs), select them and press u.")
                self.reload_runs()

            self.write(lambda: store.delete_runs(ids), deleted, "delete-runs")

        self.app.push_screen(ConfirmScreen(f"Delete {what} from {self._where(runs)}?", body), confirmed)

    def action_restore_runs(self) -> None:
        if not self._guard("restore_runs"):
            return
        runs = [r for r in self.target_runs() if r.lifecycle_stage == "deleted"]
        if not runs:
            self.notify("No deleted run selected: D shows deleted runs.", severity="warning", timeout=3)
            return
        ids, store = [r.id for r in runs], self.app.store

        def restored(_: object) -> None:
            self.notify(f"Restored {plural(len(ids), 'run')} in {self._where(runs)}", timeout=4)
            self.app.run_marks.discard(ids)
            self.reload_runs()

        self.write(lambda: store.restore_runs(ids), restored, "restore-runs")

    def action_edit_tags(self) -> None:
        if not self._guard("edit_tags"):
            return
        runs = self.target_runs()
        if not runs:
            return
        open_tag_editor(self, [r.id for r in runs], after=self.reload_runs)

    def action_rename_run(self) -> None:
        if not self._guard("rename_run"):
            return
        row = self.table.current
        if row is not None:
            open_rename_run(self, row.stub(self.experiment.id), after=self.reload_runs)

    def action_copy(self) -> None:
        row = self.table.current
        if row is None:
            return
        if row.run is not None:
            open_copy_menu(self, run_copy_choices(row.run))
            return
        store, run_id = self.app.store, row.id  # slimmed (runs_table.py): its artifact URI is not kept

        def read(run: Run) -> None:
            open_copy_menu(self, run_copy_choices(run))

        self.app.run_store_call(self, lambda: store.get_run(run_id), read, group="copy")


class ExperimentActions(WriteActionsScreen):
    """Experiments screen: delete/restore/rename/tag/copy the experiment under the cursor.

    The host provides `current_id`, `experiments`, `counts` and `load()`."""

    experiments: list[Experiment]
    counts: dict[str, int]

    @property
    def current_id(self) -> str | None:
        raise NotImplementedError

    def load(self) -> None:
        raise NotImplementedError

    def refresh_after_undo(self) -> None:
        self.load()

    BINDINGS = [
        Binding("d", "delete_experiment", "Delete experiment", show=False, id="experiments.delete"),
        Binding("u", "restore_experiment", "Restore experiment", show=False, id="experiments.restore"),
        Binding("r", "rename_experiment", "Rename experiment", show=False, id="experiments.rename"),
        Binding("t", "edit_experiment_tags", "Edit tags", show=False, id="experiments.tags"),
        Binding("e", "edit_experiment_description", "Edit description", show=False, id="experiments.description"),
        Binding("y", "copy", "Copy…", show=False, id="experiments.copy"),
    ]

    @property
    def current_experiment(self) -> Experiment | None:
        exp_id = self.current_id
        return next((e for e in self.experiments if e.id == exp_id), None)

    def action_delete_experiment(self) -> None:
        if not self._guard("delete_experiment"):
            return
        exp = self.current_experiment
        if exp is None or exp.lifecycle_stage == "deleted":
            self.notify("No active experiment selected.", severity="warning", timeout=3)
            return
        from .screens.confirm import ConfirmScreen

        count = self.counts.get(exp.id)
        runs = f" and its {plural(count, 'run')}" if count else ""
        body = ("It moves to the deleted experiments (D shows them), where u restores it; "
                "nothing is purged.")
        store, exp_id = self.app.store, exp.id

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return

            def deleted(result: object) -> None:
                # undo brings back exactly the runs this delete took, not those deleted before
                run_ids = list(result) if isinstance(result, list) else None
                self.offer_undo(f"Deleted experiment '{exp.name}'",
                                lambda s: s.restore_experiment(exp_id, run_ids=run_ids), self.load,
                                f"Experiment id: {exp_id}. To restore it, press D on tracktui's experiments "
                                "screen, select it and press u.")
                self.load()

            self.write(lambda: store.delete_experiment(exp_id), deleted, "delete-experiment")

        self.app.push_screen(ConfirmScreen(f"Delete experiment '{exp.name}'{runs}?", body), confirmed)

    def action_restore_experiment(self) -> None:
        if not self._guard("restore_experiment"):
            return
        exp = self.current_experiment
        if exp is None or exp.lifecycle_stage != "deleted":
            self.notify("No deleted experiment selected: D shows them.", severity="warning", timeout=3)
            return
        store, exp_id = self.app.store, exp.id

        def restored(_: object) -> None:
            self.notify(f"Restored experiment '{exp.name}'", timeout=4)
            self.load()

        self.write(lambda: store.restore_experiment(exp_id), restored, "restore-experiment")

    def action_rename_experiment(self) -> None:
        if not self._guard("rename_experiment"):
            return
        exp = self.current_experiment
        if exp is None:
            return
        from .screens.rename import RenameScreen

        store = self.app.store

        def renamed(name: str | None) -> None:
            if not name:
                return

            def done(_: object) -> None:
                self.notify(f"Renamed to '{name}'", timeout=3)
                self.load()

            self.write(lambda: store.rename_experiment(exp.id, name), done, "rename")

        self.app.push_screen(RenameScreen(f"Rename experiment '{exp.name}'", exp.name, validate_experiment_name), renamed)

    def action_edit_experiment_tags(self) -> None:
        """Fetch the experiment afresh (its tags may have changed since the list loaded), edit,
        apply: set_experiment_tag per set key, delete_experiment_tag per deleted one."""
        if not self._guard("edit_experiment_tags"):
            return
        exp = self.current_experiment
        if exp is None:
            return
        store, exp_id = self.app.store, exp.id

        def write(changes: TagChanges) -> None:
            for key, value in changes.set.items():
                store.set_experiment_tag(exp_id, key, value)
            for key in changes.delete:
                store.delete_experiment_tag(exp_id, key)

        def edit(current: Experiment) -> None:
            edit_tags(self, f"experiment '{current.name}'", [current.tags], write, self.load, validate_experiment_tag)

        self.app.run_store_call(self, lambda: store.get_experiment(exp_id), edit, group="tags-fetch")

    def action_edit_experiment_description(self) -> None:
        """Fetch the experiment afresh, edit its `mlflow.note.content` tag, write it back."""
        if not self._guard("edit_experiment_description"):
            return
        exp = self.current_experiment
        if exp is None:
            return
        store, exp_id = self.app.store, exp.id

        def edit(current: Experiment) -> None:
            edit_description(self, f"experiment '{current.name}'", current.tags.get(NOTE_TAG, ""),
                             lambda text: store.set_experiment_tag(exp_id, NOTE_TAG, text), self.load,
                             validate_experiment_tag)

        self.app.run_store_call(self, lambda: store.get_experiment(exp_id), edit, group="description-fetch")

    def action_copy(self) -> None:
        exp = self.current_experiment
        if exp is not None:
            open_copy_menu(self, [("i", "experiment ID", exp.id), ("n", "experiment name", exp.name),
                                 ("a", "artifact location", exp.artifact_location)])


class RunScreenActions(WriteActionsScreen):
    """Run screen: tags, rename, copy (id, URI, artifact, highlighted value), artifacts tab
    listing/preview and download. The host provides `run`, `run_id`, `load_run()`,
    `active_tab` and the ArtifactBrowser."""

    run: Run | None
    run_id: str

    @property
    def active_tab(self) -> str:
        raise NotImplementedError

    def load_run(self) -> None:
        raise NotImplementedError

    BINDINGS = [
        Binding("t", "edit_tags", "Edit tags", show=False, id="run.tags"),
        Binding("e", "edit_description", "Edit description", show=False, id="run.description"),
        Binding("r", "rename_run", "Rename run", show=False, id="run.rename"),
        Binding("y", "copy", "Copy…", id="run.copy"),
        Binding("D", "download", "Download", id="run.download"),  # Artifacts tab only
    ]

    def action_edit_tags(self) -> None:
        if self._guard("edit_tags"):
            open_tag_editor(self, [self.run_id], after=self.load_run)

    def action_edit_description(self) -> None:
        """Fetch the run afresh (its note may have changed), edit `mlflow.note.content`, save."""
        if not self._guard("edit_description"):
            return
        store, run_id = self.app.store, self.run_id

        def edit(run: Run) -> None:
            edit_description(self, f"run '{run.display_name}'", run.tags.get(NOTE_TAG, ""),
                             lambda text: store.set_tag(run_id, NOTE_TAG, text), self.load_run, validate_run_tag)

        self.app.run_store_call(self, lambda: store.get_run(run_id), edit, group="description-fetch")

    def action_rename_run(self) -> None:
        if self._guard("rename_run") and self.run is not None:
            open_rename_run(self, self.run, after=self.load_run)

    def action_copy(self) -> None:
        from .widgets.artifact_browser import ArtifactBrowser
        from .widgets.logged_images import LoggedImagesPanel
        from .widgets.params_table import KeyValueTable

        choices: list[tuple[str, str, str | None]] = []
        tab = self.active_tab
        if tab == "artifacts":
            browser = self.query_one(ArtifactBrowser)
            selected = browser.selected
            if selected is not None:
                choices.append(("a", f"artifact URI of {selected.path}", browser.uri_of(selected.path)))
                choices.append(("p", "artifact path", selected.path))
        elif tab == "images":
            image = self.query_one(LoggedImagesPanel).current
            if image is not None:
                uri = self.run.artifact_uri.rstrip("/") + "/" + image.path if self.run and self.run.artifact_uri else None
                choices.append(("p", "artifact path", image.path))
                choices.append(("a", f"artifact URI of {image.path}", uri))
        elif tab in ("params", "tags"):
            item = self.query_one(f"#run-{tab}", KeyValueTable).highlighted_item
            if item is not None:
                choices.append(("v", f"value of {item[0]}", item[1]))
        run = self.run
        base = run_copy_choices(run) if run is not None else [("i", "run ID", self.run_id)]
        # The highlighted artifact's URI takes `a` from the run's root artifact URI.
        open_copy_menu(self, choices + [b for b in base if b[0] not in {c[0] for c in choices}])

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "download":
            return self.active_tab in ("artifacts", "images")
        return super().check_action(action, parameters)

    def action_download(self) -> None:
        from .screens.download import DownloadScreen
        from .widgets.artifact_browser import ArtifactBrowser, NodeData
        from .widgets.logged_images import LoggedImagesPanel

        if self.active_tab == "images":
            image = self.query_one(LoggedImagesPanel).current
            selected = NodeData(image.path, False) if image is not None else None
        elif self.active_tab == "artifacts":
            selected = self.query_one(ArtifactBrowser).selected
        else:
            return
        if selected is None:
            self.notify("Select a file or folder in the tree first.", severity="warning", timeout=3)
            return

        def landed(path: Path | None) -> None:
            if path is not None:
                self.notify(f"Downloaded {selected.path or 'the artifacts'} to {path.resolve()}", title="Downloaded",
                            timeout=8)

        self.app.push_screen(DownloadScreen(self.run_id, selected.path, selected.is_dir), landed)

    # artifacts tab: the browser asks, the screen fetches

    def on_artifact_browser_listing_wanted(self, event: ArtifactBrowser.ListingWanted) -> None:
        from .widgets.artifact_browser import ArtifactBrowser

        browser, store, run_id, path = self.query_one(ArtifactBrowser), self.app.store, self.run_id, event.path

        def failed(error: StoreError) -> bool:
            browser.show_listing_failed(path, error.message)
            return True

        self.app.run_store_call(self, lambda: store.list_artifacts(run_id, path),
                                lambda entries: browser.show_listing(path, entries),
                                group=f"artifacts-{path}", on_error=failed)

    def on_artifact_browser_preview_wanted(self, event: ArtifactBrowser.PreviewWanted) -> None:
        from .widgets.artifact_browser import ArtifactBrowser

        browser, store, run_id, path = self.query_one(ArtifactBrowser), self.app.store, self.run_id, event.path

        def failed(error: StoreError) -> bool:
            browser.show_preview_failed(path, error.message)
            return True

        read = store.read_artifact_tail if event.from_end else store.read_artifact_head
        self.app.run_store_call(self, lambda: read(run_id, path), browser.show_preview,
                                group="artifact-preview", on_error=failed)

    def on_artifact_browser_image_wanted(self, event: ArtifactBrowser.ImageWanted) -> None:
        from .widgets.artifact_browser import ArtifactBrowser

        self._decode_image(event.path, event.size, event.box, self.query_one(ArtifactBrowser).show_image, "artifact")

    def on_logged_images_panel_image_wanted(self, event: LoggedImagesPanel.ImageWanted) -> None:
        from .widgets.logged_images import LoggedImagesPanel

        self._decode_image(event.path, None, event.box, self.query_one(LoggedImagesPanel).show_image, "logged")

    def _decode_image(self, path: str, size: int | None, box: tuple[int, int],
                      deliver: Callable[[DisplayImage | NotShown], None], area: str) -> None:
        """Read (capped) and decode artifact `path` in a worker; `deliver` gets the picture."""
        from .image_decode import NotShown, fetch_display_image

        store, run_id = self.app.store, self.run_id

        def failed(error: StoreError) -> bool:
            deliver(NotShown(path, f"Cannot read it: {error.message}"))
            return True

        self.app.run_store_call(self, lambda: fetch_display_image(store, run_id, path, size, box), deliver,
                                group=f"{area}-image", on_error=failed)


# -- shared flows -------------------------------------------------------------------------------

def run_list(runs: Sequence[Run]) -> str:
    """Every run by name and short id, one a line: a confirmation names all it will touch."""
    return "\n".join(f"• {inert(r.display_name)} ({r.id[:8]})" for r in runs)


def run_copy_choices(run: Run) -> list[tuple[str, str, str | None]]:
    return [
        ("i", "run ID", run.id),
        ("u", "run URI", f"runs:/{run.id}"),
        ("a", "artifact URI", run.artifact_uri),
        ("n", "run name", run.name or run.tags.get("mlflow.runName")),
    ]


def open_rename_run(screen: WriteActionsScreen, run: Run, after: Callable[[], None]) -> None:
    from .screens.rename import RenameScreen

    store, current = screen.app.store, run.name or run.tags.get("mlflow.runName") or ""

    def renamed(name: str | None) -> None:
        if not name:
            return

        def done(_: object) -> None:
            screen.notify(f"Renamed run to '{name}'", timeout=3)
            after()

        screen.write(lambda: store.rename_run(run.id, name), done, "rename")

    screen.app.push_screen(RenameScreen(f"Rename run {run.id[:8]} '{current}'", current, validate_run_name), renamed)


def open_tag_editor(screen: WriteActionsScreen, run_ids: list[str], after: Callable[[], None]) -> None:
    """Fetch the runs' full tags (the table holds only shown columns), edit, apply."""
    store = screen.app.store

    def fetch() -> list[Run]:
        return [store.get_run(run_id) for run_id in run_ids]

    def edit(runs: list[Run]) -> None:
        subject = f"run '{runs[0].display_name}'" if len(runs) == 1 else f"{len(runs)} marked runs"

        def write(changes: TagChanges) -> None:
            if changes.set:
                store.set_tags(run_ids, changes.set)
            for run in runs:
                for key in changes.delete:
                    if key in run.tags:
                        store.delete_tag(run.id, key)

        edit_tags(screen, subject, [r.tags for r in runs], write, after)

    screen.app.run_store_call(screen, fetch, edit, group="tags-fetch")
