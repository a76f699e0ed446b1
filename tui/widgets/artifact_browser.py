"""The Artifacts tab of a run: a lazy tree of the run's artifacts and a preview pane.

The tree asks for one directory level at a time (`ListingWanted`) when a folder is first
expanded, and for a preview (`PreviewWanted`) when a file is highlighted; the screen makes the
store calls (`list_artifacts`, `read_artifact_head`, `read_artifact_tail`) and hands the
results back. Text, JSON, YAML and MLmodel files show highlighted and searchable (`/`, `n`/`N`),
CSV/TSV as a table; images show their format and size in pixels, then the picture itself
(`ImageWanted`: the screen decodes it in a worker, see tui/image_decode.py); binary files are
refused with their size. Logs open at their end: the store reads only the tail of a big one.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Static, Tree
from textual.widgets.tree import TreeNode

from tracktui.store.artifacts.base import ArtifactEntry, ArtifactPreview

from ..image_decode import DisplayImage, NotShown
from ..safe_text import plain
from ..sizes import human_size
from .image_view import ImageView, pixel_box
from .run_format import MISSING
from .searchable_text import SearchableText

#: Languages for Textual's highlighter, by preview kind.
_LANGUAGE = {"json": "json", "yaml": "yaml", "mlmodel": "yaml"}
#: CSV rows shown in the preview table (the store reads only the file's head anyway).
MAX_TABLE_ROWS = 500
#: Files that grow at the end: previewed from their tail.
LOG_SUFFIXES = (".log", ".out", ".err")
LOG_NAMES = ("stdout", "stderr", "stdout.txt", "stderr.txt")


@dataclass(frozen=True)
class NodeData:
    """What a tree node stands for: an artifact path, whether it is a folder, its size."""

    path: str
    is_dir: bool
    size: int | None = None
    loaded: bool = False


class ArtifactTree(Tree[NodeData]):
    """The artifact tree; folders load their children on first expansion."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]


class ArtifactBrowser(Vertical):
    """Tree on the left, preview on the right, the artifact root's URI above."""

    DEFAULT_CSS = """
    ArtifactBrowser { height: 1fr; }
    ArtifactBrowser > .artifact-uri { color: $text-muted; height: 1; padding: 0 1; }
    ArtifactBrowser > Horizontal { height: 1fr; }
    ArtifactBrowser ArtifactTree { width: 2fr; min-width: 24; border-right: solid $panel; }
    ArtifactBrowser #artifact-preview { width: 3fr; padding: 0 1; }
    ArtifactBrowser .preview-head { color: $text-muted; text-style: bold; }
    ArtifactBrowser #artifact-preview-table { height: auto; max-height: 100%; }
    ArtifactBrowser #artifact-preview-text { height: 1fr; }
    ArtifactBrowser #artifact-preview-text.-message { height: auto; }
    """

    class ListingWanted(Message):
        """A folder (`path`, "" for the root) needs its direct children listed."""

        def __init__(self, path: str) -> None:
            super().__init__()
            self.path = path

    class PreviewWanted(Message):
        """File `path` needs a preview: of its end when `from_end` (a log)."""

        def __init__(self, path: str, from_end: bool = False) -> None:
            super().__init__()
            self.path = path
            self.from_end = from_end

    class ImageWanted(Message):
        """Image `path` (of `size` bytes when known) should be decoded to fit `box` pixels."""

        def __init__(self, path: str, size: int | None, box: tuple[int, int]) -> None:
            super().__init__()
            self.path, self.size, self.box = path, size, box

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.artifact_uri: str | None = None
        self._tree_nodes: dict[str, TreeNode[NodeData]] = {}
        self._previewed: str | None = None
        #: Folders whose listing failed, with the store's reason (shown whole in the preview pane).
        self._failed: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Static(MISSING, classes="artifact-uri", markup=False)
        with Horizontal():
            yield ArtifactTree("artifacts", NodeData("", True), id="artifact-tree")
            with Vertical(id="artifact-preview"):
                yield Static("", id="artifact-preview-head", classes="preview-head", markup=False)
                with VerticalScroll(id="artifact-preview-body"):
                    yield SearchableText(id="artifact-preview-text")
                    yield DataTable(id="artifact-preview-table", show_cursor=False, zebra_stripes=True)
                yield ImageView(id="artifact-image")

    def on_mount(self) -> None:
        self.preview_text.show_message("Select a file to preview it.")
        self.artifact_tree.show_root = False
        self.artifact_tree.guide_depth = 2
        self.query_one("#artifact-preview-table", DataTable).display = False
        self._hide_image()

    @property
    def artifact_tree(self) -> ArtifactTree:
        return self.query_one(ArtifactTree)

    @property
    def preview_text(self) -> SearchableText:
        return self.query_one("#artifact-preview-text", SearchableText)

    def focus_tree(self) -> None:
        """The tab's keys act on the tree."""
        self.artifact_tree.focus()

    def search_preview(self) -> None:
        """`/` on the tab: search the previewed text."""
        self.preview_text.open_search()

    # -- what the screen hands us -------------------------------------------------------------

    def show_uri(self, artifact_uri: str | None) -> None:
        """A (re)loaded run: show its root and ask for the first level."""
        self.artifact_uri = artifact_uri
        self.query_one(".artifact-uri", Static).update(plain(artifact_uri or MISSING))
        tree = self.artifact_tree
        tree.clear()
        tree.root.data = NodeData("", True)
        self._tree_nodes = {"": tree.root}
        self._previewed = None
        self._failed = {}
        tree.root.set_label("loading…")
        if artifact_uri:
            tree.root.add_leaf(Text("loading…", style="dim"), NodeData("\0", False))
            self.post_message(self.ListingWanted(""))
        else:
            tree.root.add_leaf("This run has no artifact location.", NodeData("\0", False))
        tree.root.expand()

    def show_listing(self, path: str, entries: list[ArtifactEntry]) -> None:
        node = self._tree_nodes.get(path)
        if node is None or node.data is None:
            return
        node.remove_children()
        node.data = NodeData(path, True, node.data.size, loaded=True)
        if not entries:
            node.add_leaf(Text("(empty)", style="dim"), NodeData("\0", False))
        for entry in entries:
            if entry.is_dir:
                child = node.add(plain(f"{entry.name}/"), NodeData(entry.path, True))
                child.add_leaf(Text("loading…", style="dim"), NodeData("\0", False))
            else:
                label = Text.assemble(plain(entry.name), ("  " + _human(entry.size), "dim") if entry.size is not None else "")
                child = node.add_leaf(label, NodeData(entry.path, False, entry.size))
            self._tree_nodes[entry.path] = child
        if path == "":
            self.artifact_tree.move_cursor(node.children[0] if node.children else None)

    def show_listing_failed(self, path: str, message: str) -> None:
        node = self._tree_nodes.get(path)
        if node is None:
            return
        self._failed[path] = message
        node.remove_children()
        # The tree is narrow: the reason is shown whole in the preview pane beside it.
        node.add_leaf(Text("cannot list (why: on the right)", style="italic"), NodeData("\0", False))
        cursor = self.artifact_tree.cursor_node
        on_it = cursor is None or cursor.data is None or cursor.data.path in ("\0", path)
        if path == "" or on_it:
            self._show_failure(path, message)

    def _show_failure(self, path: str, message: str) -> None:
        self._previewed = None
        self._hide_image()
        self.query_one("#artifact-preview-table", DataTable).display = False
        self._head(f"{path}/" if path else "Artifacts")
        text = self.preview_text
        text.display = True
        text.show_message(plain(f"Cannot list this folder: {message}", multiline=True))

    def show_preview(self, preview: ArtifactPreview) -> None:
        if preview.path != self._previewed:
            return  # the user moved on
        head = f"{preview.path} · {preview.kind} · {_human(preview.size)}"
        if preview.truncated:
            head += " · its end only" if preview.from_end else " · first part only"
        if preview.note and preview.kind != "binary":
            head += f" · {preview.note}"
        self._head(head)
        text = self.preview_text
        table = self.query_one("#artifact-preview-table", DataTable)
        table.display = False
        text.display = True
        self._hide_image()
        if preview.kind in ("csv", "tsv") and preview.rows:
            text.display = False
            table.display = True
            table.clear(columns=True)
            header, *rows = preview.rows
            table.add_columns(*(plain(name) for name in header))
            width = len(header)
            for row in rows[:MAX_TABLE_ROWS]:
                table.add_row(*(plain(cell) for cell in (list(row) + [""] * width)[:width]))
        elif preview.kind == "image" and preview.image:
            image = preview.image
            dims = f"{image.width} × {image.height} px" if image.width and image.height else "size unknown"
            text.show_message(plain(f"{image.format.upper()} image, {dims}, {_human(preview.size)}.\nPress D to download it.",
                                    multiline=True))
            self._ask_for_image(preview)
        elif preview.kind == "binary" or preview.text is None:
            # The store's note already names the size; say it once.
            reason = preview.note or f"Not previewed: binary file ({_human(preview.size)})"
            text.show_message(plain(f"{reason}.\nPress D to download it.", multiline=True))
        else:
            text.show(preview.text, language=_language(preview), path=preview.path)
            if preview.from_end:
                text.scroll_to_end()

    def _ask_for_image(self, preview: ArtifactPreview) -> None:
        view = self.query_one("#artifact-image", ImageView)
        # the text above takes its lines, the picture the rest (a style on one widget: a class
        # on the browser would restyle the whole tree)
        self.query_one("#artifact-preview-body").styles.height = "auto"
        view.display = True
        view.show_message("decoding…")
        pane = self.query_one("#artifact-preview").content_size
        # below the head line and the two lines of text above the picture
        self.post_message(self.ImageWanted(preview.path, preview.size, pixel_box(pane.width, pane.height - 3)))

    def show_image(self, result: DisplayImage | NotShown) -> None:
        """The decoded picture (or why there is none) for the file still highlighted."""
        if result.path != self._previewed:
            return
        view = self.query_one("#artifact-image", ImageView)
        if isinstance(result, NotShown):
            view.show_message(result.reason)
        else:
            view.show_image(result)

    def _hide_image(self) -> None:
        view = self.query_one("#artifact-image", ImageView)
        if view.display:
            view.display = False
            self.query_one("#artifact-preview-body").styles.height = "1fr"

    def show_preview_failed(self, path: str, message: str) -> None:
        if path == self._previewed:
            self._hide_image()
            self.query_one("#artifact-preview-table", DataTable).display = False
            text = self.preview_text
            text.display = True
            text.show_message(plain(f"Cannot preview: {message}", multiline=True))

    # -- the selection --------------------------------------------------------------------------

    @property
    def selected(self) -> NodeData | None:
        """The highlighted file or folder (None on a placeholder line)."""
        node = self.artifact_tree.cursor_node
        if node is None or node.data is None or node.data.path == "\0":
            return None
        return node.data

    def uri_of(self, path: str) -> str | None:
        if not self.artifact_uri:
            return None
        return self.artifact_uri.rstrip("/") + ("/" + path if path else "")

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[NodeData]) -> None:
        data = event.node.data
        if data is not None and data.is_dir and not data.loaded and data.path != "\0" and event.node is not self.artifact_tree.root:
            self.post_message(self.ListingWanted(data.path))

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[NodeData]) -> None:
        data = event.node.data
        if data is None or data.path == "\0":
            return
        if data.is_dir and data.path in self._failed:
            self._show_failure(data.path, self._failed[data.path])
            return
        if data.is_dir:
            self._previewed = None
            self._hide_image()
            self.query_one("#artifact-preview-table", DataTable).display = False
            self._head(f"{data.path}/")
            text = self.preview_text
            text.display = True
            text.show_message("A folder: enter opens it; D downloads it.")
            return
        if data.path != self._previewed:
            self._previewed = data.path
            self._head(f"{data.path} · loading…")
            self.post_message(self.PreviewWanted(data.path, from_end=opens_at_end(data.path)))

    def _head(self, text: str) -> None:
        self.query_one("#artifact-preview-head", Static).update(plain(text))


def opens_at_end(path: str) -> bool:
    """A log (by its name): what matters in it is at the end, where it grows."""
    name = path.rsplit("/", 1)[-1].lower()
    return name.endswith(LOG_SUFFIXES) or name in LOG_NAMES


def _language(preview: ArtifactPreview) -> str | None:
    """The highlighter's language: by kind, else by extension (README.md, train.py), else none."""
    if preview.kind in _LANGUAGE:
        return _LANGUAGE[preview.kind]
    name = preview.path.rsplit("/", 1)[-1]
    if "." not in name or name.endswith((".txt", ".log")):
        return "text"
    return None  # let Pygments pick from the file name


def _human(size: int | None) -> str:
    return "size unknown" if size is None else human_size(size)
