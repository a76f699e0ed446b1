"""Registry writes from the keyboard: the dialogs and the store calls behind the Models,
Versions and Prompt screens' keys.

Each flow refuses at once on a read-only store (saying why), asks what it needs in a dialog,
runs the write in a worker (tui/actions.py `write_in_worker`) and calls `after()` to reload.
Deletes name everything that goes (versions, aliases): the registry has no restore, so there
is no undo either.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from textual.widget import Widget

from tracktui.store.errors import InvalidValue
from tracktui.store.paging import every_item
from tracktui.store.registry import STAGES, ModelVersion, RegisteredModel
from tracktui.store.registry_validation import validate_alias, validate_model_name, validate_tag
from tracktui.store.search import quote_value

from .actions import edit_tags, open_copy_menu, plural, refuse_if_read_only, track_app, write_in_worker
from .safe_text import inert

#: The registry's description columns (registered_models, model_versions) hold 5,000 characters.
MAX_DESCRIPTION_LENGTH = 5000

def _write(node: Widget, call: Callable[[], object], message: str, after: Callable[[], None]) -> None:
    """Run the write in a worker; when it is done, say `message` and call `after()`."""

    def done(_: object) -> None:
        node.notify(message, timeout=5)
        after()

    write_in_worker(node, call, done, "registry-write")


def _writable(node: Widget) -> bool:
    return not refuse_if_read_only(node)


def rename_registered_model(node: Widget, name: str, after: Callable[[str], None]) -> None:
    if not _writable(node):
        return
    from .screens.rename import RenameScreen

    store = track_app(node).store

    def chosen(new: str | None) -> None:
        if new:
            _write(node, lambda: store.rename_registered_model(name, new),
                   f"Renamed {inert(name)} to {inert(new)}", lambda: after(new))

    node.app.push_screen(RenameScreen(f"Rename registered model {name}", name, validate_model_name), chosen)


def edit_model_tags(node: Widget, model: RegisteredModel, after: Callable[[], None]) -> None:
    if not _writable(node):
        return
    store = track_app(node).store

    def write(changes) -> None:
        for key, value in changes.set.items():
            store.set_registered_model_tag(model.name, key, value)
        for key in changes.delete:
            store.delete_registered_model_tag(model.name, key)

    edit_tags(node, f"registered model {model.name}", [model.tags], write, after, validate_tag)


def edit_version_tags(node: Widget, version: ModelVersion, after: Callable[[], None]) -> None:
    if not _writable(node):
        return
    store = track_app(node).store

    def write(changes) -> None:
        for key, value in changes.set.items():
            store.set_model_version_tag(version.name, version.version, key, value)
        for key in changes.delete:
            store.delete_model_version_tag(version.name, version.version, key)

    edit_tags(node, f"{version.name} version {version.version}", [version.tags], write, after,
              validate_tag)


def _edit_description(node: Widget, subject: str, current: str | None, save: Callable[[str], None],
                      after: Callable[[], None]) -> None:
    if not _writable(node):
        return
    from .screens.description_editor import DescriptionEditor

    def chosen(text: str | None) -> None:
        if text is not None:
            _write(node, lambda: save(text), f"Saved the description of {inert(subject)}", after)

    node.app.push_screen(DescriptionEditor(subject, current or "", _validate_description), chosen)


def _validate_description(_key: str, text: str) -> None:
    """MLflow keeps registry descriptions in a 5,000-character column."""
    if len(text) > MAX_DESCRIPTION_LENGTH:
        raise InvalidValue(f"A description is at most {MAX_DESCRIPTION_LENGTH:,} characters ({len(text):,} now).")


def edit_model_description(node: Widget, model: RegisteredModel, after: Callable[[], None]) -> None:
    store = track_app(node).store
    _edit_description(node, f"registered model {model.name}", model.description,
                      lambda text: store.update_registered_model(model.name, text), after)


def edit_version_description(node: Widget, version: ModelVersion, after: Callable[[], None]) -> None:
    store = track_app(node).store
    _edit_description(node, f"{version.name} version {version.version}", version.description,
                      lambda text: store.update_model_version(version.name, version.version, text), after)


def set_alias(node: Widget, name: str, version: str, current_aliases: Mapping[str, str],
              after: Callable[[], None]) -> None:
    """Point an alias at `version`; the dialog says where the alias points now, so moving
    `@champion` from v3 to v4 (the everyday promotion) is one key, a name and Enter."""
    if not _writable(node):
        return
    from .screens.rename import RenameScreen

    store = track_app(node).store
    taken = ", ".join(f"@{a}→v{v}" for a, v in sorted(current_aliases.items())) or "none yet"

    def chosen(alias: str | None) -> None:
        if not alias:
            return
        before = current_aliases.get(alias)
        moved = f" (was v{before})" if before and before != version else ""
        _write(node, lambda: store.set_registered_model_alias(name, alias, version),
               f"@{inert(alias)} → {inert(name)} v{version}{moved}", after)

    node.app.push_screen(
        RenameScreen(f"Alias for {name} version {version}", "", validate_alias,
                     hint=f"enter sets the alias (moves it if it points elsewhere) · esc cancels\n"
                          f"aliases now: {taken}"),
        chosen)


def delete_alias(node: Widget, name: str, version: str, aliases: Sequence[str], after: Callable[[], None]) -> None:
    """Remove one of the version's aliases (a choice when it has several)."""
    if not _writable(node):
        return
    if not aliases:
        node.notify(f"Version {version} has no alias.", timeout=3)
        return
    from .screens.choice import ChoiceScreen

    store = track_app(node).store

    def chosen(alias: str | None) -> None:
        if alias:
            _write(node, lambda: store.delete_registered_model_alias(name, alias),
                   f"Removed @{inert(alias)} from {inert(name)}", after)

    node.app.push_screen(ChoiceScreen(f"Remove which alias of {name} version {version}?",
                                      [(a, f"@{a}") for a in sorted(aliases)]), chosen)


def transition_stage(node: Widget, version: ModelVersion, after: Callable[[], None]) -> None:
    """Move a version to a stage. Stages are deprecated in MLflow (aliases replace them), so
    the dialog says so; it still offers archiving the stage's other versions, as MLflow does."""
    if not _writable(node):
        return
    from .screens.choice import ChoiceScreen

    store = track_app(node).store
    options: list[tuple[str, str]] = []
    for stage in STAGES:
        if stage == version.current_stage:
            continue
        options.append((f"{stage}|0", stage))
        if stage in ("Staging", "Production"):
            options.append((f"{stage}|1", f"{stage}, archiving the other {stage} versions"))

    def chosen(value: str | None) -> None:
        if not value:
            return
        stage, archive = value.split("|")
        _write(node, lambda: store.transition_model_version_stage(
            version.name, version.version, stage, archive_existing_versions=archive == "1"),
            f"{inert(version.name)} v{version.version} → {stage}", after)

    node.app.push_screen(ChoiceScreen(
        f"Stage of {version.name} version {version.version} (now {version.current_stage})", options,
        note="Stages are deprecated in MLflow: aliases (a) are the way to promote a version."), chosen)


def delete_version(node: Widget, version: ModelVersion, after: Callable[[], None]) -> None:
    if not _writable(node):
        return
    from .screens.confirm import ConfirmScreen

    store = track_app(node).store
    body = [f"{version.name} version {version.version} (stage {version.current_stage}, run "
            f"{version.run_id or '—'}) is deleted for good: the registry has no restore."]
    if version.aliases:
        body.append("Its aliases go with it: " + ", ".join(f"@{a}" for a in sorted(version.aliases)) + ".")
    body.append("The run and its artifacts stay.")

    def confirmed(yes: bool | None) -> None:
        if yes:
            _write(node, lambda: store.delete_model_version(version.name, version.version),
                   f"Deleted {inert(version.name)} version {version.version}", after)

    node.app.push_screen(ConfirmScreen(f"Delete {version.name} version {version.version}?", "\n".join(body)),
                         confirmed)


def delete_registered_model(node: Widget, name: str, after: Callable[[], None]) -> None:
    """Delete a model with every version; the confirmation counts and names what goes (read
    in a worker first, so the numbers are the store's, not the loaded page's)."""
    if not _writable(node):
        return
    from .screens.confirm import ConfirmScreen

    app = track_app(node)
    store = app.store

    def gather() -> tuple[RegisteredModel, list[ModelVersion]]:
        model = store.get_registered_model(name)
        wanted = f"name = {quote_value(name)}"
        return model, every_item(lambda token: store.search_model_versions(wanted, page_token=token))

    def ask(found: tuple[RegisteredModel, list[ModelVersion]]) -> None:
        model, versions = found
        numbers = sorted((int(v.version) for v in versions), reverse=True)
        shown = ", ".join(f"v{n}" for n in numbers[:20]) + (" …" if len(numbers) > 20 else "")
        body = [f"{plural(len(versions), 'version')} go for good ({shown or 'none'}); the registry has no restore."]
        if model.aliases:
            body.append("Aliases: " + ", ".join(f"@{a}→v{v}" for a, v in sorted(model.aliases.items())) + ".")
        body.append("Runs and artifacts stay.")

        def confirmed(yes: bool | None) -> None:
            if yes:
                _write(node, lambda: store.delete_registered_model(name),
                       f"Deleted registered model {inert(name)}", after)

        node.app.push_screen(ConfirmScreen(f"Delete registered model {name}?", "\n".join(body)), confirmed)

    app.run_store_call(node, gather, ask, group="registry-gather")


def copy_model_choices(node: Widget, name: str, aliases: Mapping[str, str], version: str | None,
                       scheme: str = "models") -> None:
    """`y`: the model's (or prompt's) URIs: by version and by each alias."""
    choices: list[tuple[str, str, str | None]] = [("n", "name", name)]
    if version:
        choices.append(("v", f"URI of version {version}", f"{scheme}:/{name}/{version}"))
    letters = iter("abcdefghijklmopqrstuwxz")
    for alias in sorted(aliases):
        choices.append((next(letters, ""), f"URI of @{alias}", f"{scheme}:/{name}@{alias}"))
    open_copy_menu(node, [c for c in choices if c[0]])
