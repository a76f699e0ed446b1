"""SpanTree: a trace's spans as a foldable tree, each row with type, status, duration and a
waterfall bar showing where the span sits on the trace's timeline (`Trace.bounds`).

Rows are rendered lazily: a node holds only its span; the columns and the bar are built in
`render_label`, i.e. only for the lines on screen, so a 5,000-span trace paints at once.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from tracktui.store.traces import Span, Trace

from ..safe_text import inert, plain
from .traces_table import format_duration_ms
from .tree_folding import TreeFolding

NAME_WIDTH = 38
TYPE_WIDTH = 10
STATUS_WIDTH = 6
DURATION_WIDTH = 9
#: Columns the tree itself uses per level (Tree.guide_depth) and around the label.
GUIDE_DEPTH = 3
MIN_BAR = 10
#: Eighth blocks: a bar starts and ends at 1/8-cell precision.
_LEFT_EIGHTHS = " ▏▎▍▌▋▊▉█"


def waterfall_bar(start: float, end: float, width: int) -> tuple[str, str, str]:
    """(before, bar, after) strings for a bar from `start` to `end` (fractions) in `width`
    cells; the bar is at least one cell wide so an instant span still shows."""
    start = min(max(start, 0.0), 1.0)
    end = min(max(end, start), 1.0)
    first = min(int(start * width), width - 1)
    last = max(first + 1, min(width, int(end * width + 0.999)))
    return " " * first, "█" * (last - first), " " * (width - last)


def bar_width(total_width: int) -> int:
    return max(MIN_BAR, total_width - (NAME_WIDTH + TYPE_WIDTH + STATUS_WIDTH + DURATION_WIDTH + 6))


def header_text(total_width: int) -> Text:
    """Column titles matching the rows of a SpanTree `total_width` cells wide."""
    return Text(
        f"{'Span':<{NAME_WIDTH}} {'Type':<{TYPE_WIDTH}} {'Status':<{STATUS_WIDTH}} "
        f"{'Duration':>{DURATION_WIDTH}}  Timeline"
    )


class SpanTree(TreeFolding, Tree[Span]):
    DEFAULT_CSS = """
    SpanTree { height: 1fr; }
    SpanTree > .span-tree--bar { color: $accent; }
    SpanTree > .span-tree--error { color: $text-error; }
    SpanTree > .span-tree--error-bar { color: $error; }
    SpanTree > .span-tree--muted { color: $text-muted; }
    """
    COMPONENT_CLASSES = Tree.COMPONENT_CLASSES | {
        "span-tree--bar", "span-tree--error", "span-tree--error-bar", "span-tree--muted",
    }

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="span_tree.down"),
        Binding("k", "cursor_up", "Up", show=False, id="span_tree.up"),
        Binding("right,l", "expand", "Expand", show=False, id="span_tree.expand"),
        Binding("left,h", "collapse", "Collapse / to parent", show=False, id="span_tree.collapse"),
        Binding("space", "toggle_node", "Expand/collapse", id="span_tree.toggle"),
    ]

    #: True while nodes are added in bulk; the row width (0: measure again). Class-level:
    #: Tree.__init__ already calls the methods that read them.
    _adding = False
    _width = 0
    _timeline: tuple[int | None, int | None] | None = None

    def __init__(self, trace: Trace, *, id: str | None = None) -> None:
        super().__init__("trace", id=id)
        self.show_root = False
        self.guide_depth = GUIDE_DEPTH
        self.auto_expand = False
        self.trace = trace
        self.nodes_by_span: dict[str, TreeNode[Span]] = {}
        self._depths: dict[str, int] = {}

    def on_mount(self) -> None:
        self._add_spans()
        self.cursor_line = 0

    def process_label(self, label) -> Text:
        """Span names are plain text (no markup parsing: a name may hold brackets)."""
        return label if isinstance(label, Text) else plain(label)

    def _invalidate(self) -> None:
        # Tree invalidates (and schedules a layout) on every added node; adding 5,000 spans
        # invalidates once at the end instead.
        if not self._adding:
            super()._invalidate()

    def _add_spans(self) -> None:
        """One node per span, all expanded (Trace.tree is depth-first with depth)."""
        self._adding = True
        try:
            self._add_span_nodes()
        finally:
            self._adding = False
        self._invalidate()

    def _add_span_nodes(self) -> None:
        children = self.trace.children
        stack: list[TreeNode[Span]] = [self.root]
        for span, depth in self.trace.tree:
            del stack[depth + 1 :]
            parent = stack[-1]
            self._depths[span.span_id] = len(stack) - 1
            has_kids = bool(children.get(span.span_id))
            node = parent.add(span.name, data=span, expand=True, allow_expand=has_kids)
            self.nodes_by_span[span.span_id] = node
            stack.append(node)
        self.root.expand()

    # -- rendering ---------------------------------------------------------------------------

    @property
    def _row_width(self) -> int:
        if not self._width:
            self._width = self.scrollable_content_region.width
        return self._width

    def get_label_width(self, node: TreeNode[Span]) -> int:
        """Every row fills the width; saying so here keeps Tree from rendering each label."""
        depth = self._depths.get(node.data.span_id, 0) if node.data is not None else 0
        return max(1, self._row_width - 1 - GUIDE_DEPTH * depth)

    def _bounds(self, span: Span) -> tuple[float, float]:
        """Trace.bounds with the trace's start/end computed once (Trace computes them on each
        call, a pass over every span: 2 ms per row at 5,000 spans)."""
        if self._timeline is None:
            self._timeline = (self.trace.start_ns, self.trace.end_ns)
        start, end = self._timeline
        if start is None or end is None or end <= start:
            return (0.0, 1.0)
        span_end = span.end_ns if span.end_ns is not None else end
        return (max(0.0, (span.start_ns - start) / (end - start)), min(1.0, (span_end - start) / (end - start)))

    def on_resize(self) -> None:
        self._width = 0
        self._line_cache.clear()  # rows change width; the tree's lines stay
        self.refresh()

    def render_label(self, node: TreeNode[Span], base_style: Style, style: Style) -> Text:
        span = node.data
        if span is None:
            return plain(node.label)
        name_width = max(8, NAME_WIDTH - GUIDE_DEPTH * self._depths.get(span.span_id, 0))
        prefix = "▾ " if node.allow_expand and node.is_expanded else "▸ " if node.allow_expand else "  "
        name = prefix + inert(span.name)
        if len(name) > name_width:
            name = name[: name_width - 1] + "…"
        error = span.is_error
        error_style = self.get_component_rich_style("span-tree--error", partial=True)
        muted = self.get_component_rich_style("span-tree--muted", partial=True)
        text = Text(f"{name:<{name_width}} ", style=error_style if error else "")
        text.append(f"{inert(span.span_type)[:TYPE_WIDTH]:<{TYPE_WIDTH}} ", style=muted)
        text.append(f"{inert(span.status)[:STATUS_WIDTH]:<{STATUS_WIDTH}} ", style=error_style if error else muted)
        duration = None if span.duration_ns is None else span.duration_ns / 1e6
        text.append(f"{format_duration_ms(duration):>{DURATION_WIDTH}}  ")
        before, bar, after = waterfall_bar(*self._bounds(span), bar_width(self._row_width))
        bar_style = self.get_component_rich_style("span-tree--error-bar" if error else "span-tree--bar", partial=True)
        text.append(before)
        text.append(bar, style=bar_style)
        text.append(after)
        text.stylize(style)
        return text

    # -- navigation --------------------------------------------------------------------------

    @property
    def current_span(self) -> Span | None:
        node = self.cursor_node
        return node.data if node is not None else None

    def select_span(self, span: Span) -> None:
        """Move the cursor to `span`, expanding its ancestors so it is visible."""
        node = self.nodes_by_span.get(span.span_id)
        if node is None:
            return
        parent = node.parent
        while parent is not None:
            parent.expand()
            parent = parent.parent
        self.call_after_refresh(self._move_to, node)

    def _move_to(self, node: TreeNode[Span]) -> None:
        self.move_cursor(node)
        self.scroll_to_node(node)


    def expand_all(self) -> None:
        self.root.expand_all()

    def collapse_all(self) -> None:
        for node in self.root.children:
            node.collapse_all()
