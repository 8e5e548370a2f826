"""The text tree's model, and what it may hold. Pure: no I/O.

A :class:`TextNode` is what :func:`~aiozkreg.parse_tree` returns and
:func:`~aiozkreg.format_tree` writes: properties and children by name. What
a tree can hold is what ZooKeeper and tree text can both carry: node names
that are not empty, hold no ``/`` and are not ``.`` or ``..``
(:func:`node_name_problem`), JSON values (:func:`json_problem`), and
never a property and a property link of the same name on one node
(:func:`shadowed_link`: the property would hide the link).
"""

from __future__ import annotations

import math
from collections.abc import Container, Iterator
from dataclasses import dataclass, field
from typing import Any

from . import _paths
from ._links import PROPERTY_LINK, KeyKind, split_key


@dataclass
class TextNode:
    """A node of a text tree: its properties and its children by name.

    The node type is the property ``type``; a link ``name -> target`` is the
    property ``'name ->': 'target'``; a property link ``name => path prop``
    is the property ``'name =>': 'path prop'`` -- exactly what is stored in
    ZooKeeper. Equality compares properties and children.
    """

    properties: dict[str, Any] = field(default_factory=dict)
    children: dict[str, TextNode] = field(default_factory=dict)

    @property
    def links(self) -> dict[str, Any]:
        """The links of this node: link name -> target."""
        links = {}
        for key, value in self.properties.items():
            kind, name = split_key(key)
            if kind is KeyKind.LINK:
                links[name] = value
        return links

    def walk(self, path: str = "") -> Iterator[tuple[str, TextNode]]:
        """Every ``(path, node)`` below and including this one, preorder, sorted.

        ``path`` is this node's own path (``""`` or ``"/"``: the root).
        """
        stack: list[tuple[str, TextNode]] = [(path or "/", self)]
        while stack:
            here, node = stack.pop()
            yield here, node
            stack.extend(
                (_paths.join(here, name), node.children[name])
                for name in sorted(node.children, reverse=True)
            )


def not_json(value: object) -> str | None:
    """Why ``value`` is not a JSON value, or None if it is one."""
    return json_problem(value)[0]


def json_problem(value: object) -> tuple[str | None, int]:
    """Why ``value`` is not a JSON value (or None), and how deeply it is nested.

    Iterative, so that no nesting depth raises ``RecursionError``.
    """
    deepest = 0
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if item is None or isinstance(item, str | bool | int):
            continue
        if isinstance(item, float):
            if not math.isfinite(item):
                return f"{item!r} is not a finite number", deepest
            continue
        deepest = max(deepest, depth + 1)
        if isinstance(item, list):
            stack.extend((element, depth + 1) for element in reversed(item))
        elif isinstance(item, dict):
            for key in item:
                if not isinstance(key, str):
                    return f"dict key {key!r} is not a string", deepest
            stack.extend((element, depth + 1) for element in reversed(item.values()))
        else:
            return f"{type(item).__name__} values are not allowed", deepest
    return None, deepest


def node_name_problem(name: str) -> str | None:
    """Why ZooKeeper cannot hold a node called ``name``, or None if it can."""
    if not name:
        return "it is empty"
    if "/" in name:
        return "it contains '/'"
    if name in (".", ".."):
        return "'.' and '..' are relative path parts"
    return None


def shadowed_link(key: str, properties: Container[str]) -> str | None:
    """The name that ``key`` and a key of ``properties`` would both set, as a property
    and as a property link (``'x'`` and ``'x =>'``), or None."""
    kind, name = split_key(key)
    if kind is KeyKind.PROPERTY_LINK and name in properties:
        return name
    if kind is KeyKind.PROPERTY and key + PROPERTY_LINK in properties:
        return key
    return None
