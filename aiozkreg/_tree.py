"""The text tree: a model, a parser and an exporter. Pure: no I/O.

A tree text describes nodes, their properties and links, by indentation::

    /lb : ipvs                      a node named lb, with property type = 'ipvs'
      /pools
        /cms
          # a comment line
          address = '1.2.3.4:80'    a property: name = Python literal
          providers -> /cms/providers         a link (symlink): name -> target
          threads => /fooservice threads      a property link: name => path [property]

Grammar, line by line (each line is right-stripped first):

* Blank lines, and lines whose first non-blank character is ``#``, are skipped.
* Indentation is the count of leading whitespace characters (a tab counts
  as one). A line indented deeper than the line before it is that line's
  child, which is allowed only under a node line. A line dedented to a
  depth that no enclosing line has is an error.
* A line starting with ``/`` is a node: ``/NAME`` or ``/NAME : TYPE``. NAME
  is the longest run of non-blank characters other than ``/`` after which
  the rest is empty or ``:`` then a type, so ``/a:b`` is the node ``a:b``
  while ``/a: b`` and ``/a : b`` are the node ``a`` of type ``b``. The type
  is the rest of the line (it may contain spaces, ``# ...`` included) and is
  stored as the property ``type``. ``.`` and ``..`` are not node names.
* ``NAME => PATH [PROPERTY]`` is a property link, stored as the property
  ``'NAME =>'`` with the value ``'PATH [PROPERTY]'`` as written.
* ``NAME = VALUE`` is a property. VALUE is read with :func:`ast.literal_eval`
  -- strings, numbers, ``True``, ``False``, ``None``, lists and dicts --
  and must be representable in JSON (no tuples, sets, bytes or complex
  numbers; dict keys are strings). It is never evaluated as code. A trailing
  ``# comment`` is fine: Python's parser ignores it.
* ``NAME -> TARGET`` is a link, stored as the property ``'NAME ->'``.
  TARGET is one token.
* Property, link and property-link NAMEs are non-blank and contain no
  ``=``. (A line that looks like a property whose value is not a literal
  but reads as a link is a link: ``a->/x=y``.)
* Every line belongs to the nearest less-indented node line above it. A
  property at the top level (with no node above it) is an error, as are a
  repeated node name or property name under one node (``/a : t`` followed
  by ``type = ...`` repeats ``type``).

Every syntax error raises :class:`~aiozkreg.TreeSyntaxError` with the
1-based line number, the line and a sentence saying what is wrong.

Differences from the reference (zc.zk): a line starting with ``/`` is
always a node (the reference read ``/a=1`` as a property named ``/a``);
property names stop at the first ``=`` (the reference broke ``x='a=b'``);
a property link takes at most two tokens (the reference silently dropped
a third one starting with ``/``); a node name cannot contain ``/``; a
node line indented under a property is an error even when a node line came
before that property (the reference made it a child of that earlier node);
values are literals, never ``eval``-ed.

Export (:func:`format_tree`) writes the reference's layout: two-space
indentation; ``/NAME[ : TYPE]``; then the properties sorted by key as
``key = repr(value)`` (property links, among them, as ``key => value``, so
they import back as links); then the links sorted as ``key -> target``;
then the children sorted by name. Values use Python 3 reprs, except that
infinite floats are written ``1e999`` / ``-1e999`` so they read back
(``nan`` has no literal and cannot be imported). A ``type`` that cannot sit
in the node line (not a one-line string without surrounding blanks) is
written as an ordinary ``type = ...`` property.

What round-trips (``parse_tree(format_tree(t)) == t``): node names without
whitespace or ``/`` (and not ``.``/``..``); property, link and property-link
names without whitespace or ``=`` that do not start with ``#`` or ``/``;
JSON values; link targets that are one token; property-link values of one
or two space-separated tokens. Anything else (names with spaces, say, which
ZooKeeper allows) is still exported, as text that will not import back.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ._errors import TreeSyntaxError

__all__ = ["TreeNode", "format_tree", "parse_tree"]

LINK_SUFFIX = " ->"
PROPERTY_LINK_SUFFIX = " =>"


@dataclass
class TreeNode:
    """A node of a text tree: its properties and its children by name.

    The node type is the property ``type``; a link ``name -> target`` is the
    property ``'name ->': 'target'``; a property link ``name => path prop``
    is the property ``'name =>': 'path prop'`` -- exactly what is stored in
    ZooKeeper. Equality compares properties and children.
    """

    properties: dict[str, Any] = field(default_factory=dict)
    children: dict[str, TreeNode] = field(default_factory=dict)

    @property
    def links(self) -> dict[str, Any]:
        """The links of this node: link name -> target."""
        return {
            key.removesuffix(LINK_SUFFIX): value
            for key, value in self.properties.items()
            if key.endswith(LINK_SUFFIX)
        }

    def walk(self, path: str = "") -> Iterator[tuple[str, TreeNode]]:
        """Every ``(path, node)`` below and including this one, preorder, sorted."""
        yield path or "/", self
        for name in sorted(self.children):
            yield from self.children[name].walk(f"{path}/{name}")


# --- parsing -----------------------------------------------------------------

_NODE = re.compile(r"/(?P<name>[^\s/]+)(?:\s*:\s*(?P<type>\S.*))?")
_PROPERTY_LINK = re.compile(r"(?P<name>[^\s=]+)\s*=>(?P<target>.*)")
_PROPERTY = re.compile(r"(?P<name>[^\s=]+)\s*=\s*(?P<expr>\S.*)")
_LINK = re.compile(r"(?P<name>\S+)\s*->\s*(?P<target>\S+)")

_NODE_FORMAT = "expected '/name' or '/name : type'; node names have no '/' or blanks"
_PROPERTY_LINK_FORMAT = "expected 'name => path' or 'name => path property'"
_LINK_FORMAT = "expected 'name -> target', with a one-word target"
_LINE_FORMAT = "expected '/node', 'name = value', 'name -> target' or 'name => path'"
_LITERALS = "use a string, number, True, False, None, list or dict"


class _LiteralError(Exception):
    """A property value that is not an acceptable literal (the reason is the message)."""


def parse_tree(text: str) -> TreeNode:
    """Parse tree ``text`` into its root :class:`TreeNode` (the top nodes are its children).

    Raises :class:`~aiozkreg.TreeSyntaxError` (a ``ValueError``) for any malformed line.
    """
    root = TreeNode()
    # One entry per open indentation level: (indent, the node on the last line
    # at that level, or None when that line was a property or link).
    stack: list[tuple[int, TreeNode | None]] = [(-1, root)]
    for lineno, raw in enumerate(text.split("\n"), start=1):
        line = raw.rstrip()
        stripped = line.lstrip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(stripped)
        key, value = _parse_line(stripped, lineno, line)

        if indent > stack[-1][0]:
            if stack[-1][1] is None:
                raise TreeSyntaxError("Can't indent under properties", lineno, line)
            stack.append((indent, None))
        else:
            while indent < stack[-1][0]:
                stack.pop()
            if indent != stack[-1][0]:
                raise TreeSyntaxError(
                    "Invalid indentation (the line dedents to a depth no enclosing line uses)",
                    lineno,
                    line,
                )
        parent = stack[-2][1]
        assert parent is not None  # levels are only opened under node lines
        if isinstance(value, TreeNode):
            if key in parent.children:
                raise TreeSyntaxError(f"Duplicate node {key!r}", lineno, line)
            parent.children[key] = value
            stack[-1] = (indent, value)
        else:
            if parent is root:
                raise TreeSyntaxError(
                    "Can't import properties above imported nodes "
                    "(a property needs a node line above it)",
                    lineno,
                    line,
                )
            if key in parent.properties:
                raise TreeSyntaxError(f"Duplicate property {key!r}", lineno, line)
            parent.properties[key] = value
            stack[-1] = (indent, None)
    return root


def _parse_line(stripped: str, lineno: int, line: str) -> tuple[str, Any]:
    """``(name, TreeNode)`` for a node line, ``(key, value)`` for any other line."""
    if stripped.startswith("/"):
        m = _NODE.fullmatch(stripped)
        if not m:
            raise TreeSyntaxError(f"Bad node line ({_NODE_FORMAT})", lineno, line)
        name = m["name"]
        if name in (".", ".."):
            raise TreeSyntaxError(f"{name!r} is not a valid node name", lineno, line)
        node = TreeNode()
        if m["type"]:
            node.properties["type"] = m["type"]
        return name, node

    m = _PROPERTY_LINK.fullmatch(stripped)
    if m:
        target = m["target"].strip()
        if not 1 <= len(target.split()) <= 2:
            raise TreeSyntaxError(
                f"Bad property link format ({_PROPERTY_LINK_FORMAT})", lineno, line
            )
        return m["name"] + PROPERTY_LINK_SUFFIX, target

    link = _LINK.fullmatch(stripped)
    m = _PROPERTY.fullmatch(stripped)
    if m:
        try:
            return m["name"], _literal(m["expr"])
        except _LiteralError as exc:
            if not link:
                raise TreeSyntaxError(str(exc), lineno, line) from None

    if link:
        return link["name"] + LINK_SUFFIX, link["target"]
    if "->" in stripped:
        raise TreeSyntaxError(f"Bad link format ({_LINK_FORMAT})", lineno, line)
    raise TreeSyntaxError(f"Unrecognized line ({_LINE_FORMAT})", lineno, line)


def _literal(expr: str) -> Any:
    """The JSON value written as the Python literal ``expr``; never runs code."""
    try:
        value = ast.literal_eval(expr)
    except SyntaxError as exc:
        raise _LiteralError(f"The value {expr!r} is not a Python literal ({exc.msg})") from None
    except Exception:  # ValueError, TypeError, MemoryError, RecursionError, ...
        raise _LiteralError(
            f"The value {expr!r} is not a Python literal (values are never run as code; "
            f"{_LITERALS})"
        ) from None
    problem = _not_json(value)
    if problem:
        raise _LiteralError(f"The value {expr!r} cannot be stored as JSON ({problem}; {_LITERALS})")
    return value


def _not_json(value: Any) -> str | None:
    """Why ``value`` is not a JSON value, or None if it is one."""
    if value is None or isinstance(value, str | bool | int | float):
        return None
    if isinstance(value, list):
        return next(filter(None, map(_not_json, value)), None)
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"dict key {key!r} is not a string"
            problem = _not_json(item)
            if problem:
                return problem
        return None
    return f"{type(value).__name__} values are not allowed"


# --- formatting ----------------------------------------------------------------


def format_tree(node: TreeNode, name: str | None = None) -> str:
    """The tree text for ``node``, ending with a newline (or ``""`` if there is nothing).

    With ``name``, the text starts with the line ``/name`` for ``node`` itself.
    Without, only ``node``'s children are written, at the top level (what
    exporting ZooKeeper's root looks like; ``node``'s own properties are not
    written) -- so ``format_tree(parse_tree(text))`` re-creates a text tree.
    """
    lines: list[str] = []
    if name is None:
        for child in sorted(node.children):
            _format_node(child, node.children[child], "", lines)
    else:
        _format_node(name, node, "", lines)
    return "".join(line + "\n" for line in lines)


def _format_node(name: str, node: TreeNode, indent: str, lines: list[str]) -> None:
    properties = dict(node.properties)
    header = f"{indent}/{name}"
    node_type = properties.get("type")
    if _fits_node_line(node_type):
        header += f" : {node_type}"
        del properties["type"]
    lines.append(header)

    indent += "  "
    links = []
    for key in sorted(properties):
        value = properties[key]
        if key.endswith(LINK_SUFFIX):
            links.append(f"{indent}{key} {value}")
        elif key.endswith(PROPERTY_LINK_SUFFIX):
            lines.append(f"{indent}{key} {value}")
        else:
            lines.append(f"{indent}{key} = {literal_repr(value)}")
    lines.extend(links)
    for child in sorted(node.children):
        _format_node(child, node.children[child], indent, lines)


def _fits_node_line(node_type: Any) -> bool:
    """True if ``node_type`` can be written as ``/name : type`` and read back unchanged."""
    return (
        isinstance(node_type, str)
        and node_type != ""
        and node_type == node_type.strip()
        and all(c == " " or not c.isspace() for c in node_type)
    )


def literal_repr(value: Any) -> str:
    """``repr(value)``, except that infinite floats come out as literals (``1e999``)."""
    if isinstance(value, float) and math.isinf(value):
        return "1e999" if value > 0 else "-1e999"
    if isinstance(value, list):
        return "[" + ", ".join(map(literal_repr, value)) + "]"
    if isinstance(value, dict):
        items = (f"{k!r}: {literal_repr(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    return repr(value)
