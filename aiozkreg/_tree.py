"""The text tree: nodes, their properties and links, written by indentation. Pure: no I/O.

A tree text looks like this::

    /lb : ipvs                      a node named lb, with property type = 'ipvs'
      /pools
        /cms
          # a comment line
          address = '1.2.3.4:80'    a property: name = Python literal
          providers -> /cms/providers         a link (symlink): name -> target
          threads => /fooservice threads      a property link: name => path [property]
          'key with spaces' = 1     a quoted name: any name at all
        /'node name' : type         a node with a quoted name

This module is the text tree's face; each part has a module of its own:

* ``_tree_node.py`` -- :class:`TreeNode`, the model, and what it can hold;
* ``_tree_parse.py`` -- the grammar, line by line: :func:`parse_tree`;
* ``_tree_format.py`` -- export in the reference's layout: :func:`format_tree`.

``parse_tree(format_tree(t)) == t`` for every tree ZooKeeper can hold.
Import plans (``_plan.py``) and graphs (``_graph.py``) work on the model.
"""

from __future__ import annotations

from ._tree_format import format_tree
from ._tree_node import TreeNode
from ._tree_parse import parse_tree

__all__ = ["TreeNode", "format_tree", "parse_tree"]
