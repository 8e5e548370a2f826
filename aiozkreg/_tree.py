"""The text tree: a model, a parser and an exporter. Pure: no I/O.

A tree text describes nodes, their properties and links, by indentation::

    /lb : ipvs                      a node named lb, with property type = 'ipvs'
      /pools
        /cms
          # a comment line
          address = '1.2.3.4:80'    a property: name = Python literal
          providers -> /cms/providers         a link (symlink): name -> target
          threads => /fooservice threads      a property link: name => path [property]
          'key with spaces' = 1     a quoted name: any name at all
        /'node name' : type         a node with a quoted name

Grammar, line by line (each line is right-stripped first):

* Blank lines, and lines whose first non-blank character is ``#``, are skipped.
* Indentation is the count of leading whitespace characters (a tab counts
  as one). A line indented deeper than the line before it is that line's
  child, which is allowed only under a node line. A line dedented to a
  depth that no enclosing line has is an error.
* A line starting with ``/`` is a node: ``/NAME`` or ``/NAME : TYPE``. A
  bare NAME is the longest run of non-blank characters other than ``/``
  after which the rest is empty or ``:`` then a type, so ``/a:b`` is the
  node ``a:b`` while ``/a: b`` and ``/a : b`` are the node ``a`` of type
  ``b``. The type is the rest of the line (it may contain spaces, ``# ...``
  included) and is stored as the property ``type``. ``.`` and ``..`` are
  not node names.
* ``NAME => PATH [PROPERTY]`` is a property link, stored as the property
  ``'NAME =>'`` with the value ``'PATH [PROPERTY]'`` as written.
* ``NAME = VALUE`` is a property. VALUE is read with :func:`ast.literal_eval`
  -- strings, numbers, ``True``, ``False``, ``None``, lists and dicts --
  and must be representable in JSON (no tuples, sets, bytes or complex
  numbers; dict keys are strings; numbers are finite, so ``1e999`` is an
  error). It is never evaluated as code. A trailing ``# comment`` is fine:
  Python's parser ignores it.
* ``NAME -> TARGET`` is a link, stored as the property ``'NAME ->'``.
  TARGET is one token.
* A bare property, link or property-link NAME is non-blank, contains no
  ``=``, and does not start with ``#``, ``/``, ``'`` or ``"``. (A line that
  looks like a property whose value is not a literal but reads as a link is
  a link: ``a->/x=y``.)
* Quoted names. Where a line starts with ``'`` or ``"`` -- or a node line
  with ``/'`` or ``/"`` -- the name is a Python string literal on one line
  (escapes allowed, no prefixes, not triple-quoted), read with
  :func:`ast.literal_eval`, so it can hold anything: blanks, ``=``, ``#``,
  ``/``, quotes, a trailing ``' ->'``. ``'NAME' = VALUE`` stores the key
  NAME exactly as given (so ``'x ->' = 5`` is the property ``'x ->'``
  holding 5), ``'NAME' -> TARGET`` the link ``'NAME ->'``, ``'NAME' => PATH``
  the property link ``'NAME =>'``, ``/'NAME'`` the node NAME (which must
  not be empty, contain ``/``, or be ``.`` or ``..``).
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
a name starting with a quote is a quoted name (the reference kept the
quotes as part of the name); values are literals, never ``eval``-ed.

Export (:func:`format_tree`) writes the reference's layout: two-space
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
# A one-line Python string literal, without prefix: what repr() writes for a str.
QUOTED = re.compile(r"""'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*\"""")
_QUOTED_TYPE = re.compile(r"\s*:\s*(?P<type>\S.*)")
_QUOTED_PROPERTY_LINK = re.compile(r"\s*=>(?P<target>.*)")
_QUOTED_LINK = re.compile(r"\s*->\s*(?P<target>\S+)")
_QUOTED_PROPERTY = re.compile(r"\s*=\s*(?P<expr>\S.*)")

_NODE_FORMAT = (
    "expected '/name' or '/name : type'; bare node names have no '/' or blanks "
    "(quote other names: /'my node')"
)
_PROPERTY_LINK_FORMAT = "expected 'name => path' or 'name => path property'"
_LINK_FORMAT = "expected 'name -> target', with a one-word target"
_LINE_FORMAT = "expected '/node', 'name = value', 'name -> target' or 'name => path'"
_QUOTED_FORMAT = "expected 'name' = value, 'name' -> target or 'name' => path after a quoted name"
_LITERALS = "use a string, finite number, True, False, None, list or dict"
QUOTES = "'\""


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
        try:
            key, value = _parse_line(stripped)
        except _LineError as exc:
            raise TreeSyntaxError(str(exc), lineno, line) from None

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


class _LineError(Exception):
    """What is wrong with one line (the message); the parser adds the line number."""


def _parse_line(stripped: str) -> tuple[str, Any]:
    """``(name, TreeNode)`` for a node line, ``(key, value)`` for any other line."""
    if stripped.startswith("/"):
        return _parse_node(stripped[1:])
    if stripped[0] in QUOTES:
        return _parse_quoted(stripped)

    m = _PROPERTY_LINK.fullmatch(stripped)
    if m:
        return m["name"] + PROPERTY_LINK_SUFFIX, _property_link_target(m["target"])

    link = _LINK.fullmatch(stripped)
    m = _PROPERTY.fullmatch(stripped)
    if m:
        try:
            return m["name"], _literal(m["expr"])
        except _LiteralError as exc:
            if not link:
                raise _LineError(str(exc)) from None

    if link:
        return link["name"] + LINK_SUFFIX, link["target"]
    if "->" in stripped:
        raise _LineError(f"Bad link format ({_LINK_FORMAT})")
    raise _LineError(f"Unrecognized line ({_LINE_FORMAT})")


def _parse_node(rest: str) -> tuple[str, TreeNode]:
    """A node line, without its leading ``/``."""
    node_type: str | None
    if rest[:1] in tuple(QUOTES):
        name, after = _quoted_name(rest)
        m = _QUOTED_TYPE.fullmatch(after)
        if after and not m:
            raise _LineError(f"Bad node line ({_NODE_FORMAT})")
        node_type = m["type"] if m else None
        problem = node_name_problem(name)
        if problem:
            raise _LineError(f"{name!r} is not a valid node name ({problem})")
    else:
        m = _NODE.fullmatch("/" + rest)
        if not m:
            raise _LineError(f"Bad node line ({_NODE_FORMAT})")
        name, node_type = m["name"], m["type"]
        if name in (".", ".."):
            raise _LineError(f"{name!r} is not a valid node name")
    node = TreeNode()
    if node_type:
        node.properties["type"] = node_type
    return name, node


def _parse_quoted(stripped: str) -> tuple[str, Any]:
    """A property, link or property-link line whose name is quoted."""
    name, after = _quoted_name(stripped)
    m = _QUOTED_PROPERTY_LINK.fullmatch(after)
    if m:
        return name + PROPERTY_LINK_SUFFIX, _property_link_target(m["target"])
    m = _QUOTED_LINK.fullmatch(after)
    if m:
        return name + LINK_SUFFIX, m["target"]
    m = _QUOTED_PROPERTY.fullmatch(after)
    if m:
        try:
            return name, _literal(m["expr"])
        except _LiteralError as exc:
            raise _LineError(str(exc)) from None
    if "->" in after:
        raise _LineError(f"Bad link format ({_LINK_FORMAT})")
    raise _LineError(f"Unrecognized line ({_QUOTED_FORMAT})")


def _quoted_name(text: str) -> tuple[str, str]:
    """The quoted name at the start of ``text``, and the text after it."""
    m = QUOTED.match(text)
    if not m:
        raise _LineError(
            "Bad quoted name (a name starting with a quote is a one-line Python string "
            "literal; is the closing quote missing?)"
        )
    try:
        name = ast.literal_eval(m[0])
    except (SyntaxError, ValueError) as exc:
        raise _LineError(f"Bad quoted name {m[0]} ({exc})") from None
    assert isinstance(name, str)  # the pattern only matches plain string literals
    return name, text[m.end() :]


def _property_link_target(text: str) -> str:
    target = text.strip()
    if not 1 <= len(target.split()) <= 2:
        raise _LineError(f"Bad property link format ({_PROPERTY_LINK_FORMAT})")
    return target


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
    problem = not_json(value)
    if problem:
        raise _LiteralError(f"The value {expr!r} cannot be stored as JSON ({problem}; {_LITERALS})")
    return value


def not_json(value: Any) -> str | None:
    """Why ``value`` is not a JSON value, or None if it is one."""
    return _json_problem(value)[0]


def _json_problem(value: Any) -> tuple[str | None, int]:
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


# --- formatting ----------------------------------------------------------------


def format_tree(node: TreeNode, name: str | None = None) -> str:
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


def _format_node(name: str, node: TreeNode, parent: str, indent: str, lines: list[str]) -> None:
    path = f"{parent}/{name}"
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
        if key.endswith(LINK_SUFFIX):
            links.append(indent + _link_line(key, value, path))
        elif key.endswith(PROPERTY_LINK_SUFFIX):
            lines.append(indent + _property_link_line(key, value, path))
        else:
            lines.append(f"{indent}{name_text(key)} = {_value_text(value, key, path)}")
    lines.extend(links)
    for child in sorted(node.children):
        _format_node(child, node.children[child], path, indent, lines)


def _link_line(key: str, target: Any, path: str) -> str:
    name = key[: -len(LINK_SUFFIX)]
    if isinstance(target, str) and target and _printable(target) and " " not in target:
        return f"{name_text(name)} -> {target}"
    return f"{key!r} = {_value_text(target, key, path)}"


def _property_link_line(key: str, value: Any, path: str) -> str:
    name = key[: -len(PROPERTY_LINK_SUFFIX)]
    if (
        isinstance(value, str)
        and value == value.strip()
        and _printable(value)
        and 1 <= len(value.split()) <= 2
    ):
        return f"{name_text(name)} => {value}"
    return f"{key!r} = {_value_text(value, key, path)}"


def name_text(name: str) -> str:
    """A property, link or property-link name as written: bare if it can be, else quoted."""
    return name if is_bare_name(name) else repr(name)


def is_bare_name(name: str) -> bool:
    """True if tree text can carry the property, link or property-link name ``name`` unquoted."""
    return (
        name != ""
        and _printable(name)
        and " " not in name
        and "=" not in name
        and name[0] not in "#/'\""
    )


def _bare_node_name(name: str) -> bool:
    return _printable(name) and " " not in name and name[0] not in QUOTES


def _printable(text: str) -> bool:
    """Every character is printable (space is; other blanks and controls are not)."""
    return text.isprintable()


def _fits_node_line(node_type: Any) -> bool:
    """True if ``node_type`` can be written as ``/name : type`` and read back unchanged."""
    return (
        isinstance(node_type, str)
        and node_type != ""
        and node_type == node_type.strip()
        and _printable(node_type)
    )


_DEEP = 64  # values nested deeper than this are checked against the parser's own limit


def _value_text(value: Any, key: str, path: str) -> str:
    """``repr(value)`` for a JSON value; ``ValueError`` naming ``key`` for anything else."""
    problem, depth = _json_problem(value)
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
