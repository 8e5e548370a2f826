"""Tree text grammar: :func:`parse_tree`. Pure: no I/O.

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
  depth that no enclosing line has is an error. Indentation that mixes
  tabs and spaces so that the nesting would differ with tabs 8 columns
  wide is an error (Python's rule): a text indented with spaces only, or
  tabs only, reads the same either way.
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
  by ``type = ...`` repeats ``type``), and a property and a property link
  of the same name under one node (``x = 1`` and ``x => /a``: the property
  would hide the link). A link ``x -> target`` names a child, and may sit
  next to a property ``x``.

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
"""

from __future__ import annotations

import ast
import re
from typing import Any, NamedTuple

from ._errors import TreeSyntaxError
from ._links import LINK, PROPERTY_LINK
from ._tree_node import TextNode, node_name_problem, not_json, shadowed_link

__all__ = [
    "QUOTES",
    "LineError",
    "LiteralError",
    "is_bare_name",
    "parse_tree",
    "read_literal",
    "read_quoted_name",
]

QUOTES = "'\""
# A one-line Python string literal, without prefix: what repr() writes for a str.
_QUOTED = re.compile(r"""'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*\"""")
_NODE = re.compile(r"/(?P<name>[^\s/]+)(?:\s*:\s*(?P<type>\S.*))?")
_QUOTED_TYPE = re.compile(r"\s*:\s*(?P<type>\S.*)")


class _Patterns(NamedTuple):
    """A property-link, link and property line (bare names), or what follows a quoted name."""

    property_link: re.Pattern[str]
    link: re.Pattern[str]
    property: re.Pattern[str]


_AFTER_PROPERTY_LINK = r"\s*=>(?P<target>.*)"
_AFTER_LINK = r"\s*->\s*(?P<target>\S+)"
_AFTER_PROPERTY = r"\s*=\s*(?P<expr>\S.*)"
_BARE = _Patterns(
    re.compile(r"(?P<name>[^\s=]+)" + _AFTER_PROPERTY_LINK),
    re.compile(r"(?P<name>\S+)" + _AFTER_LINK),
    re.compile(r"(?P<name>[^\s=]+)" + _AFTER_PROPERTY),
)
_AFTER_QUOTED = _Patterns(
    re.compile(_AFTER_PROPERTY_LINK), re.compile(_AFTER_LINK), re.compile(_AFTER_PROPERTY)
)

_NODE_FORMAT = (
    "expected '/name' or '/name : type'; bare node names have no '/' or blanks "
    "(quote other names: /'my node')"
)
_PROPERTY_LINK_FORMAT = "expected 'name => path' or 'name => path property'"
_LINK_FORMAT = "expected 'name -> target', with a one-word target"
_LINE_FORMAT = "expected '/node', 'name = value', 'name -> target' or 'name => path'"
_QUOTED_FORMAT = "expected 'name' = value, 'name' -> target or 'name' => path after a quoted name"
_LITERALS = "use a string, finite number, True, False, None, list or dict"


class LineError(Exception):
    """What is wrong with one line (the message); the parser adds the line number."""


class LiteralError(LineError):
    """A property value that is not an acceptable literal (the reason is the message)."""


def parse_tree(text: str) -> TextNode:
    """Parse tree ``text`` into its root :class:`TextNode` (the top nodes are its children).

    Raises :class:`~aiozkreg.TreeSyntaxError` (a ``ValueError``) for any malformed line.
    """
    root = TextNode()
    # One entry per open indentation level: (indent with tabs as one column, the
    # same with tabs to the next multiple of 8, the node on the last line at that
    # level, or None when that line was a property or link).
    stack: list[tuple[int, int, TextNode | None]] = [(-1, -1, root)]
    for lineno, raw in enumerate(text.split("\n"), start=1):
        line = raw.rstrip()
        stripped = line.lstrip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(stripped)
        try:
            key, value = _parse_line(stripped)
        except LineError as exc:
            raise TreeSyntaxError(str(exc), lineno, line) from None

        depth = _depth(indent, [level[0] for level in stack])
        if depth != _depth(_columns(line[:indent]), [level[1] for level in stack]):
            raise TreeSyntaxError(_MIXED_INDENTATION, lineno, line)
        if depth is None:
            raise TreeSyntaxError(
                "Invalid indentation (the line dedents to a depth no enclosing line uses)",
                lineno,
                line,
            )
        if depth == len(stack):
            if stack[-1][2] is None:
                raise TreeSyntaxError("Can't indent under properties", lineno, line)
            stack.append((indent, _columns(line[:indent]), None))
        else:
            del stack[depth + 1 :]
        parent = stack[-2][2]
        assert parent is not None  # levels are only opened under node lines
        if isinstance(value, TextNode):
            if key in parent.children:
                raise TreeSyntaxError(f"Duplicate node {key!r}", lineno, line)
            parent.children[key] = value
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
            shadowed = shadowed_link(key, parent.properties)
            if shadowed:
                raise TreeSyntaxError(
                    f"A property and a property link of the same name, {shadowed!r}, "
                    "cannot both be set (the property would hide the link)",
                    lineno,
                    line,
                )
            parent.properties[key] = value
            value = None
        stack[-1] = (*stack[-1][:2], value)
    return root


_MIXED_INDENTATION = (
    "Indentation mixes tabs and spaces so that the nesting depends on the tab width "
    "(indent with spaces only, or tabs only)"
)


def _columns(indentation: str) -> int:
    """The width of ``indentation`` with tab stops every 8 columns."""
    column = 0
    for char in indentation:
        column = (column // 8 + 1) * 8 if char == "\t" else column + 1
    return column


def _depth(indent: int, levels: list[int]) -> int | None:
    """Where a line indented ``indent`` goes, given the open levels' indents.

    ``len(levels)``: a new, deeper level; a smaller number: the index of the
    open level it continues; None: it dedents to a depth no level has.
    """
    if indent > levels[-1]:
        return len(levels)
    for index in range(len(levels) - 1, -1, -1):
        if levels[index] == indent:
            return index
        if levels[index] < indent:
            return None
    return None


def _parse_line(stripped: str) -> tuple[str, Any]:
    """``(name, TextNode)`` for a node line, ``(key, value)`` for any other line."""
    if stripped.startswith("/"):
        return _parse_node(stripped[1:])
    if stripped[0] in QUOTES:
        name, after = read_quoted_name(stripped)
        return _parse_entry(after, name)
    return _parse_entry(stripped, None)


def _parse_node(rest: str) -> tuple[str, TextNode]:
    """A node line, without its leading ``/``."""
    node_type: str | None
    if rest[:1] in tuple(QUOTES):
        name, after = read_quoted_name(rest)
        m = _QUOTED_TYPE.fullmatch(after)
        if after and not m:
            raise LineError(f"Bad node line ({_NODE_FORMAT})")
        node_type = m["type"] if m else None
        problem = node_name_problem(name)
        if problem:
            raise LineError(f"{name!r} is not a valid node name ({problem})")
    else:
        m = _NODE.fullmatch("/" + rest)
        if not m:
            raise LineError(f"Bad node line ({_NODE_FORMAT})")
        name, node_type = m["name"], m["type"]
        if name in (".", ".."):
            raise LineError(f"{name!r} is not a valid node name")
    node = TextNode()
    if node_type:
        node.properties["type"] = node_type
    return name, node


def _parse_entry(text: str, quoted: str | None) -> tuple[str, Any]:
    """A property, link or property-link line.

    ``quoted`` is the line's quoted name and ``text`` the rest of the line;
    or ``quoted`` is None and ``text`` the whole line, its name bare.
    """
    patterns = _BARE if quoted is None else _AFTER_QUOTED

    def name(m: re.Match[str]) -> str:
        return m["name"] if quoted is None else quoted

    m = patterns.property_link.fullmatch(text)
    if m:
        return name(m) + PROPERTY_LINK, _property_link_target(m["target"])
    link = patterns.link.fullmatch(text)
    m = patterns.property.fullmatch(text)
    if m:
        try:
            return name(m), read_literal(m["expr"])
        except LiteralError:
            if not link:  # a bare line that is no property may still be a link: a->/x=y
                raise
    if link:
        return name(link) + LINK, link["target"]
    if "->" in text:
        raise LineError(f"Bad link format ({_LINK_FORMAT})")
    raise LineError(f"Unrecognized line ({_LINE_FORMAT if quoted is None else _QUOTED_FORMAT})")


def read_quoted_name(text: str) -> tuple[str, str]:
    """The quoted name at the start of ``text``, and the text after it; :class:`LineError`."""
    m = _QUOTED.match(text)
    if not m:
        raise LineError(
            "Bad quoted name (a name starting with a quote is a one-line Python string "
            "literal; is the closing quote missing?)"
        )
    try:
        name = ast.literal_eval(m[0])
    except (SyntaxError, ValueError) as exc:
        raise LineError(f"Bad quoted name {m[0]} ({exc})") from None
    assert isinstance(name, str)  # the pattern only matches plain string literals
    return name, text[m.end() :]


def is_bare_name(name: str) -> bool:
    """True if tree text can carry the property, link or property-link name ``name`` unquoted."""
    return (
        name != ""
        and name.isprintable()
        and " " not in name
        and "=" not in name
        and name[0] not in "#/'\""
    )


def _property_link_target(text: str) -> str:
    target = text.strip()
    if not 1 <= len(target.split()) <= 2:
        raise LineError(f"Bad property link format ({_PROPERTY_LINK_FORMAT})")
    return target


def read_literal(expr: str) -> Any:
    """The JSON value written as the Python literal ``expr``; never runs code.

    Raises :class:`LiteralError` saying why it is not one.
    """
    try:
        value = ast.literal_eval(expr)
    except SyntaxError as exc:
        raise LiteralError(f"The value {expr!r} is not a Python literal ({exc.msg})") from None
    except Exception:  # ValueError, TypeError, MemoryError, RecursionError, ...
        raise LiteralError(
            f"The value {expr!r} is not a Python literal (values are never run as code; "
            f"{_LITERALS})"
        ) from None
    problem = not_json(value)
    if problem:
        raise LiteralError(f"The value {expr!r} cannot be stored as JSON ({problem}; {_LITERALS})")
    return value
