"""Tree text export: :func:`format_tree`. Pure: no I/O.

Export writes the reference's layout: two-space
indentation; ``/NAME[ : TYPE]``; then the properties sorted by key as
``key = repr(value)`` (property links, among them, as ``key => value``, so
they import back as links); then the links sorted as ``key -> target``;
then the children sorted by name. Values use Python 3 reprs. A ``type``
that cannot sit in the node line (not a one-line printable string without
surrounding blanks) is written as an ordinary ``type = ...`` property.
Quoting is used only where a name cannot be written bare (so every name
the reference could write comes out exactly as the reference wrote it): a
name that is empty, holds a blank, ``=`` (a node name: a ``/``) or a
character that is not printable, or starts with ``#``, ``/`` or a quote is
written as ``repr(name)``. A link whose target is not one printable token,
or a property link whose value is not one or two printable tokens without
surrounding blanks, or either of them holding a value that is not a string,
is written as ``'key' = repr(value)`` with its whole key.

So ``parse_tree(format_tree(t)) == t`` for every tree ZooKeeper can hold:
any node name (not empty, no ``/``, not ``.``/``..``), any property name,
any JSON value. What cannot be written so that it reads back -- a
non-finite number (``inf``, ``nan``), a value JSON cannot hold, a node
name ZooKeeper cannot hold, a value nested too deeply for Python's parser
-- makes export raise ``ValueError`` naming the node and the key: export
never writes text whose import would lose or change a property.
"""

from __future__ import annotations

import ast
from typing import Any

from . import _paths
from ._links import KeyKind, split_key
from ._tree_node import TextNode, json_problem, node_name_problem
from ._tree_parse import QUOTES, is_bare_name

__all__ = ["format_tree", "literal_repr", "name_text"]


def format_tree(node: TextNode, name: str | None = None) -> str:
    """The tree text for ``node``, ending with a newline (or ``""`` if there is nothing).

    With ``name``, the text starts with the line ``/name`` for ``node`` itself.
    Without, only ``node``'s children are written, at the top level (what
    exporting ZooKeeper's root looks like; ``node``'s own properties are not
    written) -- so ``format_tree(parse_tree(text))`` re-creates a text tree.

    Raises ``ValueError`` naming the node (its path in the text) and the key
    for what would not read back: a non-finite number, a value JSON cannot
    hold, a node name ZooKeeper cannot hold.
    """
    lines: list[str] = []
    if name is None:
        for child in sorted(node.children):
            _format_node(child, node.children[child], "", "", lines)
    else:
        _format_node(name, node, "", "", lines)
    return "".join(line + "\n" for line in lines)


def _format_node(name: str, node: TextNode, parent: str, indent: str, lines: list[str]) -> None:
    path = _paths.join(parent, name)
    problem = node_name_problem(name)
    if problem:
        raise ValueError(f"Cannot export the node {path}: {name!r} is not a node name ({problem}).")
    properties = dict(node.properties)
    header = f"{indent}/{name if _bare_node_name(name) else repr(name)}"
    node_type = properties.get("type")
    if _fits_node_line(node_type):
        header += f" : {node_type}"
        del properties["type"]
    lines.append(header)

    indent += "  "
    links = []
    for key in sorted(properties):
        value = properties[key]
        kind, bare = split_key(key)
        if kind is KeyKind.LINK:
            links.append(indent + _link_line(bare, key, value, path))
        elif kind is KeyKind.PROPERTY_LINK:
            lines.append(indent + _property_link_line(bare, key, value, path))
        else:
            lines.append(f"{indent}{name_text(key)} = {_value_text(value, key, path)}")
    lines.extend(links)
    for child in sorted(node.children):
        _format_node(child, node.children[child], path, indent, lines)


def _link_line(name: str, key: str, target: Any, path: str) -> str:
    if isinstance(target, str) and target and target.isprintable() and " " not in target:
        return f"{name_text(name)} -> {target}"
    return f"{key!r} = {_value_text(target, key, path)}"


def _property_link_line(name: str, key: str, value: Any, path: str) -> str:
    if (
        isinstance(value, str)
        and value == value.strip()
        and value.isprintable()
        and 1 <= len(value.split()) <= 2
    ):
        return f"{name_text(name)} => {value}"
    return f"{key!r} = {_value_text(value, key, path)}"


def name_text(name: str) -> str:
    """A property, link or property-link name as written: bare if it can be, else quoted."""
    return name if is_bare_name(name) else repr(name)


def _bare_node_name(name: str) -> bool:
    return name.isprintable() and " " not in name and name[0] not in QUOTES


def _fits_node_line(node_type: Any) -> bool:
    """True if ``node_type`` can be written as ``/name : type`` and read back unchanged."""
    return (
        isinstance(node_type, str)
        and node_type != ""
        and node_type == node_type.strip()
        and node_type.isprintable()
    )


_DEEP = 64  # values nested deeper than this are checked against the parser's own limit


def _value_text(value: Any, key: str, path: str) -> str:
    """``repr(value)`` for a JSON value; ``ValueError`` naming ``key`` for anything else."""
    problem, depth = json_problem(value)
    if problem:
        raise ValueError(
            f"Cannot export the property {key!r} of {path}: {problem}, so the tree text "
            "could not be imported back (tree text holds JSON values only)."
        )
    try:
        text = literal_repr(value)
        if depth > _DEEP:  # check it against the parser's own nesting limit
            ast.literal_eval(text)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        raise ValueError(
            f"Cannot export the property {key!r} of {path}: its value is nested too "
            "deeply for Python's parser to read back."
        ) from None
    return text


def literal_repr(value: Any) -> str:
    """The Python literal for a JSON value: ``repr(value)`` (Python 3 reprs)."""
    return repr(value)
