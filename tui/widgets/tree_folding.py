"""Right/left folding for Textual trees, shared by the span tree and the span detail tree:
right opens a node (or steps into it when already open), left closes it (or goes to its parent)."""

from __future__ import annotations

from typing import Any

from textual.widgets import Tree
from textual.widgets.tree import TreeNode


class TreeFolding(Tree[Any]):
    """Base for the two trees; `_move_to` is where a tree that must also scroll hooks in."""

    def _move_to(self, node: TreeNode[Any]) -> None:
        self.move_cursor(node)

    def action_expand(self) -> None:
        node = self.cursor_node
        if node is not None and node.allow_expand and not node.is_expanded:
            node.expand()
        elif node is not None and node.children:
            self.action_cursor_down()

    def action_collapse(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        if node.allow_expand and node.is_expanded:
            node.collapse()
        elif node.parent is not None and node.parent is not self.root:
            self._move_to(node.parent)
