"""Long param and tag values that hold JSON or YAML: parsed, pretty-printed, and shown as a
foldable tree.

`parse_structured(value)` recognises a JSON object/array, or a multi-line YAML mapping/list
(a model config, a `pip freeze`-like list); anything else (a scalar, a plain sentence that YAML
would also accept) is left as text. YAML with anchors or aliases is left as text too: aliases
can expand a few kilobytes into gigabytes ("billion laughs"), and the value is anyone's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

import yaml
from rich.text import Text
from textual.binding import Binding
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from ..safe_text import plain
from .tree_folding import TreeFolding

#: Levels unfolded when the tree opens.
OPEN_DEPTH = 2


@dataclass(frozen=True)
class Structured:
    """A value that parsed: its format, the data, and the data pretty-printed."""

    format: Literal["JSON", "YAML"]
    data: Any
    pretty: str


def parse_structured(value: str) -> Structured | None:
    """The value as JSON or YAML when it is a container in one of them, else None."""
    stripped = value.strip()
    if stripped[:1] in ("{", "["):
        try:
            data = json.loads(stripped)
        except ValueError:
            data = None
        if isinstance(data, (dict, list)):
            return Structured("JSON", data, json.dumps(data, indent=2, ensure_ascii=False))
    if "\n" not in stripped or "&" in stripped or "*" in stripped:
        return None
    try:
        data = yaml.safe_load(stripped)
    except yaml.YAMLError:
        return None
    if isinstance(data, (dict, list)) and data:
        pretty = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False)
        return Structured("YAML", data, pretty.rstrip("\n"))
    return None


class ValueTree(TreeFolding, Tree[None]):
    """A JSON/YAML value's structure: containers fold (`space`/`enter`, `→`/`←` as in the span
    trees), scalars show inline."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="value_tree.down"),
        Binding("k", "cursor_up", "Up", show=False, id="value_tree.up"),
        Binding("right,l", "expand", "Expand", show=False, id="value_tree.expand"),
        Binding("left,h", "collapse", "Collapse / to parent", show=False, id="value_tree.collapse"),
        Binding("E", "expand_all", "Expand all", show=False, id="value_tree.expand_all"),
        Binding("z", "collapse_all", "Collapse all", show=False, id="value_tree.collapse_all"),
    ]

    def show(self, data: Any) -> None:
        self.clear()
        self.root.set_label(_container_label("", data))
        _add_children(self.root, data, 1)
        self.root.expand()
        self.move_cursor(self.root)

    def action_expand_all(self) -> None:
        self.root.expand_all()

    def action_collapse_all(self) -> None:
        for child in self.root.children:
            child.collapse_all()


def _add_children(node: TreeNode[None], data: Any, depth: int) -> None:
    items = data.items() if isinstance(data, dict) else enumerate(data)
    for key, child in items:
        name = f"[{key}]" if isinstance(data, list) else str(key)
        if isinstance(child, (dict, list)) and child:
            branch = node.add(_container_label(name, child), expand=depth < OPEN_DEPTH)
            _add_children(branch, child, depth + 1)
        else:
            node.add_leaf(Text.assemble(plain(name, "bold"), ": ", plain(_scalar(child))))


def _container_label(name: str, data: Any) -> Text:
    size = f"{{{len(data)}}}" if isinstance(data, dict) else f"[{len(data)}]"
    return Text.assemble(plain(name, "bold"), " " if name else "", (size, "dim"))


def _scalar(value: Any) -> str:
    """A leaf as JSON writes it (strings quoted, so `"1"` and `1` differ), whole."""
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):  # YAML dates and the like
        return str(value)
