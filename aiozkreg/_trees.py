"""Reading trees from a live ZooKeeper: subtrees, export and walk.

The pure work (grammar, layout, planning) lives in ``_tree`` and ``_plan``;
writing (import, delete) in ``_tree_writes``. Subtrees are read level by
level, every node of a level at once (multi-reads of 32 nodes, many in
flight, bounded).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from functools import partial
from typing import Any, TypeVar

from . import _ops, _paths, _txn
from ._encoding import decode_properties
from ._errors import NoNodeError
from ._plan import ExistingNode, children_to_load
from ._session import Session
from ._tree import TextNode, format_tree

log = logging.getLogger("aiozkreg")

_IN_FLIGHT = 512
T = TypeVar("T")


async def bounded(items: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
    """Run every call, at most ``_IN_FLIGHT`` at a time; results in order.

    A fixed pool of workers takes the calls in turn (cheaper than a
    semaphore per call). If one fails, the others are cancelled and its
    error is raised.
    """
    results: list[Any] = [None] * len(items)
    pending = iter(enumerate(items))

    async def worker() -> None:
        for index, call in pending:
            results[index] = await call()

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(min(_IN_FLIGHT, len(items))):
                group.create_task(worker())
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return results


# -- reading -----------------------------------------------------------------------------


async def _read(
    session: Session, path: str, *, data: bool, acl: bool = False
) -> tuple[ExistingNode, list[str]] | None:
    """One node (and its child names), or None if it is gone."""
    try:
        if data:
            raw, stat = await _ops.get(session, path)
            # most nodes are leaves: list children only where the stat says there are some
            names = (await _ops.get_children(session, path))[0] if stat.num_children else []
            properties = decode_properties(raw, path)
        else:
            names, stat = await _ops.get_children(session, path)
            properties = {}
        acls = tuple((await _ops.get_acls(session, path))[0]) if acl else None
    except NoNodeError:
        return None
    node = ExistingNode(properties, {}, ephemeral=stat.ephemeral, acl=acls)
    return node, sorted(names)


_READ_BATCH = 32  # nodes per multi-read request

Listing = tuple[ExistingNode, list[str]]


async def _read_many(
    session: Session, paths: Sequence[str], *, data: bool, stat: bool = True
) -> list[Listing | None]:
    """Many nodes (and their child names) with multi-reads, ``_READ_BATCH`` a request.

    ``data`` reads the properties; ``stat`` (implied by ``data``) says whether
    the node is ephemeral. A node gone meanwhile reads as None.
    """
    with_data = data or stat

    async def batch(chunk: Sequence[str]) -> list[Listing | None]:
        replies = await _txn.read_many(session, chunk, data=with_data)
        found: list[Listing | None] = []
        for path, (node, names) in zip(chunk, replies, strict=True):
            if isinstance(names, NoNodeError) or isinstance(node, NoNodeError):
                found.append(None)  # gone meanwhile
                continue
            for reply in (names, node):
                if isinstance(reply, BaseException):
                    raise reply
            assert isinstance(names, list) and not isinstance(node, BaseException)
            properties: dict[str, Any] = {}
            ephemeral = False
            if node is not None:
                raw, stat = node
                properties = decode_properties(raw, path) if data else {}
                ephemeral = stat.ephemeral_owner != 0
            found.append((ExistingNode(properties, {}, ephemeral=ephemeral), sorted(names)))
        return found

    chunks = [paths[i : i + _READ_BATCH] for i in range(0, len(paths), _READ_BATCH)]
    return [item for part in await bounded([partial(batch, c) for c in chunks]) for item in part]


async def read_subtree(
    session: Session, path: str, *, data: bool = True, ephemeral: bool = True
) -> ExistingNode:
    """Everything at and below ``path``, read one level at a time.

    With ``ephemeral=False`` the subtrees of ephemeral nodes are not read
    (the ephemeral node itself is kept, marked).
    """
    first = await _read(session, path, data=data)
    if first is None:
        raise await _ops.no_node(session, path)
    root, names = first
    level = [(root, path, names)]
    while level:
        jobs = [
            (parent, name, _paths.join(where, name))
            for parent, where, names in level
            if ephemeral or not parent.ephemeral
            for name in names
        ]
        reads = await _read_many(session, [p for _, _, p in jobs], data=data)
        level = []
        for (parent, name, child_path), result in zip(jobs, reads, strict=True):
            if result is None:
                continue
            child, child_names = result
            parent.children[name] = child
            level.append((child, child_path, child_names))
    return root


async def read_for_import(
    session: Session, desired: TextNode, path: str, trim: bool | None, acl: bool
) -> ExistingNode:
    """What an import needs to know: the nodes the text names (and trimmed subtrees)."""
    first = await _read(session, path, data=True, acl=acl)
    if first is None:
        raise await _ops.no_node(session, path)
    root, names = first
    for name in names:
        root.children[name] = ExistingNode()
    level: list[tuple[ExistingNode, TextNode | None, str, list[str], bool]] = [
        (root, desired, path, names, True)
    ]
    while level:
        jobs = [
            (parent, name, wanted, _paths.join(where, name))
            for parent, node, where, names, top in level
            for name, wanted in children_to_load(node, names, top=top, trim=trim)
        ]
        if acl:  # ACLs cannot be multi-read
            reads = await bounded(
                [
                    partial(_read, session, p, data=w is not None, acl=w is not None)
                    for _, _, w, p in jobs
                ]
            )
        else:
            reads = await _read_many(session, [p for _, _, _, p in jobs], data=True)
        level = []
        for (parent, name, wanted, child_path), result in zip(jobs, reads, strict=True):
            if result is None:
                parent.children.pop(name, None)
                continue
            child, child_names = result
            child.children = {n: ExistingNode() for n in child_names}
            parent.children[name] = child
            level.append((child, wanted, child_path, child_names, False))
    return root


# -- export ----------------------------------------------------------------------------------


async def export_tree(
    session: Session, path: str = "/", *, ephemeral: bool = False, name: str | None = None
) -> str:
    path = _paths.validate(path.rstrip("/") or "/")
    existing = await read_subtree(session, path, ephemeral=ephemeral)
    tree = existing.to_tree(ephemeral=ephemeral)
    if path == "/" and name is None:
        if not session.chroot:
            tree.children.pop("zookeeper", None)
        return format_tree(tree, None)
    if path == "/":
        tree.properties.clear()  # as the reference: the root's own data is not exported
    return format_tree(tree, name if name is not None else _paths.split(path)[1])


# -- import ------------------------------------------------------------------------------------


# -- walk ----------------------------------------------------------------------------------------


async def walk_children(
    session: Session, path: str = "/", *, ephemeral: bool = True
) -> AsyncIterator[tuple[str, list[str]]]:
    """Preorder, sorted: each node's ``(path, names)``. A node's children are listed
    before it is yielded, and read, all at once, when the walk resumes after it:
    removing names from the yielded list prunes the walk; a node gone by then is
    skipped. ``ephemeral=False`` leaves out ephemeral nodes at every depth.
    """
    path = _paths.validate(path)
    (first,) = await _read_many(session, [path], data=False, stat=not ephemeral)
    if first is None:
        return
    async for item in _visit(session, path, first, ephemeral):
        yield item


async def walk(session: Session, path: str = "/", *, ephemeral: bool = True) -> AsyncIterator[str]:
    """The paths of :func:`walk_children`."""
    async for node_path, _ in walk_children(session, path, ephemeral=ephemeral):
        yield node_path


async def _visit(
    session: Session, path: str, listing: Listing, ephemeral: bool
) -> AsyncIterator[tuple[str, list[str]]]:
    node, names = listing
    if not ephemeral and node.ephemeral:
        return
    yield path, names
    paths = [_paths.join(path, name) for name in names]
    listings = await _read_many(session, paths, data=False, stat=not ephemeral)
    for child, child_listing in zip(paths, listings, strict=True):
        if child_listing is not None:
            async for item in _visit(session, child, child_listing, ephemeral):
                yield item


__all__ = [
    "bounded",
    "export_tree",
    "read_for_import",
    "read_subtree",
    "walk",
    "walk_children",
]
