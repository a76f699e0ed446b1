"""SpanDetail: one span's inputs, outputs, attributes and events as a foldable JSON tree.

Containers (objects, lists) get their children when first expanded, so a 100 KB input or a
10,000-item list costs nothing until opened; long strings are cut in the label but copied
whole. `y` copies the highlighted value (JSON for containers) with tui/clipboard.py.
"""

from __future__ import annotations

import json
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from tracktui.store.traces import Span, Trace

from ..safe_text import inert, plain
from .tree_folding import TreeFolding

#: Characters of a string value shown in its label (the copy is the whole value).
LABEL_CHARS = 160
#: Children added per container; the rest are summarised in one line.
MAX_CHILDREN = 500
#: Levels of inputs/outputs opened when the detail appears.
OPEN_LEVELS = 2


class _Value:
    """Node data: the value, its key for the label, and whether its children were added."""

    __slots__ = ("key", "value", "filled")

    def __init__(self, key: str | None, value: Any) -> None:
        self.key, self.value, self.filled = key, value, False


def summary(value: Any) -> str:
    if isinstance(value, dict):
        return f"{{{len(value)} key{'s' if len(value) != 1 else ''}}}"
    if isinstance(value, (list, tuple)):
        return f"[{len(value)} item{'s' if len(value) != 1 else ''}]"
    return ""


def _has_children(value: Any) -> bool:
    return isinstance(value, (dict, list, tuple)) and len(value) > 0


def copy_text(value: Any) -> str:
    """What `y` puts on the clipboard: strings as they are, everything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


class SpanDetail(TreeFolding, Tree[_Value]):
    DEFAULT_CSS = """
    SpanDetail { height: 1fr; }
    SpanDetail > .span-detail--key { color: $text-primary; text-style: bold; }
    SpanDetail > .span-detail--string { color: $text-success; }
    SpanDetail > .span-detail--number { color: $text-accent; }
    SpanDetail > .span-detail--keyword { color: $text-warning; }
    SpanDetail > .span-detail--section { color: $text-secondary; text-style: bold; }
    SpanDetail > .span-detail--error { color: $text-error; }
    """
    COMPONENT_CLASSES = Tree.COMPONENT_CLASSES | {
        "span-detail--key", "span-detail--string", "span-detail--number",
        "span-detail--keyword", "span-detail--section", "span-detail--error",
    }
    BINDINGS = [
        Binding("y", "copy_value", "Copy value", id="span_detail.copy"),
        Binding("j", "cursor_down", "Down", show=False, id="span_detail.down"),
        Binding("k", "cursor_up", "Up", show=False, id="span_detail.up"),
        Binding("right,l", "expand", "Expand", show=False, id="span_detail.expand"),
        Binding("left,h", "collapse", "Collapse / to parent", show=False, id="span_detail.collapse"),
    ]

    def __init__(self, trace: Trace, span: Span, *, id: str | None = None) -> None:
        super().__init__("span", id=id)
        self.show_root = False
        self.guide_depth = 3
        self.auto_expand = False
        self.trace = trace
        self.span = span

    def on_mount(self) -> None:
        span = self.span
        self._section("Inputs", span.inputs, OPEN_LEVELS)
        self._section("Outputs", span.outputs, OPEN_LEVELS)
        self._section("Attributes", span.attributes, 1)
        exceptions = [e for e in span.events if e.name == "exception"]
        if exceptions:
            self._section("Exceptions", [dict(e.attributes) for e in exceptions], 2)
        events = [{"name": e.name, "time_ns": e.time_ns, "attributes": dict(e.attributes)}
                  for e in span.events if e.name != "exception"]
        self._section("Events", events, 1)
        self.root.expand()
        self.move_cursor_to_line(0)

    def _section(self, title: str, value: Any, open_levels: int) -> None:
        node = self.root.add(title, data=_Value(title, value), allow_expand=_has_children(value))
        self._fill(node)
        self._open(node, open_levels)

    def _open(self, node: TreeNode[_Value], levels: int) -> None:
        if levels <= 0 or not node.allow_expand:
            return
        self._fill(node)
        node.expand()
        for child in node.children:
            self._open(child, levels - 1)

    def _fill(self, node: TreeNode[_Value]) -> None:
        data = node.data
        if data is None or data.filled:
            return
        data.filled = True
        value = data.value
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, (list, tuple)) else ()
        for count, (key, child) in enumerate(items):
            if count >= MAX_CHILDREN:
                node.add_leaf(plain(f"… {len(value) - MAX_CHILDREN} more (y on the parent copies all)"))
                break
            node.add(plain(key), data=_Value(str(key), child), allow_expand=_has_children(child))

    def on_tree_node_expanded(self, event: Tree.NodeExpanded) -> None:
        self._fill(event.node)

    # -- rendering ---------------------------------------------------------------------------

    def render_label(self, node: TreeNode[_Value], base_style: Style, style: Style) -> Text:
        data = node.data
        prefix = "▾ " if node.allow_expand and node.is_expanded else "▸ " if node.allow_expand else "  "
        if data is None:
            text = plain(prefix + str(node.label))
            text.stylize(style)
            return text
        cls = self.get_component_rich_style
        if node.parent is self.root:  # a section: Inputs, Outputs, ...
            text = plain(prefix + str(data.key), style=cls("span-detail--section", partial=True))
            text.append(" " + (summary(data.value) or self._scalar_text(data.value).plain))
        else:
            text = Text(prefix)
            text.append(inert(data.key), style=cls("span-detail--key", partial=True))
            text.append(": ")
            text.append_text(Text(summary(data.value)) if summary(data.value) else self._scalar_text(data.value))
        text.stylize(style)
        return text

    def _scalar_text(self, value: Any) -> Text:
        cls = self.get_component_rich_style
        if value is None or isinstance(value, bool):
            return Text(json.dumps(value), style=cls("span-detail--keyword", partial=True))
        if isinstance(value, (int, float)):
            return Text(repr(value), style=cls("span-detail--number", partial=True))
        shown = json.dumps(str(value), ensure_ascii=False)
        if len(shown) > LABEL_CHARS:
            shown = shown[: LABEL_CHARS - 1] + f"…\" ({len(str(value)):,} chars)"
        shown = shown.replace("\\n", "⏎")
        return plain(shown, style=cls("span-detail--string", partial=True))

    # -- actions -----------------------------------------------------------------------------

    def action_copy_value(self) -> None:
        node = self.cursor_node
        if node is None or node.data is None:
            return
        from ..clipboard import copy_text as copy_for_user

        copy_for_user(self.app, copy_text(node.data.value), str(node.data.key))

