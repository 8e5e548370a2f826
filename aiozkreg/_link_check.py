"""Which property links of a text tree cannot be followed once it is imported. Pure: no I/O.

The world after an import is the tree's nodes (their data is exactly the
text's) over whatever else is in ZooKeeper. :func:`unfollowable` follows
each property link of the tree through that world, with the rules of
:mod:`._links` (symlinks on the way, a real child before a link, a real
key before a property link), and reports those that fail as
:class:`~aiozkreg.Change` records (``bad_property_link``).

The lookups of what is outside the tree are given by the caller: reads of
the live ZooKeeper after an import, or none at all (``zookeeper_validate``):
then only the links that stay inside the file are checked, and a link
reaching anything the file does not hold is left alone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, TypeVar

from . import _links, _paths
from ._changes import Change, ChangeAction
from ._errors import BadPropertyLink, LinkLoop, NoNodeError
from ._tree_node import TextNode

__all__ = ["Unknown", "unfollowable", "unfollowable_in_file"]

T = TypeVar("T")


class Unknown(Exception):
    """A lookup cannot tell (a path outside the file, a node it may not read)."""


async def unfollowable(
    tree: TextNode,
    base: str,
    exists: Callable[[str], Awaitable[bool]],
    read: Callable[[str], Awaitable[Mapping[str, Any]]],
) -> list[Change]:
    """A ``bad_property_link`` change for each property link of ``tree`` (imported at
    ``base``) that cannot be followed, in path and key order.

    ``exists`` and ``read`` look up what is outside the tree; either may
    raise :class:`Unknown`, and a link whose fate depends on it is skipped.
    """
    nodes = {path: node.properties for path, node in tree.walk(base) if node is not tree}
    last: list[str] = [base]

    async def exists_after(path: str) -> bool:
        return path in nodes or await exists(path)

    async def read_after(path: str) -> Mapping[str, Any]:
        last[0] = path
        return nodes[path] if path in nodes else await read(path)

    async def read_linked(path: str) -> Mapping[str, Any]:
        return await read_after(await _links.resolve(path, exists_after, read_after))

    changes = []
    for path in sorted(nodes):
        for key, value in sorted(nodes[path].items()):
            kind, name = _links.split_key(key)
            if kind is not _links.KeyKind.PROPERTY_LINK:
                continue
            last[0] = path
            try:
                await _links.resolve_property(path, nodes[path], name, read_linked)
            except Unknown:
                continue
            except (BadPropertyLink, LinkLoop) as exc:
                note = _why(exc, last[0])
                changes.append(
                    Change(ChangeAction.BAD_PROPERTY_LINK, path, key, new=value, note=note)
                )
    return changes


def unfollowable_in_file(tree: TextNode, base: str = "/") -> list[Change]:
    """:func:`unfollowable` for a file alone: the links that stay inside it.

    Outside the file nothing is known, but for one assumption: where the
    file puts a symlink, no node it leaves unnamed hides it.
    """
    nodes = {path: node.properties for path, node in tree.walk(base)}

    async def exists(path: str) -> bool:
        parent, name = _paths.split(path)
        if parent in nodes and name + _links.LINK in nodes[parent]:
            return False
        raise Unknown(path)

    async def read(path: str) -> Mapping[str, Any]:
        raise Unknown(path)

    return _now(unfollowable(tree, base, exists, read))


def _why(exc: BadPropertyLink | LinkLoop, where: str) -> str:
    """A sentence for why a link cannot be followed; ``where`` is the last node read."""
    cause = exc.__cause__ if isinstance(exc, BadPropertyLink) else exc
    if isinstance(cause, NoNodeError):
        return f"there is no node {cause.path}"
    if isinstance(cause, KeyError):
        return f"{where} has no property {cause.args[0]!r}"
    if isinstance(cause, LinkLoop):
        return f"the links form a loop: {' -> '.join(cause.paths)}"
    return str(cause or exc)


def _now(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to its end; its lookups answer at once, so it never suspends."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        result: T = done.value
        return result
    coroutine.close()
    raise RuntimeError("The link check suspended, though its lookups answer at once.")
