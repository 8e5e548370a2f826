"""Symlinks (``name ->`` properties) and property links (``name =>``).

A symlink is a property ``'<child> ->': target`` on a node: when the node
has no real child ``<child>``, a path through it continues at ``target``
(relative targets are relative to the node holding the link). A real child
shadows a link of the same name.

A property link is a property ``'<name> =>': 'path [property]'``: reading
``name`` gives the named property (default: ``name``) of the node at
``path`` (relative to the node that holds the link). A real key wins over
the link.

The two suffixes are defined here once; :func:`split_key` tells the three
kinds of key apart for every module that reads or writes them (the tree
text, import plans, graphs, views). Pure: the coroutines take their
lookups as arguments and do no I/O of their own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from enum import StrEnum
from typing import Any

from . import _paths
from ._errors import BadPropertyLink, LinkLoop, NoNodeError

LINK = " ->"
"""The suffix of a link's key: ``'db ->': '/databases/main'``."""
PROPERTY_LINK = " =>"
"""The suffix of a property link's key: ``'threads =>': '/fooservice threads'``."""

Exists = Callable[[str], Awaitable[bool]]
ReadProperties = Callable[[str], Awaitable[Mapping[str, Any]]]


class KeyKind(StrEnum):
    """What a property key holds."""

    PROPERTY = "property"
    LINK = "link"
    PROPERTY_LINK = "property link"


def split_key(key: str) -> tuple[KeyKind, str]:
    """What ``key`` holds and the name it is written under.

    ``'db ->'`` -> ``(LINK, 'db')``, ``'threads =>'`` -> ``(PROPERTY_LINK, 'threads')``,
    ``'x'`` -> ``(PROPERTY, 'x')``.
    """
    if key.endswith(LINK):
        return KeyKind.LINK, key[: -len(LINK)]
    if key.endswith(PROPERTY_LINK):
        return KeyKind.PROPERTY_LINK, key[: -len(PROPERTY_LINK)]
    return KeyKind.PROPERTY, key


def target_path(base: str, target: str) -> str:
    """The absolute, normalised path of ``target`` as written on node ``base``."""
    if not target.startswith("/"):
        target = _paths.join(base, target)
    return _paths.normalize(target)


async def resolve(
    path: str, exists: Exists, read: ReadProperties, _seen: tuple[str, ...] = ()
) -> str:
    """The real path of ``path`` after following symlinks.

    ``NoNodeError(path)`` if it cannot be resolved, ``LinkLoop`` on a cycle.
    """
    path = _paths.normalize(path)
    if await exists(path):
        return path
    if path == "/":
        raise NoNodeError(path=path)
    if path in _seen:
        raise LinkLoop((*_seen, path))
    seen = (*_seen, path)
    parent, name = _paths.split(path)
    try:
        real_parent = await resolve(parent, exists, read, seen)
        if real_parent != parent:
            child = _paths.join(real_parent, name)
            if await exists(child):  # a real child wins over a link
                return child
        properties = await read(real_parent)
    except NoNodeError:
        raise NoNodeError(path=path) from None
    target = properties.get(name + LINK)
    if not isinstance(target, str):
        raise NoNodeError(path=path)
    try:
        return await resolve(target_path(real_parent, target), exists, read, seen)
    except NoNodeError:
        raise NoNodeError(path=path) from None


def resolve_now(
    path: str, exists: Callable[[str], bool], read: Callable[[str], Mapping[str, Any]]
) -> str:
    """:func:`resolve` over lookups that answer at once (a tree held in memory).

    The same rules, run to the end without an event loop: the lookups never
    suspend, so neither does :func:`resolve`.
    """

    async def exists_now(node: str) -> bool:
        return exists(node)

    async def read_now(node: str) -> Mapping[str, Any]:
        return read(node)

    run = resolve(path, exists_now, read_now)
    try:
        run.send(None)
    except StopIteration as done:
        real: str = done.value
        return real
    run.close()
    raise RuntimeError("resolve() suspended, though its lookups answer at once.")


def link_key(destination: str, source: str) -> tuple[str, str]:
    """Where ``ln(source, destination)`` writes: (node holding the link, key).

    A trailing ``/`` on the destination keeps the source's name.
    """
    if destination.endswith("/") and destination != "/":
        parent = destination.rstrip("/") or "/"
        name = _paths.split(source.rstrip("/"))[1]
    else:
        parent, name = _paths.split(destination)
    return parent, name + LINK


def parse_property_link(key: str, value: object) -> tuple[str, str]:
    """``('threads =>', '/fooservice threads')`` -> (``/fooservice``, ``threads``).

    Raises ``ValueError`` for a malformed link.
    """
    if not isinstance(value, str):
        raise ValueError(f"Bad link data for {key!r}: {value!r} is not a string.")
    parts = value.split()
    if not parts or len(parts) > 2:
        raise ValueError(f"Bad link data for {key!r}: {value!r} (want 'path [property]').")
    name = parts[1] if len(parts) == 2 else split_key(key)[1]
    return parts[0], name


async def resolve_property(
    base: str,
    properties: Mapping[str, Any],
    name: str,
    read: ReadProperties,
    _seen: tuple[tuple[str, str], ...] = (),
) -> Any:
    """The value of property ``name`` on node ``base``, following property links.

    Raises ``KeyError`` when there is neither a key nor a link,
    :class:`BadPropertyLink` when a link cannot be followed (a loop is a
    :class:`LinkLoop` inside it).
    """
    if name in properties:
        return properties[name]
    key = name + PROPERTY_LINK
    if key not in properties:
        raise KeyError(name)
    here = (base, name)
    if here in _seen:
        loop = LinkLoop([f"{p} {n}" for p, n in (*_seen, here)])
        raise BadPropertyLink(f"Property link loop at {key!r} on {base}: {loop}") from loop
    try:
        path, target = parse_property_link(key, properties[key])
        path = target_path(base, path)
        linked = await read(path)
        return await resolve_property(path, linked, target, read, (*_seen, here))
    except BadPropertyLink:
        raise
    except (ValueError, KeyError, NoNodeError) as exc:
        raise BadPropertyLink(f"in {key!r} on {base}: {exc!r}") from exc
