"""The text tree: nodes, their properties and links, written by indentation. Pure: no I/O.

This module is the text tree's face; each part has a module of its own:

* ``_tree_node.py`` -- :class:`TextNode`, the model, and what it can hold;
* ``_tree_parse.py`` -- what tree text looks like, and its grammar line by
  line: :func:`parse_tree`;
* ``_tree_format.py`` -- export in the reference's layout: :func:`format_tree`.

``parse_tree(format_tree(t)) == t`` for every tree ZooKeeper can hold.
Import plans (``_plan.py``) and graphs (``_graph.py``) work on the model.
"""

from __future__ import annotations

from ._tree_format import format_tree
from ._tree_node import TextNode
from ._tree_parse import parse_tree

__all__ = ["TextNode", "format_tree", "parse_tree"]
