"""``zookeeper_set_property`` (``aiozkreg set``): update some properties of a node.

Each ``NAME=LITERAL`` names a property, link or property link as tree text
does and gives its value as a Python literal; each ``--delete NAME`` names
one to remove. Every one is checked before anything is written, and all
go in one compare-and-set write.
"""

from __future__ import annotations

import argparse
import re
from typing import Any

from ._cli_common import (
    Command,
    UsageError,
    add_common,
    add_hosts,
    connected,
    node_text,
    write,
    zk_path,
)
from ._links import LINK, PROPERTY_LINK
from ._properties import edit
from ._tree_format import name_text
from ._tree_parse import (
    QUOTES,
    LineError,
    LiteralError,
    is_bare_name,
    read_literal,
    read_quoted_name,
)

__all__ = ["SET", "parse_assignment", "parse_name"]

_ASSIGNMENT = re.compile(r"(?P<name>.*?)=(?!>)(?P<value>.*)", re.DOTALL)
_LINK_NAME = re.compile(r"(?P<name>\S+)\s+(?P<arrow>->|=>)")
_AFTER_QUOTED = re.compile(r"\s*(?:(?P<arrow>->|=>)\s*)?=(?P<value>.*)", re.DOTALL)
_SUFFIX = {"->": LINK, "=>": PROPERTY_LINK}


def parse_assignment(argument: str) -> tuple[str, Any]:
    """``NAME=LITERAL`` -> ``(key, value)``; the value is read with ``ast.literal_eval``.

    NAME is what tree text accepts: a bare name, optionally followed by
    `` ->`` (a link) or `` =>`` (a property link), or a quoted name (a
    Python string literal) with the same optional arrow. The split is at the
    first ``=`` not followed by ``>`` (after a quoted name: the first one
    after it), so ``x =>='/a x'`` sets the property link ``x =>`` and
    ``'a=b'=1`` the property ``a=b``. Raises :class:`UsageError`.
    """
    text = argument.lstrip()
    if text[:1] in QUOTES:
        try:
            name, rest = read_quoted_name(text)
            after = _AFTER_QUOTED.fullmatch(rest)
        except LineError:
            after = None
        if not after:
            raise UsageError(
                f"expected 'QUOTED NAME'=LITERAL, got {argument!r} (a quoted name is a "
                "one-line Python string literal)"
            )
        if after["arrow"]:
            name += _SUFFIX[after["arrow"]]
        value = after["value"].strip()
    else:
        m = _ASSIGNMENT.fullmatch(argument)
        if not m or not m["name"].strip():
            raise UsageError(f"expected NAME=LITERAL, got {argument!r}")
        name, value = m["name"].strip(), m["value"].strip()
        link = _LINK_NAME.fullmatch(name)
        bare = link["name"] if link else name
        if not is_bare_name(bare):
            arrow = ""
            if name.endswith(("->", "=>")):
                arrow = " (a link is NAME ->=..., a property link NAME =>=..., with a blank)"
            raise UsageError(
                f"{name!r} cannot be written as a bare name (it holds a blank or '=', or "
                "starts with '#', '/' or a quote); quote it as a Python string, as tree "
                f'text does: "{name_text(name)}={value}"{arrow}'
            )
        if link:
            name = bare + _SUFFIX[link["arrow"]]
    try:
        return name, read_literal(value)
    except LiteralError as exc:
        hint = ""
        if re.fullmatch(r"[\w.:/-]+", value):
            hint = f"; to set a string, quote it for the shell: \"{name}='{value}'\""
        raise UsageError(f"bad value for {name!r}: {exc}{hint}") from exc


def parse_name(argument: str) -> str:
    """``NAME`` (of ``--delete NAME``) -> the key, read as ``parse_assignment`` reads names:
    ``'db ->'`` is the link db, ``'threads =>'`` the property link threads."""
    text = argument.strip()
    if text[:1] in QUOTES:
        try:
            name, rest = read_quoted_name(text)
        except LineError:
            rest = "?"
        if rest.strip() not in ("", "->", "=>"):
            raise UsageError(
                f"expected a NAME to delete, got {argument!r} (a quoted name is a one-line "
                "Python string literal, optionally followed by ' ->' or ' =>')"
            )
        return name + _SUFFIX.get(rest.strip(), "")
    link = _LINK_NAME.fullmatch(text)
    bare = link["name"] if link else text
    if not is_bare_name(bare):
        hint = ""
        if "=" in bare:
            hint = " (NAME=LITERAL arguments go before --delete)"
        raise UsageError(
            f"{argument!r} is not a NAME to delete{hint}; a name with blanks or '=', or "
            f"starting with '#', '/' or a quote, is quoted as tree text does: \"{name_text(bare)}\""
        )
    return bare + (_SUFFIX[link["arrow"]] if link else "")


def _set_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="do not print the node afterwards"
    )
    add_hosts(parser)
    parser.add_argument("path", metavar="PATH", type=zk_path)
    parser.add_argument(
        "assignments",
        metavar="NAME=LITERAL",
        nargs="*",
        help="a Python literal (quote strings: \"comment='ok'\"); 'NAME ->=' sets a link, "
        "'NAME =>=' a property link; a name with blanks or '=', or starting with '#', '/' or "
        "a quote, is written as a Python string: \"'my key'=1\"",
    )
    parser.add_argument(
        "--delete",
        metavar="NAME",
        nargs="+",
        action="extend",
        default=[],
        help="remove these properties ('NAME ->': a link, 'NAME =>': a property link); "
        "names that are not there are ignored",
    )
    add_common(parser)


async def _set(args: argparse.Namespace) -> int:
    if not args.assignments and not args.delete:
        raise UsageError("give at least one NAME=LITERAL or --delete NAME")
    updates: dict[str, Any] = {}
    for argument in args.assignments:
        name, value = parse_assignment(argument)
        if name in updates:
            raise UsageError(f"{name!r} is given twice")
        updates[name] = value
    removals = [parse_name(argument) for argument in args.delete]
    for name in removals:
        if name in updates:
            raise UsageError(f"{name!r} is both set and deleted")
    async with connected(args) as zk:
        # Resolved here: a watch=False view writes to the path it was given.
        properties = await zk.properties(await zk.resolve(args.path), watch=False)
        await edit(properties, updates, removals)
        raw = properties.raw
    if not args.quiet:
        write("".join(f"{line}\n" for line in node_text(args.path, raw)), None)
    return 0


SET = Command(
    "set",
    "Update properties of the node at PATH (a merge: other properties stay), remove those "
    "named by --delete, then print the node's properties. Every argument is checked before "
    "anything is written.",
    _set_args,
    _set,
)
